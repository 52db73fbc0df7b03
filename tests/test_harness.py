"""The test harness's own promises, where a broken one would make the suite lie or fail for the wrong
reason."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys

import pytest

from tests.conftest import REPO, server_env


@pytest.mark.e2e
def test_a_chromium_that_exited_between_tests_is_launched_again(chromium):
    chromium.browser.close()  # what a crashed browser looks like to the next test
    with pytest.warns(UserWarning, match="launched it again"):
        context = chromium.new_context()
    try:
        page = context.new_page()
        page.set_content("<p id=ok>ok</p>")
        assert page.inner_text("#ok") == "ok"
    finally:
        context.close()


STARTER = """
import json, sys
from pathlib import Path
from tests.servers import AppServer
import httpx
server = AppServer(env=json.loads(sys.argv[1]), log_path=Path(sys.argv[2]), workers=1).start()
httpx.get(server.url + "/healthz", timeout=60).raise_for_status()  # a worker is up
print(server.process.pid, flush=True)
sys.stdin.read()  # holds until the test kills this process
"""


def _ended(pid: int, timeout: float) -> bool:
    """Whether process ``pid`` (not our child) ends within ``timeout``: a pidfd is readable once it has."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    finally:
        os.close(fd)


@pytest.mark.e2e
def test_the_servers_of_a_test_process_killed_outright_stop_too(redis_url, tmp_path):
    """A CI timeout SIGKILLs pytest; its gunicorn instances (in sessions of their own) must not outlive it."""
    starter = subprocess.Popen([sys.executable, "-c", STARTER, json.dumps(server_env(redis_url)),
                                str(tmp_path / "orphan.log")], cwd=REPO, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        master = int(starter.stdout.readline())
        workers = [int(p) for p in subprocess.run(["pgrep", "-P", str(master)], capture_output=True,
                                                   text=True).stdout.split()]
        assert workers, "the server answered, so it has a worker"
    finally:
        starter.kill()
        starter.wait()
    assert _ended(master, timeout=30), (tmp_path / "orphan.log").read_text(errors="replace")[-2000:]
    assert all(_ended(pid, timeout=10) for pid in workers)
