"""Redis outages against real processes: a Redis server killed (SIGKILL) under a gunicorn + gevent
server while analyses run, for 90 s and then restarted, and for longer than the test.

What must hold: workers keep serving (/healthz, a clear 503 page, /readyz 503 without saying where
Redis is), no worker spins or blocks (gunicorn would kill a worker that stops notifying it; CPU
time stays near zero), a worker boots without Redis, and once Redis is back the interrupted runs
complete with an intact log and every stream catches up — without restarting anything.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time

import httpx
import pytest
import redis
from httpx_sse import connect_sse
from playwright.sync_api import expect

from tests.conftest import SAMPLES, Browser, log_of, server_env, sign_in_browser, terminal, wait_for
from tests.expected_determinations import EXPECTED
from tests.servers import AppServer
from webapp.embedded_redis import EmbeddedRedis
from webapp.outage import STORE_DOWN

pytestmark = pytest.mark.e2e

OUTAGE = 90.0  # seconds: longer than the runner's REDIS_OUTAGE, the lease TTL and every backoff cap
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of the test's own, persistent (append-only, fsync always) so a restart keeps the runs."""
    with EmbeddedRedis(tmp_path / "redis", persistent=True, fsync="always") as server:
        yield server


def outage_server(start_server, own_redis, name: str, workers: int = 2, **extra: str):
    # A worker that stops notifying gunicorn for 10 s (blocked, or spinning without yielding) is killed
    # and replaced: its pid changing is how a test sees it. No SECRET_KEY: workers generate and share
    # one through a file, not through Redis, so they can boot while Redis is down.
    env = server_env(own_redis.url, DEMO_STEP_DELAY="0.3", GUNICORN_TIMEOUT="10", RECOVERY_INTERVAL="2",
                     SECRET_KEY="", STATE_DIR=str(own_redis.directory.parent / "state"),
                     GEVENT_MONITOR_THREAD_ENABLE="true", GEVENT_MAX_BLOCKING_TIME="0.1", **extra)
    server = start_server(env, workers=workers, name=name)
    with server.client() as http:  # the workers are up (the listen socket queued this until then)
        assert http.get("/healthz").status_code == 200
    deadline = time.monotonic() + 30
    while len(server.worker_pids()) < workers:
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.05)
    return server


# The loops that retry Redis, by file and function: one of them in a blocked stack kept the hub from running.
RETRY_LOOPS = re.compile(r'(keeper\.py", line \d+, in keep|runner\.py", line \d+, in _with_retry|/tenacity/'
                         r'|feed\.py", line \d+, in (_resync|_write_announcements|_refresh)'
                         r'|subscriber\.py", line \d+, in (_run|_remap_forever)'
                         r'|lifecycle\.py", line \d+, in _sweep_forever|workqueue\.py", line \d+, in _loop)$', re.M)


# gevent's monitor report header: "<ctime> : Greenlet <...> appears to be blocked" (to the second).
BLOCK_REPORT = re.compile(r"^(.+?) : Greenlet .* appears to be blocked$", re.M)
RECURRING_SECONDS = 3


def hub_blocks(log: str) -> list[str]:
    """Stacks that gevent's monitor thread found holding the hub (GEVENT_MAX_BLOCKING_TIME, 100 ms here)
    in a Redis retry loop, or importing a module after the worker had booted.

    A retry loop that blocks (a blocking sleep or connect) or spins does so at every retry, all through
    the outage: it is reported again and again, over many seconds. On a loaded machine a worker that is
    simply not given a core for 100 ms is reported too, wherever it was — once, or a few times within a
    second or two — and a worker importing the app while it boots always is. So a retry loop counts when
    its reports fall in RECURRING_SECONDS distinct seconds or more; an import after boot counts at once."""
    headers = list(BLOCK_REPORT.finditer(log))
    seconds: dict[str, set[str]] = {}
    found = []
    for header, following in zip(headers, [*headers[1:], None], strict=True):
        report = log[header.end():following.start() if following else len(log)]
        stack = report.split("Blocked Stack", 1)[-1].split("*" * 20, 1)[0]
        if "in init_process" in stack:  # the worker booting: importing the app, post_worker_init
            continue
        if "<frozen importlib._bootstrap" in stack:
            found.append(stack)
        elif (loop := RETRY_LOOPS.search(stack)) is not None:
            seconds.setdefault(loop.group(0), set()).add(header.group(1))
    return found + [f"{loop} blocked the hub at {', '.join(sorted(when))}" for loop, when in seconds.items()
                    if len(when) >= RECURRING_SECONDS]


