"""The analyst interface: something that weighs a case's evidence into a :class:`Decision`.

Two implementations exist: the offline rules analyst (deterministic, documented, the default
without an API key) and the LLM analyst (any OpenAI-compatible model). Both return the same
decision, and both name themselves in it so the analyst reading it knows which one ran.
"""

from __future__ import annotations

from typing import Protocol

from agents.decision import Finding, StorDraft
from agents.investigation import Case
from agents.progress import StepReporter


class Analyst(Protocol):
    name: str

    def decide(self, case: Case, reporter: StepReporter):
        """Return a :class:`agents.decision.Decision` for the case."""


def cited(finding: Finding) -> str:
    refs = "; ".join(c.label() for c in finding.citations)
    return f"{finding.title}: {finding.detail}" + (f" [{refs}]" if refs else f" [{finding.tool}]")


def stor_draft(case: Case, red_flags: list[Finding], analysis: str, reporting_firm: str) -> StorDraft:
    """A STOR draft from the case's facts and red flags; it states facts, never accusations to the subject."""
    fields = case.specialist.stor_fields(case.alert, case.evidence)
    return StorDraft(
        reporting_firm=reporting_firm,
        suspicion_type=case.specialist.suspicion,
        description=(f"Alert {case.alert.alert_id} ({case.alert.alert_type}"
                     + (f", rule {case.alert.rule_violated}" if case.alert.rule_violated else "") + "). "
                     + case.specialist.describe(case.alert, case.evidence) + " " + analysis),
        evidence=[cited(f) for f in red_flags],
        **fields,
    )
