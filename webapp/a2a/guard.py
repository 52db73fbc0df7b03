"""What a JSON-RPC request must pass before any method runs, and every failure as JSON-RPC.

* **Not from a browser on another site.** A page elsewhere can make the browser POST to this
  server (``fetch(url, {mode: "no-cors", body})``): it cannot read the answer, but the request
  would act — create a run with planted data, cancel a live one. Browsers say where a request
  comes from (``Sec-Fetch-Site``, ``Origin``); anything but this server's own origin, under a
  trusted name (cards.py), is refused. A2A clients are not browsers and send neither header.
* **JSON, for every method.** ``application/json`` (or ``+json``) is required, v0.3 names
  included: a no-cors request can only carry text/plain, form or multipart bodies.
* **Bounded.** The body may not pass the limit — also when it comes chunked, with no length
  announced: it is refused whole, never cut at the limit and processed — and JSON nested
  deeper than :data:`MAX_DEPTH` is refused before anything walks it.
* **Errors stay JSON-RPC.** 413, 429, a Redis outage (503) and any unexpected failure (500) are
  JSON-RPC error objects with the spec's ErrorInfo, never an HTML page.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlsplit

import redis
from flask import Blueprint, Response, current_app, request
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.sansio.utils import host_is_trusted

from webapp.a2a.cards import trusted_hosts
from webapp.a2a.errors import (
    A2AError,
    ContentTypeNotSupportedError,
    InternalError,
    InvalidRequestError,
    JSONParseError,
    RateLimitedError,
    error_response,
)
from webapp.feed import HubUnavailable

log = logging.getLogger(__name__)

MAX_DEPTH = 32          # a SendMessage with metadata is under 10 levels deep
SAME_SITE_OK = {"same-origin", "none"}  # "none": typed into the address bar, not sent by a page


def with_status(error: A2AError, status: int, **headers: str) -> A2AError:
    """Mark an error with the HTTP status (and headers) its response carries; JSON-RPC errors
    are otherwise answered 200."""
    error.http_status, error.http_headers = status, headers
    return error


def own_origins() -> set[str]:
    """The origins this server is reached at: PUBLIC_URL's, and the one the request was sent to when its
    host is trusted (a page on a rebound DNS name has the server's address but not a trusted name)."""
    settings = current_app.extensions["saa"].settings
    origins = set()
    if host_is_trusted(request.host.lower(), trusted_hosts(settings)):
        origins.add(f"{request.scheme}://{request.host}".lower())
    if settings.public_url:
        parts = urlsplit(settings.public_url)
        origins.add(f"{parts.scheme}://{parts.netloc}".lower())
    return origins


def refuse_cross_site() -> None:
    site = request.headers.get("Sec-Fetch-Site", "").strip().lower()
    origin = request.headers.get("Origin", "").strip().lower()
    if (site and site not in SAME_SITE_OK) or (origin and origin not in own_origins()):
        raise with_status(InvalidRequestError(
            message="Cross-site requests from a browser are refused: A2A clients call this endpoint directly.",
            data={"origin": origin or "", "secFetchSite": site or ""}), 403)


def body_limit() -> int:
    """An alert of MAX_ALERT_BYTES, base64-encoded in JSON, plus the envelope."""
    return current_app.extensions["saa"].settings.max_alert_bytes * 4 // 3 + 64 * 1024


def read_json():
    """The request's JSON body, checked as the module docstring says."""
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        sent = f"was sent as {request.mimetype}" if request.mimetype else "had no Content-Type"
        raise ContentTypeNotSupportedError(message=f"JSON-RPC requests must be sent as application/json; this one "
                                                   f"{sent}.", data={"contentType": request.mimetype})
    limit = body_limit()
    # One byte past the limit, so that a chunked body that goes on is seen to go on: Werkzeug stops
    # a stream with no Content-Length at the limit without saying whether more was coming.
    request.max_content_length = limit + 1
    raw = request.get_data(cache=False)  # a declared length over it raises 413 before reading
    if len(raw) > limit:
        raise RequestEntityTooLarge()
    try:
        body = json.loads(raw)
    except RecursionError:
        raise too_deep() from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise JSONParseError(message=f"Invalid JSON: {exc}") from None
    if depth_exceeds(body, MAX_DEPTH):
        raise too_deep()
    return body


def too_deep() -> A2AError:
    return InvalidRequestError(message=f"The request is nested more than {MAX_DEPTH} levels deep.")


def depth_exceeds(value, limit: int) -> bool:
    """Whether containers nest deeper than ``limit`` (iteratively: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


# ----------------------------------------------------------------------------- errors as JSON-RPC

def error_json(error: A2AError, status: int = 200, headers: dict | None = None) -> Response:
    response = Response(json.dumps(error_response(None, error)), status=status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


def _too_large(_exc) -> Response:
    return error_json(InvalidRequestError(message=f"The request is larger than the {body_limit()}-byte limit "
                                                  "(an alert of MAX_ALERT_BYTES, base64-encoded, plus the envelope).",
                                          data={"limitBytes": body_limit()}), 413)


def _rate_limited(exc: RateLimitExceeded) -> Response:
    return error_json(RateLimitedError(message=f"Too many requests: the limit is {exc.limit.limit} for sending "
                                               "alerts. Retry later.", data={"limit": str(exc.limit.limit)}), 429)


def _store_unavailable(_exc) -> Response:
    return error_json(InternalError(message="The task store is unavailable for a moment; tasks are safe. Retry "
                                            "shortly.", data={"retryAfterSeconds": 5}), 503, {"Retry-After": "5"})


def _http_error(exc: HTTPException) -> Response:
    return error_json(InvalidRequestError(message=f"{exc.code} {exc.name}: {exc.description}"), exc.code or 400)


def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    if isinstance(exc, redis.RedisError | HubUnavailable):
        return _store_unavailable(exc)
    log.exception("A2A request failed")
    return error_json(InternalError(message="Internal error; it has been logged."), 500)


def _method_not_allowed(exc: MethodNotAllowed):
    """Raised while routing, before the request belongs to the blueprint: JSON-RPC only under /a2a."""
    if request.path.startswith("/a2a"):
        return _http_error(exc)
    return exc


def register(bp: Blueprint) -> None:
    bp.register_error_handler(RequestEntityTooLarge, _too_large)
    bp.register_error_handler(RateLimitExceeded, _rate_limited)
    bp.register_error_handler(Exception, _unexpected)
    bp.record_once(lambda state: state.app.register_error_handler(MethodNotAllowed, _method_not_allowed))
