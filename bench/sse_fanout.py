"""How many SSE streams a box holds, how fast they connect, and how fast events reach them.

Three stacks read the same kind of Redis channels, side by side in one run, each with
``--workers`` worker processes:

* this app — the flask-sse subclass: per-run subscriptions in each worker, gunicorn + gevent;
* stock flask-sse — its unmodified blueprint under the same gunicorn + gevent workers (a Redis
  connection per client);
* the seed's stack — FastAPI + sse-starlette + uvicorn, one Redis subscription per client;
* the floor (``--stacks floor``, off by default) — a bare Flask route under the same gunicorn + gevent
  workers that answers and holds, with no sign-in and no Redis: what any Flask stream costs to open.

For each: N streams connect from ``--client-procs`` client processes (bench/sse_clients.py), each
following its own run (or, with ``--one-run``, all of them the same run), the workers' memory is
read before and after; then events are published at R per second in total, to random runs,
through the path the stack's runner would use, for D seconds. Each event's fragment carries its
publish time, so the clients measure publish→receipt latency themselves; *delivered* counts the
events received by streams still held at the end against those published to their runs.

    python -m bench.sse_fanout --clients 20000 --workers 2 --client-procs 4 --rate 1000 --seconds 20
    python -m bench.sse_fanout --clients 10000 --one-run --rate 10   # one popular run (each event
                                                                     # goes to every stream: keep the rate low)
    python -m bench.sse_fanout --smoke                       # seconds; the test suite runs it

Results go to BENCHMARKS.md (section "SSE fan-out"; ``--one-run``: "SSE fan-out, one run").
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agents.alerts import parse_alert  # noqa: E402
from agents.events import Event, EventType  # noqa: E402
from bench import sse_clients  # noqa: E402
from bench.procs import Listener, cpu_seconds, listen_overflows, rss_kb, settle, worker_pids  # noqa: E402
from bench.report import write_section  # noqa: E402
from tests.servers import AppServer  # noqa: E402
from webapp.embedded_redis import EmbeddedRedis  # noqa: E402
from webapp.sse import sse  # noqa: E402
from webapp.store import Append, RunStore  # noqa: E402

PADDING = "x" * 900  # a step fragment of typical size (~1 KB); the runner renders one per event when watched


def fragment(sent: float) -> str:
    return (f'<li id="step-bench" class="step step--running" hx-swap-oob="true" data-sent="{sent:.6f}">'
            f"<p class='step__summary'>{PADDING}</p></li>")


@dataclass
class Stack:
    key: str
    name: str
    start: object    # (workers) -> process-like with .port
    path: object     # (run_id) -> URL path
    publish: object  # (redis client, run_id, seq) -> None
    answers_at_once: bool = True  # stock flask-sse sends no headers before its first event
    delivers: bool = True  # the floor only holds connections: nothing is published to it


# ----------------------------------------------------------------------------- stacks

def bearer(server) -> str:
    """The header line that signs this app's streams in (an analyst's API token); other stacks ignore it."""
    identity = getattr(server, "identity", None)
    return f"Authorization: Bearer {identity.tokens['analyst']}\r\n" if identity else ""


def ours(redis_url: str, work: Path, args) -> Stack:
    store = RunStore(redis.Redis.from_url(redis_url))

    def start(workers: int):
        per_worker = args.clients  # the kernel spreads connections unevenly: no worker may refuse
        env = {"REDIS_URL": redis_url, "SECRET_KEY": "bench", "RECOVERY_INTERVAL": "0", "ACCESS_LOG": "",
               "SSE_MAX_CONCURRENT": str(per_worker), "SSE_HEARTBEAT_INTERVAL": "20", "SSE_MAX_LIFETIME": "0",
               "DATA_CACHE_DIR": str(work / "cache")}
        return AppServer(env=env, log_path=work / "ours.log", workers=workers,
                         backlog=max(4096, args.clients)).start()

    def publish(_client, run_id, seq):
        event = Event(run_id=run_id, seq=seq, ts=time.time(), type=EventType.STEP_PROGRESS, step_id="s",
                      data={"message": "bench"})
        store.append([Append.of(event, publish=sse.message(event, fragment(time.time())))])

    return Stack("ours", "this app: flask-sse subclass, gunicorn + gevent", start,
                 lambda run_id: f"/analyses/{run_id}/events?after=0", publish)


def _plain_publish(client, run_id, seq):
    event = Event(run_id, seq, time.time(), EventType.STEP_PROGRESS)
    client.publish(f"analysis:{run_id}", sse.message(event, fragment(time.time()))[1])


def gunicorn_gevent(app: str, redis_url: str, args):
    """A start function: ``app`` under gunicorn with ``workers`` gevent workers on a bound socket."""
    def start(workers: int):
        listener = Listener(max(4096, args.clients))
        env = {**os.environ, "REDIS_URL": redis_url}
        argv = [sys.executable, "-m", "gunicorn", "-k", "gevent", "--worker-connections", str(args.clients + 2000),
                "-w", str(workers), "--bind", f"fd://{listener.sock.fileno()}", "--graceful-timeout", "1",
                "--no-control-socket", app]
        proc = subprocess.Popen(argv, cwd=REPO, env=env, pass_fds=(listener.sock.fileno(),),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        proc.port = listener.port
        listener.sock.close()
        return proc
    return start


def stock(redis_url: str, work: Path, args) -> Stack:
    return Stack("stock", "stock flask-sse 1.0, gunicorn + gevent",
                 gunicorn_gevent("bench.stacks.stock_flask_sse:app", redis_url, args),
                 lambda run_id: f"/stream?channel=analysis:{run_id}", _plain_publish, answers_at_once=False)


def floor(redis_url: str, work: Path, args) -> Stack:
    return Stack("floor", "floor: a bare Flask route, gunicorn + gevent (no sign-in, no Redis)",
                 gunicorn_gevent("bench.stacks.flask_floor:app", redis_url, args),
                 lambda run_id: f"/floor/{run_id}", lambda *_: None, delivers=False)


def seed(redis_url: str, work: Path, args) -> Stack:
    def start(workers: int):
        listener = Listener(max(4096, args.clients))
        env = {**os.environ, "REDIS_URL": redis_url}
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--fd", str(listener.sock.fileno()), "--log-level",
                                 "warning", "--no-access-log", "--workers", str(workers),
                                 "bench.stacks.fastapi_seed:app"], cwd=REPO, env=env,
                                pass_fds=(listener.sock.fileno(),))
        proc.port = listener.port
        listener.sock.close()
        return proc

    return Stack("seed", "seed: FastAPI + sse-starlette + uvicorn", start,
                 lambda run_id: f"/runs/{run_id}/events", _plain_publish)


# ----------------------------------------------------------------------------- measuring

def publish_at_rate(stack: Stack, client, runs: list[str], rate: int, seconds: float, sent: list[int]) -> float:
    """Publish ``rate`` events a second in total, to random runs, for ``seconds``; returns the rate
    reached. ``sent[i]`` counts the events published to run ``i``."""
    rng, tick = random.Random(1), 0.01
    per_tick, n, start = max(1, int(rate * tick)), 0, time.monotonic()
    while time.monotonic() - start < seconds:
        for _ in range(per_tick):
            i = rng.randrange(len(runs))
            sent[i] += 1
            stack.publish(client, runs[i], sent[i])
            n += 1
        lag = (n / rate) - (time.monotonic() - start)
        if lag > 0:
            time.sleep(lag)
    return n / (time.monotonic() - start)


def percentile(histogram: array, fraction: float) -> float | None:
    total = sum(histogram)
    if not total:
        return None
    rank, seen = fraction * total, 0
    for bucket, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            return round((bucket + 0.5) * sse_clients.BUCKET_MS, 2)
    return None


def measure(stack: Stack, runs: list[str], stream_runs: list[int], redis_url: str, args) -> dict:
    server = stack.start(args.workers)
    process = getattr(server, "process", server)
    context = multiprocessing.get_context("fork")  # cheap children: nothing to import again
    shares = [list(range(len(stream_runs)))[i::args.client_procs] for i in range(args.client_procs)]
    clients = []
    try:
        httpx.get(f"http://127.0.0.1:{server.port}/", timeout=60)  # any answer: the app is loaded
        pids = worker_pids(process, args.workers)
        base = sum(rss_kb(p) for p in pids)
        for share in shares:
            mine, theirs = context.Pipe()
            paths = [stack.path(runs[stream_runs[i]]) for i in share]
            proc = context.Process(target=sse_clients.serve, args=(theirs, server.port, paths, args.in_flight,
                                                                   bearer(server)), daemon=True)
            proc.start()
            clients.append((proc, mine, share))
        for _, conn, _ in clients:  # every client process is up before the clock starts
            conn.send(("ping",))
            conn.recv()
        overflows = listen_overflows()
        cpu_connect = sum(cpu_seconds(p) for p in pids)
        cpu_clients = sum(cpu_seconds(proc.pid) for proc, _, _ in clients)
        started = time.monotonic()
        for _, conn, _ in clients:
            conn.send(("connect", stack.answers_at_once))
        connected = [conn.recv() for _, conn, _ in clients]
        connect_s = time.monotonic() - started
        overflows = listen_overflows() - overflows
        settle_s = settle(pids)
        cpu_connect = sum(cpu_seconds(p) for p in pids) - cpu_connect  # accepting, subscribing, first reads
        cpu_clients = sum(cpu_seconds(proc.pid) for proc, _, _ in clients) - cpu_clients
        loaded = sum(rss_kb(p) for p in pids)
        for _, conn, _ in clients:
            conn.send(("reset",))
            conn.recv()
        sent = [0] * len(runs)
        cpu_before = {p: cpu_seconds(p) for p in pids}
        publisher = redis.Redis.from_url(redis_url)
        rate = publish_at_rate(stack, publisher, runs, args.rate, args.seconds, sent) if stack.delivers else 0
        time.sleep(args.grace)  # the last events arrive
        cpu = {p: (cpu_seconds(p) - cpu_before[p]) / args.seconds * 100 for p in pids}
        received, expected, held, histogram, failed = 0, 0, 0, array("I", [0] * sse_clients.BUCKETS), {}
        for _, conn, share in clients:
            conn.send(("report",))
            report = conn.recv()
            counts, still_open = array("I"), report["open"]
            counts.frombytes(report["counts"])
            for local, stream in enumerate(share):
                if still_open[local]:
                    held += 1
                    received += counts[local]
                    expected += sent[stream_runs[stream]]
            part = array("I")
            part.frombytes(report["latency"])
            histogram = array("I", (a + b for a, b in zip(histogram, part, strict=True)))
            for why, n in report["failed"].items():
                failed[why] = failed.get(why, 0) + n
        for _, conn, _ in clients:
            conn.send(("stop",))
            conn.recv()
    finally:
        for proc, _, _ in clients:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
    answered = sum(c["answered"] for c in connected)
    return {
        "streams": len(stream_runs), "held": held, "answered": answered, "failed": failed,
        "connect_s": round(connect_s, 1),
        # The workers' own CPU per stream opened (the clients share this box's cores): what a worker
        # with a core to itself could accept per second.
        "open_cpu_ms": round(1000 * cpu_connect / max(1, len(stream_runs)), 3),
        "accepts_per_core_s": round(len(stream_runs) / max(cpu_connect, 1e-9)),
        "client_open_cpu_ms": round(1000 * cpu_clients / max(1, len(stream_runs)), 3),
        "sent_s": round(max(c["sent_s"] for c in connected), 1),
        "settle_s": round(settle_s, 1), "listen_overflows": overflows,
        "rss_base_mb": round(base / 1024), "rss_loaded_mb": round(loaded / 1024),
        "kb_per_stream": round((loaded - base) / max(1, held), 1),
        "publish_rate": round(rate), "delivered_pct": round(100 * received / max(1, expected), 2),
        "events_received": received, "p50_ms": percentile(histogram, 0.5), "p99_ms": percentile(histogram, 0.99),
        "worker_cpu_pct": [round(v) for v in cpu.values()],
    }


SMOKE = {"clients": 40, "rate": 40, "seconds": 1.5, "workers": 2, "client_procs": 2, "in_flight": 20, "grace": 0.5,
         "stacks": ["ours", "stock", "seed", "floor"]}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--client-procs", type=int, default=4)
    parser.add_argument("--in-flight", type=int, default=256, help="connects in flight per client process")
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--grace", type=float, default=2.0, help="seconds for the last events to arrive")
    parser.add_argument("--one-run", action="store_true", help="every stream follows the same run")
    parser.add_argument("--stacks", nargs="+", default=["ours", "stock", "seed"],
                        choices=["ours", "stock", "seed", "floor"])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds; prints JSON, writes nothing")
    parser.add_argument("--json", action="store_true", help="print the results as JSON, do not write BENCHMARKS.md")
    args = parser.parse_args(argv)
    if args.smoke:
        vars(args).update(SMOKE)
    work = Path(tempfile.mkdtemp(prefix="bench-sse-"))
    store_server = EmbeddedRedis(work / "redis", persistent=False, maxclients=args.clients + 5000)
    url = store_server.start()
    results = {}
    try:
        store = RunStore(redis.Redis.from_url(url))
        raw = (REPO / "test_data" / "alerts" / "wash_genuine_gldx.xml").read_bytes()
        alert = parse_alert(raw)
        runs = [store.create(alert, raw, filename="bench.xml").id for _ in range(1 if args.one_run else args.clients)]
        stream_runs = [0] * args.clients if args.one_run else list(range(args.clients))
        factories = {"ours": ours, "stock": stock, "seed": seed, "floor": floor}
        for key in args.stacks:
            stack = factories[key](url, work, args)
            print(f"--- {stack.name}, {args.workers} worker(s)", file=sys.stderr, flush=True)
            results[stack.name] = measure(stack, runs, stream_runs, url, args)
            print(json.dumps(results[stack.name]), file=sys.stderr, flush=True)
            redis.Redis.from_url(url).execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    finally:
        store_server.stop()
    if args.smoke or args.json:
        print(json.dumps(results))
    else:
        write_section("SSE fan-out, one run" if args.one_run else "SSE fan-out", render(results, args))
    return results


def render(results: dict, args) -> str:
    one_run = " --one-run" if args.one_run else ""
    stacks = "" if args.stacks == ["ours", "stock", "seed"] else " --stacks " + " ".join(args.stacks)
    command = (f"`python -m bench.sse_fanout --clients {args.clients} --workers {args.workers} --client-procs "
               f"{args.client_procs} --rate {args.rate} --seconds {args.seconds}{one_run}{stacks}`")
    who = "all follow one run" if args.one_run else "each follows its own run"
    lines = [f"Machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}; the "
             f"clients ({args.client_procs} processes), the publisher and Redis run on the same machine. "
             f"Command: {command}.", "",
             f"{args.clients:,} streams, {args.workers} worker(s) per stack; the streams {who}; {args.rate:,} events a "
             "second are published in total to random runs, each carrying a ~1 KB HTML fragment. Publishing "
             "starts once the workers are idle after the connections; *delivered* counts events received by "
             f"streams still held at the end ({args.grace:g} s after the last publish) against those published to "
             "their runs. *Worker CPU per open* is the workers' own CPU time from the first connect until they are "
             "idle again, per stream (accepting, signing in, subscribing, reading the log, answering); the "
             "clients share the same cores, so what a worker with a core to itself accepts per second is "
             "1 s divided by it.",
             "", "| stack | held | connected in (answered) | worker CPU per open (per core) | listen overflows | "
             "memory per stream | publish→receipt p50 / p99 | delivered | worker CPU | failures |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        failures = ", ".join(f"{k}: {v}" for k, v in r["failed"].items()) or "none"
        delivery = (f"{r['p50_ms']} / {r['p99_ms']} ms | {r['delivered_pct']}% at {r['publish_rate']}/s"
                    if r["publish_rate"] else "— | —")
        lines.append(f"| {name} | {r['held']:,} of {r['streams']:,} | {r['connect_s']} s ({r['answered']:,}) | "
                     f"{r['open_cpu_ms']} ms ({r['accepts_per_core_s']:,}/s) | "
                     f"{r['listen_overflows']:,} | {r['kb_per_stream']} KB "
                     f"({r['rss_base_mb']} → {r['rss_loaded_mb']} MB) | {delivery} | "
                     f"{' + '.join(f'{c}%' for c in r['worker_cpu_pct'])} | {failures} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
