"""What the insider-dealing specialist writes, exactly: each rule's finding (the detail an analyst reads on the
card and in the STOR), the case description and the alert's own indicators, on one minimal case per branch.

An exact string pins every word, number format and optional part at once; the few conditions that decide which
text (or whether any) is written are pinned at their boundaries beside it. Found by mutation testing (issue 16).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from agents import insider_dealing
from agents.alerts import Trader
from agents.data import Dataset
from agents.evidence import Citation, Evidence
from agents.investigation import ALERT
from tests.rules_support import TRADE_DAY, case_of, fired, insider_alert, write_data


def detail(rule: str, overrides: dict | None = None, **alert) -> str | None:
    """The detail of ``rule``'s finding on the minimal case, or None when it does not fire."""
    findings = case_of("insider", insider_alert(**alert), overrides).findings_from_rules()
    return next((f.detail for f in findings if f.rule == rule), None)


def days(n: int) -> date:
    return TRADE_DAY + timedelta(days=n)


TRANCHES = [{"date": "2024-02-27", "side": "BUY", "qty": 1_000, "price": 9.0, "line": 5},
            {"date": "2024-03-01", "side": "SELL", "qty": 500, "price": 9.5, "line": 6},   # the other side: no tranche
            {"date": "2024-03-04", "side": "buy", "qty": 1_000, "price": 9.2, "line": 7}]  # the file's case is free
BOOK = {"exit_share": 1.0, "position_before": 10_000, "book_wide_exit": True, "flagged_share_of_day": 0.2,
        "book_exits": [{"symbol": "OTH0", "qty": 20_000, "held": 20_000}, {"symbol": "OTH1", "qty": 15_000,
                                                                            "held": 18_000}]}
PLAN = {"text": "10b5-1 plan: sell 10,000 ACME monthly", "adopted": "2023-09-15", "side": "SELL"}
UNDER_PLAN = [{"date": "2023-10-16", "qty": 10_000, "line": 3}, {"date": "2023-11-15", "qty": 10_000, "line": 4}]


# ----------------------------------------------------------------------------- every rule's finding, exactly

