"""Sign-in, sessions and the hygiene around them, through the Flask test client (the app in
this process, a real Redis, an SQLite record)."""

from __future__ import annotations

import json
import re
import stat
import time
from datetime import timedelta

import itsdangerous.timed
import pytest

from tests.servers import CSRF, Identity, provision
from webapp.app import create_app
from webapp.auth.access import SEEN
from webapp.config import Settings
from webapp.embedded_redis import EmbeddedRedis
from webapp.record import Database, audit, users
from webapp.record.audit import Actor


@pytest.fixture(scope="module")
def accounts(tmp_path_factory) -> Identity:
    return provision(f"sqlite:///{tmp_path_factory.mktemp('auth') / 'record' / 'r.sqlite3'}")


def make_app(redis_url: str, accounts: Identity, tmp_path, **overrides):
    settings = Settings.from_env(redis_url=redis_url, database_url=accounts.database_url, secret_key="k",
                                 state_dir=tmp_path / "state", metrics_token=accounts.metrics_token, **overrides)
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def app(redis_url, accounts, tmp_path):
    # No remembered identities: changes made through the record below show at the next request.
    # Failures per address count in the session's shared record, and sign-in rate limits in the shared
    # Redis, whatever test made them: generous here, each pinned by a test of its own.
    return make_app(redis_url, accounts, tmp_path, login_max_failures=3, login_ip_max_failures=1000,
                    principal_cache_seconds=0, rate_limit_sign_in="1000/minute", rate_limit_sign_in_ip="1000/minute")


@pytest.fixture
def db(app) -> Database:
    return app.extensions["saa"].db


def csrf_of(client, path: str = "/login") -> str:
    return CSRF.search(client.get(path).text).group(1)


def sign_in(client, username: str, password: str, environ_base: dict | None = None, **extra):
    return client.post("/login", data={"csrf_token": csrf_of(client), "username": username, "password": password,
                                       **extra}, environ_base=environ_base or {})


def new_user(db, role: str = "analyst") -> tuple[str, str]:
    name, password = f"u{time.monotonic_ns()}", "a long enough password"
    users.add(db, Actor.cli(), name, role, password)
    return name, password


def trail(db, **filters) -> list[audit.Entry]:
    return list(reversed(audit.page(db, limit=500, **filters)))


# ----------------------------------------------------------------------------- the login form

def test_strangers_are_sent_to_the_login_form_which_works_without_javascript(app, accounts):
    client = app.test_client()
    page = client.get("/analyses/" + "a" * 32)
    assert page.status_code == 302 and page.headers["Location"] == "/login?next=/analyses/" + "a" * 32
    form = client.get(page.headers["Location"])
    assert form.status_code == 200 and 'action="/login"' in form.text and 'name="next" value="/analyses/' in form.text
    assert "<script" not in form.text.split("</head>")[1]  # a plain form: nothing runs in the page
    signed_in = sign_in(client, accounts.username("analyst"), accounts.passwords["analyst"], next="/?x=1")
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/?x=1"
    home = client.get("/")
    assert home.status_code == 200 and "test-analyst" in home.text and 'id="upload-form"' in home.text


def test_the_login_form_needs_its_csrf_token(app, accounts):
    client = app.test_client()
    refused = client.post("/login", data={"username": accounts.username("analyst"),
                                          "password": accounts.passwords["analyst"]})
    assert refused.status_code == 400
    assert client.get("/").status_code == 302


def test_next_never_leads_off_site(app, accounts):
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        client = app.test_client()
        response = sign_in(client, accounts.username("analyst"), accounts.passwords["analyst"], next=target)
        assert response.headers["Location"] == "/", target


