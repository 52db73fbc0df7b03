"""Streams under faults, with real processes: reconnects, kill -9, SIGTERM, a Redis restart,
several instances, cancel, the concurrency cap, dead clients and channel isolation.

Tests wait on the run's own log (XREAD BLOCK on its Redis Stream) or on the stream itself,
never on sleeps. These servers share a Redis of their own, so only they recover each other's
runs: short leases and sweeps (LEASE_TTL=1.5 s, RECOVERY_INTERVAL=0.3 s) keep this quick.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import threading
import time

import httpx
import pytest
import redis
from httpx_sse import connect_sse
from playwright.sync_api import expect

from agents.events import Event
from tests.conftest import (
    ANALYSIS_URL,
    SAMPLES,
    Browser,
    asking_the_model,
    log_of,
    server_env,
    snapshot,
    terminal,
    until_followed,
    upload_in_browser,
    wait_for,
)
from tests.fake_openai import Decide, FakeOpenAI
from webapp.embedded_redis import EmbeddedRedis
from webapp.keys import followers_key, lease_key

pytestmark = pytest.mark.e2e

FAST_RECOVERY = {"LEASE_TTL": "1.5", "RECOVERY_INTERVAL": "0.3", "SSE_HEARTBEAT_INTERVAL": "0.5"}
PACED = {**FAST_RECOVERY, "DEMO_STEP_DELAY": "0.15"}


@pytest.fixture(scope="module")
def streams_redis(tmp_path_factory):
    with EmbeddedRedis(tmp_path_factory.mktemp("streams-redis"), persistent=False) as server:
        yield server


@pytest.fixture
def rds(streams_redis):
    client = redis.Redis.from_url(streams_redis.url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def instance_a(start_server, streams_redis):
    return start_server(server_env(streams_redis.url, INSTANCE_NAME="instance-a", **PACED), name="a")


@pytest.fixture(scope="module")
def instance_b(start_server, streams_redis):
    return start_server(server_env(streams_redis.url, INSTANCE_NAME="instance-b", **PACED), name="b")


@pytest.fixture(scope="module")
def fake_llm():
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gated_redis(tmp_path_factory):
    """The gated server's own Redis: its runs hold scripted model replies, so no other server may
    resume them (or it theirs, which would take a reply scripted for a test)."""
    with EmbeddedRedis(tmp_path_factory.mktemp("gated-redis"), persistent=False) as server:
        yield server


@pytest.fixture
def grds(gated_redis):
    client = redis.Redis.from_url(gated_redis.url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def gated_server(start_server, gated_redis, fake_llm):
    """One worker whose analyst (the fake LLM) answers only when a test opens the gate."""
    env = server_env(gated_redis.url, INSTANCE_NAME="gated", OPENAI_API_KEY="k", OPENAI_BASE_URL=fake_llm.url,
                     LLM_TIMEOUT="60", SSE_MAX_CONCURRENT="2", **FAST_RECOVERY)
    return start_server(env, workers=1, name="gated")


# ----------------------------------------------------------------------------- helpers

def upload(server, name: str = "insider_genuine_acme.xml") -> str:
    response = Browser(server).upload((SAMPLES / name).read_bytes(), name)
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def assert_gap_free(events: list[Event]) -> None:
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[-1].is_terminal and sum(e.is_terminal for e in events) == 1


def owner_pid(client, run_id) -> int:
    owner = client.get(lease_key(run_id)).decode()
    return int(owner.split(":")[1])


def sse_events(server, run_id, *, last_event_id=None, after=None, limit=None):
    """Read events from one connection: until the stream ends, or ``limit`` events then hang up."""
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    params = {"after": after} if after is not None else {}
    got = []
    with server.client(timeout=30) as http, connect_sse(http, "GET", f"/analyses/{run_id}/events",
                                                        headers=headers, params=params) as source:
        for event in source.iter_sse():
            if event.event == "message" and not event.data:
                continue  # the retry: frame
            got.append(event)
            if limit is not None and len(got) >= limit:
                break  # hang up mid-stream, as a dropped connection would
    return got


# ----------------------------------------------------------------------------- replay

def test_reconnecting_with_last_event_id_at_random_points_loses_nothing(instance_a, rds):
    run_id = upload(instance_a, "wash_genuine_gldx.xml")
    rng = random.Random(4)
    received, last, connections = [], 0, 0
    while True:
        batch = sse_events(instance_a, run_id, last_event_id=last, limit=rng.randint(1, 6))
        connections += 1
        received += [e for e in batch if e.event != "close"]
        if received:
            last = int(received[-1].id)
        if batch and batch[-1].event == "close":
            break
    assert connections > 3
    assert [int(e.id) for e in received] == [e.seq for e in log_of(rds, run_id)]
    assert received[-1].event == "run_completed"


def test_htmx_style_reconnects_repeat_events_but_fragments_are_identical(instance_a, rds):
    """The htmx extension reconnects to the page's URL (?after=) with no Last-Event-ID."""
    run_id = upload(instance_a, "spoofing_genuine_flux.xml")
    wait_for(rds, run_id, lambda e: e.seq >= 3)
    first = sse_events(instance_a, run_id, after=2, limit=4)
    second = sse_events(instance_a, run_id, after=2)  # the same cursor again, to the end
    assert [e.id for e in first] == [e.id for e in second[:4]]
    assert [e.data for e in first] == [e.data for e in second[:4]]  # replays are byte-identical
    ids = [int(e.id) for e in second if e.event != "close"]
    assert ids == list(range(3, 3 + len(ids))) and second[-1].event == "close"


