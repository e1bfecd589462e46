#!/usr/bin/env bash
# Builds shyper-emu's default guest images from Debian's packages (the same recipe as the
# development kit in ../shared/guests), then compresses them for the repository:
#   Image              arm64 Linux 6.1 kernel (uncompressed), small config (kernel.config)
#   initramfs.cpio.gz  static busybox userland; /init prints "shyper-guest: boot ok";
#                      /bin/shyper-getrandom from guests/src/getrandom-test.c
#   disk.ext2          4 MiB ext2 image holding hello.txt, for virtio-blk tests
# Needs: linux-source-6.1, gcc-aarch64-linux-gnu (also builds src/getrandom-test.c), flex,
#        bison, bc, libssl-dev, libelf-dev, cpio, e2fsprogs, and busybox-static:arm64
#        (dpkg --add-architecture arm64).
# Usage: guests/build-kit.sh [OUTDIR]   (default: guests/). Idempotent; work goes to $WORK
#        (default /tmp/shyper-kit). The configured kernel tree, with `modules_prepare` done, stays
#        in $WORK/linux-source-6.1: build out-of-tree modules against the kit with
#        make -C $WORK/linux-source-6.1 ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- M=$PWD
# Output: Image.gz, initramfs.cpio.gz, disk.ext2.gz, kernel.config, baremetal/bma.bin (shipped in git).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
work=${WORK:-/tmp/shyper-kit}
mkdir -p "$work" "$out"
export ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
# Same sources, same bytes: no build host, user or date in the kernel or the archives.
export KBUILD_BUILD_TIMESTAMP='1970-01-01' KBUILD_BUILD_USER=shyper KBUILD_BUILD_HOST=kit

# --- kernel -------------------------------------------------------------------------
src=$work/linux-source-6.1
[ -d "$src" ] || tar -C "$work" -xf /usr/src/linux-source-6.1.tar.xz
cd "$src"
make -s allnoconfig
cfg() { scripts/config "$@"; }
cfg -e 64BIT -e SMP --set-val NR_CPUS 8 -e PRINTK -e PRINTK_TIME -e TTY -e BUG -e MULTIUSER \
    -e BINFMT_ELF -e BINFMT_SCRIPT -e PROC_FS -e SYSFS -e DEVTMPFS -e DEVTMPFS_MOUNT -e TMPFS \
    -e BLK_DEV_INITRD -e RD_GZIP --set-str INITRAMFS_SOURCE "" -e FUTEX -e EPOLL -e SIGNALFD \
    -e TIMERFD -e EVENTFD -e SHMEM -e AIO -e POSIX_TIMERS -e FILE_LOCKING -e UNIX98_PTYS \
    -e OF -e ARM64_4K_PAGES -e ARM64_VA_BITS_48 -e ARM_PSCI_FW -e ARM_ARCH_TIMER \
    -e ARM_GIC -e ARM_GIC_V3 -e SERIAL_AMBA_PL011 -e SERIAL_AMBA_PL011_CONSOLE \
    -e SERIAL_8250 -e SERIAL_8250_CONSOLE -e SERIAL_OF_PLATFORM -e SERIAL_8250_DW \
    -e SERIAL_EARLYCON -e COMMON_CLK -e VIRTIO_MENU -e VIRTIO -e VIRTIO_MMIO \
    -e BLOCK -e BLK_DEV -e VIRTIO_BLK -e VIRTIO_CONSOLE -e HVC_DRIVER \
    -e NET -e INET -e UNIX -e PACKET -e NETDEVICES -e NET_CORE -e VIRTIO_NET \
    -e EXT2_FS -e EXT4_FS -e EXT4_USE_FOR_EXT2 -e MODULES -e MODULE_UNLOAD \
    -e RANDOM_TRUST_BOOTLOADER -e HW_RANDOM -e HW_RANDOM_VIRTIO \
    -e ARM64_USE_LSE_ATOMICS -d HZ_PERIODIC -e NO_HZ_IDLE \
    -d ARM64_PTR_AUTH -d ARM64_BTI -d ARM64_SVE -d ARM64_MTE \
    -d KERNEL_MODE_NEON -d RANDOMIZE_BASE -d ARM64_SME -d CC_OPTIMIZE_FOR_SIZE
