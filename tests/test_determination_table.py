"""The offline analyst's determination and confidence tables (README "Offline rules"), pinned at
every threshold: just below, at and just above each number, so a changed number fails here.

The cases are real :class:`agents.investigation.Case` objects of the wash-trade specialist whose
rules are replaced by plain test rules of chosen weights (its tools, evidence, prose and STOR
draft stay real): the net score, the red-flag count and the mitigating count are then exactly
what a row says, whatever the specialists' own rules weigh. The specialists' rules have their
own boundary tests (tests/test_rules_*.py); guards and the escalation gate: tests/test_guards.py.
"""

from __future__ import annotations

import dataclasses

import pytest

from agents import wash_trade
from agents.analyst_offline import CLOSE_AT, ESCALATE_AT, MIN_RED_FLAGS, OfflineAnalyst
from agents.evidence import Evidence
from agents.investigation import Case, EscalationGate, Guard, Rule, ToolSpec
from agents.progress import NullReporter
from tests.rules_support import case_of, wash_alert

ESCALATE, REVIEW, CLOSE = "ESCALATE", "NEEDS_HUMAN_REVIEW", "CLOSE"


class Recorder:
    """A step reporter that keeps what the analyst's step would show on the timeline."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, int | None, int | None]] = []

    def progress(self, message: str, *, step: int | None = None, total: int | None = None) -> None:
        self.messages.append((message, step, total))


def decision_on(red: list[int], mitigating: list[int] = (), *, critical: int = 0, missing: bool | tuple = False,
                gap: bool = False, gate: bool | None = None, guard: bool = False, explains: bool = False,
                notes: tuple[str, ...] = (), firm: str | None = None, reporter=None):
    """A decision on findings of exactly these weights: red flags (the first ``critical`` of them
    critical rules) and mitigating factors (negative weights). ``missing``: key tools that failed
    (True: one); ``gap``: the test tool reports a gap; ``gate``: an escalation gate that the findings
    pass (True) or do not (False); ``guard``: a guard made of the first red flag stands; ``explains``: the
    first mitigating factor explains the first red flag; ``notes``: the alert's surveillance notes."""
    weights = [("red_flag", w, n < critical) for n, w in enumerate(red)] + [("mitigating", w, False)
                                                                            for w in mitigating]
    first_mitigating = len(red)
    rules = tuple(Rule(id=f"T-{n}", kind=kind, weight=weight, tool="test", title=f"test rule {n}",
                       check=lambda facts, _alert, n=n: "fired" if n in facts["fired"] else None, critical=crit,
                       explains=("T-0",) if explains and n == first_mitigating else ())
                  for n, (kind, weight, crit) in enumerate(weights))
    base = wash_trade.SPECIALIST
    escalation = None if gate is None else EscalationGate(any_of=("T-0",) if gate else ("T-none",))
    guards = (Guard("T-G1", "test cluster", requires=("T-0",)),) if guard else ()
    specialist = dataclasses.replace(base, rules=rules, guards=guards, escalation=escalation, alert_indicators=None,
                                     tools=(*base.tools, ToolSpec("test", "Test rules", run=lambda *_: None)))
    failed = missing if isinstance(missing, tuple) else ("account_relationships",) if missing else ()
    evidence = dict(case_of("wash", wash_alert(), failed=failed).evidence)
    evidence["test"] = Evidence(tool="test", title="Test rules", facts={"fired": list(range(len(weights)))},
                                gaps={"rows": "no rows for the day", "prices": "no prices"} if gap else {})
    analyst = OfflineAnalyst() if firm is None else OfflineAnalyst(reporting_firm=firm)
    alert = wash_alert().model_copy(update={"notes": notes})
    decision = analyst.decide(Case(alert=alert, specialist=specialist, evidence=evidence), reporter or NullReporter())
    explained = red[0] if explains else 0
    assert decision.score == sum(red) + sum(mitigating) - explained  # the row is what it says
    return decision


def decide(red: list[int], mitigating: list[int] = (), **options) -> tuple[str, int]:
    decision = decision_on(red, mitigating, **options)
    return decision.determination.value, decision.confidence


