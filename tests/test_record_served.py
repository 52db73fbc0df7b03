"""The record under the served app (gunicorn + gevent), on SQLite and on PostgreSQL: a finished
run is written to the database and its pages render from there once Redis has let it go; the
audit trail of a case shows who did what; and a database call that has to wait does not hold
up anyone else's live events."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import redis
from httpx_sse import connect_sse

from tests.conftest import SAMPLES, Browser, server_env, terminal, until_followed
from tests.html import element, normalise
from tests.servers import CSRF, AppServer, provision
from webapp.embedded_redis import EmbeddedRedis
from webapp.keys import ACTIVE_RUNS, RUNS_INDEX, alert_key, events_key, followers_key, lease_key, run_key
from webapp.record import Database, audit, runs

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request, start_server, tmp_path_factory):
    """A one-worker server with a Redis and a record of its own (SQLite file or PostgreSQL), paced
    so that a run's events keep coming for a few seconds."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('served-record') / 'record' / 'analyzer.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"served_{id(request)}")
    record = provision(url)
    with EmbeddedRedis(tmp_path_factory.mktemp("served-redis"), persistent=False) as live:
        server = start_server(server_env(live.url, INSTANCE_NAME=f"record-{request.param}", DEMO_STEP_DELAY="0.25",
                                         RECOVERY_INTERVAL="0"), workers=1, name=f"record-{request.param}",
                              record=record)
        client = redis.Redis.from_url(live.url)
        yield request.param, server, client, record
        client.close()
        server.stop()


def _upload(server, name: str, role: str = "analyst") -> str:
    response = Browser(server, role).upload((SAMPLES / name).read_bytes(), name)
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def _saved(db: Database, run_id: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while (finished := runs.load(db, run_id)) is None:
        assert time.monotonic() < deadline, f"run {run_id} was never written to the record"
        time.sleep(0.05)  # polling a condition, with a deadline
    return finished


def test_a_finished_run_renders_from_the_record_once_redis_has_let_it_go(served):
    _kind, server, client, record = served
    run_id = _upload(server, "wash_genuine_gldx.xml")
    assert terminal(client, run_id).type == "run_completed"
    db = Database(record.database_url)
    try:
        finished = _saved(db, run_id)
        assert finished.fields["created_by"] == "test-analyst" and finished.events[-1].type == "run_completed"
        deadline = time.monotonic() + 30  # the run leaves the active set just after its record is written
        while client.sismember(ACTIVE_RUNS, run_id):
            assert time.monotonic() < deadline, "a saved run was never retired from the active set"
            time.sleep(0.05)

        with server.client() as http:
            live_page = http.get(f"/analyses/{run_id}").text
            live_json = http.get(f"/analyses/{run_id}.json").json()
            live_stor = http.get(f"/analyses/{run_id}/stor.txt").text
        # What RUN_TTL_SECONDS does to the live plane: the run is gone from Redis.
        client.delete(run_key(run_id), events_key(run_id), alert_key(run_id), lease_key(run_id),
                      followers_key(run_id))
        client.zrem(RUNS_INDEX, run_id)
        assert client.exists(run_key(run_id)) == 0

        with server.client() as http:
            page = http.get(f"/analyses/{run_id}")
            assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
            for element_id in ("run-header", "alert", "timeline", "decision"):
                if element(live_page, element_id) is not None:
                    assert normalise(element(page.text, element_id)) == normalise(element(live_page, element_id))
            assert "verdict verdict--escalate" in page.text and "sse-connect" not in page.text
            assert http.get(f"/analyses/{run_id}.json").json() == live_json
            assert http.get(f"/analyses/{run_id}/stor.txt").text == live_stor
            task = http.post("/a2a", headers={"A2A-Version": "1.0"}, json={
                "jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": run_id, "historyLength": 0}}).json()
            assert task["result"]["status"]["state"] == "TASK_STATE_COMPLETED"

        auditor = Browser(server, "auditor")
        trail = auditor.http.get("/audit", params={"case": finished.fields["alert_id"]})
        assert trail.status_code == 200
        case_entries = [e for e in audit.page(db, case_id=finished.fields["alert_id"]) if e.run_id == run_id]
        assert [(e.action, e.actor) for e in reversed(case_entries)][:2] == [("case.upload", "test-analyst"),
                                                                          ("run.finished", "system")]
        assert {"case.view", "case.download_json", "case.download_stor"} <= {e.action for e in case_entries}
        for entry in case_entries:
            assert f'id="audit-{entry.id}"' in trail.text
        assert audit.verify(db).ok
    finally:
        db.dispose()


