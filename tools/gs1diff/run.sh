#!/usr/bin/env bash
# Differential check of KramaaGS1's Digital Link validation and rendering against the GS1 Syntax
# Engine (github.com/gs1/gs1-syntax-engine, not vendored): random links and element strings, some
# mutated, judged by both; every disagreement is printed with an example.
#   tools/gs1diff/run.sh /path/to/gs1-syntax-engine/src/c-lib [seed] [cases] [mutation-rate]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$here/../.."
export GS1SE="$(cd "$1" && pwd)"; export GS1DIFF_BUILD="${GS1DIFF_BUILD:-/tmp/gs1diff}"
mkdir -p "$GS1DIFF_BUILD"
[ -f "$GS1SE/build/libgs1encoders.a" ] || make -C "$GS1SE" lib >/dev/null
gcc -O1 -w -I"$GS1SE" "$here/ref.c" "$GS1SE/build/libgs1encoders.a" -o "$GS1DIFF_BUILD/ref"
PATH=/opt/swift/usr/bin:$PATH swiftc -O "$root"/Sources/KramaaGS1/*.swift "$here/main.swift" -module-name GS1Diff -o "$GS1DIFF_BUILD/ours"
python3 "$here/fuzz.py" "${2:-1}" "${3:-5000}" "${4:-0.1}"
