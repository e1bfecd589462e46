#!/usr/bin/env bash
# Fetches Debian's generic arm64 kernel (the linux-image-arm64 package's current kernel, a ~33 MB
# uncompressed Image with every driver Debian builds in) into test/programs/build/debian-vmlinuz,
# for the generic-kernel boot test and the bench's `boot  Debian generic kernel` line: the
# "distribution kernel" workload beside the project's small kit kernel. Needs apt (the arm64
# architecture is added if missing). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
out=test/programs/build/debian-vmlinuz
[ -s "$out" ] && exit 0
mkdir -p test/programs/build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
SUDO=""; [ "$(id -u)" != 0 ] && SUDO=sudo
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -qq
fi
# The metapackage names the current kernel package (linux-image-6.1.0-NN-arm64 on bookworm).
pkg=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-arm64\).*/\1/p' | head -1)
if [ -z "$pkg" ]; then
  $SUDO apt-get update -qq
  pkg=$(apt-cache depends linux-image-arm64:arm64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-arm64\).*/\1/p' | head -1)
fi
(cd "$work" && apt-get download -qq "$pkg:arm64" >/dev/null 2>&1)
dpkg-deb --fsys-tarfile "$work"/linux-image-*_arm64.deb | tar -x -C "$work" --wildcards './boot/vmlinuz-*'
cp "$work"/boot/vmlinuz-* "$out.tmp"
mv "$out.tmp" "$out"
