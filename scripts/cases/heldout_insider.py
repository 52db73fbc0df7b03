"""Held-out set 1, insider dealing: written by a reviewer who had not read the rules' code.

The set was an independent check of the offline rules on patterns their author did not write
(review of 2026-11-26); the rules were then fixed on the principles the review named, and the
cases folded into the library (test_data/cases/, case.json "set": "held-out 1"). Each is
modelled on a public enforcement action not otherwise in the library, or on a common false
positive; the facts are synthetic, the pattern is the one the named action or false-positive
type is known for.
"""

from __future__ import annotations

from datetime import timedelta

from cases.common import BASKET, CLOSE, ESCALATE, REVIEW, Case
from cases.insider import _case, _world
from cases.world import day

CONSUMER = {"HLX": ("Consumer", 45.0), "DRPR": ("Consumer", 12.0), "KSTL": ("Consumer", 8.2),
            "BLMF": ("Consumer", 22.0)}


# --------------------------------------------------------------------------- enforcement-modelled

def shadow_trading_peer_company() -> Case:
    name, sym, trade, event = "heldout_insider_shadow_trading_peer", "INCX", day("2024-08-19"), day("2024-08-22")
    w = _world(name, sym, "Incyra Biosciences", "Healthcare", trade, event, 58.40, moves={event: 0.08})
    trader = w.profile("T401", "Mateo Paredes", "Senior Director, Business Development", "Corporate Development",
                       "HIGH", "Restricted list: MDVX; pre-clearance required for all personal trades")
    w.baseline("T401", {"VRDN": ("Healthcare", 28.0), "QRTZ": BASKET["QRTZ"]}, 12, (300, 1_200),
               trade - timedelta(days=5))
    w.headline(sym, "2024-07-24 16:05", "Company filing", "Incyra Biosciences raises full-year revenue guidance")
    w.headline(sym, "2024-08-12 09:00", "PR Newswire", "Incyra Biosciences to present at oncology investor "
               "conference")
    w.headline(sym, "2024-08-22 07:00", "Reuters", "Oncology peers rally as Halcyon Pharma agrees to buy Medivex")
    w.headline(sym, "2024-08-22 08:30", "Bloomberg", "Incyra Biosciences jumps as Medivex deal spotlights oncology "
               "targets")
    return _case(name, "enforcement",
                 "SEC v. Matthew Panuwat (N.D. Cal., filed 2021; jury verdict 2024), 'shadow trading': a business "
                 "development executive of Medivation bought options in a comparable company, Incyte, minutes after "
                 "learning that Pfizer would acquire his own employer",
                 "A business-development director, restricted in his employer's stock (MDVX), buys 14,000 shares of "
                 "a peer company, over ten times his usual size, three days before his employer's acquisition is "
                 "announced and the peer rises 8% in sympathy. Noise: the peer's own news before the trade is a "
                 "stale guidance raise and a conference notice; the event is about another company, so the event "
                 "headlines do not name the traded issuer. The inside information concerns the deal, not the "
                 "issuer traded, which is what makes it 'shadow' trading; a reviewer escalates or at least "
                 "reviews.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, "BUY", 14_000,
                 ("Market-Moving News", event, "Halcyon Pharma agrees to acquire Medivex Oncology for $14bn; peer "
                                               "Incyra Biosciences rises 8%"),
                 score=78, estimated_profit=65_400)


