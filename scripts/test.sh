#!/usr/bin/env bash
# Every test: Swift unit, property and vector tests, then the Python tests against the binary.
# Test vectors are read from $KRAMAA_VECTORS (default ../shared/vectors); missing vectors fail.
source "$(dirname "$0")/setup.sh"
ensure_system_packages
ensure_python_venv
cd "$KRAMAA_ROOT"
export KRAMAA_VECTORS="${KRAMAA_VECTORS:-$KRAMAA_ROOT/../shared/vectors}"
if [ ! -d "$KRAMAA_VECTORS" ]; then
    echo "error: test vectors not found at $KRAMAA_VECTORS; set KRAMAA_VECTORS" >&2
    exit 1
fi

echo "==> swift test"
swift build --build-tests
swift test --skip-build

echo "==> release build: Ethereum GeneralStateTests (Cancun) through kramaa-statetest"
swift build -c release --product kramaa
swift build -c release --product kramaa-statetest
swift build -c release --product kramaa-evmfuzz
"$KRAMAA_ROOT/.build/release/kramaa-statetest" --quiet \
    --known-failures "$KRAMAA_ROOT/Tests/StateTests/known-failures.txt" \
    "$KRAMAA_VECTORS/ethereum/GeneralStateTests"

echo "==> EVM fuzzing: random programs with invariants (debug build: checked arithmetic and bounds)"
"$KRAMAA_ROOT/.build/debug/kramaa-evmfuzz" --seconds "${KRAMAA_FUZZ_SECONDS:-30}" --seed "${KRAMAA_FUZZ_SEED:-$RANDOM}"

echo "==> Python tests against the kramaa binary (EVM differential tests against py-evm included)"
export KRAMAA_BIN="$KRAMAA_ROOT/.build/release/kramaa"
"$KRAMAA_PYTHON" -m pytest -q tests/python
echo "==> all tests passed"
