"""What an analyst reads from the wash-trade specialist, exactly: each rule's finding on a minimal case per branch,
the alert's own indicators (figures, summary, citations), and the description of the legs that opens the rationale
and the STOR. One exact string per branch pins every word, number format and optional clause; the conditions that
keep a text from appearing where its claim would be false are pinned beside it."""

from __future__ import annotations

import pytest

from agents import wash_trade
from agents.evidence import Citation, Evidence
from agents.investigation import ALERT
from tests.rules_support import case_of, fired, wash_alert

REL, PATTERN, HISTORY, DAY = "account_relationships", "trade_pattern", "related_accounts_history", "volume_impact"
UNRELATED = {"linked_pairs": [], "management_links": []}   # separately owned (neutral owners X, Y), nothing linking
SAME_OWNER = {"same_beneficial_owner": True, "linked_pairs": [], "owners": {"A": "Kim Lee (BO-1)",
                                                                           "B": "Kim Lee (BO-1)"}}
EXEMPT_BOOKS = {**SAME_OWNER, "exempt_book": True, "relationship_types": {"A": "Market Making", "B": "Hedge Book"}}
FUNDS = {"owners": {"A": "Growth Fund (1)", "B": "Income Fund (2)"}, "linked_pairs": [],
         "management_links": ["A↔B"], "relationship_types": {"A": "fund", "B": "fund"}, "all_funds": True}
THREE_FUNDS = {**FUNDS, "owners": {"A": "Growth Fund (1)", "B": "Income Fund (2)", "C": "Bond Fund (3)"},
               "management_links": [], "relationship_types": {"A": "fund", "B": "fund", "C": "fund"}}
REPEATED = {"offsetting_pairs": 3, "dates": ["2024-03-01", "2024-03-05"]}
ONE_WAY = {**REPEATED, "two_way": False, "flows": ["A→B", "A→C"]}


def details(overrides: dict | None = None, alert=None, failed: tuple[str, ...] = ()) -> dict[str, str]:
    """Each fired rule's detail on the minimal case."""
    case = case_of("wash", alert or wash_alert(), overrides, failed)
    return {f.rule: f.detail for f in case.findings_from_rules() if f.rule != "GAP"}


# ----------------------------------------------------------------------------- every rule's text, per branch

