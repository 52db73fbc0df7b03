"""The offline analyst: documented rules, no model, same answer every time.

Each specialist's rules (see its module and README "Offline rules") give points to red flags
and take points for mitigating factors. The net score decides:

* a *critical* rule (trading against an outright ban or restricted list) escalates on its own;
* key evidence missing (a key tool failed or found nothing) needs human review;
* net score >= 50 with at least three red flags escalates — where the specialist names what
  escalation needs (wash trades: materiality or a pattern; insider dealing: materiality or three
  independent indicators), only when the findings show it; otherwise the case needs human review
  (a one-off cross, or a stack of correlated flags, goes to a human, never to a STOR alone);
* net score <= 10 closes as a false positive — unless a *guard* stands: a documented cluster of
  red flags (agents.investigation.Guard) that must be explained, not merely outweighed; the
  case then needs human review and the decision names the guard;
* anything between is conflicting and needs human review.

Confidence is how firmly the rules place the case in its band, never a probability of abuse:
escalations 50 + score/2 (critical 80 + 2 per red flag), closes 70 + (10 - score)/2, reviews
80 when data is missing, 70 when a guard stopped a close or nothing showed what escalation
needs, otherwise 55 + 5 per pair of
conflicting signals; capped at 95 (97 critical, 75 conflicting). Each decision carries the
sentence saying so (``confidence_note``) and the thresholds its score is read against.
"""

from __future__ import annotations

from agents.analyst import cited, stor_draft
from agents.decision import Decision, Determination, Finding, Thresholds
from agents.investigation import Case, Guard
from agents.progress import StepReporter
from agents.text import plural

NAME = "offline rules v1"
ESCALATE_AT = 50
CLOSE_AT = 10
MIN_RED_FLAGS = 3
THRESHOLDS = Thresholds(close_at=CLOSE_AT, escalate_at=ESCALATE_AT, min_red_flags=MIN_RED_FLAGS)
GUARD_CONFIDENCE = 70
MISSING_CONFIDENCE = 80


def guarded_review_note(guard: Guard) -> str:
    return (f"{GUARD_CONFIDENCE}: closing was refused because guard {guard.label} stands unexplained; it is the "
            "confidence that a human must decide, not a probability of abuse.")


