#!/usr/bin/env bash
# Builds the firmware image for the emulated Cortex-M4 board (QEMU mps2-an386):
# the library (Sources/KramaaFirmware) and the application (firmware/app) compiled together as
# Embedded Swift for armv7em-none-none-eabi, the board support (firmware/board) in C, linked
# with Debian's gcc-arm-none-eabi into OUT/kramaa-firmware.elf (default .build/firmware).
# Prints the image's sizes (arm-none-eabi-size). Needs /opt/swift (or swiftc on PATH) and
# gcc-arm-none-eabi. KRAMAA_FIRMWARE_OPT sets the Swift optimisation (default -O: 6 times faster signing than -Osize for 25 KiB more flash).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
out="${1:-$root/.build/firmware}"
export PATH=/opt/swift/usr/bin:$PATH
command -v swiftc >/dev/null || { echo "firmware/build.sh: swiftc not found (the Swift toolchain at /opt/swift)" >&2; exit 2; }
command -v arm-none-eabi-gcc >/dev/null || { echo "firmware/build.sh: arm-none-eabi-gcc not found: apt-get install gcc-arm-none-eabi" >&2; exit 2; }
mkdir -p "$out"
cpu=(-mcpu=cortex-m4 -mthumb -mfloat-abi=soft)

swiftc -target armv7em-none-none-eabi -enable-experimental-feature Embedded -enable-experimental-feature Extern \
    -wmo "${KRAMAA_FIRMWARE_OPT:--O}" -parse-as-library -module-name KramaaFirmwareImage \
    -Xcc -mfloat-abi=soft -Xfrontend -function-sections \
    "$root"/Sources/KramaaFirmware/*.swift "$here"/app/*.swift -c -o "$out/firmware.o"
arm-none-eabi-gcc "${cpu[@]}" -Os -fno-short-enums -ffunction-sections -fdata-sections -Wall -Wextra -c "$here/board/board.c" -o "$out/board.o"
arm-none-eabi-gcc "${cpu[@]}" -nostartfiles --specs=nano.specs -Wl,--gc-sections -Wl,--no-enum-size-warning -Wl,--no-warn-execstack -Wl,-T,"$here/board/mps2-an386.ld" \
    -Wl,-Map,"$out/kramaa-firmware.map" "$out/board.o" "$out/firmware.o" -lc -lgcc -o "$out/kramaa-firmware.elf"
arm-none-eabi-size "$out/kramaa-firmware.elf"
