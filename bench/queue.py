"""The work queue's page time with 1,000,000 cases in the record (target: < 100 ms p99 a page).

Fills an SQLite record (migrated like any install) with N synthetic cases in bulk — executemany
in batches of 50,000 inside one transaction — then renders the queue's home page through the
Flask test client, signed in as an analyst, for several filter combinations: the first page and
a page reached by following the keyset cursor. Each render is the whole page (the query, the
counts per state, the template), timed from request to complete body. The CSV export is timed
for one filtered view as well.

    python -m bench.queue                      # 1,000,000 cases, 200 renders per view; writes BENCHMARKS.md
    python -m bench.queue --cases 200000       # another size
    python -m bench.queue --smoke              # 3,000 cases, 10 renders per view, a temporary directory; writes nothing

Results go to BENCHMARKS.md (section "Work queue") and bench/out/queue.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.report import write_section  # noqa: E402
from webapp.record.lifecycle import rank  # noqa: E402

OUT = REPO / "bench" / "out"
BATCH = 50_000
STATES = ("new", "new", "new", "in_progress", "in_progress", "proposed", "closed", "closed", "closed", "escalated")
DETERMINATIONS = ("CLOSE", "CLOSE", "CLOSE", "NEEDS_HUMAN_REVIEW", "ESCALATE", None)
KINDS = ("insider_dealing", "wash_trade", "spoofing")
ANALYSTS = [f"analyst{i:02d}" for i in range(40)] + ["test-analyst"]
SYMBOLS = [f"S{i:04d}" for i in range(3_000)] + ["ACME", "NOVA", "GLDX"]
DAY0 = datetime(2024, 1, 1, tzinfo=UTC)

# (label, query string): the filter combinations timed; each also from a cursor (page 2).
VIEWS = [
    ("all, by priority", ""),
    ("all, newest first", "sort=date"),
    ("open, mine", "state=open&assignee=mine"),
    ("proposed (the reviewer's queue)", "state=proposed"),
    ("new, unassigned, wash trade", "state=new&assignee=unassigned&type=wash_trade"),
    ("AI escalate, newest first", "determination=ESCALATE&sort=date"),
    ("closed by a human, by date", "outcome=CLOSE&sort=date"),
    ("search a symbol", "q=ACME"),
    ("search a trader", "q=T00042"),
    ("search an alert id", "q=AL-0000500"),
    ("one week, by date", "from=2024-01-08&to=2024-01-14&sort=date"),
    ("in progress, AI needs review, spoofing", "state=in_progress&determination=NEEDS_HUMAN_REVIEW&type=spoofing"),
]


def fill(url: str, n: int, seed: int = 7) -> float:
    """Migrate the record and insert ``n`` cases; returns seconds."""
    from webapp.record import schema

    started = time.perf_counter()
    schema.upgrade(url)
    rng = random.Random(seed)
    path = url.removeprefix("sqlite:///")
    connection = sqlite3.connect(path)
    columns = ("alert_id", "kind", "alert_type", "subject", "symbol", "created_at", "updated_at", "state", "version",
               "assignee", "trader", "subject_key", "score", "ai_determination", "ai_confidence", "rank", "outcome")
    insert = f"INSERT INTO cases ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
    counts: dict[str, int] = {}
    with connection:
        connection.execute("PRAGMA synchronous=OFF")
        for start in range(0, n, BATCH):
            rows = []
            for i in range(start, min(n, start + BATCH)):
                state = STATES[rng.randrange(len(STATES))]
                counts[state] = counts.get(state, 0) + 1
                determination = DETERMINATIONS[rng.randrange(len(DETERMINATIONS))]
                score = rng.randrange(100)
                at = (DAY0 + timedelta(seconds=i * 30)).strftime("%Y-%m-%d %H:%M:%S.%f")
                trader = f"T{rng.randrange(5000):05d}"
                assignee = None if state == "new" else ANALYSTS[rng.randrange(len(ANALYSTS))]
                outcome = {"closed": "CLOSE", "escalated": "ESCALATE"}.get(state)
                symbol = SYMBOLS[rng.randrange(len(SYMBOLS))]
                confidence = None if determination is None else rng.randrange(40, 100)
                rows.append((f"AL-{i:07d}", KINDS[i % 3], "Synthetic", f"Trader {trader}", symbol, at, at, state, 1,
                             assignee, trader, f"trader {trader.lower()}", score, determination, confidence,
                             rank(determination, score), outcome))
            connection.executemany(insert, rows)
        for state, count in counts.items():
            connection.execute("UPDATE case_counts SET n = n + ? WHERE state = ?", (count, state))
        connection.execute("ANALYZE")
    connection.close()
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(directory: Path, url: str, renders: int) -> dict:
    from tests.servers import CSRF
    from webapp.app import create_app
    from webapp.config import Settings
    from webapp.embedded_redis import EmbeddedRedis
    from webapp.record import Database, users
    from webapp.record.audit import Actor

    db = Database(url)
    users.add(db, Actor.cli(), "test-analyst", "analyst", "a benchmark password")
    db.dispose()
    redis_server = EmbeddedRedis(directory / "redis", persistent=False)
    redis_server.start()
    try:
        app = create_app(Settings.from_env(redis_url=redis_server.url, database_url=url, secret_key="bench",  # noqa: S106 - a throwaway app
                                           state_dir=directory / "state", principal_cache_seconds=60))
        client = app.test_client()
        form = client.get("/login")
        signed = client.post("/login", data={"csrf_token": CSRF.search(form.text).group(1),
                                             "username": "test-analyst", "password": "a benchmark password"})
        assert signed.status_code == 303, signed.status_code
        results = []
        for label, query in VIEWS:
            first = client.get(f"/?{query}")
            assert first.status_code == 200, (label, first.status_code)
            cursor = re.search(r'id="queue-next" href="[^"?]*\?([^"]*)"', first.text)
            paths = [f"/?{query}"] + ([f"/?{cursor.group(1).replace('&amp;', '&')}"] if cursor else [])
            times, rows = [], first.text.count('class="queue-row"')
            for n in range(renders):
                path = paths[n % len(paths)]
                started = time.perf_counter()
                response = client.get(path)
                response.get_data()
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            results.append({"view": label, "query": query, "rows": rows, "renders": renders,
                            "p50_ms": statistics.median(times), "p99_ms": percentile(times, 0.99),
                            "max_ms": max(times)})
        started = time.perf_counter()
        export = client.get("/cases.csv?determination=ESCALATE&state=open")
        lines = export.get_data(as_text=True).count("\n") - 1
        csv_seconds = time.perf_counter() - started
        return {"views": results, "csv": {"query": "determination=ESCALATE&state=open", "rows": lines,
                                          "seconds": csv_seconds}}
    finally:
        redis_server.stop()


def render(report: dict) -> str:
    lines = [f"`python -m bench.queue --cases {report['cases']}` — {report['cases']:,} cases in an SQLite record "
             f"(filled in {report['fill_seconds']:.0f} s), {report['renders']} renders per view of the whole home "
             "page through the Flask test client (first page and the page after it, alternately).",
             "", "| view | rows on the page | p50 ms | p99 ms | max ms |", "|---|---|---|---|---|"]
    for v in report["views"]:
        lines.append(f"| {v['view']} (`{v['query'] or '/'}`) | {v['rows']} | {v['p50_ms']:.1f} | {v['p99_ms']:.1f} "
                     f"| {v['max_ms']:.1f} |")
    csv_run = report["csv"]
    lines += ["", f"CSV export (`/cases.csv?{csv_run['query']}`): {csv_run['rows']:,} rows streamed in "
              f"{csv_run['seconds']:.1f} s.", "", f"Machine: {report['machine']}."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--smoke", action="store_true", help="3,000 cases, 10 renders per view; write nothing")
    args = parser.parse_args()
    if args.smoke:
        args.cases, args.renders = 3_000, 10
    with tempfile.TemporaryDirectory(prefix="saa-queue-") as tmp:
        directory = Path(tmp)
        url = f"sqlite:///{directory / 'record' / 'analyzer.sqlite3'}"
        fill_seconds = fill(url, args.cases)
        print(f"filled {args.cases:,} cases in {fill_seconds:.1f} s", flush=True)
        measured = measure(directory, url, args.renders)
    report = {"cases": args.cases, "renders": args.renders, "fill_seconds": fill_seconds, **measured,
              "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}"}
    print(render(report))
    slowest = max(v["p99_ms"] for v in report["views"])
    print(f"queue pages rendered: {len(report['views'])} views, slowest p99 {slowest:.1f} ms")
    if not args.smoke:
        OUT.mkdir(exist_ok=True)
        (OUT / "queue.json").write_text(json.dumps(report, indent=2))
        write_section("Work queue", render(report))


if __name__ == "__main__":
    main()
