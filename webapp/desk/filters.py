"""The queue's query parameters <-> :class:`webapp.record.queue.QueueFilter`.

``state``, ``assignee``, ``type``, ``determination``, ``outcome``, ``q``, ``from``, ``to``,
``sort``, ``cursor``: a filtered view is a link. A value that is not one of the choices falls
back to its default (never a 500); :func:`to_args` gives the non-default ones back, so paging
and sort links keep every filter and a bookmark reproduces the view.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from agents.alerts.models import AlertKind
from webapp.record.lifecycle import OUTCOMES, State
from webapp.record.queue import ASSIGNEES, OPEN, SORTS, QueueFilter

STATES = (OPEN, *(str(s) for s in State))
DETERMINATIONS = ("ESCALATE", "NEEDS_HUMAN_REVIEW", "CLOSE", "none")
KINDS = tuple(str(k) for k in AlertKind)
MAX_Q = 200


def _choice(value: str | None, choices, default: str = "") -> str:
    return value if value in choices else default


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def parse(args, me: str) -> QueueFilter:
    return QueueFilter(
        state=_choice(args.get("state"), STATES), assignee=_choice(args.get("assignee"), ASSIGNEES, "anyone"),
        me=me, kind=_choice(args.get("type"), KINDS), determination=_choice(args.get("determination"), DETERMINATIONS),
        outcome=_choice(args.get("outcome"), (*OUTCOMES, "none")), q=(args.get("q") or "").strip()[:MAX_Q],
        date_from=_date(args.get("from")), date_to=_date(args.get("to")), sort=_choice(args.get("sort"), SORTS,
                                                                                         "priority"),
        cursor=(args.get("cursor") or "")[:512])


def to_args(f: QueueFilter, **changes) -> dict[str, str]:
    """The view's query parameters (defaults left out), with ``changes`` applied."""
    f = replace(f, **changes)
    values = {"state": f.state, "assignee": "" if f.assignee == "anyone" else f.assignee, "type": f.kind,
              "determination": f.determination, "outcome": f.outcome, "q": f.q,
              "from": f.date_from.isoformat() if f.date_from else "", "to": f.date_to.isoformat() if f.date_to else "",
              "sort": "" if f.sort == "priority" else f.sort, "cursor": f.cursor}
    return {k: v for k, v in values.items() if v}