TEXTS = [
    ("ID-R1", {}, {"trader_profile": {"no_trading_allowed": True, "restriction": "No trading allowed"}},
     "Profile restricts the trader: “No trading allowed” (Trader, Cash)."),
    ("ID-R2", {}, {"trader_profile": {"symbol_restricted": True, "restriction": "Restricted list: ACME"}},
     "ACME is named in a restriction: “Restricted list: ACME”."),
    ("ID-R3", {}, {"trader_profile": {"inside_information_access": True, "access_level": "HIGH"}},
     "Trader in Cash with HIGH access level."),
    ("ID-R4", {"event_date": days(3)}, {},
     "Traded 3 days before the M&A Announcement on 2024-03-16 (inside the 7-day window)."),
    ("ID-R4", {"event_date": days(1)}, {},
     "Traded 1 day before the M&A Announcement on 2024-03-14 (inside the 7-day window)."),
    ("ID-R4", {"event_date": days(0)}, {},
     "Traded on the day of the M&A Announcement on 2024-03-13 (inside the 7-day window)."),
    ("ID-R4", {"event_date": days(7)}, {},
     "Traded 7 days before the M&A Announcement on 2024-03-20 (inside the 7-day window)."),
    ("ID-R4", {"event_date": days(8)}, {},
     "Traded 8 days before the M&A Announcement on 2024-03-21 (in the run-up: weight 17 of 20, decaying with "
     "distance)."),
    ("ID-R4", {"event_date": days(30)}, {},
     "Traded 30 days before the M&A Announcement on 2024-04-12 (in the run-up: weight 4 of 20, decaying with "
     "distance)."),
    ("ID-R5", {}, {"news": {"news_silence": True}},
     "No public M&A news about ACME — disclosed or reported — nor any explaining a BUY, in the 14 days before the "
     "trade."),
    ("ID-R5", {"side": "SELL"}, {"news": {"news_silence": True, "event_nature": None,
                                          "set_aside": ["s1", "s2", "s3", "s4", "s5"],
                                          "first_after": "“Acme agrees takeover” (RNS, 2024-03-20 07:00)"}},
     "No public news about ACME — disclosed or reported — nor any explaining a SELL, in the 14 days before the "
     "trade; set aside: s1; s2; s3; s4; the first issuer news came after the trade: “Acme agrees takeover” (RNS, "
     "2024-03-20 07:00)."),
    ("ID-R6", {}, {"trader_history": {"zscore": 3.04}},
     "10,000 shares is 3.0× the trader's average of 3,333 (z = 3.0) over 20 trades."),
    ("ID-R6", {}, {"trader_history": {"size_ratio": 6.0, "zscore": None, "avg_qty": 2_000.0, "trades": 12,
                                      "position_built": 12_000, "run_up_trades": TRANCHES}},
     "12,000 shares (the flagged 10,000 and 2 tranches in the run-up) is 6.0× the trader's average of 2,000 over "
     "12 trades."),
    ("ID-R6", {}, {"trader_history": {"size_ratio": 5.5, "zscore": None, "avg_qty": 2_000.0, "trades": 15,
                                      "position_built": 11_000, "run_up_trades": TRANCHES[:2]}},
     "11,000 shares (the flagged 10,000 and 1 tranche in the run-up) is 5.5× the trader's average of 2,000 over "
     "15 trades."),
    ("ID-R7", {}, {"trader_history": {"first_time_symbol": True}},
     "No trade in ACME among 20 trades from 2023-03-14 to 2024-03-13, and no position held."),
    ("ID-R8", {}, {"trader_history": {"first_time_sector": True, "symbol_sector": "Tech",
                                      "sectors": ["Energy", "Banks"]}},
     "Sector Tech is new; the trader's sectors were Energy, Banks."),
    ("ID-R9", {}, {"market_data": {"material_move": True, "move_pct": 8.04, "reference_close": 10.8,
                                   "profit_or_loss_avoided": 8_000.4, "position_qty": 10_000, "position_price": 10.0}},
     "Price moved +8.0% from the trade price to 10.80 on 2024-06-28 (test): profit of 8,000."),
    ("ID-R9", {"side": "SELL"}, {"market_data": {"material_move": True, "move_pct": -9.0, "reference_close": 8.6,
                                                 "profit_or_loss_avoided": 17_000.0, "position_qty": 12_000,
                                                 "position_price": 9.45}},
     "Price moved -9.0% from the 12,000 shares' average price 9.45 (the position built in the run-up) to 8.60 on "
     "2024-06-28 (test): loss avoided of 17,000."),
    ("ID-R10", {"side": "SELL"}, {"peer_trades": {"peers_same_side": 0}},
     "No other trader selling ACME within ±3 days, in a symbol the peer file covers."),
    ("ID-R11", {"side": "SELL"}, {"trader_history": {"exit_share": 0.8, "position_before": 12_500}},
     "Sold 10,000 of the 12,500 shares the history shows held (80%): an exit, not a trim."),
    ("ID-R12", {"estimated_profit": 25_000.0}, {"market_data": {"reference_date": None}},
     "The alert estimates a profit of 25,000; the market data could not measure the outcome, so the system's "
     "figure is the only one."),
    ("ID-R13", {"score": 93.4}, {}, "Anomaly score 93 (≥ 90)."),
    ("ID-M1", {}, {"news": {"disclosed_before": ["“Acme confirms talks” (RNS, 2024-03-07 09:00): official"]}},
     "“Acme confirms talks” (RNS, 2024-03-07 09:00): official."),
    ("ID-M2", {}, {"peer_trades": {"peers_same_side": 4, "same_side_qty": 12_345}},
     "4 other traders buying within ±3 days (12,345 shares)."),
    ("ID-M3", {}, {"trader_history": {"size_ratio": 1.5, "symbol_trades": 4}},
     "Size 1.5× the trader's average in a symbol they trade regularly (4 earlier trades in the year)."),
    ("ID-M5", {}, {"market_data": {"high_vix": True, "vix": 31.3}}, "VIX was 31.3 on the trade date."),
    ("ID-M6", {}, {"news": {"direction_before": ["“Acme wins contract” (Reuters, 2024-03-06 09:00): explains"]}},
     "“Acme wins contract” (Reuters, 2024-03-06 09:00): explains."),
    ("ID-M7", {}, {"news": {"reported_before": ["“Acme said to explore sale” (Reuters, 2024-03-05): rumour"]}},
     "“Acme said to explore sale” (Reuters, 2024-03-05): rumour."),
    ("ID-M8", {"side": "SELL", "event_date": days(45)},
     {"trader_profile": {"plan": PLAN}, "trader_history": {"same_size_trades": UNDER_PLAN}},
     "The trade follows a documented plan: “10b5-1 plan: sell 10,000 ACME monthly”. Adopted 2023-09-15, 180 days "
     "before the trade (cooling-off 30 days); 2 earlier trades of the same side and size under it before the "
     "event's run-up (2023-10-16, 2023-11-15): the plan, not the trader, set this trade's timing and size."),
    ("ID-M8", {"side": "SELL", "event_date": days(45)},
     {"trader_profile": {"plan": {**PLAN, "side": None}, "officer": True},
      "trader_history": {"same_size_trades": UNDER_PLAN}},
     "The trade follows a documented plan: “10b5-1 plan: sell 10,000 ACME monthly”. Adopted 2023-09-15, 180 days "
     "before the trade (cooling-off 90 days); 2 earlier trades of the same side and size under it before the "
     "event's run-up (2023-10-16, 2023-11-15): the plan, not the trader, set this trade's timing and size."),
    ("ID-M9", {}, {"trader_profile": {"index_tracking": True, "role": "Index PM", "department": "Passive"},
                   "news": {"index_changes": [{"headline": "“ACME to leave the FTSE 250”", "tone": "negative"},
                                              {"headline": "“ACME to join the FTSE 100”", "tone": "positive"}]}},
     "Index PM in Passive tracks an index, and the index change was public: “ACME to join the FTSE 100”; an "
     "index-tracking BUY follows it."),
    ("ID-M10", {"side": "SELL"}, {"trader_history": BOOK},
     "The same day the trader also sold out of 2 other positions (OTH0 20,000 of 20,000, OTH1 15,000 of 18,000); "
     "this sale is 20% of the value sold out that day: the book was sold, not this holding singled out. Trader in "
     "Cash, with no access to inside information and no office on record."),
]


