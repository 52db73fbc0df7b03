"""A case's lifecycle: the states, the actions between them, who may take each, and when a
second pair of eyes is required. A declaration — the README's "Case lifecycle" table is this
module read aloud — that the record's commands (webapp/record/cases.py), the desk's views and
its templates all consult, so a button, a route and a JSON caller can never disagree.

    New ──assign──▶ In progress ──propose──▶ Disposition proposed ──approve──▶ Closed / Escalated
                         ▲                          │                                  │
                         └──send back / withdraw────┘◀────────────reopen───────────────┘

A proposal that needs no approval (a CLOSE that agrees with an AI CLOSE, unless DESK_FOUR_EYES
says "all") is final at once; every other proposal waits for a reviewer who is not its author.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from webapp.roles import Permission


class State(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    PROPOSED = "proposed"
    CLOSED = "closed"
    ESCALATED = "escalated"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {State.NEW: "New", State.IN_PROGRESS: "In progress", State.PROPOSED: "Disposition proposed",
                State.CLOSED: "Closed", State.ESCALATED: "Escalated"}
FINAL = frozenset({State.CLOSED, State.ESCALATED})
OUTCOMES = ("ESCALATE", "CLOSE")  # what a human may decide (NEEDS_HUMAN_REVIEW is the AI's only)
OUTCOME_STATE = {"ESCALATE": State.ESCALATED, "CLOSE": State.CLOSED}


@dataclass(frozen=True)
class Action:
    """One edge of the lifecycle: from which states, to which (None: decided by the command),
    the permission it needs, and whether its author must differ from the proposal's (a review) or
    be the proposal's (taking it back)."""

    name: str
    label: str
    sources: frozenset[State]
    target: State | None
    permission: Permission
    not_by_proposer: bool = False
    only_by_proposer: bool = False
    needs_text: str = ""  # the written reason the action requires ("" if none)


def _states(*states: State) -> frozenset[State]:
    return frozenset(states)


ANY = frozenset(State)
NEW, WORKING, PROPOSED, ESCALATED = State.NEW, State.IN_PROGRESS, State.PROPOSED, State.ESCALATED
WORK, APPROVE = Permission.CASE_WORK, Permission.CASE_APPROVE

ACTIONS: dict[str, Action] = {a.name: a for a in (
    #      name           label                     from                     to          permission
    Action("assign",      "Assign",                 _states(NEW, WORKING),   WORKING,    WORK),
    Action("release",     "Unassign",               _states(WORKING),        NEW,        WORK),
    Action("propose",     "Propose disposition",    _states(WORKING),        None,       WORK, needs_text="rationale"),
    Action("approve",     "Approve",                _states(PROPOSED),       None,       APPROVE, not_by_proposer=True),
    Action("send_back",   "Send back",              _states(PROPOSED),       WORKING,    APPROVE, not_by_proposer=True,
           needs_text="comment"),
    Action("withdraw",    "Withdraw proposal",      _states(PROPOSED),       WORKING,    WORK, only_by_proposer=True),
    Action("reopen",      "Reopen",                 FINAL,                   WORKING,    WORK, needs_text="reason"),
    Action("submit_stor", "Record STOR submission", _states(ESCALATED),      ESCALATED,  WORK),
    Action("note",        "Add note",               ANY,                     None,       WORK, needs_text="note"),
)}  # fmt: skip

# The reason codes a proposal may give, as DESK_REASON_CODES may replace them ("code=Label,...").
DEFAULT_REASON_CODES: tuple[tuple[str, str], ...] = (
    ("public_information", "Explained by public information"),
    ("pre_cleared", "Pre-cleared or pre-arranged trading plan"),
    ("market_making", "Market making or hedging activity"),
    ("insufficient_evidence", "Insufficient evidence"),
    ("data_error", "Alert raised on erroneous data"),
    ("reasonable_suspicion", "Reasonable suspicion: report to the regulator"),
    ("refer_to_legal", "Refer to legal / compliance management"),
)


class FourEyes(StrEnum):
    """DESK_FOUR_EYES: ``rule`` (the default, below) or ``all`` (every proposal is reviewed)."""

    RULE = "rule"
    ALL = "all"


def needs_approval(outcome: str, ai_determination: str | None, policy: FourEyes = FourEyes.RULE) -> bool:
    """Four-eyes: every ESCALATE; every CLOSE that overrides an AI ESCALATE or NEEDS_HUMAN_REVIEW
    (or a case the AI never decided); under ``all``, every proposal."""
    if policy is FourEyes.ALL or outcome == "ESCALATE":
        return True
    return ai_determination != "CLOSE"


def refusal(action: Action, state: State) -> str | None:
    """Why ``action`` cannot be taken in ``state`` (None when it can)."""
    if state in action.sources:
        return None
    allowed = " or ".join(sorted(s.label for s in action.sources))
    return f"“{action.label}” is not possible on a case that is {state.label}: it needs a case that is {allowed}."


def available(state: State) -> list[Action]:
    """The actions whose source states include ``state`` (the case page's buttons, before roles)."""
    return [a for a in ACTIONS.values() if state in a.sources]


# The queue's priority: the AI's determination first (ESCALATE, then NEEDS_HUMAN_REVIEW, then
# CLOSE, then cases not yet decided), then the alert's anomaly score, highest first; equal ranks
# go oldest first. Stored as one ascending number so one index serves the sort and its paging.
DETERMINATION_ORDER = {"ESCALATE": 1, "NEEDS_HUMAN_REVIEW": 2, "CLOSE": 3}


def rank(ai_determination: str | None, score: int) -> int:
    return DETERMINATION_ORDER.get(ai_determination or "", 4) * 1000 + (999 - max(0, min(int(score), 999)))
