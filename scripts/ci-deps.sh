#!/usr/bin/env bash
# Test inputs that come from Debian but are not installed packages: busybox-static for arm64.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/get-busybox.sh
