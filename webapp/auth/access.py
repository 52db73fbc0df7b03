"""Who may call what: one default-deny hook in front of every request, and the policy it applies.

The hook runs before every view of every blueprint. An endpoint not named in :data:`POLICY`
is refused (403, and an error in the log): a new route is closed until someone decides who
may use it, and the role test (tests/test_roles.py) fails until that decision is written
down. Public endpoints are few: health probes, static files, the A2A agent cards and the
sign-in pages.

Identity comes from Flask-Login: a browser session (cookie, with CSRF on every form), or a
bearer API token (``Authorization: Bearer saa_…``) loaded through the same loader. The A2A
JSON-RPC endpoints take bearer tokens only — they are exempt from CSRF, so a cookie must never
be enough there — including the static ``A2A_AUTH_TOKEN`` service token, which is good for
nothing else. A stream (SSE or A2A) is authorised here once, when it opens; events then flow
without any further check or database call.

Without an identity: the browser is sent to the login page (htmx gets ``HX-Redirect``, so a
login form is never swapped into a fragment's place); JSON, event streams and A2A get 401.
With an identity but not the permission: 403, as a page, JSON or a JSON-RPC error.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Response, current_app, g, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from webapp import htmx
from webapp.record import audit, users
from webapp.record.audit import Actor
from webapp.record.lifecycle import ACTIONS
from webapp.record.users import Principal
from webapp.roles import Permission, allows

log = logging.getLogger(__name__)

SEEN = "seen"  # session key: when this session last made a request (idle timeout)
SEEN_RESOLUTION = 15  # seconds; the cookie is not rewritten more often than this for idleness alone
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass(frozen=True)
class Rule:
    """Who may call an endpoint. ``permission`` None with ``public`` False: anyone signed in."""

    permission: Permission | None = None
    public: bool = False
    api: bool = False          # answers 401 (not the login page) without an identity
    bearer_only: bool = False  # a browser session does not count (CSRF-exempt endpoints)


PUBLIC = Rule(public=True)
SIGNED_IN = Rule()
READ = Rule(Permission.CASE_READ)
WORK = Rule(Permission.CASE_WORK)

POLICY: dict[str, Rule] = {
    "static": PUBLIC,
    "health.healthz": PUBLIC,
    "health.readyz": PUBLIC,
    "health.metrics": Rule(Permission.METRICS_READ, api=True),  # or METRICS_TOKEN, see metrics_token_given
    "a2a.card": PUBLIC,
    "a2a.specialist_card": PUBLIC,
    "a2a.rpc": Rule(api=True, bearer_only=True),             # each method is checked: A2A_METHODS
    "a2a.specialist_rpc": Rule(api=True, bearer_only=True),
    "auth.login": PUBLIC,
    "auth.sign_in": PUBLIC,
    "auth.sso_start": PUBLIC,
    "auth.sso_callback": PUBLIC,
    "auth.logout": SIGNED_IN,
    "analyses.index": READ,
    "analyses.create": WORK,
    "analyses.show": READ,
    "analyses.report": Rule(Permission.CASE_READ, api=True),
    "analyses.stor": READ,
    "analyses.report_page": READ,
    "analyses.citation": READ,
    "analyses.cancel": WORK,
    "analyses.sample": SIGNED_IN,  # the bundled sample alerts are test data, not cases
    "events.stream": Rule(Permission.CASE_READ, api=True),
    "batches.show": READ,
    "batches.report": Rule(Permission.CASE_READ, api=True),
    "batches.events": Rule(Permission.CASE_READ, api=True),
    "admin.users": Rule(Permission.USERS_MANAGE),
    "admin.add_user": Rule(Permission.USERS_MANAGE),
    "admin.set_active": Rule(Permission.USERS_MANAGE),
    "admin.create_token": Rule(Permission.USERS_MANAGE),
    "admin.revoke_token": Rule(Permission.USERS_MANAGE),
    "audit.trail": Rule(Permission.AUDIT_READ),
    "audit.export": Rule(Permission.AUDIT_READ),
    # The desk: reading cases (analysts, reviewers, auditors — not administrators); each lifecycle
    # action with the permission its row of the lifecycle table names (webapp/record/lifecycle.py).
    "desk.queue_view": READ,
    "desk.queue_csv": READ,
    "desk.events": Rule(Permission.CASE_READ, api=True),
    "desk.case_view": READ,
    "desk.case_actions": READ,
    "desk.case_file": READ,
    "desk.case_file_pdf": READ,
    "desk.reinvestigate": WORK,
    **{f"desk.{action.name}": Rule(action.permission) for action in ACTIONS.values()},
}

# A2A methods (v1.0 and v0.3 names): what each needs. A method not listed is left to the
# dispatcher, which answers -32601 (no such method).
A2A_METHODS: dict[str, Permission | None] = {
    "SendMessage": Permission.CASE_WORK, "SendStreamingMessage": Permission.CASE_WORK,
    "CancelTask": Permission.CASE_WORK, "GetTask": Permission.CASE_READ, "ListTasks": Permission.CASE_READ,
    "SubscribeToTask": Permission.CASE_READ,
    "CreateTaskPushNotificationConfig": Permission.CASE_WORK, "GetTaskPushNotificationConfig": Permission.CASE_READ,
    "ListTaskPushNotificationConfigs": Permission.CASE_READ, "DeleteTaskPushNotificationConfig": Permission.CASE_WORK,
    "GetExtendedAgentCard": None,
    "message/send": Permission.CASE_WORK, "message/stream": Permission.CASE_WORK,
    "tasks/cancel": Permission.CASE_WORK, "tasks/get": Permission.CASE_READ, "tasks/resubscribe": Permission.CASE_READ,
    "tasks/pushNotificationConfig/set": Permission.CASE_WORK, "tasks/pushNotificationConfig/get": Permission.CASE_READ,
    "tasks/pushNotificationConfig/list": Permission.CASE_READ,
    "tasks/pushNotificationConfig/delete": Permission.CASE_WORK,
}


# ----------------------------------------------------------------------------- loading identities

def _services():
    return current_app.extensions["saa"]


class _Recent:
    """Identities this worker looked up in the last few seconds. A page, its fragments and its
    stream arrive together, and a thousand streams may open at once with one service token:
    one database read serves them all. Disabling an account or revoking a token therefore takes
    up to PRINCIPAL_CACHE_SECONDS (default 5; 0 turns this off) to reach the other workers."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.entries: dict[str, tuple[float, Principal | None]] = {}

    def get(self, key: str, load):
        if self.seconds <= 0:
            return load()
        now = time.monotonic()
        hit = self.entries.get(key)
        if hit is not None and now - hit[0] < self.seconds:
            return hit[1]
        if len(self.entries) > 10_000:
            self.entries = {k: v for k, v in self.entries.items() if now - v[0] < self.seconds}
        value = load()
        self.entries[key] = (now, value)
        return value


