"""Held-out set 2, insider dealing: written by a second reviewer who had not read the rules' code.

The second held-out review (issue 10) checks the offline rules on enforcement actions and false
positives that neither the library nor the first held-out set uses. The cases were written and
committed before they were first evaluated, and measured apart from the library (its review:
test_data/cases/REVIEW-heldout2.md); once the rules were fixed on the principles the review
named, they were folded into the library by scripts/make_cases.py, their case.json naming the
set ("held-out 2"). The facts are synthetic; the pattern is the one the named action or
false-positive type is known for.
"""

from __future__ import annotations

from datetime import timedelta

from cases.common import BASKET, CLOSE, ESCALATE, REVIEW, Case
from cases.heldout2_common import anchor
from cases.insider import _case
from cases.insider import _world as _library_world
from cases.world import day, weekdays


def _world(name, symbol, issuer, sector, trade, event, price, *, anchor_at=None, anchor_close=None, **market):
    """The library's insider world, its path ending where the trade day opens (see anchor)."""
    w = _library_world(name, symbol, issuer, sector, trade, event, price, **market)
    anchor(w, symbol, anchor_at or trade, anchor_close or price)
    return w


# --------------------------------------------------------------------------- enforcement-modelled

def legal_head_sells_before_results() -> Case:
    name, sym, trade, event = "heldout2_insider_legal_head_sells_before_results", "PELM", day("2024-07-24"), \
        day("2024-07-30")
    w = _world(name, sym, "Pellam Devices", "Technology", trade, event, 185.00, moves={day("2024-07-31"): -0.07})
    trader = w.profile("T601", "Gordon Lyle", "Senior Director, Corporate Law", "Legal", "HIGH",
                       "Pre-clearance required for trades in company securities; quarterly blackout calendar "
                       "administered by Legal")
    # shares bought over two years, a small sale in each open window after results
    for d, side, qty, price in (("2022-11-10", "BUY", 12_000, 140.0), ("2023-03-08", "BUY", 8_000, 152.0),
                                ("2023-06-14", "BUY", 4_000, 160.0), ("2023-08-09", "SELL", 1_500, 171.0),
                                ("2023-11-08", "SELL", 1_500, 176.0), ("2023-12-13", "BUY", 6_000, 178.0),
                                ("2024-02-07", "SELL", 1_200, 180.0), ("2024-05-08", "SELL", 1_800, 183.0)):
        w.trade("T601", day(d), sym, side, qty, price, "Technology")
    for d, qty in (("2023-10-04", 200), ("2024-03-20", 250)):
        w.trade("T601", day(d), "QRTZ", "BUY", qty, 75.0, "Technology")
    w.headline(sym, "2024-07-16 16:05", "Company filing", "Pellam Devices to report third-quarter results on July 30")
    w.headline(sym, "2024-07-18 10:30", "MarketWatch", "Pellam Devices shares rise on AI PC optimism")
    w.headline(sym, "2024-07-22 09:00", "DigiTimes", "Smartphone component orders soften across Asian supply chain")
    w.headline(sym, "2024-07-30 16:05", "Company filing", "Pellam Devices third-quarter revenue misses estimates, "
               "cuts gross-margin outlook")
    return _case(name, "enforcement",
                 "SEC v. Gene Levoff (D.N.J., filed 2019; guilty plea 2022): Apple's senior director of corporate "
                 "law, who administered its insider-trading policy and saw draft results as a member of the "
                 "disclosure committee, sold about $10m of Apple shares before quarterly results disappointed",
                 "The senior director of corporate law, who pre-clears employees' dealings, sells 16,000 of his "
                 "24,000 shares (two thirds, about seven times his usual open-window sale) six days before results "
                 "that miss; the results come out after the close and the next session falls 7%, a loss avoided of "
                 "about 180,000. Noise: not a whole exit, he sells a little every quarter, the profile records a "
                 "blackout calendar without naming the stock, the surveillance note says the trade was pre-cleared "
                 "(by himself, under delegated authority), the only issuer news before the trade is a results-date "
                 "notice and a report of the share price's move, and sector chatter pointed the same way. A "
                 "reviewer escalates; at the least a human reviews.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, "SELL", 16_000,
                 ("Earnings Release", event, "Pellam Devices third-quarter revenue below consensus; gross margin "
                                             "guidance lowered (announced after the close)"),
                 score=77, estimated_profit=207_200,
                 notes=["Pre-clearance approved 2024-07-23 (approver: G. Lyle, delegated authority)"])


