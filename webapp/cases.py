"""A case's analysis, wherever it lives now: the live plane while Redis holds the run, the
record once it has ended and Redis has let it go (RUN_TTL_SECONDS). Pages, JSON and A2A read
runs through :func:`find`; the work queue notes new runs (browser, batch or A2A) through
:func:`note`; the runner and the recovery sweep write a finished run's record through
:func:`save_record`.

Order matters at both ends. A run is noted in the record (with the ``case.upload`` audit
entry) before it exists in Redis, so an analysis nobody can account for never starts. A
finished run leaves the active set only after its record is written, so a failed write is
retried by the recovery sweep instead of being lost.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import redis

from agents.events import Event
from webapp.keys import is_run_id
from webapp.record import RecordUnavailable, runs
from webapp.record import cases as record_cases
from webapp.record.audit import Actor
from webapp.store import Run

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaseRun:
    run: Run
    events: list[Event]
    alert: bytes | None
    live: bool  # still in the live plane (it may be running)


def find(services, run_id: str) -> CaseRun | None:
    if not is_run_id(run_id):
        return None
    run = services.store.get(run_id)
    if run is not None:
        return CaseRun(run, services.store.events(run.id), None, True)
    finished = runs.load(services.db, run_id)
    if finished is None:
        return None
    return CaseRun(Run(finished.id, finished.fields), finished.events, finished.alert, False)


def alert_bytes(services, found: CaseRun) -> bytes | None:
    return found.alert if found.alert is not None else services.store.alert_bytes(found.run.id)


def note(services, actor: Actor, entries, *, source: str = "web", batch_id: str | None = None) -> list[str]:
    """Note new runs in the record — each its case, the alert and a ``case.upload`` entry, all in one
    transaction — before they exist in the live plane; returns their ids. Raises
    RecordUnavailable: then nothing may be started. ``entries`` are (alert, raw bytes, filename)."""
    noted = [(uuid.uuid4().hex, alert, raw, filename) for alert, raw, filename in entries]
    runs.record_start(services.db, actor, noted, source=source, batch_id=batch_id)
    return [run_id for run_id, *_rest in noted]


def save_record(services, run_id: str) -> bool:
    """Write a finished run's record from the live plane; False (logged) if it could not be."""
    try:
        run = services.store.get(run_id)
        if run is None:
            return True  # gone from Redis: whoever let it go had saved it
        written = runs.save_finished(services.db, run.id, run.fields, services.store.events(run.id),
                                     services.store.alert_bytes(run.id))
        if written:
            case_changed(services, run.fields.get("alert_id", ""))
        return True
    except (RecordUnavailable, redis.RedisError) as exc:
        log.warning("run %s: its record could not be written yet (%s); the recovery sweep retries", run_id, exc)
        return False


def case_changed(services, alert_id: str) -> None:
    """The case's AI determination may have changed: its queue row and page update live. Best
    effort — the record has it either way, and pages read the record."""
    from webapp.desk import live  # the desk renders its own fragments; imported where a run ends, not at import

    try:
        case = record_cases.get(services.db, alert_id)
        if case is not None:
            live.publish(services, case)
    except Exception as exc:  # never fail a run's ending over a live update
        log.warning("case %s: its live update after the run ended failed (%s)", alert_id, exc)
