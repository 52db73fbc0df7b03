"""Jinja filters, template globals and response headers shared by every page."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, current_app

from agents.events import EventType

EVENT_NAMES = ",".join(str(t) for t in EventType)
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
STATUS_LABELS = {"queued": "Queued", "running": "Running", "completed": "Completed", "failed": "Failed",
                 "cancelled": "Cancelled", "cancelling": "Cancelling"}


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def duration_ms(ms: float | None) -> str:
    if ms is None:
        return ""
    return f"{ms:.1f} ms" if ms < 10 else duration(ms / 1000)


def size_label(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB" if n >= 1024 * 1024 else f"{n / 1024:g} KiB"


_KINDS = {"insider": "Insider dealing", "wash": "Wash trade", "spoofing": "Spoofing"}


def sample_label(filename: str) -> str:
    """``wash_false_positive_prsm.xml`` -> ``Wash trade — false positive — PRSM``."""
    kind, *middle, symbol = filename.removesuffix(".xml").split("_")
    return " — ".join([_KINDS.get(kind, kind), " ".join(middle), symbol.upper()])


def timestamp(epoch: float | str | None) -> str:
    if epoch in (None, ""):
        return ""
    return datetime.fromtimestamp(float(epoch), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(duration=duration, duration_ms=duration_ms, timestamp=timestamp)
    app.jinja_env.globals.update(sse_event_names=EVENT_NAMES, status_labels=STATUS_LABELS,
                                 sample_label=sample_label)

    @app.context_processor
    def analyst_mode() -> dict:
        settings = current_app.extensions["saa"].settings
        common = {"max_alert_size": size_label(settings.max_alert_bytes),
                  "batch_limits": f"{settings.batch_max_files:,} files, {size_label(settings.batch_max_bytes)} "
                                  "uncompressed"}
        if settings.llm_enabled:
            return {**common, "analyst_mode": f"LLM analyst ({settings.openai_model})", "analyst_offline": False}
        return {**common, "analyst_mode": "Offline rules analyst (no AI model)", "analyst_offline": True}

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
