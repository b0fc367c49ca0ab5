#!/usr/bin/env bash
# Runs the benchmarks from a release build and writes their sections of BENCHMARKS.md.
# Usage: scripts/bench.sh [primitives|trie|all] [--quick]
source "$(dirname "$0")/setup.sh"
ensure_system_packages
ensure_python_venv
cd "$KRAMAA_ROOT"
swift build -c release --product kramaa-bench
exec "$KRAMAA_ROOT/.build/release/kramaa-bench" "$@" --out "$KRAMAA_ROOT/BENCHMARKS.md"