def _ids(table: list[tuple]):
    """ID-R4, ID-R4.2, ...: a rule's cases in the order of the table."""
    seen: dict[str, int] = {}
    for rule, *_ in table:
        seen[rule] = seen.get(rule, 0) + 1
        yield rule if seen[rule] == 1 else f"{rule}.{seen[rule]}"


@pytest.mark.parametrize(("rule", "alert", "overrides", "expected"), TEXTS, ids=list(_ids(TEXTS)))
def test_each_rule_writes_exactly_what_the_analyst_reads(rule, alert, overrides, expected):
    assert detail(rule, overrides, **alert) == expected


def test_a_move_against_the_position_is_told_as_a_loss():
    """ID-M4: the same measured outcome as ID-R9 (see test_each_rule_writes_exactly_what_the_analyst_reads), told as
    a loss to the trader."""
    text = detail("ID-M4", {"market_data": {"favourable_move": False, "material_move": True, "move_pct": -6.0,
                                            "reference_close": 9.4, "profit_or_loss_avoided": -6_000.0}})
    assert text.startswith("Price moved against the position, -6.0% from the trade price to 9.40 on 2024-06-28 "
                           "(test): ")
    assert text.endswith("(test): a loss of 6,000 to the trader.")  # never "a profit of -6,000"
    sale = detail("ID-M4", {"market_data": {"favourable_move": False, "material_move": True, "move_pct": 6.0,
                                            "reference_close": 10.6, "profit_or_loss_avoided": -6_000.0}}, side="SELL")
    assert sale.endswith("(test): a gain forgone of 6,000 to the trader.")  # never "a loss avoided of -6,000"


