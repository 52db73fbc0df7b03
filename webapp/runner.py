"""Run lifecycle: each analysis runs in its own gevent greenlet, under a lease.

The runner streams the orchestrator graph and turns every event into (1) an entry in the
run's Redis Stream, the durable log, and (2) one flask-sse publish on the run's channel
carrying the rendered HTML fragment and the event itself. Events are written by a writer
greenlet per run that sends whatever has accumulated in one round trip (group commit).

A run is owned through a lease that a keeper greenlet renews and that also hears
cancellation (webapp/keeper.py: it stops the run's steps too, even one blocked on the
network). If the worker dies, the lease expires and another worker's recovery sweep
(webapp/lifecycle.py) resumes the run; the stream's explicit ids fence a stale owner that
comes back (:class:`StaleWriter`). Redis calls are retried across a restart; appends are
idempotent, so a retried append whose reply was lost is not a duplicate.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

import gevent
import redis
from flask import Flask
from prometheus_client import Counter, Histogram
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_random_exponential

from agents.alerts import parse_alert
from agents.data import dataset
from agents.events import Event, EventType
from agents.orchestrator import Outcome, investigate
from webapp import cases
from webapp.keeper import (
    HandedBack,
    LeaseLost,
    LocalRun,
    RunCancelled,
    StepInterrupted,
    keep,
    local_runs,
    owner_token,
    register,
    ttl_ms,
)
from webapp.sse import sse
from webapp.store import Append, Run, StaleWriter
from webapp.timeline import fold, render_fragment

log = logging.getLogger(__name__)

REDIS_OUTAGE = 60.0  # how long a run rides out Redis being unreachable before it gives up

RUNS_FINISHED = Counter("saa_runs_finished_total", "Analyses finished", ["status", "determination"])
RUNS_RESUMED = Counter("saa_runs_resumed_total", "Analyses this worker took over from another")
RUN_SECONDS = Histogram("saa_run_seconds", "Time from run start to its terminal event",
                        buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300))
APPEND_SECONDS = Histogram("saa_event_append_seconds", "One group commit of a run's events (append + publish)",
                           buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5))
APPEND_EVENTS = Histogram("saa_event_append_batch_events", "Events written together in one group commit",
                          buckets=(1, 2, 3, 5, 8, 13, 21, 34))

PROGRESS_INTERVAL = 0.1  # a step's further progress within this of its last is not recorded: it is for people

# Full jitter, so that a worker's runs (and the workers of every instance) do not retry in step
# when Redis comes back; tenacity sleeps with time.sleep, which gevent makes a yield to the hub.
_riding_out_outage = retry(retry=retry_if_exception_type((redis.ConnectionError, redis.TimeoutError)),
                           wait=wait_random_exponential(multiplier=0.05, max=2), stop=stop_after_delay(REDIS_OUTAGE),
                           reraise=True)


def _with_retry(call, *args, **kwargs):
    """Call once; only if Redis is unreachable, retry with backoff (tenacity) for REDIS_OUTAGE."""
    try:
        return call(*args, **kwargs)
    except (redis.ConnectionError, redis.TimeoutError):
        return _riding_out_outage(call)(*args, **kwargs)


class RunEmitter:
    """Stamps, renders and logs one run's events, in order.

    :meth:`emit` does not wait for Redis. A writer greenlet appends everything emitted so far
    in one round trip, and again for what came meanwhile (group commit): alone, an event is
    written at once; on a busy worker, a run's events wait for the previous write and go
    together, so round trips stop growing with the load. :meth:`flush` waits until all of it
    is in the log. A write that fails for good (a newer owner, Redis gone for longer than
    REDIS_OUTAGE) goes to ``on_failure`` (which stops the run at once) and is raised by the
    next :meth:`flush`.
    """

    def __init__(self, app: Flask, run: Run, on_failure: Callable[[BaseException], None] | None = None):
        self.services = app.extensions["saa"]
        self.run = run
        self.on_failure = on_failure
        self.view = fold(run.id, self.services.store.events(run.id))
        self.seq = self.view.last_seq
        self.pending: list[Append] = []
        self.writer: gevent.Greenlet | None = None
        self.failure: BaseException | None = None
        # Fragments are rendered only while a stream follows the run, as the last write reported.
        # One that starts following in between gets an unrendered event and renders it itself.
        self.followed = True

    def resync(self) -> None:
        """After an interruption: write what was emitted, then take the log as it is."""
        self.flush()
        self.view = fold(self.run.id, self.services.store.events(self.run.id))
        self.seq = self.view.last_seq
        self.followed = True

    def watched(self) -> bool:
        """Whether a stream follows the run now: asked of Redis, not taken from the last write,
        because whoever asks is about to do work only a live audience needs."""
        self.followed = _with_retry(self.services.store.followed, self.run.id)
        return self.followed

    def emit(self, type_: EventType, *, step_id: str | None = None, agent: str | None = None,
             tool: str | None = None, data: dict | None = None, status: str | None = None, **fields) -> Event:
        event = Event(run_id=self.run.id, seq=self.seq + 1, ts=time.time(), type=type_, step_id=step_id,
                      agent=agent, tool=tool, data=data or {})
        self.view.apply(event)
        html = render_fragment(self.view, event, self.run) if self.followed else None
        self.pending.append(Append.of(event, status=status, publish=sse.message(event, html), **fields))
        self.seq = event.seq
        if self.writer is None:
            self.writer = gevent.spawn(self._write)
        return event

    def flush(self) -> None:
        """Wait until every emitted event is in the log."""
        if self.writer is not None:
            self.writer.join()
        if self.failure is not None:
            raise self.failure

    def abandon(self) -> None:
        """Stop writing (the run is stopping without an end of its own); unwritten events are dropped."""
        if self.writer is not None:
            self.writer.kill()
        self.pending = []

    def _write(self) -> None:
        try:
            while self.pending and self.failure is None:
                batch, self.pending = self.pending, []
                started = time.perf_counter()
                self.followed = _with_retry(self.services.store.append, batch)
                APPEND_SECONDS.observe(time.perf_counter() - started)
                APPEND_EVENTS.observe(len(batch))
        except (StaleWriter, redis.RedisError) as exc:
            self.failure, self.pending = exc, []
            if self.on_failure is not None:
                self.on_failure(exc)
        finally:
            self.writer = None


class _Process:
    stopping = False  # see refuse_new_runs


def refuse_new_runs() -> None:
    """This worker is shutting down: from now on it starts no run, and a run that breaks is handed
    back, not failed — at interpreter exit LangGraph's executor refuses new work, which is the
    worker leaving, not the run going wrong."""
    _Process.stopping = True


def start(app: Flask, run_id: str) -> gevent.Greenlet | None:
    """Claim a stored run and analyse it in a new greenlet; None if another worker owns it, or if
    this worker is shutting down (the run stays for another worker)."""
    if _Process.stopping:
        return None
    services = app.extensions["saa"]
    owner = owner_token(services.settings)
    if not services.store.claim(run_id, owner, ttl_ms(services)):
        return None
    local = LocalRun(run_id, owner)
    local.greenlet = gevent.spawn(execute, app, local)  # it starts when this greenlet next yields
    register(local)
    return local.greenlet


def execute(app: Flask, local: LocalRun) -> None:
    """Analyse one run to its terminal event under ``local.owner``'s lease. Never raises."""
    run_id, owner = local.run_id, local.owner
    # A request context, not just an app context: fragments use url_for, which needs one
    # (relative URLs, so the placeholder host never appears in them).
    with app.test_request_context("/"):
        services = app.extensions["saa"]
        store = services.store
        keeper = emitter = None
        try:
            run = store.get(run_id)
            if run is None or run.finished:
                if run is None or cases.save_record(services, run_id):
                    store.retire(run_id)
                return
            emitter = RunEmitter(app, run, on_failure=local.interrupt)
            keeper = gevent.spawn(keep, services, local)
            _run(services, run, emitter, local)
        except HandedBack:
            log.info("run %s handed back for another worker to resume", run_id)
        except RunCancelled:  # the cancel came as the run was ending: the recovery sweep retires it
            log.info("run %s was cancelled after it had ended", run_id)
        except (StaleWriter, LeaseLost) as exc:
            log.warning("run %s: another worker owns it now (%s); stopping", run_id, exc)
        except redis.RedisError:
            log.exception("run %s: Redis unavailable for %ss; the lease will expire and it resumes", run_id,
                          REDIS_OUTAGE)
        finally:
            if keeper is not None:
                keeper.kill()
            if emitter is not None:
                emitter.abandon()  # after a normal end everything is written already
            try:
                store.release(run_id, owner)
            except redis.RedisError:
                log.warning("run %s: could not release the lease; it expires by itself", run_id)


