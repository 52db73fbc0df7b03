"""How many SSE subscribers one worker holds, at what memory, and how fast events reach them.

Three stacks read the same Redis channels (``analysis:<run>``), side by side in one run:

* this app — the flask-sse subclass: one pattern subscription per worker, gunicorn + gevent,
  one worker;
* stock flask-sse — its unmodified blueprint under the same gunicorn + gevent worker;
* the seed's stack — FastAPI + sse-starlette + uvicorn, one Redis subscription per client.

For each: N clients connect (each watching its own run), the worker's RSS is read before and
after, then events are published at R per second in total (to random runs, through the path
the stack's runner would use) for D seconds, and publish→receipt latency is measured at the
clients. The client is one asyncio process with raw sockets (no thread per connection).

    python -m bench.sse_fanout --clients 10000 --rate 1000 --seconds 20

Results go to BENCHMARKS.md (section "SSE fan-out").
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agents.alerts import parse_alert  # noqa: E402
from agents.events import Event, EventType  # noqa: E402
from bench.report import write_section  # noqa: E402
from tests.servers import AppServer  # noqa: E402
from webapp.embedded_redis import EmbeddedRedis  # noqa: E402
from webapp.sse import sse  # noqa: E402
from webapp.store import RunStore  # noqa: E402

# A step fragment of typical size (the runner renders it once per event when watched).
FRAGMENT = ('<li id="step-insider_dealing-trader_history" class="step step--running" hx-swap-oob="true">'
            '<div class="step__head"><span class="step__title">Trading history baseline</span></div>'
            + "<p class='step__summary'>" + "x" * 900 + "</p></li>")


@dataclass
class Stack:
    name: str
    start: object                 # () -> (process-like, port, worker pid)
    path: object                  # (run_id) -> URL path
    publish: object               # (redis client, run_id, seq) -> None
    results: dict = field(default_factory=dict)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(pid: int, loop, window: float = 0.5, busy: float = 0.05, limit: float = 120.0) -> float:
    """Wait until the server process is idle (under ``busy`` of a core over ``window``): a client
    counts as connected at the stream's first comment, but the server still subscribes it and
    reads its log after that. Publishing before every stack has finished would measure set-up."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = cpu_seconds(pid)
        loop.run_until_complete(asyncio.sleep(window))
        if cpu_seconds(pid) - before < busy * window:
            break
    return time.monotonic() - started


class Clients:
    """N raw-socket SSE clients in one asyncio loop, recording when each event id arrives."""

    def __init__(self, port: int):
        self.port = port
        self.connected = 0
        self.failed: dict[str, int] = {}
        self.received: dict[tuple[int, int], float] = {}
        self.tasks: list[asyncio.Task] = []

    async def _one(self, index: int, path: str, ready: asyncio.Event) -> None:
        """Connect and read. Counted as held once the request is sent: stock flask-sse sends no
        headers until its first event, so waiting for them would measure nothing."""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), 60)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n".encode())
            await writer.drain()
        except (TimeoutError, OSError) as exc:
            self.failed[type(exc).__name__] = self.failed.get(type(exc).__name__, 0) + 1
            return
        finally:
            ready.set()
        self.connected += 1
        try:
            status = await reader.readline()
            if status and b" 200 " not in status:
                key = status.decode(errors="replace").strip()[:40]
                self.failed[key] = self.failed.get(key, 0) + 1
                return
            while line := await reader.readline():
                if line.startswith(b"id:"):
                    self.received[(index, int(line[3:]))] = time.time()
        except OSError:
            pass
        finally:
            self.connected -= 1

    async def connect(self, paths: list[str], first: int = 0, batch: int = 500) -> float:
        """Connect clients ``first``, ``first + 1``... to ``paths``; returns the seconds it took."""
        started = time.monotonic()
        for i in range(0, len(paths), batch):
            readies = []
            for j, path in enumerate(paths[i:i + batch], start=first + i):
                ready = asyncio.Event()
                readies.append(ready)
                self.tasks.append(asyncio.create_task(self._one(j, path, ready)))
            await asyncio.gather(*(r.wait() for r in readies))
        return time.monotonic() - started

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def publish_at_rate(client: redis.Redis, stack: Stack, runs: list[str], rate: int, seconds: float,
                    sent: dict) -> None:
    """Publish ``rate`` events a second in total, to random runs, for ``seconds``."""
    seqs = [0] * len(runs)
    rng = random.Random(1)
    tick = 0.01
    per_tick = max(1, int(rate * tick))
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < seconds:
        for _ in range(per_tick):
            i = rng.randrange(len(runs))
            seqs[i] += 1
            sent[(i, seqs[i])] = time.time()
            stack.publish(client, runs[i], seqs[i])
            n += 1
        lag = (n / rate) - (time.monotonic() - start)
        if lag > 0:
            time.sleep(lag)
    sent["_rate"] = n / (time.monotonic() - start)


