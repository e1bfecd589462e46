#!/usr/bin/env bash
# Builds guests/mvm/mvm-initramfs.cpio.gz, VM 0's initramfs in the default run (boards/vms/
# BOARD-mvm.json): the kit's initramfs, then shyper.ko and the shyper CLI built from source
# (build.sh's overlay), then the MVM's own layer (rootfs/):
#   /init                       loads shyper.ko, configures and boots the GVMs, the test mode
#   /etc/shyper/BOARD/N-*.json  the GVMs of each board's full set (boards/vms/BOARD.json), in
#                               Rust-Shyper's VM config JSON, booted in file order (ids 1, 2, ...)
#   /etc/shyper/Image           the kit's kernel, uncompressed: the CLI uploads a kernel as it
#                               is and refuses gzip (the hypervisor loads what it is given)
#   /etc/shyper/rtvm-*.bin      the bare-metal RTVM (guests/rtvm)
#   /bin/stty                   busybox applet the kit does not link (the test mode needs it)
# Linux unpacks concatenated initramfs archives in order, later files replacing earlier ones, so
# the three layers are concatenated (the MVM's kernel inflates them: docs/mvm.md gives the cost).
# Needs what build.sh needs (cross compiler, a prepared kernel tree: KDIR) and cpio.
# Usage: guests/mvm/build-initramfs.sh [OUT]   (default: guests/mvm/mvm-initramfs.cpio.gz)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
guests=$(cd "$here/.." && pwd)
out=${1:-$here/mvm-initramfs.cpio.gz}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$here/build.sh" "$tmp/mvm" >/dev/null

root=$tmp/root
mkdir -p "$root/etc/shyper" "$root/bin"
cp "$here/rootfs/init" "$root/init"
chmod 755 "$root/init"
cp -r "$here/rootfs/etc/shyper/." "$root/etc/shyper/"
gunzip -c "$guests/Image.gz" > "$root/etc/shyper/Image"
cp "$guests"/rtvm/rtvm-*.bin "$root/etc/shyper/"
ln -s busybox "$root/bin/stty"
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find init etc bin | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -9n) > "$tmp/mvm-root.cpio.gz"
cat "$guests/initramfs.cpio.gz" "$tmp/mvm/mvm-overlay.cpio.gz" "$tmp/mvm-root.cpio.gz" > "$out"
ls -l "$out"
