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
from agents.investigation import Case, Rule, ToolSpec
from agents.progress import NullReporter
from tests.rules_support import case_of, wash_alert

ESCALATE, REVIEW, CLOSE = "ESCALATE", "NEEDS_HUMAN_REVIEW", "CLOSE"


def decide(red: list[int], mitigating: list[int] = (), *, critical: int = 0, missing: bool = False):
    """A decision on findings of exactly these weights: red flags (the first ``critical`` of them
    critical rules) and mitigating factors (negative weights)."""
    weights = [("red_flag", w, n < critical) for n, w in enumerate(red)] + [("mitigating", w, False)
                                                                            for w in mitigating]
    rules = tuple(Rule(id=f"T-{n}", kind=kind, weight=weight, tool="test", title=f"test rule {n}",
                       check=lambda facts, _alert, n=n: "fired" if n in facts["fired"] else None, critical=crit)
                  for n, (kind, weight, crit) in enumerate(weights))
    base = wash_trade.SPECIALIST
    specialist = dataclasses.replace(base, rules=rules, guards=(), escalation=None, alert_indicators=None,
                                     tools=(*base.tools, ToolSpec("test", "Test rules", run=lambda *_: None)))
    evidence = dict(case_of("wash", wash_alert(), failed=("account_relationships",) if missing else ()).evidence)
    evidence["test"] = Evidence(tool="test", title="Test rules", facts={"fired": list(range(len(weights)))})
    decision = OfflineAnalyst().decide(Case(alert=wash_alert(), specialist=specialist, evidence=evidence),
                                       NullReporter())
    assert decision.score == sum(red) + sum(mitigating)  # the row is what it says
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
