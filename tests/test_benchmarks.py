"""Benchmarks that nobody runs rot (bench/sse_fanout.py once broke unnoticed, bench/data_lookups.py
when a tool's signature changed, twice): every benchmark in bench/ has a smoke mode — tiny sizes,
seconds, writing nothing — and the suite runs every one of them: here, and the fan-out benchmarks in
tests/test_bench_fanout.py, which reads their measurements."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from tests.servers import REPO

pytestmark = pytest.mark.e2e  # the benchmarks start their own servers

BENCHMARKS = REPO / "BENCHMARKS.md"

# Each benchmark run as its own command, and lines its smoke run must print.
SMOKE = [
    pytest.param("samples", ["samples reach their expected determination"], id="samples"),
    pytest.param("data_lookups", ["| one-off indexing |"], id="data_lookups"),
    pytest.param("analyses_load", ["| completed / decided by the model | 3 / 3 |"], id="analyses_load"),
    pytest.param("batch_throughput", ["40 of 40 alerts completed", "429s 0, lost 0"], id="batch_throughput"),
    pytest.param("queue", ["queue pages rendered: 12 views", "| search an alert id (`q=AL-0000500`) | 1 |"],
                 id="queue"),
]
ELSEWHERE = {"cancel_latency": "below, in-process", "sse_fanout": "tests/test_bench_fanout.py",
             "fanout_scaling": "tests/test_bench_fanout.py"}


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_benchmark_is_run_in_the_suite():
    """A benchmark (a module with a --smoke mode) added to bench/ without a smoke run fails here."""
    benchmarks = {p.stem for p in (REPO / "bench").glob("*.py") if "--smoke" in p.read_text()}
    assert benchmarks == {param.values[0] for param in SMOKE} | set(ELSEWHERE)
    fanout_tests = (REPO / "tests" / "test_bench_fanout.py").read_text()
    assert all(f'"bench.{name}"' in fanout_tests for name, where in ELSEWHERE.items() if where.endswith(".py"))


@pytest.mark.parametrize(("bench", "expected"), SMOKE)
def test_every_benchmark_runs_in_its_smoke_mode(bench, expected, tmp_path):
    before = digest(BENCHMARKS)
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # their work directories, removed with the test's
    result = subprocess.run([sys.executable, "-m", f"bench.{bench}", "--smoke"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for line in expected:
        assert line in result.stdout, result.stdout[-3000:]
    assert digest(BENCHMARKS) == before  # published figures are only written by full runs


def test_the_cancel_latency_benchmark_in_its_smoke_mode():
    """In-process, to read its results: every try was cancelled while its third step ran."""
    from bench.cancel_latency import main

    before = digest(BENCHMARKS)
    results = main(["--smoke"])
    assert len(results) == 2
    for r in results:
        assert r["completed_steps"] == 2 and r["latency_ms"] > 0 and r["started_steps"] in (2, 3)
    assert digest(BENCHMARKS) == before
