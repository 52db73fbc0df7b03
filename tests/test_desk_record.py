"""The desk's lifecycle in the record, on SQLite and on a real PostgreSQL server: transitions and
their refusals, four-eyes, optimistic locking, STOR tracking, notes, counts and the audit trail."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from agents.alerts import parse_alert
from agents.events import Event, EventType
from tests.conftest import SAMPLES
from webapp.record import audit, cases, queue, runs, users
from webapp.record.audit import Actor
from webapp.record.cases import Conflict, Forbidden, Illegal, Invalid
from webapp.record.lifecycle import ACTIONS, DEFAULT_REASON_CODES, FourEyes, State, needs_approval, rank
from webapp.record.models import Case
from webapp.record.queue import QueueFilter

ANA = Actor("ana", "analyst", "10.0.0.1", "r1")
BEN = Actor("ben", "analyst")
RITA = Actor("rita", "reviewer")
ROB = Actor("rob", "reviewer")
AUDREY = Actor("audrey", "auditor")
CODES = dict(DEFAULT_REASON_CODES)


def open_case(db, sample: str = "wash_genuine_gldx.xml", determination: str | None = "ESCALATE",
              run_id: str = "a" * 32) -> str:
    raw = (SAMPLES / sample).read_bytes()
    alert = parse_alert(raw)
    runs.record_start(db, ANA, [(run_id, alert, raw, sample)])
    if determination:
        decision = {"determination": determination, "confidence": 80, "summary": "s"}
        events = [Event(run_id=run_id, seq=1, ts=1.7e9, type=EventType.DECISION, data=decision),
                  Event(run_id=run_id, seq=2, ts=1.7e9 + 1, type=EventType.RUN_COMPLETED, data=decision)]
        fields = {"alert_id": alert.alert_id, "kind": str(alert.kind), "alert_type": alert.alert_type,
                  "status": "completed"}
        runs.save_finished(db, run_id, fields, events, raw)
    return alert.alert_id


def propose(db, actor, case_id, outcome, version=None, **kw):
    version = version if version is not None else cases.get(db, case_id).version
    return cases.propose(db, actor, case_id, version, outcome=outcome, reason_code=kw.pop("reason_code",
                         "insufficient_evidence"), rationale=kw.pop("rationale", "Because the facts say so."),
                         reason_codes=CODES, **kw)


def actions(db, case_id) -> list[str]:
    return [e.action for e in reversed(audit.page(db, case_id=case_id, limit=100))]


def test_the_lifecycle_table_reads_as_the_readme_says():
    assert ACTIONS["approve"].sources == {State.PROPOSED} and ACTIONS["approve"].not_by_proposer
    assert ACTIONS["reopen"].sources == {State.CLOSED, State.ESCALATED}
    assert needs_approval("ESCALATE", "ESCALATE") and needs_approval("ESCALATE", "CLOSE")
    assert needs_approval("CLOSE", "ESCALATE") and needs_approval("CLOSE", "NEEDS_HUMAN_REVIEW")
    assert needs_approval("CLOSE", None)  # the AI never decided: a human closing it is an override
    assert not needs_approval("CLOSE", "CLOSE") and needs_approval("CLOSE", "CLOSE", FourEyes.ALL)
    assert rank("ESCALATE", 10) < rank("NEEDS_HUMAN_REVIEW", 99) < rank("CLOSE", 99) < rank(None, 99)
    assert rank("ESCALATE", 90) < rank("ESCALATE", 10)


def test_escalation_needs_a_second_pair_of_eyes_and_tracks_its_stor(record_db):
    case_id = open_case(record_db)
    case = cases.get(record_db, case_id)
    assert (case.state, case.ai_determination, case.version) == (State.NEW, "ESCALATE", 2)
    case = cases.assign(record_db, ANA, case_id, case.version)
    assert (case.state, case.assignee) == (State.IN_PROGRESS, "ana")
    case = propose(record_db, ANA, case_id, "ESCALATE", reason_code="reasonable_suspicion")
    assert (case.state, case.proposal_mode, case.outcome) == (State.PROPOSED, "accept", None)

    with pytest.raises(Forbidden, match="four-eyes"):
        cases.approve(record_db, Actor("ana", "reviewer"), case_id, case.version)  # even with the role
    with pytest.raises(Forbidden, match="role"):
        cases.approve(record_db, BEN, case_id, case.version)
    case = cases.approve(record_db, RITA, case_id, case.version, comment="Agreed.")
    assert (case.state, case.outcome, case.stor_status) == (State.ESCALATED, "ESCALATE", "draft")
    assert [(r.reviewer, r.decision, r.proposed_by) for r in case.reviews] == [("rita", "approved", "ana")]

    with pytest.raises(Invalid, match="future"):
        cases.submit_stor(record_db, ANA, case_id, case.version, reference="FCA-1",
                          submitted_on=date.today() + timedelta(days=2))
    case = cases.submit_stor(record_db, ANA, case_id, case.version, reference="FCA-2026-0042",
                             submitted_on=date(2026, 11, 20))
    assert (case.stor_status, case.stor_reference, case.stor_submitted_on) == ("submitted", "FCA-2026-0042",
                                                                             date(2026, 11, 20))
    with pytest.raises(Illegal, match="already"):
        cases.submit_stor(record_db, ANA, case_id, case.version, reference="x", submitted_on=date(2026, 11, 20))
    assert actions(record_db, case_id) == ["case.upload", "run.finished", "case.assign", "case.propose",
                                           "case.approve", "case.decide", "case.stor_submitted"]
    assert audit.verify(record_db).ok


def test_a_close_agreeing_with_the_ai_is_final_at_once_unless_four_eyes_is_all(record_db):
    case_id = open_case(record_db, determination="CLOSE")
    cases.assign(record_db, ANA, case_id, cases.get(record_db, case_id).version)
    case = propose(record_db, ANA, case_id, "CLOSE", reason_code="market_making")
    assert (case.state, case.outcome, case.stor_status, case.reviews) == (State.CLOSED, "CLOSE", None, [])

    case = cases.reopen(record_db, BEN, case_id, case.version, reason="New information from the desk head.")
    assert (case.state, case.assignee, case.outcome, case.proposed_outcome) == (State.IN_PROGRESS, "ben", None,
                                                                                None)
    case = propose(record_db, BEN, case_id, "CLOSE", four_eyes=FourEyes.ALL)
    assert case.state == State.PROPOSED


def test_overriding_the_ai_needs_approval_and_a_send_back_returns_the_case(record_db):
    case_id = open_case(record_db, determination="NEEDS_HUMAN_REVIEW")
    cases.assign(record_db, ANA, case_id, cases.get(record_db, case_id).version)
    with pytest.raises(Invalid, match="reason code"):
        propose(record_db, ANA, case_id, "CLOSE", reason_code="made_up")
    with pytest.raises(Invalid, match="rationale"):
        propose(record_db, ANA, case_id, "CLOSE", rationale="   ")
    with pytest.raises(Forbidden, match="assignee"):
        propose(record_db, BEN, case_id, "CLOSE")
    case = propose(record_db, ANA, case_id, "CLOSE", reason_code="public_information")
    assert (case.state, case.proposal_mode) == (State.PROPOSED, "override")
    with pytest.raises(Invalid, match="comment"):
        cases.send_back(record_db, RITA, case_id, case.version, comment="")
    case = cases.send_back(record_db, RITA, case_id, case.version, comment="Cite the announcement.")
    assert (case.state, case.assignee) == (State.IN_PROGRESS, "ana")
    assert case.reviews[-1].decision == "sent_back" and case.reviews[-1].comment == "Cite the announcement."


def test_illegal_transitions_are_refused_with_a_clear_message_and_change_nothing(record_db):
    case_id = open_case(record_db)
    version = cases.get(record_db, case_id).version
    with pytest.raises(Illegal, match=r"Approve.*New.*Disposition proposed"):
        cases.approve(record_db, RITA, case_id, version)
    with pytest.raises(Illegal, match="Reopen"):
        cases.reopen(record_db, ANA, case_id, version, reason="why")
    with pytest.raises(Forbidden, match="auditor"):
        cases.note(record_db, AUDREY, case_id, version, text="I was here")
    assert cases.get(record_db, case_id).version == version
    assert actions(record_db, case_id) == ["case.upload", "run.finished"]


def test_two_reviewers_at_once_one_wins_and_the_other_sees_the_new_state(record_db):
    case_id = open_case(record_db)
    cases.assign(record_db, ANA, case_id, cases.get(record_db, case_id).version)
    seen = propose(record_db, ANA, case_id, "ESCALATE").version
    results: dict[str, object] = {}
    start = threading.Barrier(2)

    def act(name: str, fn) -> None:
        start.wait()
        try:
            results[name] = fn()
        except Conflict as exc:
            results[name] = exc

    threads = [threading.Thread(target=act, args=("rita", lambda: cases.approve(record_db, RITA, case_id, seen))),
               threading.Thread(target=act, args=("rob", lambda: cases.send_back(record_db, ROB, case_id, seen,
                                                                                  comment="No.")))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lost = [r for r in results.values() if isinstance(r, Conflict)]
    won = [r for r in results.values() if not isinstance(r, Conflict)]
    assert len(lost) == 1 and len(won) == 1
    assert lost[0].case.version == won[0].version and lost[0].case.state == won[0].state
    assert "Nothing was done" in lost[0].message
    assert len(cases.get(record_db, case_id).reviews) == 1


def test_notes_are_append_only_plain_text_and_audited(record_db):
    case_id = open_case(record_db, determination=None)
    case = cases.note(record_db, ANA, case_id, None, text="<b>first</b>")
    case = cases.note(record_db, BEN, case_id, case.version, text="Correction: second")
    assert [(n.author, n.text) for n in case.notes] == [("ana", "<b>first</b>"), ("ben", "Correction: second")]
    assert actions(record_db, case_id)[-2:] == ["case.note", "case.note"]
    with pytest.raises(Invalid, match="limit"):
        cases.note(record_db, ANA, case_id, None, text="x" * 10_001)


def test_assignment_to_someone_else_must_name_an_account_that_works_cases(record_db):
    users.add(record_db, Actor.cli(), "ben", "analyst", "a long enough password")
    users.add(record_db, Actor.cli(), "adam", "admin", "a long enough password")
    case_id = open_case(record_db)
    with pytest.raises(Invalid, match="adam"):
        cases.assign(record_db, RITA, case_id, None, assignee="adam")
    case = cases.assign(record_db, RITA, case_id, None, assignee="ben")
    assert case.assignee == "ben"
    case = cases.release(record_db, BEN, case_id, case.version)
    assert (case.state, case.assignee) == (State.NEW, None)


def test_counts_per_state_follow_every_transition(record_db):
    first = open_case(record_db, run_id="a" * 32)
    open_case(record_db, "insider_genuine_acme.xml", run_id="b" * 32)
    open_case(record_db, "insider_genuine_acme.xml", run_id="c" * 32)  # the same AlertID: the same case
    assert queue.counts(record_db) == {"new": 2, "in_progress": 0, "proposed": 0, "closed": 0, "escalated": 0}
    cases.assign(record_db, ANA, first, None)
    propose(record_db, ANA, first, "ESCALATE")
    assert queue.counts(record_db)["proposed"] == 1 and queue.counts(record_db)["new"] == 1
    acme = parse_alert((SAMPLES / "insider_genuine_acme.xml").read_bytes()).alert_id
    assert len(cases.get(record_db, acme).runs) == 2


def test_a_reinvestigation_speaks_for_the_case_once_it_ends(record_db):
    case_id = open_case(record_db, determination="CLOSE", run_id="a" * 32)
    assert cases.get(record_db, case_id).ai_determination == "CLOSE"
    open_case(record_db, determination="ESCALATE", run_id="b" * 32)
    case = cases.get(record_db, case_id)
    assert case.ai_determination == "ESCALATE" and [r.id for r in case.runs] == ["b" * 32, "a" * 32]
    assert case.decided_at is None and datetime.now(UTC) - case.created_at.replace(tzinfo=UTC) < timedelta(1)


def fill(db, n: int) -> list[Case]:
    """``n`` cases with varied facts, written directly (as bench/queue.py does, at scale)."""
    base = datetime(2026, 1, 1, tzinfo=UTC)
    made = []
    with db.transaction() as s:
        for i in range(n):
            determination = (None, "ESCALATE", "CLOSE", "NEEDS_HUMAN_REVIEW")[i % 4]
            state = list(State)[i % 5]
            case = Case(alert_id=f"A{i:04d}", kind=("insider_dealing", "wash_trade")[i % 2], alert_type="t",
                        subject=f"Trader {i % 7}", subject_key=f"trader {i % 7}",
                        symbol=("ACME", "GLDX", "NOVA")[i % 3],
                        trader=f"T{i % 5}", score=(i * 37) % 100, created_at=base + timedelta(hours=i % 13, minutes=i),
                        updated_at=base, state=str(state), version=1, ai_determination=determination,
                        assignee=("ana", None, "ben")[i % 3], outcome={State.CLOSED: "CLOSE",
                                                                      State.ESCALATED: "ESCALATE"}.get(state),
                        rank=rank(determination, (i * 37) % 100))
            s.add(case)
            made.append(case)
    return made


VIEWS = [
    QueueFilter(),
    QueueFilter(sort="date"),
    QueueFilter(state="open", assignee="mine", me="ana"),
    QueueFilter(state="proposed", sort="date"),
    QueueFilter(assignee="unassigned", kind="wash_trade", determination="ESCALATE"),
    QueueFilter(determination="none", outcome="none"),
    QueueFilter(outcome="CLOSE", sort="date"),
    QueueFilter(q="GLDX"), QueueFilter(q="trader 3"), QueueFilter(q="T4"), QueueFilter(q="A0007"),
    QueueFilter(q="trader"),
    QueueFilter(date_from=date(2026, 1, 1), date_to=date(2026, 1, 1), sort="date"),
]


def expected(made: list[Case], f: QueueFilter) -> list[str]:
    def keep(c: Case) -> bool:
        return all([
            not f.state or (c.state not in ("closed", "escalated") if f.state == "open" else c.state == f.state),
            f.assignee != "mine" or c.assignee == f.me, f.assignee != "unassigned" or c.assignee is None,
            not f.kind or c.kind == f.kind,
            not f.determination or c.ai_determination == (None if f.determination == "none" else f.determination),
            not f.outcome or c.outcome == (None if f.outcome == "none" else f.outcome),
            not f.q or f.q in (c.alert_id, c.trader, c.symbol) or c.subject_key.startswith(f.q.lower()),
            not f.date_from or c.created_at.date() >= f.date_from, not f.date_to or c.created_at.date() <= f.date_to])

    chosen = [c for c in made if keep(c)]
    if f.sort == "priority":
        chosen.sort(key=lambda c: (c.rank, c.created_at, c.alert_id))
    else:
        chosen.sort(key=lambda c: (c.created_at, c.alert_id), reverse=True)
    return [c.alert_id for c in chosen]


@pytest.mark.parametrize("view", VIEWS, ids=repr)
def test_the_queues_pages_hold_exactly_the_filtered_cases_in_order(record_db, view):
    made = fill(record_db, 240)
    got, f, pages = [], replace(view, limit=17), 0
    while True:
        found = queue.page(record_db, f)
        got += [r.alert_id for r in found.rows]
        pages += 1
        if found.next_cursor is None:
            break
        f = replace(f, cursor=found.next_cursor)
    want = expected(made, view)
    assert want, "the view should select some cases"
    assert got == want and pages == max(1, -(-len(want) // 17))
    assert [r.alert_id for r in queue.stream(record_db, view, batch=10)] == want


def test_a_cursor_that_is_not_ours_starts_at_the_first_page(record_db):
    fill(record_db, 5)
    assert len(queue.page(record_db, QueueFilter(cursor="not-a-cursor")).rows) == 5
