"""Insider-dealing false-positive controls: the ordinary alerts a desk should close (only CLOSE is acceptable)."""

from __future__ import annotations

from datetime import timedelta

from cases.common import BASKET, CLOSE, Case, market_around
from cases.insider import _case, _world
from cases.world import World, day

PASSIVE = ("T121", "Passive Equities Desk", "Index Portfolio Manager", "Passive Equities", "MEDIUM", "")
INDEX_BASKET = {"QRTZ": ("Technology", 75.0), "SOLR": ("Energy", 16.0), "HLX": ("Consumer", 45.0),
                "PRSM": ("Financials", 62.0), "KRNL": ("Industrials", 7.8), "VRDN": ("Healthcare", 28.0)}


def index_inclusion_fund_buy() -> Case:
    name, sym, trade, event = "insider_index_inclusion_fund_buy", "MRDN", day("2024-06-21"), day("2024-06-24")
    w = _world(name, sym, "Meridian Logistics", "Industrials", trade, event, 38.00, moves={event: 0.035})
    trader = w.profile(*PASSIVE)
    w.baseline("T121", INDEX_BASKET, 60, (20_000, 120_000), trade - timedelta(days=3))
    for i, d in enumerate(("2024-06-20", "2024-06-21", "2024-06-21")):
        w.peer(f"P-84{i}", day(d), sym, "BUY", 150_000 + 20_000 * i, 37.9, "institutional")
    w.headline(sym, "2024-05-31 21:15", "S&P Dow Jones Indices", "Meridian Logistics to join S&P MidCap 400 effective "
               "prior to open on June 24")
    w.headline(sym, "2024-06-03 08:10", "Bloomberg", "Meridian Logistics shares rise on S&P MidCap 400 inclusion")
    return _case(name, "control",
                 "Typical false positive: an index fund buying a new constituent at the close before its inclusion "
                 "takes effect (S&P and FTSE changes are announced one to five weeks ahead)",
                 "The passive desk buys a new index constituent the session before the inclusion takes effect, with "
                 "other index funds; the inclusion was announced three weeks earlier. The size and the first trade "
                 "in the name are what an index-tracking mandate requires.",
                 (CLOSE,), w, trader, sym, trade, "BUY", 450_000,
                 ("Index Inclusion", event, "Meridian Logistics joins the S&P MidCap 400 effective prior to the open"),
                 score=91)


def index_deletion_fund_sale() -> Case:
    name, sym, trade, event = "insider_index_deletion_fund_sale", "HRTL", day("2024-03-15"), day("2024-03-18")
    w = _world(name, sym, "Hartwell Retail", "Consumer", trade, event, 14.20, moves={event: -0.06})
    trader = w.profile(*PASSIVE)
    w.baseline("T121", INDEX_BASKET, 60, (20_000, 120_000), trade - timedelta(days=3))
    for d in ("2023-06-16", "2023-09-15", "2023-12-15", "2024-01-19"):
        w.trade("T121", day(d), sym, "BUY", 50_000, 14.0, "Consumer")
    for i in range(3):
        w.peer(f"P-85{i}", day("2024-03-15"), sym, "SELL", 90_000 + 10_000 * i, 14.2, "institutional")
    w.headline(sym, "2024-03-06 19:30", "FTSE Russell", "Hartwell Retail to be deleted from the FTSE 250 in the March "
               "quarterly review")
    return _case(name, "control",
                 "Typical false positive: an index fund selling a deleted constituent on the eve of the effective date "
                 "of an announced index review",
                 "The passive desk sells its whole holding the session before the deletion takes effect, with other "
                 "index funds; the deletion was announced nine days earlier. A whole-position exit before a fall, "
                 "explained by the index change the mandate follows.",
                 (CLOSE,), w, trader, sym, trade, "SELL", 200_000,
                 ("Index Deletion", event, "Hartwell Retail removed from the FTSE 250 effective today"), score=84)


