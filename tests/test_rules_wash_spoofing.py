"""The wash-trade and spoofing rules added for issue 10, each on a minimal case, and the tool facts they read."""

from __future__ import annotations

import json

import pytest

from agents.analyst_offline import OfflineAnalyst
from agents.data import Dataset
from agents.progress import NullReporter
from agents.tools import accounts, orders
from tests.rules_support import case_of, fired, spoofing_alert, wash_alert, write_data

# ----------------------------------------------------------------------------- wash trades

FUNDS = {"owners": {"A": "Growth Fund (1)", "B": "Income Fund (2)"}, "linked_pairs": [],
         "management_links": ["A↔B"], "relationship_types": {"A": "fund", "B": "fund"}, "all_funds": True}


@pytest.mark.parametrize(("price", "fires"), [(20.5, True), (19.5, True), (20.51, False)])
def test_fund_cross_mitigates_only_at_the_market_price(price, fires):
    found = fired("wash", wash_alert(buy_price=price, sell_price=price), {"account_relationships": FUNDS})
    assert (found.get("WT-M6") == -30) is fires
    # a shared manager is neither an ownership link nor "unrelated"
    assert "WT-M2" not in found and "WT-R2" not in found


def test_fund_cross_needs_the_days_prices():
    assert "WT-M6" not in fired("wash", wash_alert(), {"account_relationships": FUNDS}, failed=("volume_impact",))


def test_unrelated_owners_without_any_link_mitigate_only_while_no_pattern_contradicts_them():
    """The absence of a recorded link is not proof of independence: repeated matching between the accounts outweighs
    the record, so WT-M2 stands only without WT-R6's pattern."""
    unrelated = {"account_relationships": {"linked_pairs": [], "management_links": []}}
    assert fired("wash", wash_alert(), unrelated)["WT-M2"] == -20
    repeated = {**unrelated, "related_accounts_history": {"offsetting_pairs": 3}}
    found = fired("wash", wash_alert(), repeated)
    assert "WT-M2" not in found and found["WT-R6"] == 15


def test_matched_legs_are_one_piece_of_evidence():
    """Same quantity and price, and legs a moment apart, describe one fact (the legs were matched): counted once."""
    case = case_of("wash", wash_alert(), {"trade_pattern": {"same_price": True, "min_seconds_apart": 0.2}})
    findings = {f.rule: f for f in case.findings_from_rules()}
    assert findings["WT-R3"].weight == 15 and findings["WT-R3"].kind == "red_flag"
    assert findings["WT-R4"].kind == "context" and findings["WT-R4"].weight == 0
    assert "counted once" in findings["WT-R4"].detail


def _decide(overrides, score=95.0):
    return OfflineAnalyst().decide(case_of("wash", wash_alert(score=score), overrides), NullReporter())


# Same owner (+35), matched legs (+15), positions round trip (+5), a high anomaly score (+5): 60 and four red flags,
# but two pairs in the month and 4.99% of the day's volume — neither a pattern nor material.
BOOKING = {"account_relationships": {"same_beneficial_owner": True, "linked_pairs": []},
           "trade_pattern": {"same_price": True, "min_seconds_apart": 0.0},
           "related_accounts_history": {"offsetting_pairs": 2, "round_trip": True},
           "volume_impact": {"volume_share_pct": 4.99}}


@pytest.mark.parametrize(("change", "determination"), [
    ({}, "NEEDS_HUMAN_REVIEW"),
    ({"volume_impact": {"volume_share_pct": 5.0}}, "ESCALATE"),                             # material (WT-R7)
    ({"related_accounts_history": {"offsetting_pairs": 3, "round_trip": True}}, "ESCALATE"),  # a pattern (WT-R6)
])
def test_escalation_needs_materiality_or_a_pattern(change, determination):
    """A one-off small same-owner cross goes to a human, never to a STOR by itself."""
    decision = _decide({**BOOKING, **change})
    assert decision.score >= 50 and len(decision.red_flags) >= 3
    assert decision.determination == determination and (decision.stor is not None) is (determination == "ESCALATE")


