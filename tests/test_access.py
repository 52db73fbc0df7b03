"""The answers of the default-deny hook (webapp/auth/access.py), in this process: who gets a login
redirect, a 401, a 403, and in which shape — a page, an htmx fragment or redirect, JSON, or a JSON-RPC
error with its ErrorInfo — and which A2A methods each role may call. The served role table
(tests/test_roles.py) checks every route for every role end to end; these pin each answer exactly,
fast enough to run for every mutant.
"""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pytest

from tests.servers import CSRF, Identity, provision
from webapp.app import create_app
from webapp.auth import access
from webapp.auth.access import A2A_METHODS, SEEN
from webapp.config import Settings
from webapp.record import audit
from webapp.roles import ROLES, allows

RUN = "/analyses/" + "d" * 32


@pytest.fixture(scope="module")
def accounts(tmp_path_factory) -> Identity:
    return provision(f"sqlite:///{tmp_path_factory.mktemp('access') / 'record' / 'r.sqlite3'}")


@pytest.fixture(scope="module")
def app(redis_url, accounts, tmp_path_factory):
    limits = {f"rate_limit_{name}": "100000/minute" for name in
              ("upload", "upload_ip", "a2a_send", "a2a_send_ip", "sign_in", "sign_in_ip", "fallback")}
    settings = Settings.from_env(redis_url=redis_url, database_url=accounts.database_url, secret_key="k",
                                 state_dir=tmp_path_factory.mktemp("access-state"), principal_cache_seconds=0,
                                 metrics_token=accounts.metrics_token, **limits)
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def bearer(accounts: Identity, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.tokens[role]}"}


def info(response) -> dict:
    [error_info] = response.json["error"]["data"]
    return error_info


# ----------------------------------------------------------------------------- no identity

def test_a_stranger_is_redirected_to_sign_in_and_brought_back(client):
    page = client.get(RUN + "?tab=report")
    assert page.status_code == 302 and page.headers["Location"] == f"/login?next={RUN}?tab%3Dreport"
    post = client.post(RUN + "/cancel")
    assert post.status_code == 303 and post.headers["Location"] == f"/login?next={RUN}/cancel"  # no "?": none sent


@pytest.mark.parametrize(("current", "back_to"), [
    ("http://localhost/analyses/" + "e" * 32 + "?x=1", "/analyses/" + "e" * 32 + "?x%3D1"),
    ("//attacker.example/phish", "/phish"),            # another site's URL: only its path, on this site
    ("http://localhost//attacker.example/x", "/"),
    ("https://attacker.example", "/"),                 # no path: the home page, never the other site
    ("not a url", "/"),
])
def test_htmx_is_told_to_send_the_browser_to_sign_in_and_back_to_the_same_site_only(client, current, back_to):
    response = client.get(RUN, headers={"HX-Request": "true", "HX-Current-URL": current})
    assert response.status_code == 401 and not response.data
    assert response.headers["HX-Redirect"] == f"/login?next={back_to}"


def test_json_and_streams_answer_401_with_a_bearer_challenge(client):
    for path, headers in ((RUN + ".json", {}), (RUN + "/events", {}), (RUN, {"Accept": "application/json"})):
        response = client.get(path, headers=headers)
        assert response.status_code == 401, path
        assert response.json == {"error": "unauthenticated", "message": "Sign in or send a bearer token to continue."}
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="smarts-analyzer"'


def test_an_htmx_request_for_json_still_gets_the_redirect(client):
    response = client.get(RUN, headers={"HX-Request": "true", "Accept": "application/json"})
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login?next=")


@pytest.mark.parametrize(("accept", "json_answer"), [
    ("application/json", True),
    ("application/json, text/html;q=0.5", True),
    ("text/html, application/json;q=0.9", False),
    ("text/html, application/json", False),            # a tie goes to the page
    ("*/*", False),
    ("application/json;q=0.5, text/html;q=0.5", False),
    ("application/json, */*", False),                   # JSON named, but a page accepted as much: the page
])
def test_what_the_client_accepts_picks_a_page_or_json(client, accept, json_answer):
    response = client.get(RUN, headers={"Accept": accept})
    assert response.status_code == (401 if json_answer else 302), accept


def test_a2a_without_a_token_is_a_json_rpc_401(client):
    response = client.post("/a2a", json={"jsonrpc": "2.0", "id": 4, "method": "GetTask", "params": {"id": "x"}})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == 'Bearer realm="a2a"'
    assert response.json["jsonrpc"] == "2.0" and response.json["id"] is None
    assert response.json["error"]["code"] == -32600
    assert response.json["error"]["message"] == "Authentication required: send Authorization: Bearer <API token>."
    assert info(response) == {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "UNAUTHENTICATED",
                               "domain": "a2a-protocol.org", "metadata": {}}


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "Token abc", "bearer"])
def test_a_header_that_carries_no_bearer_token_is_no_identity(client, header):
    response = client.get(RUN + ".json", headers={"Authorization": header})
    assert response.status_code == 401