# ----------------------------------------------------------------------------- crashes

def test_kill_9_of_the_worker_running_an_analysis(instance_a, rds):
    run_id = upload(instance_a, "insider_genuine_acme.xml")
    wait_for(rds, run_id, lambda e: e.step_id == "insider_dealing.trader_history")
    victim = owner_pid(rds, run_id)
    assert victim in instance_a.worker_pids()
    os.kill(victim, signal.SIGKILL)

    assert terminal(rds, run_id).type == "run_completed"
    events = log_of(rds, run_id)
    assert_gap_free(events)
    resumed = [e for e in events if e.type == "run_resumed"]
    assert len(resumed) == 1 and f"(worker {victim})" not in resumed[0].data["message"]
    owner = rds.get(lease_key(run_id))  # released right after the terminal event, or about to be
    assert owner is None or f":{victim}:" not in owner.decode()
    html = instance_a.client().get(f"/analyses/{run_id}").text
    assert "Resumed on " in html and "attempt 2" in html  # by whichever worker got there first
    assert "verdict verdict--escalate" in html


def test_a_whole_instance_killed_mid_run_is_resumed_by_another(start_server, streams_redis, instance_b, rds):
    doomed = start_server(server_env(streams_redis.url, INSTANCE_NAME="doomed", **PACED), name="doomed")
    run_id = upload(doomed, "wash_ambiguous_trvl.xml")
    wait_for(rds, run_id, lambda e: e.step_id == "wash_trade.account_relationships")
    os.killpg(doomed.process.pid, signal.SIGKILL)  # master and workers at once
    doomed.process.wait()

    assert terminal(rds, run_id).type == "run_completed"
    events = log_of(rds, run_id)
    assert_gap_free(events)
    resumed = next(e for e in events if e.type == "run_resumed")
    assert "Resumed on doomed" not in resumed.data["message"]
    # Watch it on the survivor: the whole log, then close.
    assert [int(e.id) for e in sse_events(instance_b, run_id, after=0)[:-1]] == [e.seq for e in events]


