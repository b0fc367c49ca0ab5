#!/usr/bin/env bash
# Installs what Kramaa needs on a fresh Debian machine, only where it is missing.
# Sourced by run.sh, test.sh and bench.sh; safe to run again.
set -euo pipefail

KRAMAA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export KRAMAA_ROOT
export KRAMAA_VENV="${KRAMAA_VENV:-$KRAMAA_ROOT/.venv}"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "error: need root (or sudo) to run: $*" >&2; return 1; fi
}

# System libraries: libsecp256k1 with its recovery module (Debian's libsecp256k1-dev has it).
ensure_system_packages() {
    local missing=()
    [ -f /usr/include/secp256k1_recovery.h ] || missing+=(libsecp256k1-dev)
    command -v pkg-config >/dev/null || missing+=(pkg-config)
    command -v openssl >/dev/null || missing+=(openssl)
    # MQTT: real clients and a real broker (bridge tests, the messaging benchmark).
    command -v mosquitto_pub >/dev/null || missing+=(mosquitto-clients)
    [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
    # The dashboard's browser tests (tests/python/test_dashboard.py): headless Chromium through its driver.
    command -v chromium >/dev/null || missing+=(chromium)
    command -v chromedriver >/dev/null || missing+=(chromium-driver)
    # The firmware (docs/FIRMWARE.md): its image is linked with the Arm bare-metal toolchain and
    # run on an emulated Cortex-M4 (tests/python/test_firmware.py, scripts/bench.sh firmware).
    command -v arm-none-eabi-gcc >/dev/null || missing+=(gcc-arm-none-eabi libnewlib-arm-none-eabi)
    command -v qemu-system-arm >/dev/null || missing+=(qemu-system-arm)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "==> installing ${missing[*]} with apt-get"
        as_root apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
            as_root apt-get update >/dev/null
            as_root apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
        }
    fi
    command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:/opt/swift/bin:$PATH"
    command -v swift >/dev/null || { echo "error: swift not found (expected under /opt/swift)" >&2; return 1; }
}

# Python packages for tests and tools only, in a local virtual environment.
ensure_python_venv() {
    local stamp="$KRAMAA_VENV/.kramaa-requirements"
    if [ ! -x "$KRAMAA_VENV/bin/python" ]; then
        echo "==> creating Python virtual environment in $KRAMAA_VENV"
        python3 -m venv "$KRAMAA_VENV"
    fi
    if ! cmp -s "$KRAMAA_ROOT/tests/python/requirements.txt" "$stamp" 2>/dev/null; then
        echo "==> installing Python test packages"
        "$KRAMAA_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$KRAMAA_ROOT/tests/python/requirements.txt"
        cp "$KRAMAA_ROOT/tests/python/requirements.txt" "$stamp"
    fi
    export KRAMAA_PYTHON="$KRAMAA_VENV/bin/python"
    ensure_kzg_setup
}

# The Ethereum KZG ceremony's setup (trusted_setup.txt), which c-kzg needs to make proofs for
# tests/python/test_point_evaluation.py. Its Python package ships it only in the source
# distribution, so that is downloaded from PyPI (the version requirements.txt pins) and the one
# file taken out, into the virtual environment.
ensure_kzg_setup() {
    local setup="$KRAMAA_VENV/kzg/trusted_setup.txt"
    [ -s "$setup" ] && return 0
    local version
    version="$(sed -n 's/^ckzg==\([0-9.]*\).*/\1/p' "$KRAMAA_ROOT/tests/python/requirements.txt")"
    [ -n "$version" ] || { echo "error: tests/python/requirements.txt pins no ckzg version" >&2; return 1; }
    echo "==> fetching the KZG trusted setup from the ckzg $version source distribution (PyPI)"
    local tmp
    tmp="$(mktemp -d)"
    "$KRAMAA_VENV/bin/pip" download --quiet --disable-pip-version-check --no-deps --no-binary ":all:" \
        "ckzg==$version" -d "$tmp"
    mkdir -p "$KRAMAA_VENV/kzg"
    tar -xzf "$tmp/ckzg-$version.tar.gz" -C "$tmp" "ckzg-$version/src/trusted_setup.txt"
    mv "$tmp/ckzg-$version/src/trusted_setup.txt" "$setup"
    rm -rf "$tmp"
}
