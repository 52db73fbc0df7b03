"""Thousands of alerts through the batch path against a model limited to R requests a second.

Starts a Redis, the fake OpenAI-compatible server (tests/fake_openai.py) answering 429 beyond
``--rps`` requests a second (a provider's token bucket: one second's worth), and ``--instances``
app instances (gunicorn + gevent, ``--workers`` each) whose shared rate limit is set to the same
rate (LLM_REQUESTS_PER_MINUTE). Uploads one zip of ``--alerts`` alerts (the 15 samples
round-robin, each AlertID made unique) through the upload form to the first instance, as the
CLI does; the work queue spreads the runs over every instance. Measures the time from sending
the upload to the last run's terminal event against the floor the rate sets (alerts ÷ rps),
and checks that the model answered no 429 and that nothing was lost: every alert accepted,
run, and decided by the model.

    python -m bench.batch_throughput --alerts 2000 --rps 20     # the published figure
    python -m bench.batch_throughput --smoke                    # 40 alerts, as the test suite runs it

Results go to BENCHMARKS.md (section "Batch throughput"); the smoke mode writes nothing.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import httpx
import redis

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agents.events import Event  # noqa: E402
from bench.report import UNLIMITED, write_section  # noqa: E402
from tests.servers import AppServer, provision  # noqa: E402
from webapp.batch_client import CSRF  # noqa: E402
from webapp.embedded_redis import EmbeddedRedis  # noqa: E402
from webapp.keys import events_key, run_key  # noqa: E402

SAMPLES = sorted((REPO / "test_data" / "alerts").glob("*.xml"))
ALERT_ID = re.compile(rb"<AlertID>([^<]+)</AlertID>")


def alerts_zip(count: int) -> bytes:
    """``count`` alerts, the samples round-robin, each with an AlertID of its own."""
    samples = [p.read_bytes() for p in SAMPLES]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(count):
            raw = ALERT_ID.sub(lambda m, i=i: b"<AlertID>" + m.group(1) + b"-B%05d</AlertID>" % i,
                               samples[i % len(samples)], count=1)
            archive.writestr(f"alert-{i:05d}.xml", raw)
    return buffer.getvalue()


def run_logs(client: redis.Redis, run_ids: list[str]) -> dict[str, tuple[float, Event, Event]]:
    """Each run's creation time, first and last event, in one pipeline."""
    pipe = client.pipeline(transaction=False)
    for run_id in run_ids:
        pipe.hget(run_key(run_id), "created_at")
        pipe.xrange(events_key(run_id), count=1)
        pipe.xrevrange(events_key(run_id), count=1)
    replies = pipe.execute()
    return {run_id: (float(replies[3 * i]), Event.from_json(replies[3 * i + 1][0][1][b"e"]),
                     Event.from_json(replies[3 * i + 2][0][1][b"e"])) for i, run_id in enumerate(run_ids)}