def _run(services, run: Run, emitter: RunEmitter, local: LocalRun) -> None:
    started = time.perf_counter()
    try:
        try:
            _analyse(services, run, emitter, local)
        except StepInterrupted:  # a stopped step's error reached the graph first: the run's reason stands
            raise local.reason from None
        emitter.flush()
    except RunCancelled:
        emitter.resync()
        if not emitter.view.finished:  # the cancel may come as the run's own end is being written
            emitter.emit(EventType.RUN_CANCELLED, status="cancelled", finished_at=time.time(),
                         data={"reason": "Cancelled by an analyst before a determination was reached."})
            RUNS_FINISHED.labels("cancelled", "").inc()
    except (HandedBack, StaleWriter, LeaseLost, redis.RedisError):
        raise
    except Exception as exc:
        if _Process.stopping:
            raise HandedBack from exc
        log.exception("run %s failed", run.id)
        emitter.emit(EventType.RUN_FAILED, status="failed", finished_at=time.time(),
                     data={"error": f"Internal error while analysing: {exc.__class__.__name__}: {exc}"})
        RUNS_FINISHED.labels("failed", "").inc()
    emitter.flush()
    if cases.save_record(services, run.id):  # the run's record first; a failed write is retried by the sweep
        services.store.retire(run.id)
    RUN_SECONDS.observe(time.perf_counter() - started)


