#!/usr/bin/env bash
# The main job: builds kramaa (release) and runs it with the given arguments.
source "$(dirname "$0")/setup.sh"
ensure_system_packages
cd "$KRAMAA_ROOT"
swift build -c release --product kramaa >&2
exec "$KRAMAA_ROOT/.build/release/kramaa" "$@"
