"""The desk's commands on a case: assign, propose, approve or send back, record the STOR's
submission, reopen, add a note — and :func:`get`, the case as its page shows it.

Every command follows one pattern, so the rules hold for the browser, JSON and any later caller:

1. lock the case row (``BEGIN IMMEDIATE`` on SQLite, ``FOR UPDATE`` on PostgreSQL);
2. refuse, with a named error the view turns into a 409/403/422 fragment, when the case is not
   at the ``version`` the caller saw (:class:`Conflict`, carrying the case as it is now), the
   action is not allowed from its state (:class:`Illegal`, wording from the lifecycle table),
   the actor's role or identity forbids it (:class:`Forbidden`: four-eyes, self-approval), or
   the input is incomplete (:class:`Invalid`);
3. change the row, bump ``version``, keep the per-state counts, and append the audit entry —
   all in the same transaction. The caller publishes the case's fragment only after it commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.record import Database, audit, counts, off_hub
from webapp.record.audit import Actor
from webapp.record.lifecycle import ACTIONS, OUTCOME_STATE, OUTCOMES, FourEyes, State, needs_approval, refusal
from webapp.record.models import Case, CaseNote, CaseReview, Run, User
from webapp.roles import allows

MAX_TEXT = 10_000  # characters in a rationale, comment, reason or note


class DeskError(Exception):
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Illegal(DeskError):
    status = 409


class Forbidden(DeskError):
    status = 403


class Invalid(DeskError):
    status = 422


class NotFound(DeskError):
    status = 404


class Conflict(DeskError):
    """Someone changed the case since the caller read it: nothing was done; ``case`` is how it is now."""

    status = 409

    def __init__(self, message: str, case: CaseFile):
        super().__init__(message)
        self.case = case


@dataclass(frozen=True)
class Note:
    id: int
    author: str
    at: datetime
    text: str


@dataclass(frozen=True)
class Review:
    id: int
    reviewer: str
    at: datetime
    decision: str
    comment: str
    proposed_outcome: str
    reason_code: str
    proposed_by: str


@dataclass(frozen=True)
class RunSummary:
    id: str
    created_at: datetime
    created_by: str
    status: str
    determination: str | None
    confidence: int | None


@dataclass(frozen=True)
class CaseFile:
    """A case as plain data: its row's fields, its notes, reviews and runs (newest first)."""

    alert_id: str
    kind: str
    alert_type: str
    subject: str
    symbol: str
    trader: str
    score: int
    created_at: datetime
    updated_at: datetime
    latest_run_id: str | None
    state: State
    version: int
    assignee: str | None
    ai_determination: str | None
    ai_confidence: int | None
    proposed_outcome: str | None
    proposal_mode: str | None
    reason_code: str | None
    rationale: str | None
    proposed_by: str | None
    proposed_at: datetime | None
    outcome: str | None
    decided_at: datetime | None
    stor_status: str | None
    stor_reference: str | None
    stor_submitted_on: date | None
    notes: list[Note] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    runs: list[RunSummary] = field(default_factory=list)

    @property
    def dom_id(self) -> str:
        return case_dom_id(self.alert_id)


def case_dom_id(alert_id: str) -> str:
    """A stable element id for a case (AlertIDs may hold any character): hex of its bytes."""
    return "case-" + alert_id.encode().hex()


SCALARS = tuple(f for f in CaseFile.__dataclass_fields__ if f not in ("notes", "reviews", "runs"))


def _file(s: Session, case: Case, *, details: bool = True) -> CaseFile:
    values = {name: getattr(case, name) for name in SCALARS}
    values["state"] = State(case.state)
    if details:
        values["notes"] = [Note(n.id, n.author, n.at, n.text) for n in s.scalars(
            select(CaseNote).where(CaseNote.case_id == case.alert_id).order_by(CaseNote.id))]
        values["reviews"] = [Review(r.id, r.reviewer, r.at, r.decision, r.comment, r.proposed_outcome, r.reason_code,
                                    r.proposed_by) for r in s.scalars(
            select(CaseReview).where(CaseReview.case_id == case.alert_id).order_by(CaseReview.id))]
        values["runs"] = [RunSummary(r.id, r.created_at, r.created_by, r.status, r.determination, r.confidence)
                          for r in s.execute(select(Run.id, Run.created_at, Run.created_by, Run.status,
                                                    Run.determination, Run.confidence)
                                             .where(Run.case_id == case.alert_id)
                                             .order_by(Run.created_at.desc(), Run.id))]
    return CaseFile(**values)


@off_hub
def get(db: Database, alert_id: str) -> CaseFile | None:
    with db.reading() as s:
        case = s.get(Case, alert_id)
        return _file(s, case) if case is not None else None


