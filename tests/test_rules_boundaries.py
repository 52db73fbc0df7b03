"""Thresholds of the specialists' rule tables (README "Offline rules") pinned just below and at the
number, where the rule tests of each specialist left one side open. Found by changing each number
a rule compares against by one step and seeing which change no test noticed."""

from __future__ import annotations

import pytest

from tests.rules_support import fired, spoofing_alert, wash_alert
from tests.test_rules_wash_spoofing import _reprice


@pytest.mark.parametrize(("score", "fires"), [(89.9, False), (90.0, True), (97.0, True)])
def test_the_surveillance_systems_anomaly_score_counts_from_90(score, fires):
    """WT-R10 and SP-R8 (like ID-R13): a score of at least 90 is a (small) red flag of its own."""
    assert ("WT-R10" in fired("wash", wash_alert(score=score))) is fires
    assert ("SP-R8" in fired("spoofing", spoofing_alert(_reprice(), score=score))) is fires


@pytest.mark.parametrize(("seconds", "fires"), [(0.999, False), (1.0, True), (60.0, True), (60.01, False)])
def test_legs_within_a_minute_means_one_second_to_sixty(seconds, fires):
    """WT-R5 covers 1–60 s; below a second WT-R4 (the stronger flag of the same fact) is the finding, and
    WT-R5 does not fire at all (not even counted once with it)."""
    assert ("WT-R5" in fired("wash", wash_alert(), {"trade_pattern": {"min_seconds_apart": seconds}})) is fires


@pytest.mark.parametrize(("days_before_event", "starts"), [(-1, False), (0, True), (30, True), (31, False)])
def test_the_events_run_up_is_the_30_days_before_it(days_before_event, starts):
    """A trade from the event's day back to RUN_UP_DAYS (30) before it falls in the run-up, whose start is where
    the trader's accumulation is read from (ID-R6/ID-R11); a trade after the event, or earlier, has none."""
    from datetime import timedelta

    from agents.insider_dealing import RUN_UP_DAYS, run_up_start
    from tests.rules_support import TRADE_DAY, insider_alert

    event = TRADE_DAY + timedelta(days=days_before_event)
    start = run_up_start(insider_alert(event_date=event))
    assert RUN_UP_DAYS == 30
    assert start == (event - timedelta(days=30) if starts else None)


@pytest.mark.parametrize(("profile", "rule", "weight"), [
    ({"no_trading_allowed": True, "restriction": "No trading allowed"}, "ID-R1", 40),
    ({"symbol_restricted": True, "restriction": "Restricted list: ACME"}, "ID-R2", 30),
])
def test_the_critical_insider_rules_weigh_what_the_table_says(profile, rule, weight):
    """A critical rule escalates whatever the score, but its weight still counts in the net score shown."""
    from tests.rules_support import insider_alert

    assert fired("insider", insider_alert(), {"trader_profile": profile})[rule] == weight


@pytest.mark.parametrize(("facts", "fires"), [
    ({"size_ratio": 1.0, "symbol_trades": 3, "round_trips": [{}]}, True),       # one round trip is no record
    ({"size_ratio": 1.0, "symbol_trades": 8, "round_trips": [{}, {}]}, False),  # two: half the trades, a record
    ({"size_ratio": 1.0, "symbol_trades": 9, "round_trips": [{}, {}]}, True),   # under half
])
def test_usual_size_is_no_mitigation_against_a_record_of_round_trips(facts, fires):
    """ID-M3 (usual size in a regularly traded name) does not hold when at least two quick profitable round trips
    make up half or more of the earlier trades."""
    from tests.rules_support import insider_alert

    assert ("ID-M3" in fired("insider", insider_alert(), {"trader_history": facts})) is fires


def test_an_exit_weighs_15():
    from tests.rules_support import insider_alert

    found = fired("insider", insider_alert(side="SELL"),
                  {"trader_history": {"exit_share": 1.0, "position_before": 10_000}})
    assert found["ID-R11"] == 15