def tippee_day_trader_before_bid() -> Case:
    name, sym, trade, event = "heldout2_insider_tippee_day_trader_before_bid", "TMBR", day("2024-05-16"), \
        day("2024-05-20")
    w = _world(name, sym, "Timberline Software", "Technology", trade, event, 3.10, moves={event: 0.36})
    trader = w.profile("T602", "Karim Nassar", "Client (execution-only)", "Private Client - Execution Only", "LOW",
                       "")
    w.baseline("T602", BASKET, 90, (2_000, 20_000), trade - timedelta(days=3))
    # two earlier first-time purchases a few days before a bid, sold the week after (other issuers)
    for d, s, side, qty, price, sector in (("2023-11-20", "ALDR", "BUY", 18_000, 2.10, "Healthcare"),
                                           ("2023-11-27", "ALDR", "SELL", 18_000, 2.85, "Healthcare"),
                                           ("2024-02-12", "FNWK", "BUY", 22_000, 1.40, "Industrials"),
                                           ("2024-02-16", "FNWK", "SELL", 22_000, 1.92, "Industrials")):
        w.trade("T602", day(d), s, side, qty, price, sector)
    w.headline(sym, "2024-04-03 07:00", "RNS", "Timberline Software full-year results in line with expectations")
    w.headline(sym, "2024-05-09 07:00", "RNS", "Timberline Software wins five-year contract with NHS trust")
    w.headline(sym, "2024-05-14 11:20", "The Times", "UK software sector ripe for private equity bids, say bankers")
    w.headline(sym, "2024-05-20 07:00", "RNS", "Recommended cash offer for Timberline Software plc by Corvus "
               "Capital")
    return _case(name, "enforcement",
                 "R v. Fabiana Abdel-Malek and Walid Choucair (FCA prosecution, Southwark Crown Court, convictions "
                 "2019): a UBS compliance officer passed inside information on takeovers to a day trader, who "
                 "traded ahead of the announcements",
                 "An execution-only client who day-trades heavily buys 25,000 shares of a company he has never "
                 "traded, two sessions before a recommended cash offer at a 38% premium (a profit of about 28,000). "
                 "Noise: he trades sizes up to 20,000 every few days, so the size is not extreme for him; the "
                 "company announced a contract win a week before (positive, but of another nature); the press "
                 "talked about bids in the sector without naming it; and he has no access to inside information "
                 "himself — the information came from someone else, which is what a tippee looks like. His history "
                 "shows two earlier first-time purchases days before bids, sold a week later. A reviewer escalates "
                 "or reviews.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, "BUY", 25_000,
                 ("Takeover Offer", event, "Corvus Capital recommended cash offer for Timberline Software at 430p, a "
                                           "38% premium"),
                 score=86, estimated_profit=28_000)


def broker_buys_acquirer_small_gain() -> Case:
    name, sym, trade, event = "heldout2_insider_broker_buys_acquirer_small_gain", "AUSA", day("2024-04-26"), \
        day("2024-05-01")
    w = _world(name, sym, "Austral Airways", "Industrials", trade, event, 3.20, vol=0.004, moves={event: 0.025})
    trader = w.profile("T603", "Rory Kincaid", "Senior Dealer", "Private Client Stockbroking", "MEDIUM", "")
    w.baseline("T603", BASKET, 30, (5_000, 30_000), trade - timedelta(days=4))
    w.headline(sym, "2024-04-11 07:30", "ASX", "Austral Airways March traffic statistics")
    w.headline(sym, "2024-04-24 09:10", "Australian Financial Review", "Regional airline consolidation back on the "
               "agenda, analysts say")
    w.headline(sym, "2024-05-01 07:30", "ASX", "Austral Airways agrees merger with regional carrier Kestrel Air")
    return _case(name, "enforcement",
                 "R v. Rene Rivkin (ASIC prosecution, NSW Supreme Court, conviction 2003): a stockbroker bought "
                 "50,000 Qantas shares the day after the chairman of Impulse Airlines told him of a merger with "
                 "Qantas that was announced days later; the profit was a few thousand dollars",
                 "A senior dealer buys 50,000 shares of an airline he has never traded, about three times his usual "
                 "size, three sessions before the airline announces a merger; nothing about it was public. The "
                 "acquirer's shares rise only 2.5%, a profit of about 4,000. Noise: the gain is small and below any "
                 "materiality threshold, and the press talked about consolidation without naming the company. "
                 "Dealing while in possession of inside information is the offence (MAR Art. 8 and 14; Rivkin was "
                 "convicted on a small profit): a small gain explains nothing, so a reviewer escalates or reviews.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, "BUY", 50_000,
                 ("Merger Announcement", event, "Austral Airways agrees merger with regional carrier Kestrel Air"),
                 score=70, estimated_profit=4_000)


