"""What the spoofing specialist writes, exactly: each rule's finding (the sentence an analyst reads on the
card and in the STOR draft), the alert's own indicators as evidence, and the case description. One minimal
case per branch, compared as a whole string, so a changed word, number format or optional part fails a test.
Written from agents/spoofing.py and the README's spoofing rule table."""

from __future__ import annotations

import pytest

from agents import spoofing
from agents.alerts import Trader
from agents.evidence import Citation, Evidence
from tests.rules_support import case_of, fired, spoofing_alert
from tests.test_rules_wash_spoofing import _reprice

EPISODE, HISTORY, PROFILE = "order_episode", "order_history", "trader_profile"
BEFORE_THE_OPEN = "placed and pulled before the session opened at 08:00"   # one of orders.auction_phase's answers


def _details(overrides: dict, score: float = 50.0) -> dict[str, str]:
    """The rules that fire on the minimal case, with the detail each writes."""
    case = case_of("spoofing", spoofing_alert(_reprice(), score=score), overrides)
    return {f.rule: f.detail for f in case.findings_from_rules() if f.rule != "GAP"}


DETAILS = [
    ("SP-R1", {EPISODE: {"layers": 3, "layer_price_levels": 2, "layered_quantity": 15_000}},
     "3 BUY orders at 2 price levels, 15,000 shares in all, all cancelled unfilled."),
    ("SP-R2", {EPISODE: {"median_layer_lifetime_s": 4.5, "layer_to_execution_ratio": 5.0}},
     "Median layer lifetime 4.5 s; layers were 5.0× the executed quantity."),
    ("SP-R3", {EPISODE: {"executions_while_resting": 1}},
     "1,000 shares filled on the other side: 1 execution on the opposite side while the layers were in the book."),
    ("SP-R3", {EPISODE: {"executions_after_pull": 2, "seconds_after_pull": 2.0, "opposite_executed_quantity": 5_000}},
     "5,000 shares filled on the other side: 2 executions of an opposite order placed while they rested, 2.0 s "
     "after a layer was pulled."),
    ("SP-R3", {EPISODE: {"executions_after_pull": 1, "seconds_after_pull": 4.4, "opposite_executed_quantity": 1,
                         "auction_phase": BEFORE_THE_OPEN}},
     "1 share filled on the other side: 1 execution of an opposite order placed while they rested, 4.4 s after a "
     "layer was pulled (the uncross of an auction — placed and pulled before the session opened at 08:00)."),
    ("SP-R3", {EPISODE: {"executions_while_resting": 2, "executions_after_pull": 1, "seconds_after_pull": 0.5,
                         "opposite_executed_quantity": 3_000}},
     "3,000 shares filled on the other side: 2 executions on the opposite side while the layers were in the book; "
     "1 execution of an opposite order placed while they rested, 0.5 s after a layer was pulled."),
    ("SP-R4", {EPISODE: {"cancel_ratio_pct": 95.0}}, "95.0% of the quantity placed in the episode was cancelled."),
    ("SP-R5", {HISTORY: {"pattern_days": ["2024-03-01", "2024-03-05"], "layering_days": ["2024-03-01", "2024-03-05"],
                         "fast_cancel_episode_days": []}},
     "The episode's signature on 2 earlier occasions: 2024-03-01, 2024-03-05 (layers pulled around an execution on "
     "the other side on 2 days)."),
    ("SP-R5", {HISTORY: {"pattern_days": ["2024-03-01", "2024-03-05", "2024-03-07"], "layering_days": ["2024-03-01"],
                         "fast_cancel_episode_days": ["2024-03-05", "2024-03-07"], "fast_cancel_style": False}},
     "The episode's signature on 3 earlier occasions: 2024-03-01, 2024-03-05, 2024-03-07 (layers pulled around an "
     "execution on the other side on 1 day; orders cancelled within 10 s on 2 days)."),
    ("SP-R5", {HISTORY: {"pattern_days": ["2024-03-01", "2024-03-05"], "layering_days": ["2024-03-01", "2024-03-05"],
                         "fast_cancel_episode_days": [f"2024-03-0{d}" for d in range(1, 9)],
                         "fast_cancel_style": True}},
     "The episode's signature on 2 earlier occasions: 2024-03-01, 2024-03-05 (layers pulled around an execution on "
     "the other side on 2 days; orders cancelled within 10 s on 8 days, the trader's style on most days, "
     "not counted)."),
    ("SP-R6", {HISTORY: {"cancel_ratio_pct": 20.0}}, "Baseline cancel ratio 20.0% over 40 orders."),
    ("SP-R8", {}, "Anomaly score 92 (≥ 90)."),
    ("SP-M1", {PROFILE: {"market_maker": True, "role": "Market Maker", "department": "Equities"}},
     "Market Maker in Equities."),
    ("SP-M2", {EPISODE: {"median_layer_lifetime_s": 95.0}}, "Median layer lifetime 95.0 s."),
    ("SP-M3", {EPISODE: {"opposite_executed_quantity": 0}},
     "Nothing was executed on the opposite side during the episode."),
    ("SP-M4", {HISTORY: {"cancel_ratio_pct": 85.0, "order_to_trade_ratio": 12.0}},
     "Baseline cancel ratio 85.0% (order-to-trade 12.0)."),
    ("SP-M5", {EPISODE: {"balanced_two_sided": True, "fills_both_sides": True,
                         "placed_by_side": {"BUY": 6_000, "SELL": 6_500},
                         "filled_by_side": {"BUY": 2_000, "SELL": 1_500}}},
     "Orders on both sides (6,000 bid, 6,500 offered) and fills on both (2,000 bought, 1,500 sold): quoting, not "
     "layering one side."),
    ("SP-M6", {EPISODE: {"one_sided": True, "opposite_executed_quantity": 0},
               PROFILE: {"agency_execution": True, "role": "Execution Trader",
                         "department": "Agency Electronic Execution"}},
     "Execution Trader in Agency Electronic Execution: every order of the episode is a BUY order and nothing was "
     "executed on the other side — an execution algorithm re-pricing child orders."),
]