def ours(redis_url: str, work: Path):
    store = RunStore(redis.Redis.from_url(redis_url))

    def start():
        env = {"REDIS_URL": redis_url, "SECRET_KEY": "bench", "RECOVERY_INTERVAL": "0", "SSE_MAX_CONCURRENT": "20000",
               "WORKER_CONNECTIONS": "20000", "SSE_HEARTBEAT_INTERVAL": "20", "ACCESS_LOG": "",
               "DATA_CACHE_DIR": str(work / "cache")}
        server = AppServer(env=env, log_path=work / "ours.log", workers=1).start()
        return server, server.port, None

    def publish(client, run_id, seq):
        event = Event(run_id=run_id, seq=seq, ts=time.time(), type=EventType.STEP_PROGRESS, step_id="s",
                      data={"message": "bench"})
        store.append(event, publish=sse.message(event, FRAGMENT))

    return Stack("this app: flask-sse subclass, gunicorn + gevent, 1 worker", start,
                 lambda run_id: f"/analyses/{run_id}/events?after=0", publish)


def stock(redis_url: str, work: Path):
    def start():
        env = {**os.environ, "REDIS_URL": redis_url}
        with socket_bound() as (sock, port):
            proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-k", "gevent", "--worker-connections", "20000",
                                     "-w", "1", "--bind", f"fd://{sock.fileno()}", "--no-control-socket",
                                     "bench.stacks.stock_flask_sse:app"], cwd=REPO, env=env,
                                    pass_fds=(sock.fileno(),), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return proc, port, None

    def publish(client, run_id, seq):
        client.publish(f"analysis:{run_id}", sse.message(Event(run_id, seq, time.time(), EventType.STEP_PROGRESS),
                                                         FRAGMENT)[1])

    return Stack("stock flask-sse 1.0, gunicorn + gevent, 1 worker", start,
                 lambda run_id: f"/stream?channel=analysis:{run_id}", publish)


def seed(redis_url: str, work: Path):
    def start():
        env = {**os.environ, "REDIS_URL": redis_url}
        with socket_bound() as (sock, port):
            proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--fd", str(sock.fileno()), "--log-level",
                                     "warning", "--no-access-log", "--backlog", "4096",
                                     "bench.stacks.fastapi_seed:app"], cwd=REPO, env=env, pass_fds=(sock.fileno(),))
        return proc, port, None

    return Stack("seed: FastAPI + sse-starlette + uvicorn, 1 process", start,
                 lambda run_id: f"/runs/{run_id}/events", stock(redis_url, work).publish)


class socket_bound:
    """A listening socket handed to the server process (as the tests do): no readiness polling."""

    def __enter__(self):
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4096)
        self.sock.set_inheritable(True)
        return self.sock, self.sock.getsockname()[1]

    def __exit__(self, *exc):
        self.sock.close()


def worker_pid(proc) -> int:
    process = getattr(proc, "process", proc)
    children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
    return int(children[0]) if children else process.pid


