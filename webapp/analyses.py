"""Analyses: upload an alert, watch its investigation, read and download the determination.

The upload is an ordinary multipart form: without JavaScript it answers 303 to the analysis
page (or re-renders the page with the error); with htmx it answers the form fragment with
the error in place, or an ``HX-Redirect`` to the analysis page. Several files, or a zip, make a
batch instead (webapp/batches.py) and lead to the batch page. A client asking for JSON (the
CLI) gets JSON answers. Every run goes through the work queue (webapp/workqueue.py).

Who may call each view is decided before it runs (webapp/auth/access.py). Each view that
reads or changes a case writes its audit entry (webapp/record) before it answers: if the
record cannot be written, the case is not shown and nothing is done.
"""

from __future__ import annotations

import functools
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from agents.alerts import AlertError, parse_alert
from webapp import batches, cases, citations, intake, runner, workqueue
from webapp import report as run_report
from webapp.auth.access import a2a_error, actor, can_see_case
from webapp.htmx import is_htmx, page_or_fragment
from webapp.limits import UPLOAD, limited
from webapp.paths import resource_dir
from webapp.record import RecordUnavailable, audit
from webapp.record import cases as record_cases
from webapp.templating import size_label
from webapp.timeline import fold

bp = Blueprint("analyses", __name__)


def _services():
    return current_app.extensions["saa"]


def sample_alerts() -> dict[str, Path]:
    directory = resource_dir("test_data") / "alerts"
    return {p.name: p for p in sorted(directory.glob("*.xml"))}


def _index(error: str | None = None, status: int = 200, filename: str | None = None, refused=()):
    """The upload page, or — for htmx — just the form, with ``error`` shown in it."""
    if request.headers.get("HX-Request") and request.method == "POST":
        return render_template("fragments/_upload_form.html", error=error, filename=filename, refused=refused), status
    services = _services()
    return render_template("index.html", error=error, filename=filename, refused=refused, samples=sample_alerts(),
                           runs=services.store.recent(limit=25), total_runs=services.store.count(),
                           recent_batches=batches.recent(services)), status


@bp.get("/analyses")
def index():
    return _index()


@bp.post("/analyses")
@limited(*UPLOAD)
def create():
    """One alert starts an analysis; several files, or a zip, start a batch (webapp/intake.py)."""
    sample = request.form.get("sample")
    if sample:
        path = sample_alerts().get(sample)
        if path is None:
            return _index(f"There is no sample alert called {sample!r}.", 404)
        return _start_one(path.read_bytes(), path.name)
    uploads = [upload for upload in request.files.getlist("alert") if upload.filename]
    if not uploads:
        return _index("Choose an alert file (SMARTS XML export) to upload.", 400)
    head = uploads[0].stream.read(8)
    uploads[0].stream.seek(0)
    if len(uploads) == 1 and not intake.is_archive(uploads[0].filename, head):
        upload = uploads[0]
        max_bytes = _services().settings.max_alert_bytes
        raw = upload.stream.read(max_bytes + 1)
        if len(raw) > max_bytes:
            return _index(f"{upload.filename} is larger than the {size_label(max_bytes)} limit for one alert.", 413,
                          upload.filename)
        return _start_one(raw, upload.filename, known_case_opens=request.form.get("reinvestigate") != "1")
    return _start_batch(uploads)


def _start_one(raw: bytes, filename: str, *, known_case_opens: bool = False):
    try:
        alert = parse_alert(raw)
    except AlertError as exc:
        return _index(f"{filename}: {exc.message}", exc.status, filename)
    if known_case_opens and not _wants_json() and record_cases.get(_services().db, alert.alert_id) is not None:
        # Never a silent second analysis: the case opens, and offers a re-investigation.
        target = url_for("desk.case_view", alert_id=alert.alert_id, duplicate=1)
        return Response(status=204, headers={"HX-Redirect": target}) if request.headers.get("HX-Request") \
            else redirect(target, code=303)
    [run] = workqueue.submit(current_app._get_current_object(), [(alert, raw, filename)], actor=actor())
    return _created(url_for("analyses.show", run_id=run.id), {"run_id": run.id})


