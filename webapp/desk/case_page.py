"""A case's page and its lifecycle actions (one POST endpoint per action of the lifecycle table,
so webapp/auth/access.py names the role each needs), and re-investigation.

Every action is an ordinary form (CSRF token, the case's ``version`` as the page showed it):
without JavaScript it answers 303 back to the case, or the page with the refusal; with htmx, the
case's status panel as it now is, the viewer's actions and the message in ``#desk-status``. A
refusal is the same panel with the reason: 409 for a transition the state does not allow or a case
changed meanwhile (showing the new state), 403 for four-eyes and roles, 422 for incomplete input.
After a change commits, its fragments go to everyone viewing the case or the queue
(webapp/desk/live.py).
"""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, make_response, redirect, render_template, request, url_for

from agents.alerts import AlertError, parse_alert
from webapp import cases as case_runs
from webapp import workqueue
from webapp.auth.access import actor
from webapp.desk import bp, live
from webapp.htmx import is_htmx
from webapp.record import audit, cases
from webapp.record.cases import CaseFile, Conflict, DeskError, Invalid
from webapp.record.lifecycle import ACTIONS, FourEyes


def _services():
    return current_app.extensions["saa"]


def _case(alert_id: str) -> CaseFile:
    found = cases.get(_services().db, alert_id)
    if found is None:
        abort(404, description="There is no such case.")
    return found


def _reason_codes() -> dict[str, str]:
    return dict(_services().settings.desk_reason_codes)


def _page(case: CaseFile, *, message: str = "", error: bool = False, status: int = 200):
    history = audit.page(_services().db, case_id=case.alert_id, limit=200)
    return render_template("desk/case.html", case=case, history=history, reason_codes=_reason_codes(),
                           message=message, error=error, live_after=live.last_id(_services())), status


def _panel(case: CaseFile, *, message: str, error: bool = False, status: int = 200, submitted: str | None = None):
    """For htmx: the status panel, and out of band this viewer's actions and the message. The form
    ``submitted`` (done) comes back empty; every other field keeps what the viewer typed."""
    body = render_template("desk/_case_status.html", case=case, reason_codes=_reason_codes()) + \
        render_template("desk/_case_actions.html", case=case, reason_codes=_reason_codes(), oob=True,
                        submitted=submitted) + \
        render_template("desk/_message.html", message=message, error=error, oob=True)
    return make_response(body, status)


@bp.get("/cases/<path:alert_id>")
def case_view(alert_id: str):
    case = _case(alert_id)
    audit.record(_services().db, actor(), "case.view", case_id=case.alert_id, run_id=case.latest_run_id)
    return _page(case)


@bp.get("/cases/<path:alert_id>/actions")
def case_actions(alert_id: str):
    """This viewer's actions for the case as it now is (a colleague's change reloads them; what the
    viewer typed is kept by the page, see desk/_case_actions.html)."""
    return render_template("desk/_case_actions.html", case=_case(alert_id), reason_codes=_reason_codes())


def _version() -> int:
    raw = request.form.get("version", "")
    if not raw.isdigit():
        raise Invalid("The form did not say which version of the case it was made from: reload the page.")
    return int(raw)


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        raise Invalid(f"{raw!r} is not a date (YYYY-MM-DD).") from None


def _arguments(name: str) -> dict:
    form, settings = request.form, _services().settings
    return {
        "assign": lambda: {"assignee": form.get("assignee", "").strip() or None},
        "release": dict,
        "withdraw": dict,
        "propose": lambda: {"outcome": form.get("outcome", ""), "reason_code": form.get("reason_code", ""),
                            "rationale": form.get("rationale", ""), "reason_codes": _reason_codes(),
                            "four_eyes": FourEyes(settings.desk_four_eyes)},
        "approve": lambda: {"comment": form.get("comment", "")},
        "send_back": lambda: {"comment": form.get("comment", "")},
        "submit_stor": lambda: {"reference": form.get("reference", ""), "submitted_on": _day(form.get("submitted_on"))},
        "reopen": lambda: {"reason": form.get("reason", "")},
        "note": lambda: {"text": form.get("text", "")},
    }[name]()


DONE = {"assign": "Assigned.", "release": "Back in the queue, unassigned.", "approve": "Approved: the disposition "
        "is final.", "send_back": "Sent back to the analyst.", "withdraw": "Proposal withdrawn: the case is back "
        "in progress, yours to correct.", "submit_stor": "STOR submission recorded.",
        "reopen": "Reopened: the case is yours.", "note": "Note added."}


def _done(name: str, case: CaseFile) -> str:
    if name == "propose":
        return "Proposed: waiting for a reviewer (four-eyes)." if case.state == "proposed" else \
            "Disposition final (no second review needed)."
    return DONE[name]


def act(name: str, alert_id: str):
    command = getattr(cases, name)
    try:
        case = command(_services().db, actor(), alert_id, _version(), **_arguments(name))
    except Conflict as exc:
        return _refused(exc.case, exc)
    except DeskError as exc:
        if exc.status == 404:
            abort(404, description=exc.message)
        return _refused(_case(alert_id), exc)
    live.publish(_services(), case)
    if is_htmx():
        return _panel(case, message=_done(name, case), submitted=name)
    return redirect(url_for("desk.case_view", alert_id=case.alert_id), code=303)


def _refused(case: CaseFile, exc: DeskError):
    if is_htmx():
        return _panel(case, message=exc.message, error=True, status=exc.status)
    return _page(case, message=exc.message, error=True, status=exc.status)


for _action in ACTIONS.values():
    bp.add_url_rule(f"/cases/<path:alert_id>/{_action.name.replace('_', '-')}", endpoint=_action.name,
                    view_func=lambda alert_id, _name=_action.name: act(_name, alert_id), methods=["POST"])


@bp.post("/cases/<path:alert_id>/reinvestigation")
def reinvestigate(alert_id: str):
    """A new analysis of the same alert on the same case; the earlier runs stay on the case."""
    case = _case(alert_id)
    found = case_runs.find(_services(), case.latest_run_id) if case.latest_run_id else None
    raw = case_runs.alert_bytes(_services(), found) if found is not None else None
    try:
        alert = parse_alert(raw) if raw else None
    except AlertError:
        alert = None
    if alert is None:
        return _refused(case, Invalid("This case's alert is no longer available to investigate again."))
    filename = found.run.get("filename") or f"{alert.alert_id}.xml"
    [run] = workqueue.submit(current_app._get_current_object(), [(alert, raw, filename)], actor=actor())
    audit.record(_services().db, actor(), "case.reinvestigate", case_id=case.alert_id, run_id=run.id,
                 previous_run=case.latest_run_id)
    target = url_for("analyses.show", run_id=run.id)
    if is_htmx():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, code=303)
