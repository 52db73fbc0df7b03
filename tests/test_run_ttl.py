"""RUN_TTL_SECONDS in the served app: a finished run's keys in Redis (the live plane) carry the TTL,
go when it runs out, and the run is then served from the record — page, JSON, STOR draft and A2A
task as they were; the TTL counts from the run's end, so a run that lasts longer than it still ends
and is recorded; a server without the setting keeps the keys."""

from __future__ import annotations

import time

import pytest
import redis

from tests.conftest import SAMPLES, Browser, log_of, server_env, terminal, wait_for
from tests.html import element, normalise
from webapp.embedded_redis import EmbeddedRedis
from webapp.keys import alert_key, events_key, run_key

pytestmark = pytest.mark.e2e

TTL = 3  # seconds: shorter than a run takes at this server's pace (DEMO_STEP_DELAY), short enough to wait for


@pytest.fixture(scope="module")
def ttl_server(start_server, tmp_path_factory):
    """One worker with RUN_TTL_SECONDS, on a Redis of its own (keys expiring under other tests' servers
    would be a surprise to them); the session's record."""
    with EmbeddedRedis(tmp_path_factory.mktemp("ttl-redis"), persistent=False) as live:
        server = start_server(server_env(live.url, RUN_TTL_SECONDS=str(TTL), RECOVERY_INTERVAL="0",
                                         DEMO_STEP_DELAY="0.6"), workers=1, name="ttl")
        client = redis.Redis.from_url(live.url)
        yield server, client
        client.close()
        server.stop()


def upload(server, name: str) -> str:
    session = Browser(server)
    response = session.upload((SAMPLES / name).read_bytes(), name)
    session.close()
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def read_all(server, run_id: str) -> dict:
    with server.client() as http:
        task = http.post("/a2a", headers={"A2A-Version": "1.0"}, json={
            "jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": run_id, "historyLength": 0}}).json()
        page = http.get(f"/analyses/{run_id}")
        assert page.status_code == 200
        return {"page": page.text, "json": http.get(f"/analyses/{run_id}.json").json(),
                "stor": http.get(f"/analyses/{run_id}/stor.txt").text, "task": task["result"]}


def test_a_finished_runs_keys_expire_after_the_ttl_and_its_page_comes_from_the_record(ttl_server):
    server, client = ttl_server
    started = time.monotonic()
    run_id = upload(server, "wash_genuine_gldx.xml")
    keys = (run_key(run_id), events_key(run_id), alert_key(run_id))
    wait_for(client, run_id, lambda e: e.type == "step_started")
    assert [client.pttl(key) for key in keys] == [-1, -1, -1]  # running: no expiry yet
    assert terminal(client, run_id).type == "run_completed"
    assert time.monotonic() - started > TTL  # it outlived the TTL, and its log was whole to the end
    assert [e.seq for e in log_of(client, run_id)] == list(range(1, len(log_of(client, run_id)) + 1))
    live = read_all(server, run_id)  # from Redis: the TTL has at most just started
    deadline = time.monotonic() + 10
    while min(client.pttl(key) for key in keys) < 0:  # set once the record holds the run
        assert time.monotonic() < deadline, "the finished run's keys were given no TTL"
        time.sleep(0.02)  # polling a condition, with a deadline
    assert all(0 < client.pttl(key) <= TTL * 1000 for key in keys)
    deadline = time.monotonic() + TTL + 10
    while client.exists(*keys):
        assert time.monotonic() < deadline, f"the run's keys outlived RUN_TTL_SECONDS={TTL}"
        time.sleep(0.1)  # polling a condition, with a deadline
    served = read_all(server, run_id)
    assert served["json"] == live["json"] and served["stor"] == live["stor"]
    assert served["task"]["status"] == live["task"]["status"] and served["task"]["artifacts"] == live["task"][
        "artifacts"]
    for element_id in ("run-header", "timeline", "decision"):
        assert element(live["page"], element_id) is not None, element_id
        assert normalise(element(served["page"], element_id)) == normalise(element(live["page"], element_id))
    assert "verdict verdict--escalate" in served["page"]


def test_without_the_setting_a_runs_keys_are_kept(live_server, redis_client):
    run_id = upload(live_server, "wash_false_positive_prsm.xml")
    assert terminal(redis_client, run_id).type == "run_completed"
    for key in (run_key(run_id), events_key(run_id), alert_key(run_id)):
        assert redis_client.pttl(key) == -1, key  # no expiry