def _start_batch(uploads):
    try:
        received = intake.read_uploads(uploads, intake.Limits.from_settings(_services().settings))
    except intake.UploadRefused as exc:
        return _refused(exc.message, exc.status)
    if not received.accepted:
        return _refused(f"None of the {received.files} files is an alert this app can investigate.", 422,
                        received.refused)
    label = uploads[0].filename if len(uploads) == 1 else f"{len(uploads)} files"
    batch = batches.create(current_app._get_current_object(), received, label=label, actor=actor())
    return _created(url_for("batches.show", batch_id=batch.id),
                    {"batch_id": batch.id, "accepted": batch.accepted,
                     "refused": [{"filename": r.filename, "reason": r.reason} for r in batch.refused],
                     "report": url_for("batches.report", batch_id=batch.id)})


def _wants_json() -> bool:
    """Scripts (the CLI) ask for JSON; browsers get pages and redirects."""
    return request.accept_mimetypes.best == "application/json"


def _refused(message: str, status: int, refused=()):
    if _wants_json():
        return jsonify(error=message, refused=[{"filename": r.filename, "reason": r.reason} for r in refused]), status
    return _index(message, status, refused=refused)


def _created(target: str, summary: dict):
    if _wants_json():
        return jsonify(url=target, **summary), 201, {"Location": target}
    if request.headers.get("HX-Request"):
        return Response(status=204, headers={"HX-Redirect": target})
    return redirect(target, code=303)


def _find(run_id: str, action: str | None = None) -> cases.CaseRun:
    """The run (live or from the record) if this user may see its case; the access is audited."""
    found = cases.find(_services(), run_id)
    if found is None or not can_see_case(current_user, found.run.fields):
        abort(404)
    if action is not None:
        audit.record(_services().db, actor(), action, case_id=found.run["alert_id"], run_id=found.run.id)
    return found


def _load(run_id: str, action: str | None = None):
    found = _find(run_id, action)
    return found.run, fold(found.run.id, found.events)


@functools.lru_cache(maxsize=256)
def stored_alert(run_id: str):
    """A run's alert, parsed once per worker (an alert never changes): a page view neither reads the
    alert's bytes again (from Redis, or the record once Redis let the run go) nor parses them. None
    if it is gone or no longer passes the limits."""
    found = cases.find(_services(), run_id)
    raw = cases.alert_bytes(_services(), found) if found is not None else None
    try:
        return parse_alert(raw) if raw else None
    except AlertError:
        return None


@bp.get("/analyses/<run_id>")
def show(run_id: str):
    found = _find(run_id, "case.view")
    view = fold(found.run.id, found.events)
    ahead = _services().queue.position(found.run.id) if view.status == "queued" and found.live else None
    return render_template("analysis.html", run=found.run, view=view, alert=stored_alert(found.run.id),
                           queue_ahead=ahead)


@bp.get("/analyses/<run_id>.json")
def report(run_id: str):
    """The run as one typed JSON document (webapp/report.py): its record, the decision, every event."""
    found = _find(run_id, "case.download_json")
    return jsonify(run_report.build(found.run, fold(found.run.id, found.events), found.events))


@bp.get("/analyses/<run_id>/report")
def report_page(run_id: str):
    """The same report, readable: the record, the decision in brief and the event log as a table."""
    found = _find(run_id, "case.view")
    view = fold(found.run.id, found.events)
    return render_template("report.html", run=found.run, view=view,
                           report=run_report.build(found.run, view, found.events))


