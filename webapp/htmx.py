"""The one place that reads htmx's request headers: a page for browsers, a fragment for htmx."""

from __future__ import annotations

from flask import make_response, render_template, request


def is_htmx() -> bool:
    """An htmx request that wants a fragment (not a boosted link or a history restore, which want pages)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted") \
        and not request.headers.get("HX-History-Restore-Request")


def page_or_fragment(page: str, fragment: str, status: int = 200, **context):
    """One URL, two answers: the whole page (JavaScript off, a new tab) or just the fragment."""
    response = make_response(render_template(fragment if is_htmx() else page, **context), status)
    response.vary.add("HX-Request")
    return response
