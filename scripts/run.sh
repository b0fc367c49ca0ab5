#!/usr/bin/env bash
# The main job: builds kramaa (release) and runs `kramaa devnet`, a local chain serving
# JSON-RPC on 127.0.0.1:8545. With arguments, runs `kramaa ARGS...` instead.
source "$(dirname "$0")/setup.sh"
ensure_system_packages
cd "$KRAMAA_ROOT"
swift build -c release --product kramaa >&2
if [ $# -eq 0 ]; then set -- devnet; fi
exec "$KRAMAA_ROOT/.build/release/kramaa" "$@"