def _analyse(services, run: Run, emitter: RunEmitter, local: LocalRun) -> None:
    raw = services.store.alert_bytes(run.id)
    alert = parse_alert(raw)
    analyst = services.make_analyst()
    if emitter.seq == 0:
        emitter.emit(EventType.RUN_STARTED, status="running", started_at=time.time(), analyst=analyst.name,
                     data={"analyst": analyst.name, "alert_id": alert.alert_id, "alert_type": alert.alert_type,
                           "kind": str(alert.kind)})
    else:
        RUNS_RESUMED.inc()
        emitter.emit(EventType.RUN_RESUMED, status="running", data={
            "message": f"Resumed on {services.settings.instance_name} (worker {os.getpid()}) after the worker "
                       "running it stopped; the steps run again from the start.",
            "after_seq": emitter.seq})
    last_progress: dict[str | None, float] = {}  # step id -> when its last recorded progress was
    settings = services.settings
    for item in investigate(alert, dataset=dataset(settings.data_dir), analyst=analyst,
                            step_delay=settings.demo_step_delay, remote_agents=settings.remote_agents,
                            remote_token=settings.remote_agent_token, raw=raw,
                            filename=run.get("filename") or "alert.xml", watched=emitter.watched,
                            interruptible=local.step_scope):
        if isinstance(item, Outcome):
            _finish(emitter, item)
            return
        now, step_id = time.monotonic(), item.get("step_id")
        if item["type"] == EventType.STEP_PROGRESS:
            # A step's first progress message always shows what it is doing; a burst of further
            # messages within 100 ms of the last one is superseded before anyone could read it.
            if now - last_progress.get(step_id, -PROGRESS_INTERVAL) < PROGRESS_INTERVAL:
                continue
            last_progress[step_id] = now
        emitter.emit(EventType(item["type"]), step_id=step_id, agent=item.get("agent"), tool=item.get("tool"),
                     data=item.get("data"))


def _finish(emitter: RunEmitter, outcome: Outcome) -> None:
    if outcome.decision is None:
        emitter.emit(EventType.RUN_FAILED, status="failed", finished_at=time.time(), data={"error": outcome.error})
        RUNS_FINISHED.labels("failed", "").inc()
        return
    decision = outcome.decision
    emitter.emit(EventType.DECISION, agent=decision.alert_kind, data=decision.model_dump(mode="json"),
                 determination=decision.determination.value, confidence=decision.confidence)
    emitter.emit(EventType.RUN_COMPLETED, status="completed", finished_at=time.time(),
                 data={"determination": decision.determination.value, "confidence": decision.confidence})
    RUNS_FINISHED.labels("completed", decision.determination.value).inc()


def cancel(app: Flask, run_id: str) -> None:
    """Ask a run to stop. Its owner's keeper hears it at once and stops it (webapp/keeper.py); a run
    nobody owns — still queued, or orphaned — is ended here."""
    services = app.extensions["saa"]
    store = services.store
    store.request_cancel(run_id)
    if store.lease_owner(run_id) is not None:
        sse.publish_control(run_id, "cancel")  # the owner's keeper hears it at once, on any instance
        return
    owner = owner_token(services.settings)
    if not store.claim(run_id, owner, ttl_ms(services)):
        return  # someone took it in the meantime; they see the flag
    try:
        services.queue.withdraw(run_id)  # a queued run ends here without ever running
        run = store.get(run_id)
        if run is not None and not run.finished:
            emitter = RunEmitter(app, run)
            emitter.emit(EventType.RUN_CANCELLED, status="cancelled", finished_at=time.time(),
                         data={"reason": "Cancelled by an analyst while no worker was running it."})
            emitter.flush()
            RUNS_FINISHED.labels("cancelled", "").inc()
        if run is None or cases.save_record(services, run_id):
            store.retire(run_id)
    finally:
        store.release(run_id, owner)


def hand_back_all(timeout: float = 5.0) -> list[str]:
    """Stop every run of this process without ending it and release its lease (shutdown); start
    no other."""
    refuse_new_runs()
    runs = list(local_runs().values())
    for local in runs:
        local.interrupt(HandedBack)
    gevent.joinall([local.greenlet for local in runs], timeout=timeout)
    return [local.run_id for local in runs]