def index_provider_front_running() -> Case:
    name, sym, trade, event = "heldout_insider_index_provider_front_running", "HVRD", day("2024-09-03"), \
        day("2024-09-06")
    w = _world(name, sym, "Halvard Semiconductor", "Technology", trade, event, 41.80, vol=0.004,
               moves={day("2024-09-09"): 0.07})
    trader = w.profile("T402", "Kevin Zhao", "Index Manager", "Index Management - US Equity Indices", "MNPI",
                       "Pre-clearance required; 30-day holding period")
    w.baseline("T402", {"QRTZ": BASKET["QRTZ"], "PRSM": BASKET["PRSM"], "SOLR": BASKET["SOLR"]}, 25, (200, 1_500),
               trade - timedelta(days=4))
    w.trade("T402", day("2024-01-09"), sym, "SELL", 500, 36.10, "Technology")
    w.headline(sym, "2024-08-20 10:00", "Bloomberg", "Halvard Semiconductor shares rise on AI chip demand")
    w.headline(sym, "2024-08-30 16:30", "S&P Dow Jones Indices", "S&P Dow Jones Indices sets quarterly rebalance "
               "announcement for September 6")
    w.headline(sym, "2024-09-06 17:15", "S&P Dow Jones Indices", "Halvard Semiconductor set to join S&P MidCap 400 "
               "prior to the open on September 23")
    return _case(name, "enforcement",
                 "SEC v. Yinghang 'James' Yang (S.D.N.Y., filed 2022; criminal conviction 2023): an index manager at "
                 "S&P Dow Jones Indices traded ahead of index-change announcements he had learned of through his "
                 "work",
                 "An index manager at the index provider, on the MNPI access list, buys 6,000 shares (over six "
                 "times his usual size) on the Tuesday before his employer announces, after Friday's close, that the "
                 "stock joins a major index; the next session rises 7%. Noise: his role contains 'index' (an index "
                 "provider's staff are the insiders of index changes, not index funds trading an announced change), "
                 "he sold 500 shares of the name eight months ago, and an issuer headline two weeks earlier was "
                 "positive but of another nature. Nothing about the inclusion was public before the trade.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, "BUY", 6_000,
                 ("Index Inclusion", event, "Halvard Semiconductor to join the S&P MidCap 400"),
                 score=88, estimated_profit=17_600)


def card_data_before_earnings() -> Case:
    name, sym, trade, event = "heldout_insider_card_data_before_earnings", "BRKS", day("2024-08-19"), \
        day("2024-08-22")
    w = _world(name, sym, "Brookside Stores", "Consumer", trade, event, 36.20, moves={event: 0.11})
    w.instrument("DLMR", "Dalmore Outfitters", "Consumer")
    trader = w.profile("T403", "Nathan Hu", "Data Analyst", "Card Analytics", "MEDIUM", "")
    w.baseline("T403", {"HLX": CONSUMER["HLX"], "QRTZ": BASKET["QRTZ"]}, 20, (2_000, 6_000), trade - timedelta(days=5))
    # every quarter: in a few days before the results, out the week after, always on the right side
    for d, side, qty, price in (("2023-11-13", "BUY", 4_000, 31.40), ("2023-11-20", "SELL", 4_000, 33.90),
                                ("2024-02-26", "SELL", 3_500, 34.80), ("2024-03-04", "BUY", 3_500, 32.10),
                                ("2024-05-20", "BUY", 4_500, 33.00), ("2024-05-28", "SELL", 4_500, 35.60)):
        w.trade("T403", day(d), sym, side, qty, price, "Consumer")
    for d, side, qty, price in (("2024-03-11", "BUY", 3_000, 18.20), ("2024-03-18", "SELL", 3_000, 19.70),
                                ("2024-06-10", "SELL", 2_500, 19.10), ("2024-06-17", "BUY", 2_500, 17.60)):
        w.trade("T403", day(d), "DLMR", side, qty, price, "Consumer")
    w.headline(sym, "2024-05-23 07:00", "Company filing", "Brookside Stores first-quarter sales ahead of forecasts")
    w.headline(sym, "2024-08-08 16:00", "Company filing", "Brookside Stores to report second-quarter results on "
               "August 22")
    w.headline(sym, "2024-08-14 11:00", "Retail Dive", "Back-to-school spending seen soft as retailers turn "
               "cautious")
    w.headline(sym, "2024-08-22 07:00", "Company filing", "Brookside Stores second-quarter sales beat estimates, "
               "raises outlook")
    return _case(name, "enforcement",
                 "SEC v. Bonan Huang and Nan Huang (2015): Capital One data analysts used the bank's card-spending "
                 "data to trade retailers' securities ahead of their earnings announcements, quarter after quarter",
                 "A card-analytics data analyst, whose work gives him the retailers' weekly sales, buys 5,000 shares "
                 "three days before results that beat (+11% on the day, published before the open). Noise: the size "
                 "is close to his usual, and he has traded the name before — but each earlier trade in it, and in "
                 "another retailer, was placed days before that issuer's results on the side the results later "
                 "favoured and reversed the week after. The 'usual pattern' is the abuse; the only issuer news before "
                 "the trade is a results-date notice, and the sector chatter pointed the other way.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, "BUY", 5_000,
                 ("Earnings Release", event, "Brookside Stores second-quarter sales beat estimates"), score=72)