@pytest.mark.parametrize(("rule", "overrides", "detail"), DETAILS)
def test_each_spoofing_rule_writes_its_finding_exactly(rule, overrides, detail):
    assert _details(overrides, score=92.4 if rule == "SP-R8" else 50.0)[rule] == detail


def test_every_spoofing_rule_has_its_text_pinned():
    assert {rule.id for rule in spoofing.RULES} == {rule for rule, _o, _d in DETAILS}


# ----------------------------------------------------------------------------- SP-M2: when resting time means intent

LONG_REST = {"median_layer_lifetime_s": 95.0}


@pytest.mark.parametrize(("episode", "mitigates"), [
    ({}, True),
    ({"executions_while_resting": 1}, False),                       # the other side filled while the layers rested
    ({"executions_after_pull": 1, "seconds_after_pull": 2.0}, False),  # ... or just after a layer was pulled
    ({"auction_phase": BEFORE_THE_OPEN}, False),                    # nothing executes before an auction's uncross
    ({"auction_phase": BEFORE_THE_OPEN, "executions_while_resting": 1}, False),
])
def test_long_resting_layers_mitigate_only_where_they_could_execute_and_did_not_pay_off(episode, mitigates):
    """FCA v. Da Vinci Invest (half a minute), SEC In re Briargate (minutes in the pre-open): resting time is no
    sign of genuine intent once the other side executed on the layers' effect, or in an auction."""
    found = fired("spoofing", spoofing_alert(_reprice()), {EPISODE: {**LONG_REST, **episode}})
    assert (found.get("SP-M2") == -20) is mitigates


@pytest.mark.parametrize("lifetime", [None, 0.0, 60.0])
def test_layers_without_a_long_median_lifetime_never_mitigate(lifetime):
    found = fired("spoofing", spoofing_alert(_reprice()), {EPISODE: {"median_layer_lifetime_s": lifetime}})
    assert "SP-M2" not in found


# ----------------------------------------------------------------------------- the alert's own indicators

def test_the_alerts_anomaly_score_is_evidence_citing_the_alert():
    assert spoofing.indicators(spoofing_alert(_reprice(), score=91.5)) == Evidence(
        tool="alert", title="Surveillance indicators", summary="Anomaly score 91.5.", facts={"anomaly_score": 91.5},
        citations={"anomaly_score": Citation(source="alert", elements=("AlertMetadata/AnomalyScore",),
                                             note="the surveillance system's anomaly score")})


def test_an_alert_without_an_anomaly_score_says_so_and_cites_nothing():
    assert spoofing.indicators(spoofing_alert(_reprice(), score=None)) == Evidence(
        tool="alert", title="Surveillance indicators", summary="Anomaly score not given.",
        facts={"anomaly_score": None}, citations={})


# ----------------------------------------------------------------------------- the case description

def test_the_description_names_the_trader_the_order_count_and_the_first_and_last_event_to_the_millisecond():
    events = sorted([("L0", 0.25, "BUY", 5_000, 10.0, "PLACE", 0), ("L0", 4.5, "BUY", 5_000, 10.0, "CANCEL", 0),
                     ("L1", 1.0, "BUY", 5_000, 9.99, "PLACE", 0), ("L1", 23.0, "BUY", 5_000, 9.99, "CANCEL", 0)],
                    key=lambda e: e[1])
    alert = spoofing_alert(events).model_copy(update={"trader": Trader(trader_id="T1", name="Ann Lee")})
    assert spoofing.describe(alert, {}) == ("Ann Lee (T1) sent 4 order events in ACME on 2024-03-13 between "
                                            "10:00:00.250 and 10:00:23.000.")
    unnamed = alert.model_copy(update={"trader": Trader(trader_id="T1")})
    assert spoofing.describe(unnamed, {}).startswith("Trader T1 sent 4 order events in ACME")  # not "T1 (T1)"
