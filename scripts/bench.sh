#!/usr/bin/env bash
# Runs the benchmarks from a release build and writes their sections of BENCHMARKS.md
# (or of $KRAMAA_BENCH_OUT: the tests' smoke runs write to a temporary file).
# Usage: scripts/bench.sh [primitives|trie|evm|rpc|node|validators|epcis|verify|all] [--quick]
#        scripts/bench.sh messaging [--quick] [--idle N]        (MQTT: the node vs mosquitto 2, both started here)
#        scripts/bench.sh chaos [--minutes N] [--seed S]   (kill -9 under load on real processes)
#        scripts/bench.sh consensus-sim [--seeds N]        (the consensus simulator over the production driver)
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
    # The node's MQTT server and mosquitto 2, started here on free ports, driven by one client
    # program (kramaa-bench on KramaaMQTTClient): one node, two validators of 4, idle connections.
    shift
    quick=""; idle=10000
    while [ $# -gt 0 ]; do
        case "$1" in
            --quick) quick=--quick; idle=1000 ;;
            --idle) idle="$2"; shift ;;
        esac
        shift
    done
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
    swift build -c release --product kramaa
    swift build -c release --product kramaa-bench
    work="$(mktemp -d)"
    pids=()
    trap 'kill -9 "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
    port() { "$KRAMAA_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
    mq=$(port)
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\n' "$mq" > "$work/mosquitto.conf"
    /usr/sbin/mosquitto -c "$work/mosquitto.conf" >/dev/null 2>&1 & mosquitto_pid=$!; pids+=("$mosquitto_pid")
    kramaa="$KRAMAA_ROOT/.build/release/kramaa"
    one=$(port)
    "$kramaa" devnet --datadir "$work/one" --fresh --validators 1 --rpc-port 0 --p2p-port 0 --mqtt-port "$one" --mqtt-ws-port 0 \
        --mqtt-allow-anonymous --quiet > "$work/one.out" 2>&1 & kramaa_pid=$!; pids+=("$kramaa_pid")
    four=$(port)
    "$kramaa" devnet --datadir "$work/four" --fresh --validators 4 --rpc-port 0 --p2p-port "$(port)" --mqtt-port "$four" --mqtt-ws-port 0 \
        --mqtt-allow-anonymous --quiet > "$work/four.out" 2>&1 & pids+=("$!")
    for f in one four; do
        for _ in $(seq 600); do grep -q "MQTT" "$work/$f.out" 2>/dev/null && break; sleep 0.1; done
        grep -q "MQTT" "$work/$f.out" || { echo "the $f devnet did not start:"; cat "$work/$f.out"; exit 1; }
    done
    sleep 2  # the 4 validators connect to each other
    out="${KRAMAA_BENCH_OUT:-$KRAMAA_ROOT/BENCHMARKS.md}"
    "$KRAMAA_ROOT/.build/release/kramaa-bench" messaging $quick --out "$out" \
        --kramaa-mqtt "mqtt://127.0.0.1:$one" --kramaa-pid "$kramaa_pid" --mosquitto-mqtt "mqtt://127.0.0.1:$mq" --mosquitto-pid "$mosquitto_pid" \
        --cross-publisher "mqtt://127.0.0.1:$((four + 1))" --cross-subscriber "mqtt://127.0.0.1:$((four + 2))" --idle "$idle"
    exit $?
fi
swift build -c release --product kramaa-bench
# The ERC-20 workload is the Vyper token of contracts/, compiled here by vyper from the venv.
mkdir -p .build/contracts
"$KRAMAA_VENV/bin/vyper" -f bytecode contracts/ERC20.vy > .build/contracts/ERC20.bin
out="${KRAMAA_BENCH_OUT:-$KRAMAA_ROOT/BENCHMARKS.md}"
exec "$KRAMAA_ROOT/.build/release/kramaa-bench" "$@" --erc20 .build/contracts/ERC20.bin --out "$out"