# ----------------------------------------------------------------------------- what decides whether a rule writes

def test_a_size_far_outside_counts_only_the_run_up_tranches_on_the_flagged_side():
    """ID-R6 sums the flagged trade and the same-side trades of the run-up, whatever case the file writes the side
    in; a tranche on the other side (a partial sale) is no part of the position built."""
    sell = detail("ID-R6", {"trader_history": {"size_ratio": 6.0, "zscore": None, "position_built": 10_500,
                                               "run_up_trades": TRANCHES}}, side="SELL")
    assert sell.startswith("10,500 shares (the flagged 10,000 and 1 tranche in the run-up) is 6.0×")


def test_a_book_wide_sale_needs_a_sale_an_exit_and_a_book_wide_day():
    """ID-M10: a purchase is never a book sale; nor is an exit on a day whose other exits are not book-wide (two
    token sales, or a flagged sale that is the bulk of the day's value)."""
    assert "ID-M10" in fired("insider", insider_alert(side="SELL"), {"trader_history": BOOK})
    assert "ID-M10" not in fired("insider", insider_alert(side="BUY"), {"trader_history": BOOK})
    not_book_wide = {"trader_history": {**BOOK, "book_wide_exit": False}}
    assert "ID-M10" not in fired("insider", insider_alert(side="SELL"), not_book_wide)


@pytest.mark.parametrize(("profile", "fires"), [
    ({}, True),
    ({"inside_information_access": True}, False),
    ({"officer": True}, False),
])
def test_a_book_wide_sale_explains_nothing_for_an_insider_or_an_officer(profile, fires):
    found = fired("insider", insider_alert(side="SELL"), {"trader_history": BOOK, "trader_profile": profile})
    assert ("ID-M10" in found) is fires


def test_a_book_wide_sale_explains_nothing_without_the_profile():
    """Without the profile nobody can say the trader had no access and no office: no mitigation."""
    assert "ID-M10" not in fired("insider", insider_alert(side="SELL"), {"trader_history": BOOK},
                                 failed=("trader_profile",))


@pytest.mark.parametrize(("exits", "ends"), [
    (8, "OTH7 1,000 of 1,000); this sale"),      # eight: all named
    (9, "OTH7 1,000 of 1,000 …); this sale"),    # nine: the first eight, and a mark that there are more
])
def test_a_book_wide_sale_names_at_most_eight_other_positions(exits, ends):
    book = {**BOOK, "book_exits": [{"symbol": f"OTH{i}", "qty": 1_000, "held": 1_000} for i in range(exits)]}
    text = detail("ID-M10", {"trader_history": book}, side="SELL")
    assert text.startswith(f"The same day the trader also sold out of {exits} other positions (OTH0 1,000 of 1,000, ")
    assert ends in text and "OTH8" not in text


def test_a_plans_record_counts_trades_after_its_adoption_and_before_the_run_up():
    """ID-M8: a trade on the day the plan was adopted was not made under it, and one on the run-up's first day
    (30 days before the event) is inside the run-up; neither shows good faith."""
    adopted = TRADE_DAY - timedelta(days=200)
    event = days(10)
    run_up = insider_dealing.run_up_start(insider_alert(event_date=event))

    def plan_with(*trade_dates: date) -> dict:
        return {"trader_profile": {"plan": {**PLAN, "adopted": adopted.isoformat()}},
                "trader_history": {"same_size_trades": [{"date": d.isoformat(), "qty": 10_000, "line": 2 + i}
                                                        for i, d in enumerate(trade_dates)]}}

    middle = adopted + timedelta(days=60)
    assert "ID-M8" in fired("insider", insider_alert(side="SELL", event_date=event),
                            plan_with(adopted + timedelta(days=1), middle))
    assert "ID-M8" not in fired("insider", insider_alert(side="SELL", event_date=event), plan_with(adopted, middle))
    assert "ID-M8" in fired("insider", insider_alert(side="SELL", event_date=event),
                            plan_with(middle, run_up - timedelta(days=1)))
    assert "ID-M8" not in fired("insider", insider_alert(side="SELL", event_date=event), plan_with(middle, run_up))