def tranche_accumulation_before_bid() -> Case:
    name, sym, trade, event = "heldout_insider_tranche_accumulation_before_bid", "ORWL", day("2024-03-13"), \
        day("2024-03-18")
    w = _world(name, sym, "Orwell Aggregates", "Materials", trade, event, 2.86, moves={event: 0.34})
    trader = w.profile("T404", "Simon Hale", "Investment Manager", "Private Wealth", "LOW", "")
    w.baseline("T404", {"KRNL": BASKET["KRNL"], "PRSM": BASKET["PRSM"], "SOLR": BASKET["SOLR"]}, 30, (1_000, 3_000),
               trade - timedelta(days=30))
    for d, qty, price in (("2024-02-27", 2_500, 2.71), ("2024-03-04", 3_000, 2.76), ("2024-03-08", 2_500, 2.80)):
        w.trade("T404", day(d), sym, "BUY", qty, price, "Materials")
    w.headline(sym, "2024-02-29 07:00", "RNS", "Orwell Aggregates full-year profit in line with expectations")
    w.headline(sym, "2024-03-11 09:30", "Construction News", "Aggregates sector consolidation continues as building "
               "materials groups eye bolt-ons")
    w.headline(sym, "2024-03-18 07:00", "RNS", "Recommended cash offer for Orwell Aggregates by Castlemere Materials")
    return _case(name, "enforcement",
                 "R v. Martyn Dodgson and Andrew Hind (Operation Tabernula, FCA prosecution, convictions 2016): an "
                 "investment banker's deal information traded through a chain of accounts, positions built in "
                 "tranches ahead of takeover announcements",
                 "A private-wealth investment manager who had never traded the name buys it in four tranches over "
                 "two weeks (11,500 shares, about five times his usual position) and the last tranche, flagged "
                 "here, three sessions before a recommended cash offer at a 34% premium. Noise: each tranche is "
                 "close to his usual trade size (the earlier tranches are in his history, so they make this one look "
                 "'usual'), annual results in line were published two weeks earlier, and sector chatter mentioned "
                 "consolidation without naming the company. The run-up accumulation is the pattern.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, "BUY", 3_500,
                 ("Takeover Offer", event, "Castlemere Materials recommended cash offer for Orwell Aggregates"),
                 score=80, estimated_profit=3_400)


