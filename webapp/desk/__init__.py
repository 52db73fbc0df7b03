"""The analyst's desk: the work queue (the home page), a case's page and its lifecycle actions,
the live updates both follow, and the case file. Views are thin: they read the request, make
one call into webapp/record (which enforces the lifecycle, four-eyes and optimistic locking)
and pick a page, a fragment or a redirect."""

from __future__ import annotations

from flask import Blueprint, current_app

bp = Blueprint("desk", __name__)


@bp.app_context_processor
def desk_context() -> dict:
    """What the desk's templates (and the header's links) use everywhere."""
    from webapp.record.cases import case_dom_id
    from webapp.record.lifecycle import ACTIONS, STATE_LABELS

    return {"state_labels": STATE_LABELS, "desk_actions": ACTIONS, "case_dom_id": case_dom_id,
            "people_who_work_cases": people_who_work_cases}


def people_who_work_cases() -> list[str]:
    """Whom a case can be handed to (asked only when a page shows the assign form)."""
    from webapp.record import users

    return users.who_work_cases(current_app.extensions["saa"].db)


@bp.app_template_filter("when")
def when(value) -> str:
    """A record time (naive on SQLite, meaning UTC; aware on PostgreSQL) as the pages write times."""
    from datetime import UTC

    if value is None:
        return ""
    if getattr(value, "tzinfo", None) is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M UTC")


@bp.app_template_filter("row_key")
def row_key(alert_id: str) -> str:
    from webapp.desk.live import row_key as key

    return key(alert_id)

from webapp.desk import case_file, case_page, queue_page  # noqa: E402,F401 - registers the views on bp