def start_run(session: Browser, name: str) -> str:
    response = session.upload((SAMPLES / name).read_bytes(), name)
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def assert_degraded(http: httpx.Client, run_id: str, redis_path: str) -> None:
    """What a client sees while Redis is down: the service is up and says so clearly."""
    assert http.get("/healthz").status_code == 200
    ready = http.get("/readyz")
    assert ready.status_code == 503 and ready.json() == {"status": "unavailable", "redis": "unreachable"}
    assert redis_path not in ready.text and "sock" not in ready.text
    for path in ("/", f"/analyses/{run_id}"):
        page = http.get(path)
        assert page.status_code == 503 and page.headers["content-type"].startswith("text/html"), path
        assert page.headers["retry-after"] and "Your analyses are safe" in page.text, path
        assert redis_path not in page.text
    report = http.get(f"/analyses/{run_id}.json")
    assert report.status_code == 503 and report.json()["message"] == STORE_DOWN
    # On a connection of its own: a refused stream's connection is shut once answered (webapp/sse.py).
    events = httpx.get(str(http.base_url).rstrip("/") + f"/analyses/{run_id}/events", auth=http.auth, timeout=10)
    assert events.status_code == 503 and events.headers["retry-after"]
    rpc = http.post("/a2a", json={"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": run_id}},
                    headers={"A2A-Version": "1.0"})
    assert rpc.status_code == 503 and rpc.json()["error"]["code"] == -32603, rpc.text
    assert "Retry shortly" in rpc.json()["error"]["message"]


class Follower(threading.Thread):
    """An SSE client that follows a run to its end the way EventSource does: on a dropped stream
    or a 503 it reconnects with Last-Event-ID."""

    def __init__(self, server: AppServer, run_id: str):
        super().__init__(daemon=True)
        self.server, self.run_id = server, run_id
        self.ids: list[int] = []
        self.closed = threading.Event()
        self.reconnects = 0

    def run(self) -> None:
        headers: dict[str, str] = {}
        while not self.closed.is_set():
            try:
                with self.server.client(timeout=30) as http, connect_sse(
                        http, "GET", f"/analyses/{self.run_id}/events", headers=headers) as source:
                    if source.response.status_code == 200:
                        for event in source.iter_sse():
                            if event.event == "close":
                                self.closed.set()
                                return
                            if event.data:  # httpx-sse also yields heartbeat comments, repeating the last id
                                self.ids.append(int(event.id))
                                headers = {"Last-Event-ID": event.id}
            except httpx.HTTPError:
                pass
            self.reconnects += 1
            time.sleep(1.0)  # EventSource's retry interval, as the server's `retry:` asks


@pytest.mark.outage
@pytest.mark.browser
# The suite's watchdog (120 s) is shorter than this test's own plan: 90 s of outage, then up to 60 s
# for the runs to end and 60 s for the page, each bounded below. Seeded run 2111644372 on a loaded
# machine hit the watchdog during the page's wait, inside those bounds.
@pytest.mark.timeout(OUTAGE + 150)
def test_a_90_second_redis_outage_mid_run_is_ridden_out(start_server, own_redis, redis_url, chromium):
    server = outage_server(start_server, own_redis, "outage-90")
    session = Browser(server)
    followed = start_run(session, "insider_genuine_acme.xml")
    unwatched = start_run(session, "wash_genuine_gldx.xml")
    follower = Follower(server, followed)
    follower.start()
    client = redis.Redis.from_url(own_redis.url)
    for run_id in (followed, unwatched):  # both are mid-run: a few steps done, more to come
        wait_for(client, run_id, lambda e: e.type == "step_completed")
    client.close()
    pids = server.worker_pids()
    cpu_before = {pid: cpu_seconds(pid) for pid in pids}

    context = chromium.new_context()
    sign_in_browser(context, server)  # an analyst signed in before the outage stays signed in through it
    page = context.new_page()
    own_redis.kill()
    down_since = time.monotonic()
    try:
        page.goto(f"{server.url}/analyses/{followed}")
        assert "Your analyses are safe" in page.inner_text("main")
        with server.client(timeout=10) as http:
            while (elapsed := time.monotonic() - down_since) < OUTAGE:  # the outage lasts 90 s of real time
                assert_degraded(http, followed, str(own_redis.socket))
                assert server.worker_pids() == pids, f"a worker was replaced {elapsed:.0f} s into the outage"
                time.sleep(1.0)  # what an operator's probe would do: look once a second
        cpu_during = {pid: cpu_seconds(pid) - cpu_before[pid] for pid in pids}
        own_redis.start()  # same directory, same socket: the append-only file brings the runs back

        client = redis.Redis.from_url(own_redis.url)
        for run_id, name in ((followed, "insider_genuine_acme.xml"), (unwatched, "wash_genuine_gldx.xml")):
            end = terminal(client, run_id, timeout=60)
            assert end.type == "run_completed", (run_id, end)
            log = log_of(client, run_id)
            assert [e.seq for e in log] == list(range(1, len(log) + 1))  # no gap, no duplicate
            decision = next(e for e in log if e.type == "decision")
            assert decision.data["determination"] == EXPECTED[name][0]
        follower.join(timeout=60)
        assert follower.closed.is_set(), "the stream never reached its end"
        assert follower.ids == sorted(set(follower.ids)) and follower.ids[-1] == len(log_of(client, followed))
        # The page that showed the 503 refreshed itself and now shows the determination, live.
        page.wait_for_selector("#decision .verdict", timeout=60_000)
        with server.client() as http:
            assert http.get("/readyz").json() == {"status": "ready"}
        client.close()
    finally:
        context.close()
    assert server.worker_pids() == pids  # nothing was restarted
    for pid, used in cpu_during.items():  # spinning on connect() would use the whole outage
        assert used < 0.1 * OUTAGE, f"worker {pid} used {used:.1f} s of CPU while Redis was down"
    assert "WORKER TIMEOUT" not in server.log_text()
    assert hub_blocks(server.log_text()) == []