def test_the_thresholds_are_the_documented_ones():
    assert (ESCALATE_AT, CLOSE_AT, MIN_RED_FLAGS) == (50, 10, 3)


@pytest.mark.parametrize(("red", "mitigating", "expected"), [
    # rule 4: net score >= 50 with at least 3 red flags -> ESCALATE, min(95, 50 + score // 2)
    ([20, 20, 9], [], (REVIEW, 55 + 5 * 0)),          # 49: just below the escalation threshold
    ([20, 20, 10], [], (ESCALATE, 75)),               # 50: at it
    ([20, 20, 11], [], (ESCALATE, 75)),               # 51: 50 + 25 (rounded down)
    ([20, 20, 12], [], (ESCALATE, 76)),               # 52
    ([30, 30, 20, 10], [-10], (ESCALATE, 90)),        # 80 net, mitigated: 50 + 40
    ([30, 30, 28], [], (ESCALATE, 94)),               # 88: just below the cap
    ([30, 30, 30], [], (ESCALATE, 95)),               # 90: at the cap
    ([30, 30, 32], [], (ESCALATE, 95)),               # 92: 96 capped
    # the red-flag count: at least 3
    ([30, 30], [], (REVIEW, 55)),                     # 60 with 2 red flags: conflicting band
    ([30, 29, 1], [], (ESCALATE, 80)),                # 60 with 3
    ([20, 20, 20, 1], [-11], (ESCALATE, 75)),         # 50 with 4 and a mitigating factor
    ([60, 1], [-1], (REVIEW, 60)),                    # 60 with 2 red flags, 1 mitigating: 55 + 5
    # rule 6: net score <= 10 -> CLOSE, min(95, 70 + (10 - score) // 2)
    ([11], [], (REVIEW, 55)),                         # 11: just above the closing threshold
    ([10], [], (CLOSE, 70)),                          # 10: at it
    ([9], [], (CLOSE, 70)),                           # 9: 70 + 0 (rounded down)
    ([8], [], (CLOSE, 71)),                           # 8
    ([], [], (CLOSE, 75)),                            # 0: nothing found
    ([], [-38], (CLOSE, 94)),                         # -38: just below the cap
    ([], [-40], (CLOSE, 95)),                         # -40: at the cap
    ([], [-42], (CLOSE, 95)),                         # -42: 96 capped
    # rule 7: conflicting -> min(75, 55 + 5 * min(red flags, mitigating factors))
    ([10, 10, 10], [-5], (REVIEW, 60)),
    ([10, 10, 10], [-5, -5], (REVIEW, 65)),           # 20: 2 pairs
    ([10, 10, 10], [-5, -5, -5], (REVIEW, 70)),       # 15: 3 pairs
    ([10, 10, 10, 10], [-5, -5, -5, -5], (REVIEW, 75)),  # 20: 4 pairs, at the cap
    ([10, 10, 10, 10, 10], [-5, -5, -5, -5, -5], (REVIEW, 75)),  # 25: 5 pairs, 80 capped
    ([10, 10, 10, 10, 10], [-1], (REVIEW, 60)),       # 49: more red flags than mitigating factors count once
    ([49], [-1, -1, -1, -1], (REVIEW, 60)),           # 45: and the other way round
])
def test_determination_and_confidence_at_each_threshold(red, mitigating, expected):
    assert decide(red, mitigating) == expected


@pytest.mark.parametrize(("red", "mitigating", "options", "expected"), [
    # rule 3: at the escalation threshold with 3 red flags, a gate the findings do not pass withholds it
    ([20, 20, 9], [], {"gate": False}, (REVIEW, 55)),   # 49: conflicting, the gate is not asked
    ([20, 20, 10], [], {"gate": False}, (REVIEW, 70)),  # 50: withheld
    ([30, 30], [], {"gate": False}, (REVIEW, 55)),      # 60 with 2 red flags: conflicting
    ([20, 20, 10], [], {"gate": True}, (ESCALATE, 75)),  # 50, the gate passed: escalates
    # rule 5: at or below the closing threshold, a standing guard refuses the close
    ([11], [], {"guard": True}, (REVIEW, 55)),          # 11: conflicting
    ([10], [], {"guard": True}, (REVIEW, 70)),          # 10: the guard
    ([30], [-40], {"guard": True}, (REVIEW, 70)),       # -10
    ([30, 30, 30], [], {"guard": True}, (ESCALATE, 95)),  # a guard never stops an escalation
])
def test_the_escalation_gate_and_the_guards_at_their_thresholds(red, mitigating, options, expected):
    assert decide(red, mitigating, **options) == expected


