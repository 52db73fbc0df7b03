"""The offline analyst: documented rules, no model, same answer every time.

Each specialist's rules (see its module and README "Offline rules") give points to red flags
and take points for mitigating factors. The net score decides:

* a *critical* rule (trading against an outright ban or restricted list) escalates on its own;
* key evidence missing (a key tool failed or found nothing) needs human review;
* net score >= 50 with at least three red flags escalates;
* net score <= 10 closes as a false positive;
* anything between is conflicting and needs human review.

Confidence is how firmly the rules place the case: escalations 50 + score/2 (critical 80 + 2
per red flag), closes 70 + (10 - score)/2, reviews 80 when data is missing, otherwise
55 + 5 per pair of conflicting signals; all capped at 95-97.
"""

from __future__ import annotations

from agents.analyst import cited, stor_draft
from agents.decision import Decision, Determination, Finding
from agents.investigation import Case
from agents.progress import StepReporter

NAME = "offline rules v1"
ESCALATE_AT = 50
CLOSE_AT = 10
MIN_RED_FLAGS = 3


class OfflineAnalyst:
    """Deterministic rules analyst; the app's analyst when no LLM API key is configured."""

    name = NAME

    def __init__(self, reporting_firm: str = "[Reporting firm]"):
        self.reporting_firm = reporting_firm

    def decide(self, case: Case, reporter: StepReporter) -> Decision:
        reporter.progress("Applying the documented rules to the evidence", total=2)
        findings = case.findings_from_rules()
        red = [f for f in findings if f.kind == "red_flag"]
        mitigating = [f for f in findings if f.kind == "mitigating"]
        gaps = [f for f in findings if f.kind == "data_gap"]
        critical_ids = {r.id for r in case.specialist.rules if r.critical}
        critical = [f for f in red if f.rule in critical_ids]
        score = sum(f.weight for f in findings)
        missing = case.missing_key_evidence
        reporter.progress(f"{len(red)} red flags, {len(mitigating)} mitigating, {len(gaps)} gaps; net {score:+d}",
                          step=2)

        if critical:
            determination = Determination.ESCALATE
            confidence = min(97, 80 + 2 * len(red))
            weighing = (f"{critical[0].title} is a breach in itself and escalates regardless of the other "
                        f"factors (net score {score:+d}).")
        elif missing:
            determination = Determination.NEEDS_HUMAN_REVIEW
            confidence = 80
            weighing = (f"Key evidence could not be obtained ({', '.join(missing)}), so no determination can "
                        f"rest on the data; net score of what was found is {score:+d}.")
        elif score >= ESCALATE_AT and len(red) >= MIN_RED_FLAGS:
            determination = Determination.ESCALATE
            confidence = min(95, 50 + score // 2)
            weighing = (f"Net score {score:+d} reaches the escalation threshold of {ESCALATE_AT} with {len(red)} "
                        f"red flags: there are reasonable grounds to suspect "
                        f"{case.specialist.suspicion.split(' (')[0].lower()}.")
        elif score <= CLOSE_AT:
            determination = Determination.CLOSE
            confidence = min(95, 70 + (CLOSE_AT - score) // 2)
            weighing = (f"Net score {score:+d} is at or below the closing threshold of {CLOSE_AT}: the activity "
                        "is explained by the mitigating factors.")
        else:
            determination = Determination.NEEDS_HUMAN_REVIEW
            confidence = min(75, 55 + 5 * min(len(red), len(mitigating)))
            weighing = (f"Net score {score:+d} lies between the closing ({CLOSE_AT}) and escalation "
                        f"({ESCALATE_AT}) thresholds: the signals conflict and need an analyst's judgement.")

        rationale = _rationale(case, red, mitigating, gaps, weighing)
        summary = (f"{determination.label}: {len(red)} red flag(s), {len(mitigating)} mitigating factor(s)"
                   + (f", {len(gaps)} data gap(s)" if gaps else "") + f"; net score {score:+d}.")
        return Decision(
            alert_id=case.alert.alert_id, alert_kind=case.specialist.name, determination=determination,
            confidence=confidence, summary=summary, rationale=rationale, findings=findings, score=score,
            analyst=NAME,
            disposition_reason=(_disposition(mitigating) if determination is Determination.CLOSE else None),
            stor=(stor_draft(case, red, weighing, self.reporting_firm)
                  if determination is Determination.ESCALATE else None),
        )


def _rationale(case: Case, red: list[Finding], mitigating: list[Finding], gaps: list[Finding],
               weighing: str) -> str:
    parts = [case.specialist.describe(case.alert, case.evidence)]
    if red:
        parts.append("Red flags: " + " ".join(f"({i}) {cited(f)}" for i, f in enumerate(red, 1)))
    if mitigating:
        parts.append("Mitigating factors: " + " ".join(f"({i}) {cited(f)}" for i, f in enumerate(mitigating, 1)))
    if gaps:
        parts.append("Data gaps: " + " ".join(f"({i}) {f.title}: {f.detail}." for i, f in enumerate(gaps, 1)))
    parts.append(weighing)
    if case.alert.notes:
        parts.append("The surveillance system's investigation notes were read as context only; no finding "
                     "rests on them.")
    return "\n\n".join(parts)


def _disposition(mitigating: list[Finding]) -> str:
    if not mitigating:
        return "False positive: no red flags were substantiated by the data."
    return "False positive: " + "; ".join(f.title.lower() for f in mitigating) + "."
