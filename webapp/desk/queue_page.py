"""The work queue, the home page: filters as query parameters, keyset pages, counts per state,
the same view as a streamed CSV, and the desk's live stream.

One URL answers with the page or — for htmx (the filter form, active search, paging) — just the
rows (webapp/htmx.py ``page_or_fragment``); the page includes the rows' template, so there is
one source for both.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import Response, current_app, request, stream_with_context, url_for
from flask_login import current_user

from webapp.auth.access import actor
from webapp.desk import bp, filters, live
from webapp.htmx import is_htmx, page_or_fragment
from webapp.record import audit, queue
from webapp.record.lifecycle import STATE_LABELS

CSV_COLUMNS = ("alert_id", "type", "alert_type", "subject", "trader", "symbol", "score", "ai_determination",
               "ai_confidence", "state", "assignee", "outcome", "created_at", "updated_at", "latest_run_id")


def _services():
    return current_app.extensions["saa"]


@bp.get("/")
def queue_view():
    view = filters.parse(request.args, current_user.username)
    found = queue.page(_services().db, view)
    response = page_or_fragment("desk/queue.html", "desk/_queue_rows.html", view=view, found=found,
                                counts=queue.counts(_services().db), live_after=live.last_id(_services()),
                                state_labels=STATE_LABELS, filters=filters)
    if is_htmx():  # the address bar shows the view's own link: its filters, none of the empty fields
        response.headers["HX-Push-Url"] = url_for("desk.queue_view", **filters.to_args(view))
    return response


def _line(values) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(values)
    return out.getvalue()


def _csv_rows(db, view) -> Iterator[str]:
    yield _line(CSV_COLUMNS)
    for row in queue.stream(db, view):
        yield _line([_cell(str(v)) for v in (
            row.alert_id, row.kind, row.alert_type, row.subject, row.trader, row.symbol, row.score,
            row.ai_determination or "", "" if row.ai_confidence is None else row.ai_confidence, row.state,
            row.assignee or "", row.outcome or "", row.created_at.isoformat(), row.updated_at.isoformat(),
            row.latest_run_id or "")])


def _cell(value: str) -> str:
    """A spreadsheet must not run a formula that an alert's text smuggled in (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "@", "\t", "\r") or (value[:1] == "-" and not
                                                                      value[1:2].isdigit()) else value


@bp.get("/cases.csv")
def queue_csv():
    """The filtered queue as CSV, streamed a page at a time (never built in memory)."""
    view = filters.parse(request.args, current_user.username)
    audit.record(_services().db, actor(), "case.export", **filters.to_args(view))
    body = stream_with_context(_csv_rows(_services().db, view))
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="cases.csv"'})


@bp.get("/desk/events")
def events():
    """The desk's live stream: ``?case=<AlertID>`` for a case page, ``?rows=<hex ids>`` for a queue page."""
    return live.stream(_services(), live.request_view(), live.request_cursor())
