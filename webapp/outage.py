"""What a request gets when Redis is unreachable: a clear 503, never a bare 500.

Runs are safe during an outage: their logs are in Redis (append-only file), a running analysis
waits for Redis with a jittered backoff (webapp/runner.py, webapp/keeper.py), and one that
gives up is resumed by the recovery sweep once Redis answers (webapp/lifecycle.py). So a page
says exactly that, and asks to retry shortly; a GET page refreshes itself. Streams answer a
plain 503 with Retry-After (EventSource and the htmx SSE extension reconnect), A2A a JSON-RPC
error (webapp/a2a/guard.py). Any other unexpected error is a 500 page, not Werkzeug's.
"""

from __future__ import annotations

import json
import logging

import redis
from flask import Flask, Response, render_template, request
from prometheus_client import Counter
from werkzeug.exceptions import InternalServerError

from webapp.feed import HubUnavailable

log = logging.getLogger(__name__)

RETRY_AFTER = 5
UNAVAILABLE = Counter("saa_store_unavailable_total", "Requests answered 503 because Redis was unreachable")
STORE_DOWN = ("The analysis store cannot be reached for a moment. Your analyses are safe: running "
              "investigations wait and carry on by themselves once it is back. Retry shortly.")


def store_unavailable(_exc: Exception | None = None) -> Response:
    UNAVAILABLE.inc()
    headers = {"Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"}
    if request.path.endswith("/events"):  # an SSE stream: EventSource reconnects after Retry-After
        return Response("The event store is unavailable; retry shortly.\n", 503, headers, mimetype="text/plain")
    if request.path.endswith(".json"):
        return Response(json.dumps({"error": "unavailable", "message": STORE_DOWN}), 503, headers,
                        mimetype="application/json")
    if request.method == "GET":
        headers["Refresh"] = str(RETRY_AFTER * 2)  # the page tries again by itself, without JavaScript
    if request.headers.get("HX-Request") and request.endpoint == "analyses.create":
        body = render_template("fragments/_upload_form.html", error=STORE_DOWN)
    else:
        body = render_template("error.html", code=503, message=STORE_DOWN)
    return Response(body, 503, headers, mimetype="text/html")


def internal_error(exc: InternalServerError) -> tuple[str, int] | Response:
    original = getattr(exc, "original_exception", None)
    if isinstance(original, redis.RedisError | HubUnavailable):
        return store_unavailable(original)
    return render_template("error.html", code=500, message="Something went wrong on our side; it has been "
                           "logged. Your analyses are not affected. Retry, or go back to the analyzer."), 500


def init_app(app: Flask) -> None:
    app.register_error_handler(redis.RedisError, store_unavailable)
    app.register_error_handler(HubUnavailable, store_unavailable)
    app.register_error_handler(InternalServerError, internal_error)