def test_a_plan_without_a_readable_adoption_date_explains_nothing():
    overrides = {"trader_profile": {"plan": {**PLAN, "adopted": None}},
                 "trader_history": {"same_size_trades": UNDER_PLAN}}
    assert "ID-M8" not in fired("insider", insider_alert(side="SELL", event_date=days(45)), overrides)


def test_a_plans_record_quotes_at_most_six_dates():
    dates = ("2023-09-20", "2023-10-01", "2023-11-01", "2023-12-01", "2024-01-01", "2024-02-01", "2024-03-01")
    trades = [{"date": d, "qty": 10_000, "line": 2 + i} for i, d in enumerate(dates)]
    text = detail("ID-M8", {"trader_profile": {"plan": PLAN}, "trader_history": {"same_size_trades": trades}},
                  side="SELL", event_date=days(45))
    assert "7 earlier trades of the same side and size" in text
    assert "(2023-09-20, 2023-10-01, 2023-11-01, 2023-12-01, 2024-01-01, 2024-02-01 …)" in text  # cut short: says so
    six = detail("ID-M8", {"trader_profile": {"plan": PLAN}, "trader_history": {"same_size_trades": trades[:6]}},
                 side="SELL", event_date=days(45))
    assert "(2023-09-20, 2023-10-01, 2023-11-01, 2023-12-01, 2024-01-01, 2024-02-01)" in six  # all of them: no mark


# ----------------------------------------------------------------------------- the case as the analyst opens it

def _profile(ok: bool = True) -> dict[str, Evidence]:
    if not ok:
        return {"trader_profile": Evidence.failed("trader_profile", "Trader profile", "down")}
    return {"trader_profile": Evidence(tool="trader_profile", title="Trader profile",
                                       facts={"role": "Analyst", "department": "M&A"})}


def test_the_case_description_names_the_trader_the_trade_and_the_event():
    alert = insider_alert(event_date=days(3))
    assert insider_dealing.describe(alert, _profile()) == (
        "Test Trader (T1, Analyst in M&A) bought 10,000 ACME at 10.00 (value 100,000) on 2024-03-13, 3 days before "
        "the M&A Announcement on 2024-03-16 (test event).")
    one_day = insider_alert(event_date=days(1), side="SELL", quantity=1_234_567)
    assert insider_dealing.describe(one_day, _profile()) == (
        "Test Trader (T1, Analyst in M&A) sold 1,234,567 ACME at 10.00 (value 12,345,670) on 2024-03-13, 1 day "
        "before the M&A Announcement on 2024-03-14 (test event).")


def test_the_case_description_without_a_name_a_profile_or_an_event_description():
    alert = insider_alert(side="SELL", event_date=days(-2))
    alert = alert.model_copy(update={"trader": Trader(trader_id="T7"),
                                     "related_event": alert.related_event.model_copy(update={"description": None})})
    expected = ("Trader T7 sold 10,000 ACME at 10.00 (value 100,000) on 2024-03-13, after the M&A Announcement on "
                "2024-03-11.")
    assert insider_dealing.describe(alert, _profile(ok=False)) == expected
    assert insider_dealing.describe(alert, {}) == expected
    assert insider_dealing.describe(insider_alert(event_date=None), {}) == (
        "Test Trader (T1) bought 10,000 ACME at 10.00 (value 100,000) on 2024-03-13.")


def test_a_trade_on_the_events_day_is_not_described_as_after_it():
    text = insider_dealing.describe(insider_alert(event_date=days(0)), {})
    assert "on 2024-03-13, on the day of the M&A Announcement on 2024-03-13" in text and "after" not in text
    assert "0 days" not in text


def test_an_unnamed_trader_is_named_by_id_once_with_the_profiles_role():
    alert = insider_alert(event_date=None).model_copy(update={"trader": Trader(trader_id="T7")})
    assert insider_dealing.describe(alert, _profile()).startswith("Trader T7 (Analyst in M&A) bought 10,000 ACME")


