"""The run as one JSON document: what a downstream system or an auditor reads.

Typed, not as Redis stores it: numbers are numbers, times are ISO 8601 (UTC), the decision
appears once (its event in the log points to it), and ``schema_version`` changes whenever a
field changes meaning or disappears, so a consumer can refuse a document it does not know.
"""

from __future__ import annotations

from datetime import UTC, datetime

from agents.events import Event, EventType

SCHEMA_VERSION = 1

_TEXT_FIELDS = ("alert_id", "alert_type", "kind", "subject", "symbol", "filename", "source", "analyst")
_TIME_FIELDS = ("created_at", "started_at", "finished_at")


def iso(epoch: float | str | None) -> str | None:
    """Epoch seconds as ISO 8601 in UTC with milliseconds, e.g. ``2024-03-16T06:30:00.125Z``."""
    if epoch in (None, ""):
        return None
    moment = datetime.fromtimestamp(float(epoch), UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build(run, view, events: list[Event]) -> dict:
    fields = run.fields
    record = {"id": run.id, "status": view.status}
    record.update({name: fields.get(name) or None for name in _TEXT_FIELDS})
    record.update({name: iso(fields.get(name)) for name in _TIME_FIELDS})
    if record["started_at"] is None and view.started_at is not None:
        record["started_at"] = iso(view.started_at)
    record["elapsed_seconds"] = round(view.elapsed, 3) if view.elapsed is not None else None
    record["steps"] = len(view.steps)
    record["events"] = len(events)
    return {
        "schema_version": SCHEMA_VERSION,
        "run": record,
        "decision": view.decision,
        "error": view.error or None,
        "events": [_event(e) for e in events],
    }


def _event(event: Event) -> dict:
    data = event.data
    if event.type is EventType.DECISION:  # the decision is the document's "decision"; said once
        data = {"determination": data.get("determination"), "confidence": data.get("confidence"),
                "see": "decision"}
    return {"seq": event.seq, "time": iso(event.ts), "type": str(event.type), "step_id": event.step_id,
            "agent": event.agent, "tool": event.tool, "data": data}