def _recent() -> _Recent:
    extra = _services().extra
    if "recent_principals" not in extra:
        extra["recent_principals"] = _Recent(_services().settings.principal_cache_seconds)
    return extra["recent_principals"]


def forget_principals() -> None:
    """After a change to accounts made in this worker: its next requests see it at once."""
    _recent().entries.clear()


def load_session_user(user_id: str) -> Principal | None:
    """Flask-Login's user loader: ``<id>:<session key>`` from the session cookie."""
    ident, _, key = user_id.partition(":")
    if not ident.isdigit() or not key:
        return None
    return _recent().get(f"s:{user_id}", lambda: users.for_session(_services().db, int(ident), key))


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def load_bearer_user(_request) -> Principal | None:
    """Flask-Login's request loader: an API token, or the static A2A service token."""
    token = bearer_token()
    if token is None:
        return None
    static = _services().settings.a2a_auth_token
    if static and hmac.compare_digest(token.encode(), static.encode()):
        return Principal(None, "a2a-service", "analyst", kind="static", via="token")
    return _recent().get(f"t:{users.token_digest(token)}", lambda: users.for_token(_services().db, token))


def metrics_token_given() -> bool:
    configured = _services().settings.metrics_token
    given = bearer_token()
    return bool(configured and given and hmac.compare_digest(given.encode(), configured.encode()))


# ----------------------------------------------------------------------------- the hook

def client_ip() -> str:
    """The client's address; ProxyFix (TRUSTED_PROXIES) has already taken it from
    X-Forwarded-For when the app sits behind that many trusted proxies."""
    return request.remote_addr or ""


def actor() -> Actor:
    """The signed-in user, as the audit trail records them, for this request."""
    principal = current_user._get_current_object()
    name = principal.username if principal.is_authenticated else "anonymous"
    role = principal.role if principal.is_authenticated else ""
    return Actor(name, role, client_ip(), g.get("request_id", ""))


def can(permission: Permission | str) -> bool:
    return bool(current_user.is_authenticated and allows(current_user.role, Permission(permission)))


def can_see_case(principal, _case_fields: dict | None = None) -> bool:
    """Whether ``principal`` may see a case (page, JSON, stream, A2A task). Today: by role; the
    desk can narrow it (assignment, need-to-know groups) here, for the UI and A2A at once."""
    return bool(principal.is_authenticated and allows(principal.role, Permission.CASE_READ))


def _request_id() -> str:
    incoming = request.headers.get("X-Request-ID", "")
    if _services().settings.trusted_proxies and REQUEST_ID.match(incoming):
        return incoming  # the proxy's id, so its logs and the audit trail line up
    return uuid.uuid4().hex


