#!/usr/bin/env bash
# Every test: Swift unit, property and vector tests, then the Python tests against the binary.
# Test vectors are read from $KRAMAA_VECTORS (default ../shared/vectors); missing vectors fail.
#
# Order, to keep the run short on two cores: the release build first; then the Python tests
# (mostly waiting on nodes, blocks and sockets) while the debug build, the state tests and the
# consensus simulator use what CPU they leave, at the lowest priority (nice 19) so the nodes
# under test are not held up; then, with the machine to themselves, the timed ones: fuzzing
# (30 s) and the Swift tests.
source "$(dirname "$0")/setup.sh"
ensure_system_packages
ensure_python_venv
cd "$KRAMAA_ROOT"
export KRAMAA_VECTORS="${KRAMAA_VECTORS:-$KRAMAA_ROOT/../shared/vectors}"
if [ ! -d "$KRAMAA_VECTORS" ]; then
    echo "error: test vectors not found at $KRAMAA_VECTORS; set KRAMAA_VECTORS" >&2
    exit 1
fi

echo "==> release build: the binary under test, the state test runner, the fuzzer, the simulator and the benchmarks (their smoke runs)"
swift build -c release --product kramaa
swift build -c release --product kramaa-statetest
swift build -c release --product kramaa-evmfuzz
swift build -c release --product kramaa-consensus-sim
swift build -c release --product kramaa-bench

echo "==> Python tests against the kramaa binary (EVM differential tests against py-evm included), in the background"
export KRAMAA_BIN="$KRAMAA_ROOT/.build/release/kramaa"
python_log="$(mktemp "${TMPDIR:-/tmp}/kramaa-pytest.XXXXXX")"
"$KRAMAA_PYTHON" -m pytest -q tests/python >"$python_log" 2>&1 &
python_pid=$!
# Whatever ends this script early (a failed build, a failed suite) ends the Python tests too.
trap 'kill "$python_pid" 2>/dev/null || true' EXIT

echo "==> meanwhile, at the lowest priority: debug build of the Swift tests"
nice -n 19 swift build --build-tests

echo "==> meanwhile: Ethereum GeneralStateTests (Cancun) through kramaa-statetest (release)"
nice -n 19 "$KRAMAA_ROOT/.build/release/kramaa-statetest" --quiet \
    --known-failures "$KRAMAA_ROOT/Tests/StateTests/known-failures.txt" \
    "$KRAMAA_VECTORS/ethereum/GeneralStateTests"

echo "==> meanwhile: consensus simulator (release): the production driver over a few hundred seeds, with crashes and Byzantine validators"
sim="$KRAMAA_ROOT/.build/release/kramaa-consensus-sim"
nice -n 19 "$sim" --quiet --seeds 200 --first "${KRAMAA_SIM_FIRST:-1001}" --validators 4 --byzantine 1
nice -n 19 "$sim" --quiet --seeds 60 --first "${KRAMAA_SIM_FIRST:-1001}" --validators 7 --byzantine 2 --heights 5
nice -n 19 "$sim" --quiet --seeds 40 --first "${KRAMAA_SIM_FIRST:-1001}" --validators 4 --byzantine 1 --heights 8 --set-change 4

echo "==> waiting for the Python tests"
python_status=0
wait "$python_pid" || python_status=$?
trap - EXIT
cat "$python_log"
rm -f "$python_log"
if [ "$python_status" -ne 0 ]; then
    echo "error: the Python tests failed (exit status $python_status)" >&2
    exit "$python_status"
fi

echo "==> EVM fuzzing: random programs with invariants (debug build: checked arithmetic and bounds)"
"$KRAMAA_ROOT/.build/debug/kramaa-evmfuzz" --seconds "${KRAMAA_FUZZ_SECONDS:-30}" --seed "${KRAMAA_FUZZ_SEED:-$RANDOM}"

echo "==> swift test"
# Suites that time real sockets and servers run after the others, one test at a time (about 30 s):
# Swift Testing runs every suite at once on the cooperative pool (two threads on two cores), and
# CPU-bound suites there held server tasks up for 30 s and more, failing deadline checks that
# pass alone.
socket_suites="KramaaRPCTests|KramaaNetworkTests|KramaaTagsTests|KramaaAPITests"
swift test --skip-build --skip "$socket_suites"
echo "==> swift test: the socket and server suites, one at a time"
swift test --skip-build --no-parallel --filter "$socket_suites"
echo "==> all tests passed"
