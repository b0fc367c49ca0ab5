#!/usr/bin/env bash
# Runs the benchmarks from a release build and writes their sections of BENCHMARKS.md
# (or of $KRAMAA_BENCH_OUT: the tests' smoke runs write to a temporary file).
# Usage: scripts/bench.sh [primitives|trie|evm|rpc|node|validators|epcis|ops|verify|dashboard|all] [--quick]
#        scripts/bench.sh chaos [--minutes N] [--seed S]   (kill -9 under load on real processes)
#        scripts/bench.sh consensus-sim [--seeds N]        (the consensus simulator over the production driver)
#        scripts/bench.sh messaging [--quick] [--messages N] [--idle N]   (MQTT against mosquitto 2)
#        scripts/bench.sh files [--quick] [--size MiB]      (import, gateway and CAR throughput, importer memory)
#        scripts/bench.sh coordination [--quick]            (device readings and signature checks per second, trigger cost)
#        scripts/bench.sh anchoring [--quick]               (parent gas per anchored block, anchor receipts, relayer catch-up)
#        scripts/bench.sh firmware                          (image size, stack and instructions per signature and frame on QEMU)
source "$(dirname "$0")/setup.sh"
ensure_system_packages
ensure_python_venv
cd "$KRAMAA_ROOT"
export KRAMAA_VECTORS="${KRAMAA_VECTORS:-$KRAMAA_ROOT/../shared/vectors}"
if [ "${1:-}" = chaos ]; then
    # Real processes: 4 validators under load, kill -9 of one every few seconds, for minutes
    # (tools/chaos/chaos.py --help); exit 1 if an acknowledged transaction is lost or nodes disagree.
    shift
    swift build -c release --product kramaa
    exec "$KRAMAA_PYTHON" tools/chaos/chaos.py --binary "$KRAMAA_ROOT/.build/release/kramaa" "$@"
fi
if [ "${1:-}" = consensus-sim ]; then
    # The deterministic simulator (docs/CONSENSUS.md) over many seeds: 4 validators with 1 Byzantine,
    # 7 with 2, and a validator set change; crashes, partitions, loss and duplication throughout.
    shift
    seeds=10000
    if [ "${1:-}" = --seeds ]; then seeds="$2"; fi
    swift build -c release --product kramaa-consensus-sim
    sim="$KRAMAA_ROOT/.build/release/kramaa-consensus-sim"
    "$sim" --quiet --seeds "$seeds" --validators 4 --byzantine 1
    "$sim" --quiet --seeds $((seeds / 5)) --validators 7 --byzantine 2 --heights 5
    "$sim" --quiet --seeds $((seeds / 5)) --validators 4 --byzantine 1 --heights 8 --set-change 4
    exit 0
fi
if [ "${1:-}" = messaging ]; then
    # MQTT: mosquitto 2 (Debian's, started by the benchmark) and the node's MQTT server under the same
    # load generator (tools/bench/mqtt_bench.py --help); one node, two validators, device envelopes, idle connections.
    shift
    swift build -c release --product kramaa
    exec "$KRAMAA_PYTHON" tools/bench/mqtt_bench.py --binary "$KRAMAA_ROOT/.build/release/kramaa" \
        --out "${KRAMAA_BENCH_OUT:-$KRAMAA_ROOT/BENCHMARKS.md}" "$@"
fi
if [ "${1:-}" = files ]; then
    # Content addressing: a 1 GiB file imported (CID only, and into a devnet) against sha256sum,
    # downloaded through the gateway against a disk read, exported as a CAR (tools/bench/files_bench.py).
    shift
    swift build -c release --product kramaa
    exec "$KRAMAA_PYTHON" tools/bench/files_bench.py --binary "$KRAMAA_ROOT/.build/release/kramaa" \
        --out "${KRAMAA_BENCH_OUT:-$KRAMAA_ROOT/BENCHMARKS.md}" "$@"
fi
if [ "${1:-}" = coordination ]; then
    # Device coordination (docs/TRIGGERS.md, docs/DEVICES.md): signed readings accepted per second on 4
    # validators and signature checks per second against OpenSSL's P-256, and the block-time cost of
    # 1,000 active triggers (tools/bench/coordination_bench.py).
    shift
    swift build -c release --product kramaa
    exec "$KRAMAA_PYTHON" tools/bench/coordination_bench.py --binary "$KRAMAA_ROOT/.build/release/kramaa" \
        --out "${KRAMAA_BENCH_OUT:-$KRAMAA_ROOT/BENCHMARKS.md}" "$@"
fi
if [ "${1:-}" = anchoring ]; then
    # Anchoring (docs/ANCHORING.md): 4 validators anchored on py-evm by `kramaa anchor`; parent gas per
    # anchored block, anchor receipts, catch-up after a backlog (tools/bench/anchoring_bench.py).
    shift
    swift build -c release --product kramaa
    exec "$KRAMAA_PYTHON" tools/bench/anchoring_bench.py --binary "$KRAMAA_ROOT/.build/release/kramaa" \
        --out "${KRAMAA_BENCH_OUT:-$KRAMAA_ROOT/BENCHMARKS.md}" "$@"
fi
if [ "${1:-}" = firmware ]; then
    # The firmware (docs/FIRMWARE.md): its image's flash and RAM, and per signature and frame the
    # instructions, stack and allocations on an emulated Cortex-M4 (tools/bench/firmware_bench.py).
    shift
    exec "$KRAMAA_PYTHON" tools/bench/firmware_bench.py --out "${KRAMAA_BENCH_OUT:-$KRAMAA_ROOT/BENCHMARKS.md}" "$@"
fi
swift build -c release --product kramaa-bench
# The validators section also runs them as separate `kramaa node` processes of the release binary.
swift build -c release --product kramaa
# The ERC-20 workload is the Vyper token of contracts/, compiled here by vyper from the venv.
mkdir -p .build/contracts
"$KRAMAA_VENV/bin/vyper" -f bytecode contracts/ERC20.vy > .build/contracts/ERC20.bin
out="${KRAMAA_BENCH_OUT:-$KRAMAA_ROOT/BENCHMARKS.md}"
exec "$KRAMAA_ROOT/.build/release/kramaa-bench" "$@" --erc20 .build/contracts/ERC20.bin --out "$out"
