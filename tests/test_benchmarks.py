"""Benchmarks that nobody runs rot (bench/sse_fanout.py once broke unnoticed): every benchmark has a
smoke mode — tiny sizes, seconds, writing nothing — and the suite runs each one, as its own command."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from tests.servers import REPO

pytestmark = pytest.mark.e2e  # the benchmarks start their own servers

BENCHMARKS = REPO / "BENCHMARKS.md"

# Each benchmark, and a line its smoke run must print.
SMOKE = [
    pytest.param("samples", "samples reach their expected determination", id="samples"),
    pytest.param("data_lookups", "| one-off indexing |", id="data_lookups"),
    pytest.param("analyses_load", "| completed / decided by the model | 3 / 3 |", id="analyses_load"),
    # bench/sse_fanout.py is being repaired with the fan-out work (issue 15). Once `python -m bench.sse_fanout
    # --smoke` runs on main, replace this skip with: pytest.param("sse_fanout", "<a line it prints>", id=...).
    pytest.param("sse_fanout", "", id="sse_fanout",
                 marks=pytest.mark.skip(reason="waiting for bench/sse_fanout.py's repair and --smoke (issue 15)")),
]


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("bench", "expected"), SMOKE)
def test_every_benchmark_runs_in_its_smoke_mode(bench, expected, tmp_path):
    before = digest(BENCHMARKS)
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # their work directories, removed with the test's
    result = subprocess.run([sys.executable, "-m", f"bench.{bench}", "--smoke"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert expected in result.stdout, result.stdout[-3000:]
    assert digest(BENCHMARKS) == before  # published figures are only written by full runs