@pytest.mark.parametrize(("red", "mitigating", "expected"), [
    # rule 1: a critical rule escalates on its own, min(97, 80 + 2 * red flags)
    ([5], [], (ESCALATE, 82)),                        # one red flag, net 5: below every other threshold
    ([5], [-50], (ESCALATE, 82)),                     # net -45: whatever the mitigating factors
    ([5, 1, 1, 1, 1, 1, 1, 1], [], (ESCALATE, 96)),   # 8 red flags: just below the cap
    ([5, 1, 1, 1, 1, 1, 1, 1, 1], [], (ESCALATE, 97)),  # 9: 98 capped
    ([5, 1, 1, 1, 1, 1, 1, 1, 1, 1], [], (ESCALATE, 97)),  # 10: 100 capped
])
def test_a_critical_rule_escalates_with_its_own_confidence(red, mitigating, expected):
    assert decide(red, mitigating, critical=1) == expected


def test_missing_key_evidence_reviews_at_80_whatever_the_score():
    assert decide([30, 30, 30], missing=True) == (REVIEW, 80)  # 90: would escalate
    assert decide([], [-40], missing=True) == (REVIEW, 80)     # -40: would close
    assert decide([5], critical=1, missing=True) == (ESCALATE, 82)  # a critical rule comes first


NOTES = {
    "withheld": "70: escalation was withheld because no finding shows materiality, a pattern or enough independent "
                "indicators; it is the confidence that a human must decide, not a probability of abuse.",
    "guarded": "70: closing was refused because guard T-G1 test cluster stands unexplained; it is the "
               "confidence that a human must decide, not a probability of abuse.",
    "critical": "80 + 2 per red flag (max 97): test rule 0 is a breach in itself, whatever the other factors.",
    "missing": "80: key evidence is missing, so the rules cannot place the case; it is the confidence that a human "
               "must look, not a probability of abuse.",
    "escalate": "50 + half the net score (max 95): how far above the escalation threshold the evidence places the "
                "case.",
    "close": "70 + half the margin below the closing threshold (max 95): how firmly the evidence places the case "
             "below it.",
    "conflicting": "55 + 5 per pair of conflicting signals (max 75): how clearly the signals conflict; it is the "
                   "confidence that a human must weigh the case, not a probability of abuse.",
}


