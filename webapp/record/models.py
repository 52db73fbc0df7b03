"""The record's tables. Only :mod:`webapp.record` reads or writes them.

* ``users``          one row per person or service account. ``session_key`` is part of every
                     browser session's id: rotating it (disable, lockout reset) ends them all.
                     ``password_hash`` is Argon2id (NULL for single sign-on and service
                     accounts); ``oidc_subject`` is "issuer|sub" for accounts made by sign-on.
* ``api_tokens``     bearer tokens for A2A and JSON; only the SHA-256 of the token is stored
                     (tokens are 256 random bits, so a fast hash is enough; passwords are not).
* ``cases``          one row per alert (keyed by its AlertID): the desk's queue. Its lifecycle
                     (``state``, webapp/record/lifecycle.py), the assignee, the current proposal,
                     the human outcome and the STOR's progress; ``version`` grows by one with every
                     change (optimistic locking: a command names the version it saw). The AI's
                     latest determination and ``rank`` (the queue's priority order, most urgent
                     first: webapp/record/lifecycle.py ``rank``) follow the newest run.
* ``case_notes``     append-only plain-text notes (a correction is a new note).
* ``case_reviews``   each four-eyes decision (approve / send back) with the proposal it judged.
* ``case_counts``    cases per state, kept in the same transaction as every change of state
                     (counting a million rows per page view would not be).
* ``runs``           each analysis of a case: who started it, the alert bytes, and — once it
                     ends — the final event log and decision, written in one transaction.
* ``audit_entries``  append-only, hash-chained: ``hash = SHA-256(prev_hash + canonical JSON of
                     the entry)``; ids are consecutive from 1. Nothing updates or deletes them.
* ``audit_head``     one row: the last entry's id and hash. Appending locks it, so entries are
                     chained one at a time; verifying compares the chain's end with it, so a
                     deleted tail shows too.

Relationships are not declared: queries load what a page shows explicitly, and nothing can
lazy-load inside a template.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Constraint names identical on SQLite and PostgreSQL, so migrations can name them.
NAMING = {"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
          "ck": "ck_%(table_name)s_%(constraint_name)s",
          "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s", "pk": "pk_%(table_name)s"}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


UTC_TIME = DateTime(timezone=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="person")  # person | service
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    oidc_subject: Mapped[str | None] = mapped_column(String(512), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_key: Mapped[str] = mapped_column(String(64))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTC_TIME)
    created_at: Mapped[datetime] = mapped_column(UTC_TIME)
    last_login_at: Mapped[datetime | None] = mapped_column(UTC_TIME)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists, so a token can be recognised
    created_at: Mapped[datetime] = mapped_column(UTC_TIME)
    revoked_at: Mapped[datetime | None] = mapped_column(UTC_TIME)


class Case(Base):
    __tablename__ = "cases"
    # The queue's orders (webapp/record/queue.py), each ending in the primary key for keyset paging:
    # by priority (``rank``, then oldest first) and by date, overall and per state and assignee;
    # search by trader, symbol and name prefix.
    __table_args__ = (
        Index("ix_cases_rank", "rank", "created_at", "alert_id"),
        Index("ix_cases_created", "created_at", "alert_id"),
        Index("ix_cases_state_rank", "state", "rank", "created_at", "alert_id"),
        Index("ix_cases_state_created", "state", "created_at", "alert_id"),
        Index("ix_cases_assignee_state", "assignee", "state", "rank", "created_at", "alert_id"),
        Index("ix_cases_determination_created", "ai_determination", "created_at", "alert_id"),
        Index("ix_cases_trader", "trader", "created_at"),
        Index("ix_cases_symbol", "symbol", "created_at"),
        Index("ix_cases_subject_key", "subject_key"),
    )

    alert_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    alert_type: Mapped[str] = mapped_column(String(128))
    subject: Mapped[str] = mapped_column(String(200), default="")
    symbol: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(UTC_TIME)
    updated_at: Mapped[datetime] = mapped_column(UTC_TIME)
    latest_run_id: Mapped[str | None] = mapped_column(String(32))
    # The desk (migration 0002).
    state: Mapped[str] = mapped_column(String(16), default="new", server_default="new")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    assignee: Mapped[str | None] = mapped_column(String(64))
    trader: Mapped[str] = mapped_column(String(64), default="", server_default="")
    subject_key: Mapped[str] = mapped_column(String(200), default="", server_default="")  # lower-cased, for search
    score: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # the alert's anomaly score
    ai_determination: Mapped[str | None] = mapped_column(String(32))
    ai_confidence: Mapped[int | None] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer, default=4999, server_default="4999")  # ascending = most urgent
    proposed_outcome: Mapped[str | None] = mapped_column(String(16))
    proposal_mode: Mapped[str | None] = mapped_column(String(16))  # accept | override
    reason_code: Mapped[str | None] = mapped_column(String(64))
    rationale: Mapped[str | None] = mapped_column(Text)
    proposed_by: Mapped[str | None] = mapped_column(String(64))
    proposed_at: Mapped[datetime | None] = mapped_column(UTC_TIME)
    outcome: Mapped[str | None] = mapped_column(String(16))
    decided_at: Mapped[datetime | None] = mapped_column(UTC_TIME)
    stor_status: Mapped[str | None] = mapped_column(String(16))  # draft | submitted (escalated cases)
    stor_reference: Mapped[str | None] = mapped_column(String(128))
    stor_submitted_on: Mapped[date | None] = mapped_column(Date)


class CaseNote(Base):
    __tablename__ = "case_notes"
    __table_args__ = (Index("ix_case_notes_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.alert_id"))
    author: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTC_TIME)
    text: Mapped[str] = mapped_column(Text)


class CaseReview(Base):
    __tablename__ = "case_reviews"
    __table_args__ = (Index("ix_case_reviews_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.alert_id"))
    reviewer: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTC_TIME)
    decision: Mapped[str] = mapped_column(String(16))  # approved | sent_back
    comment: Mapped[str] = mapped_column(Text, default="")
    proposed_outcome: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str] = mapped_column(String(64))
    proposed_by: Mapped[str] = mapped_column(String(64))


class CaseCount(Base):
    __tablename__ = "case_counts"

    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_case_created", "case_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.alert_id"))
    source: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTC_TIME)
    finished_at: Mapped[datetime | None] = mapped_column(UTC_TIME)
    status: Mapped[str] = mapped_column(String(16))
    determination: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[int | None] = mapped_column(Integer)
    alert_xml: Mapped[bytes] = mapped_column(LargeBinary)
    fields: Mapped[str] = mapped_column(Text)           # the live plane's run record, JSON
    events: Mapped[str | None] = mapped_column(Text)    # the final event log, JSON list
    decision: Mapped[str | None] = mapped_column(Text)  # JSON


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_case", "case_id", "id"), Index("ix_audit_action_at", "action", "at"),
                      Index("ix_audit_at", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTC_TIME)
    actor: Mapped[str] = mapped_column(String(128))
    actor_role: Mapped[str] = mapped_column(String(16))
    ip: Mapped[str] = mapped_column(String(64), default="")
    request_id: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(128))
    run_id: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)  # canonical JSON: what changed
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))

