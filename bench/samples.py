"""Every sample alert through the real path, one at a time: upload → decision.

Starts a Redis and one app instance (gunicorn + gevent) with the offline analyst, uploads
each sample in test_data/alerts through the form, and reads the run's SSE stream with a
real SSE client until the server ends it. Per sample: the determination against the
expected one (tests/expected_determinations.py), the time from sending the upload to
receiving the terminal event, the server's own run time (run_started to the terminal
event), and the events in the run.

    python -m bench.samples
    python -m bench.samples --smoke      # one sample of each kind, once; writes nothing (the suite runs it)

Results go to BENCHMARKS.md (section "Sample alerts").
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.report import UNLIMITED, write_section  # noqa: E402
from tests.conftest import SAMPLES, Browser  # noqa: E402
from tests.expected_determinations import EXPECTED  # noqa: E402
from tests.servers import AppServer, provision  # noqa: E402
from tests.test_e2e import read_stream  # noqa: E402
from webapp.embedded_redis import EmbeddedRedis  # noqa: E402


def one(server: AppServer, session: Browser, name: str) -> dict:
    """Upload one sample and follow its stream to the end; timings from the client's side."""
    sent = time.perf_counter()
    response = session.upload((SAMPLES / name).read_bytes(), name)
    assert response.status_code == 303, response.text[:300]
    run_id = response.headers["location"].rsplit("/", 1)[1]
    assert read_stream(server, run_id, after=0)[-1].event == "close"
    received = time.perf_counter()
    with server.client() as http:
        report = http.get(f"/analyses/{run_id}.json").raise_for_status().json()
    log = report["events"]
    return {
        "name": name, "expected": EXPECTED[name][0], "got": report["decision"]["determination"],
        "confidence": report["decision"]["confidence"], "wall_ms": (received - sent) * 1000,
        "run_ms": (datetime.fromisoformat(log[-1]["time"]) - datetime.fromisoformat(log[0]["time"])).total_seconds()
        * 1000, "events": len(log),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per sample; the table shows medians")
    parser.add_argument("--smoke", action="store_true", help="one sample of each kind, once; write nothing")
    args = parser.parse_args()
    if args.smoke:
        args.repeat = 1
    work = Path(tempfile.mkdtemp(prefix="bench-samples-"))
    store = EmbeddedRedis(work / "redis", persistent=False)
    store.start()
    env = {"REDIS_URL": store.url, "SECRET_KEY": "bench", "DATA_CACHE_DIR": str(work / "cache"), "ACCESS_LOG": "",
           "OPENAI_API_KEY": "", **UNLIMITED}
    server = AppServer(env=env, log_path=work / "server.log", workers=1,
                       identity=provision(f"sqlite:///{work / 'record' / 'analyzer.sqlite3'}")).start()
    try:
        session = Browser(server)
        names = sorted(EXPECTED)
        if args.smoke:
            names = [next(n for n in names if n.startswith(kind)) for kind in ("insider", "wash", "spoofing")]
        one(server, session, names[0])  # warm: data indexes, graph compilation, connections
        rows = []
        for name in names:
            runs = [one(server, session, name) for _ in range(args.repeat)]
            assert len({r["got"] for r in runs}) == 1, f"{name}: determinations differ between runs"
            rows.append({**runs[0], **{k: statistics.median(r[k] for r in runs) for k in ("wall_ms", "run_ms")}})
        session.close()
    finally:
        server.stop()
        store.stop()
    shutil.rmtree(work, ignore_errors=True)  # kept when a run failed: its server.log says why

    matched = sum(r["got"] == r["expected"] for r in rows)
    lines = [
        f"Machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}. Command: "
        f"`python -m bench.samples --repeat {args.repeat}`.",
        "One instance (gunicorn, 1 gevent worker), the offline analyst, one analysis at a time. *Upload → decision* "
        "is the client's time from sending the form to receiving the terminal event over SSE; *run* is the "
        f"server's (run_started to the terminal event). Medians of {args.repeat}. **{matched} of {len(rows)}** "
        "samples reach their expected determination.", "",
        "| sample alert | expected | got | confidence | upload → decision | run | events |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        mark = "" if r["got"] == r["expected"] else " ✗"
        lines.append(f"| {r['name']} | {r['expected']} | {r['got']}{mark} | {r['confidence']} | "
                     f"{r['wall_ms']:.0f} ms | {r['run_ms']:.0f} ms | {r['events']} |")
    body = "\n".join(lines)
    print(body)
    if not args.smoke:
        write_section("Sample alerts", body)


if __name__ == "__main__":
    main()