@pytest.mark.parametrize(("row", "red", "mitigating", "options", "summary", "weighing"), [
    ("critical", [5], [-50], {"critical": 1}, "1 red flag, 1 mitigating factor; net score -45.",
     "test rule 0 is a breach in itself and escalates regardless of the other factors (net score -45)."),
    ("missing", [30, 30, 30], [], {"missing": True}, "3 red flags, 0 mitigating factors, 1 data gap; net score +90.",
     "Key evidence could not be obtained (Beneficial owners and linked accounts), so no determination can rest on "
     "the data; net score of what was found is +90."),
    ("withheld", [20, 20, 10], [], {"gate": False}, "3 red flags, 0 mitigating factors; net score +50.",
     "Net score +50 reaches the escalation threshold of 50, but escalation needs one of T-none, and none of it was "
     "shown: without materiality, a pattern or independent indicators the red flags do not give reasonable grounds "
     "for a STOR, so a human decides."),
    ("guarded", [10], [], {"guard": True}, "1 red flag, 0 mitigating factors; net score +10.",
     "Net score +10 is at or below the closing threshold of 10, but guard T-G1 test cluster stands: those red "
     "flags are outweighed, not explained, and such a case is never closed without a human."),
    ("missing", [30, 30, 30], [], {"missing": ("account_relationships", "trade_pattern")},
     "3 red flags, 0 mitigating factors, 2 data gaps; net score +90.",
     "Key evidence could not be obtained (Beneficial owners and linked accounts, Offsetting trades and timing), "
     "so no determination can rest on the data; net score of what was found is +90."),
    ("escalate", [20, 20, 10], [], {}, "3 red flags, 0 mitigating factors; net score +50.",
     "Net score +50 reaches the escalation threshold of 50 with 3 red flags: there are reasonable grounds to "
     "suspect market manipulation: wash trades giving false or misleading signals."),
    ("close", [10], [], {}, "1 red flag, 0 mitigating factors; net score +10.",
     "Net score +10 is at or below the closing threshold of 10: the activity is explained by the mitigating "
     "factors."),
    ("conflicting", [20, 20, 9], [], {}, "3 red flags, 0 mitigating factors; net score +49.",
     "Net score +49 lies between the closing (10) and escalation (50) thresholds: the signals conflict and need an "
     "analyst's judgement."),
])
def test_each_determination_says_what_its_confidence_means_and_weighs_the_score_against_its_threshold(
        row, red, mitigating, options, summary, weighing):
    decision = decision_on(red, mitigating, **options)
    assert decision.confidence_note == NOTES[row]
    assert decision.summary == f"{decision.determination.label}: {summary}"
    assert decision.rationale.split("\n\n")[-1] == weighing
    assert (decision.thresholds.close_at, decision.thresholds.escalate_at, decision.thresholds.min_red_flags) == (
        CLOSE_AT, ESCALATE_AT, MIN_RED_FLAGS)
    assert (decision.stor is not None) == (decision.determination.value == ESCALATE)
    assert decision.guard == ("T-G1 test cluster" if row == "guarded" else None)


def test_a_close_gives_its_mitigating_factors_as_the_disposition_reason():
    assert decision_on([10], [-5, -5]).disposition_reason == "False positive: test rule 1; test rule 2."
    assert decision_on([10]).disposition_reason == "False positive: no red flags were substantiated by the data."
    assert decision_on([]).disposition_reason == "False positive: no red flags were substantiated by the data."
    assert decision_on([12], [-1]).disposition_reason is None  # 11: not a close


def test_the_rationale_lists_red_flags_mitigating_factors_and_gaps_in_their_own_paragraphs():
    decision = decision_on([30, 30], [-5, -5], gap=True)
    paragraphs = decision.rationale.split("\n\n")
    assert paragraphs[1] == "Red flags: (1) test rule 0: fired [test] (2) test rule 1: fired [test]"
    assert paragraphs[2] == "Mitigating factors: (1) test rule 2: fired [test] (2) test rule 3: fired [test]"
    assert paragraphs[3] == "Data gaps: (1) Gap in test rules: no rows for the day. (2) Gap in test rules: no prices."
    assert "2 data gaps" in decision.summary
    assert [f.title for f in decision.data_gaps] == ["Gap in test rules"] * 2
    assert "Data gaps" not in decision_on([30, 30], [-5]).rationale


def test_explained_findings_are_listed_as_not_counted_and_notes_as_context_only():
    decision = decision_on([30, 20], [-5], explains=True, notes=("Trader called compliance.",))
    paragraphs = decision.rationale.split("\n\n")
    assert decision.score == 15 and [f.rule for f in decision.red_flags] == ["T-1"]
    assert paragraphs[3] == ("Not counted (explained, or one fact with another finding): (1) test rule 0: fired "
                             "Explained by T-2 (test rule 2): not counted.")
    assert paragraphs[-1] == ("The surveillance system's investigation notes were read as context only; no finding "
                              "rests on them.")
    assert "investigation notes" not in decision_on([30, 20], [-5]).rationale


def test_the_stor_draft_names_the_reporting_firm():
    assert "[Reporting firm]" in decision_on([20, 20, 10]).stor.model_dump_json()
    assert "Acme Securities Ltd" in decision_on([20, 20, 10], firm="Acme Securities Ltd").stor.model_dump_json()


def test_the_analyst_step_shows_what_it_weighed():
    reporter = Recorder()
    decision_on([30, 20], [-5], gap=True, reporter=reporter)
    assert reporter.messages == [("Applying the documented rules to the evidence", None, 2),
                                 ("2 red flags, 1 mitigating, 2 gaps; net +45", 2, None)]