def test_the_bearer_scheme_is_case_insensitive_and_the_token_trimmed(client, accounts):
    token = accounts.tokens["auditor"]
    for header in (f"bearer {token}", f"BEARER {token}", f"Bearer {token}  "):
        assert client.get(RUN + ".json", headers={"Authorization": header}).status_code == 404  # in: no such run


# ----------------------------------------------------------------------------- identity, no permission

def test_a_role_without_the_permission_gets_403_as_a_page_a_fragment_or_json(client, accounts):
    admin = bearer(accounts, "admin")  # administrators do not read cases
    message = "Your role (admin) does not allow this."
    page = client.get(RUN, headers=admin)
    assert page.status_code == 403 and page.mimetype == "text/html" and message in page.text
    assert "<html" in page.text and "<h1>403</h1>" in page.text
    fragment = client.get(RUN, headers={**admin, "HX-Request": "true"})
    assert fragment.status_code == 403 and message in fragment.text and "<html" not in fragment.text
    as_json = client.get(RUN, headers={**admin, "Accept": "application/json"})
    assert as_json.status_code == 403 and as_json.json == {"error": "forbidden", "message": message}
    api = client.get(RUN + ".json", headers=admin)
    assert api.status_code == 403 and api.json == {"error": "forbidden", "message": message}
    analyst = client.get("/metrics", headers=bearer(accounts, "analyst"))
    assert analyst.status_code == 403 and analyst.json["message"] == "Your role (analyst) does not allow this."


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method", sorted(A2A_METHODS))
def test_each_role_may_call_exactly_the_a2a_methods_its_permissions_allow(client, accounts, role, method):
    """Params are empty: a method the role may call fails later (bad params, no such task), never with 403."""
    needed = A2A_METHODS[method]
    response = client.post("/a2a", json={"jsonrpc": "2.0", "id": 5, "method": method, "params": {}},
                           headers={**bearer(accounts, role), "A2A-Version": "0.3" if "/" in method else "1.0"})
    if needed is None or allows(role, needed):
        assert response.status_code != 403
        assert "PERMISSION_DENIED" not in response.text  # a result, or an error of another kind
        return
    assert response.status_code == 403
    assert response.json["error"] == {
        "code": -32600, "message": f"The role {role!r} may not call {method}.",
        "data": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "PERMISSION_DENIED",
                  "domain": "a2a-protocol.org", "metadata": {}}]}
    assert "WWW-Authenticate" not in response.headers


def test_a_method_with_no_rule_is_left_to_the_dispatcher(client, accounts):
    response = client.post("/a2a", json={"jsonrpc": "2.0", "id": 6, "method": "DropAllTables", "params": {}},
                           headers={**bearer(accounts, "auditor"), "A2A-Version": "1.0"})
    assert response.status_code == 200 and response.json["error"]["code"] == -32601


def test_a_case_is_visible_to_the_roles_that_read_cases(app, accounts):
    from webapp.auth.access import can_see_case
    from webapp.record.users import Principal

    for role in ROLES:
        principal = Principal(1, f"test-{role}", role, kind="person", via="token")
        assert can_see_case(principal) is allows(role, "case:read") is (role != "admin")


# ----------------------------------------------------------------------------- sessions and request ids

def signed_in_session(app, accounts: Identity, role: str = "analyst"):
    client = app.test_client()
    form = client.get("/login").text
    token = CSRF.search(form).group(1)
    response = client.post("/login", data={"csrf_token": token, "username": accounts.username(role),
                                           "password": accounts.passwords[role]})
    assert response.status_code == 303
    return client


def seen_ago(client, seconds: int) -> int:
    with client.session_transaction() as session:
        session[SEEN] = then = int(time.time()) - seconds
    return then


def seen(client) -> int:
    with client.session_transaction() as session:
        return session[SEEN]


