"""The audit trail for auditors: every entry, newest first, for all cases or one; and its export.

Reading the trail and exporting it are themselves recorded. The export streams (CSV or JSON
lines, as ``smarts-analyzer audit export`` writes them) a batch at a time, so a year of
entries never sits in memory nor holds a database transaction open.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context

from webapp.auth.access import actor
from webapp.record import audit

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE = 100


def _db():
    return current_app.extensions["saa"].db


@bp.get("", endpoint="trail")
def trail():
    case_id = request.args.get("case") or None
    before = request.args.get("before", type=int)
    entries = audit.page(_db(), case_id=case_id, before=before, limit=PAGE)
    audit.record(_db(), actor(), "audit.view", case_id=case_id, before=before)
    older = entries[-1].id if len(entries) == PAGE else None
    return render_template("audit/trail.html", entries=entries, case_id=case_id, older=older)


@bp.get("/export", endpoint="export")
def export():
    fmt = request.args.get("format", "csv")
    try:
        since = audit.parse_time(request.args["since"]) if request.args.get("since") else None
        until = audit.parse_time(request.args["until"]) if request.args.get("until") else None
        if fmt not in audit.EXPORT_FORMATS:
            raise ValueError(f"Unknown format {fmt!r}: choose csv or jsonl.")
    except ValueError as exc:
        return render_template("error.html", code=400, message=str(exc)), 400
    db = _db()
    audit.record(db, actor(), "audit.export", format=fmt, since=request.args.get("since"),
                 until=request.args.get("until"))
    lines = audit.export_lines(audit.stream(db, since=since, until=until), fmt)
    mimetype = "text/csv" if fmt == "csv" else "application/x-ndjson"
    return Response(stream_with_context(lines), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="audit-trail.{fmt}"', "Cache-Control": "no-store"})