def it_officer_buys_target() -> Case:
    name, sym, trade, event = "heldout2_insider_it_officer_buys_target", "CHRT", day("2024-02-07"), day("2024-02-21")
    w = _world(name, sym, "Chartwell Photonics", "Technology", trade, event, 40.00, moves={event: 0.27})
    trader = w.profile("T604", "Arun Mehra", "Chief Information Security Officer", "Information Security", "MEDIUM",
                       "Pre-clearance required for trades in company securities")
    w.baseline("T604", {"QRTZ": BASKET["QRTZ"], "VRDN": ("Healthcare", 28.0)}, 15, (300, 1_500),
               trade - timedelta(days=10))
    w.trade("T604", day("2023-03-14"), sym, "BUY", 500, 33.0, "Technology")
    w.trade("T604", day("2024-02-01"), sym, "BUY", 2_000, 39.20, "Technology")
    w.headline(sym, "2024-01-25 16:05", "Company filing", "Chartwell Photonics second-quarter revenue in line with "
               "guidance")
    w.headline(sym, "2024-01-30 10:00", "Reuters", "Optical component makers rally on data-centre demand")
    w.headline(sym, "2024-02-21 07:00", "Business Wire", "Lumenor to acquire Chartwell Photonics for $5.7 billion in "
               "cash and stock")
    return _case(name, "enforcement",
                 "SEC v. Amit Bhardwaj (N.D. Cal., 2023): the chief information security officer of Lumentum "
                 "bought shares of Coherent ahead of Lumentum's announced acquisition of Coherent, using "
                 "information he had through his position, and tipped friends",
                 "The acquirer's chief information security officer — an IT role the access list rates MEDIUM, not "
                 "a deal-team member — buys 2,000 and then 6,000 shares of the target (8,000 in "
                 "all, about nine times his usual size) twenty and fourteen days before the acquisition "
                 "is announced at a premium (+27%). Noise: he bought 500 shares of the target a year ago, so it is "
                 "not strictly a first trade; the target's own results two weeks before were in line; sector "
                 "chatter about data-centre demand. Accumulation two weeks before a deal by someone inside the "
                 "acquirer: escalate.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, "BUY", 6_000,
                 ("Merger Agreement", event, "Lumenor Holdings to acquire Chartwell Photonics at a 34% premium"),
                 score=82, estimated_profit=86_400)


