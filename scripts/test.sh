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
# Suites that time real sockets and servers run after the others, one test at a time (about 30 s):
# Swift Testing runs every suite at once on the cooperative pool (two threads on two cores), and
# CPU-bound suites there held server tasks up for 30 s and more, failing deadline checks that
# pass alone.
socket_suites="KramaaRPCTests|KramaaNetworkTests|KramaaTagsTests|KramaaAPITests"
swift test --skip-build --skip "$socket_suites"
echo "==> swift test: the socket and server suites, one at a time"
swift test --skip-build --no-parallel --filter "$socket_suites"

echo "==> release build: Ethereum GeneralStateTests (Cancun) through kramaa-statetest"
swift build -c release --product kramaa
swift build -c release --product kramaa-statetest
swift build -c release --product kramaa-evmfuzz
"$KRAMAA_ROOT/.build/release/kramaa-statetest" --quiet \
    --known-failures "$KRAMAA_ROOT/Tests/StateTests/known-failures.txt" \
    "$KRAMAA_VECTORS/ethereum/GeneralStateTests"

echo "==> consensus simulator (release): the production driver over a few hundred seeds, with crashes and Byzantine validators"
swift build -c release --product kramaa-consensus-sim
sim="$KRAMAA_ROOT/.build/release/kramaa-consensus-sim"
"$sim" --quiet --seeds 200 --first "${KRAMAA_SIM_FIRST:-1001}" --validators 4 --byzantine 1
"$sim" --quiet --seeds 60 --first "${KRAMAA_SIM_FIRST:-1001}" --validators 7 --byzantine 2 --heights 5
"$sim" --quiet --seeds 40 --first "${KRAMAA_SIM_FIRST:-1001}" --validators 4 --byzantine 1 --heights 8 --set-change 4

echo "==> EVM fuzzing: random programs with invariants (debug build: checked arithmetic and bounds)"
"$KRAMAA_ROOT/.build/debug/kramaa-evmfuzz" --seconds "${KRAMAA_FUZZ_SECONDS:-30}" --seed "${KRAMAA_FUZZ_SEED:-$RANDOM}"

echo "==> Python tests against the kramaa binary (EVM differential tests against py-evm included)"
export KRAMAA_BIN="$KRAMAA_ROOT/.build/release/kramaa"
"$KRAMAA_PYTHON" -m pytest -q tests/python
echo "==> all tests passed"