def test_a_wrong_password_is_refused_and_recorded_with_the_client_address(app, db):
    name, _password = new_user(db)
    client = app.test_client()
    refused = sign_in(client, name, "not the password", environ_base={"REMOTE_ADDR": "198.51.100.4"})
    assert refused.status_code == 401 and "The username or password is not right." in refused.text
    assert 'value="' + name + '"' in refused.text  # the username stays filled in
    entry = trail(db)[-1]
    assert (entry.action, entry.actor, entry.ip) == ("auth.sign_in_failed", name, "198.51.100.4")
    assert entry.request_id and re.fullmatch(r"[0-9a-f]{32}", entry.request_id)


def test_repeated_failures_lock_the_account(app, db):
    name, password = new_user(db)
    client = app.test_client()
    for _ in range(3):  # LOGIN_MAX_FAILURES=3 here
        sign_in(client, name, "wrong")
    locked = sign_in(client, name, password)
    assert locked.status_code == 401 and "locked for 15 minutes" in locked.text
    users.set_active(db, Actor.cli(), name, True)  # an administrator unlocks it
    assert sign_in(client, name, password).status_code == 303


def test_sign_in_attempts_are_rate_limited_per_account(redis_url, accounts, tmp_path):
    limited = make_app(redis_url, accounts, tmp_path, rate_limit_sign_in="2/minute",
                       rate_limit_sign_in_ip="1000/minute")
    name, password = new_user(limited.extensions["saa"].db)
    client = limited.test_client()
    spray = {"REMOTE_ADDR": "203.0.113.77"}
    assert [sign_in(client, name, "wrong", environ_base=spray).status_code for _ in range(2)] == [401, 401]
    refused = sign_in(client, name, password, environ_base=spray)  # even the right password waits for the window
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert "Too many" in refused.text and 'name="username"' in refused.text  # the form, with the reason


def test_one_address_trying_many_accounts_is_throttled(redis_url, accounts, tmp_path):
    app = make_app(redis_url, accounts, tmp_path, login_ip_max_failures=6, rate_limit_sign_in="1000/minute",
                   rate_limit_sign_in_ip="1000/minute")
    name, password = new_user(app.extensions["saa"].db)
    client = app.test_client()
    spray = {"REMOTE_ADDR": "203.0.113.66"}
    for n in range(6):  # LOGIN_IP_MAX_FAILURES=6 here, spread over accounts that do not exist
        assert sign_in(client, f"guess{n}", "password1", environ_base=spray).status_code == 401
    throttled = sign_in(client, name, password, environ_base=spray)
    assert throttled.status_code == 429 and "Too many failed sign-ins from your address" in throttled.text
    assert sign_in(app.test_client(), name, password).status_code == 303  # other addresses are not affected


def test_signing_in_starts_a_fresh_session(app, accounts):
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"  # session fixation: a value set before sign-in
    sign_in(client, accounts.username("analyst"), accounts.passwords["analyst"])
    with client.session_transaction() as session:
        assert "planted" not in session and session["_user_id"].startswith(("1:", "2:", "3:", "4:"))


def test_sign_out_ends_the_session_and_is_recorded(app, accounts, db):
    client = app.test_client()
    sign_in(client, accounts.username("reviewer"), accounts.passwords["reviewer"])
    out = client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    assert out.status_code == 303 and out.headers["Location"].endswith("/login?signed_out=1")
    assert "You have signed out." in client.get("/login?signed_out=1").text
    assert client.get("/").status_code == 302
    assert trail(db)[-1].action == "auth.sign_out" and trail(db)[-1].actor == "test-reviewer"