@bp.get("/analyses/<run_id>/findings/<int:finding>/citations/<int:index>")
def citation(run_id: str, finding: int, index: int):
    """The rows one citation of the decision points to: inline for htmx, a page without JavaScript."""
    found = _find(run_id)  # part of viewing the case, which was recorded when its page was opened
    run, view = found.run, fold(found.run.id, found.events)
    try:
        cited = citations.lookup(view.decision, finding, index)
        about = view.decision["findings"][finding]
        rows = (citations.alert_elements(cases.alert_bytes(_services(), found), cited)
                if cited.get("source") == "alert"
                else citations.read(_services().settings.data_dir, cited, about.get("tool", "")))
    except citations.NotCitable:
        abort(404, description="This analysis cites no such rows.")
    return page_or_fragment("citation.html", "fragments/_cited_rows.html", run=run, rows=rows, finding=about,
                            ref=f"cite-{finding}-{index}")


@bp.get("/analyses/<run_id>/stor.txt")
def stor(run_id: str):
    run, view = _load(run_id)
    draft = (view.decision or {}).get("stor")
    if not draft:
        abort(404, description="This analysis has no STOR draft: only escalated alerts have one.")
    audit.record(_services().db, actor(), "case.download_stor", case_id=run["alert_id"], run_id=run.id)
    body = render_template("stor.txt", run=run, decision=view.decision, stor=draft)
    return Response(body, mimetype="text/plain",
                    headers={"Content-Disposition": f'attachment; filename="STOR-draft-{run.id[:8]}.txt"'})


@bp.post("/analyses/<run_id>/cancel")
def cancel(run_id: str):
    """Ask the run's owner to stop; it ends the log with run_cancelled within 250 ms.

    htmx asks for confirmation in the browser (hx-confirm); a plain form post — JavaScript off —
    gets a confirmation page first, since a cancelled run cannot be resumed."""
    run, view = _load(run_id)
    if not is_htmx() and request.form.get("confirmed") != "yes":
        return render_template("cancel.html", run=run, view=view)
    if not run.finished:
        # Recorded first (the cancel itself happens in Redis, outside the record's transaction).
        audit.record(_services().db, actor(), "case.cancel", case_id=run["alert_id"], run_id=run.id)
        runner.cancel(current_app._get_current_object(), run.id)
    if is_htmx():
        return Response(status=204)
    return redirect(url_for("analyses.show", run_id=run.id), code=303)


@bp.get("/samples/<name>")
def sample(name: str):
    path = sample_alerts().get(name)
    if path is None:
        abort(404)
    return Response(path.read_bytes(), mimetype="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{path.name}"'})


@bp.app_errorhandler(RequestEntityTooLarge)
def too_large(_exc):
    settings = _services().settings
    return _index(f"The upload is larger than the {size_label(settings.batch_max_bytes)} limit for an upload (and "
                  f"{size_label(settings.max_alert_bytes)} for one alert).", 413)


@bp.app_errorhandler(CSRFError)
def csrf_failed(exc: CSRFError):
    if request.path.startswith("/analyses") and request.method == "POST" and request.path.count("/") == 1:
        return _index("The form had expired or did not come from this site. Reload the page and upload again.", 400)
    return render_template("error.html", code=400, message="The form had expired. Reload the page and retry."), 400


@bp.app_errorhandler(RecordUnavailable)
def record_unavailable(exc: RecordUnavailable):
    current_app.logger.error("record unavailable: %s", exc)
    message = "The system of record is unavailable, so nothing was done (every action must be recorded). Retry shortly."
    if request.path.startswith("/a2a"):
        return a2a_error(503, -32603, "RECORD_UNAVAILABLE", message)
    if request.path.startswith("/analyses") and request.method == "POST" and request.path.count("/") == 1:
        return _index(message, 503)
    return render_template("error.html", code=503, message=message), 503


@bp.app_errorhandler(404)
def not_found(exc):
    custom = getattr(exc, "description", None) != NotFound.description
    return render_template("error.html", code=404, message=exc.description if custom
                           else "There is no such page or analysis."), 404


