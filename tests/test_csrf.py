"""Every state-changing form of the web UI refuses a post without its CSRF token, and changes nothing.

The table below names each POST/PUT/PATCH/DELETE route the app serves (read from its URL map,
so a new one without a row fails :func:`test_every_state_changing_route_has_a_row`). Each row
is posted by a signed-in user (a stranger for the sign-in form) twice: first without the token,
which must answer 400 and leave Redis, the record and the session exactly as they were; then with
it, which must change what the row observes — so the first half cannot pass because the request
was harmless anyway.

The app runs in this process (Flask's test client) on a Redis and a record of its own, so nothing
else writes into what is compared. Its instance may run no analyses (MAX_RUNS_IN_FLIGHT=0): an
upload is stored and queued, and a queued run is what the cancel form cancels.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import redis

from tests.conftest import SAMPLES
from tests.servers import CSRF, Identity, provision
from webapp.app import create_app
from webapp.config import Settings
from webapp.embedded_redis import EmbeddedRedis

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
INSIDER = (SAMPLES / "insider_genuine_acme.xml").read_bytes()
WASH = (SAMPLES / "wash_genuine_gldx.xml").read_bytes()

# Endpoints exempt from CSRF, each with why a forged request cannot use them (tested below).
EXEMPT = {
    "a2a.rpc": "bearer tokens only: a browser session is not a credential there",
    "a2a.specialist_rpc": "bearer tokens only: a browser session is not a credential there",
}


@dataclass
class Row:
    """A form: who posts it, where, with which fields (and files)."""

    role: str | None  # None: a stranger
    path: str
    form: dict = field(default_factory=dict)
    files: Callable[[], dict] | None = None
    case_state: str | None = None  # a desk form: a fresh case, brought to this state first ("{case}" in the path)

    def data(self, form: dict, **extra) -> dict:
        return {**form, **(self.files() if self.files else {}), **extra}


def _upload(*alerts: bytes) -> Callable[[], dict]:
    """The file fields of a multipart post (fresh streams for every post)."""
    return lambda: {"alert": [(io.BytesIO(raw), f"alert{n}.xml", "application/xml") for n, raw in enumerate(alerts)]}


ROWS: dict[str, Row] = {
    # "reinvestigate": a new run even when an earlier row made the alert's case (else the upload opens it)
    "analyses.create": Row("analyst", "/analyses", {"reinvestigate": "1"}, files=_upload(INSIDER)),
    "analyses.create[batch]": Row("analyst", "/analyses", files=_upload(INSIDER, WASH)),
    "analyses.create[sample]": Row("analyst", "/analyses", {"sample": "wash_genuine_gldx.xml", "reinvestigate": "1"}),
    "analyses.cancel": Row("analyst", "/analyses/{run}/cancel", {"confirmed": "yes"}),
    "auth.sign_in": Row(None, "/login", {"username": "test-analyst", "password": "{password}"}),
    "auth.logout": Row("reviewer", "/logout"),
    "admin.add_user": Row("admin", "/admin/users", {"username": "{new}", "role": "reviewer", "kind": "person",
                                                    "password": "a long enough password"}),
    "admin.set_active": Row("admin", "/admin/users/{victim}/active", {"active": "0"}),
    "admin.create_token": Row("admin", "/admin/users/{victim}/tokens", {"name": "{new}"}),
    "admin.revoke_token": Row("admin", "/admin/users/{victim}/tokens/revoke", {"name": "victim-token"}),
    # The desk: each lifecycle action on a case in a state that allows it, by a role that may take it.
    "desk.assign": Row("analyst", "/cases/{case}/assign", {"version": "{version}"}, case_state="new"),
    "desk.release": Row("analyst", "/cases/{case}/release", {"version": "{version}"}, case_state="in_progress"),
    "desk.propose": Row("analyst", "/cases/{case}/propose", {"version": "{version}", "outcome": "ESCALATE",
                                                            "reason_code": "reasonable_suspicion",
                                                            "rationale": "Trades ahead of the announcement."},
                        case_state="in_progress"),
    "desk.approve": Row("reviewer", "/cases/{case}/approve", {"version": "{version}"}, case_state="proposed"),
    "desk.send_back": Row("reviewer", "/cases/{case}/send-back", {"version": "{version}", "comment": "Why now?"},
                          case_state="proposed"),
    "desk.withdraw": Row("analyst", "/cases/{case}/withdraw", {"version": "{version}"}, case_state="proposed"),
    "desk.reopen": Row("analyst", "/cases/{case}/reopen", {"version": "{version}", "reason": "New evidence."},
                       case_state="escalated"),
    "desk.submit_stor": Row("analyst", "/cases/{case}/submit-stor", {"version": "{version}", "reference": "STOR-1",
                                                                     "submitted_on": "2026-11-20"},
                            case_state="escalated"),
    "desk.note": Row("analyst", "/cases/{case}/note", {"version": "{version}", "text": "Called the desk head."},
                     case_state="new"),
    "desk.reinvestigate": Row("analyst", "/cases/{case}/reinvestigation", case_state="new"),
}


@pytest.fixture(scope="module")
def accounts(tmp_path_factory) -> Identity:
    return provision(f"sqlite:///{tmp_path_factory.mktemp('csrf') / 'record' / 'r.sqlite3'}")


@pytest.fixture(scope="module")
def app(tmp_path_factory, accounts):
    with EmbeddedRedis(tmp_path_factory.mktemp("csrf-redis"), persistent=False) as server:
        limits = {f"rate_limit_{name}": "100000/minute" for name in
                  ("upload", "upload_ip", "a2a_send", "a2a_send_ip", "sign_in", "sign_in_ip", "fallback")}
        settings = Settings.from_env(redis_url=server.url, database_url=accounts.database_url, secret_key="csrf-test",
                                     state_dir=tmp_path_factory.mktemp("csrf-state"), max_runs_in_flight=0,
                                     principal_cache_seconds=0, **limits)
        app = create_app(settings)
        app.config["TESTING"] = True
        yield app
        dispatcher = app.extensions["saa"].dispatcher
        if dispatcher is not None:  # spawned by the first upload, never scheduled: nothing in this test yields
            dispatcher.greenlet.kill(block=False)


@pytest.fixture(scope="module")
def redis_client(app):
    client = redis.Redis.from_url(app.extensions["saa"].settings.redis_url)
    yield client
    client.close()


def token_of(client, path: str) -> str:
    return CSRF.search(client.get(path).text).group(1)


def signed_in(app, accounts: Identity, role: str | None):
    client = app.test_client()
    if role is not None:
        response = client.post("/login", data={"csrf_token": token_of(client, "/login"),
                                               "username": accounts.username(role),
                                               "password": accounts.passwords[role]})
        assert response.status_code == 303, response.text
    return client


def state(app, redis_client, client) -> dict:
    """Everything a form could change: every Redis key's value (rate-limit counters aside), every row
    of the record, and who the client is signed in as."""
    keys = sorted(k for k in redis_client.keys("*") if not k.startswith(b"saa:limits"))
    path = app.extensions["saa"].settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as record:
        rows = list(record.iterdump())
    with client.session_transaction() as session:
        user = session.get("_user_id")
    return {"redis": {k: redis_client.dump(k) for k in keys}, "record": rows, "user": user}


def changed(before: dict, after: dict) -> list[str]:
    return [part for part in before if before[part] != after[part]]


def test_every_state_changing_route_has_a_row(app):
    unsafe = {rule.endpoint for rule in app.url_map.iter_rules() if rule.methods & UNSAFE}
    rows = {name.split("[")[0] for name in ROWS}
    assert unsafe == rows | set(EXEMPT), "a state-changing route without a row here: add it to ROWS (or EXEMPT)"


@pytest.fixture
def fill(app, accounts, redis_client):
    """The row's placeholders: a queued run to cancel, a case in a given state, an account to change,
    a fresh name."""
    from webapp.record import users
    from webapp.record.audit import Actor

    def case_in(client, state: str, unique: str) -> tuple[str, str]:
        """A case of its own (a fresh AlertID, uploaded and queued), taken through the record's
        commands to ``state``; its id and version."""
        from webapp.record import cases

        alert_id = f"CSRF-{unique}"
        raw = INSIDER.replace(b"ITA-2024-0313-001", alert_id.encode())
        uploaded = client.post("/analyses", data={"csrf_token": token_of(client, "/analyses"),
                                                  "alert": (io.BytesIO(raw), "alert.xml", "application/xml")})
        assert uploaded.status_code == 303, uploaded.text
        db, analyst, reviewer = app.extensions["saa"].db, Actor(accounts.username("analyst"), "analyst"), \
            Actor(accounts.username("reviewer"), "reviewer")
        steps = {"new": [], "in_progress": [(analyst, cases.assign, {})],
                 "proposed": [(analyst, cases.assign, {}), (analyst, cases.propose, PROPOSAL)],
                 "escalated": [(analyst, cases.assign, {}), (analyst, cases.propose, PROPOSAL),
                               (reviewer, cases.approve, {})]}[state]
        for who, command, arguments in steps:
            command(db, who, alert_id, None, **arguments)
        case = cases.get(db, alert_id)
        assert case.state == state
        return alert_id, str(case.version)

    def fill_(row: Row, client) -> tuple[str, dict]:
        values = {"password": accounts.passwords["analyst"], "new": f"n{redis_client.incr('csrf-test:n')}"}
        if "{run}" in row.path:
            queued = client.post("/analyses", data={"csrf_token": token_of(client, "/"), "reinvestigate": "1",
                                                    **_upload(WASH)()})  # a new run even if its case exists
            assert queued.status_code == 303, queued.text
            values["run"] = queued.headers["Location"].rsplit("/", 1)[1]
        if row.case_state is not None:
            values["case"], values["version"] = case_in(client, row.case_state, values["new"])
        if "{victim}" in row.path:
            values["victim"] = f"victim{values['new']}"
            users.add(app.extensions["saa"].db, Actor.cli(), values["victim"], "analyst", "a long enough password")
            users.create_token(app.extensions["saa"].db, Actor.cli(), values["victim"], "victim-token")
        return row.path.format(**values), {k: v.format(**values) for k, v in row.form.items()}

    return fill_


PROPOSAL = {"outcome": "ESCALATE", "reason_code": "reasonable_suspicion", "rationale": "Trades ahead of the news.",
            "reason_codes": {"reasonable_suspicion": "Reasonable suspicion"}}


@pytest.mark.parametrize("name", sorted(ROWS))
def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(name, app, accounts, redis_client, fill):
    row = ROWS[name]
    client = signed_in(app, accounts, row.role)
    path, form = fill(row, client)
    token = token_of(client, "/login" if row.role is None else "/")
    before = state(app, redis_client, client)
    refused = client.post(path, data=row.data(form))
    assert refused.status_code == 400, (name, refused.status_code)
    assert "did not come from this site" in refused.text or "The form had expired" in refused.text
    assert changed(before, state(app, redis_client, client)) == [], f"{name}: a refused form changed something"
    accepted = client.post(path, data=row.data(form, csrf_token=token))
    assert accepted.status_code in (200, 303), (name, accepted.status_code, accepted.text[:300])
    assert changed(before, state(app, redis_client, client)), f"{name}: with its token the form changed nothing"


@pytest.mark.parametrize("endpoint", sorted(EXEMPT))
def test_exempt_endpoints_do_not_take_a_browser_session(endpoint, app, accounts, redis_client):
    path = {"a2a.rpc": "/a2a", "a2a.specialist_rpc": "/a2a/wash-trade"}[endpoint]
    client = signed_in(app, accounts, "analyst")
    before = state(app, redis_client, client)
    message = {"messageId": "m", "role": "ROLE_USER", "parts": [{"text": WASH.decode()}]}
    refused = client.post(path, json={"jsonrpc": "2.0", "id": 1, "method": "SendMessage",
                                      "params": {"message": message, "configuration": {"returnImmediately": True}}},
                          headers={"A2A-Version": "1.0"})
    assert refused.status_code == 401 and refused.json["error"]["data"][0]["reason"] == "UNAUTHENTICATED"
    assert changed(before, state(app, redis_client, client)) == []
