#!/usr/bin/env bash
# Sets everything up on a fresh Debian machine: the system packages the native addon and the C test
# programs build against, redis-server for the cluster tests and chromium for the panel's browser test (only those missing), then the npm dependencies (which builds the addon).
# Optionally Godot 3 headless (godot3-server) for test/godot3.test.js: if it cannot be installed, a
# warning is printed and that test skips itself.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists libenet 2>/dev/null || missing+=(libenet-dev)
pkg-config --exists zlib 2>/dev/null || missing+=(zlib1g-dev)      # COMPRESS_ZLIB
pkg-config --exists libzstd 2>/dev/null || missing+=(libzstd-dev)  # COMPRESS_ZSTD
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# test/cluster*.test.js start their own redis-server on a free loopback port; the Debian service
# itself need not run.
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# test/admin-browser.test.js drives the operator panel in headless Chromium (puppeteer-core, no
# browser download); without it that test fails.
command -v chromium >/dev/null 2>&1 || [ -n "${CHROMIUM_PATH:-}" ] || missing+=(chromium)

updated=0
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  updated=1
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Optional: a real Godot 3 client for test/godot3.test.js. Not fatal.
if ! command -v godot3-server >/dev/null 2>&1 && [ -z "${GODOT3_BIN:-}" ]; then
  echo "setup: installing godot3-server (optional, for test/godot3.test.js)" >&2
  if ! { { [ "$updated" -eq 1 ] || $sudo apt-get update -qq; } &&
         DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends godot3-server >/dev/null; }; then
    echo "setup: warning: could not install godot3-server; test/godot3.test.js will be skipped" >&2
  fi
fi

# Installs the locked dependencies and runs our own install script (builds native/).
npm ci --no-fund --no-audit
