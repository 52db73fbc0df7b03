"""The system of record, on SQLite and on a real PostgreSQL server: migrations, accounts and
tokens, sign-in accounting, the hash-chained audit trail, and a finished run's record."""

from __future__ import annotations

import csv
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from agents.alerts import parse_alert
from agents.events import Event, EventType
from tests.conftest import SAMPLES
from webapp.record import audit, runs, schema, users
from webapp.record.audit import Actor
from webapp.record.users import AccountError

ADMIN = Actor("boss", "admin", "10.1.2.3", "req-1")
LOCKOUT = timedelta(minutes=15)


def entries(db) -> list[audit.Entry]:
    return list(reversed(audit.page(db, limit=1000)))


def test_the_migrations_build_exactly_the_models(record_url):
    assert not schema.pending(record_url)
    assert schema.differences(record_url) == []


def test_a_release_rolls_back_a_revision_and_forward_again_keeping_the_older_schemas_data(record_url):
    from webapp.record import Database, cases

    db = Database(record_url)
    try:
        users.add(db, ADMIN, "ana", "analyst", "long enough password")
        raw = (SAMPLES / "wash_genuine_gldx.xml").read_bytes()
        alert = parse_alert(raw)
        runs.record_start(db, ADMIN, [("ab" * 16, alert, raw, "gldx.xml")])
        cases.note(db, Actor("ana", "analyst"), alert.alert_id, None, text="kept until the rollback")
    finally:
        db.dispose()
    assert schema.current(record_url) == "0002_desk"

    schema.downgrade(record_url, "0001_record")
    assert schema.current(record_url) == "0001_record" and schema.pending(record_url)
    db = Database(record_url)
    try:
        with db.reading() as s:
            tables = set(s.execute(text(
                "SELECT name FROM sqlite_master WHERE type='table'" if db.is_sqlite else
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars())
            assert {"case_notes", "case_reviews", "case_counts"}.isdisjoint(tables)  # the desk's, gone
            assert s.execute(text("SELECT alert_id FROM cases")).scalars().all() == [alert.alert_id]
            assert s.execute(text("SELECT username FROM users")).scalars().all() == ["ana"]
        assert audit.verify(db).ok  # the chain is whole
    finally:
        db.dispose()

    schema.upgrade(record_url)
    assert schema.current(record_url) == "0002_desk" and schema.differences(record_url) == []
    db = Database(record_url)
    try:
        case = cases.get(db, alert.alert_id)
        assert case.state == "new" and case.notes == []  # back as a new case; the note went with 0002
    finally:
        db.dispose()


def test_accounts_and_tokens(record_db):
    users.add(record_db, ADMIN, "ana", "analyst", "long enough password")
    with pytest.raises(AccountError, match="already an account"):
        users.add(record_db, ADMIN, "ANA", "reviewer", "another long password")
    with pytest.raises(AccountError, match="Unknown role"):
        users.add(record_db, ADMIN, "eve", "superuser", "long enough password")
    with pytest.raises(AccountError, match="at least 12"):
        users.add(record_db, ADMIN, "eve", "analyst", "short")
    users.add(record_db, ADMIN, "robot", "analyst", kind="service")

    token = users.create_token(record_db, ADMIN, "robot", "ci")
    assert token.startswith("saa_") and len(token) > 40
    principal = users.for_token(record_db, token)
    assert (principal.username, principal.role, principal.via) == ("robot", "analyst", "token")
    with pytest.raises(AccountError, match="already has a token"):
        users.create_token(record_db, ADMIN, "robot", "ci")
    assert users.for_token(record_db, token + "x") is None
    assert users.for_token(record_db, "not-ours") is None
    users.revoke_token(record_db, ADMIN, "robot", "ci")
    assert users.for_token(record_db, token) is None
    with pytest.raises(AccountError, match="no live token"):
        users.revoke_token(record_db, ADMIN, "robot", "ci")

    with record_db.reading() as s:  # only the hash is stored
        stored = s.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
    assert token not in stored and users.token_digest(token) in stored

    listed = {a.username: a for a in users.accounts(record_db)}
    assert listed["robot"].kind == "service" and listed["robot"].tokens[0].revoked_at is not None
    assert [(e.action, e.actor, e.ip, e.detail.get("username")) for e in entries(record_db)] == [
        ("user.add", "boss", "10.1.2.3", "ana"), ("user.add", "boss", "10.1.2.3", "robot"),
        ("token.create", "boss", "10.1.2.3", "robot"), ("token.revoke", "boss", "10.1.2.3", "robot")]


def test_failed_sign_ins_lock_the_account_and_every_attempt_is_audited(record_db):
    users.add(record_db, ADMIN, "ana", "analyst", "the right password")
    visitor = Actor("anonymous", "", "192.0.2.7", "r")
    for _ in range(2):
        assert users.sign_in(record_db, visitor, "ana", "wrong", max_failures=3, lockout=LOCKOUT).principal is None
    ok = users.sign_in(record_db, visitor, "ana", "the right password", max_failures=3, lockout=LOCKOUT)
    assert ok.principal.username == "ana"  # a success resets the count
    for _ in range(3):
        refused = users.sign_in(record_db, visitor, "ana", "wrong", max_failures=3, lockout=LOCKOUT)
    assert "locked for 15 minutes" in refused.problem
    locked = users.sign_in(record_db, visitor, "ana", "the right password", max_failures=3, lockout=LOCKOUT)
    assert locked.principal is None and "locked" in locked.problem  # even with the right password
    unknown = users.sign_in(record_db, visitor, "nobody", "x", max_failures=3, lockout=LOCKOUT)
    assert unknown.problem == "The username or password is not right."  # the same answer as a wrong password

    trail = entries(record_db)[1:]
    assert [e.action for e in trail] == ["auth.sign_in_failed"] * 2 + ["auth.sign_in"] + \
        ["auth.sign_in_failed"] * 5
    assert {e.ip for e in trail} == {"192.0.2.7"}
    assert trail[-3].detail["locked_until"] and trail[-2].detail["reason"] == "locked"
    assert trail[-1].detail == {"reason": "unknown account", "username": "nobody"}
    since = datetime.now(UTC) - timedelta(minutes=1)
    assert audit.failures_from(record_db, "192.0.2.7", since) == 7
    users.set_active(record_db, ADMIN, "ana", True)  # an administrator lifts the lock
    assert users.sign_in(record_db, visitor, "ana", "the right password", max_failures=3,
                         lockout=LOCKOUT).principal is not None


def test_disabling_an_account_ends_its_sessions_and_tokens(record_db):
    ana = users.add(record_db, ADMIN, "ana", "analyst", "the right password")
    token = users.create_token(record_db, ADMIN, "ana", "laptop")
    assert users.for_session(record_db, ana.id, ana.session_key) is not None
    users.set_active(record_db, ADMIN, "ana", False)
    assert users.for_session(record_db, ana.id, ana.session_key) is None
    assert users.for_token(record_db, token) is None
    users.set_active(record_db, ADMIN, "ana", True)
    assert users.for_session(record_db, ana.id, ana.session_key) is None  # the old sessions stay ended
    assert users.for_token(record_db, token) is not None


def test_single_sign_on_creates_the_account_once_and_follows_the_providers_role(record_db):
    visitor = Actor("anonymous", "", "192.0.2.8", "r")
    first = users.sign_on(record_db, visitor, subject="https://idp|u1", username_hint="olivia",
                          display_name="Olivia", role="analyst")
    again = users.sign_on(record_db, visitor, subject="https://idp|u1", username_hint="olivia",
                          display_name="Olivia", role="reviewer")
    assert first.id == again.id and again.role == "reviewer"
    other = users.sign_on(record_db, visitor, subject="https://other-idp|u1", username_hint="olivia",
                          display_name="", role="auditor")
    assert other.username == "olivia-2"  # a different identity never takes over an account
    assert [e.action for e in entries(record_db)] == ["user.sign_on", "auth.sign_in", "user.role", "auth.sign_in",
                                                      "user.sign_on", "auth.sign_in"]


def test_an_action_and_its_audit_entry_commit_or_roll_back_together(record_db):
    before = audit.verify(record_db).head_id
    with pytest.raises(RuntimeError), record_db.transaction() as s:
        audit.append(s, ADMIN, "user.add", username="ghost")
        raise RuntimeError("the change failed after its entry was appended")
    assert audit.verify(record_db).head_id == before and entries(record_db) == []
    with pytest.raises(ValueError, match="unknown audit action"), record_db.transaction() as s:
        audit.append(s, ADMIN, "made.up")


def _tamper(db, sql: str, **params) -> None:
    with db.engine.begin() as connection:
        connection.execute(text(sql), params)


def test_verify_finds_the_first_entry_that_was_altered_removed_or_rehashed(record_db):
    for n in range(6):
        audit.record(record_db, ADMIN, "case.view", case_id=f"CASE-{n}", run_id=f"{n:032x}")
    assert audit.verify(record_db).ok and audit.verify(record_db).checked == 6

    original = next(e for e in entries(record_db) if e.id == 3)
    _tamper(record_db, "UPDATE audit_entries SET actor = 'someone-else' WHERE id = 3")
    verdict = audit.verify(record_db)
    assert not verdict.ok and verdict.broken_id == 3 and "altered" in verdict.problem and verdict.checked == 2

    # An attacker who also recomputes the entry's own hash breaks the link to the next entry.
    _tamper(record_db, "UPDATE audit_entries SET hash = :h WHERE id = 3", h="f" * 64)
    assert audit.verify(record_db).broken_id == 3
    _tamper(record_db, "UPDATE audit_entries SET actor = :a, hash = :h WHERE id = 3", a=original.actor,
            h=original.hash)
    assert audit.verify(record_db).ok

    _tamper(record_db, "DELETE FROM audit_entries WHERE id = 4")
    verdict = audit.verify(record_db)
    assert verdict.broken_id == 4 and "missing" in verdict.problem

    _tamper(record_db, "DELETE FROM audit_entries WHERE id >= 4")  # the newest entries, all of them
    verdict = audit.verify(record_db)
    assert not verdict.ok and "head records entry 6" in verdict.problem


def test_concurrent_writers_make_one_unbroken_chain(record_db):
    errors = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                audit.record(record_db, Actor(f"writer-{n}", "analyst"), "case.view", case_id=f"C{n}-{i}")
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    verdict = audit.verify(record_db)
    assert verdict.ok and verdict.checked == 60
    assert [e.id for e in entries(record_db)] == list(range(1, 61))


def _events(run_id: str) -> list[Event]:
    decision = {"determination": "ESCALATE", "confidence": 88, "summary": "s"}
    kinds = [(EventType.RUN_STARTED, {}), (EventType.DECISION, decision),
             (EventType.RUN_COMPLETED, {"determination": "ESCALATE", "confidence": 88})]
    return [Event(run_id=run_id, seq=n, ts=1_700_000_000.0 + n, type=t, data=d) for n, (t, d) in enumerate(kinds, 1)]


def test_a_run_is_noted_at_upload_and_its_record_written_once_when_it_ends(record_db):
    raw = (SAMPLES / "wash_genuine_gldx.xml").read_bytes()
    alert = parse_alert(raw)
    run_id = "a" * 32
    uploader = Actor("ana", "analyst", "10.0.0.9", "req-up")
    runs.record_start(record_db, uploader, [(run_id, alert, raw, "gldx.xml")])
    assert runs.load(record_db, run_id) is None  # noted, not finished

    fields = {"id": run_id, "alert_id": alert.alert_id, "kind": str(alert.kind), "alert_type": alert.alert_type,
              "status": "completed", "created_at": "1700000000.0", "finished_at": "1700000003.0",
              "determination": "ESCALATE", "confidence": "88", "created_by": "ana"}
    assert runs.save_finished(record_db, run_id, fields, _events(run_id), raw) is True
    assert runs.save_finished(record_db, run_id, fields, _events(run_id), raw) is False  # once only

    finished = runs.load(record_db, run_id)
    assert finished.fields["status"] == "completed" and finished.alert == raw
    assert [e.type for e in finished.events] == ["run_started", "decision", "run_completed"]
    assert finished.events[1].data["determination"] == "ESCALATE"
    upload, end = entries(record_db)
    assert (upload.action, upload.actor, upload.case_id, upload.run_id) == ("case.upload", "ana", alert.alert_id,
                                                                            run_id)
    assert (end.action, end.actor, end.detail["determination"]) == ("run.finished", "system", "ESCALATE")
    with record_db.reading() as s:
        row = s.execute(text("SELECT status, determination, confidence, created_by FROM runs")).one()
    assert tuple(row) == ("completed", "ESCALATE", 88, "ana")


def test_export_streams_csv_and_json_lines_within_a_window(record_db):
    for n in range(3):
        audit.record(record_db, ADMIN, "case.view", case_id=f"C{n}", note="a \"quoted\", comma")
    lines = list(audit.export_lines(audit.stream(record_db), "jsonl"))
    rows = [json.loads(line) for line in lines]
    assert [r["id"] for r in rows] == [1, 2, 3] and rows[0]["detail"] == {"note": 'a "quoted", comma'}
    assert rows[1]["prev_hash"] == rows[0]["hash"]
    csv_lines = list(audit.export_lines(audit.stream(record_db), "csv"))
    assert csv_lines[0].startswith("id,at,actor,actor_role,ip,request_id,action,case_id,run_id,detail")
    parsed = list(csv.DictReader(csv_lines))
    assert [r["id"] for r in parsed] == ["1", "2", "3"] and json.loads(parsed[0]["detail"]) == rows[0]["detail"]
    assert [r["hash"] for r in parsed] == [r["hash"] for r in rows]
    future = datetime.now(UTC) + timedelta(hours=1)
    assert list(audit.stream(record_db, since=future)) == []
    assert [e.id for e in audit.stream(record_db, until=future)] == [1, 2, 3]
    assert audit.parse_time("2026-01-31") == datetime(2026, 1, 31, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a date"):
        audit.parse_time("yesterday")
