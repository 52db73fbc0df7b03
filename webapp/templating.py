"""Jinja filters, template globals and response headers shared by every page."""

from __future__ import annotations

import functools
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app
from markupsafe import Markup

from agents.alerts import AlertError, parse_alert
from agents.events import EventType
from webapp.charts import chart_for

EVENT_NAMES = ",".join(str(t) for t in EventType)
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def content_security_policy(settings) -> str:
    """The policy above; with single sign-on, the identity provider may receive the browser
    after a form too (signing out redirects there, and browsers apply form-action to redirects)."""
    if not settings.oidc_issuer_url:
        return CONTENT_SECURITY_POLICY
    parts = urlsplit(settings.oidc_issuer_url)
    return CONTENT_SECURITY_POLICY.replace("form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}")
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


@functools.lru_cache(maxsize=128)
def _sample_facts(path: str, mtime_ns: int) -> tuple[str, str] | None:
    try:
        alert = parse_alert(Path(path).read_bytes())
    except (AlertError, OSError):
        return None
    return alert.kind.label, alert.symbol


def sample_label(path: Path) -> str:
    """``insider_edge_no_history.xml`` -> ``Insider dealing — edge case: no history — QRTZ``.

    The alert type and the instrument come from the alert itself, the case from the file name
    (without its last word when that is the instrument)."""
    kind, *words = path.stem.split("_")
    facts = _sample_facts(str(path), path.stat().st_mtime_ns)
    label, symbol = facts if facts else (kind.capitalize(), "")
    if symbol and words and words[-1].casefold() == symbol.casefold():
        words = words[:-1]
    case = " ".join(words)
    if case.startswith("edge "):
        case = "edge case: " + case.removeprefix("edge ")
    return " — ".join(part for part in (label, case, symbol) if part)


CLOCK_LIMIT = 9999  # seconds the live clock counts from (four digit classes); beyond, it shows the time rendered


def live_clock(since: float, at: float | None = None) -> Markup:
    """Seconds from ``since`` to ``at`` (now, for a page) that keep counting in the browser without
    any script or request.

    The seconds at render time become one class per decimal digit (``clock--d1-4`` is "4 tens");
    app.css adds them up into a registered custom property and animates it one step a second
    into a CSS counter. Every viewer's clock runs in their own browser: no polling, no pushed
    ticks, whatever the audience. A fragment draws it as of its event (``at``), so a replayed
    fragment is the same as the live one; each redraw restarts it from there.
    """
    seconds = max(0.0, (time.time() if at is None else at) - since)
    whole = min(int(seconds), CLOCK_LIMIT)
    digits = " ".join(f"clock--d{place}-{digit}" for place, digit in enumerate(reversed(f"{whole:04d}"))
                      if digit != "0")
    live = " clock--live" if whole < CLOCK_LIMIT else ""
    return Markup('<span class="clock{} {}">{}</span>').format(live, digits, duration(seconds))


def pretty_json(value) -> str:
    """Indented JSON as text (autoescaped where it is shown), for people reading a raw result."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def timestamp(epoch: float | str | None) -> str:
    if epoch in (None, ""):
        return ""
    return datetime.fromtimestamp(float(epoch), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def init_app(app: Flask) -> None:
    policy = content_security_policy(app.extensions["saa"].settings)
    app.jinja_env.filters.update(duration=duration, duration_ms=duration_ms, timestamp=timestamp,
                                 pretty_json=pretty_json)
    app.jinja_env.globals.update(sse_event_names=EVENT_NAMES, status_labels=STATUS_LABELS,
                                 sample_label=sample_label, live_clock=live_clock, chart_for=chart_for)

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
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