def test_escalation_withheld_says_why():
    decision = _decide(BOOKING)
    assert decision.confidence == 70 and "escalation was withheld" in decision.confidence_note
    assert "escalation needs one of WT-R6, WT-R7, WT-R9, and none of it was shown" in decision.rationale


@pytest.mark.parametrize(("impact", "fires"), [("5.00%", True), ("4.99%", False), ("", True)])
def test_the_alerts_volume_share_stands_in_when_market_data_is_missing(impact, fires):
    # "" = no VolumeImpact: flagged 1,000 of DailyVolume 20,000 = 5%
    alert = wash_alert(volume_impact=impact or None, daily_volume=20_000)
    assert (fired("wash", alert, failed=("volume_impact",)).get("WT-R9") == 10) is fires
    assert "WT-R9" not in fired("wash", alert)  # our own market data decides when it has the day


def test_wash_anomaly_score():
    assert fired("wash", wash_alert(score=90.0))["WT-R10"] == 5 and "WT-R10" not in fired("wash", wash_alert())


def test_relationships_tell_management_links_from_ownership_links(tmp_path):
    rows = [["A", "1", "Growth Fund", "fund", json.dumps(["B"]), "same_manager"],
            ["B", "2", "Income Fund", "fund", json.dumps(["A"]), "same_manager"],
            ["C", "3", "Ana", "individual", json.dumps(["D"]), "direct"],
            ["D", "4", "Luis", "individual", json.dumps(["C"]), "spouse"]]
    ds = Dataset(write_data(tmp_path, account_relationships=rows))
    funds = accounts.relationships(ds, ["A", "B"], NullReporter()).facts
    assert funds["management_links"] == ["A↔B"] and funds["linked_pairs"] == [] and funds["all_funds"]
    spouses = accounts.relationships(ds, ["C", "D"], NullReporter()).facts
    assert spouses["linked_pairs"] == ["C↔D"] and spouses["management_links"] == [] and not spouses["all_funds"]


@pytest.mark.parametrize(("kind", "owner"), [("omnibus", "Harbour Custody Omnibus"),
                                             ("nominee", "Harbour Custody Nominees Ltd"),
                                             ("individual", "Westgate Custodian Services")])
def test_a_nominee_or_omnibus_registration_is_a_gap_not_shared_ownership(tmp_path, kind, owner):
    rows = [["A", "BO-1", owner, kind, "[]", "nominee"], ["B", "BO-1", owner, kind, "[]", "nominee"]]
    ev = accounts.relationships(Dataset(write_data(tmp_path, account_relationships=rows)), ["A", "B"], NullReporter())
    assert not ev.ok and not ev.facts["same_beneficial_owner"] and ev.facts["nominee_registered"] == ["A", "B"]
    assert "A, B registered to a nominee or omnibus holder" in ev.citations["searched"].note


def test_a_nominee_account_recorded_with_its_owner_is_that_owners(tmp_path):
    rows = [["A", "BO-1", "Yuen Ho", "individual", '["B"]', "direct"], ["B", "BO-1", "Yuen Ho", "nominee", '["A"]',
                                                                          "nominee"]]
    ev = accounts.relationships(Dataset(write_data(tmp_path, account_relationships=rows)), ["A", "B"], NullReporter())
    assert ev.ok and ev.facts["same_beneficial_owner"]


def test_the_flagged_volume_is_the_larger_side_and_round_trips_need_both_directions(tmp_path):
    from datetime import date

    assert accounts.trade_pattern(wash_alert(), NullReporter()).facts["flagged_quantity"] == 1_000
    crosses = [("A", "B", "10:00:00"), ("B", "A", "11:00:00"), ("A", "B", "12:00:00")]  # A buys 2, sells 1
    rows = [r for buyer, seller, t in crosses
            for r in ([buyer, "2024-03-12", t, "ACME", "BUY", 1_000, 20.0, seller, "O"],
                      [seller, "2024-03-12", t, "ACME", "SELL", 1_000, 20.0, buyer, "O"])]
    ds = Dataset(write_data(tmp_path, related_accounts_history=rows))
    facts = accounts.related_history(ds, ["A", "B"], "ACME", date(2024, 3, 13), NullReporter()).facts
    assert facts["offsetting_pairs"] == 3 and facts["days_with_pairs"] == 1 and facts["round_trip"]
    one_way = Dataset(write_data(tmp_path / "one", related_accounts_history=[
        r for t in ("10:00:00", "11:00:00") for r in (["A", "2024-03-12", t, "ACME", "BUY", 1_000, 20.0, "B", "O"],
                                                      ["B", "2024-03-12", t, "ACME", "SELL", 1_000, 20.0, "A", "O"])]))
    assert not accounts.related_history(one_way, ["A", "B"], "ACME", date(2024, 3, 13), NullReporter()).facts[
        "round_trip"]