def consultant_buys_target_after_rumour() -> Case:
    name, sym, trade, event = "heldout_insider_consultant_buys_target_after_rumour", "GRSK", day("2024-08-26"), \
        day("2024-09-16")
    w = _world(name, sym, "Greysky Financial", "Financials", trade, event, 12.10, vol=0.01,
               moves={day("2024-08-15"): 0.06, event: 0.45})
    trader = w.profile("T405", "Pranav Dutta", "Partner", "Financial Services Practice", "HIGH",
                       "Pre-clearance required; client restricted list applies")
    w.baseline("T405", {"PRSM": BASKET["PRSM"], "QRTZ": BASKET["QRTZ"], "HLX": BASKET["HLX"]}, 40, (3_000, 9_000),
               trade - timedelta(days=4))
    w.peer("P-931", day("2024-08-27"), sym, "BUY", 2_000, 12.2, "retail")
    w.headline(sym, "2024-08-15 14:20", "Bloomberg", "Greysky Financial said to explore options including a sale - "
               "people familiar")
    w.headline(sym, "2024-09-16 07:00", "Reuters", "Goldfield Bancorp to buy Greysky Financial in $2.2bn deal")
    return _case(name, "enforcement",
                 "SEC v. Puneet Dikshit and the parallel criminal case (S.D.N.Y., 2022): a McKinsey partner advising "
                 "Goldman Sachs bought GreenSky securities weeks before Goldman announced it would acquire GreenSky",
                 "A consulting partner on the firm's insider list buys 20,000 shares (nearly four times his usual "
                 "size, first trade in the name) three weeks before his client announces the acquisition at a 45% "
                 "premium. Noise: eleven days before the trade Bloomberg reported, citing people familiar, that the "
                 "company was exploring a sale, and the stock rose 6% that day; one retail client bought the day "
                 "after. An unconfirmed report weakens the case (SEC v. Mayhew) but does not explain a partner's "
                 "first, outsized trade in a client's target: not a case to close.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, "BUY", 20_000,
                 ("M&A Announcement", event, "Goldfield Bancorp agrees to acquire Greysky Financial"),
                 score=83, estimated_profit=110_000)


# --------------------------------------------------------------------------- false-positive controls

def buy_after_preopen_results() -> Case:
    name, sym, trade = "heldout_insider_buy_after_preopen_results", "CRWN", day("2024-07-25")
    w = _world(name, sym, "Crownfield Packaging", "Industrials", trade, trade, 7.62, closes={day("2024-07-24"): 6.99})
    trader = w.profile("T406", "Beatrice Lowe", "Equity Trader", "Cash Equities", "MEDIUM", "")
    w.baseline("T406", {"KRNL": BASKET["KRNL"], "HLX": BASKET["HLX"]}, 35, (2_000, 5_000), trade - timedelta(days=3))
    for d, qty in (("2023-09-12", 3_000), ("2023-11-21", 4_000), ("2024-01-30", 2_500), ("2024-04-09", 3_500),
                   ("2024-06-18", 3_000)):
        w.trade("T406", day(d), sym, "BUY" if qty != 2_500 else "SELL", qty, 6.90, "Industrials")
    for i, d in enumerate(("2024-07-25", "2024-07-25", "2024-07-25", "2024-07-26")):
        w.peer(f"P-94{i}", day(d), sym, "BUY", 8_000 + 4_000 * i, 7.55)
    w.headline(sym, "2024-07-25 07:00", "RNS", "Crownfield Packaging half-year profit beats forecasts, raises interim "
               "dividend")
    return _case(name, "control",
                 "Typical false positive: buying on the day of results announced before the market opened (a UK "
                 "regulatory announcement at 07:00 is public an hour before the first trade of the session)",
                 "An equity trader who trades the name every couple of months buys 6,000 shares on the day the "
                 "company published strong half-year results at 07:00, before the open, with four other firms; the "
                 "stock rose 9% that day. The surveillance system pairs the day's trade with the day's announcement "
                 "because it knows dates, not times; the headline's timestamp shows the results were public before "
                 "the market opened.",
                 (CLOSE,), w, trader, sym, trade, "BUY", 6_000,
                 ("Earnings Release", trade, "Crownfield Packaging half-year results"), score=69)


