"""The work queue: cases filtered, searched, sorted and paged by a keyset cursor, the counts per
state, and the same rows for the CSV export a page at a time.

Every order ends in the primary key and has an index that starts with the filter's equality
columns (models.py ``Case.__table_args__``), so a page costs an index seek and PAGE_SIZE rows
whatever the page number — never an OFFSET over the cases before it. The AI's determination is
the leading part of ``rank``, so filtering on it under the priority sort is a range of the
same index. Bad filter values never reach here: webapp/desk/filters.py falls back to defaults.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, or_, select, tuple_

from webapp.record import Database, off_hub
from webapp.record.cases import case_dom_id
from webapp.record.lifecycle import DETERMINATION_ORDER, FINAL, State
from webapp.record.models import Case, CaseCount

PAGE_SIZE = 50
SORTS = ("priority", "date")
ASSIGNEES = ("anyone", "mine", "unassigned")
OPEN = "open"  # the state filter for every case not yet closed or escalated


@dataclass(frozen=True)
class QueueFilter:
    """One view of the queue (the query parameters of ``/`` and ``/cases.csv``)."""

    state: str = ""          # a State, "open", or "" for all
    assignee: str = "anyone"
    me: str = ""             # who "mine" means
    kind: str = ""           # the alert type: insider_dealing, wash_trade, spoofing
    determination: str = ""  # the AI's: ESCALATE, CLOSE, NEEDS_HUMAN_REVIEW, or "none" (not decided yet)
    outcome: str = ""        # the human's: ESCALATE, CLOSE, or "none" (not decided yet)
    q: str = ""              # an AlertID, trader or symbol, or the start of the subject's name
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    sort: str = "priority"
    cursor: str = ""
    limit: int = PAGE_SIZE


@dataclass(frozen=True)
class QueueRow:
    alert_id: str
    kind: str
    alert_type: str
    subject: str
    trader: str
    symbol: str
    score: int
    ai_determination: str | None
    ai_confidence: int | None
    state: State
    assignee: str | None
    outcome: str | None
    created_at: datetime
    updated_at: datetime
    latest_run_id: str | None
    version: int
    rank: int

    @property
    def dom_id(self) -> str:
        return case_dom_id(self.alert_id)


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str | None


COLUMNS = tuple(QueueRow.__dataclass_fields__)


def _encode(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(raw: str, sort: str) -> tuple | None:
    """The position after which a page starts, or None for a cursor that is not ours."""
    if not raw:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if sort == "priority":
            rank, at, alert_id = values
            return int(rank), datetime.fromisoformat(at), str(alert_id)
        at, alert_id = values
        return datetime.fromisoformat(at), str(alert_id)
    except (ValueError, TypeError, json.JSONDecodeError):
        return None


def _cursor_of(row: QueueRow, sort: str) -> str:
    if sort == "priority":
        return _encode([row.rank, row.created_at.isoformat(), row.alert_id])
    return _encode([row.created_at.isoformat(), row.alert_id])


def _conditions(f: QueueFilter) -> list:
    where = []
    if f.state == OPEN:
        where.append(Case.state.not_in([str(s) for s in FINAL]))
    elif f.state:
        where.append(Case.state == f.state)
    if f.assignee == "mine":
        where.append(Case.assignee == f.me)
    elif f.assignee == "unassigned":
        where.append(Case.assignee.is_(None))
    if f.kind:
        where.append(Case.kind == f.kind)
    if f.determination:
        if f.sort == "priority":  # the determination leads the rank: a range of the rank index
            order = DETERMINATION_ORDER.get(f.determination, 4)
            where += [Case.rank >= order * 1000, Case.rank < (order + 1) * 1000]
        where.append(Case.ai_determination.is_(None) if f.determination == "none"
                     else Case.ai_determination == f.determination)
    if f.outcome:
        where.append(Case.outcome.is_(None) if f.outcome == "none" else Case.outcome == f.outcome)
    if f.q:
        term = f.q.strip()
        key = term.lower()
        where.append(or_(Case.alert_id == term, Case.trader == term, Case.symbol == term.upper(),
                         and_(Case.subject_key >= key, Case.subject_key < key + "\uffff")))
    if f.date_from:
        where.append(Case.created_at >= datetime.combine(f.date_from, time.min))
    if f.date_to:
        where.append(Case.created_at < datetime.combine(f.date_to + timedelta(days=1), time.min))
    return where


def _query(f: QueueFilter):
    query = select(*(getattr(Case, c) for c in COLUMNS)).where(*_conditions(f))
    after = decode_cursor(f.cursor, f.sort)
    if f.sort == "priority":
        if after is not None:
            query = query.where(tuple_(Case.rank, Case.created_at, Case.alert_id) > tuple_(*after))
        return query.order_by(Case.rank, Case.created_at, Case.alert_id)
    if after is not None:
        query = query.where(tuple_(Case.created_at, Case.alert_id) < tuple_(*after))
    return query.order_by(Case.created_at.desc(), Case.alert_id.desc())


def _row(values) -> QueueRow:
    row = QueueRow(*values)
    return replace(row, state=State(row.state))


@off_hub
def page(db: Database, f: QueueFilter) -> QueuePage:
    """One page of the queue, and the cursor of the next (None on the last)."""
    with db.reading() as s:
        rows = [_row(r) for r in s.execute(_query(f).limit(f.limit + 1))]
    more = len(rows) > f.limit
    rows = rows[:f.limit]
    return QueuePage(rows, _cursor_of(rows[-1], f.sort) if more and rows else None)


def stream(db: Database, f: QueueFilter, batch: int = 1000) -> Iterator[QueueRow]:
    """Every row of the view, a page at a time (no transaction held between pages)."""
    f = replace(f, limit=batch)
    while True:
        found = page(db, f)
        yield from found.rows
        if found.next_cursor is None:
            return
        f = replace(f, cursor=found.next_cursor)


@off_hub
def counts(db: Database) -> dict[str, int]:
    """Cases per state (all of them, whatever the filter)."""
    with db.reading() as s:
        found = {row.state: row.n for row in s.scalars(select(CaseCount))}
    return {str(state): found.get(str(state), 0) for state in State}


@off_hub
def row(db: Database, alert_id: str) -> QueueRow | None:
    """One case as a queue row (the live update of a row)."""
    with db.reading() as s:
        values = s.execute(select(*(getattr(Case, c) for c in COLUMNS)).where(Case.alert_id == alert_id)).first()
    return _row(values) if values is not None else None
