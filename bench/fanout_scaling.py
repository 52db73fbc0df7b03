"""Messages each worker receives from Redis as workers are added: flat with per-run subscriptions.

Every worker used to hold ``PSUBSCRIBE analysis:*`` and so received every event of every
followed run, whoever watched it: the cost grew with the number of workers and instances. Now a
worker subscribes to the runs its own streams follow. Measured with the load per worker held
constant (S streams per worker, each following its own run, r events a second per worker), so
that flat means each worker's cost does not grow as the deployment does:

* real workers — gunicorn + gevent with 1, 2, 4 workers on this box; each worker's
  ``saa_feed_messages_total`` is read from /metrics (``saa_worker_info`` says whose it is);
* simulated workers beyond — H real :class:`webapp.feed.Hub` objects in one gevent process
  (bench/simulated_hubs.py), each with its own Redis subscriber connection, following K runs
  each; side by side with H pattern subscribers (the old design; events then go out with plain
  PUBLISH, which patterns receive).

    python -m bench.fanout_scaling                  # writes BENCHMARKS.md, section "Fan-out scaling"
    python -m bench.fanout_scaling --smoke          # seconds; the test suite runs it
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from array import array
from pathlib import Path

import httpx
import redis

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agents.alerts import parse_alert  # noqa: E402
from agents.events import Event, EventType  # noqa: E402
from bench import sse_clients  # noqa: E402
from bench.report import write_section  # noqa: E402
from bench.sse_fanout import fragment  # noqa: E402
from tests.servers import AppServer  # noqa: E402
from webapp.embedded_redis import EmbeddedRedis  # noqa: E402
from webapp.keys import followers_key  # noqa: E402
from webapp.sse import sse  # noqa: E402
from webapp.store import Append, RunStore  # noqa: E402


def publish(store: RunStore, runs: list[str], rate: float, seconds: float) -> int:
    """Publish ``rate`` events a second to random runs for ``seconds`` (through the append script,
    as the runner does); returns how many."""
    rng, seqs, n, start = random.Random(2), dict.fromkeys(runs, 0), 0, time.monotonic()
    while (elapsed := time.monotonic() - start) < seconds:
        due = int(elapsed * rate) + 1
        while n < due:
            run_id = rng.choice(runs)
            seqs[run_id] += 1
            event = Event(run_id=run_id, seq=seqs[run_id], ts=time.time(), type=EventType.STEP_PROGRESS)
            store.append([Append.of(event, publish=sse.message(event, fragment(time.time())))])
            n += 1
        time.sleep(0.002)
    return n


# ----------------------------------------------------------------------------- real workers

def scrape(server, workers: int, tries: int = 400) -> dict[str, tuple[float, float]]:
    """(``saa_feed_messages_total``, ``saa_sse_streams_open``) of each worker, by pid: /metrics comes
    from whichever worker accepts, so ask on new connections until every worker has answered."""
    found: dict[str, tuple[float, float]] = {}

    def value(name: str, text: str) -> float:
        match = re.search(rf"^{name} (\S+)$", text, re.M)
        return float(match.group(1)) if match else 0.0

    for _ in range(tries):
        text = httpx.get(f"{server.url}/metrics", timeout=30, headers={
            "Connection": "close", "Authorization": f"Bearer {server.identity.metrics_token}"}).text
        pid = re.search(r'^saa_worker_info\{pid="(\d+)"\}', text, re.M).group(1)
        found[pid] = (value("saa_feed_messages_total", text), value("saa_sse_streams_open", text))
        if len(found) == workers:
            break
    return found


def real_workers(url: str, work: Path, args) -> list[dict]:
    store = RunStore(redis.Redis.from_url(url))
    raw = (REPO / "test_data" / "alerts" / "wash_genuine_gldx.xml").read_bytes()
    alert = parse_alert(raw)
    rows = []
    for workers in args.workers:
        streams = args.streams_per_worker * workers
        runs = [store.create(alert, raw, filename="scaling.xml").id for _ in range(streams)]
        env = {"REDIS_URL": url, "SECRET_KEY": "bench", "RECOVERY_INTERVAL": "0", "ACCESS_LOG": "",
               "SSE_MAX_CONCURRENT": str(streams), "SSE_MAX_LIFETIME": "0", "DATA_CACHE_DIR": str(work / "cache")}
        server = AppServer(env=env, log_path=work / f"workers-{workers}.log", workers=workers).start()
        mine, theirs = multiprocessing.get_context("fork").Pipe()
        clients = multiprocessing.get_context("fork").Process(
            target=sse_clients.serve, args=(theirs, server.port, [f"/analyses/{r}/events" for r in runs], 128,
                                            f"Authorization: Bearer {server.identity.tokens['analyst']}\r\n"),
            daemon=True)
        try:
            httpx.get(f"{server.url}/healthz", timeout=60)
            clients.start()
            mine.send(("connect", True))
            connected = mine.recv()
            time.sleep(1)  # the last streams subscribe and read their logs
            before = scrape(server, workers)
            published = publish(store, runs, args.rate_per_worker * workers, args.seconds)
            time.sleep(0.5)
            after = scrape(server, workers)
            mine.send(("report",))
            report = mine.recv()
            counts = array("I")
            counts.frombytes(report["counts"])
            mine.send(("stop",))
            mine.recv()
        finally:
            clients.join(timeout=10)
            server.stop()
        # Per worker: (its streams, messages a second it received), by streams.
        per_worker = sorted((int(streams_open), round((messages - before.get(pid, (0, 0))[0]) / args.seconds))
                            for pid, (messages, streams_open) in after.items())
        rows.append({"workers": workers, "streams": streams, "held": connected["answered"], "failed": report["failed"],
                     "published_per_s": round(published / args.seconds), "seen_workers": len(after),
                     "per_worker": per_worker, "delivered_pct": round(100 * sum(counts) / max(1, published), 1)})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


# ----------------------------------------------------------------------------- simulated workers

def simulated_workers(url: str, args) -> list[dict]:
    store = RunStore(redis.Redis.from_url(url))
    rows = []
    for hubs in args.hubs:
        row = {"workers": hubs, "published_per_s": None}
        for mode in ("per-run", "pattern"):
            if mode == "pattern" and hubs > args.max_pattern_hubs:
                continue
            proc = subprocess.Popen([sys.executable, "-m", "bench.simulated_hubs", url, str(hubs),
                                     str(args.runs_per_hub), mode], cwd=REPO, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True)
            runs = [uuid.uuid4().hex for _ in range(hubs * args.runs_per_hub)]
            try:
                ready = json.loads(proc.stdout.readline())
                if mode == "per-run":
                    runs = ready["ready"]
                else:  # nobody announces: make the runs followed, and publish as the old design did
                    for run_id in runs:
                        store.redis.hset(followers_key(run_id), "bench", 1)
                    store._sharded = False
                proc.stdin.write("go\n")
                proc.stdin.flush()
                assert proc.stdout.readline().strip() == "counting"
                published = publish(store, runs, args.rate_per_worker * hubs, args.seconds)
                time.sleep(0.5)
                proc.stdin.write("stop\n")
                proc.stdin.flush()
                received = sorted(json.loads(proc.stdout.readline()))
            finally:
                store._sharded = None
                proc.kill()
                proc.wait()
            row["published_per_s"] = round(published / args.seconds)
            row[f"{mode} published"], row[f"{mode} received"] = published, received
            row[mode] = [round(n / args.seconds) for n in received]
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


# ----------------------------------------------------------------------------- main

SMOKE = {"workers": [2], "hubs": [1, 3], "streams_per_worker": 20, "runs_per_hub": 10,
         "rate_per_worker": 20, "seconds": 1.0, "max_pattern_hubs": 3}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--hubs", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64])
    parser.add_argument("--streams-per-worker", type=int, default=250)
    parser.add_argument("--runs-per-hub", type=int, default=50)
    parser.add_argument("--rate-per-worker", type=float, default=50, help="events a second per worker")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--max-pattern-hubs", type=int, default=16, help="the old design costs W² messages")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds; prints JSON, writes nothing")
    parser.add_argument("--json", action="store_true", help="print the results as JSON, do not write BENCHMARKS.md")
    args = parser.parse_args(argv)
    if args.smoke:
        vars(args).update(SMOKE)
    work = Path(tempfile.mkdtemp(prefix="bench-scaling-"))
    server = EmbeddedRedis(work / "redis", persistent=False)
    url = server.start()
    try:
        results = {"real": real_workers(url, work, args), "simulated": simulated_workers(url, args)}
    finally:
        server.stop()
    if args.smoke or args.json:
        print(json.dumps(results))
    else:
        write_section("Fan-out scaling", render(results, args))
    return results


def render(results: dict, args) -> str:
    lines = [f"Machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}; Redis, the "
             "publisher and the clients on the same machine. Command: `python -m bench.fanout_scaling`.", "",
             f"Per worker: {args.streams_per_worker} streams (real) or {args.runs_per_hub} followed runs (simulated), "
             f"each its own run, and {args.rate_per_worker:g} events a second published to those runs, so the "
             "total grows with the workers. Received: messages per second each worker took from Redis (sorted).",
             "", "| real workers | streams | published / s | each worker: its streams → messages / s | delivered |",
             "|---|---|---|---|---|"]
    for r in results["real"]:
        each = ", ".join(f"{n} → {m}" for n, m in r["per_worker"])
        lines.append(f"| {r['workers']} | {r['held']:,} of {r['streams']:,} | {r['published_per_s']:,} | {each} | "
                     f"{r['delivered_pct']}% |")
    lines += ["", "| simulated workers | published / s | per-run subscriptions: received per worker / s "
              "(min–max) | one pattern each (before): received per worker / s (min–max) |", "|---|---|---|---|"]
    for r in results["simulated"]:
        span = {m: (f"{min(r[m])}–{max(r[m])}" if m in r else "—") for m in ("per-run", "pattern")}
        lines.append(f"| {r['workers']} | {r['published_per_s']:,} | {span['per-run']} | {span['pattern']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
