"""Every route and every A2A method, for every role and for a stranger, against the served app.

The tables below are the specification: each names what a role gets. A route or method the
app serves but the tables do not name fails the completeness tests, so a new endpoint cannot
ship without someone deciding (in webapp/auth/access.py) who may use it. Requests are chosen
to change nothing (missing fields, unknown users, a finished run), so the answer shows the
access decision: 403/401 when refused, the view's own answer when let through.
"""

from __future__ import annotations

import pytest

from tests.conftest import SAMPLES, Browser, terminal
from tests.servers import ROLES
from webapp.a2a import compat, rpc
from webapp.app import create_app
from webapp.auth import access
from webapp.config import Settings
from webapp.record.lifecycle import ACTIONS
from webapp.roles import Permission

pytestmark = pytest.mark.e2e

WHO = ("anonymous", *ROLES)
READERS = {"analyst", "reviewer", "auditor"}
WORKERS = {"analyst", "reviewer"}
SIGNED_IN = set(ROLES)


def expect(allowed: set[str], ok: int, *, anonymous: int = 302, denied: int = 403) -> dict[str, int]:
    return {who: anonymous if who == "anonymous" else ok if who in allowed else denied for who in WHO}


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(WHO, status)


# endpoint: (method, path, form or None, {who: status})
ROUTES = {
    "analyses.index": ("GET", "/analyses", None, expect(READERS, 200)),
    "desk.queue_view": ("GET", "/", None, expect(READERS, 200)),
    "desk.queue_csv": ("GET", "/cases.csv?state=closed", None, expect(READERS, 200)),
    "desk.events": ("GET", "/desk/events?case=none", None, expect(READERS, 200, anonymous=401)),
    "desk.case_view": ("GET", "/cases/{case}", None, expect(READERS, 200)),
    "desk.case_actions": ("GET", "/cases/{case}/actions", None, expect(READERS, 200)),
    "desk.case_file": ("GET", "/analyses/{run}/case-file", None, expect(READERS, 200)),
    "desk.case_file_pdf": ("GET", "/analyses/{run}/case-file.pdf", None, expect(READERS, 200)),
    "desk.reinvestigate": ("POST", "/cases/no-such-case/reinvestigation", {}, expect(WORKERS, 404, anonymous=303)),
    # The lifecycle's actions, without the case's version: refused as incomplete (422) once let through.
    **{f"desk.{action.name}": ("POST", f"/cases/{{case}}/{action.name.replace('_', '-')}", {},
                               expect(WORKERS if action.permission == Permission.CASE_WORK else {"reviewer"}, 422,
                                      anonymous=303))
       for action in ACTIONS.values()},
    "analyses.create": ("POST", "/analyses", {}, expect(WORKERS, 400, anonymous=303)),  # 400: no file chosen
    "analyses.show": ("GET", "/analyses/{run}", None, expect(READERS, 200)),
    "analyses.report": ("GET", "/analyses/{run}.json", None, expect(READERS, 200, anonymous=401)),
    "analyses.stor": ("GET", "/analyses/{run}/stor.txt", None, expect(READERS, 200)),
    "analyses.report_page": ("GET", "/analyses/{run}/report", None, expect(READERS, 200)),
    "analyses.citation": ("GET", "/analyses/{run}/findings/0/citations/0", None, expect(READERS, 200)),
    "analyses.cancel": ("POST", "/analyses/{run}/cancel", {"confirmed": "yes"},
                        expect(WORKERS, 303, anonymous=303)),  # it has ended: nothing to cancel
    "analyses.sample": ("GET", "/samples/wash_genuine_gldx.xml", None, expect(SIGNED_IN, 200)),
    "events.stream": ("GET", "/analyses/{run}/events?after=100000", None, expect(READERS, 200, anonymous=401)),
    "batches.show": ("GET", "/batches/{batch}", None, expect(READERS, 200)),
    "batches.report": ("GET", "/batches/{batch}.json", None, expect(READERS, 200, anonymous=401)),
    "batches.events": ("GET", "/batches/{batch}/events?after=9999999999", None,
                       expect(READERS, 200, anonymous=401)),
    "admin.users": ("GET", "/admin/users", None, expect({"admin"}, 200)),
    "admin.add_user": ("POST", "/admin/users", {}, expect({"admin"}, 400, anonymous=303)),
    "admin.set_active": ("POST", "/admin/users/nobody-here/active", {"active": "0"},
                         expect({"admin"}, 404, anonymous=303)),
    "admin.create_token": ("POST", "/admin/users/nobody-here/tokens", {"name": "x"},
                           expect({"admin"}, 400, anonymous=303)),
    "admin.revoke_token": ("POST", "/admin/users/nobody-here/tokens/revoke", {"name": "x"},
                           expect({"admin"}, 404, anonymous=303)),
    "audit.trail": ("GET", "/audit", None, expect({"auditor"}, 200)),
    "audit.export": ("GET", "/audit/export?format=jsonl&since=2999-01-01", None, expect({"auditor"}, 200)),
    "health.metrics": ("GET", "/metrics", None, expect({"admin"}, 200, anonymous=401)),
    "health.healthz": ("GET", "/healthz", None, everyone(200)),
    "health.readyz": ("GET", "/readyz", None, everyone(200)),
    "a2a.card": ("GET", "/.well-known/agent-card.json", None, everyone(200)),
    "a2a.specialist_card": ("GET", "/a2a/wash-trade/.well-known/agent-card.json", None, everyone(200)),
    "a2a.rpc": ("POST", "/a2a", None, everyone(401)),  # a browser session is not enough: tokens only (below)
    "a2a.specialist_rpc": ("POST", "/a2a/wash-trade", None, everyone(401)),
    "auth.login": ("GET", "/login", None, expect(set(), 0, anonymous=200, denied=302)),  # signed in: sent home
    "auth.sign_in": ("POST", "/login", {}, everyone(400)),  # no credentials (a stranger: no CSRF token either)
    "auth.sso_start": ("GET", "/login/sso", None, everyone(404)),  # single sign-on is not configured here
    "auth.sso_callback": ("GET", "/login/sso/callback", None, everyone(404)),
    "auth.logout": ("POST", "/logout", {}, expect(SIGNED_IN, 303, anonymous=303)),
    "static": ("GET", "/static/app.css", None, everyone(200)),
}

