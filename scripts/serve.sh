#!/usr/bin/env bash
# Install the app into .venv and serve it on http://localhost:${PORT:-8000}.
# With REDIS_URL unset it runs an embedded Redis (data in ./var/redis); with no OPENAI_API_KEY
# the offline rules analyst makes the determinations.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/smarts-analyzer serve --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}"
