#!/usr/bin/env bash
# Serve the app on http://localhost:${PORT:-8000} and say when it answers; Ctrl+C stops it.
# Installs into .venv first, only when pyproject.toml (or Python) changed since the last install.
# With REDIS_URL unset it runs an embedded Redis (data in ./var/redis); with no OPENAI_API_KEY the
# offline rules analyst makes the determinations. DEMO_STEP_DELAY=1 paces each step for watching.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv "." app

port="${PORT:-8000}"
echo "Starting the server (gunicorn + gevent) on port $port…"
.venv/bin/smarts-analyzer serve --host "${HOST:-0.0.0.0}" --port "$port" &
server=$!
trap 'kill -TERM "$server" 2>/dev/null || true; wait "$server"; exit 0' INT TERM

# The URL is printed once the app answers, not when the process starts (workers take seconds to boot).
if ! .venv/bin/python - "$port" "$server" "${SERVE_WAIT:-120}" <<'PY'
import os, sys, time, urllib.request
port, pid, wait = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + wait
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("The server stopped before it answered: see its messages above.")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
            sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit(f"The server did not answer on port {port} within {wait:.0f} s.")
PY
then
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" || true
  exit 1
fi
echo "Serving on http://localhost:$port — press Ctrl+C to stop."
wait "$server"
