"""The limits a model's determination is held to, the same as the offline rules'.

The LLM analyst may weigh the evidence differently from the rules, but two limits are the
product's, not an analyst's opinion: no CLOSE while a guard stands (a cluster of red flags
must be explained, not outweighed), and no ESCALATE — no STOR draft — where the specialist
names what escalation needs (materiality, a pattern, independent indicators) and none of it was shown. A decision past a
limit becomes NEEDS_HUMAN_REVIEW, keeping the model's findings and saying why.
"""

from __future__ import annotations

from agents.analyst_offline import GUARD_CONFIDENCE, WITHHELD_NOTE, guarded_review_note
from agents.decision import Decision, Determination, Finding
from agents.investigation import Case, Guard


def hold_to_limits(case: Case, offline: list[Finding], decision: Decision) -> tuple[Decision, list[str]]:
    """The model's ``decision`` within the limits the offline ``findings`` set, and notes saying what changed."""
    if decision.determination is Determination.CLOSE:
        guards = case.standing_guards(offline)
        if guards:
            return _guarded(decision, guards[0]), [f"The model answered CLOSE, but guard {guards[0].label} stands, "
                                                   "so the case goes to a human."]
    if decision.determination is Determination.ESCALATE and not case.escalation_allowed(offline):
        needs = case.specialist.escalation.describe()
        return _withheld(decision, needs), [f"The model answered ESCALATE, but escalation needs {needs}, and the "
                                            "findings show none of it, so the case goes to a human rather than to "
                                            "a STOR."]
    return decision, []


def _guarded(decision: Decision, guard: Guard) -> Decision:
    """The model's CLOSE, refused by a standing guard: the same case, for a human to decide."""
    return decision.model_copy(update={
        "determination": Determination.NEEDS_HUMAN_REVIEW, "confidence": GUARD_CONFIDENCE,
        "confidence_note": guarded_review_note(guard), "guard": guard.label, "disposition_reason": None,
        "summary": f"Needs human review: the model would close, but guard {guard.label} stands. "
                   f"(Model: {decision.summary})",
        "rationale": f"{decision.rationale}\n\nThe model's CLOSE was refused: guard {guard.label} stands — a cluster "
                     "of red flags that must be explained, not merely outweighed, before a case is closed.",
    })


def _withheld(decision: Decision, needs: str) -> Decision:
    """The model's ESCALATE without what escalation needs (materiality or a pattern): for a human, with no STOR."""
    return decision.model_copy(update={
        "determination": Determination.NEEDS_HUMAN_REVIEW, "confidence": GUARD_CONFIDENCE, "stor": None,
        "confidence_note": WITHHELD_NOTE, "disposition_reason": None,
        "summary": f"Needs human review: the model would escalate, but escalation needs {needs}. "
                   f"(Model: {decision.summary})",
        "rationale": f"{decision.rationale}\n\nThe model's ESCALATE was withheld: escalation needs {needs}, and "
                     "none of it was shown — without materiality, a pattern or independent indicators the red flags "
                     "go to a human, not to a STOR draft.",
    })
