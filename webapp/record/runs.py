"""Analyses in the record: a run's row from the moment it starts, its full record when it ends.

* :func:`record_start` — new runs (an upload, a batch, an A2A message): each its case row (keyed
  by AlertID), its run row with the alert bytes and who started it, and its ``case.upload`` audit
  entry, all in one transaction, *before* the runs exist in the live plane. If the record cannot
  be written, nothing starts: no action goes unrecorded.
* :func:`save_finished` — the runner's one call when a run ends: the final event log, the
  decision and the run's fields, in one transaction with the ``run.finished`` entry.
  Idempotent (a recovered run, or the recovery sweep finishing a crashed worker's save, may
  call it again).
* :func:`load` — a finished run as pages render it, once Redis no longer holds it
  (RUN_TTL_SECONDS bounds only the live plane).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from agents.events import Event
from webapp.record import Database, audit, counts, off_hub
from webapp.record.audit import Actor
from webapp.record.lifecycle import State, rank
from webapp.record.models import Case, Run


@dataclass(frozen=True)
class FinishedRun:
    """A run as the record holds it: its fields (as the live plane had them), log and alert."""

    id: str
    fields: dict[str, str]
    events: list[Event]
    alert: bytes


def _time(epoch: str | float | None) -> datetime:
    return datetime.fromtimestamp(float(epoch), UTC) if epoch not in (None, "") else datetime.now(UTC)


def alert_facts(alert) -> dict[str, str]:
    """What the queue filters, searches and sorts on, from a parsed alert: the trader (or first
    account) and the anomaly score (0 when the alert has none)."""
    trader = getattr(alert, "trader", None)
    trader_id = trader.trader_id if trader is not None else next(iter(getattr(alert, "accounts", [])), "")
    anomaly = getattr(alert, "anomaly", None) or getattr(alert, "metadata", None)
    score = getattr(anomaly, "anomaly_score", None)
    return {"trader": str(trader_id or "")[:64], "score": str(round(score)) if score is not None else "0"}


def _score(fields: dict[str, str]) -> int:
    try:
        return int(fields.get("score") or 0)
    except ValueError:
        return 0


def _case(s, fields: dict[str, str], now: datetime) -> Case:
    case = s.get(Case, fields["alert_id"], with_for_update=True)
    if case is None:
        subject = fields.get("subject", "")[:200]
        case = Case(alert_id=fields["alert_id"], kind=fields.get("kind", ""), alert_type=fields.get("alert_type", ""),
                    subject=subject, symbol=fields.get("symbol", "")[:32], created_at=now, updated_at=now,
                    state=State.NEW, version=1, trader=fields.get("trader", "")[:64], subject_key=subject.lower(),
                    score=_score(fields), rank=rank(None, _score(fields)))
        s.add(case)
        counts.add(s, State.NEW, 1)
    return case


@off_hub
def record_start(db: Database, actor: Actor, entries, *, source: str = "web", batch_id: str | None = None) -> None:
    """New runs, in one transaction: ``entries`` are (run id, parsed alert, raw bytes, filename)."""
    now = datetime.now(UTC)
    with db.transaction() as s:
        cases: dict[str, Case] = {}  # a batch may carry two alerts of one case
        for run_id, alert, raw, filename in entries:
            fields = {"alert_id": alert.alert_id, "kind": str(alert.kind), "alert_type": alert.alert_type,
                      "subject": alert.subject, "symbol": alert.symbol, "source": source,
                      "filename": filename[:200], **alert_facts(alert)}
            case = cases.get(alert.alert_id) or _case(s, fields, now)
            cases[alert.alert_id] = case
            case.updated_at, case.latest_run_id = now, run_id
            s.add(Run(id=run_id, case_id=case.alert_id, source=source, filename=filename[:200],
                      created_by=actor.username, created_at=now, status="queued", alert_xml=raw,
                      fields=json.dumps(fields)))
            detail = {"source": source, "filename": filename[:200], "kind": str(alert.kind)}
            if batch_id:
                detail["batch_id"] = batch_id
            audit.append(s, actor, "case.upload", case_id=case.alert_id, run_id=run_id, **detail)


@off_hub
def save_finished(db: Database, run_id: str, fields: dict[str, str], events: list[Event], alert: bytes | None) -> bool:
    """Write a finished run's record; False if it was written already."""
    decision = next((e.data for e in reversed(events) if e.type == "decision"), None)
    if not fields.get("alert_id"):
        raise ValueError(f"run {run_id} has no alert id: not a run record")
    terminal = events[-1] if events and events[-1].is_terminal else None
    finished = _time(fields.get("finished_at") or (terminal.ts if terminal else None))
    with db.transaction() as s:
        row = s.get(Run, run_id, with_for_update=True)
        if row is not None and row.events is not None:
            return False
        case = _case(s, fields, finished)
        if row is None:  # started before the record existed, or by a version without it
            row = Run(id=run_id, case_id=case.alert_id, source=fields.get("source", "web"),
                      filename=fields.get("filename", "")[:200], created_by=fields.get("created_by", "unknown"),
                      created_at=_time(fields.get("created_at")), alert_xml=alert or b"")
            s.add(row)
        row.status = fields.get("status") or (str(terminal.type).removeprefix("run_") if terminal else "failed")
        row.finished_at = finished
        row.determination = (decision or {}).get("determination")
        row.confidence = (decision or {}).get("confidence")
        row.fields = json.dumps(fields)
        row.events = json.dumps([e.to_dict() for e in events], separators=(",", ":"))
        row.decision = json.dumps(decision) if decision is not None else None
        case.updated_at = finished
        if row.determination and case.latest_run_id in (None, run_id):  # the newest run speaks for the case
            case.ai_determination, case.ai_confidence = row.determination, row.confidence
            case.rank = rank(row.determination, case.score)
            case.version += 1
        audit.append(s, Actor.system(), "run.finished", case_id=case.alert_id, run_id=run_id, status=row.status,
                     determination=row.determination, confidence=row.confidence, events=len(events))
        return True


@off_hub
def load(db: Database, run_id: str) -> FinishedRun | None:
    """A run the record has finished, or None (unknown, or still only started)."""
    with db.reading() as s:
        row = s.get(Run, run_id)
        if row is None or row.events is None:
            return None
        return FinishedRun(row.id, json.loads(row.fields), [Event.from_dict(e) for e in json.loads(row.events)],
                           row.alert_xml)
