"""The one place that reads and writes htmx's headers: a page for browsers, a fragment for htmx."""

from __future__ import annotations

from flask import Response, make_response, render_template, request


def is_htmx() -> bool:
    """An htmx request that wants a fragment (not a boosted link or a history restore, which want pages)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted") \
        and not request.headers.get("HX-History-Restore-Request")


def from_htmx() -> bool:
    """Any request htmx made, boosted or not: a redirect it would follow and swap in place."""
    return bool(request.headers.get("HX-Request"))


def page_or_fragment(page: str, fragment: str, status: int = 200, **context):
    """One URL, two answers: the whole page (JavaScript off, a new tab) or just the fragment."""
    response = make_response(render_template(fragment if is_htmx() else page, **context), status)
    response.vary.add("HX-Request")
    return response


def current_url() -> str | None:
    """The page an htmx request was made from (the browser's address bar)."""
    return request.headers.get("HX-Current-URL") if from_htmx() else None


def hx_redirect(location: str, status: int = 204) -> Response:
    """Send the whole browser to ``location``: a redirect would only swap its target's body
    into the fragment's place."""
    return Response(status=status, headers={"HX-Redirect": location})