def test_an_unknown_account_is_a_gap_citing_what_was_searched(tmp_path):
    ds = Dataset(write_data(tmp_path, account_relationships=[["A", "1", "X", "individual", "[]", "direct"]]))
    ev = accounts.relationships(ds, ["A", "Z"], NullReporter())
    assert not ev.ok and ev.citations["searched"].note == "account_id in A, Z: none found for Z"


# ----------------------------------------------------------------------------- spoofing

def _quotes(fill_bid: bool, fill_ask: bool, ask_qty: int = 2_000):
    """Three bids and three offers; optional fills on each side; the rest cancelled."""
    events = [(f"B{i}", 0, "BUY", 2_000, 10.0 - i / 100, "PLACE", 0) for i in range(3)]
    events += [(f"A{i}", 0, "SELL", ask_qty, 10.02 + i / 100, "PLACE", 0) for i in range(3)]
    if fill_bid:
        events.append(("B0", 5, "BUY", 2_000, 10.0, "EXECUTE", 2_000))
    if fill_ask:
        events.append(("A0", 6, "SELL", ask_qty, 10.02, "EXECUTE", ask_qty))
    events += [(oid, 8, side, q, p, "CANCEL", 0) for oid, _t, side, q, p, _a, _f in events[:6]
               if not ((oid == "B0" and fill_bid) or (oid == "A0" and fill_ask))]
    return sorted(events, key=lambda e: e[1])


@pytest.mark.parametrize(("fill_bid", "fill_ask", "ask_qty", "fires"), [
    (True, True, 2_000, True), (True, True, 4_000, True), (True, True, 4_001, False),
    (True, False, 2_000, False), (False, False, 2_000, False)])
def test_two_sided_quoting_filled_both_ways(fill_bid, fill_ask, ask_qty, fires):
    alert = spoofing_alert(_quotes(fill_bid, fill_ask, ask_qty))
    facts, _ = orders.episode_facts(alert)
    found = fired("spoofing", alert, {"order_episode": facts})
    assert (found.get("SP-M5") == -30) is fires


def _reprice(side="BUY", opposite=False):
    events = []
    for i in range(4):
        events += [(f"C{i}", 6 * i, side, 5_000, 10.0 + i / 100, "PLACE", 0),
                   (f"C{i}", 6 * i + 5, side, 5_000, 10.0 + i / 100, "CANCEL", 0)]
    if opposite:
        events += [("X", 7, "SELL" if side == "BUY" else "BUY", 1_000, 10.0, "PLACE", 0),
                   ("X", 8, "SELL" if side == "BUY" else "BUY", 1_000, 10.0, "EXECUTE", 1_000)]
    return sorted(events, key=lambda e: e[1])


@pytest.mark.parametrize(("agency", "opposite", "fires"), [(True, False, True), (False, False, False),
                                                           (True, True, False)])
def test_agency_execution_working_one_side(agency, opposite, fires):
    alert = spoofing_alert(_reprice(opposite=opposite))
    facts, _ = orders.episode_facts(alert)
    found = fired("spoofing", alert, {"order_episode": facts, "trader_profile": {"agency_execution": agency}})
    assert (found.get("SP-M6") == -25) is fires
    assert "SP-R1" in found  # the re-pricing still looks like layers; the mitigation explains it


def test_spoofing_anomaly_score():
    alert = spoofing_alert(_reprice(), score=90.0)
    assert fired("spoofing", alert)["SP-R8"] == 5 and "SP-R8" not in fired("spoofing", spoofing_alert(_reprice()))