def test_an_idle_session_expires_and_htmx_is_told_where_to_go(app, accounts, db):
    client = app.test_client()
    sign_in(client, accounts.username("analyst"), accounts.passwords["analyst"])
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session[SEEN] = int(time.time()) - 31 * 60  # last request 31 minutes ago (IDLE_TIMEOUT_MINUTES=30)
    expired = client.get("/", headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/analyses/" + "b" * 32})
    assert expired.status_code == 401
    assert expired.headers["HX-Redirect"] == "/login?next=/analyses/" + "b" * 32 + "&expired=1"
    assert "inactivity" in client.get(expired.headers["HX-Redirect"]).text
    assert client.get("/").status_code == 302  # signed out for good, not just for that request
    assert trail(db)[-1].action == "auth.session_expired" and trail(db)[-1].actor == "test-analyst"


def test_disabling_an_account_ends_its_open_sessions(app, db):
    name, password = new_user(db)
    client = app.test_client()
    sign_in(client, name, password)
    assert client.get("/").status_code == 200
    users.set_active(db, Actor.cli(), name, False)
    assert client.get("/").status_code == 302


def test_a_worker_remembers_identities_briefly_but_forgets_them_when_it_changes_an_account(redis_url, accounts,
                                                                                          tmp_path):
    app = make_app(redis_url, accounts, tmp_path)  # PRINCIPAL_CACHE_SECONDS at its default (5)
    db = app.extensions["saa"].db
    name, _password = new_user(db)
    token = users.create_token(db, Actor.cli(), name, "script")
    bearer = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    assert client.get("/", headers=bearer).status_code == 200
    users.revoke_token(db, Actor.cli(), name, "script")  # elsewhere (the CLI, another worker)
    assert client.get("/", headers=bearer).status_code == 200  # remembered for a few seconds
    users.create_token(db, Actor.cli(), name, "script")
    admin = app.test_client()
    sign_in(admin, accounts.username("admin"), accounts.passwords["admin"])
    revoked = admin.post(f"/admin/users/{name}/tokens/revoke", data={"csrf_token": csrf_of(admin, "/admin/users"),
                                                                    "name": "script"})
    assert revoked.status_code == 200 and "revoked" in revoked.text
    assert client.get("/", headers=bearer).status_code == 302  # this worker changed an account: it forgot


# ----------------------------------------------------------------------------- tokens

def test_api_tokens_open_json_and_pages_but_the_static_a2a_token_only_opens_a2a(redis_url, accounts, tmp_path):
    app = make_app(redis_url, accounts, tmp_path, a2a_auth_token="static-service-token")
    client = app.test_client()
    missing = "/analyses/" + "c" * 32 + ".json"
    assert client.get(missing).status_code == 401
    assert client.get(missing).headers["WWW-Authenticate"].startswith("Bearer")
    bearer = {"Authorization": f"Bearer {accounts.tokens['auditor']}"}
    assert client.get(missing, headers=bearer).status_code == 404  # signed in: there is no such run
    assert client.get(missing, headers={"Authorization": "Bearer saa_revoked-or-made-up"}).status_code == 401
    assert client.get(missing, headers={"Authorization": "Bearer static-service-token"}).status_code == 401
    a2a = client.post("/a2a", json={"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "x"}},
                      headers={"Authorization": "Bearer static-service-token", "A2A-Version": "1.0"})
    assert a2a.status_code == 200 and a2a.json["error"]["code"] == -32001


def test_a2a_ignores_a_browser_session(app, accounts):
    """The JSON-RPC endpoints are exempt from CSRF, so a cookie must not be enough there."""
    client = app.test_client()
    sign_in(client, accounts.username("analyst"), accounts.passwords["analyst"])
    response = client.post("/a2a", json={"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "x"}},
                           headers={"A2A-Version": "1.0"})
    assert response.status_code == 401 and response.json["error"]["data"][0]["reason"] == "UNAUTHENTICATED"


def test_metrics_need_the_metrics_token_or_an_administrator(app, accounts):
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {accounts.metrics_token}"}).status_code == 200
    assert client.get("/metrics", headers={"Authorization": f"Bearer {accounts.tokens['analyst']}"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": f"Bearer {accounts.tokens['admin']}"}).status_code == 200


# ----------------------------------------------------------------------------- hygiene

def test_nothing_behind_sign_in_may_be_cached(app, accounts):
    client = app.test_client()
    sign_in(client, accounts.username("auditor"), accounts.passwords["auditor"])
    for path in ("/", "/audit", "/audit/export?format=csv", "/login"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    assert client.get("/static/app.css").headers.get("Cache-Control") != "no-store"
    assert "max-age" in client.get("/.well-known/agent-card.json").headers["Cache-Control"]


def test_behind_a_tls_proxy_the_cookie_is_secure_with_hsts_and_the_real_client_address(redis_url, accounts,
                                                                                         tmp_path):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.44", "X-Forwarded-Host": "surv.example"}
    direct = make_app(redis_url, accounts, tmp_path).test_client()  # TRUSTED_PROXIES=0: headers are not believed
    response = sign_in(direct, accounts.username("analyst"), accounts.passwords["analyst"], environ_base=None)
    assert "Secure" not in response.headers["Set-Cookie"] and "Strict-Transport-Security" not in response.headers
    proxied_app = make_app(redis_url, accounts, tmp_path, trusted_proxies=1)
    proxied = proxied_app.test_client()
    form = proxied.get("/login", headers=forwarded)
    response = proxied.post("/login", headers={**forwarded, "Referer": "https://surv.example/login"}, data={
        "csrf_token": CSRF.search(form.text).group(1), "username": accounts.username("analyst"),
        "password": accounts.passwords["analyst"]})
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("saa_session=") and "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in \
        cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    entry = trail(proxied_app.extensions["saa"].db)[-1]
    assert (entry.action, entry.ip) == ("auth.sign_in", "192.0.2.44")


def test_csrf_tokens_expire(redis_url, accounts, tmp_path, monkeypatch):
    app = make_app(redis_url, accounts, tmp_path, csrf_time_limit=3600)
    client = app.test_client()
    token = csrf_of(client)
    later = time.time() + 3601
    monkeypatch.setattr(itsdangerous.timed, "time", type("Clock", (), {"time": staticmethod(lambda: later)}))
    refused = client.post("/login", data={"csrf_token": token, "username": accounts.username("analyst"),
                                          "password": accounts.passwords["analyst"]})
    assert refused.status_code == 400 and "expired" in refused.text


def test_the_secret_key_is_generated_once_into_a_private_file_and_redis_is_not_needed(accounts, tmp_path):
    state = tmp_path / "state"
    # Nothing listens on this Redis: the app must still be made (a worker boots while Redis is down).
    settings = Settings.from_env(redis_url="redis://127.0.0.1:9/0", database_url=accounts.database_url,
                                 secret_key=None, state_dir=state)
    first, second = create_app(settings), create_app(settings)
    key_file = state / "secret_key"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) == 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and stat.S_IMODE(state.stat().st_mode) == 0o700
    client = first.test_client()
    assert client.get("/healthz").status_code == 200 and client.get("/login").status_code == 200


def test_the_embedded_redis_and_the_record_files_are_private(tmp_path):
    server = EmbeddedRedis(tmp_path / "var" / "redis", persistent=True)
    server.start()
    try:
        db = Database(f"sqlite:///{tmp_path / 'var' / 'record' / 'r.sqlite3'}")
        with db.transaction() as s:  # WAL: the -wal and -shm files exist while a connection is open
            s.connection().exec_driver_sql("CREATE TABLE t (x INTEGER)")
        files = [p for p in (tmp_path / "var").rglob("*") if p.is_file()]
        assert {p.name for p in files} >= {"redis.conf", "redis.log", "r.sqlite3", "r.sqlite3-wal", "r.sqlite3-shm"}
        assert any(p.name.startswith("appendonly") for p in files)  # the AOF (a directory of parts on Redis 7)
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        for directory in [p for p in (tmp_path / "var").rglob("*") if p.is_dir()]:
            assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
        db.dispose()
    finally:
        server.stop()


def test_first_start_creates_an_administrator_once(tmp_path):
    from webapp.record import schema

    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    schema.upgrade(url)
    db = Database(url)
    password = users.bootstrap_admin(db)
    assert password and len(password) >= 16
    assert users.bootstrap_admin(db) is None  # accounts exist now: nothing more is made
    principal = users.sign_in(db, Actor("x", "", "127.0.0.1"), "admin", password, max_failures=5,
                              lockout=timedelta(minutes=1)).principal
    assert principal.role == "admin"
    db.dispose()


# ----------------------------------------------------------------------------- the pages of admin and auditor

def test_administrators_manage_accounts_and_tokens_through_the_pages(app, accounts, db):
    admin = app.test_client()
    landing = sign_in(admin, accounts.username("admin"), accounts.passwords["admin"])
    assert landing.headers["Location"] == "/admin/users"  # administrators start here: they do not read cases
    token = csrf_of(admin, "/admin/users")
    name = f"new{time.monotonic_ns()}"
    made = admin.post("/admin/users", data={"csrf_token": token, "username": name, "role": "reviewer",
                                            "kind": "person", "password": "a long enough password"})
    assert made.status_code == 200 and f"Account {name} created (reviewer)" in made.text
    refused = admin.post("/admin/users", data={"csrf_token": token, "username": name, "role": "reviewer",
                                               "kind": "person", "password": "a long enough password"})
    assert refused.status_code == 400 and "already an account" in refused.text
    created = admin.post(f"/admin/users/{name}/tokens", data={"csrf_token": token, "name": "laptop"})
    secret = re.search(r'id="new-token" class="secret">(saa_[^<]+)<', created.text).group(1)
    assert users.for_token(db, secret).username == name
    assert secret not in admin.get("/admin/users").text  # shown once, never again
    disabled = admin.post(f"/admin/users/{name}/active", data={"csrf_token": token, "active": "0"})
    assert disabled.status_code == 200 and users.for_token(db, secret) is None
    actions = [e.action for e in trail(db) if e.actor == "test-admin" and e.detail.get("username") == name]
    assert actions == ["user.add", "token.create", "user.disable"]
    assert admin.get("/").status_code == 403  # and cases are not theirs to read


def test_auditors_read_the_trail_and_export_it(app, accounts, db):
    auditor = app.test_client()
    sign_in(auditor, accounts.username("auditor"), accounts.passwords["auditor"])
    audit.record(db, Actor("someone", "analyst", "10.9.8.7"), "case.view", case_id="CASE-XYZ", run_id="e" * 32)
    page = auditor.get("/audit?case=CASE-XYZ")
    assert page.status_code == 200 and "Viewed a case" in page.text and "10.9.8.7" in page.text
    assert "/analyses/" + "e" * 32 in page.text
    exported = auditor.get("/audit/export?format=jsonl")
    assert exported.headers["Content-Disposition"] == 'attachment; filename="audit-trail.jsonl"'
    rows = [json.loads(line) for line in exported.text.splitlines()]
    assert rows[-1]["action"] == "audit.export" and rows[-1]["actor"] == "test-auditor"
    assert any(r["case_id"] == "CASE-XYZ" for r in rows)
    assert auditor.get("/audit/export?format=xml").status_code == 400
    assert {"audit.view", "audit.export"} <= {e.action for e in trail(db) if e.actor == "test-auditor"}


def test_a_database_file_in_a_shared_directory_leaves_the_directory_alone(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp
    db = Database(f"sqlite:///{shared / 'r.sqlite3'}")
    db.dispose()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert stat.S_IMODE((shared / "r.sqlite3").stat().st_mode) == 0o600


def test_the_sqlite_record_commits_as_configured(tmp_path):
    for setting, expected in (("NORMAL", 1), ("FULL", 2)):
        db = Database(f"sqlite:///{tmp_path / setting / 'r.sqlite3'}", sqlite_synchronous=setting)
        with db.reading() as s:
            connection = s.connection()
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == expected
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        db.dispose()
    with pytest.raises(ValueError, match="SQLITE_SYNCHRONOUS"):
        Database(f"sqlite:///{tmp_path / 'r.sqlite3'}", sqlite_synchronous="OFF")