def test_sigterm_hands_runs_back_and_ends_streams_for_reconnection(start_server, streams_redis, instance_b, rds):
    leaving = start_server(server_env(streams_redis.url, INSTANCE_NAME="leaving", **PACED), name="leaving")
    run_id = upload(leaving, "insider_genuine_acme.xml")
    received, signalled = [], False
    with leaving.client(timeout=30) as http, connect_sse(http, "GET", f"/analyses/{run_id}/events") as source:
        for event in source.iter_sse():
            if event.event == "message" and not event.data:
                continue
            received.append(event)
            if event.event == "step_started" and len(received) > 3 and not signalled:
                signalled = True
                leaving.process.send_signal(signal.SIGTERM)
    # The stream ended without `close`: a browser would reconnect, here to the other instance.
    assert received and received[-1].event != "close"
    assert leaving.process.wait(timeout=20) == 0  # a clean exit, well inside the graceful timeout
    rest = sse_events(instance_b, run_id, last_event_id=int(received[-1].id))
    assert rest[-1].event == "close" and rest[-2].event == "run_completed"
    events = log_of(rds, run_id)
    assert_gap_free(events)
    assert [int(e.id) for e in received + rest[:-1]] == [e.seq for e in events]
    resumed = next(e for e in events if e.type == "run_resumed")
    assert "Resumed on leaving" not in resumed.data["message"]


def test_redis_restart_mid_run_loses_no_acknowledged_event(start_server, tmp_path_factory):
    durable = EmbeddedRedis(tmp_path_factory.mktemp("durable-redis"), fsync="always")
    durable.start()
    try:
        server = start_server(server_env(durable.url, INSTANCE_NAME="durable", **PACED), workers=1, name="durable")
        client = redis.Redis.from_url(durable.url)
        run_id = upload(server, "spoofing_genuine_flux.xml")
        seen = wait_for(client, run_id, lambda e: e.step_id == "spoofing.order_episode").seq
        durable.kill()   # a crash, not a clean shutdown
        durable.start()  # the same data directory and socket
        assert terminal(client, run_id).type == "run_completed"
        events = log_of(client, run_id)
        assert_gap_free(events)
        assert len(events) > seen
        # A browser that reconnects afterwards gets everything after its cursor.
        rest = sse_events(server, run_id, last_event_id=seen)
        assert [int(e.id) for e in rest[:-1]] == [e.seq for e in events if e.seq > seen]
    finally:
        durable.stop()


# ----------------------------------------------------------------------------- instances and cancel

def test_upload_on_one_instance_watch_and_cancel_on_the_other(instance_a, instance_b, rds):
    analyst = Browser(instance_b)  # signed in and holding a form token before the run starts
    run_id = upload(instance_a, "insider_false_positive_nova.xml")
    wait_for(rds, run_id, lambda e: e.type == "step_started")
    cancelled = analyst.http.post(f"/analyses/{run_id}/cancel", data={"csrf_token": analyst.token},
                                  headers={"HX-Request": "true"})
    assert cancelled.status_code == 204
    watched = sse_events(instance_b, run_id, after=0)
    assert [e.event for e in watched[-2:]] == ["run_cancelled", "close"]
    events = log_of(rds, run_id)
    assert_gap_free(events)
    assert events[-1].type == "run_cancelled" and not any(e.type == "decision" for e in events)
    html = instance_a.client().get(f"/analyses/{run_id}").text
    assert "Analysis cancelled" in html and 'data-status="cancelled"' in html


def test_cancel_interrupts_a_step_that_is_blocked(gated_server, fake_llm, grds):
    gate = threading.Event()
    fake_llm.push(Decide(gate=gate))
    try:
        run_id = upload(gated_server)
        wait_for(grds, run_id, asking_the_model)  # the model holds its answer
        session = Browser(gated_server)
        response = session.http.post(f"/analyses/{run_id}/cancel", data={"csrf_token": session.token,
                                                                          "confirmed": "yes"})
        assert response.status_code == 303
        assert terminal(grds, run_id, timeout=5).type == "run_cancelled"
        assert not gate.is_set()  # it ended while the model still had not answered
    finally:
        gate.set()


