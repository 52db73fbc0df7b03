"""The run lifecycle in this process, against a real Redis of its own: cancelling a run no
worker owns, group commit, and a refused write stopping its run. (Real servers: test_streams.py.)"""

from __future__ import annotations

import time

import pytest

from tests.conftest import SAMPLES
from webapp.embedded_redis import EmbeddedRedis
from webapp.store import RunStore


@pytest.fixture
def stored_run(tmp_path):
    """The app in this process and a stored run nobody executes (no lease), to drive directly.
    In a Redis of its own: no server's recovery sweep may take the run, and no other test may
    find it (it ends without a decision)."""
    from agents.alerts import parse_alert
    from webapp.app import create_app
    from webapp.config import Settings

    server = EmbeddedRedis(tmp_path / "redis", persistent=False)
    server.start()
    try:
        app = create_app(Settings.from_env(redis_url=server.url, secret_key="x"))
        raw = (SAMPLES / "wash_genuine_gldx.xml").read_bytes()
        run = app.extensions["saa"].store.create(parse_alert(raw), raw, filename="direct.xml")
        with app.test_request_context("/"):
            yield app, run
    finally:
        server.stop()


def test_cancelling_a_run_that_no_worker_owns_ends_it(stored_run):
    from webapp import runner

    app, run = stored_run
    store: RunStore = app.extensions["saa"].store
    runner.cancel(app, run.id)
    events = store.events(run.id)
    assert [e.type for e in events] == ["run_cancelled"]
    assert store.get(run.id).status == "cancelled" and run.id not in store.active()
    assert store.lease_owner(run.id) is None


def test_events_emitted_together_are_written_in_one_round_trip(stored_run):

    from agents.events import EventType
    from webapp.runner import RunEmitter

    app, run = stored_run
    store: RunStore = app.extensions["saa"].store
    batches = []
    append = store.append
    store.append = lambda batch: batches.append(len(batch)) or append(batch)
    emitter = RunEmitter(app, run)
    for i in range(5):  # emit() does not wait for Redis: these five are made before any is written
        emitter.emit(EventType.STEP_PROGRESS, step_id="s", data={"message": f"m{i}"})
    assert store.events(run.id) == []
    emitter.flush()
    emitter.emit(EventType.RUN_COMPLETED, status="completed")
    emitter.flush()
    assert batches == [5, 1]
    assert [e.seq for e in store.events(run.id)] == [1, 2, 3, 4, 5, 6]
    assert [e.data.get("message") for e in store.events(run.id)][:5] == ["m0", "m1", "m2", "m3", "m4"]
    assert store.get(run.id).status == "completed" and store.get(run.id).last_seq == 6


def test_a_refused_write_stops_the_run_that_emitted_it(stored_run):
    import gevent

    from agents.events import Event, EventType
    from webapp.runner import RunEmitter
    from webapp.store import Append, StaleWriter

    app, run = stored_run
    store: RunStore = app.extensions["saa"].store
    target = gevent.spawn(gevent.sleep, 30)  # stands for the run's greenlet, busy elsewhere
    emitter = RunEmitter(app, run, on_failure=lambda exc: target.kill(exc, block=False))
    # Another worker took the run over and wrote seq 1 first.
    store.append([Append.of(Event(run_id=run.id, seq=1, ts=time.time(), type=EventType.RUN_RESUMED))])
    emitter.emit(EventType.RUN_STARTED, status="running")
    with pytest.raises(StaleWriter):
        emitter.flush()
    target.join(timeout=5)
    assert isinstance(target.exception, StaleWriter)  # the run stopped at once, not at its next emit
    assert [e.type for e in store.events(run.id)] == ["run_resumed"]


def test_an_append_that_would_leave_a_gap_is_refused_as_stale(stored_run):
    """A log that lost its last events (a failover to a replica that had not received them) is not
    written past: the writer stops, and the run is resumed from what the log holds."""
    from agents.events import Event, EventType
    from webapp.store import Append, StaleWriter

    app, run = stored_run
    store: RunStore = app.extensions["saa"].store
    store.append([Append.of(Event(run_id=run.id, seq=1, ts=time.time(), type=EventType.RUN_STARTED))])
    with pytest.raises(StaleWriter, match="gap"):
        store.append([Append.of(Event(run_id=run.id, seq=3, ts=time.time(), type=EventType.STEP_STARTED))])
    assert [e.seq for e in store.events(run.id)] == [1] and store.get(run.id).last_seq == 1
    store.append([Append.of(Event(run_id=run.id, seq=2, ts=time.time(), type=EventType.STEP_STARTED))])
    assert [e.seq for e in store.events(run.id)] == [1, 2]


def test_a_worker_that_is_stopping_hands_back_a_run_that_breaks_and_starts_no_other(stored_run, monkeypatch):
    """At interpreter exit LangGraph's executor refuses new work ("cannot schedule new futures after
    interpreter shutdown"): that is the worker leaving, not the run going wrong — the run is handed
    back for another worker (seed 1263753754 caught a run failed this way during a SIGTERM)."""
    from webapp import runner

    app, run = stored_run
    store: RunStore = app.extensions["saa"].store
    monkeypatch.setattr(runner._Process, "stopping", False)  # and back after the test, whatever it sets

    def leaving(*_args):
        runner.refuse_new_runs()
        raise RuntimeError("cannot schedule new futures after interpreter shutdown")

    monkeypatch.setattr(runner, "_analyse", leaving)
    runner.start(app, run.id).join(timeout=10)
    assert store.events(run.id) == [] and not store.get(run.id).finished  # not failed: handed back
    assert store.lease_owner(run.id) is None  # released at once, for the next worker
    assert runner.start(app, run.id) is None and store.lease_owner(run.id) is None  # it starts nothing now

    monkeypatch.setattr(runner._Process, "stopping", False)  # not leaving: the same error fails the run

    def broken(*_args):
        raise RuntimeError("cannot schedule new futures after interpreter shutdown")

    monkeypatch.setattr(runner, "_analyse", broken)
    runner.start(app, run.id).join(timeout=10)
    assert [e.type for e in store.events(run.id)] == ["run_failed"]


def test_a_worker_told_to_stop_while_booting_takes_no_run_and_a_second_shutdown_waits_for_the_first(
        stored_run, monkeypatch):
    """gunicorn installs its own SIGTERM handler before it loads the app: a signal that comes then
    only sets ``worker.alive`` to False, and the worker would go on to take runs it cannot finish."""
    import signal
    from types import SimpleNamespace

    from webapp import lifecycle, runner

    app, run = stored_run
    services = app.extensions["saa"]
    monkeypatch.setattr(runner._Process, "stopping", False)
    before = signal.getsignal(signal.SIGTERM)
    try:
        worker = SimpleNamespace(wsgi=app, cfg=SimpleNamespace(workers=1), alive=False)
        stopped = lifecycle.attach(worker)
        assert worker.saa_lifecycle is stopped and stopped.stopping and stopped.sweeper is None
        assert services.dispatcher is None  # nothing takes runs off the queue
        assert runner.start(app, run.id) is None and services.store.lease_owner(run.id) is None
        assert stopped.shutdown() == []  # worker_exit calls it again: it returns at once
    finally:
        signal.signal(signal.SIGTERM, before)
