"""The audit trail: who did what, when, from where — append-only and tamper-evident.

Every entry carries ``hash = SHA-256(prev_hash + canonical JSON of its fields)``, the previous
entry's hash, and an id one more than the previous entry's. Changing, inserting or deleting any
entry breaks the chain at that point, and :func:`verify` names the first broken entry; the
``audit_head`` row holds the last id and hash, so deleting the newest entries shows as well.
(Someone able to rewrite the whole database can rewrite the whole chain: keep exports, or note
the head hash that ``smarts-analyzer audit verify`` prints, somewhere they cannot reach.)

Entries are written only by record commands, through :func:`append`, inside the transaction
that makes the change they describe — so an action is recorded if and only if it happened.
Appending locks the head row: entries are chained one at a time, across processes.
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.record import Database, off_hub
from webapp.record.models import AuditEntry, AuditHead

GENESIS = "0" * 64
EXPORT_BATCH = 1000

# What each action means, as the audit page shows it. Record commands append these names.
ACTIONS = {
    "auth.sign_in": "Signed in",
    "auth.sign_in_failed": "Sign-in refused",
    "auth.sign_out": "Signed out",
    "auth.session_expired": "Session expired (idle)",
    "case.upload": "Started an analysis",
    "case.view": "Viewed a case",
    "case.list": "Listed cases",
    "case.download_json": "Downloaded the JSON report",
    "case.download_stor": "Downloaded the STOR draft",
    "case.cancel": "Cancelled an analysis",
    "run.finished": "Analysis ended (record written)",
    "case.assign": "Assigned a case",
    "case.release": "Unassigned a case",
    "case.propose": "Proposed a disposition",
    "case.decide": "Disposition final",
    "case.approve": "Approved a disposition (four-eyes)",
    "case.send_back": "Sent a proposal back",
    "case.withdraw": "Withdrew their proposal",
    "case.stor_submitted": "Recorded the STOR's submission",
    "case.reopen": "Reopened a case",
    "case.note": "Added a note",
    "case.reinvestigate": "Started a re-investigation",
    "case.download_file": "Downloaded the case file",
    "case.export": "Exported the queue (CSV)",
    "audit.view": "Viewed the audit trail",
    "audit.export": "Exported the audit trail",
    "user.add": "Added an account",
    "user.sign_on": "Account created by single sign-on",
    "user.role": "Role changed",
    "user.disable": "Disabled an account",
    "user.enable": "Enabled an account",
    "token.create": "Created an API token",
    "token.revoke": "Revoked an API token",
}


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where: built by the web layer from the signed-in user and the request,
    by the CLI from the operating-system account, or the system itself (a run ending)."""

    username: str
    role: str
    ip: str = ""
    request_id: str = ""

    @classmethod
    def system(cls) -> Actor:
        return cls("system", "system")

    @classmethod
    def cli(cls) -> Actor:
        try:
            who = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (containers)
            who = "unknown"
        return cls(f"cli:{who}", "operator")


@dataclass(frozen=True)
class Entry:
    """One audit entry as plain data (what pages, exports and verify work with)."""

    id: int
    at: datetime
    actor: str
    actor_role: str
    ip: str
    request_id: str
    action: str
    case_id: str | None
    run_id: str | None
    detail: dict = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""

    @property
    def label(self) -> str:
        return ACTIONS.get(self.action, self.action)

    def to_dict(self) -> dict:
        values = asdict(self)
        values["at"] = utc_text(self.at)
        return values


def utc_text(at: datetime) -> str:
    """One spelling of a time for hashing and export, whatever the database hands back
    (SQLite: naive, meaning UTC; PostgreSQL: aware)."""
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(values: dict) -> str:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _content(row: AuditEntry) -> str:
    return canonical({"id": row.id, "at": utc_text(row.at), "actor": row.actor, "actor_role": row.actor_role,
                      "ip": row.ip, "request_id": row.request_id, "action": row.action, "case_id": row.case_id,
                      "run_id": row.run_id, "detail": row.detail})


def chain_hash(prev_hash: str, row: AuditEntry) -> str:
    return hashlib.sha256((prev_hash + _content(row)).encode()).hexdigest()