@pytest.fixture(scope="module")
def slow_server(start_server, gated_redis):
    """Every step pauses for 3 s (DEMO_STEP_DELAY): a cancel that reached only the greenlet
    streaming the graph would let the specialist's remaining steps run (about 15 s) first."""
    env = server_env(gated_redis.url, INSTANCE_NAME="slow", DEMO_STEP_DELAY="3", **FAST_RECOVERY)
    return start_server(env, workers=1, name="slow")


def test_cancel_stops_a_step_inside_the_specialist_subgraph(slow_server, grds):
    run_id = upload(slow_server)
    step = "insider_dealing.trader_profile"  # a node of the specialist's graph, nested in the orchestrator's
    wait_for(grds, run_id, lambda e: e.type == "step_started" and e.step_id == step)
    session = Browser(slow_server)
    assert session.http.post(f"/analyses/{run_id}/cancel", data={"csrf_token": session.token,
                                                                 "confirmed": "yes"}).status_code == 303
    assert terminal(grds, run_id).type == "run_cancelled"
    events = log_of(grds, run_id)
    assert_gap_free(events)
    assert not [e for e in events if e.step_id == step and e.type != "step_started"]  # it never finished
    assert not [e for e in events if e.type == "step_started" and e.step_id != "orchestrator.triage"
                and e.step_id != step]  # and no step began after it


def test_live_events_keep_coming_when_redis_forgets_who_follows(gated_server, fake_llm, grds):
    """Events are published only while the run's followers hash says someone follows it. If Redis
    loses that (a failover, a restart without the latest writes) it also drops the workers'
    connections: a worker's hub then writes its entries again before its streams re-read the log."""
    gate = threading.Event()
    fake_llm.push(Decide(gate=gate))
    try:
        run_id = upload(gated_server)
        held = wait_for(grds, run_id, asking_the_model)  # the model holds its answer
        with gated_server.client(timeout=30) as http, connect_sse(
                http, "GET", f"/analyses/{run_id}/events", params={"after": 0}) as source:
            received = source.iter_sse()
            ids = []
            for event in received:
                if event.data and event.event != "close":
                    ids.append(int(event.id))
                if ids and ids[-1] >= held.seq:
                    break
            key = followers_key(run_id)
            assert grds.hlen(key) == 1
            grds.delete(key)
            grds.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
            until_followed(grds, run_id)  # the hub reconnects and says again that it follows the run
            gate.set()
            rest = [e for e in received if e.data or e.event != "message"]
        assert rest[-1].event == "close"
        ids += [int(e.id) for e in rest[:-1]]
        assert ids == [e.seq for e in log_of(grds, run_id)]  # to the end, in order, no gap, no repeat
        assert log_of(grds, run_id)[-1].type == "run_completed"
    finally:
        gate.set()


# ----------------------------------------------------------------------------- stream hygiene

def test_first_comment_at_once_heartbeats_and_concurrency_cap(gated_server, fake_llm, grds):
    gate = threading.Event()
    fake_llm.push(Decide(gate=gate))
    streams = []
    try:
        run_id = upload(gated_server)
        wait_for(grds, run_id, asking_the_model)
        for _ in range(2):  # SSE_MAX_CONCURRENT=2 on this one-worker server
            http = gated_server.client(timeout=10)
            response = http.send(http.build_request("GET", f"/analyses/{run_id}/events",
                                                    params={"after": 10_000}), stream=True)
            streams.append((http, response))
            lines = response.iter_lines()
            assert next(lines) == f": run {run_id}"  # flushed before anything happened
            assert next(lines).startswith("retry: ")
            assert next(lines) == ""
            assert next(lines) == ": heartbeat"  # nothing new for SSE_HEARTBEAT_INTERVAL
        refused = gated_server.client().get(f"/analyses/{run_id}/events")
        assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
        assert "Too many live streams" in refused.text
    finally:
        gate.set()
        for http, response in streams:
            response.close()
            http.close()
    wait_for_open_streams(gated_server, 0)  # hung-up clients are released at the next heartbeat