class _Lock:
    """Hold the record's write lock from outside the app, as a long transaction elsewhere would:
    SQLite's (BEGIN IMMEDIATE) or, on PostgreSQL, the audit chain's head row."""

    def __init__(self, kind: str, url: str):
        self.kind, self.url = kind, url

    def __enter__(self):
        if self.kind == "sqlite":
            self.connection = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            self.connection.execute("BEGIN IMMEDIATE")
        else:
            self.connection = psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://"))
            self.connection.execute("SELECT * FROM audit_head WHERE id = 1 FOR UPDATE")
        return self

    def __exit__(self, *exc):
        self.connection.rollback()
        self.connection.close()


def test_a_database_call_that_waits_does_not_delay_other_streams_events(served):
    kind, server, client, record = served
    run_id = _upload(server, "insider_genuine_acme.xml")  # ~7 paced steps: events for a few seconds
    received: list[tuple[float, int]] = []
    streaming = threading.Event()

    def follow() -> None:
        with server.client(timeout=60) as http, connect_sse(http, "GET", f"/analyses/{run_id}/events") as source:
            for event in source.iter_sse():
                if event.id and event.event != "close":  # the close frame repeats the last id (SSE rules)
                    received.append((time.monotonic(), int(event.id)))
                    streaming.set()

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    assert streaming.wait(20)  # the stream was authorised (one database read) and is live
    until_followed(client, run_id)
    with ThreadPoolExecutor(1) as pool:
        with _Lock(kind, record.database_url):
            # Viewing a case writes its audit entry first: this request now waits on the lock.
            viewing = pool.submit(lambda: server.client(timeout=60).get(f"/analyses/{run_id}"))
            started = time.monotonic()
            deadline = started + 20
            while len([t for t, _seq in received if t > started]) < 3:
                assert time.monotonic() < deadline, "the live stream stalled while a database call waited"
                assert not viewing.done(), "the page did not wait for the record: this test would prove nothing"
                time.sleep(0.02)  # polling a condition, with a deadline
            assert not viewing.done()  # still waiting on the record, while the stream went on
        assert viewing.result(timeout=30).status_code == 200  # and it completes once the lock is gone
    assert terminal(client, run_id).type == "run_completed"
    reader.join(30)
    seqs = [seq for _t, seq in received]
    assert seqs == sorted(set(seqs))


def test_the_first_start_creates_an_administrator_and_prints_the_password_once(redis_url, tmp_path):
    env = server_env(redis_url, DATABASE_URL=f"sqlite:///{tmp_path / 'var' / 'record' / 'analyzer.sqlite3'}",
                     STATE_DIR=str(tmp_path / "var"), INSTANCE_NAME="first-start")
    first = AppServer(env=env, log_path=tmp_path / "first.log", workers=1).start()
    try:
        with first.client(role=None) as http:
            assert http.get("/healthz").status_code == 200  # up (it prints before it forks its workers)
        password = re.search(r"^ {4}password: (\S+)$", first.log_text(), re.M).group(1)
        assert "username: admin" in first.log_text()
        with first.client(role=None, follow_redirects=True) as http:
            form = http.get("/login")
            landing = http.post("/login", data={"csrf_token": CSRF.search(form.text).group(1), "username": "admin",
                                                "password": password})
            assert landing.url.path == "/admin/users" and 'id="signed-in-as"' in landing.text
    finally:
        first.stop()
    again = AppServer(env=env, log_path=tmp_path / "again.log", workers=1).start()
    try:
        with again.client(role=None) as http:
            assert http.get("/healthz").status_code == 200
        assert "password:" not in again.log_text()  # once only
    finally:
        again.stop()