def drip_director_purchase() -> Case:
    name, sym, trade, event = "heldout_insider_drip_director_purchase", "WTRF", day("2024-10-11"), day("2024-10-17")
    w = _world(name, sym, "Waterford Utilities", "Utilities", trade, event, 48.90, vol=0.004, moves={event: 0.05})
    trader = w.profile("T407", "Helen Marsh", "Non-Executive Director", "Board", "HIGH",
                       "Dividend reinvestment plan adopted 2021-06-30: dividends on WTRF shares reinvested "
                       "automatically; PDMR closed periods apply")
    for d, qty, price in (("2023-04-14", 388, 51.20), ("2023-10-13", 401, 49.60), ("2024-04-12", 395, 50.30)):
        w.trade("T407", day(d), sym, "BUY", qty, price, "Utilities")
    w.headline(sym, "2024-09-12 07:00", "RNS", "Waterford Utilities confirms interim dividend payment date of "
               "October 11")
    w.headline(sym, "2024-10-14 07:00", "RNS", "Waterford Utilities: Director/PDMR shareholding - dividend "
               "reinvestment")
    return _case(name, "control",
                 "Typical false positive: a director's purchase under a dividend reinvestment plan on the dividend "
                 "payment date (no discretion over timing or size; MAR Art. 19(12) and Delegated Reg. 2016/522 "
                 "Art. 9 allow such plans in a closed period)",
                 "A non-executive director's dividend is reinvested on the payment date, as it has been every half "
                 "year since the plan was set up in 2021: 412 shares (about 20,000), a size set by the dividend and "
                 "the price. A trading update six days later lifts the price 5%, a gain of about 1,000. The PDMR "
                 "notification follows on the next business day.",
                 (CLOSE,), w, trader, sym, trade, "BUY", 412,
                 ("Trading Update", event, "Waterford Utilities half-year trading ahead of expectations"), score=62)


def sector_basket_derisking() -> Case:
    name, sym, trade, event = "heldout_insider_sector_basket_derisking", "MDSN", day("2024-09-10"), day("2024-09-13")
    w = _world(name, sym, "Madison Home Retail", "Consumer", trade, event, 1.38, closes={day("2024-09-09"): 1.41},
               moves={event: -0.14})
    trader = w.profile("T408", "Felix Grant", "Portfolio Manager", "UK Consumer Equities", "MEDIUM", "")
    w.baseline("T408", CONSUMER, 40, (5_000, 25_000), trade - timedelta(days=8))
    for d, side, qty in (("2023-10-10", "BUY", 30_000), ("2024-01-16", "BUY", 20_000), ("2024-03-12", "BUY", 10_000),
                         ("2024-05-14", "SELL", 10_000)):
        w.trade("T408", day(d), sym, side, qty, 1.45, "Consumer")
    # the same morning he cut every UK retailer he holds by about a third
    for sym2, qty in (("HLX", 10_000), ("DRPR", 20_000), ("KSTL", 25_000), ("BLMF", 8_000)):
        sector, price = CONSUMER[sym2]
        w.trade("T408", trade, sym2, "SELL", qty, price * 0.97, sector)
    for i, d in enumerate(("2024-09-09", "2024-09-10", "2024-09-10", "2024-09-11")):
        w.peer(f"P-95{i}", day(d), sym, "SELL", 40_000 + 15_000 * i, 1.39)
    w.headline(sym, "2024-08-29 07:00", "RNS", "Madison Home Retail to issue trading update on September 13")
    w.headline(sym, "2024-09-09 16:40", "Reuters", "UK retailers slide after Harcourt Group's profit warning")
    return _case(name, "control",
                 "Typical false positive: a sector portfolio manager reducing every holding in a sector after a "
                 "competitor's public profit warning (a basket trade on public information)",
                 "A UK consumer PM sells 15,000 of his 50,000 shares the morning after a large competitor's profit "
                 "warning hit the sector, and in the same session cuts his four other retail holdings by a similar "
                 "proportion; four other institutions sold the name too. Three days later the company's own "
                 "trading update disappoints (-14%). A partial, sector-wide reduction on a competitor's public "
                 "warning is not the trade of someone who knew this company's update.",
                 (CLOSE,), w, trader, sym, trade, "SELL", 15_000,
                 ("Profit Warning", event, "Madison Home Retail warns on full-year profit"), score=70)


