"""Batches: many alerts submitted at once, on the live plane (keys in webapp/keys.py).

A batch is a record — label, source, when, and the files refused with their reasons — and the
ordered list of the runs it started, ``batch:<id>:runs``: the one place that links a batch to
its work. :func:`create` stores the runs, the record and their places in the work queue in one
transaction, so a batch exists whole or not at all. Each item's run is noted on the case its
AlertID opens — or finds, for a known AlertID: one case per alert, never a second — before it
exists here (webapp/cases.py ``note``); the batch page links every item to its case.

Progress is read, never kept: an item's state is its run's own status (queued, running,
completed with its determination, failed, cancelled), so the counts cannot drift from the runs
whatever crashed, and the runner needs to know nothing about batches. A live view re-reads only
the items that have not ended (:func:`refresh`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from flask import Flask

from webapp import workqueue
from webapp.intake import Intake, Refused
from webapp.keys import BATCHES_INDEX, batch_key, batch_runs_key, is_run_id, run_key
from webapp.record.audit import Actor
from webapp.store import FINAL_STATUSES

DETERMINATIONS = ("ESCALATE", "CLOSE", "NEEDS_HUMAN_REVIEW")
STATES = ("queued", "running", *DETERMINATIONS, "failed", "cancelled")
_ITEM_FIELDS = ("filename", "alert_id", "alert_type", "subject", "symbol", "status", "determination", "confidence",
                "updated_at", "created_at")


@dataclass(frozen=True)
class Batch:
    id: str
    label: str
    source: str
    created_at: float
    accepted: int
    refused: list[Refused]


@dataclass(frozen=True)
class Item:
    """One alert of a batch: the run it started, as the run stands now."""

    position: int
    run_id: str
    filename: str
    alert_id: str
    alert_type: str
    subject: str
    status: str
    determination: str
    confidence: str
    updated_at: float

    @property
    def state(self) -> str:
        """queued, running, a determination, failed or cancelled."""
        if self.status == "completed":
            return self.determination or "completed"
        return self.status or "queued"

    @property
    def ended(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def dom_id(self) -> str:
        return f"batch-item-{self.run_id}"


@dataclass(frozen=True)
class Progress:
    total: int
    counts: dict[str, int]

    @property
    def done(self) -> int:
        return sum(self.counts.get(state, 0) for state in (*DETERMINATIONS, "completed", "failed", "cancelled"))

    @property
    def finished(self) -> bool:
        return self.done >= self.total

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def create(app: Flask, intake: Intake, *, label: str, source: str = "web", actor: Actor | None = None) -> Batch:
    """Store one run per accepted alert, the batch record and their queue entries together."""
    batch_id, now = uuid.uuid4().hex, time.time()
    fields = {"id": batch_id, "label": label[:200], "source": source, "created_at": repr(now),
              "accepted": str(len(intake.accepted)),
              "refused": json.dumps([[r.filename, r.reason] for r in intake.refused])}
    ttl = app.extensions["saa"].store.ttl

    def record(pipe, runs) -> None:
        pipe.hset(batch_key(batch_id), mapping=fields)
        pipe.rpush(batch_runs_key(batch_id), *(run.id for run in runs))
        pipe.zadd(BATCHES_INDEX, {batch_id: now})
        if ttl:
            pipe.expire(batch_key(batch_id), ttl)
            pipe.expire(batch_runs_key(batch_id), ttl)

    workqueue.submit(app, [(a.alert, a.raw, a.filename) for a in intake.accepted], actor=actor, source=source,
                     extra={"batch_id": batch_id}, also=record, take=0)
    return _batch(fields)


def _batch(fields: dict[str, str]) -> Batch:
    refused = [Refused(*pair) for pair in json.loads(fields.get("refused") or "[]")]
    return Batch(fields["id"], fields.get("label", ""), fields.get("source", ""),
                 float(fields.get("created_at") or 0), int(fields.get("accepted") or 0), refused)


def get(services, batch_id: str) -> Batch | None:
    if not is_run_id(batch_id):
        return None
    fields = services.redis.hgetall(batch_key(batch_id))
    return _batch({k.decode(): v.decode() for k, v in fields.items()}) if fields else None


def recent(services, limit: int = 5) -> list[Batch]:
    ids = services.redis.zrevrange(BATCHES_INDEX, 0, limit - 1)
    return [batch for batch_id in ids if (batch := get(services, batch_id.decode())) is not None]


def run_ids(services, batch_id: str) -> list[str]:
    return [run_id.decode() for run_id in services.redis.lrange(batch_runs_key(batch_id), 0, -1)]


def items(services, ids: list[str], positions: dict[str, int] | None = None) -> list[Item]:
    """The items for these runs as they stand now, in one round trip."""
    pipe = services.redis.pipeline(transaction=False)
    for run_id in ids:
        pipe.hmget(run_key(run_id), _ITEM_FIELDS)
    positions = positions or {run_id: i for i, run_id in enumerate(ids, 1)}
    return [_item(positions[run_id], run_id, values) for run_id, values in zip(ids, pipe.execute(), strict=True)]


def _item(position: int, run_id: str, values: list[Any]) -> Item:
    f = dict(zip(_ITEM_FIELDS, ((v.decode() if v is not None else "") for v in values), strict=True))
    return Item(position, run_id, f["filename"], f["alert_id"], f["alert_type"], f["subject"], f["status"],
                f["determination"], f["confidence"], float(f["updated_at"] or f["created_at"] or 0))


def refresh(services, known: dict[str, Item]) -> list[Item]:
    """Re-read the items that have not ended; update ``known`` and return those that changed."""
    open_ids = [run_id for run_id, item in known.items() if not item.ended]
    if not open_ids:
        return []
    changed = []
    for item in items(services, open_ids, {run_id: known[run_id].position for run_id in open_ids}):
        if item.state != known[item.run_id].state:
            changed.append(item)
        known[item.run_id] = item
    return changed


def progress(known: dict[str, Item] | list[Item]) -> Progress:
    values = known.values() if isinstance(known, dict) else known
    counts = Counter(item.state for item in values)
    return Progress(total=sum(counts.values()), counts=dict(counts))