CASE = "WT-2024-0612-001"  # the AlertID of wash_genuine_gldx.xml, the finished run's alert

TASK = {"id": "{run}"}
PUSH = {"taskId": "{run}", "id": "c"}
# method: (params, A2A-Version header, roles that may call it, the answer they get: an error code or "result")
A2A = {
    "SendMessage": ({}, "1.0", WORKERS, -32602), "SendStreamingMessage": ({}, "1.0", WORKERS, -32602),
    "GetTask": (TASK, "1.0", READERS, "result"), "ListTasks": ({"pageSize": 1}, "1.0", READERS, "result"),
    "CancelTask": (TASK, "1.0", WORKERS, -32002), "SubscribeToTask": (TASK, "1.0", READERS, -32004),
    "CreateTaskPushNotificationConfig": ({"taskId": "{run}", "url": "https://example.invalid/h"}, "1.0", WORKERS,
                                         -32003),
    "GetTaskPushNotificationConfig": (PUSH, "1.0", READERS, -32003),
    "ListTaskPushNotificationConfigs": ({"taskId": "{run}"}, "1.0", READERS, -32003),
    "DeleteTaskPushNotificationConfig": (PUSH, "1.0", WORKERS, -32003),
    "GetExtendedAgentCard": ({}, "1.0", SIGNED_IN, -32007),
    "message/send": ({}, "", WORKERS, -32602), "message/stream": ({}, "", WORKERS, -32602),
    "tasks/get": (TASK, "", READERS, "result"), "tasks/cancel": (TASK, "", WORKERS, -32002),
    "tasks/resubscribe": (TASK, "", READERS, -32004),
    "tasks/pushNotificationConfig/set": ({"taskId": "{run}"}, "", WORKERS, -32003),
    "tasks/pushNotificationConfig/get": (PUSH, "", READERS, -32003),
    "tasks/pushNotificationConfig/list": ({"taskId": "{run}"}, "", READERS, -32003),
    "tasks/pushNotificationConfig/delete": (PUSH, "", WORKERS, -32003),
}


@pytest.fixture(scope="module")
def app_rules(identity, tmp_path_factory):
    """The routes the app serves (made in-process; nothing is contacted)."""
    app = create_app(Settings.from_env(redis_url="redis://127.0.0.1:9/0", secret_key="x",
                                       state_dir=tmp_path_factory.mktemp("roles-state")))
    return {rule.endpoint for rule in app.url_map.iter_rules()}


def test_every_route_has_an_access_rule_and_a_row_in_the_table(app_rules):
    assert app_rules == set(access.POLICY), "routes and access rules differ: decide in webapp/auth/access.py"
    assert app_rules == set(ROUTES), "routes and this test's table differ: add the new route's row"


def test_every_a2a_method_has_a_rule_and_a_row(app_rules):
    served = set(rpc.METHODS_V1) | compat.METHODS
    assert served == set(access.A2A_METHODS) == set(A2A)


