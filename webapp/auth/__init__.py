"""Sign-in: local accounts (Argon2), single sign-on (OpenID Connect), sessions and API tokens.

``init_app`` binds the extensions made here once (Flask-Login's manager, Authlib's OAuth
registry), installs the default-deny hook (:mod:`webapp.auth.access`) and registers the
blueprint: ``/login`` (form and SSO), ``/login/sso/callback``, ``/logout``.

Session cookies: HttpOnly, SameSite=Lax, ``Secure`` whenever the request reached us over
HTTPS (directly, or through TRUSTED_PROXIES that say so in X-Forwarded-Proto), and no longer
valid after IDLE_TIMEOUT_MINUTES without a request.
"""

from __future__ import annotations

from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
oauth = OAuth()

SSO = "sso"  # the name the identity provider is registered under in Authlib


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever this request came over HTTPS (proxy-aware:
    ``request.is_secure`` honours X-Forwarded-Proto from trusted proxies)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or request.is_secure


def init_app(app: Flask) -> None:
    from webapp.auth import access, routes  # noqa: F401 - routes registers the views on bp

    settings = app.extensions["saa"].settings
    app.session_interface = SessionInterface()
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.user_loader(access.load_session_user)
    login_manager.request_loader(access.load_bearer_user)
    login_manager.unauthorized_handler(access.unauthorized)
    if settings.oidc_enabled:
        oauth.init_app(app)
        oauth.register(
            SSO, client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret,
            server_metadata_url=f"{settings.oidc_issuer_url}/.well-known/openid-configuration",
            # PKCE (S256) on top of the client secret; the nonce and the ID token's signature,
            # issuer, audience and expiry are checked by Authlib against the provider's JWKS.
            client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256"})
    app.before_request(access.require_access)
    app.after_request(_response_headers)
    app.jinja_env.globals.update(can=access.can, sso_enabled=settings.oidc_enabled, sso_label=settings.oidc_label)
    app.register_blueprint(bp)


HSTS = "max-age=31536000; includeSubDomains"


def _response_headers(response):
    """Nothing but static files is kept by browsers or proxies (case pages, JSON, STOR drafts,
    exports carry material non-public information; forms carry CSRF tokens) unless the view
    says otherwise (the public agent cards do); HSTS once we are reached over HTTPS."""
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if "request_id" in g:
        response.headers.setdefault("X-Request-ID", g.request_id)
    return response