def append(s: Session, actor: Actor, action: str, *, case_id: str | None = None, run_id: str | None = None,
           **detail) -> int:
    """Append one entry in the caller's transaction; returns its id. The one line every record
    command adds: ``audit.append(s, actor, "case.approve", case_id=alert_id, note=text)``."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: add it to webapp.record.audit.ACTIONS")
    head = s.get(AuditHead, 1, with_for_update=True)
    if head is None:  # a database made without the migration's seed row
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
        s.add(head)
    # Microseconds only: both databases keep exactly that, so the hash recomputes from what is read.
    row = AuditEntry(id=head.last_id + 1, at=datetime.now(UTC), actor=actor.username[:128],
                     actor_role=actor.role[:16], ip=(actor.ip or "")[:64], request_id=(actor.request_id or "")[:64],
                     action=action, case_id=case_id, run_id=run_id, detail=canonical(detail),
                     prev_hash=head.last_hash)
    row.hash = chain_hash(head.last_hash, row)
    s.add(row)
    head.last_id, head.last_hash = row.id, row.hash
    return row.id


@off_hub
def record(db: Database, actor: Actor, action: str, *, case_id: str | None = None, run_id: str | None = None,
           **detail) -> int:
    """An action that changes nothing else but must be on the record (a case viewed, a report
    downloaded, a sign-out): the entry alone, in its own transaction."""
    with db.transaction() as s:
        return append(s, actor, action, case_id=case_id, run_id=run_id, **detail)


def _entry(row: AuditEntry) -> Entry:
    return Entry(id=row.id, at=row.at, actor=row.actor, actor_role=row.actor_role, ip=row.ip,
                 request_id=row.request_id, action=row.action, case_id=row.case_id, run_id=row.run_id,
                 detail=json.loads(row.detail or "{}"), prev_hash=row.prev_hash, hash=row.hash)


# ----------------------------------------------------------------------------- reading

@off_hub
def page(db: Database, *, case_id: str | None = None, run_id: str | None = None, before: int | None = None,
         limit: int = 50) -> list[Entry]:
    """Newest first: the entries (for a case, or all) with ids below ``before``."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if case_id is not None:
        query = query.where(AuditEntry.case_id == case_id)
    if run_id is not None:
        query = query.where(AuditEntry.run_id == run_id)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    with db.reading() as s:
        return [_entry(row) for row in s.scalars(query)]


@off_hub
def batch(db: Database, *, after: int = 0, since: datetime | None = None, until: datetime | None = None,
          limit: int = EXPORT_BATCH) -> list[Entry]:
    """Oldest first: up to ``limit`` entries with ids above ``after`` in [since, until)."""
    query = select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(limit)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    with db.reading() as s:
        return [_entry(row) for row in s.scalars(query)]


def stream(db: Database, *, since: datetime | None = None, until: datetime | None = None) -> Iterator[Entry]:
    """Every entry in [since, until), oldest first, a batch at a time (no transaction is held
    open between batches, so a long export never blocks anyone)."""
    after = 0
    while rows := batch(db, after=after, since=since, until=until):
        yield from rows
        after = rows[-1].id


@off_hub
def failures_from(db: Database, ip: str, since: datetime) -> int:
    """Refused sign-ins from one client address since ``since`` (the throttle's count)."""
    query = select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "auth.sign_in_failed", AuditEntry.at >= since, AuditEntry.ip == ip)
    with db.reading() as s:
        return s.scalar(query) or 0


# ----------------------------------------------------------------------------- exporting

EXPORT_FORMATS = ("csv", "jsonl")
CSV_COLUMNS = ("id", "at", "actor", "actor_role", "ip", "request_id", "action", "case_id", "run_id", "detail",
               "prev_hash", "hash")


def parse_time(raw: str) -> datetime:
    """``2026-01-31`` or ``2026-01-31T09:30[:00][+01:00]``; without an offset it means UTC."""
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{raw!r} is not a date or time (use 2026-01-31 or 2026-01-31T09:30:00Z)") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def export_lines(entries: Iterator[Entry], fmt: str) -> Iterator[str]:
    """The entries as CSV (with a header) or JSON lines, one line at a time."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: choose csv or jsonl")
    if fmt == "csv":
        yield _csv_line(CSV_COLUMNS)
    for entry in entries:
        values = entry.to_dict()
        if fmt == "jsonl":
            yield json.dumps(values, ensure_ascii=False) + "\n"
        else:
            values["detail"] = canonical(values["detail"])
            yield _csv_line(["" if values[c] is None else values[c] for c in CSV_COLUMNS])


def _csv_line(values) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


# ----------------------------------------------------------------------------- verifying

@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    head_id: int
    head_hash: str
    broken_id: int | None = None
    problem: str = ""


def _raw_batch(s: Session, after: int) -> list[AuditEntry]:
    return list(s.scalars(select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id)
                          .limit(EXPORT_BATCH)))


@off_hub
def verify(db: Database) -> Verdict:
    """Walk the chain from the first entry; stop at the first entry that does not hold."""
    with db.reading() as s:
        head = s.get(AuditHead, 1)
        head_id, head_hash = (head.last_id, head.last_hash) if head else (0, GENESIS)
        expected_id, prev_hash, checked = 1, GENESIS, 0
        while rows := _raw_batch(s, expected_id - 1):
            for row in rows:
                problem = None
                if row.id != expected_id:
                    problem = f"entry {expected_id} is missing (the next entry is {row.id})"
                    broken = expected_id
                elif row.prev_hash != prev_hash:
                    problem, broken = "its previous-hash does not match the entry before it", row.id
                elif chain_hash(prev_hash, row) != row.hash:
                    problem, broken = "its content does not match its hash (altered after it was written)", row.id
                if problem:
                    return Verdict(False, checked, head_id, head_hash, broken, problem)
                checked += 1
                expected_id, prev_hash = row.id + 1, row.hash
        last_id = expected_id - 1
        if last_id != head_id or prev_hash != head_hash:
            return Verdict(False, checked, head_id, head_hash, last_id + 1,
                           f"the chain ends at entry {last_id} but the head records entry {head_id}: "
                           "entries were removed or added outside the application")
        return Verdict(True, checked, head_id, head_hash)
