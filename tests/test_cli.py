"""``smarts-analyzer users | audit | db``: the exact interface other tooling relies on, run as a
process with the server's configuration (the environment)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from tests.servers import REPO
from webapp.record import Database, users
from webapp.record.audit import Actor


def cli(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "webapp.cli", *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=60)


@pytest.fixture
def fresh_sqlite(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'var' / 'record' / 'analyzer.sqlite3'}"


def test_users_and_tokens_from_the_command_line(fresh_sqlite):
    url = fresh_sqlite  # not migrated yet: the CLI brings the schema up to date, as the server would
    added = cli(url, "users", "add", "ana", "--role", "analyst", "--password-stdin", stdin="a long password 1\n")
    assert added.returncode == 0, added.stderr
    prompted = cli(url, "users", "add", "rita", "--role", "reviewer", stdin="another password\nanother password\n")
    assert prompted.returncode == 0, prompted.stderr  # no --password-stdin: it asks (twice)
    assert cli(url, "users", "add", "bot", "--role", "auditor", "--service").returncode == 0
    duplicate = cli(url, "users", "add", "ana", "--role", "admin", "--password-stdin", stdin="a long password 2\n")
    assert duplicate.returncode == 1 and "already an account" in duplicate.stderr
    bad_role = cli(url, "users", "add", "x", "--role", "root", "--password-stdin", stdin="a long password 3\n")
    assert bad_role.returncode == 2 and "invalid choice" in bad_role.stderr

    created = cli(url, "users", "token", "create", "ana", "--name", "laptop")
    assert created.returncode == 0
    token = created.stdout.strip()
    assert created.stdout == token + "\n" and token.startswith("saa_")  # the token alone, once, on stdout
    db = Database(url)
    try:
        assert users.for_token(db, token).username == "ana"
        listing = cli(url, "users", "list").stdout
        assert "ana" in listing and "laptop (saa_" in listing and token not in listing
        assert "rita" in listing and "reviewer" in listing and "service" in listing
        assert cli(url, "users", "token", "revoke", "ana", "--name", "laptop").returncode == 0
        assert users.for_token(db, token) is None
        assert cli(url, "users", "disable", "rita").returncode == 0
        assert not {a.username: a for a in users.accounts(db)}["rita"].active
        missing = cli(url, "users", "disable", "nobody")
        assert missing.returncode == 1 and "no account called 'nobody'" in missing.stderr
    finally:
        db.dispose()

    exported = cli(url, "audit", "export", "--format", "jsonl", "--since", "2000-01-01")
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [r["action"] for r in rows] == ["user.add", "user.add", "user.add", "token.create", "token.revoke",
                                           "user.disable", "audit.export"]
    assert {r["actor"] for r in rows} == {f"cli:{rows[0]['actor'].split(':', 1)[1]}"} and rows[0]["actor_role"] == \
        "operator"
    assert cli(url, "audit", "export", "--format", "csv", "--until", "2000-01-01").stdout.count("\n") == 1  # header


def test_audit_verify_names_the_first_altered_entry(record_url):
    db = Database(record_url)
    try:
        for name in ("ana", "ben", "cy"):
            users.add(db, Actor.cli(), name, "analyst", kind="service")
        intact = cli(record_url, "audit", "verify")
        assert intact.returncode == 0 and "intact: 3 entries" in intact.stdout
        with db.engine.begin() as connection:  # someone with database access rewrites history
            connection.execute(text("UPDATE audit_entries SET detail = :d WHERE id = 2"),
                               {"d": json.dumps({"username": "mallory", "role": "admin"})})
    finally:
        db.dispose()
    broken = cli(record_url, "audit", "verify")
    assert broken.returncode == 1
    assert "BROKEN at entry 2" in broken.stderr and "altered" in broken.stderr


def test_db_upgrade_makes_the_schema_and_backup_copies_it(fresh_sqlite, tmp_path):
    result = cli(fresh_sqlite, "db", "upgrade")
    assert result.returncode == 0 and "up to date" in result.stdout
    path = fresh_sqlite.removeprefix("sqlite:///")
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == "0o700"
    db = Database(fresh_sqlite)
    users.add(db, Actor.cli(), "ana", "analyst", kind="service")
    db.dispose()
    copy = tmp_path / "backup.sqlite3"
    assert cli(fresh_sqlite, "db", "backup", str(copy)).returncode == 0
    assert oct(copy.stat().st_mode & 0o777) == "0o600"
    restored = cli(f"sqlite:///{copy}", "audit", "verify")
    assert restored.returncode == 0 and "intact: 1 entries" in restored.stdout
    assert cli(fresh_sqlite, "db", "backup", str(copy)).returncode == 1  # never over an existing file
