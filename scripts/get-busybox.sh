#!/usr/bin/env bash
# Fetches Debian's busybox-static for arm64 into test/programs/build/busybox (for the run-elf
# tests). Needs apt (the arm64 architecture is added if missing). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
out=test/programs/build/busybox
[ -x "$out" ] && exit 0
mkdir -p test/programs/build
work=$(mktemp -d)
SUDO=""; [ "$(id -u)" != 0 ] && SUDO=sudo
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -qq
fi
(cd "$work" && apt-get download -qq busybox-static:arm64 >/dev/null 2>&1 || { $SUDO apt-get update -qq && apt-get download -qq busybox-static:arm64; })
dpkg-deb -x "$work"/busybox-static_*_arm64.deb "$work/x"
cp "$work/x/bin/busybox" "$out"
rm -rf "$work"
