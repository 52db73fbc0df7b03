"""The case file: everything a compliance officer files about one analysis of a case — the
alert, the evidence (each step's findings and rows), the timeline, the AI's decision, the human
disposition, the four-eyes reviews, the notes and the case's audit entries — as a printable
page (the print stylesheet) and as a PDF rendered by WeasyPrint from the same HTML.

WeasyPrint reads only this app's own static files (the stylesheet) from disk: its URL fetcher
refuses everything else, so a case file can never make the server fetch a URL. Rendering is CPU
work, done off the gevent hub (webapp/record ``cpu_bound``); WeasyPrint is imported when the
worker boots (see below).
"""

from __future__ import annotations

import logging
import mimetypes
from urllib.parse import urlsplit

from flask import Response, abort, current_app, render_template
from flask_login import current_user

from webapp import cases as case_runs
from webapp.auth.access import actor, can_see_case
from webapp.desk import bp
from webapp.paths import resource_dir
from webapp.record import audit, cases, cpu_bound
from webapp.timeline import fold

STATIC_PREFIX = "/static/"

# Imported while the worker boots, not on the first download: loading Pango looks the libraries
# up with a subprocess, which gevent cannot start from the thread the PDF is rendered on, and an
# import on a live request would hold the worker's hub. Without Pango the app still serves
# everything else, and the PDF answers 503 saying why.
# The screen stylesheet's SVG and responsive rules mean nothing on paper: not worth a warning each.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("weasyprint.progress").setLevel(logging.ERROR)
try:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher, URLFetcherResponse
except OSError as exc:  # Pango (or one of its libraries) is missing
    HTML = URLFetcher = URLFetcherResponse = None
    PDF_UNAVAILABLE = f"PDF rendering is not available on this server ({exc}); print the case file page instead."
else:
    PDF_UNAVAILABLE = ""


def _services():
    return current_app.extensions["saa"]


def _render(run_id: str, action: str) -> str:
    found = case_runs.find(_services(), run_id)
    if found is None or not can_see_case(current_user, found.run.fields):
        abort(404)
    case = cases.get(_services().db, found.run["alert_id"])
    if case is None:
        abort(404, description="This analysis has no case in the record.")
    audit.record(_services().db, actor(), action, case_id=case.alert_id, run_id=run_id)
    raw = case_runs.alert_bytes(_services(), found)
    from agents.alerts import AlertError, parse_alert  # parsed here only: pages keep their own cache

    try:
        alert = parse_alert(raw) if raw else None
    except AlertError:
        alert = None
    history = list(reversed(audit.page(_services().db, case_id=case.alert_id, limit=1000)))
    return render_template("desk/case_file.html", run=found.run, view=fold(found.run.id, found.events), alert=alert,
                           case=case, history=history, reason_codes=dict(_services().settings.desk_reason_codes))


@bp.get("/analyses/<run_id>/case-file")
def case_file(run_id: str):
    return _render(run_id, "case.view")


def _static_file(url: str) -> tuple[bytes, str]:
    """This app's static file that ``url`` names (ValueError for anything else)."""
    path = urlsplit(url).path
    if not path.startswith(STATIC_PREFIX):
        raise ValueError(f"the case file fetches nothing but its own static files, not {url!r}")
    root = resource_dir("static").resolve()
    target = (root / path[len(STATIC_PREFIX):]).resolve()
    if root not in target.parents or not target.is_file():
        raise ValueError(f"no static file {path!r}")
    return target.read_bytes(), mimetypes.guess_type(target.name)[0] or "application/octet-stream"


if URLFetcher is not None:
    class StaticOnly(URLFetcher):
        """WeasyPrint's fetcher, serving this app's static files from disk and nothing else."""

        def fetch(self, url, headers=None):
            body, mime = _static_file(url)
            return URLFetcherResponse(url, body, {"Content-Type": mime})


def render_pdf(html: str, base_url: str) -> bytes:
    return HTML(string=html, base_url=base_url, url_fetcher=StaticOnly()).write_pdf()


@bp.get("/analyses/<run_id>/case-file.pdf")
def case_file_pdf(run_id: str):
    if PDF_UNAVAILABLE:
        return Response(PDF_UNAVAILABLE, status=503, mimetype="text/plain")
    html = _render(run_id, "case.download_file")
    pdf = cpu_bound(render_pdf, html, "http://case-file.invalid/")
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="case-file-{run_id[:8]}.pdf"'})
