"""The sign-in views: an ordinary HTML form (CSRF, works without JavaScript), single sign-on
through the configured OpenID Connect provider, and sign-out (ending the provider's session
too, when the user came through it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from authlib.integrations.base_client import OAuthError
from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from joserfc.errors import JoseError

from webapp.auth import SSO, access, bp, oauth
from webapp.limits import SIGN_IN, limited
from webapp.record import audit, users
from webapp.record.users import AccountError, Principal

ID_TOKEN = "oidc_id_token"  # kept in the session for the provider's logout (id_token_hint)


def _services():
    return current_app.extensions["saa"]


def safe_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (never another host: no open redirect)."""
    parts = urlsplit(target or "")
    if target and target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc \
            and "\\" not in target:
        return target
    return None


def _next() -> str:
    return safe_path(request.values.get("next")) or home()


def home() -> str:
    """Where a role starts: administrators at the accounts page (they do not read cases)."""
    if current_user.is_authenticated and current_user.role == "admin":
        return url_for("admin.users")
    return url_for("desk.queue_view")


def _page(error: str | None = None, status: int = 200, username: str = ""):
    notice = None
    if request.args.get("expired"):
        notice = "Your session ended after a period of inactivity. Sign in again."
    elif request.args.get("signed_out"):
        notice = "You have signed out."
    return render_template("auth/login.html", error=error, notice=notice, username=username,
                           next=safe_path(request.values.get("next")) or ""), status


def _start_session(principal: Principal) -> None:
    session.clear()  # a fresh session at every sign-in: nothing set before it survives (fixation)
    login_user(principal)
    access.mark_signed_in()


@bp.get("/login")
def login():
    if current_user.is_authenticated and current_user.via == "session":
        return redirect(_next())
    return _page()


def sign_in_refused(message: str):
    """The login form again with ``message`` (the sign-in rate limit, webapp/limits.py)."""
    return _page(message, 429, (request.form.get("username") or "").strip()[:64])


@bp.post("/login")
@limited(*SIGN_IN)
def sign_in():
    settings = _services().settings
    username = (request.form.get("username") or "").strip()[:64]
    password = request.form.get("password") or ""
    if not username or not password:
        return _page("Enter your username and password.", 400, username)
    window = timedelta(seconds=settings.login_lockout_seconds)
    actor = access.actor()
    if audit.failures_from(_services().db, actor.ip, datetime.now(UTC) - window) >= settings.login_ip_max_failures:
        minutes = max(1, round(window.total_seconds() / 60))
        return _page(f"Too many failed sign-ins from your address. Try again in {minutes} minutes.", 429, username)
    outcome = users.sign_in(_services().db, actor, username, password, max_failures=settings.login_max_failures,
                            lockout=window)
    if outcome.principal is None:
        return _page(outcome.problem, 401, username)
    _start_session(outcome.principal)
    return redirect(_next(), code=303)


@bp.post("/logout")
def logout():
    id_token = session.get(ID_TOKEN)
    audit.record(_services().db, access.actor(), "auth.sign_out")
    logout_user()
    session.clear()
    after = _external(url_for("auth.login", signed_out=1))
    if id_token and _services().settings.oidc_enabled:
        # RP-initiated logout: the provider ends its own session, then sends the browser back.
        try:
            provider_logout = _sso().create_logout_url(post_logout_redirect_uri=after, id_token_hint=id_token,
                                                       client_id=_services().settings.oidc_client_id)
        except RuntimeError:  # the provider offers no end_session_endpoint
            return redirect(after, code=303)
        return redirect(provider_logout["url"], code=303)
    return redirect(after, code=303)


# ----------------------------------------------------------------------------- single sign-on

def _sso():
    if not _services().settings.oidc_enabled:
        abort(404, description="Single sign-on is not configured on this server.")
    return oauth.create_client(SSO)


def _external(path: str) -> str:
    """An absolute URL of ours: PUBLIC_URL behind a proxy, else the one the request came to."""
    base = _services().settings.public_url or request.url_root
    return base.rstrip("/") + path


@bp.get("/login/sso")
def sso_start():
    client = _sso()
    session["sso_next"] = safe_path(request.args.get("next"))
    return client.authorize_redirect(_external(url_for("auth.sso_callback")))


def _role_from(claims: dict) -> str | None:
    settings = _services().settings
    value = claims.get(settings.oidc_role_claim)
    values = {value} if isinstance(value, str) else {str(v) for v in value or ()}
    return next((role for claim, role in settings.oidc_role_map if claim in values), None)


@bp.get("/login/sso/callback")
def sso_callback():
    client, db, actor = _sso(), _services().db, access.actor()
    if request.args.get("error"):
        problem = request.args.get("error_description") or request.args["error"]
        audit.record(db, actor, "auth.sign_in_failed", method="oidc", reason=problem[:200])
        return _page(f"Single sign-on was refused: {problem}", 401)
    try:
        token = client.authorize_access_token()
    except (OAuthError, JoseError, ValueError, KeyError) as exc:  # state, code, signature, claims
        audit.record(db, actor, "auth.sign_in_failed", method="oidc", reason=str(exc)[:200])
        return _page(f"Single sign-on failed: {exc}", 401)
    claims = dict(token.get("userinfo") or {})
    issuer, subject = claims.get("iss", ""), claims.get("sub", "")
    role = _role_from(claims)
    name = claims.get("preferred_username") or claims.get("email") or subject
    if role is None:
        audit.record(db, actor, "auth.sign_in_failed", method="oidc", username=str(name)[:64],
                     reason=f"no role mapped from claim {_services().settings.oidc_role_claim!r}")
        return _page("Your single sign-on account has no role in this application. Ask an administrator to "
                     "grant you one with the identity provider.", 403)
    try:
        principal = users.sign_on(db, actor, subject=f"{issuer}|{subject}", username_hint=str(name),
                                  display_name=str(claims.get("name") or ""), role=role)
    except AccountError as exc:
        audit.record(db, actor, "auth.sign_in_failed", method="oidc", username=str(name)[:64], reason=str(exc))
        return _page(str(exc), 403)
    target = session.pop("sso_next", None)
    _start_session(principal)
    session[ID_TOKEN] = token.get("id_token")
    return redirect(safe_path(target) or home(), code=303)
