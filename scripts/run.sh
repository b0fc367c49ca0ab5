#!/usr/bin/env bash
# The main job: builds kramaa (release) and runs `kramaa devnet`, a local chain serving
# JSON-RPC on 127.0.0.1:8545. With arguments, runs `kramaa ARGS...` instead.
source "$(dirname "$0")/setup.sh"
ensure_system_packages
cd "$KRAMAA_ROOT"
swift build -c release --product kramaa >&2
if [ $# -eq 0 ]; then set -- devnet; fi
# EPCIS capture validates documents against GS1's EPCIS 2.0 JSON schema, which we may not ship:
# use the copy in the shared vectors folder when present (see docs/EPCIS.md).
schema="${KRAMAA_VECTORS:-$KRAMAA_ROOT/../shared/vectors}/epcis/schema/EPCIS-JSON-Schema.json"
if [ -z "${KRAMAA_EPCIS_SCHEMA:-}" ] && [ -f "$schema" ]; then export KRAMAA_EPCIS_SCHEMA="$schema"; fi
exec "$KRAMAA_ROOT/.build/release/kramaa" "$@"
