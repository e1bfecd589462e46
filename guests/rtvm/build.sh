#!/bin/sh
# Builds the real-time test guest for each board, and the idle VM, with Debian's aarch64 cross
# compiler (gcc-aarch64-linux-gnu). The binaries are committed: `npm test` needs no cross
# compiler; test/guests/rtvm.test.ts rebuilds them and compares when the same compiler is here.
#   guests/rtvm/build.sh [OUTDIR]      (default: guests/rtvm)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
cross=${CROSS_COMPILE:-aarch64-linux-gnu-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cflags="-O2 -std=gnu11 -ffreestanding -fno-builtin -nostdlib -mgeneral-regs-only -mstrict-align
  -fno-pic -fno-pie -mcmodel=small -fno-stack-protector -fno-asynchronous-unwind-tables
  -fno-common -Wall -Wextra -Werror"
for board in rk3588 qemu-virt; do
  def=BOARD_$(echo "$board" | tr 'a-z-' 'A-Z_')
  ${cross}gcc $cflags -D"$def" -c "$here/start.S" -o "$tmp/start-$board.o"
  ${cross}gcc $cflags -D"$def" -c "$here/rtvm.c" -o "$tmp/rtvm-$board.o"
  # Position independence: no absolute relocation may remain in the code or data.
  if ${cross}readelf -rW "$tmp/rtvm-$board.o" | grep -q 'R_AARCH64_ABS'; then
    echo "build.sh: rtvm.c needs an absolute relocation (a pointer in data?)" >&2
    exit 1
  fi
  ${cross}ld -nostdlib -static -T "$here/rtvm.ld" --build-id=none --no-warn-rwx-segments "$tmp/start-$board.o" "$tmp/rtvm-$board.o" -o "$tmp/rtvm-$board.elf"
  ${cross}objcopy -O binary "$tmp/rtvm-$board.elf" "$out/rtvm-$board.bin"
done
${cross}gcc -c "$here/idle.S" -o "$tmp/idle.o"
${cross}ld -nostdlib -static -Ttext=0 -e _head --build-id=none "$tmp/idle.o" -o "$tmp/idle.elf"
${cross}objcopy -O binary -j .head "$tmp/idle.elf" "$out/idle.bin"
${cross}gcc --version | head -1 > "$out/toolchain.txt"
ls -l "$out"/*.bin
