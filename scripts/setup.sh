#!/usr/bin/env bash
# Sets everything up on a fresh Debian machine: the system packages the native addon and the C test
# programs build against (only those missing), then the npm dependencies (which builds the addon).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists libenet 2>/dev/null || missing+=(libenet-dev)
pkg-config --exists zlib 2>/dev/null || missing+=(zlib1g-dev)      # COMPRESS_ZLIB
pkg-config --exists libzstd 2>/dev/null || missing+=(libzstd-dev)  # COMPRESS_ZSTD
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v python3 >/dev/null 2>&1 || missing+=(python3)

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Installs the locked dependencies and runs our own install script (builds native/).
npm ci --no-fund --no-audit