def test_a_trader_without_order_history_is_a_gap_citing_what_was_searched(tmp_path):
    from datetime import date

    ev = orders.habits(Dataset(write_data(tmp_path)), "T9", ["T9"], date(2024, 3, 13), NullReporter())
    assert not ev.ok and ev.citations["searched"].note == ("trader_id = T9, account_id = T9, date 2024-02-12 to "
                                                           "2024-03-13: none found")


def _history(orders_: list[tuple], account: str, day: str = "2024-03-13") -> list[list]:
    """order_history rows for ``orders_`` ((id, seconds after 10:00, side, qty, price, action, filled))."""
    from datetime import datetime, timedelta

    start = datetime.fromisoformat(f"{day}T10:00:00")
    return [[oid, account, "T1", (start + timedelta(seconds=t)).isoformat(timespec="milliseconds"), day, "ACME", side,
             q, p, action, filled] for oid, t, side, q, p, action, filled in orders_]


BIDS = _reprice("BUY")
OFFER = [("X", 7, "SELL", 1_000, 10.0, "PLACE", 0), ("X", 8, "SELL", 1_000, 10.0, "EXECUTE", 1_000)]
AGENCY_DESK = [["T1", "Agency Desk", "Execution Trader", "Agency Electronic Execution", "MEDIUM", ""]]
PROP_TRADER = [["T1", "Prop Trader", "Proprietary Trader", "Prop Desk", "MEDIUM", ""]]


@pytest.mark.parametrize(("profiles", "owners", "apart"), [
    (AGENCY_DESK, [], True),                                        # an agency desk's accounts are its clients'
    (PROP_TRADER, [], False),                                       # a trader's own accounts are one interest
    (PROP_TRADER, [["CLIENT-A", "BO-1", "Ana", "individual", "[]", "direct"],
                   ["CLIENT-B", "BO-2", "Ben", "individual", "[]", "direct"]], True),   # recorded different owners
    (AGENCY_DESK, [["CLIENT-A", "BO-1", "Ana", "individual", "[]", "direct"],
                   ["CLIENT-B", "BO-1", "Ana", "individual", "[]", "direct"]], False),  # one owner behind both
])
def test_orders_belong_to_the_beneficial_interest_they_were_entered_for(tmp_path, profiles, owners, apart):
    """Layers and the opposite execution that pays for them must be for the same beneficial interest: two clients'
    algorithms on opposite sides are read apart; a trader's two own accounts are not."""
    alert = spoofing_alert(sorted(BIDS + OFFER, key=lambda e: e[1]))
    assert orders.episode_facts(alert)[0]["executions_while_resting"] == 1  # without the order history: one book
    ds = Dataset(write_data(tmp_path, order_history=_history(BIDS, "CLIENT-A") + _history(OFFER, "CLIENT-B"),
                            trader_profiles=profiles, account_relationships=owners))
    facts, _ = orders.episode_facts(alert, ds)
    assert facts["all_accounts"] == ["CLIENT-A", "CLIENT-B"]
    if apart:
        assert facts["accounts"] == ["CLIENT-A"] and facts["other_accounts"] == {"CLIENT-B": "1 order, 0 cancelled "
                                                                                           "unfilled"}
        assert facts["executions_while_resting"] == 0 and facts["one_sided"]
        found = fired("spoofing", alert, {"order_episode": facts, "trader_profile": {"agency_execution": True}})
        assert "SP-R3" not in found and found["SP-M6"] == -25
    else:
        assert facts["accounts"] == ["CLIENT-A", "CLIENT-B"] and facts["executions_while_resting"] == 1