@pytest.mark.parametrize(("days_after", "said"), [(3, "3 days after the trade"), (1, "1 day after the trade"),
                                                  (0, "the day of the trade"), (-2, "2 days before the trade")])
def test_the_indicators_say_where_the_event_falls_from_the_trade_in_words(days_after, said):
    ev = insider_dealing.indicators(insider_alert(event_date=days(days_after)))
    assert ev.summary.endswith(f"; event {days(days_after)}, {said}.")


def test_the_alerts_own_indicators_are_evidence_with_their_citations():
    ev = insider_dealing.indicators(insider_alert(score=87.5, estimated_profit=12_345.6, event_date=days(3)))
    assert ev == Evidence(
        tool=ALERT, title="Surveillance indicators",
        summary="Anomaly score 87.5; estimated profit 12,346; event 2024-03-16, 3 days after the trade.",
        facts={"anomaly_score": 87.5, "estimated_profit": 12_345.6, "days_before_event": 3},
        citations={
            "anomaly_score": Citation(source="alert", elements=("AnomalyIndicators/AnomalyScore",),
                                      note="the surveillance system's anomaly score"),
            "estimated_profit": Citation(source="alert", elements=("AnomalyIndicators/EstimatedProfit",),
                                         note="the surveillance system's profit estimate"),
            "timing": Citation(source="alert", elements=("SuspiciousActivity/TradeDate", "RelatedEvent/EventDate"),
                               note="trade date and event date")})
    assert insider_dealing.indicators(insider_alert(event_date=days(1))).summary == \
        "Anomaly score 50.0; event 2024-03-14, 1 day after the trade."


def test_indicators_the_alert_leaves_out_are_said_to_be_missing_and_cite_nothing():
    """A zero profit estimate is a figure (cited) but not worth a word in the summary; no score, no event: nothing."""
    zero = insider_dealing.indicators(insider_alert(estimated_profit=0.0, event_date=None))
    assert (zero.summary, set(zero.citations)) == ("Anomaly score 50.0.", {"anomaly_score", "estimated_profit"})
    bare = insider_dealing.indicators(insider_alert(score=None, estimated_profit=None, event_date=None))
    assert (bare.summary, bare.facts, bare.citations) == (
        "Anomaly score not given.", {"anomaly_score": None, "estimated_profit": None, "days_before_event": None}, {})


# ----------------------------------------------------------------------------- the run-up tranches the outcome reads

def test_the_outcome_is_measured_on_the_traders_same_side_trades_in_the_run_up(tmp_path):
    """The market step's ``lots``: this trader's trades in this symbol, on the flagged side, from the run-up's start
    (30 days before the event) to the trade; not another trader's, another symbol's, the other side's or older ones."""
    rows = [["T1", "2024-02-01", "ACME", "BUY", 3_000, 8.5, "X"],    # before the run-up (it starts 2024-02-22)
            ["T1", "2024-02-27", "ACME", "BUY", 2_500, 9.0, "X"],    # a tranche
            ["T1", "2024-03-01", "ACME", "SELL", 1_000, 9.5, "X"],   # the other side
            ["T2", "2024-03-04", "ACME", "BUY", 4_000, 9.2, "X"],    # another trader
            ["T1", "2024-03-05", "QRTZ", "BUY", 5_000, 70.0, "Y"],   # another symbol
            ["T1", "2024-03-13", "ACME", "BUY", 6_000, 9.9, "X"]]    # the trade date: the flagged trade's own day
    ds = Dataset(write_data(tmp_path, trader_history=rows))
    alert = insider_alert(event_date=days(10))
    assert insider_dealing._lots(ds, alert) == [{"date": "2024-02-27", "qty": 2_500, "price": 9.0, "line": 3}]
    assert insider_dealing._lots(ds, insider_alert(event_date=days(45))) == []   # no run-up: the trade alone


def test_without_a_trading_history_the_outcome_is_the_flagged_trade_alone(tmp_path):
    assert insider_dealing._lots(Dataset(tmp_path), insider_alert(event_date=days(10))) == []
