"""scripts/serve.sh as a new user runs it (the benchmarks' smoke modes: tests/test_benchmarks.py)."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import REPO

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lines(process: subprocess.Popen, until: str, timeout: float) -> list[str]:
    """The script's output lines up to and including the first containing ``until``."""
    seen, deadline = [], time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=deadline - time.monotonic()):
                break
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line.rstrip("\n"))
            if until in line:
                return seen
    raise AssertionError(f"{until!r} never came; the script said: {seen}")


@pytest.fixture
def installed():
    """serve.sh runs in the virtualenv the tests run in; mark that install as current, as an earlier
    serve.sh or test.sh leaves it (the install itself is pip's business, not tested here)."""
    venv = REPO / ".venv"
    if Path(sys.prefix).resolve() != venv.resolve():
        pytest.skip("the tests do not run from the project's .venv, which serve.sh uses")
    stamp = subprocess.run(["bash", "-c", "source scripts/venv.sh && venv_stamp ."], cwd=REPO, check=True,
                           capture_output=True, text=True).stdout
    (venv / ".installed-app").write_text(stamp)


def test_serve_skips_an_unchanged_install_and_gives_the_url_once_the_app_answers(installed, tmp_path):
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "WEB_CONCURRENCY": "1",
           "EMBEDDED_REDIS_DIR": str(tmp_path / "redis"), "ACCESS_LOG": ""}
    env.pop("REDIS_URL", None)
    process = subprocess.Popen(["bash", "scripts/serve.sh"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        said = _lines(process, f"Serving on http://localhost:{port}", timeout=90)
        # At the moment it says so, the app answers: no retry, no waiting.
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json() == {"status": "ok"}
        assert any("up to date" in line for line in said) and not any("Installing" in line for line in said)
        assert "Ctrl+C" in said[-1]
        os.killpg(process.pid, signal.SIGINT)  # Ctrl+C in the terminal reaches the whole process group
        assert process.wait(timeout=30) == 0
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
