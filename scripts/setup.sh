#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine with Node 20 and npm.
#   scripts/setup.sh        node modules only (enough for `make run`)
#   scripts/setup.sh test   also the system packages the tests use (redis-server, chromium, unzip; buildah and
#                           debootstrap for the image test, test/image) and helm
set -euo pipefail
cd "$(dirname "$0")/.."

# `npm ci` (exactly the lock, which carries every platform's optional packages), only when node_modules is missing
# or older than the lock: npm ci starts by deleting node_modules.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing node modules (npm ci)"
  npm ci --no-audit --no-fund
fi

[ "${1:-}" = "test" ] || exit 0

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-cli >/dev/null || missing+=(redis-tools)
command -v chromium >/dev/null || missing+=(chromium)
command -v unzip >/dev/null || missing+=(unzip)
# test/image builds and runs both images with an OCI builder that needs no daemon, on a base it bootstraps itself.
command -v buildah >/dev/null || missing+=(buildah)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian service would hold port 6379; tests start their own servers on free ports.
  { $SUDO systemctl disable --now redis-server 2>/dev/null || $SUDO service redis-server stop 2>/dev/null; } >/dev/null || true
fi

if [ -x scripts/tools.sh ]; then scripts/tools.sh; fi