@off_hub
def run_case(db: Database, run_id: str) -> str | None:
    """The AlertID of the case a run belongs to (None for an unknown run)."""
    with db.reading() as s:
        return s.scalar(select(Run.case_id).where(Run.id == run_id))


# ----------------------------------------------------------------------------- commands

def _text(value: str | None, what: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise Invalid(f"Write the {what}: it is part of the record.")
    if len(value) > MAX_TEXT:
        raise Invalid(f"The {what} is {len(value):,} characters long; the limit is {MAX_TEXT:,}.")
    return value


def _begin(s: Session, actor: Actor, alert_id: str, version: int | None, action: str) -> Case:
    """Lock the case and check what every command checks: it exists, the caller saw this version,
    the action is allowed from its state and for the actor's role."""
    case = s.get(Case, alert_id, with_for_update=True)
    if case is None:
        raise NotFound(f"There is no case {alert_id!r}.")
    spec = ACTIONS[action]
    if version is not None and case.version != version:
        raise Conflict(f"Someone changed this case while you were looking at it (it is now {State(case.state).label}"
                       f"{', assigned to ' + case.assignee if case.assignee else ''}). Nothing was done: "
                       "check the case as it is now and act again if you still need to.", _file(s, case))
    if not allows(actor.role, spec.permission):
        raise Forbidden(f"Your role ({actor.role}) may not “{spec.label}”.")
    problem = refusal(spec, State(case.state))
    if problem:
        raise Illegal(problem)
    if spec.not_by_proposer and case.proposed_by == actor.username:
        raise Forbidden("You proposed this disposition: a second person must review it (four-eyes).")
    if spec.only_by_proposer and case.proposed_by != actor.username:
        raise Forbidden(f"Only {case.proposed_by}, who proposed this disposition, may withdraw it; a reviewer "
                        "sends it back instead.")
    return case


def _move(s: Session, case: Case, target: State, now: datetime) -> str:
    before = case.state
    counts.move(s, before, target)
    case.state, case.version, case.updated_at = str(target), case.version + 1, now
    return before


def _command(fn):
    """Run ``fn(s, actor, case, now, **kwargs)`` after :func:`_begin`; return the case as it is after."""

    def command(db: Database, actor: Actor, alert_id: str, version: int | None, **kwargs) -> CaseFile:
        def run(db: Database) -> CaseFile:
            with db.transaction() as s:
                case = _begin(s, actor, alert_id, version, fn.__name__)
                fn(s, actor, case, datetime.now(UTC), **kwargs)
                s.flush()
                return _file(s, case)

        return db.call(run, db)

    command.__name__, command.__doc__ = fn.__name__, fn.__doc__
    return command


@_command
def assign(s, actor, case, now, *, assignee: str | None = None) -> None:
    """Take the case (``assignee`` None: the actor) or hand it to someone who works cases."""
    who = assignee or actor.username
    if who != actor.username:
        user = s.scalar(select(User).where(User.username == who))
        if user is None or not user.active or not allows(user.role, ACTIONS["assign"].permission):
            raise Invalid(f"{who!r} is not an active account that works cases.")
    if case.assignee == who and case.state == State.IN_PROGRESS:
        raise Illegal(f"The case is already assigned to {who}.")
    before, previous = _move(s, case, State.IN_PROGRESS, now), case.assignee
    case.assignee = who
    audit.append(s, actor, "case.assign", case_id=case.alert_id, assignee=who, previous=previous, state_before=before,
                 version=case.version)


@_command
def release(s, actor, case, now) -> None:
    """Put an unfinished case back in the queue, unassigned."""
    previous = case.assignee
    _move(s, case, State.NEW, now)
    case.assignee = None
    audit.append(s, actor, "case.release", case_id=case.alert_id, previous=previous, version=case.version)


@_command
def propose(s, actor, case, now, *, outcome: str, reason_code: str, rationale: str, reason_codes: dict[str, str],
            four_eyes: FourEyes = FourEyes.RULE) -> None:
    """Accept the AI's recommendation or override it; final at once when no approval is needed."""
    if case.assignee != actor.username:
        raise Forbidden(f"Only the case's assignee ({case.assignee or 'nobody'}) may propose its disposition: "
                        "assign it to yourself first.")
    if outcome not in OUTCOMES:
        raise Invalid(f"Choose a disposition: {' or '.join(OUTCOMES)}.")
    if reason_code not in reason_codes:
        raise Invalid("Choose a reason code from the list.")
    rationale = _text(rationale, "rationale")
    mode = "accept" if outcome == case.ai_determination else "override"
    case.proposed_outcome, case.proposal_mode, case.reason_code, case.rationale = outcome, mode, reason_code, rationale
    case.proposed_by, case.proposed_at = actor.username, now
    review = needs_approval(outcome, case.ai_determination, four_eyes)
    _move(s, case, State.PROPOSED if review else OUTCOME_STATE[outcome], now)
    audit.append(s, actor, "case.propose", case_id=case.alert_id, outcome=outcome, mode=mode, reason_code=reason_code,
                 rationale=rationale, ai_determination=case.ai_determination, four_eyes=review, version=case.version)
    if not review:
        _decide(s, actor, case, now, approved_by=None)


def _decide(s, actor, case, now, *, approved_by: str | None) -> None:
    case.outcome, case.decided_at = case.proposed_outcome, now
    if case.outcome == "ESCALATE" and case.stor_status is None:
        case.stor_status = "draft"
    audit.append(s, actor, "case.decide", case_id=case.alert_id, outcome=case.outcome, approved_by=approved_by,
                 stor_status=case.stor_status, version=case.version)


def _review(s, actor, case, now, decision: str, comment: str) -> None:
    s.add(CaseReview(case_id=case.alert_id, reviewer=actor.username, at=now, decision=decision, comment=comment,
                     proposed_outcome=case.proposed_outcome or "", reason_code=case.reason_code or "",
                     proposed_by=case.proposed_by or ""))


@_command
def approve(s, actor, case, now, *, comment: str = "") -> None:
    """The second pair of eyes agrees: the proposal becomes the outcome."""
    comment = _text(comment, "comment", required=False)
    _review(s, actor, case, now, "approved", comment)
    _move(s, case, OUTCOME_STATE[case.proposed_outcome], now)
    audit.append(s, actor, "case.approve", case_id=case.alert_id, outcome=case.proposed_outcome,
                 proposed_by=case.proposed_by, comment=comment, version=case.version)
    _decide(s, actor, case, now, approved_by=actor.username)


@_command
def send_back(s, actor, case, now, *, comment: str) -> None:
    """The reviewer disagrees or needs more: back to the assignee, with the reason."""
    comment = _text(comment, "comment for the analyst")
    _review(s, actor, case, now, "sent_back", comment)
    _move(s, case, State.IN_PROGRESS, now)
    audit.append(s, actor, "case.send_back", case_id=case.alert_id, outcome=case.proposed_outcome,
                 proposed_by=case.proposed_by, comment=comment, version=case.version)


@_command
def withdraw(s, actor, case, now) -> None:
    """The proposer takes the proposal back before anyone reviewed it (to correct it): the case is
    theirs again, in progress; the withdrawn proposal stays in the audit trail."""
    _move(s, case, State.IN_PROGRESS, now)
    audit.append(s, actor, "case.withdraw", case_id=case.alert_id, outcome=case.proposed_outcome,
                 reason_code=case.reason_code, rationale=case.rationale, version=case.version)


@_command
def submit_stor(s, actor, case, now, *, reference: str, submitted_on: date | None) -> None:
    """The STOR has gone to the regulator: its reference and the date it was submitted."""
    if case.stor_status != "draft":
        raise Illegal("This case's STOR is already recorded as submitted." if case.stor_status == "submitted"
                      else "This case has no STOR draft to submit.")
    reference = _text(reference, "regulator's reference")[:128]
    if submitted_on is None:
        raise Invalid("Give the date the STOR was submitted (YYYY-MM-DD).")
    if submitted_on > now.date():
        raise Invalid("The submission date is in the future.")
    case.stor_status, case.stor_reference, case.stor_submitted_on = "submitted", reference, submitted_on
    case.version, case.updated_at = case.version + 1, now
    audit.append(s, actor, "case.stor_submitted", case_id=case.alert_id, reference=reference,
                 submitted_on=submitted_on.isoformat(), version=case.version)


@_command
def reopen(s, actor, case, now, *, reason: str) -> None:
    """A closed or escalated case is worked again (by whoever reopens it); its history stays."""
    reason = _text(reason, "reason for reopening")
    before, outcome = _move(s, case, State.IN_PROGRESS, now), case.outcome
    case.assignee, case.outcome, case.decided_at = actor.username, None, None
    case.proposed_outcome = case.proposal_mode = case.reason_code = case.rationale = None
    case.proposed_by = case.proposed_at = None
    audit.append(s, actor, "case.reopen", case_id=case.alert_id, reason=reason, state_before=before,
                 outcome_before=outcome, version=case.version)


@_command
def note(s, actor, case, now, *, text: str) -> None:
    """Append a plain-text note (never edited: a correction is a new note)."""
    text = _text(text, "note")
    s.add(CaseNote(case_id=case.alert_id, author=actor.username, at=now, text=text))
    case.version, case.updated_at = case.version + 1, now
    audit.append(s, actor, "case.note", case_id=case.alert_id, text=text, version=case.version)