WITHHELD_NOTE = (f"{GUARD_CONFIDENCE}: escalation was withheld because no finding shows materiality, a pattern or "
                 "enough independent indicators; it is the confidence that a human must decide, not a probability of "
                 "abuse.")


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
        context = [f for f in findings if f.kind == "context"]
        critical_ids = {r.id for r in case.specialist.rules if r.critical}
        critical = [f for f in red if f.rule in critical_ids]
        score = sum(f.weight for f in findings)
        missing = case.missing_key_evidence
        guards = case.standing_guards(findings)
        reporter.progress(f"{plural(len(red), 'red flag')}, {len(mitigating)} mitigating, "
                          f"{plural(len(gaps), 'gap')}; net {score:+d}", step=2)
        guard = None

        if critical:
            determination = Determination.ESCALATE
            confidence = min(97, 80 + 2 * len(red))
            note = (f"80 + 2 per red flag (max 97): {critical[0].title.lower()} is a breach in itself, whatever the "
                    "other factors.")
            weighing = (f"{critical[0].title} is a breach in itself and escalates regardless of the other "
                        f"factors (net score {score:+d}).")
        elif missing:
            determination = Determination.NEEDS_HUMAN_REVIEW
            confidence = MISSING_CONFIDENCE
            note = (f"{MISSING_CONFIDENCE}: key evidence is missing, so the rules cannot place the case; it is the "
                    "confidence that a human must look, not a probability of abuse.")
            weighing = (f"Key evidence could not be obtained ({', '.join(missing)}), so no determination can "
                        f"rest on the data; net score of what was found is {score:+d}.")
        elif score >= ESCALATE_AT and len(red) >= MIN_RED_FLAGS and not case.escalation_allowed(findings):
            determination, confidence = Determination.NEEDS_HUMAN_REVIEW, GUARD_CONFIDENCE
            needs, note = case.specialist.escalation.describe(), WITHHELD_NOTE
            weighing = (f"Net score {score:+d} reaches the escalation threshold of {ESCALATE_AT}, but escalation "
                        f"needs {needs}, and none of it was shown: without materiality, a pattern or independent "
                        "indicators the red flags do not give reasonable grounds for a STOR, so a human decides.")
        elif score >= ESCALATE_AT and len(red) >= MIN_RED_FLAGS:
            determination = Determination.ESCALATE
            confidence = min(95, 50 + score // 2)
            note = ("50 + half the net score (max 95): how far above the escalation threshold the evidence places "
                    "the case.")
            weighing = (f"Net score {score:+d} reaches the escalation threshold of {ESCALATE_AT} with "
                        f"{plural(len(red), 'red flag')}: there are reasonable grounds to suspect "
                        f"{case.specialist.suspicion.split(' (')[0].lower()}.")
        elif score <= CLOSE_AT and guards:
            determination, guard = Determination.NEEDS_HUMAN_REVIEW, guards[0]
            confidence = GUARD_CONFIDENCE
            note = guarded_review_note(guard)
            weighing = (f"Net score {score:+d} is at or below the closing threshold of {CLOSE_AT}, but guard "
                        f"{guard.label} stands: those red flags are outweighed, not explained, and such a case is "
                        "never closed without a human.")
        elif score <= CLOSE_AT:
            determination = Determination.CLOSE
            confidence = min(95, 70 + (CLOSE_AT - score) // 2)
            note = ("70 + half the margin below the closing threshold (max 95): how firmly the evidence places the "
                    "case below it.")
            weighing = (f"Net score {score:+d} is at or below the closing threshold of {CLOSE_AT}: the activity "
                        "is explained by the mitigating factors.")
        else:
            determination = Determination.NEEDS_HUMAN_REVIEW
            confidence = min(75, 55 + 5 * min(len(red), len(mitigating)))
            note = ("55 + 5 per pair of conflicting signals (max 75): how clearly the signals conflict; it is the "
                    "confidence that a human must weigh the case, not a probability of abuse.")
            weighing = (f"Net score {score:+d} lies between the closing ({CLOSE_AT}) and escalation "
                        f"({ESCALATE_AT}) thresholds: the signals conflict and need an analyst's judgement.")

        rationale = _rationale(case, red, mitigating, gaps, weighing, context)
        summary = (f"{determination.label}: {plural(len(red), 'red flag')}, "
                   f"{plural(len(mitigating), 'mitigating factor')}"
                   + (f", {plural(len(gaps), 'data gap')}" if gaps else "") + f"; net score {score:+d}.")
        return Decision(
            alert_id=case.alert.alert_id, alert_kind=case.specialist.name, determination=determination,
            confidence=confidence, summary=summary, rationale=rationale, findings=findings, score=score,
            analyst=NAME, thresholds=THRESHOLDS, confidence_note=note, guard=guard.label if guard else None,
            disposition_reason=(_disposition(mitigating) if determination is Determination.CLOSE else None),
            stor=(stor_draft(case, red, weighing, self.reporting_firm)
                  if determination is Determination.ESCALATE else None),
        )


def _rationale(case: Case, red: list[Finding], mitigating: list[Finding], gaps: list[Finding],
               weighing: str, context: list[Finding] = ()) -> str:
    parts = [case.specialist.describe(case.alert, case.evidence)]
    if red:
        parts.append("Red flags: " + " ".join(f"({i}) {cited(f)}" for i, f in enumerate(red, 1)))
    if mitigating:
        parts.append("Mitigating factors: " + " ".join(f"({i}) {cited(f)}" for i, f in enumerate(mitigating, 1)))
    if context:
        parts.append("Not counted (explained, or one fact with another finding): "
                     + " ".join(f"({i}) {f.title}: {f.detail}" for i, f in enumerate(context, 1)))
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