def measure(stack: Stack, runs: list[str], redis_url: str, args) -> dict:
    server, port, _ = stack.start()
    client = redis.Redis.from_url(redis_url, max_connections=10)
    loop = asyncio.new_event_loop()
    clients = Clients(port)
    try:
        # Any answer proves the worker is up and has loaded its app (the listening socket queues
        # the request until then); then the first subscriber, then the baseline memory.
        httpx.get(f"http://127.0.0.1:{port}/", timeout=60)
        loop.run_until_complete(clients.connect([stack.path(runs[0])]))
        loop.run_until_complete(asyncio.sleep(1))
        pid = worker_pid(server)
        base = rss_kb(pid)
        connect_s = loop.run_until_complete(clients.connect([stack.path(r) for r in runs[1:]], first=1))
        settle_s = settle(pid, loop)  # the server done setting streams up, before its memory is read
        held = clients.connected
        loaded = rss_kb(pid)
        sent: dict = {}
        gc.collect()
        gc.disable()  # the client's own collector pausing 10,000 tasks would show up as server latency
        cpu_before = cpu_seconds(pid)
        publisher = threading.Thread(target=publish_at_rate, args=(client, stack, runs, args.rate, args.seconds, sent))
        publisher.start()
        while publisher.is_alive():
            loop.run_until_complete(asyncio.sleep(0.05))
        loop.run_until_complete(asyncio.sleep(2))  # let the last events arrive
        cpu = cpu_seconds(pid) - cpu_before
        gc.enable()
        rate = sent.pop("_rate")
        latencies = [(clients.received[k] - t) * 1000 for k, t in sent.items() if k in clients.received]
        delivered = len(latencies) / max(1, len(sent))
        still = clients.connected
        loop.run_until_complete(clients.close())
    finally:
        loop.close()
        process = getattr(server, "process", server)
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
    latencies.sort()
    return {
        "held": held, "still_connected": still, "failed": dict(clients.failed), "connect_s": round(connect_s, 1),
        "settle_s": round(settle_s, 1),
        "rss_base_mb": round(base / 1024), "rss_loaded_mb": round(loaded / 1024),
        "kb_per_connection": round((loaded - base) / max(1, held - 1), 1),
        "publish_rate": round(rate), "delivered_pct": round(delivered * 100, 2),
        "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2) if latencies else None,
        "worker_cpu_pct": round(cpu / args.seconds * 100),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--stacks", nargs="+", default=["ours", "stock", "seed"])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-sse-"))
    store_server = EmbeddedRedis(work / "redis", persistent=False, maxclients=19_000)
    url = store_server.start()
    results = {}
    try:
        store = RunStore(redis.Redis.from_url(url))
        raw = (REPO / "test_data" / "alerts" / "wash_genuine_gldx.xml").read_bytes()
        alert = parse_alert(raw)
        runs = [store.create(alert, raw, filename="bench.xml").id for _ in range(args.clients)]
        factories = {"ours": ours, "stock": stock, "seed": seed}
        for key in args.stacks:
            stack = factories[key](url, work)
            print(f"--- {stack.name}", flush=True)
            results[stack.name] = measure(stack, runs, url, args)
            print(results[stack.name], flush=True)
            redis.Redis.from_url(url).execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    finally:
        store_server.stop()
    write_section("SSE fan-out", render(results, args))


def render(results: dict, args) -> str:
    lines = [f"Machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}; the clients, "
             "the publisher and Redis run on the same machine. Command: "
             f"`python -m bench.sse_fanout --clients {args.clients} --rate {args.rate} --seconds {args.seconds}`.",
             "", f"Each of {args.clients:,} clients watches its own run; {args.rate:,} events a second are published "
             "in total to random runs, each carrying a ~1 KB HTML fragment. Publishing starts once the server is "
             "idle after the connections (every stream subscribed and caught up); *delivered* counts events "
             "received by 2 s after the last publish.", "",
             "| stack | held | connected / idle after | memory per connection | publish→receipt p50 / p99 | "
             "delivered | worker CPU | failures |", "|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        failures = ", ".join(f"{k}: {v}" for k, v in r["failed"].items()) or "none"
        lines.append(f"| {name} | {r['held']:,} (still {r['still_connected']:,} at the end) | "
                     f"{r['connect_s']} s / {r['settle_s']} s more | "
                     f"{r['kb_per_connection']} KB ({r['rss_base_mb']} → {r['rss_loaded_mb']} MB) | "
                     f"{r['p50_ms']} / {r['p99_ms']} ms | {r['delivered_pct']}% at {r['publish_rate']}/s | "
                     f"{r['worker_cpu_pct']}% | {failures} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