# RANDOM_TRUST_BOOTLOADER: credit /chosen/rng-seed (the emulator writes 32 bytes from --seed), so
# the CRNG is ready before /init and getrandom() does not block. ARM64_USE_LSE_ATOMICS only
# patches LSE atomics in (alternatives) when ID_AA64ISAR0_EL1.Atomic says the CPU has them.
# NO_HZ_IDLE: an idle guest does not take 250 timer ticks a second.
make -s olddefconfig
for want in RANDOM_TRUST_BOOTLOADER HW_RANDOM HW_RANDOM_VIRTIO ARM64_USE_LSE_ATOMICS ARM64_LSE_ATOMICS \
            NO_HZ_IDLE VIRTIO_CONSOLE MODULES; do
  grep -qx "CONFIG_$want=y" .config || { echo "build-kit: CONFIG_$want did not stay enabled" >&2; exit 1; }
done
# `modules` (none are configured) writes Module.symvers, so out-of-tree modules link cleanly.
make -s -j"$(nproc)" Image modules modules_prepare
cp arch/arm64/boot/Image "$out/Image"
cp .config "$out/kernel.config"

# --- initramfs ----------------------------------------------------------------------
rootfs=$work/rootfs
rm -rf "$rootfs"; mkdir -p "$rootfs"/{bin,sbin,dev,proc,sys,tmp,etc,mnt,root}
if [ ! -f "$work/busybox-static.deb" ]; then
  (cd "$work" && apt-get download busybox-static:arm64 && mv busybox-static_*_arm64.deb busybox-static.deb)
fi
dpkg-deb -x "$work/busybox-static.deb" "$work/bb"
cp "$work/bb/bin/busybox" "$rootfs/bin/busybox"
for a in sh ash cat echo ls mount umount mkdir uname poweroff reboot sleep dmesg ps \
         md5sum sha256sum head tail grep sed awk ip ifconfig ping setsid cttyhack \
         date dd hexdump free uptime seq wc time sync; do
  ln -sf busybox "$rootfs/bin/$a"
done
cat > "$rootfs/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo "shyper-guest: init started"
uname -a
echo "shyper-guest: boot ok"
if grep -q 'shyper.test=1' /proc/cmdline; then
  /bin/shyper-getrandom
  echo "shyper-guest: cpus $(grep -c ^processor /proc/cpuinfo)"
  echo "shyper-guest: uptime $(cat /proc/uptime)"
  for d in /dev/vd?; do [ -b "$d" ] && echo "shyper-guest: disk $d"; done
  echo "shyper-guest: test done"
  poweroff -f
fi
exec setsid cttyhack /bin/sh
INIT
chmod +x "$rootfs/init"
aarch64-linux-gnu-gcc -static -nostdlib -ffreestanding -fno-stack-protector -Os -s -Wl,--build-id=none \
  -Wall -Wextra -Werror -o "$rootfs/bin/shyper-getrandom" "$here/src/getrandom-test.c"
# --- MVM management software (guests/mvm): /lib/modules/shyper.ko, /bin/shyper -------------------
# Built against the kernel tree above (modules_prepare). One block, kept apart for merging.
WORK="$work" KDIR="$src" "$here/mvm/build.sh" "$work/mvm"
mkdir -p "$rootfs/lib/modules"
cp "$work/mvm/shyper.ko" "$rootfs/lib/modules/shyper.ko"
cp "$work/mvm/shyper" "$rootfs/bin/shyper"
# --- end of the MVM block -------------------------------------------------------------------------
(cd "$rootfs" && find . -exec touch -h -d @0 {} + &&
  find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible | gzip -9n > "$out/initramfs.cpio.gz")

# --- disk ---------------------------------------------------------------------------
mkdir -p "$work/disk"; echo "hello from virtio-blk" > "$work/disk/hello.txt"
rm -f "$out/disk.ext2"; mke2fs -q -t ext2 -d "$work/disk" "$out/disk.ext2" 4M
gzip -9nf "$out/Image" "$out/disk.ext2"

# --- bare-metal test guest (attack suite) -------------------------------------------
"$here/baremetal/build.sh" "$out/baremetal"
ls -l "$out"
