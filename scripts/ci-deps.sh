#!/usr/bin/env bash
# Test inputs that come from Debian but are not installed packages: busybox-static for arm64 and
# Debian's generic arm64 kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/get-busybox.sh
scripts/get-debian-kernel.sh