# (rule, tool facts changed from the neutral case, the alert's arguments, the exact detail)
RULE_TEXTS = [
    ("WT-R1", {REL: SAME_OWNER}, {}, "A: Kim Lee (BO-1); B: Kim Lee (BO-1)."),
    ("WT-R2", {REL: {"linked_pairs": ["A↔B", "A↔C"]}}, {}, "Linked accounts: A↔B, A↔C."),
    ("WT-R3", {PATTERN: {"same_price": True, "flagged_quantity": 12_000}}, {},
     "Buy and sell legs match in quantity and price (12,000 shares flagged)."),
    ("WT-R4", {PATTERN: {"min_seconds_apart": 0.25}}, {},
     "The legs were 250 ms apart, consistent with pre-arrangement."),
    ("WT-R5", {PATTERN: {"min_seconds_apart": 30.0}}, {}, "The legs were 30.0 s apart."),
    ("WT-R6", {HISTORY: REPEATED}, {},
     "3 offsetting pairs between these accounts since 2024-02-12, on 2024-03-01, 2024-03-05."),
    ("WT-R6", {HISTORY: ONE_WAY}, {},   # linked accounts (neutral): one-way pairs are a pattern too
     "3 offsetting pairs between these accounts since 2024-02-12, on 2024-03-01, 2024-03-05, all one way (A→B, "
     "A→C) — between one owner's accounts (or linked ones) a transfer in either direction leaves the beneficial "
     "ownership where it was."),
    ("WT-R6", {REL: EXEMPT_BOOKS, HISTORY: REPEATED}, {},
     "3 offsetting pairs between these accounts since 2024-02-12, on 2024-03-01, 2024-03-05; the accounts are exempt "
     "books, but a pattern is not what the exemption covers."),
    ("WT-R6", {REL: EXEMPT_BOOKS, HISTORY: ONE_WAY}, {},
     "3 offsetting pairs between these accounts since 2024-02-12, on 2024-03-01, 2024-03-05, all one way (A→B, "
     "A→C) — between one owner's accounts (or linked ones) a transfer in either direction leaves the beneficial "
     "ownership where it was; the accounts are exempt books, but a pattern is not what the exemption covers."),
    ("WT-R7", {DAY: {"volume_share_pct": 7.46, "daily_volume": 1_250_000}}, {},
     "7.5% of the 1,250,000 shares traded that day."),
    ("WT-R8", {HISTORY: {"round_trip": True, "net_by_account": {"A": 1_000, "B": -1_000},
                         "traded_by_account": {"A": 3_000, "B": 3_000}}}, {},
     "Each account both bought and sold, the larger direction at most 2× the smaller, over 2 offsetting pairs (net "
     "change of what it traded: A +1,000 of 3,000, B -1,000 of 3,000)."),
    ("WT-M1", {REL: EXEMPT_BOOKS}, {}, "Accounts are A Market Making, B Hedge Book of one firm."),
    ("WT-M1", {REL: EXEMPT_BOOKS, HISTORY: ONE_WAY}, {},
     "Accounts are A Market Making, B Hedge Book of one firm; their pairs go one way, a transfer between the books: "
     "it weighs, but a pattern is never closed on the exemption (WT-G2)."),
    ("WT-M2", {REL: UNRELATED}, {}, "A: X (1); B: Y (2); no repeated pairs between them contradict the record."),
    ("WT-M3", {PATTERN: {"min_seconds_apart": 600.0}}, {}, "The legs were 10 minutes apart."),
    ("WT-M4", {HISTORY: {"offsetting_pairs": 1}}, {}, "No other offsetting pairs between these accounts since "
                                                      "2024-02-12."),
    ("WT-M4", {REL: UNRELATED, HISTORY: ONE_WAY}, {},   # separately owned, unlinked: one-way pairs are allocations
     "3 pairs since 2024-02-12, all one way (A→B, A→C): between separately owned, unlinked accounts each moved the "
     "shares to the buyer — changes of ownership (allocations), not trades that go back and forth."),
    ("WT-R10", {}, {"score": 93.6}, "Anomaly score 94 (≥ 90)."),
    ("WT-M5", {}, {}, "The buy and sell legs were priced differently."),
    ("WT-M6", {REL: FUNDS}, {},
     "Funds with different beneficial owners (A: Growth Fund (1); B: Income Fund (2); linked only by their manager: "
     "A↔B) crossed within the day's range of 19.50–20.50: beneficial ownership changed, at the market price."),
    ("WT-M6", {REL: {**FUNDS, "management_links": ["A↔B", "A↔C"]}}, {},
     "Funds with different beneficial owners (A: Growth Fund (1); B: Income Fund (2); linked only by their manager: "
     "A↔B, A↔C) crossed within the day's range of 19.50–20.50: beneficial ownership changed, at the market price."),
    ("WT-M6", {REL: THREE_FUNDS, DAY: {"low": 1_234.5, "high": 2_000.0}}, {"buy_price": 1_500.0, "sell_price": 1_500.0},
     "Funds with different beneficial owners (A: Growth Fund (1); B: Income Fund (2); C: Bond Fund (3)) crossed "
     "within the day's range of 1,234.50–2,000.00: beneficial ownership changed, at the market price."),
]


@pytest.mark.parametrize(("rule", "overrides", "alert", "detail"), RULE_TEXTS)
def test_each_wash_rule_writes_exactly_what_it_found(rule, overrides, alert, detail):
    assert details(overrides, wash_alert(**alert))[rule] == detail


