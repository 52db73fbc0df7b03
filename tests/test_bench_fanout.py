"""The fan-out benchmarks' smoke modes: tiny sizes, seconds. They check the benchmarks still run
against the current code (and what must hold at any size), not performance."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.servers import REPO

pytestmark = pytest.mark.e2e


def smoke(module: str) -> dict:
    done = subprocess.run([sys.executable, "-m", module, "--smoke"], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_sse_fanout_smoke_measures_the_stacks_side_by_side():
    results = smoke("bench.sse_fanout")
    assert len(results) == 4  # this app, stock flask-sse, the seed's stack, the bare-Flask floor
    ours = next(r for name, r in results.items() if name.startswith("this app"))
    assert ours["held"] == ours["streams"] and ours["failed"] == {}
    assert ours["delivered_pct"] == 100.0 and ours["events_received"] > 0
    floor = next(r for name, r in results.items() if name.startswith("floor"))
    assert floor["held"] == floor["streams"] and floor["publish_rate"] == 0
    for name, result in results.items():
        assert result["held"] > 0 and result["open_cpu_ms"] > 0, name
        if not name.startswith("floor"):
            assert result["p99_ms"] is not None, name


def test_fanout_scaling_smoke_each_event_reaches_one_worker_not_all():
    results = smoke("bench.fanout_scaling")
    for row in results["real"]:
        assert row["delivered_pct"] == 100.0 and row["seen_workers"] == row["workers"]
    for row in results["simulated"]:
        # Each run is followed by one simulated worker: every event reaches exactly one of them...
        assert sum(row["per-run received"]) == row["per-run published"]
        # ...where each pattern subscriber (the old design) received every event.
        assert row["pattern received"] == [row["pattern published"]] * row["workers"]