def test_recurrence_is_the_same_signature_on_earlier_days_not_only_fast_cancels(tmp_path):
    """Layers resting half a minute, cancelled after the other side filled, on two earlier days: the pattern recurs."""
    from datetime import date

    layered = [(f"L{i}", 2 * i, "BUY", 5_000, 10.0 - i / 100, "PLACE", 0) for i in range(3)]
    layered += [(f"L{i}", 40, "BUY", 5_000, 10.0 - i / 100, "CANCEL", 0) for i in range(3)]
    layered += [("S", 10, "SELL", 1_000, 10.02, "PLACE", 0), ("S", 30, "SELL", 1_000, 10.02, "EXECUTE", 1_000)]
    rows = [[f"{d}-{r[0]}", *r[1:]] for d in ("2024-03-01", "2024-03-05")
            for r in _history(layered, "T1", d)]
    ev = orders.habits(Dataset(write_data(tmp_path, order_history=rows)), "T1", ["T1"], date(2024, 3, 13),
                       NullReporter())
    assert ev.facts["fast_cancel_episode_days"] == [] and ev.facts["layering_days"] == ["2024-03-01", "2024-03-05"]
    assert fired("spoofing", spoofing_alert(_reprice()), {"order_history": ev.facts})["SP-R5"] == 15


def test_the_same_signature_earlier_the_same_day_is_a_repetition(tmp_path):
    """Layering at 10:00 and again at 11:00 the same day: the earlier episode counts, the alert's own orders do not."""
    from datetime import date

    layered = [(f"L{i}", 2 * i, "BUY", 5_000, 10.0 - i / 100, "PLACE", 0) for i in range(3)]
    layered += [(f"L{i}", 40, "BUY", 5_000, 10.0 - i / 100, "CANCEL", 0) for i in range(3)]
    layered += [("S", 10, "SELL", 1_000, 10.02, "PLACE", 0), ("S", 30, "SELL", 1_000, 10.02, "EXECUTE", 1_000)]
    episode = [(f"A-{oid}", 3600 + s, *rest) for oid, s, *rest in layered]   # the alert's own orders, at 11:00
    alert = spoofing_alert(episode)
    rows = (_history(episode, "T1", "2024-03-13")                                   # recorded too: never counted
            + [[f"E-{r[0]}", *r[1:]] for r in _history(layered, "T1", "2024-03-13")]  # 10:00 the same day
            + [[f"D-{r[0]}", *r[1:]] for r in _history(layered, "T1", "2024-03-04")])
    ds = Dataset(write_data(tmp_path, order_history=rows))
    ev = orders.habits(ds, "T1", ["T1"], date(2024, 3, 13), NullReporter(), episode=alert)
    assert ev.facts["layering_days"] == ["2024-03-04", "2024-03-13 before 11:00:00"]
    assert orders.habits(ds, "T1", ["T1"], date(2024, 3, 13), NullReporter()).facts["layering_days"] == ["2024-03-04"]


# ----------------------------------------------------------------------------- every other rule at its boundary

WASH_BOUNDARIES = [
    ("WT-R1", {"account_relationships": {"same_beneficial_owner": True}}, 35),
    ("WT-R1", {"account_relationships": {"same_beneficial_owner": True, "exempt_book": True}}, 35),
    ("WT-M1", {"account_relationships": {"same_beneficial_owner": True, "exempt_book": True}}, -40),
    ("WT-R2", {"account_relationships": {"linked_pairs": ["A↔B"]}}, 25),
    ("WT-R2", {"account_relationships": {"linked_pairs": ["A↔B"], "same_beneficial_owner": True}}, None),
    ("WT-R3", {"trade_pattern": {"same_price": True}}, 15),
    ("WT-R3", {"trade_pattern": {"same_price": True, "offsetting": False}}, None),
    ("WT-R4", {"trade_pattern": {"min_seconds_apart": 0.999}}, 15),
    ("WT-R4", {"trade_pattern": {"min_seconds_apart": 1.0}}, None),
    ("WT-R5", {"trade_pattern": {"min_seconds_apart": 1.0}}, 8),
    ("WT-R5", {"trade_pattern": {"min_seconds_apart": 60.0}}, 8),
    ("WT-R5", {"trade_pattern": {"min_seconds_apart": 60.01}}, None),
    ("WT-M3", {"trade_pattern": {"min_seconds_apart": 300.01}}, -10),
    ("WT-M3", {"trade_pattern": {"min_seconds_apart": 300.0}}, None),
    ("WT-R6", {"related_accounts_history": {"offsetting_pairs": 3, "days_with_pairs": 1}}, 15),  # the same day counts
    ("WT-R6", {"related_accounts_history": {"offsetting_pairs": 2}}, None),
    ("WT-M4", {"related_accounts_history": {"offsetting_pairs": 1}}, -10),
    ("WT-M4", {"related_accounts_history": {"offsetting_pairs": 2, "days_with_pairs": 1}}, None),
    ("WT-R7", {"volume_impact": {"volume_share_pct": 5.0}}, 10),
    ("WT-R7", {"volume_impact": {"volume_share_pct": 4.99}}, None),
    ("WT-R8", {"related_accounts_history": {"round_trip": True}}, 5),
    ("WT-R8", {"related_accounts_history": {"round_trip": False}}, None),
    ("WT-M5", {"trade_pattern": {"same_price": False}}, -5),
    ("WT-M5", {"trade_pattern": {"same_price": True}}, None),
]