def _open_streams(server) -> float:
    metrics = server.client().get("/metrics").text
    return float(re.search(r"^saa_sse_streams_open (\S+)$", metrics, re.M).group(1))


def wait_for_open_streams(server, expected: float, timeout: float = 10.0) -> None:
    """Bounded wait for the one-worker server to count ``expected`` open streams."""
    deadline = time.monotonic() + timeout
    while _open_streams(server) != expected:
        assert time.monotonic() < deadline, f"open streams never reached {expected}"
        time.sleep(0.1)


def test_a_dead_client_is_cleaned_up_at_the_next_heartbeat(gated_server, fake_llm, grds):
    gate = threading.Event()
    fake_llm.push(Decide(gate=gate))
    try:
        run_id = upload(gated_server)
        wait_for(grds, run_id, asking_the_model)
        before = _open_streams(gated_server)
        raw = socket.create_connection(("127.0.0.1", gated_server.port))
        token = gated_server.identity.tokens["analyst"]
        raw.sendall(f"GET /analyses/{run_id}/events?after=10000 HTTP/1.1\r\nHost: x\r\n"
                    f"Authorization: Bearer {token}\r\n\r\n".encode())
        raw.settimeout(10)
        received = b""
        while b": run " not in received:  # headers and the first comment may come in separate reads
            chunk = raw.recv(4096)
            assert chunk, "the server closed the stream"
            received += chunk
        wait_for_open_streams(gated_server, before + 1)  # counted just after the first comment is sent
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        raw.close()  # reset: the client is gone without a goodbye
        wait_for_open_streams(gated_server, before)
    finally:
        gate.set()


def test_a_stream_only_ever_carries_its_own_run(instance_a, rds):
    first = upload(instance_a, "wash_genuine_gldx.xml")
    second = upload(instance_a, "insider_genuine_acme.xml")
    with instance_a.client(timeout=30) as http, connect_sse(
            http, "GET", f"/analyses/{first}/events", params={"after": 0, "channel": f"analysis:{second}"}) as src:
        received = [e for e in src.iter_sse() if e.data and e.event != "close"]
    assert [int(e.id) for e in received] == [e.seq for e in log_of(rds, first)]
    assert all("WT-2024-0612-001" in e.data and "ITA-2024-0313-001" not in e.data for e in received)
    assert terminal(rds, second).type == "run_completed"
    with httpx.Client(base_url=instance_a.url) as http:
        assert http.get("/stream", params={"channel": f"analysis:{second}"}).status_code == 404


@pytest.mark.browser
def test_the_browser_reconnects_by_itself_after_its_worker_dies(start_server, streams_redis, rds, page,
                                                                 page_errors):
    # A second per step: the worker must die mid-run however slowly the page loads under load.
    server = start_server(server_env(streams_redis.url, INSTANCE_NAME="solo", **{**PACED, "DEMO_STEP_DELAY": "1"}),
                          workers=1, name="solo")
    # The only errors are the dropped stream this test causes (htmx's sseError event, the cut response).
    page_errors.tolerate(r"^(uncaught|console): \[object Event\]$|ERR_INCOMPLETE_CHUNKED_ENCODING")
    upload_in_browser(page, server.url, SAMPLES / "insider_genuine_acme.xml")
    page.wait_for_url(ANALYSIS_URL)
    run_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("#timeline .step--done").nth(1)).to_be_visible(timeout=20_000)  # two steps done
    assert page.locator("#decision .verdict").count() == 0  # and the run still going
    [worker] = server.worker_pids()
    os.kill(worker, signal.SIGKILL)  # the page's stream and the run die with it
    # gunicorn starts a new worker; its recovery resumes the run; the page reconnects on its own.
    expect(page.locator("#run-header .notice")).to_contain_text("Resumed on", timeout=30_000)
    expect(page.locator("#decision .verdict")).to_have_text("ESCALATE", timeout=30_000)
    assert_gap_free(log_of(rds, run_id))
    live = snapshot(page)
    page.reload()
    assert snapshot(page) == live
    assert page_errors == []
