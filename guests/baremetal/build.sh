#!/usr/bin/env bash
# Builds the bare-metal test guest (bma.bin): a freestanding AArch64 program that runs as a Shyper
# bare-metal VM (VM_T_BARE_MATEL_APP) and, by the mode word in its parameter block (bma.h),
# attacks the hypervisor's isolation or stands by as a victim (test/hypervisor/attack.test.ts).
# Needs gcc-aarch64-linux-gnu (aarch64-linux-gnu-gcc, -ld, -objcopy).
# Usage: guests/baremetal/build.sh [OUTDIR]   (default: guests/baremetal/). bma.bin is committed,
# so tests run without a cross compiler; test/hypervisor/bma-build.test.ts rebuilds it when the
# compiler is there and checks that the committed image is what these sources give.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
CROSS=${CROSS_COMPILE:-aarch64-linux-gnu-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cflags=(-O2 -ffreestanding -nostdlib -fno-builtin -fno-pic -fno-pie -fno-stack-protector
        -fno-asynchronous-unwind-tables -fno-unwind-tables -mgeneral-regs-only -mstrict-align
        -mcmodel=small -march=armv8-a -Wall -Wextra -Werror -Wno-unused-parameter
        -ffile-prefix-map="$here"=. -fno-ident)
"${CROSS}gcc" "${cflags[@]}" -c "$here/start.S" -o "$work/start.o"
"${CROSS}gcc" "${cflags[@]}" -c "$here/bma.c" -o "$work/bma.o"
"${CROSS}gcc" "${cflags[@]}" -c "$here/mvm.c" -o "$work/mvm.o"
# Link at two load addresses: identical images prove the code is position independent (the VM
# config may put it anywhere 4 KiB aligned).
for at in 0x0 0x40201000; do
  "${CROSS}ld" -nostdlib -static --no-dynamic-linker -z noexecstack --build-id=none --no-warn-rwx-segments \
    --defsym=LOAD_ADDR="$at" -T "$here/link.ld" "$work/start.o" "$work/bma.o" "$work/mvm.o" -o "$work/bma-$at.elf"
  "${CROSS}objcopy" -O binary "$work/bma-$at.elf" "$work/bma-$at.bin"
done
if ! cmp -s "$work/bma-0x0.bin" "$work/bma-0x40201000.bin"; then
  echo "build.sh: bma.bin depends on its load address (absolute addresses in code or data)" >&2
  exit 1
fi
mkdir -p "$out"
cp "$work/bma-0x0.bin" "$out/bma.bin"
# The toolchain that made it: the rebuild test compares images only when its toolchain matches.
{ "${CROSS}gcc" --version | head -1; "${CROSS}ld" --version | head -1; } > "$out/bma.bin.toolchain"
echo "$out/bma.bin: $(stat -c %s "$out/bma.bin") bytes"