def short_before_block_trade() -> Case:
    name, sym, trade = "heldout2_insider_short_before_block_trade", "VLTR", day("2024-03-12")
    w = _world(name, sym, "Voltera Renewables", "Energy", trade, trade, 23.05, moves={day("2024-03-13"): -0.072})
    trader = w.profile("T605", "Dana Whitcombe", "Portfolio Manager", "Long/Short Equity", "MEDIUM", "")
    w.baseline("T605", {"SOLR": BASKET["SOLR"], "PRSM": BASKET["PRSM"], "KRNL": BASKET["KRNL"]}, 20,
               (10_000, 60_000), trade - timedelta(days=5))
    for d, side, qty, price in (("2023-06-13", "BUY", 40_000, 19.10), ("2023-08-22", "SELL", 20_000, 20.40),
                                ("2023-10-10", "BUY", 30_000, 19.80), ("2023-12-05", "SELL", 25_000, 21.30),
                                ("2024-01-16", "BUY", 35_000, 21.90), ("2024-02-20", "SELL", 20_000, 22.70)):
        w.trade("T605", day(d), sym, side, qty, price, "Energy")
    for i in range(2):
        w.peer(f"P-61{i}", trade, sym, "SELL", 60_000 + 20_000 * i, 23.10, "hedge_fund")
    w.headline(sym, "2024-02-28 07:00", "RNS", "Voltera Renewables full-year results: EBITDA up 12%, dividend raised")
    w.headline(sym, "2024-03-01 07:00", "RNS", "Voltera Renewables: expiry of IPO lock-up arrangements on 11 March")
    w.headline(sym, "2024-03-12 16:25", "Bloomberg", "Halden Partners offers 12 million Voltera Renewables shares in "
               "overnight accelerated bookbuild")
    w.headline(sym, "2024-03-13 07:02", "RNS", "Voltera Renewables: results of accelerated bookbuild, 12 million "
               "shares placed at 2,140p")
    return _case(name, "enforcement",
                 "SEC, In re Morgan Stanley & Co. and Pawan Passi (January 2024, with the parallel DOJ resolution): "
                 "the block-trading desk disclosed upcoming block sales to buy-side investors, who pre-positioned "
                 "by short selling the stock before the blocks were launched",
                 "A long/short portfolio manager sells 90,000 shares in the afternoon — her 40,000 long and 50,000 "
                 "short on top, about two and a half times her usual size — hours before the main shareholder "
                 "launches an overnight accelerated bookbuild after the close; the block prices at a 7% discount "
                 "and the next session falls 7.2%, a loss avoided of about 150,000. Noise: she trades the name "
                 "regularly on both sides, two other funds also sold that day (possibly tipped too), the IPO "
                 "lock-up expiry was public (a sell-down was foreseeable, not its timing), and the results two "
                 "weeks earlier were good. The announcement came after the close on the trade day: the reaction "
                 "is in the next session. A reviewer escalates or reviews.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, "SELL", 90_000,
                 ("Secondary Offering", trade, "Sponsor Halden Partners sells 12 million Voltera Renewables shares "
                                               "(8% of capital) in an accelerated bookbuild launched after the close, "
                                               "priced at a 7.2% discount"),
                 score=83, estimated_profit=149_400)


def banker_father_buys_target() -> Case:
    name, sym, trade, event = "heldout2_insider_banker_father_buys_target", "KNDL", day("2024-06-04"), \
        day("2024-06-10")
    w = _world(name, sym, "Kendal Clinical Research", "Healthcare", trade, event, 10.20, moves={event: 0.45})
    trader = w.profile("T606", "Robert Sterling", "Private client (advisory)", "Private Client - Advisory", "LOW", "")
    for d, s, side, qty, price, sector in (("2023-08-10", "PRSM", "BUY", 300, 60.0, "Financials"),
                                           ("2023-11-02", "HLX", "BUY", 400, 44.0, "Consumer"),
                                           ("2024-01-18", "PRSM", "SELL", 150, 63.0, "Financials"),
                                           ("2024-03-21", "QRTZ", "BUY", 200, 74.0, "Technology")):
        w.trade("T606", day(d), s, side, qty, price, sector)
    w.headline(sym, "2024-04-30 07:00", "Business Wire", "Kendal Clinical Research wins oncology trial services "
               "contract")
    w.headline(sym, "2024-06-10 07:00", "Business Wire", "INR Research to acquire Kendal Clinical Research for "
               "$14.50 per share in cash")
    return _case(name, "enforcement",
                 "United States v. Sean Stewart and SEC v. Sean Stewart and Robert Stewart (S.D.N.Y., 2015; "
                 "conviction 2016): an investment banker tipped his father about his clients' acquisitions, and "
                 "the father bought shares of the targets (Kendle International among them) before the "
                 "announcements",
                 "A retired advisory client with four trades in a year, none in this name or sector, buys 3,500 "
                 "shares of a clinical-research company four sessions before it agrees to be acquired at a 42% "
                 "premium (a profit of about 16,000). Noise: the history is too short for any statistic, the "
                 "trade is small in money terms, and the company's last news was a contract win five weeks "
                 "earlier. A first purchase by a small investor days before a bid is the classic tippee pattern; "
                 "the link to the banker is for the reviewer to find.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, "BUY", 3_500,
                 ("Takeover Announcement", event, "INR Research agrees to acquire Kendal Clinical Research for $14.50 "
                                                  "per share in cash, a 42% premium"),
                 score=74, estimated_profit=16_100)


# --------------------------------------------------------------------------- false-positive controls

