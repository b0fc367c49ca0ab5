#!/usr/bin/env bash
# Differential test of Kramaa's EVM against py-evm (Cancun) on many random programs:
#   scripts/evm-diff.sh [--cases N] [--seed S] [--hand]
# Builds kramaa and kramaa-evmfuzz (release), then prints the seed and both results of any mismatch.
source "$(dirname "$0")/setup.sh"
ensure_system_packages
ensure_python_venv
cd "$KRAMAA_ROOT"
swift build -c release --product kramaa >/dev/null
swift build -c release --product kramaa-evmfuzz >/dev/null
PYTHONPATH="$KRAMAA_ROOT/tools" exec "$KRAMAA_PYTHON" -m evmdiff "$@"