def buy_after_possible_offer_statement() -> Case:
    name, sym, trade, event = "heldout_insider_buy_after_possible_offer_statement", "HRBY", day("2024-04-18"), \
        day("2024-04-29")
    w = _world(name, sym, "Harbury Foods", "Consumer Staples", trade, event, 4.45,
               moves={day("2024-04-15"): 0.22, event: 0.06})
    trader = w.profile("T409", "Owen Pike", "Equity Trader", "Cash Equities", "MEDIUM", "")
    w.baseline("T409", {"HLX": BASKET["HLX"], "KRNL": BASKET["KRNL"], "SOLR": BASKET["SOLR"]}, 45, (2_000, 4_000),
               trade - timedelta(days=3))
    for i, d in enumerate(("2024-04-15", "2024-04-15", "2024-04-16", "2024-04-17", "2024-04-19")):
        w.peer(f"P-96{i}", day(d), sym, "BUY", 10_000 + 5_000 * i, 4.40)
    w.headline(sym, "2024-04-15 07:00", "RNS", "Harbury Foods plc: Statement re possible offer")
    w.headline(sym, "2024-04-15 07:20", "Reuters", "Harbury Foods confirms takeover approach from Ardent Foods; "
               "shares jump")
    w.headline(sym, "2024-04-29 07:00", "RNS", "Recommended cash offer for Harbury Foods by Ardent Foods at 480p")
    return _case(name, "control",
                 "Typical false positive: buying a target after it confirmed a takeover approach (UK Takeover Code "
                 "Rule 2.4 'possible offer' announcement) and before the firm offer (Rule 2.7)",
                 "An equity trader buys 8,000 shares three days after the company announced it had received an "
                 "approach and the stock jumped 22%, alongside five other firms; the firm offer eleven days later "
                 "adds 6%. Event-driven buying of a publicly confirmed approach is trading on public information.",
                 (CLOSE,), w, trader, sym, trade, "BUY", 8_000,
                 ("Takeover Offer", event, "Ardent Foods recommended cash offer for Harbury Foods"), score=73)


def sell_to_cover_rsu_vesting() -> Case:
    name, sym, trade, event = "heldout_insider_sell_to_cover_vesting", "VRTA", day("2024-08-15"), day("2024-08-21")
    w = _world(name, sym, "Veritas Analytics", "Technology", trade, event, 88.00, vol=0.005,
               moves={day("2024-08-22"): -0.12}, closes={event: 88.40})
    trader = w.profile("T410", "Grace Okoye", "Chief Technology Officer", "Executive Management", "HIGH",
                       "Pre-arranged plan adopted 2023-01-20 (Rule 10b5-1): sell-to-cover on quarterly vesting of "
                       "VRTA restricted stock units to meet tax withholding; pre-clearance required")
    for d, qty, price in (("2023-05-15", 3_880, 71.0), ("2023-08-15", 4_020, 74.5), ("2023-11-15", 3_950, 79.2),
                          ("2024-02-15", 4_410, 83.1), ("2024-05-15", 4_380, 86.4)):
        w.trade("T410", day(d), sym, "SELL", qty, price, "Technology")
    w.headline(sym, "2024-08-01 16:05", "Company filing", "Veritas Analytics to report second-quarter results on "
               "August 21")
    return _case(name, "control",
                 "Typical false positive: an officer's automatic 'sell-to-cover' sale of vesting restricted stock "
                 "units under a Rule 10b5-1 plan (Rule 10b5-1(c); SEC Release 33-11138 exempts sell-to-cover from "
                 "the cooling-off period)",
                 "The chief technology officer's quarterly vesting is partly sold to cover the tax withholding on "
                 "the 15th, as it has been each quarter since the plan was adopted nineteen months ago (3,880 to "
                 "4,410 shares, varying with the vesting and the tax rate). The results six days later are published "
                 "after the close and the next session falls 12%. The vesting, not the results, timed the sale; "
                 "vesting is not a trade, so the history shows only the sales.",
                 (CLOSE,), w, trader, sym, trade, "SELL", 4_460,
                 ("Earnings Release", event, "Veritas Analytics second-quarter revenue misses, cuts outlook"), score=74)


CASES = (shadow_trading_peer_company, index_provider_front_running, card_data_before_earnings,
         tranche_accumulation_before_bid, consultant_buys_target_after_rumour, buy_after_preopen_results,
         drip_director_purchase, sector_basket_derisking, buy_after_possible_offer_statement, sell_to_cover_rsu_vesting)
