"""Rate limits on what costs the most: uploads, A2A sends and sign-in.

Flask-Limiter keeps the counts in the app's Redis (the same pool, keys under ``saa:limits``),
so every worker and instance counts together. Each action has two limits: one per user — the
signed-in user, the A2A bearer token, or for sign-in the account name tried — and a looser
one per IP address (an office behind one NAT shares it). Without a user both key on the IP.

When Redis is down the limits fail open to an in-memory fallback: each worker keeps its own
count per client (RATE_LIMIT_FALLBACK, shared by all limited actions) and goes back to Redis
once it answers again (Flask-Limiter re-checks with a growing interval, at most about a minute).
Nothing else is limited, so health checks and pages keep answering during an outage.

Only the limited actions go through the limiter at all (``@limited(*UPLOAD)``); A2A limits only
its send methods (the method is in the body, so the JSON-RPC handler calls :func:`a2a_send`
after parsing it).
"""

from __future__ import annotations

import functools
import hashlib

from flask import Flask, current_app, g, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_login import current_user


def _settings():
    return current_app.extensions["saa"].settings


def client_ip() -> str:
    """The client's address (X-Forwarded-For is trusted only through TRUSTED_PROXIES, see app.py)."""
    return f"ip:{request.remote_addr or 'unknown'}"


def signed_in_user() -> str | None:
    """The user the access hook (webapp/auth) signed in: a browser session or an API token's user."""
    return str(current_user.id) if current_user.is_authenticated else None


def user_or_ip() -> str:
    user = signed_in_user()
    if user:
        return f"user:{user}"
    token = request.headers.get("Authorization", "")
    if token.startswith("Bearer ") and len(token) > 7:  # an A2A client: its token is its identity
        return "token:" + hashlib.sha256(token[7:].encode()).hexdigest()[:24]
    return client_ip()


def account_or_ip() -> str:
    """For sign-in: the account name being tried (guessing one account's password from many places)."""
    name = (request.form.get("username") or request.form.get("email") or "").strip().casefold()
    return f"account:{hashlib.sha256(name.encode()).hexdigest()[:24]}" if name else client_ip()


limiter = Limiter(
    key_func=client_ip,
    strategy="sliding-window-counter",
    headers_enabled=True,
    swallow_errors=True,              # a limiter failure never fails the request (fail open)...
    in_memory_fallback_enabled=True,  # ...and while Redis is down each worker counts in memory
    in_memory_fallback=[lambda: _settings().rate_limit_fallback],
)


@limiter.request_filter
def _not_limited() -> bool:
    """Only the limited actions go through the limiter (and, during an outage, its fallback)."""
    return not g.get("rate_limited_action")


def limited(*limits):
    """A view (or function called in a request) counted against ``limits``."""

    def wrap(view):
        inner = view
        for limit in reversed(limits):
            inner = limit(inner)

        @functools.wraps(view)
        def counted(*args, **kwargs):
            g.rate_limited_action = True
            return inner(*args, **kwargs)

        return counted

    return wrap


UPLOAD = (limiter.limit(lambda: _settings().rate_limit_upload, key_func=user_or_ip, scope="upload"),
          limiter.limit(lambda: _settings().rate_limit_upload_ip, key_func=client_ip, scope="upload-ip"))
SIGN_IN = (limiter.limit(lambda: _settings().rate_limit_sign_in, key_func=account_or_ip, scope="sign-in",
                         methods=["POST"]),
           limiter.limit(lambda: _settings().rate_limit_sign_in_ip, key_func=client_ip, scope="sign-in-ip",
                         methods=["POST"]))
A2A_SEND = (limiter.limit(lambda: _settings().rate_limit_a2a_send, key_func=user_or_ip, scope="a2a-send"),
            limiter.limit(lambda: _settings().rate_limit_a2a_send_ip, key_func=client_ip, scope="a2a-send-ip"))


@limited(*A2A_SEND)
def a2a_send() -> None:
    """Count one A2A send (SendMessage, SendStreamingMessage, message/send, message/stream);
    raises RateLimitExceeded past the limits."""


def too_many(exc: RateLimitExceeded):
    """429 in the shape the caller understands: the upload form with its error, or a page."""
    message = (f"Too many requests: the limit is {exc.limit.limit} for this action. Your analyses are not "
               "affected; wait a moment and retry.")
    if request.endpoint == "analyses.create":
        from webapp.analyses import _index

        return _index(message, 429)
    if request.endpoint == "auth.sign_in":
        from webapp.auth.routes import sign_in_refused

        return sign_in_refused(message)
    return render_template("error.html", code=429, message=message), 429


def init_app(app: Flask, client, url: str) -> None:
    """Count in the app's Redis pool (nothing connects until the first limited request); on a Redis
    Cluster, in a cluster client of the limits library's own."""
    from webapp.redis_conn import is_cluster

    if is_cluster(client):
        tls = url.startswith("rediss+cluster://")
        app.config.update(RATELIMIT_STORAGE_URI=url.replace("rediss+cluster://", "redis+cluster://", 1),
                          RATELIMIT_STORAGE_OPTIONS={"key_prefix": "saa:limits", **({"ssl": True} if tls else {})})
    else:
        app.config.update(RATELIMIT_STORAGE_URI="redis://", RATELIMIT_STORAGE_OPTIONS={
            "connection_pool": client.connection_pool, "key_prefix": "saa:limits"})
    limiter.init_app(app)
    # Every limit is checked by its decorator when the limited action runs (``limited``), never in
    # Flask-Limiter's before-request pass, which would only cost every request — each stream open
    # of a connect storm included.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    app.register_error_handler(RateLimitExceeded, too_many)