def test_the_alerts_volume_share_stands_in_with_its_own_text_when_market_data_has_no_row():
    alert = wash_alert(volume_impact="5.00%")
    assert details(alert=alert, failed=(DAY,))["WT-R9"] == (
        "By the alert's own figures the flagged trades were 5.0% of the day's volume; the market data has no row for "
        "the day to check it.")


# ----------------------------------------------------------------------------- texts kept from false claims

@pytest.mark.parametrize("relationships", [
    {**FUNDS, "same_beneficial_owner": True},      # one owner behind both funds: no change of ownership
    {**FUNDS, "linked_pairs": ["A↔B"]},            # an ownership link, not only a shared manager
    {**FUNDS, "missing_accounts": ["C"]},          # an account not on record: ownership unknown
    {**FUNDS, "all_funds": False},                 # not every account is a fund
])
def test_a_fund_cross_is_claimed_only_between_separately_owned_unlinked_funds_all_on_record(relationships):
    assert "WT-M6" not in fired("wash", wash_alert(), {REL: relationships})


def test_unrelated_owners_are_claimed_only_when_every_account_is_on_record():
    """README WT-M2: all accounts found. (The relationships tool also marks such evidence failed; the rule's own
    condition must hold on its own.)"""
    assert fired("wash", wash_alert(), {REL: UNRELATED})["WT-M2"] == -20
    assert "WT-M2" not in fired("wash", wash_alert(), {REL: {**UNRELATED, "missing_accounts": ["C"]}})


def test_without_the_history_no_pattern_is_found_and_the_ownership_rules_still_apply():
    """The history tool failed: WT-R6 cannot fire (README: WT-M1 and WT-M2 need only that it did not)."""
    no_history = fired("wash", wash_alert(), {REL: UNRELATED}, failed=(HISTORY,))
    assert no_history["WT-M2"] == -20 and "WT-R6" not in no_history
    books = details({REL: EXEMPT_BOOKS}, failed=(HISTORY,))
    assert books["WT-M1"] == "Accounts are A Market Making, B Hedge Book of one firm." and "WT-R6" not in books


def test_exempt_books_trading_back_and_forth_are_not_mitigated():
    assert "WT-M1" not in fired("wash", wash_alert(), {REL: EXEMPT_BOOKS, HISTORY: REPEATED})


# ----------------------------------------------------------------------------- the alert's own indicators

def _volume_citation(*elements: str) -> Citation:
    return Citation(source="alert", elements=elements,
                    note="the day's volume and flagged share as the surveillance system saw them")


SCORE_CITATION = Citation(source="alert", elements=("AlertMetadata/AnomalyScore",),
                          note="the surveillance system's anomaly score")


def test_indicators_read_the_alerts_stated_share_score_and_volume():
    assert wash_trade.indicators(wash_alert(score=93.6, volume_impact=" 1.234 % ")) == Evidence(
        tool=ALERT, title="Surveillance indicators",
        summary="Anomaly score 93.6; flagged trades 1.2% of the day's volume by the alert's figures.",
        facts={"anomaly_score": 93.6, "daily_volume": 1_000_000, "volume_share_pct": 1.23, "flagged_volume": 1_000},
        citations={"anomaly_score": SCORE_CITATION,
                   "volume": _volume_citation("WashTradeIndicators/DailyVolume", "WashTradeIndicators/VolumeImpact")})


def test_indicators_compute_the_share_from_the_daily_volume_when_none_is_stated():
    """1,000 flagged of 30,000 traded: 3.33%."""
    ev = wash_trade.indicators(wash_alert(volume_impact=None, daily_volume=30_000))
    assert ev.facts["volume_share_pct"] == 3.33
    assert ev.summary == "Anomaly score 50.0; flagged trades 3.3% of the day's volume by the alert's figures."
    assert ev.citations["volume"] == _volume_citation("WashTradeIndicators/DailyVolume")


