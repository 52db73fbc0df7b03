"""Run lifecycle: each analysis runs in its own gevent greenlet.

The runner streams the orchestrator graph and turns every event into (1) an entry in the
run's Redis Stream, the durable log, and (2) one flask-sse publish on the run's channel
carrying the rendered HTML fragment and the event itself. Greenlets only call cooperative,
synchronous code: Redis and HTTP go through gevent-patched sockets.
"""

from __future__ import annotations

import logging
import time

import gevent
from flask import Flask
from prometheus_client import Counter, Histogram

from agents.alerts import parse_alert
from agents.data import dataset
from agents.events import Event, EventType
from agents.orchestrator import Outcome, investigate
from webapp.sse import sse
from webapp.store import Run, StaleWriter
from webapp.timeline import fold, render_fragment

log = logging.getLogger(__name__)

RUNS_FINISHED = Counter("saa_runs_finished_total", "Analyses finished", ["status", "determination"])
RUN_SECONDS = Histogram("saa_run_seconds", "Time from run start to its terminal event",
                        buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300))
EMIT_SECONDS = Histogram("saa_event_emit_seconds", "Append + render + publish of one event",
                         buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5))


class RunEmitter:
    """Stamps, logs, renders and publishes one run's events, in order."""

    def __init__(self, app: Flask, run: Run):
        self.services = app.extensions["saa"]
        self.run = run
        self.view = fold(run.id, self.services.store.events(run.id))
        self.seq = self.view.last_seq

    def emit(self, type_: EventType, *, step_id: str | None = None, agent: str | None = None,
             tool: str | None = None, data: dict | None = None, status: str | None = None, **fields) -> Event:
        started = time.perf_counter()
        event = Event(run_id=self.run.id, seq=self.seq + 1, ts=time.time(), type=type_, step_id=step_id,
                      agent=agent, tool=tool, data=data or {})
        self.services.store.append(event, status=status, **fields)
        self.seq = event.seq
        self.view.apply(event)
        sse.publish_event(event, render_fragment(self.view, event, self.run))
        EMIT_SECONDS.observe(time.perf_counter() - started)
        return event


def start(app: Flask, run_id: str) -> gevent.Greenlet:
    """Start the analysis of a stored run in a new greenlet."""
    return gevent.spawn(execute, app, run_id)


def execute(app: Flask, run_id: str) -> None:
    """Analyse one run to its terminal event. Never raises: failures become run_failed."""
    # A request context, not just an app context: fragments use url_for, which needs one
    # (relative URLs, so the placeholder host never appears in them).
    with app.test_request_context("/"):
        services = app.extensions["saa"]
        run = services.store.get(run_id)
        if run is None or run.finished:
            return
        emitter = RunEmitter(app, run)
        started = time.perf_counter()
        try:
            _analyse(services, run, emitter)
        except StaleWriter as exc:
            log.warning("run %s: another worker owns it now (%s); stopping", run_id, exc)
            return
        except Exception as exc:
            log.exception("run %s failed", run_id)
            emitter.emit(EventType.RUN_FAILED, status="failed", finished_at=time.time(),
                         data={"error": f"Internal error while analysing: {exc.__class__.__name__}: {exc}"})
            RUNS_FINISHED.labels("failed", "").inc()
        RUN_SECONDS.observe(time.perf_counter() - started)


def _analyse(services, run: Run, emitter: RunEmitter) -> None:
    alert = parse_alert(services.store.alert_bytes(run.id))
    analyst = services.make_analyst()
    emitter.emit(EventType.RUN_STARTED, status="running", started_at=time.time(), analyst=analyst.name,
                 data={"analyst": analyst.name, "alert_id": alert.alert_id, "alert_type": alert.alert_type,
                       "kind": str(alert.kind)})
    for item in investigate(alert, dataset=dataset(services.settings.data_dir), analyst=analyst,
                            step_delay=services.settings.demo_step_delay):
        if services.store.cancel_requested(run.id):
            emitter.emit(EventType.RUN_CANCELLED, status="cancelled", finished_at=time.time(),
                         data={"reason": "Cancelled by an analyst before a determination was reached."})
            RUNS_FINISHED.labels("cancelled", "").inc()
            return
        if isinstance(item, Outcome):
            _finish(emitter, item)
            return
        emitter.emit(EventType(item["type"]), step_id=item.get("step_id"), agent=item.get("agent"),
                     tool=item.get("tool"), data=item.get("data"))


def _finish(emitter: RunEmitter, outcome: Outcome) -> None:
    if outcome.decision is None:
        emitter.emit(EventType.RUN_FAILED, status="failed", finished_at=time.time(),
                     data={"error": outcome.error})
        RUNS_FINISHED.labels("failed", "").inc()
        return
    decision = outcome.decision
    payload = decision.model_dump(mode="json")
    emitter.emit(EventType.DECISION, step_id=None, agent=decision.alert_kind, data=payload,
                 determination=decision.determination.value, confidence=decision.confidence)
    emitter.emit(EventType.RUN_COMPLETED, status="completed", finished_at=time.time(),
                 data={"determination": decision.determination.value, "confidence": decision.confidence})
    RUNS_FINISHED.labels("completed", decision.determination.value).inc()