def measure(args, work: Path) -> dict:
    store = EmbeddedRedis(work / "redis", persistent=False)
    store.start()
    fake = subprocess.Popen([sys.executable, "-m", "tests.fake_openai", "--rps", str(args.rps), "--delay",
                             str(args.llm_delay)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    llm_url = fake.stdout.readline().strip()
    env = {"REDIS_URL": store.url, "OPENAI_API_KEY": "bench", "OPENAI_BASE_URL": llm_url, "OPENAI_MODEL": "bench-llm",
           "LLM_REQUESTS_PER_MINUTE": str(int(args.rps * 60)), "SECRET_KEY": "bench",
           "DATA_CACHE_DIR": str(work / "cache"), "ACCESS_LOG": "", "REDIS_POOL_SIZE": "400", **UNLIMITED}
    if args.max_in_flight:
        env["MAX_RUNS_IN_FLIGHT"] = str(args.max_in_flight)
    identity = provision(f"sqlite:///{work / 'record' / 'analyzer.sqlite3'}")  # one record for every instance
    servers = [AppServer(env={**env, "INSTANCE_NAME": f"bench-{n}"}, log_path=work / f"server-{n}.log",
                         workers=args.workers, identity=identity).start() for n in range(args.instances)]
    client = redis.Redis.from_url(store.url)
    payload = alerts_zip(args.alerts)
    try:
        with servers[0].client(timeout=300, headers={"Accept": "application/json"}) as http:  # an analyst's token
            token = CSRF.search(http.get("/").raise_for_status().text).group(1)
            for server in servers[1:]:  # every instance up before the clock starts
                httpx.get(server.url + "/healthz", timeout=60).raise_for_status()
            sent = time.time()
            answer = http.post("/analyses", data={"csrf_token": token},
                               files={"alert": ("alerts.zip", payload, "application/zip")})
            accepted_at = time.time()
            assert answer.status_code == 201, answer.text[:500]
            batch = answer.json()
            while not http.get(batch["report"], params={"items": "0"}).json()["finished"]:
                time.sleep(0.5)  # a benchmark's completion poll, not a test's synchronisation
            report = http.get(batch["report"]).json()
        logs = run_logs(client, [item["run_id"] for item in report["items"]])
        stats = httpx.get(llm_url.removesuffix("/v1") + "/stats").json()
    finally:
        for server in servers:
            server.stop()
        fake.terminate()
        store.stop()
    finished = max(last.ts for _created, _first, last in logs.values())
    waits = [first.ts - created for created, first, _last in logs.values()]
    return {
        "alerts": args.alerts, "accepted": batch["accepted"], "refused": len(batch["refused"]),
        "total": finished - sent, "floor": args.alerts / args.rps, "upload": accepted_at - sent,
        "completed": sum(last.type == "run_completed" for _created, _first, last in logs.values()),
        "by_model": stats["requests"], "rate_limited": stats["rate_limited"],
        "model_span": (stats["last_at"] or 0) - (stats["first_at"] or 0),
        "counts": report["counts"], "wait_p50": statistics.median(waits), "wait_max": max(waits),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--rps", type=float, default=20, help="the model's limit, requests a second")
    parser.add_argument("--llm-delay", type=float, default=0.5, help="seconds the model takes to answer")
    parser.add_argument("--instances", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-in-flight", type=int, default=0, help="MAX_RUNS_IN_FLIGHT (default: the app's)")
    parser.add_argument("--smoke", action="store_true", help="40 alerts, checks only, BENCHMARKS.md untouched")
    args = parser.parse_args()
    if args.smoke:
        args.alerts = 40
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    r = measure(args, work)
    lost = r["alerts"] - r["completed"]
    print(f"{r['completed']} of {r['alerts']} alerts completed in {r['total']:.1f} s (floor {r['floor']:.1f} s at "
          f"{args.rps:g} requests/s); model requests {r['by_model']}, 429s {r['rate_limited']}, lost {lost}")
    if lost or r["rate_limited"] or r["by_model"] != r["alerts"]:
        print(f"FAILED: {r}; logs kept in {work}", file=sys.stderr)
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)
    if args.smoke:
        return
    body = "\n".join([
        f"Machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}. Command: "
        f"`python -m bench.batch_throughput --alerts {args.alerts} --rps {args.rps:g} --llm-delay {args.llm_delay:g} "
        f"--instances {args.instances} --workers {args.workers}`.",
        f"{args.instances} instance(s) of gunicorn with {args.workers} gevent workers, the LLM analyst against the "
        f"fake model limited to {args.rps:g} requests a second (a token bucket holding one second's worth; beyond "
        f"it, 429) and answering after {args.llm_delay:g} s, LLM_REQUESTS_PER_MINUTE set to the same rate. One zip "
        f"of {args.alerts:,} alerts uploaded through the form; the work queue spreads the runs. Target: "
        f"{args.alerts:,} ÷ {args.rps:g}/s = {r['floor']:.0f} s plus a small overhead, zero 429s, nothing lost.", "",
        "| measure | value |", "|---|---|",
        f"| upload sent to the last run's terminal event | **{r['total']:.1f} s** |",
        f"| floor set by the model's limit | {r['floor']:.1f} s |",
        f"| overhead over the floor | {r['total'] - r['floor']:.1f} s |",
        f"| upload accepted (parse, validate, store {r['accepted']:,} runs in one transaction) | {r['upload']:.1f} s |",
        f"| first to last request the model answered | {r['model_span']:.1f} s |",
        f"| runs completed / model requests / 429s answered | {r['completed']:,} / {r['by_model']:,} / "
        f"**{r['rate_limited']}** |",
        f"| lost | {lost} |",
        f"| determinations | {', '.join(f'{k} {v}' for k, v in sorted(r['counts'].items()))} |",
        f"| wait in the queue before starting, median / max | {r['wait_p50']:.1f} / {r['wait_max']:.1f} s |",
    ])
    print(body)
    write_section("Batch throughput", body)


if __name__ == "__main__":
    main()