@pytest.fixture(scope="module")
def finished_run(live_server, redis_url) -> str:
    """An escalated analysis (it has a STOR draft), run to its end."""
    import redis

    session = Browser(live_server)
    response = session.upload((SAMPLES / "wash_genuine_gldx.xml").read_bytes(), "wash_genuine_gldx.xml")
    run_id = response.headers["location"].rsplit("/", 1)[1]
    client = redis.Redis.from_url(redis_url)
    try:
        assert terminal(client, run_id).type == "run_completed"
    finally:
        client.close()
    return run_id


@pytest.fixture(scope="module")
def batch(live_server) -> str:
    """A batch of two alerts (it need not have finished)."""
    session = Browser(live_server)
    files = [("alert", (name, (SAMPLES / name).read_bytes(), "application/xml"))
             for name in ("wash_false_positive_prsm.xml", "insider_false_positive_nova.xml")]
    response = session.http.post("/analyses", data={"csrf_token": session.token}, files=files)
    assert response.status_code == 303, response.text
    session.close()
    return response.headers["location"].rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def sessions(live_server):
    """A signed-in browser session per role, and a stranger's."""
    made = {role: Browser(live_server, role) for role in ROLES}
    stranger = live_server.client(role=None, follow_redirects=False)
    yield made, stranger
    for browser in made.values():
        browser.close()
    stranger.close()


def _call(sessions, live_server, who: str, method: str, path: str, form: dict | None):
    made, stranger = sessions
    if who != "anonymous" and path == "/logout":
        browser = Browser(live_server, who)  # its own session: signing out must not end the shared one
        try:
            return browser.http.post(path, data={"csrf_token": browser.token})
        finally:
            browser.close()
    http = stranger if who == "anonymous" else made[who].http
    if method == "GET":
        if "/events" in path:
            with http.stream("GET", path) as response:  # a stream: its status is the answer
                if response.status_code != 200:
                    response.read()
                return response
        return http.get(path)
    data = dict(form or {})
    if who != "anonymous":
        data["csrf_token"] = made[who].token
    return http.post(path, data=data)


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_each_role_gets_what_the_table_says(endpoint, sessions, live_server, finished_run, batch):
    method, path, form, expected = ROUTES[endpoint]
    path = path.format(run=finished_run, batch=batch, case=CASE)
    got = {who: _call(sessions, live_server, who, method, path, form) for who in WHO}
    assert {who: response.status_code for who, response in got.items()} == expected
    stranger = got["anonymous"]
    if stranger.status_code in (302, 303) and endpoint != "auth.logout":
        assert stranger.headers["location"].startswith("/login?next=")  # the browser is sent to sign in
    for who, response in got.items():
        if response.status_code == 403 and endpoint not in ("a2a.rpc", "a2a.specialist_rpc"):
            assert "does not allow this" in response.text, (who, endpoint)


def _rpc(live_server, who: str, method: str, params: dict, version: str, run_id: str):
    filled = {k: (v.format(run=run_id) if isinstance(v, str) else v) for k, v in params.items()}
    headers = {"A2A-Version": version} if version else {}
    with live_server.client(role=None if who == "anonymous" else who) as http:
        return http.post("/a2a", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": filled},
                         headers=headers)


@pytest.mark.parametrize("method", sorted(A2A))
def test_each_role_may_call_exactly_its_a2a_methods(method, live_server, finished_run):
    params, version, allowed, answer = A2A[method]
    for who in WHO:
        response = _rpc(live_server, who, method, params, version, finished_run)
        if who == "anonymous":
            assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["error"]["data"][0]["reason"] == "UNAUTHENTICATED"
        elif who in allowed:
            assert response.status_code == 200, (who, response.text)
            body = response.json()
            assert ("result" in body) if answer == "result" else body["error"]["code"] == answer, (who, body)
        else:
            assert response.status_code == 403, (who, response.text)
            assert response.json()["error"]["data"][0]["reason"] == "PERMISSION_DENIED"


def test_a_task_is_visible_to_exactly_those_who_see_its_case_in_the_ui(sessions, live_server, finished_run):
    made, _stranger = sessions
    for role in ROLES:
        in_ui = made[role].http.get(f"/analyses/{finished_run}").status_code == 200
        task = _rpc(live_server, role, "GetTask", {"id": finished_run}, "1.0", finished_run)
        as_task = task.status_code == 200 and task.json().get("result", {}).get("id") == finished_run
        listed = _rpc(live_server, role, "ListTasks", {"pageSize": 100}, "1.0", finished_run)
        in_list = listed.status_code == 200 and finished_run in {t["id"] for t in listed.json()["result"]["tasks"]}
        assert in_ui == as_task == in_list == (role in READERS), role
