"""The suite's markers say what a test needs: ``-m "not e2e"`` must start no gunicorn, whatever a
test file remembered to mark (tests/conftest.py marks every test that uses a server fixture)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.servers import REPO


def collected(*args: str) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}  # e.g. a seed for the outer run
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return {line.split("::", 1)[1] for line in done.stdout.splitlines() if "::" in line}


def test_not_e2e_leaves_out_every_test_that_starts_a_server_even_unmarked_ones():
    # tests/test_citations.py has no e2e mark of its own: in-process tests and served ones side by side.
    everything = collected("tests/test_citations.py")
    in_process = collected("tests/test_citations.py", "-m", "not e2e")
    served = {name for name in everything if name.startswith(("test_a_citation_opens", "test_the_alert_itself",
                                                                "test_anything_but_a_citation"))}
    assert served and not served & in_process
    assert "test_alert_citations_show_the_cited_elements_of_the_stored_alert" in in_process
    assert in_process == everything - served