@pytest.mark.parametrize(("rule", "overrides", "weight"), WASH_BOUNDARIES)
def test_wash_rule_at_its_boundary(rule, overrides, weight):
    assert fired("wash", wash_alert(), overrides).get(rule) == weight


EPISODE = "order_episode"
SPOOFING_BOUNDARIES = [
    ("SP-R1", {EPISODE: {"layers": 3, "layer_price_levels": 2}}, 25),
    ("SP-R1", {EPISODE: {"layers": 2, "layer_price_levels": 2}}, None),
    ("SP-R1", {EPISODE: {"layers": 3, "layer_price_levels": 1}}, None),
    ("SP-R2", {EPISODE: {"median_layer_lifetime_s": 9.99, "layer_to_execution_ratio": 3.0}}, 20),
    ("SP-R2", {EPISODE: {"median_layer_lifetime_s": 10.0, "layer_to_execution_ratio": 3.0}}, None),
    ("SP-R2", {EPISODE: {"median_layer_lifetime_s": 9.99, "layer_to_execution_ratio": 2.99}}, None),
    ("SP-R3", {EPISODE: {"executions_while_resting": 1}}, 25),
    ("SP-R3", {EPISODE: {"executions_while_resting": 0}}, None),
    ("SP-R4", {EPISODE: {"cancel_ratio_pct": 90.0}}, 10),
    ("SP-R4", {EPISODE: {"cancel_ratio_pct": 89.9}}, None),
    ("SP-R5", {"order_history": {"pattern_days": ["2024-03-01", "2024-03-05"]}}, 15),
    ("SP-R5", {"order_history": {"pattern_days": ["2024-03-01"]}}, None),
    ("SP-R6", {"order_history": {"cancel_ratio_pct": 49.9}}, 10),
    ("SP-R6", {"order_history": {"cancel_ratio_pct": 50.0}}, None),
    ("SP-M4", {"order_history": {"cancel_ratio_pct": 80.0}}, -10),
    ("SP-M4", {"order_history": {"cancel_ratio_pct": 79.9}}, None),
    ("SP-M1", {"trader_profile": {"market_maker": True}}, -30),  # the role phrases: test_rules_context.py
    ("SP-M2", {EPISODE: {"median_layer_lifetime_s": 60.01}}, -20),
    ("SP-M2", {EPISODE: {"median_layer_lifetime_s": 60.0}}, None),
    ("SP-M3", {EPISODE: {"opposite_executed_quantity": 0}}, -15),
    ("SP-M3", {EPISODE: {"opposite_executed_quantity": 0, "layers": 0}}, None),
]


@pytest.mark.parametrize(("rule", "overrides", "weight"), SPOOFING_BOUNDARIES)
def test_spoofing_rule_at_its_boundary(rule, overrides, weight):
    assert fired("spoofing", spoofing_alert(_reprice()), overrides).get(rule) == weight


def test_every_rule_of_every_specialist_has_a_unit_test():
    from agents.orchestrator import SPECIALISTS
    from tests.servers import REPO

    tests = "".join((REPO / "tests" / name).read_text() for name in
                    ("test_rules_insider.py", "test_rules_wash_spoofing.py", "test_guards.py",
                     "test_rules_context.py"))
    rules = {rule.id for module in SPECIALISTS.values() for rule in module.SPECIALIST.rules}
    assert not {r for r in rules if f'"{r}"' not in tests}