def buy_after_broker_upgrade() -> Case:
    name, sym, trade, event = "heldout2_insider_buy_after_broker_upgrade", "SLTN", day("2024-10-14"), \
        day("2024-10-17")
    w = _world(name, sym, "Saltern Foods", "Consumer Staples", trade, event, 20.00, vol=0.004,
               moves={event: 0.06}, anchor_close=19.42)
    trader = w.profile("T607", "Priya Raman", "Equity Trader", "Cash Equities", "MEDIUM", "")
    w.baseline("T607", {k: BASKET[k] for k in ("QRTZ", "HLX", "PRSM")}, 40, (2_000, 5_000), trade - timedelta(days=3))
    for d, side, qty, price in (("2023-11-07", "BUY", 3_500, 18.10), ("2024-01-23", "SELL", 3_000, 18.90),
                                ("2024-03-12", "BUY", 4_000, 18.60), ("2024-05-21", "SELL", 3_500, 19.40),
                                ("2024-07-09", "BUY", 3_000, 19.20), ("2024-09-03", "SELL", 3_000, 19.60)):
        w.trade("T607", day(d), sym, side, qty, price, "Consumer Staples")
    for i, d in enumerate((trade, trade, trade, day("2024-10-15"))):
        w.peer(f"P-77{i}", d, sym, "BUY", 6_000 + 3_000 * i, 20.4)
    w.headline(sym, "2024-10-01 16:00", "RNS", "Saltern Foods to issue third-quarter trading update on October 17")
    w.headline(sym, "2024-10-14 06:45", "Berenberg", "Berenberg upgrades Saltern Foods to buy, raises target price "
               "to 2,400p")
    w.headline(sym, "2024-10-17 07:00", "RNS", "Saltern Foods third-quarter sales ahead of expectations")
    return _case(name, "control",
                 "Typical false positive: buying on the morning a broker's upgrade of the stock was published "
                 "(public investment research), days before the company's scheduled trading update",
                 "An equity trader who trades the name every couple of months, at her usual size, buys 4,500 "
                 "shares on the morning a broker upgraded the stock to buy before the open, with three other firms; "
                 "the scheduled trading update three days later is good (+6%, a gain of about 5,000). Trading on "
                 "published research is trading on public information.",
                 (CLOSE,), w, trader, sym, trade, "BUY", 4_500,
                 ("Trading Update", event, "Saltern Foods third-quarter trading update ahead of expectations"),
                 score=71)


