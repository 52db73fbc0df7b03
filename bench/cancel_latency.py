"""Cancel latency in the served app: from the cancel request to ``run_cancelled`` on the stream.

Starts a Redis and one app instance (gunicorn + gevent, 2 workers) with DEMO_STEP_DELAY so that
each step takes a while, as an analyst would watch it. Each try uploads a sample through the
form, follows the run's SSE stream from the start with a real SSE client, sends the cancel (the
page's htmx POST) as soon as two steps have completed, and times from sending that request to
receiving ``run_cancelled`` on the stream. It also checks what the analyst sees: the step that
was running never completes and nothing starts after the cancel. The README promises 250 ms.

    python -m bench.cancel_latency              # 10 tries, results into BENCHMARKS.md
    python -m bench.cancel_latency --smoke      # 2 tries, nothing written (run by the test suite)
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from httpx_sse import connect_sse  # noqa: E402

from bench.report import UNLIMITED, write_section  # noqa: E402
from tests.conftest import SAMPLES, Browser  # noqa: E402
from tests.servers import AppServer  # noqa: E402
from webapp.embedded_redis import EmbeddedRedis  # noqa: E402

SAMPLE = "insider_genuine_acme.xml"  # seven steps: two done, the third running, four never started
TARGET_MS = 250


class Follower(threading.Thread):
    """Reads a run's SSE stream to its end, noting when each event arrived."""

    def __init__(self, server: AppServer, run_id: str, steps_before_cancel: int):
        super().__init__(daemon=True)
        self.server, self.run_id, self.wanted = server, run_id, steps_before_cancel
        self.events: list[tuple[str, float, str]] = []  # (event, arrival, data)
        self.ready = threading.Event()     # the wanted number of steps completed
        self.ended = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.server.client(timeout=60) as http, connect_sse(
                    http, "GET", f"/analyses/{self.run_id}/events", params={"after": 0}) as source:
                for sse in source.iter_sse():
                    self.events.append((sse.event, time.perf_counter(), sse.data))
                    if sum(e == "step_completed" for e, _, _ in self.events) >= self.wanted:
                        self.ready.set()
        except BaseException as exc:  # reported by the main thread
            self.error = exc
        finally:
            self.ready.set()
            self.ended.set()

    def arrival(self, event: str) -> float | None:
        return next((at for e, at, _ in self.events if e == event), None)


def one(server: AppServer, session: Browser, steps_before_cancel: int = 2) -> dict:
    response = session.upload((SAMPLES / SAMPLE).read_bytes(), SAMPLE)
    assert response.status_code == 303, response.text[:300]
    run_id = response.headers["location"].rsplit("/", 1)[1]
    follower = Follower(server, run_id, steps_before_cancel)
    follower.start()
    assert follower.ready.wait(60) and follower.error is None, follower.error
    sent = time.perf_counter()
    answer = session.http.post(f"/analyses/{run_id}/cancel", data={"csrf_token": session.token},
                               headers={"HX-Request": "true"})
    answered = time.perf_counter()
    assert answer.status_code == 204, answer.text[:300]
    assert follower.ended.wait(30) and follower.error is None, follower.error
    cancelled = follower.arrival("run_cancelled")
    assert cancelled is not None, f"the stream ended without run_cancelled: {[e for e, _, _ in follower.events]}"
    steps = [e for e, _, _ in follower.events]
    # The step running at the cancel never completes and none starts after it (the one starting as the
    # cancel was sent may still have announced itself).
    assert steps.count("step_started") <= steps.count("step_completed") + 1 and "decision" not in steps, steps
    return {"latency_ms": (cancelled - sent) * 1000, "answer_ms": (answered - sent) * 1000,
            "completed_steps": steps.count("step_completed"), "started_steps": steps.count("step_started")}


def measure(tries: int, step_delay: float, workdir: Path) -> list[dict]:
    store = EmbeddedRedis(workdir / "redis", persistent=False)
    store.start()
    env = {"REDIS_URL": store.url, "SECRET_KEY": "bench", "DATA_CACHE_DIR": str(workdir / "cache"), "ACCESS_LOG": "",
           "OPENAI_API_KEY": "", "DEMO_STEP_DELAY": str(step_delay), "SSE_HEARTBEAT_INTERVAL": "5", **UNLIMITED}
    server = AppServer(env=env, log_path=workdir / "server.log", workers=2).start()
    try:
        session = Browser(server)
        try:
            return [one(server, session) for _ in range(tries)]
        finally:
            session.close()
    finally:
        server.stop()
        store.stop()


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tries", type=int, default=10)
    parser.add_argument("--step-delay", type=float, default=0.6, help="DEMO_STEP_DELAY of the server, seconds")
    parser.add_argument("--smoke", action="store_true", help="2 tries, print only (the test suite's run)")
    args = parser.parse_args(argv)
    tries = 2 if args.smoke else args.tries
    work = Path(tempfile.mkdtemp(prefix="bench-cancel-"))
    results = measure(tries, args.step_delay, work)
    shutil.rmtree(work, ignore_errors=True)  # kept when a try failed: its server.log says why

    latencies = [r["latency_ms"] for r in results]
    median, worst = statistics.median(latencies), max(latencies)
    lines = [
        f"Machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}. Command: "
        f"`python -m bench.cancel_latency --tries {tries} --step-delay {args.step_delay}`.",
        f"One instance (gunicorn, 2 gevent workers), the offline analyst, DEMO_STEP_DELAY={args.step_delay} s. Each "
        f"try uploads {SAMPLE}, follows its SSE stream, and cancels (the page's htmx POST) once two steps have "
        "completed, as the third starts. *Cancel → run_cancelled* is the client's time from sending the "
        "cancel to receiving `run_cancelled` on the stream; *answer* is the POST's own response time. In every "
        "try the running step never completed and no other step started.", "",
        "| tries | cancel → run_cancelled, median | max | answer, median | target |",
        "|---|---|---|---|---|",
        f"| {tries} | {median:.0f} ms | {worst:.0f} ms | {statistics.median(r['answer_ms'] for r in results):.0f} ms | "
        f"≤ {TARGET_MS} ms {'✓' if worst <= TARGET_MS else '✗'} |",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.smoke:
        write_section("Cancel latency", body)
    return results


if __name__ == "__main__":
    main()