def test_indicators_without_score_share_or_volume_say_so_and_cite_nothing():
    assert wash_trade.indicators(wash_alert(score=None, volume_impact=None, daily_volume=None)) == Evidence(
        tool=ALERT, title="Surveillance indicators", summary="Anomaly score not given.",
        facts={"anomaly_score": None, "daily_volume": None, "volume_share_pct": None, "flagged_volume": 1_000},
        citations={})


def _with_extra_leg(side: str, quantity: int):
    alert = wash_alert(volume_impact=None, daily_volume=100_000)
    extra = alert.trades[0].model_copy(update={"sequence": 3, "side": side, "quantity": quantity})
    return alert.model_copy(update={"trades": (*alert.trades, extra)})


@pytest.mark.parametrize(("side", "flagged"), [("BUY", 1_500), ("SELL", 1_500)])
def test_the_flagged_volume_is_the_larger_side_whichever_it_is(side, flagged):
    """Each share is bought once and sold once: the larger side's total, not the sum of both (2,500)."""
    ev = wash_trade.indicators(_with_extra_leg(side, 500))
    assert ev.facts["flagged_volume"] == flagged and ev.facts["volume_share_pct"] == 1.5


# ----------------------------------------------------------------------------- the description of the legs

def test_the_description_lists_every_leg_with_its_time_when_known():
    alert = wash_alert(buy_price=1_234.5, buy_time="09:30:01.250")
    first, second = alert.trades
    alert = alert.model_copy(update={"trades": (first.model_copy(update={"quantity": 12_345}),
                                                second.model_copy(update={"trade_time": None}))})
    assert wash_trade.describe(alert, {}) == ("On 2024-03-13 the flagged accounts traded ACME: #1 A BUY 12,345 ACME "
                                              "@ 1,234.50 at 09:30:01.250; #2 B SELL 1,000 ACME @ 20.00.")



def test_legs_on_several_days_each_say_their_day():
    from datetime import date

    alert = wash_alert()
    first, second = alert.trades
    third = second.model_copy(update={"sequence": 3, "trade_date": date(2024, 3, 15), "trade_time": None})
    alert = alert.model_copy(update={"trades": (first, second.model_copy(update={"trade_date": date(2024, 3, 14)}),
                                                third)})
    assert wash_trade.describe(alert, {}) == (
        "From 2024-03-13 to 2024-03-15 the flagged accounts traded ACME: #1 A BUY 1,000 ACME @ 20.00 on 2024-03-13 at "
        "10:00:00.000; #2 B SELL 1,000 ACME @ 20.00 on 2024-03-14 at 10:00:00.500; #3 B SELL 1,000 ACME @ 20.00 on "
        "2024-03-15.")


@pytest.mark.parametrize("relationship", [{}, SAME_OWNER], ids=["linked", "same owner"])
def test_one_way_pairs_between_related_accounts_are_not_called_allocations(relationship):
    """WT-M4's one-way branch speaks of separately owned, unlinked accounts: between one owner's (or linked)
    accounts, two one-way pairs (short of WT-R6's pattern) are no change of ownership and mitigate nothing."""
    found = fired("wash", wash_alert(), {REL: relationship, HISTORY: {**ONE_WAY, "offsetting_pairs": 2}})
    assert "WT-M4" not in found and "WT-R6" not in found
    assert fired("wash", wash_alert(), {REL: UNRELATED, HISTORY: {**ONE_WAY, "offsetting_pairs": 2}})["WT-M4"] == -10


def test_two_way_pairs_short_of_a_pattern_are_not_called_allocations():
    """Fewer than WT-R6's three pairs, going both ways between separately owned accounts: no pattern, and no
    change of ownership either (the shares came back) — WT-M4 says nothing."""
    found = fired("wash", wash_alert(), {REL: UNRELATED, HISTORY: {**REPEATED, "offsetting_pairs": 2, "two_way": True}})
    assert "WT-M4" not in found and "WT-R6" not in found
