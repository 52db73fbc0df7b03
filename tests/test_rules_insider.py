"""Each insider-dealing rule on a minimal case, and the tools that feed the new ones.

The README's rule table is the truth; these tests take its thresholds at their boundaries.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from agents.data import Dataset
from agents.progress import NullReporter
from agents.tools import market, news, peers, trader
from tests.rules_support import TRADE_DAY, case_of, fired, insider_alert, write_data


def on(overrides=None, **alert) -> dict[str, int]:
    return fired("insider", insider_alert(**alert), overrides)


# ----------------------------------------------------------------------------- rules on their facts

@pytest.mark.parametrize(("days", "weight"), [(0, 20), (7, 20), (8, 17), (10, 14), (14, 10), (20, 7), (30, 4),
                                              (31, None), (-1, None)])
def test_timing_weight_decays_with_distance_and_stops_after_30_days(days, weight):
    assert on(event_date=TRADE_DAY + timedelta(days=days)).get("ID-R4") == weight


def test_timing_cites_the_alerts_own_dates():
    case = case_of("insider", insider_alert(event_date=TRADE_DAY + timedelta(days=2)))
    finding = next(f for f in case.findings_from_rules() if f.rule == "ID-R4")
    assert finding.citations[0].source == "alert"
    assert finding.citations[0].elements == ("SuspiciousActivity/TradeDate", "RelatedEvent/EventDate")


@pytest.mark.parametrize(("facts", "fires"), [
    ({"no_trading_allowed": True, "restriction": "No trading allowed"}, "ID-R1"),
    ({"symbol_restricted": True, "restriction": "Restricted list: ACME"}, "ID-R2"),
    ({"inside_information_access": True}, "ID-R3"),
])
def test_profile_rules(facts, fires):
    assert fires in on({"trader_profile": facts})
    assert fires not in on()


@pytest.mark.parametrize(("facts", "fires"), [
    ({"zscore": 3.0}, True), ({"size_ratio": 5.0}, True), ({"zscore": 2.99, "size_ratio": 4.99}, False),
    ({"zscore": 3.0, "size_ratio": 2.0}, False),   # z ≥ 3 within the usual band: tightly spread sizes, not far outside
    ({"zscore": None, "size_ratio": 4.99}, False),  # too few trades for a z-score: the ratio alone must reach 5
])
def test_size_far_outside_the_baseline(facts, fires):
    assert ("ID-R6" in on({"trader_history": facts})) is fires


@pytest.mark.parametrize("ratio", [0.5, 1.0, 1.99, 2.0, 2.01, 3.0, 4.99, 5.0, 8.0])
@pytest.mark.parametrize("z", [None, 0.0, 2.99, 3.0, 10.0])
def test_size_bands_never_contradict_each_other(ratio, z):
    """ID-R6 (far outside) and ID-M3 (in line) read disjoint bands of the same ratio: never both on one card."""
    found = on({"trader_history": {"size_ratio": ratio, "zscore": z, "symbol_trades": 9}})
    assert not ("ID-R6" in found and "ID-M3" in found)
    assert ("ID-M3" in found) is (ratio <= 2.0)


def test_first_trade_in_instrument_and_sector_count_once():
    """A first trade in a new sector is a first trade in the instrument: one fact (novelty), counted at ID-R7."""
    found = on({"trader_history": {"first_time_symbol": True, "first_time_sector": True}})
    assert found["ID-R7"] == 10 and found["ID-R8"] == 0  # ID-R8 shown as context
    assert on({"trader_history": {"first_time_sector": True}})["ID-R8"] == 5


@pytest.mark.parametrize(("share", "fires"), [(0.75, True), (1.0, True), (0.7499, False), (None, False)])
def test_position_exit_at_75_percent(share, fires):
    assert ("ID-R11" in on({"trader_history": {"exit_share": share, "position_before": 10_000}}, side="SELL")) \
        is fires


@pytest.mark.parametrize(("facts", "fires"), [
    ({"size_ratio": 2.0, "symbol_trades": 3}, True),
    ({"size_ratio": None, "symbol_trades": 3}, False),                    # a baseline too thin for an average
    ({"size_ratio": 1.0, "symbol_trades": 4, "round_trips": [{}, {}]}, False),  # a record of quick profitable trades
    ({"size_ratio": 1.0, "symbol_trades": 9, "round_trips": [{}, {}]}, True),   # ... that is not most of them
    ({"size_ratio": 2.01, "symbol_trades": 3}, False),
    ({"size_ratio": 1.0, "symbol_trades": 2}, False),                     # one or two earlier trades: no pattern
    ({"size_ratio": 1.0, "symbol_trades": 9, "exit_share": 0.75}, False),  # a liquidation is never "usual"
    ({"size_ratio": 1.0, "symbol_trades": 9, "exit_share": 0.5}, True),
])
def test_usual_activity_needs_a_pattern_and_no_exit(facts, fires):
    assert ("ID-M3" in on({"trader_history": facts})) is fires


@pytest.mark.parametrize(("favourable", "material", "rule"), [
    (True, True, "ID-R9"), (False, True, "ID-M4"), (True, False, None), (False, False, None)])
def test_outcome_counts_only_when_material_either_way(favourable, material, rule):
    found = on({"market_data": {"favourable_move": favourable, "material_move": material, "move_pct": 6.0}})
    assert {r for r in ("ID-R9", "ID-M4") if r in found} == ({rule} if rule else set())


def test_high_vix():
    assert on({"market_data": {"high_vix": True, "vix": 30.0}})["ID-M5"] == -5


def test_news_silence_and_the_strongest_public_item_counting_once():
    assert on({"news": {"news_silence": True}})["ID-R5"] == 10
    everything = {"disclosed_before": ["a"], "reported_before": ["b"], "direction_before": ["c"]}
    assert {r for r in on({"news": everything}) if r in ("ID-M1", "ID-M6", "ID-M7")} == {"ID-M1"}
    assert {r for r in on({"news": {**everything, "disclosed_before": []}}) if r in ("ID-M6", "ID-M7")} == {"ID-M7"}
    assert on({"news": {"direction_before": ["c"]}})["ID-M6"] == -15


def test_a_news_mitigation_quotes_at_most_three_items_and_only_the_strongest_kind_speaks():
    from agents.insider_dealing import _news_mitigation

    facts = {"reported_before": ["r1", "r2", "r3", "r4"], "direction_before": ["d1"]}
    assert _news_mitigation("reported_before", facts) == "r1; r2; r3."
    assert _news_mitigation("direction_before", facts) is None
    assert _news_mitigation("direction_before", {"direction_before": ["d1"]}) == "d1."
    assert _news_mitigation("disclosed_before", {"disclosed_before": ["x"], "reported_before": ["y"]}) == "x."
    assert _news_mitigation("disclosed_before", {"disclosed_before": []}) is None


@pytest.mark.parametrize(("facts", "fires"), [
    ({"peers_same_side": 0, "coverage": True}, "ID-R10"), ({"peers_same_side": 0, "coverage": False}, None),
    ({"peers_same_side": 3}, "ID-M2"), ({"peers_same_side": 2}, None)])
def test_peers_need_coverage_and_a_crowd_of_three(facts, fires):
    found = {r for r in on({"peer_trades": facts}) if r in ("ID-R10", "ID-M2")}
    assert found == ({fires} if fires else set())


def test_alert_indicators_are_evidence():
    assert on(score=90.0)["ID-R13"] == 5 and "ID-R13" not in on(score=89.9)
    assert "ID-R12" not in on(estimated_profit=500_000.0)  # our market data measured the outcome
    no_reference = {"market_data": {"reference_date": None}}
    assert on(no_reference, estimated_profit=10_000.0)["ID-R12"] == 10
    assert "ID-R12" not in on(no_reference, estimated_profit=9_999.0)
    assert "ID-R12" in fired("insider", insider_alert(estimated_profit=10_000.0), failed=("market_data",))


# ----------------------------------------------------------------------------- plans and index mandates

def _plan(adopted: date, *, officer=False, side="SELL", trades=2, first_after=10, every=30) -> dict:
    """A plan adopted on ``adopted`` and ``trades`` earlier same-size trades under it, the first ``first_after``
    days after adoption, then every ``every`` days."""
    return {"trader_profile": {"officer": officer, "plan": {"text": "10b5-1 plan", "adopted": adopted.isoformat(),
                                                            "side": side, "names_symbol": True}},
            "trader_history": {"same_size_trades": [
                {"date": (adopted + timedelta(days=first_after + every * i)).isoformat(), "qty": 10_000, "line": 2 + i}
                for i in range(trades)]}}


FAR = TRADE_DAY + timedelta(days=45)  # an event beyond the run-up: the plan's record may run up to the trade


@pytest.mark.parametrize(("days_before", "officer", "fires"), [
    (90, True, True), (89, True, False), (30, False, True), (29, False, False)])
def test_plan_needs_its_cooling_off_period(days_before, officer, fires):
    overrides = _plan(TRADE_DAY - timedelta(days=days_before), officer=officer, first_after=1, every=5)
    assert ("ID-M8" in on(overrides, side="SELL", event_date=FAR)) is fires


def test_plan_adopted_inside_the_events_run_up_explains_nothing():
    """The cooling-off period keeps a plan adopted in the run-up (SEC v. Peizer) from explaining the trade."""
    event = TRADE_DAY + timedelta(days=18)
    assert "ID-M8" not in on(_plan(TRADE_DAY - timedelta(days=4)), side="SELL", event_date=event)


def test_plan_needs_two_earlier_trades_of_its_side_and_size():
    event = TRADE_DAY + timedelta(days=3)
    adopted = TRADE_DAY - timedelta(days=200)
    assert "ID-M8" not in on(_plan(adopted, trades=1), side="SELL", event_date=event)
    assert "ID-M8" not in on(_plan(adopted, side="BUY"), side="SELL", event_date=event)
    assert "ID-M8" in on(_plan(adopted, side=None), side="SELL", event_date=event)


def test_a_plans_record_must_predate_the_events_run_up():
    """Good faith (Rule 10b5-1(c)(1)(ii)(A)): a plan adopted while aware of the information trades only near its
    disclosure; one adopted in good faith has traded the same size before the run-up began."""
    event = TRADE_DAY + timedelta(days=3)           # the run-up starts 27 days before the trade
    adopted = TRADE_DAY - timedelta(days=100)       # cooling-off (90 days, an officer) is met
    inside = _plan(adopted, officer=True, first_after=75, every=5)   # both earlier trades inside the run-up
    assert "ID-M8" not in on(inside, side="SELL", event_date=event)
    before = _plan(adopted, officer=True, first_after=40, every=20)  # both before it
    assert "ID-M8" in on(before, side="SELL", event_date=event)


def test_a_plan_explains_the_timing_flags_instead_of_outweighing_them():
    """Timing, nothing public, the gain and the isolation are the plan's doing: shown as context, not counted; what the
    plan does not explain (access to inside information) still counts."""
    flags = {"news": {"news_silence": True}, "peer_trades": {"peers_same_side": 0, "coverage": True},
             "market_data": {"favourable_move": True, "material_move": True, "move_pct": 8.0},
             "trader_profile": {"inside_information_access": True}}
    plan = _plan(TRADE_DAY - timedelta(days=300), officer=True)
    overrides = {**flags, **plan, "trader_profile": {**flags["trader_profile"], **plan["trader_profile"]}}
    case = case_of("insider", insider_alert(side="SELL", event_date=TRADE_DAY + timedelta(days=3)), overrides)
    findings = {f.rule: f for f in case.findings_from_rules()}
    for rule in ("ID-R4", "ID-R5", "ID-R9", "ID-R10"):
        assert findings[rule].kind == "context" and findings[rule].weight == 0
        assert "Explained by ID-M8" in findings[rule].detail
    assert findings["ID-R3"].kind == "red_flag" and findings["ID-M8"].weight == -20
    assert sum(f.weight for f in findings.values()) == 15 - 20


@pytest.mark.parametrize(("text", "adopted"), [
    ("Dividend reinvestment plan adopted 2021-06-30: dividends reinvested", "2021-06-30"),
    ("Dividend reinvestment plan adopted 30 June 2021: dividends reinvested", "2021-06-30"),
    ("10b5-1 trading plan adopted June 30, 2021: sell 1,000 monthly", "2021-06-30"),
    ("10b5-1 trading plan adopted 30 Jun 2021, amended 15 March 2022: sell 1,000 monthly", "2022-03-15"),
    ("10b5-1 trading plan adopted 30/06/2021: sell 1,000 monthly", None),   # day/month order ambiguous: not read
])
def test_a_plans_adoption_date_is_read_in_common_forms_and_a_modification_restarts_it(text, adopted):
    assert trader.read_restrictions(text, "ACME")["plan"]["adopted"] == adopted


def test_a_plan_covers_the_symbol_unless_it_names_another_instrument_the_data_knows():
    text = "Pre-arranged plan adopted 2023-01-20 (Rule 10b5-1): sell-to-cover on quarterly RSU vesting"
    assert trader.read_restrictions(text, "ACME", known=set())["plan"] is not None           # RSU: not an instrument
    assert trader.read_restrictions(text.replace("RSU", "TLNT"), "ACME", known={"TLNT"})["plan"] is None


@pytest.mark.parametrize(("tracking", "tone", "side", "fires"), [
    (True, "positive", "BUY", True), (True, "negative", "SELL", True), (True, "negative", "BUY", False),
    (False, "positive", "BUY", False)])
def test_index_mandate(tracking, tone, side, fires):
    overrides = {"trader_profile": {"index_tracking": tracking},
                 "news": {"index_changes": [{"headline": "“ACME to join the S&P 500”", "tone": tone}]}}
    assert ("ID-M9" in on(overrides, side=side)) is fires


# ----------------------------------------------------------------------------- how the profile is read

@pytest.mark.parametrize(("text", "expected"), [
    ("No trading allowed", {"no_trading_allowed": True}),
    ("Restricted list: ACME, TLNT", {"symbol_restricted": True}),
    ("Restricted list: TLNT", {}),
    ("No trading in TLNT", {}),
    ("Blackout: ACME closed period until results", {"symbol_restricted": True}),
    ("Pre-clearance required", {"preclearance": "Pre-clearance required"}),
    ("Rule 10b5-1 trading plan adopted 2023-10-02: sell 20,000 ACME monthly; pre-clearance required",
     {"plan": {"text": "Rule 10b5-1 trading plan adopted 2023-10-02: sell 20,000 ACME monthly",
               "adopted": "2023-10-02", "side": "SELL", "names_symbol": True},
      "preclearance": "pre-clearance required"}),
    ("Pre-arranged trading plan adopted 2023-11-15: purchase 5,000 TLNT monthly", {}),
])
def test_profile_clauses_are_sorted_into_ban_restriction_plan_and_preclearance(text, expected):
    neutral = {"no_trading_allowed": False, "symbol_restricted": False, "plan": None, "preclearance": None}
    facts = trader.read_restrictions(text, "ACME", known={"TLNT"})
    assert {k: facts[k] for k in neutral} == {**neutral, **expected}


# ----------------------------------------------------------------------------- the tools, on tiny data

def _market(directory, closes: dict[str, float], symbol="ACME"):
    rows = [[symbol, d, c, c, c, c, 100_000, 15.0] for d, c in closes.items()]
    return Dataset(write_data(directory, market_data=rows))


def _reference(ds, event: date, side="BUY", quantity=20_000, price=10.0):
    facts = market.price_context(ds, "ACME", TRADE_DAY, side, quantity, price, event, NullReporter()).facts
    return facts["reference_date"], facts.get("reference_reason", "")


def test_reaction_on_the_events_own_session(tmp_path):
    ds = _market(tmp_path, {"2024-03-13": 10.0, "2024-03-14": 10.0, "2024-03-15": 10.2, "2024-03-18": 10.3})
    assert _reference(ds, date(2024, 3, 15)) == ("2024-03-15", "the event's own session (2024-03-15) moved +2.0%")


def test_reaction_after_the_close_is_read_at_the_next_session(tmp_path):
    ds = _market(tmp_path, {"2024-03-13": 10.0, "2024-03-14": 10.0, "2024-03-15": 10.19, "2024-03-18": 11.0})
    ref, why = _reference(ds, date(2024, 3, 15))
    assert ref == "2024-03-18" and "came out after the close" in why


def test_no_clear_reaction_is_read_over_both_sessions(tmp_path):
    ds = _market(tmp_path, {"2024-03-13": 10.0, "2024-03-14": 10.0, "2024-03-15": 10.1, "2024-03-18": 10.2})
    ref, why = _reference(ds, date(2024, 3, 15))
    assert ref == "2024-03-18" and "measured over both" in why


@pytest.mark.parametrize(("close", "side", "favourable", "material"), [
    (10.50, "BUY", True, True), (10.49, "BUY", True, False), (9.50, "BUY", False, True), (9.51, "BUY", False, False),
    (9.50, "SELL", True, True), (10.50, "SELL", False, True)])
def test_materiality_is_the_same_either_way(tmp_path, close, side, favourable, material):
    ds = _market(tmp_path, {"2024-03-13": 10.0, "2024-03-14": 10.0, "2024-03-15": close})
    facts = market.price_context(ds, "ACME", TRADE_DAY, side, 20_000, 10.0, date(2024, 3, 15), NullReporter()).facts
    assert (facts["favourable_move"], facts["material_move"]) == (favourable, material)


def test_missing_prices_are_a_gap_citing_what_was_searched(tmp_path):
    ev = market.price_context(_market(tmp_path, {"2024-03-12": 10.0}), "ACME", TRADE_DAY, "BUY", 1, 10.0, None,
                              NullReporter())
    assert not ev.ok and ev.citations["searched"].source == "market_data.csv"
    assert "symbol = ACME" in ev.citations["searched"].note and "no row for 2024-03-13" in ev.citations["searched"].note


def _trades(n: int, qty: int = 1_000, symbol: str = "QRTZ", start: date = date(2023, 6, 1)) -> list[list]:
    return [["T1", (start + timedelta(days=7 * i)).isoformat(), symbol, "BUY", qty + 10 * i, 70.0, "Y"]
            for i in range(n)]


@pytest.mark.parametrize(("n", "ratio", "z", "gap"), [(4, False, False, "an average needs 5"),
                                                       (9, True, False, "too few for a standard deviation"),
                                                       (10, True, True, None)])
def test_baseline_statistics_need_a_minimum_sample(tmp_path, n, ratio, z, gap):
    ds = Dataset(write_data(tmp_path, trader_history=_trades(n)))
    ev = trader.history(ds, "T1", "ACME", TRADE_DAY, "BUY", 5_000, NullReporter())
    assert (ev.facts["size_ratio"] is not None, ev.facts["zscore"] is not None) == (ratio, z)
    assert (gap in ev.gaps["baseline"]) if gap else not ev.gaps
    assert ev.facts["first_time_symbol"] is (n >= 5)  # novelty is judged only on a baseline


def test_run_up_tranches_are_the_position_under_review_not_the_baseline(tmp_path):
    run_up = [["T1", d, "ACME", "BUY", 2_500, p, "X"] for d, p in (("2024-02-27", 9.0), ("2024-03-04", 9.2))]
    ds = Dataset(write_data(tmp_path, trader_history=_trades(20) + run_up))
    ev = trader.history(ds, "T1", "ACME", TRADE_DAY, "BUY", 3_000, NullReporter(), run_up_start=date(2024, 2, 16))
    assert ev.facts["trades"] == 20 and ev.facts["first_time_symbol"]       # the tranches are not the baseline
    assert ev.facts["position_built"] == 8_000 and ev.facts["size_ratio"] == round(8_000 / 1_095, 2)
    assert ev.citations["run_up"].lines == (22, 23)
    lots = trader.run_up_lots(ds, "T1", "ACME", "BUY", date(2024, 2, 16), TRADE_DAY)
    assert [lot["qty"] for lot in lots] == [2_500, 2_500]


def test_a_name_traded_regularly_before_the_run_up_keeps_its_run_up_trades_as_habit(tmp_path):
    habit = [*_trades(3, 2_000, "ACME", date(2023, 9, 1)), ["T1", "2024-03-01", "ACME", "BUY", 2_000, 9.0, "X"]]
    ds = Dataset(write_data(tmp_path, trader_history=_trades(20) + habit))
    ev = trader.history(ds, "T1", "ACME", TRADE_DAY, "BUY", 2_000, NullReporter(), run_up_start=date(2024, 2, 16))
    assert ev.facts["position_built"] == 2_000 and ev.facts["symbol_trades"] == 4 and not ev.facts["run_up_trades"]
    assert trader.run_up_lots(ds, "T1", "ACME", "BUY", date(2024, 2, 16), TRADE_DAY) == []


def test_quick_profitable_round_trips_are_recorded(tmp_path):
    rows = [["T1", d, "ACME", side, qty, price, "X"] for d, side, qty, price in (
        ("2023-11-13", "BUY", 4_000, 31.4), ("2023-11-20", "SELL", 4_000, 33.9),    # +8.0% in a week
        ("2024-02-26", "SELL", 3_500, 34.8), ("2024-03-04", "BUY", 3_500, 32.1),    # +7.8%
        ("2023-06-01", "BUY", 1_000, 30.0), ("2023-06-05", "SELL", 1_000, 31.0))]   # +3.3%: not a material gain
    ds = Dataset(write_data(tmp_path, trader_history=_trades(20) + rows))
    trips = trader.history(ds, "T1", "ACME", TRADE_DAY, "BUY", 4_000, NullReporter()).facts["round_trips"]
    assert [(t["open"], t["close"], t["gain_pct"]) for t in trips] == [("2023-11-13", "2023-11-20", 8.0),
                                                                        ("2024-02-26", "2024-03-04", 7.8)]


def test_the_gain_is_measured_on_the_position_built_in_the_run_up(tmp_path):
    ds = _market(tmp_path, {"2024-03-12": 10.0, "2024-03-13": 10.0, "2024-03-14": 10.0, "2024-03-15": 11.0})
    lots = [{"date": "2024-03-01", "qty": 10_000, "price": 9.0, "line": 5}]
    facts = market.price_context(ds, "ACME", TRADE_DAY, "BUY", 2_000, 10.0, date(2024, 3, 15), NullReporter(),
                                 lots=lots).facts
    assert facts["profit_or_loss_avoided"] == 2_000 * 1.0 + 10_000 * 2.0 and facts["position_qty"] == 12_000
    average = 110_000 / 12_000
    assert facts["material_move"] and facts["move_pct"] == round((11.0 - average) / average * 100, 2)
    alone = market.price_context(ds, "ACME", TRADE_DAY, "BUY", 2_000, 10.0, date(2024, 3, 15), NullReporter()).facts
    assert not alone["material_move"]  # 2,000 profit on the flagged trade alone


def test_history_reads_the_position_and_the_same_size_trades(tmp_path):
    rows = [["T1", "2023-01-10", "ACME", "BUY", 6_000, 9.0, "X"],   # older than the baseline year: still held
            ["T1", "2023-09-01", "ACME", "BUY", 2_000, 9.5, "X"],
            ["T1", "2023-10-01", "ACME", "SELL", 2_000, 9.6, "X"],
            ["T1", "2023-11-01", "ACME", "SELL", 2_100, 9.6, "X"],
            ["T1", "2024-01-05", "QRTZ", "BUY", 500, 70.0, "Y"]]
    ds = Dataset(write_data(tmp_path, trader_history=rows + _trades(5)))
    facts = trader.history(ds, "T1", "ACME", TRADE_DAY, "SELL", 2_000, NullReporter()).facts
    assert facts["position_before"] == 3_900 and facts["exit_share"] == round(2_000 / 3_900, 3)
    assert [t["qty"] for t in facts["same_size_trades"]] == [2_000, 2_100]
    assert facts["symbol_trades"] == 3  # in the baseline year
    assert trader.history(ds, "T1", "ACME", TRADE_DAY, "BUY", 2_000, NullReporter()).facts["exit_share"] is None


def test_peers_without_coverage_are_a_gap_not_a_red_flag(tmp_path):
    ds = Dataset(write_data(tmp_path, peer_trades=[["P1", "2024-01-02", "QRTZ", "BUY", 100, 70.0, "retail"]]))
    ev = peers.activity(ds, "T1", "ACME", TRADE_DAY, "BUY", NullReporter())
    assert ev.facts["coverage"] is False and "no ACME trades at all" in ev.gaps["window"]
    assert "none found" in ev.citations["window"].note


NEWS = """===== ACME News Timeline =====
2024-02-10 09:00 - Reuters: Acme Widgets agrees to be acquired by Bigco at a premium
2024-03-01 09:00 - Company filing: Acme Widgets to report results on March 20
2024-03-04 09:00 - Trade Weekly: Widget makers rally on takeover speculation
2024-03-05 09:00 - Reuters: Acme Widgets said to explore sale - sources
2024-03-06 09:00 - Company filing: Acme Widgets wins large contract
2024-03-07 09:00 - Company filing: Acme Widgets receives takeover approach from Bigco
2024-03-08 09:00 - S&P Dow Jones Indices: Acme Widgets to join S&P 500
2024-03-13 07:00 - Company filing: Acme Widgets confirms takeover talks
2024-03-13 09:00 - Reuters: Acme Widgets in takeover talks with Bigco
2024-03-20 07:00 - Company filing: Acme Widgets agrees takeover by Bigco
"""


def test_each_headline_is_judged_by_issuer_nature_direction_and_timing(tmp_path):
    ds = Dataset(write_data(tmp_path, news=NEWS, instruments=[["ACME", "Acme Widgets plc", "Industrials"]]))
    event = insider_alert(event_date=date(2024, 3, 20)).related_event
    facts = news.timeline(ds, "ACME", TRADE_DAY, "BUY", event, NullReporter()).facts
    kinds = {j["headline"].split("”")[0].lstrip("“"): j["judged"] for j in facts["judged"]}
    assert kinds == {
        "Acme Widgets agrees to be acquired by Bigco at a premium": "stale",        # 32 days: beyond 14
        "Acme Widgets to report results on March 20": "scheduling",
        "Widget makers rally on takeover speculation": "not_issuer",               # sector chatter
        "Acme Widgets said to explore sale - sources": "reported",                 # unconfirmed, the event's matter
        "Acme Widgets wins large contract": "direction",                           # another nature, explains a BUY
        "Acme Widgets receives takeover approach from Bigco": "disclosed",         # the event's nature
        "Acme Widgets to join S&P 500": "index",
        "Acme Widgets confirms takeover talks": "disclosed",                       # before the trade day's open
        "Acme Widgets in takeover talks with Bigco": "same_day",                   # after the open: order unknown
    }
    assert facts["first_after"].startswith("“Acme Widgets agrees takeover by Bigco”")
    assert facts["disclosed_before"][0].startswith("“Acme Widgets receives takeover approach from Bigco” "
                                                   "(Company filing, 2024-03-07 09:00): published through an "
                                                   "official channel")
    assert not facts["news_silence"]


def test_a_symbol_without_any_news_is_a_gap_not_silence(tmp_path):
    ds = Dataset(write_data(tmp_path, news="===== QRTZ News Timeline =====\n2024-03-01 09:00 - X: Quartz news\n"))
    ev = news.timeline(ds, "ACME", TRADE_DAY, "BUY", None, NullReporter())
    assert ev.facts["news_silence"] is False and "no ACME news at all" in ev.gaps["window"]


def test_without_the_instruments_file_headlines_are_matched_on_the_symbol(tmp_path):
    ds = Dataset(write_data(tmp_path, news="===== ACME News Timeline =====\n"
                                           "2024-03-06 09:00 - Reuters: Acme Widgets wins contract\n"
                                           "2024-03-07 09:00 - Reuters: ACME wins contract\n"))
    facts = news.timeline(ds, "ACME", TRADE_DAY, "BUY", None, NullReporter()).facts
    assert [j["judged"] for j in facts["judged"]] == ["not_issuer", "direction"]