def transition_manager_liquidates_book() -> Case:
    name, sym, trade, event = "heldout2_insider_transition_manager_liquidates_book", "BRWK", day("2024-05-20"), \
        day("2024-05-24")
    w = _world(name, sym, "Brightwick Homes", "Consumer Discretionary", trade, event, 6.50, moves={event: -0.14})
    trader = w.profile("T608", "Transition Management Desk", "Transition Manager", "Transition Management", "MEDIUM",
                       "")
    legacy = {"BRWK": (120_000, 6.80, "Consumer Discretionary"), "QRTZ": (60_000, 75.0, "Technology"),
              "SOLR": (250_000, 16.0, "Energy"), "HLX": (90_000, 45.0, "Consumer"),
              "PRSM": (70_000, 62.0, "Financials"), "KRNL": (400_000, 7.8, "Industrials"),
              "VRDN": (150_000, 28.0, "Healthcare"), "DRLX": (110_000, 18.0, "Industrials"),
              "MRDN": (80_000, 38.0, "Industrials"), "HRTL": (300_000, 14.2, "Consumer"),
              "AQRA": (95_000, 31.0, "Utilities"), "LMTX": (50_000, 52.0, "Technology")}
    # the legacy portfolio received in specie on 1 May, every holding sold on the transition date
    for s, (qty, price, sector) in legacy.items():
        w.trade("T608", day("2024-05-01"), s, "BUY", qty, price, sector)
        if s != sym:
            w.trade("T608", trade, s, "SELL", qty, price * 1.01, sector)
    # earlier transitions for other clients
    for d_in, d_out, names in (("2023-09-04", "2023-09-18", ("QRTZ", "HLX", "PRSM", "SOLR")),
                               ("2024-01-08", "2024-01-22", ("KRNL", "VRDN", "DRLX", "AQRA"))):
        for s in names:
            qty, price, sector = legacy[s]
            w.trade("T608", day(d_in), s, "BUY", qty // 2, price, sector)
            w.trade("T608", day(d_out), s, "SELL", qty // 2, price, sector)
    w.headline(sym, "2024-04-18 07:00", "RNS", "Brightwick Homes: AGM statement")
    w.headline(sym, "2024-05-24 07:00", "RNS", "Brightwick Homes trading update: completions below expectations, "
               "profit guidance cut")
    return _case(name, "control",
                 "Typical false positive: a transition manager liquidating a pension scheme's legacy portfolio in "
                 "full on the transition date set by the client (every holding sold the same day)",
                 "The transition desk received a legacy portfolio of twelve holdings in specie on 1 May and, on "
                 "the transition date, sold every one of them in full — this 120,000-share holding among them; "
                 "four days later the company cuts its profit guidance (-14%). The whole-position exit is "
                 "explained by the liquidation of the whole book the same day, which the history shows; the desk "
                 "has done the same for other clients before.",
                 (CLOSE,), w, trader, sym, trade, "SELL", 120_000,
                 ("Profit Warning", event, "Brightwick Homes cuts full-year profit guidance as completions slow"),
                 score=81)


def sale_after_preopen_profit_warning() -> Case:
    name, sym, trade = "heldout2_insider_sale_after_preopen_profit_warning", "CRSD", day("2024-06-11")
    w = _world(name, sym, "Crestwood Distribution", "Industrials", trade, trade, 2.05,
               closes={day("2024-06-10"): 2.60}, moves={day("2024-06-13"): -0.04, day("2024-06-17"): -0.04},
               anchor_at=day("2024-06-10"), anchor_close=2.60)
    trader = w.profile("T609", "Hannah Booth", "Portfolio Manager", "UK Equity Income", "MEDIUM", "")
    w.baseline("T609", {k: BASKET[k] for k in ("KRNL", "HLX", "PRSM", "SOLR")}, 40, (20_000, 80_000),
               trade - timedelta(days=3))
    for d, qty, price in (("2023-09-12", 60_000, 2.90), ("2023-12-05", 50_000, 2.75), ("2024-03-19", 40_000, 2.70)):
        w.trade("T609", day(d), sym, "BUY", qty, price, "Industrials")
    for i in range(4):
        w.peer(f"P-78{i}", trade, sym, "SELL", 80_000 + 30_000 * i, 2.08)
    w.headline(sym, "2024-06-11 07:00", "RNS", "Crestwood Distribution trading update: full-year profit to be "
               "materially below expectations")
    return _case(name, "control",
                 "Typical false positive: selling out of a holding on the morning the issuer's own profit warning "
                 "was published before the open",
                 "An income portfolio manager sells her whole 150,000-share holding on the day the company warned, "
                 "at 07:00, that profit would be materially below expectations; the shares had already fallen 21% "
                 "at the open and drift another 8% over the next week. Four other institutions sold the same "
                 "morning. The surveillance system pairs the sale with the warning because it knows dates, not "
                 "times; the warning was public an hour before the market opened.",
                 (CLOSE,), w, trader, sym, trade, "SELL", 150_000,
                 ("Profit Warning", trade, "Crestwood Distribution warns full-year profit will be materially below "
                                           "market expectations"),
                 score=78)


def employee_share_purchase_plan() -> Case:
    name, sym, trade, event = "heldout2_insider_employee_share_purchase_plan", "NRTH", day("2024-07-15"), \
        day("2024-07-19")
    w = _world(name, sym, "Northgate Bank", "Financials", trade, event, 5.10, vol=0.004, moves={event: 0.05})
    trader = w.profile("T610", "Liam Porter", "Operations Analyst", "Payments Operations", "MEDIUM",
                       "Employee share purchase plan adopted 2023-01-16: GBP 2,000 of NRTH shares bought from "
                       "payroll on the 15th of each month (next business day if closed); pre-clearance not required "
                       "for plan purchases")
    d = day("2023-02-15")
    while d < trade:
        buy_day = next(weekdays(d, d + timedelta(days=4)))
        price = round(5.0 * w.rng.uniform(0.96, 1.04), 2)
        w.trade("T610", buy_day, sym, "BUY", round(2_000 / price), price, "Financials")
        d = (d.replace(day=1) + timedelta(days=32)).replace(day=15)
    w.headline(sym, "2024-07-02 07:00", "RNS", "Northgate Bank to announce half-year results on 19 July")
    w.headline(sym, "2024-07-19 07:00", "RNS", "Northgate Bank half-year profit ahead of expectations")
    return _case(name, "control",
                 "Typical false positive: an employee's monthly purchase under an employee share purchase plan "
                 "(fixed amount from payroll, fixed date; no discretion over timing or size)",
                 "An operations analyst's plan buys 2,000 pounds' worth of his employer's shares from payroll on "
                 "the 15th, as it has every month for eighteen months; the 15th falls four days before the "
                 "half-year results, which lift the price 5% (a gain of about 100). The plan set the date and the "
                 "amount.",
                 (CLOSE,), w, trader, sym, trade, "BUY", round(2_000 / 5.10),
                 ("Earnings Release", event, "Northgate Bank half-year profit ahead of expectations"), score=58)


# --------------------------------------------------------------------------- ambiguous

def year_end_tax_loss_sale() -> Case:
    name, sym, trade, event = "heldout2_insider_year_end_tax_loss_sale", "HLVT", day("2024-12-13"), \
        day("2025-01-08")
    w = _world(name, sym, "Hollavet Therapeutics", "Healthcare", trade, event, 4.50, moves={event: -0.18})
    trader = w.profile("T611", "Marcus Feld", "Investment Manager", "Discretionary Private Clients", "MEDIUM", "")
    w.baseline("T611", {k: BASKET[k] for k in ("QRTZ", "HLX", "SOLR", "PRSM")}, 30, (1_000, 6_000),
               trade - timedelta(days=5))
    w.trade("T611", day("2023-06-14"), sym, "BUY", 12_000, 8.10, "Healthcare")
    w.trade("T611", day("2023-10-11"), sym, "BUY", 8_000, 7.20, "Healthcare")
    # the same morning: every other position standing at a loss sold for the tax year
    for s, qty, price, sector in (("DRLX", 3_000, 14.2, "Industrials"), ("KSTL", 9_000, 6.1, "Consumer"),
                                  ("BLMF", 2_500, 17.4, "Consumer"), ("VRDN", 1_800, 21.5, "Healthcare")):
        w.trade("T611", day("2024-03-05"), s, "BUY", qty, price * 1.4, sector)
        w.trade("T611", trade, s, "SELL", qty, price, sector)
    w.headline(sym, "2024-11-20 07:00", "Business Wire", "Hollavet Therapeutics third-quarter revenue below "
               "expectations")
    w.headline(sym, "2024-12-02 08:00", "Business Wire", "Hollavet Therapeutics to present at J.P. Morgan Healthcare "
               "Conference")
    w.headline(sym, "2025-01-08 07:00", "Business Wire", "Hollavet Therapeutics cuts 2025 revenue guidance after "
               "slower launch")
    return _case(name, "ambiguous",
                 "Typical borderline alert: year-end tax-loss selling — a discretionary manager sells every "
                 "position standing at a loss in mid-December, one of which warns in January",
                 "A private-client investment manager sells the whole 20,000-share holding, bought at 7 to 8 and "
                 "now at 4.50, together with four other losing positions the same morning; 26 days later the "
                 "company cuts its guidance (-18%, a loss avoided of about 16,000). The selling is explained by "
                 "the tax calendar and the fact that every loser went, and the company's weakness was public "
                 "(third-quarter revenue missed in November); but a whole exit weeks before a warning, in a "
                 "name where the manager could have heard something, is one a reviewer may want to confirm with "
                 "the client file. Closing or reviewing are both defensible.",
                 (CLOSE, REVIEW), w, trader, sym, trade, "SELL", 20_000,
                 ("Profit Warning", event, "Hollavet Therapeutics cuts 2025 revenue guidance after a slower product "
                                           "launch"),
                 score=66)


CASES = (legal_head_sells_before_results, tippee_day_trader_before_bid, broker_buys_acquirer_small_gain,
         it_officer_buys_target, short_before_block_trade, banker_father_buys_target, buy_after_broker_upgrade,
         transition_manager_liquidates_book, sale_after_preopen_profit_warning, employee_share_purchase_plan,
         year_end_tax_loss_sale)
