#!/usr/bin/env bash
# Builds the MVM's management software from source (nothing here is edited by hand):
#   shyper.ko            Linux module for the kit kernel: /dev/shyper, the IVC message queue
#                        (module/), built against the kit's kernel tree with the cross compiler
#   shyper               the management CLI, static (cli/)
#   mvm-overlay.cpio.gz  both as an initramfs overlay: /lib/modules/shyper.ko, /bin/shyper.
#                        Linux unpacks concatenated initramfs archives in order, so appending it
#                        to the kit's initramfs.cpio.gz adds them (tests do; build-kit.sh puts the
#                        files straight into the kit's rootfs instead).
# Needs: gcc-aarch64-linux-gnu (with libc6-dev-arm64-cross for -static), cpio, and a kernel tree
# configured like the kit (guests/kernel.config) with `make modules_prepare` done: KDIR, default
# $WORK/linux-source-6.1 with WORK=/tmp/shyper-kit as in build-kit.sh.
# Usage: guests/mvm/build.sh [OUTDIR]   (default: guests/mvm/; only the overlay is kept in git)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "${1:-$here}" && cd "${1:-$here}" && pwd)
work=${WORK:-/tmp/shyper-kit}
kdir=${KDIR:-$work/linux-source-6.1}
cross=aarch64-linux-gnu-
[ -f "$kdir/include/generated/utsrelease.h" ] || { echo "build.sh: $kdir is not a prepared kernel tree (make modules_prepare)" >&2; exit 1; }

# --- module: built out of tree in a scratch copy (kbuild writes next to the sources) ---------
mod=$(mktemp -d)
trap 'rm -rf "$mod"' EXIT
cp "$here"/module/Kbuild "$here"/module/*.[ch] "$mod/"
# No Module.symvers in a modules_prepare tree: the kernel resolves the symbols at insmod.
make -s -C "$kdir" M="$mod" ARCH=arm64 CROSS_COMPILE=$cross KBUILD_MODPOST_WARN=1 modules 2>&1 \
  | grep -v -e 'undefined!$' -e 'Module.symvers is missing' -e 'Modules may not have' -e 'unresolved symbol' || true
${cross}strip --strip-debug -o "$out/shyper.ko" "$mod/shyper.ko"

# --- CLI -------------------------------------------------------------------------------------
${cross}gcc -static -Os -Wall -Wextra -std=gnu11 -o "$out/shyper" "$here"/cli/*.c
${cross}strip "$out/shyper"

# --- overlay ---------------------------------------------------------------------------------
root="$mod/root"
mkdir -p "$root/lib/modules" "$root/bin"
cp "$out/shyper.ko" "$root/lib/modules/shyper.ko"
cp "$out/shyper" "$root/bin/shyper"
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find lib bin | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -9n > "$out/mvm-overlay.cpio.gz")
ls -l "$out/shyper.ko" "$out/shyper" "$out/mvm-overlay.cpio.gz"
