"""Liveness, readiness and Prometheus metrics for the PaaS and for operators."""

from __future__ import annotations

import redis
from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready when Redis answers. The reason names the kind of failure, never where Redis is."""
    try:
        current_app.extensions["saa"].redis.ping()
    except redis.RedisError as exc:
        reason = "timeout" if isinstance(exc, redis.TimeoutError) else \
            "unreachable" if isinstance(exc, redis.ConnectionError) else "error"
        return jsonify(status="unavailable", redis=reason), 503, {"Retry-After": "5", "Cache-Control": "no-store"}
    return jsonify(status="ready")


@bp.get("/metrics")
def metrics():
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