def plan_sale_chief_executive() -> Case:
    name, sym, trade, event = "insider_plan_sale_chief_executive", "LMTX", day("2024-06-03"), day("2024-06-06")
    w = _world(name, sym, "Lumetrix", "Technology", trade, event, 52.00, moves={event: -0.09})
    trader = w.profile("T123", "Evelyn Ross", "Chief Executive Officer", "Executive Office", "HIGH",
                       "Rule 10b5-1 trading plan adopted 2023-10-02: sell 20,000 LMTX on the first trading day of each "
                       "month; pre-clearance required")
    for d in ("2024-01-02", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"):
        w.trade("T123", day(d), sym, "SELL", 20_000, 50.0, "Technology")
    w.headline(sym, "2024-05-21 16:05", "Company filing", "Lumetrix to report quarterly results on June 6")
    return _case(name, "control",
                 "Typical false positive: an executive's sale under a Rule 10b5-1 plan adopted long before "
                 "(Rule 10b5-1(c); SEC Release 33-11138, 2022 amendments)",
                 "The chief executive sells 20,000 shares on the first trading day of the month, as her plan adopted "
                 "eight months earlier prescribes and as she did each month this year; results disappoint three days "
                 "later. The plan, not the results, timed the sale. The plan names the ticker: that is not a "
                 "restricted-list entry.",
                 (CLOSE,), w, trader, sym, trade, "SELL", 20_000,
                 ("Earnings Release", event, "Lumetrix cuts full-year guidance"), score=80)


def plan_purchase_director() -> Case:
    name, sym, trade, event = "insider_plan_purchase_director", "AQRA", day("2024-06-14"), day("2024-06-18")
    w = _world(name, sym, "Aquara Water", "Utilities", trade, event, 31.00, moves={event: 0.08})
    trader = w.profile("T124", "Samuel Ortiz", "Independent Director", "Board", "HIGH",
                       "Pre-arranged trading plan (Rule 10b5-1) adopted 2023-11-15: purchase 5,000 AQRA monthly; "
                       "restricted list: TLNT")
    for d in ("2024-02-15", "2024-03-15", "2024-04-15", "2024-05-15"):
        w.trade("T124", day(d), sym, "BUY", 5_000, 30.0, "Utilities")
    return _case(name, "control",
                 "Typical false positive: a director's monthly purchases under a pre-arranged Rule 10b5-1 plan",
                 "An independent director buys his monthly 5,000 shares under a plan adopted seven months earlier; a "
                 "contract award follows two sessions later. The profile's restricted list names another issuer.",
                 (CLOSE,), w, trader, sym, trade, "BUY", 5_000,
                 ("Contract Award", event, "Aquara Water wins 20-year municipal contract"), score=72)


def after_public_results() -> Case:
    name, sym, trade, event = "insider_after_public_results", "VNTG", day("2024-05-09"), day("2024-05-14")
    w = _world(name, sym, "Vantage Instruments", "Technology", trade, event, 64.00, moves={event: 0.06})
    trader = w.profile("T125", "Oliver Brandt", "Equity Trader", "Cash Equities", "MEDIUM", "")
    w.baseline("T125", {k: BASKET[k] for k in ("QRTZ", "SOLR", "HLX")}, 45, (2_000, 5_000), trade - timedelta(days=3))
    for d in ("2023-08-08", "2023-11-14", "2024-01-23", "2024-03-19"):
        w.trade("T125", day(d), sym, "BUY", 3_000, 60.0, "Technology")
    for i, d in enumerate(("2024-05-08", "2024-05-08", "2024-05-09", "2024-05-10")):
        w.peer(f"P-86{i}", day(d), sym, "BUY", 4_000 + 1_000 * i, 63.5)
    w.headline(sym, "2024-05-08 07:00", "Company filing", "Vantage Instruments reports record first-quarter profit, "
               "beats estimates")
    return _case(name, "control",
                 "Typical false positive: buying the day after the issuer published strong results (trading on public "
                 "information)",
                 "An equity trader buys the day after record results were published, as four other firms did; a "
                 "guidance upgrade follows at the capital markets day.",
                 (CLOSE,), w, trader, sym, trade, "BUY", 9_000,
                 ("Guidance Update", event, "Vantage Instruments raises full-year guidance at capital markets day"),
                 score=66)


def usual_trade_expected_results() -> Case:
    name, sym, trade, event = "insider_usual_trade_expected_results", "NVSY", day("2024-04-22"), day("2024-04-25")
    w = _world(name, sym, "Novasys", "Technology", trade, event, 212.40, moves={event: 0.03})
    trader = w.profile("T126", "David Okafor", "Equity Trader", "Cash Equities", "MEDIUM", "")
    w.baseline("T126", {"NVSY": ("Technology", 200.0), "QRTZ": BASKET["QRTZ"], "PRSM": BASKET["PRSM"]}, 60,
               (3_500, 7_000), trade - timedelta(days=3))
    for i, d in enumerate(("2024-04-19", "2024-04-22", "2024-04-22", "2024-04-23", "2024-04-24")):
        w.peer(f"P-87{i}", day(d), sym, "BUY", 2_000 + 3_000 * i, 212.0)
    w.headline(sym, "2024-04-10 08:00", "Company filing", "Novasys confirms Q1 results date of April 25")
    w.headline(sym, "2024-04-18 13:10", "Bloomberg", "Novasys expected to beat Q1 earnings estimates on cloud demand")
    return _case(name, "control",
                 "Typical false positive: a regular trader's usual-size purchase into results the street expected, "
                 "alongside many others",
                 "A cash-equities trader buys his usual size in a name he trades every month, three days before "
                 "results that analysts had publicly expected to beat; five other firms bought too.",
                 (CLOSE,), w, trader, sym, trade, "BUY", 5_500,
                 ("Earnings Release", event, "Novasys Q1 results above consensus"), score=71)


def trade_went_against() -> Case:
    name, sym, trade, event = "insider_trade_went_against", "PRLX", day("2024-02-20"), day("2024-02-23")
    w = _world(name, sym, "Parallax Media", "Communication Services", trade, event, 40.00, moves={event: -0.08})
    trader = w.profile("T127", "Hannah Weiss", "Equity Trader", "Media Desk", "MEDIUM", "")
    w.baseline("T127", {"PRLX": ("Communication Services", 40.0), "HLX": BASKET["HLX"]}, 45, (3_000, 6_000),
               trade - timedelta(days=3))
    w.headline(sym, "2024-02-09 08:00", "Company filing", "Parallax Media to report full-year results on February 23")
    return _case(name, "control",
                 "Typical false positive: the event went against the trade (a purchase before results that "
                 "disappointed)",
                 "A media trader buys her usual size in a name she trades regularly three days before results; the "
                 "results disappoint and the stock falls 8%, a loss of about 16,000 on the trade.",
                 (CLOSE,), w, trader, sym, trade, "BUY", 5_000,
                 ("Earnings Release", event, "Parallax Media full-year results"), score=63)


def merger_arbitrage_after_announcement() -> Case:
    name, sym, trade, event = "insider_merger_arbitrage_after_announcement", "CSTL", day("2024-10-08"), \
        day("2024-10-10")
    w = _world(name, sym, "Castellan Software", "Technology", trade, event, 47.10, vol=0.002, moves={event: 0.015})
    trader = w.profile("T128", "Isabel Duarte", "Risk Arbitrage Trader", "Event-Driven", "MEDIUM", "")
    w.baseline("T128", {k: BASKET[k] for k in ("QRTZ", "PRSM", "KRNL")}, 40, (10_000, 30_000),
               trade - timedelta(days=3))
    for i, d in enumerate(("2024-10-07", "2024-10-08", "2024-10-09")):
        w.peer(f"P-88{i}", day(d), sym, "BUY", 40_000 + 10_000 * i, 47.0)
    w.headline(sym, "2024-09-30 07:00", "Reuters", "Orbis Systems agrees to acquire Castellan Software for $48 a share")
    return _case(name, "control",
                 "Typical false positive: merger arbitrage after a takeover was announced (the deal was public)",
                 "An event-driven desk buys into an announced takeover a week after it was made public, as other "
                 "arbitrageurs did; the alert pairs the trade with the shareholder approval two days later.",
                 (CLOSE,), w, trader, sym, trade, "BUY", 60_000,
                 ("M&A Announcement", event, "Castellan Software shareholders approve the Orbis takeover"), score=76)


def no_peer_data_usual_trade() -> Case:
    name, sym, trade, event = "insider_no_peer_data_usual_trade", "QTRA", day("2024-11-12"), day("2024-11-14")
    w = World(name)
    w.instrument(sym, "Quantra Foods", "Consumer Staples")
    market_around(w, sym, trade, event, 18.75, moves={event: 0.04})
    trader = w.profile("T129", "Lucas Meyer", "Equity Trader", "Consumer Desk", "MEDIUM", "")
    w.baseline("T129", {"QTRA": ("Consumer Staples", 18.0), "HLX": BASKET["HLX"]}, 40, (2_000, 4_000),
               trade - timedelta(days=3))
    w.headline(sym, "2024-11-06 09:30", "Dow Jones", "Quantra Foods expected to report higher quarterly sales, "
               "analysts say")
    return _case(name, "control",
                 "Typical false positive with a data gap: a usual trade into expected results in a symbol the peer "
                 "file does not cover (missing data is a gap, not a red flag)",
                 "A consumer-desk trader buys his usual size in a name he trades regularly, two days before results "
                 "that analysts had publicly previewed; the peer-trades file has no rows for the symbol at all.",
                 (CLOSE,), w, trader, sym, trade, "BUY", 3_000,
                 ("Earnings Release", event, "Quantra Foods quarterly sales rise"), score=60)


CASES = (index_inclusion_fund_buy, index_deletion_fund_sale, plan_sale_chief_executive, plan_purchase_director,
         after_public_results, usual_trade_expected_results, trade_went_against,
         merger_arbitrage_after_announcement, no_peer_data_usual_trade)
