"""Cases per state, kept as they change (``case_counts``): the queue shows them on every page,
and counting a million rows per page view would take longer than the page itself."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from webapp.record.models import CaseCount


def add(s: Session, state: str, n: int) -> None:
    """In the caller's transaction: ``n`` more (or fewer) cases in ``state``."""
    done = s.execute(update(CaseCount).where(CaseCount.state == str(state)).values(n=CaseCount.n + n))
    if not done.rowcount:
        s.add(CaseCount(state=str(state), n=n))
        s.flush()


def move(s: Session, before: str, after: str) -> None:
    if before != after:
        add(s, before, -1)
        add(s, after, 1)