def test_an_expired_session_says_so_to_json_clients_and_on_the_login_page(app, accounts):
    client = signed_in_session(app, accounts)
    seen_ago(client, 31 * 60)
    response = client.get(RUN + ".json", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert response.status_code == 401
    assert response.json == {"error": "unauthenticated",
                             "message": "Your session ended after a period of inactivity; sign in again."}
    [entry] = audit.page(app.extensions["saa"].db, limit=1)  # the newest: who, as what, from where, which request
    assert (entry.action, entry.actor, entry.actor_role, entry.ip, entry.request_id) == (
        "auth.session_expired", "test-analyst", "analyst", "198.51.100.7", response.headers["X-Request-ID"])
    client = signed_in_session(app, accounts)
    seen_ago(client, 31 * 60)
    page = client.get(RUN)
    assert page.status_code == 302 and page.headers["Location"] == f"/login?next={RUN}&expired=1"


def test_a_session_stays_signed_in_before_the_idle_timeout(app, accounts):
    client = signed_in_session(app, accounts)
    seen_ago(client, 30 * 60 - 2)  # IDLE_TIMEOUT_MINUTES=30, less two seconds for a slow request
    assert client.get(RUN + ".json").status_code == 404  # in: there is no such run


@pytest.fixture
def frozen_clock(monkeypatch):
    """The access hook's clock stopped, so a boundary second is the second the test names."""
    now = int(time.time())
    monkeypatch.setattr(access, "time", SimpleNamespace(time=lambda: now))
    return now


def seen_at(client, moment: int) -> None:
    with client.session_transaction() as session:
        session[SEEN] = moment


@pytest.mark.parametrize(("idle", "signed_in"), [(30 * 60, True), (30 * 60 + 1, False)])
def test_the_idle_timeout_ends_the_session_one_second_after_it_is_reached(app, accounts, frozen_clock, idle,
                                                                            signed_in):
    client = signed_in_session(app, accounts)
    seen_at(client, frozen_clock - idle)
    assert client.get(RUN + ".json").status_code == (404 if signed_in else 401)


@pytest.mark.parametrize(("ago", "rewritten"), [(14, False), (15, True)])
def test_the_cookie_notes_activity_at_most_every_fifteen_seconds(app, accounts, frozen_clock, ago, rewritten):
    client = signed_in_session(app, accounts)
    seen_at(client, frozen_clock - ago)
    assert client.get("/").status_code == 200
    assert seen(client) == (frozen_clock if rewritten else frozen_clock - ago)  # not rewritten for idleness alone


# What each role's pages offer: the links of the account bar and the upload form follow the same
# permissions as the routes (a button for a role the server would refuse is a broken promise).
@pytest.mark.parametrize(("role", "page", "links", "uploads"), [
    ("analyst", "/", ["Work queue", "Analyses"], True),
    ("reviewer", "/", ["Work queue", "Analyses"], True),
    ("auditor", "/", ["Work queue", "Analyses", "Audit trail"], False),
    ("admin", "/admin/users", ["Accounts"], False),
])
def test_each_role_is_offered_exactly_what_its_permissions_allow(app, accounts, role, page, links, uploads):
    html = signed_in_session(app, accounts, role).get(page).text
    bar = re.search(r'<nav class="account".*?</nav>', html, re.S).group(0)
    assert re.findall(r"<a [^>]*>([^<]+)</a>", bar) == links
    assert ('id="upload-form"' in html) is uploads


@pytest.mark.parametrize(("trusted_proxies", "incoming", "kept"), [
    (0, "proxy-id-1", False),                   # a client cannot choose the id the audit trail records
    (1, "proxy-id-1", True),
    (1, "a" * 64, True),
    (1, "a" * 65, False),
    (1, "id with spaces", False),
    (1, "", False),
    (1, "ok.id_with:all-kinds", True),
])
def test_a_request_id_is_taken_from_a_trusted_proxy_only_when_well_formed(redis_url, accounts, tmp_path,
                                                                           trusted_proxies, incoming, kept):
    settings = Settings.from_env(redis_url=redis_url, database_url=accounts.database_url, secret_key="k",
                                 state_dir=tmp_path / "state", trusted_proxies=trusted_proxies)
    app = create_app(settings)
    response = app.test_client().get("/healthz", headers={"X-Request-ID": incoming})
    given = response.headers["X-Request-ID"]
    if kept:
        assert given == incoming
    else:
        assert given != incoming and re.fullmatch(r"[0-9a-f]{32}", given)


def test_a_route_nobody_gave_an_access_rule_is_closed_to_everyone(redis_url, accounts, tmp_path, caplog):
    settings = Settings.from_env(redis_url=redis_url, database_url=accounts.database_url, secret_key="k",
                                 state_dir=tmp_path / "state")
    app = create_app(settings)
    app.add_url_rule("/new-feature", "new_feature", lambda: "the new feature")  # added, never given a rule
    client = app.test_client()
    for role in ROLES:
        response = client.get("/new-feature", headers={**bearer(accounts, role), "Accept": "application/json"})
        assert response.status_code == 403 and response.json == {"error": "forbidden",
                                                                 "message": "This page has no access rule yet."}
    assert client.get("/new-feature").status_code == 403  # not even a login redirect: nobody may
    assert "endpoint new_feature has no access rule in webapp/auth/access.py: refused" in caplog.text


def test_with_the_principal_cache_on_each_session_is_still_its_own_user(redis_url, accounts, tmp_path):
    """The cache of signed-in users (PRINCIPAL_CACHE_SECONDS) is keyed by session: two people signed in on
    the same worker, one after the other, each stay who they are (the other tests run with it off)."""
    settings = Settings.from_env(redis_url=redis_url, database_url=accounts.database_url, secret_key="k",
                                 state_dir=tmp_path / "state", principal_cache_seconds=60)
    app = create_app(settings)
    app.config["TESTING"] = True
    people = {role: signed_in_session(app, accounts, role) for role in ("analyst", "auditor")}
    for _ in range(2):  # the second round is answered from the cache
        for role, client in people.items():
            page = client.get("/")
            assert page.status_code == 200
            said = re.search(r'id="signed-in-as"[^>]*>(.*?)</', page.text, re.S).group(1)
            assert accounts.username(role) in said and f"({role})" in page.text