def require_access():
    """The before-request hook (see the module docstring)."""
    g.request_id = _request_id()
    if request.endpoint is None:  # no such route (404) or method (405): nothing to protect
        return None
    rule = POLICY.get(request.endpoint)
    if rule is None:
        log.error("endpoint %s has no access rule in webapp/auth/access.py: refused", request.endpoint)
        return forbidden("This page has no access rule yet.")
    if rule.public:
        return None
    if request.endpoint == "health.metrics" and metrics_token_given():
        return None
    if rule.bearer_only:
        refused = _cross_site_refused()
        if refused is not None:  # a browser page's request is refused before its credentials are looked at
            return refused
    if bearer_token() is not None:
        # An explicit credential wins over a cookie that came along; Flask-Login keeps the
        # request's user in g._login_user, where current_user finds it.
        g._login_user = load_bearer_user(request) or current_app.login_manager.anonymous_user()
    principal = current_user._get_current_object()
    if principal.is_authenticated and principal.kind == "static" and not rule.bearer_only:
        principal = None  # A2A_AUTH_TOKEN opens the A2A endpoints only
    if principal is None or not principal.is_authenticated or (rule.bearer_only and principal.via != "token"):
        return unauthorized(rule)
    if principal.via == "session" and _idle_expired():
        return unauthorized(rule, expired=True)
    if rule.permission is not None and not allows(principal.role, rule.permission):
        return forbidden(f"Your role ({principal.role}) does not allow this.", rule)
    return None


def _cross_site_refused() -> Response | None:
    """The A2A endpoints' cross-site check, run first: a request sent by another site's page is
    refused as such (403), whatever credentials came with it."""
    from webapp.a2a import guard
    from webapp.a2a.errors import A2AError

    try:
        guard.refuse_cross_site()
    except A2AError as exc:
        return guard.error_json(exc, exc.http_status, exc.http_headers)
    return None


def _idle_expired() -> bool:
    """Sign the session out after IDLE_TIMEOUT of no requests; otherwise note this one."""
    now = int(time.time())
    seen = session.get(SEEN, 0)
    if now - seen > _services().settings.idle_timeout:
        audit.record(_services().db, actor(), "auth.session_expired")
        logout_user()
        session.clear()
        return True
    if now - seen >= SEEN_RESOLUTION:
        session[SEEN] = now
    return False


def mark_signed_in() -> None:
    session[SEEN] = int(time.time())


# ----------------------------------------------------------------------------- answers

def _wants_json(rule: Rule | None) -> bool:
    if rule is not None and rule.api:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _safe_next() -> str:
    """Where to return after signing in: this page (for htmx, the page it was on), same site only."""
    target = htmx.current_url() if htmx.from_htmx() else request.full_path
    parts = urlsplit(target or "/")
    path = parts.path or "/"
    return path + (f"?{parts.query}" if parts.query else "") if path.startswith("/") and not \
        path.startswith("//") else "/"


def unauthorized(rule: Rule | None = None, *, expired: bool = False):
    message = "Your session ended after a period of inactivity; sign in again." if expired else \
        "Sign in to continue."
    if rule is not None and rule.bearer_only:
        return a2a_error(401, -32600, "UNAUTHENTICATED",
                         "Authentication required: send Authorization: Bearer <API token>.")
    if _wants_json(rule) and not htmx.from_htmx():
        response = jsonify(error="unauthenticated", message=message.replace("Sign in", "Sign in or send a bearer "
                                                                                    "token"))
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="smarts-analyzer"'
        return response
    login = url_for("auth.login", next=_safe_next(), expired=1 if expired else None)
    if htmx.from_htmx():
        # htmx would swap a redirected login page into the fragment's place: send the browser there.
        return htmx.hx_redirect(login, 401)
    return redirect(login, code=303 if request.method == "POST" else 302)


def forbidden(message: str, rule: Rule | None = None):
    if rule is not None and rule.bearer_only:
        return a2a_error(403, -32600, "PERMISSION_DENIED", message)
    if _wants_json(rule):
        response = jsonify(error="forbidden", message=message)
        response.status_code = 403
        return response
    if htmx.from_htmx():
        return render_template("auth/_forbidden.html", message=message), 403
    return render_template("error.html", code=403, message=message), 403


def a2a_error(status: int, code: int, reason: str, message: str) -> Response:
    """A JSON-RPC error for the A2A endpoints, shaped like the others (ErrorInfo in data)."""
    body = {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message, "data": [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "a2a-protocol.org",
         "metadata": {}}]}}
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="a2a"'
    return response


def a2a_denied(method: str) -> Response | None:
    """The A2A method check, after the endpoint's: None when the caller may call ``method``."""
    if method not in A2A_METHODS:
        return None
    needed = A2A_METHODS[method]
    if needed is None or allows(current_user.role, needed):
        return None
    return a2a_error(403, -32600, "PERMISSION_DENIED",
                     f"The role {current_user.role!r} may not call {method}.")