@pytest.mark.browser
def test_an_outage_that_outlasts_the_test_leaves_the_service_up_and_degraded(start_server, own_redis, page,
                                                                             page_errors):
    server = outage_server(start_server, own_redis, "outage-forever", workers=1, RATE_LIMIT_FALLBACK="4/minute")
    session = Browser(server)
    page_errors.allow(503, r"/analyses$")  # the upload during the outage, answered with the form
    sign_in_browser(page.context, server)  # this server's own secret key: the page signs in to it
    page.goto(server.url + "/analyses")  # an analyst has the upload page open when Redis goes
    run_id = start_run(session, "spoofing_genuine_flux.xml")
    client = redis.Redis.from_url(own_redis.url)
    wait_for(client, run_id, lambda e: e.type == "step_completed")
    client.close()
    [worker] = server.worker_pids()

    own_redis.kill()
    down_since = time.monotonic()
    cpu_before = cpu_seconds(worker)
    with server.client(timeout=10) as http:
        assert_degraded(http, run_id, str(own_redis.socket))
        page.set_input_files("#alert-file", str(SAMPLES / "wash_genuine_gldx.xml"))  # the form, through htmx
        page.check("#reinvestigate")
        page.click("#upload-form button[type=submit]")
        expect(page.locator("#upload-error")).to_contain_text("Your analyses are safe")
        upload = session.upload((SAMPLES / "wash_genuine_gldx.xml").read_bytes(), htmx=True)
        assert upload.status_code == 503 and 'id="upload-form"' in upload.text and "Retry shortly" in upload.text
        # The rate limits cannot count in Redis now: the worker counts in memory (RATE_LIMIT_FALLBACK, 4 here).
        more = [session.upload((SAMPLES / "wash_genuine_gldx.xml").read_bytes(), htmx=True).status_code
                for _ in range(3)]
        assert more == [503, 503, 429]
        # Longer than gunicorn's timeout here: a worker that stopped yielding would have been replaced.
        while time.monotonic() - down_since < 15:
            assert http.get("/healthz").status_code == 200
            time.sleep(0.5)
        assert server.worker_pids() == [worker]
        assert cpu_seconds(worker) - cpu_before < 1.5

        # A worker that starts while Redis is down boots and serves.
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while not (pids := server.worker_pids()) or pids == [worker]:
            assert time.monotonic() < deadline, "no replacement worker"
            time.sleep(0.1)
        # The request waits in the listen queue until the new worker has booted (slow on a loaded machine).
        assert http.get("/healthz", timeout=60).status_code == 200
        assert_degraded(http, run_id, str(own_redis.socket))
        assert server.worker_pids() == pids

    server.stop()  # SIGTERM with Redis still down: a clean, prompt exit
    assert server.process.returncode == 0
    assert "WORKER TIMEOUT" not in server.log_text()
    assert hub_blocks(server.log_text()) == []
