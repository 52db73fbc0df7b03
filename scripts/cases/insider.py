"""Insider-dealing cases: enforcement actions re-enacted on synthetic data, and the ambiguous ones.

The false-positive controls are in insider_controls.py.

The facts are synthetic (names, tickers, prices); the pattern of each case is the one the named
action or false-positive type is known for.
"""

from __future__ import annotations

from datetime import date, timedelta

from cases import alerts
from cases.common import BASKET, ESCALATE, REVIEW, Case, check_weekday, market_around
from cases.world import World, day

KIND = "insider_dealing"


def _case(name, category, modelled_on, rationale, acceptable, w, trader, symbol, trade, side, qty, event, *,
          score, estimated_profit=0, price=None, notes=()):
    """The case, its alert at the trade day's close (or at ``price`` when the symbol has no prices)."""
    check_weekday(trade)
    price = w.close(symbol, trade) if price is None else price
    alert_id = f"ITA-{trade:%Y%m%d}-{sum(map(ord, name)) % 1000:03d}"
    xml = alerts.insider(alert_id, trader, symbol, trade, side, qty, price, event, score=score,
                         estimated_profit=estimated_profit, notes=notes)
    return Case(name, KIND, category, modelled_on, rationale, tuple(acceptable), w, xml)


def _world(name: str, symbol: str, issuer: str, sector: str, trade: date, event: date | None, price: float,
           **market) -> World:
    w = World(name)
    w.instrument(symbol, issuer, sector)
    market_around(w, symbol, trade, event, price, **market)
    w.background_peers(symbol, price, trade - timedelta(days=70), trade - timedelta(days=10))
    return w


def takeover_tip_first_trade() -> Case:
    name, sym, trade, event = "insider_takeover_tip_first_trade", "BRDL", day("2024-03-13"), day("2024-03-15")
    w = _world(name, sym, "Brindle Therapeutics", "Healthcare", trade, event, 24.10, moves={event: 0.36})
    trader = w.profile("T101", "Amira Haddad", "Associate", "M&A Advisory", "HIGH", "Pre-clearance required")
    w.baseline("T101", {k: BASKET[k] for k in ("QRTZ", "SOLR", "PRSM")}, 30, (800, 2_400), trade - timedelta(days=3))
    w.headline(sym, "2024-02-26 09:00", "PR Newswire", "Brindle Therapeutics to present at healthcare investor "
               "conference")
    w.headline(sym, "2024-03-15 07:00", "Reuters", "Halden Pharma agrees to acquire Brindle Therapeutics at 38% "
               "premium")
    return _case(name, "enforcement",
                 "R v. Christian Littlewood (FCA prosecution, 2011): a corporate broker dealt ahead of takeover "
                 "announcements he knew of through his work",
                 "An M&A adviser buys 30,000 shares of a company she has never traded, about 19 times her usual "
                 "size and in a new sector, two days before a takeover at a 38% premium; nothing about the bid was "
                 "public. Every element of the classic pattern is present.",
                 (ESCALATE,), w, trader, sym, trade, "BUY", 30_000,
                 ("M&A Announcement", event, "Halden Pharma agrees to acquire Brindle Therapeutics at a 38% premium"),
                 score=95, estimated_profit=261_000)


def after_hours_investment_news() -> Case:
    name, sym, trade = "insider_after_hours_investment_news", "GSBK", day("2024-09-23")
    w = _world(name, sym, "Granite Street Bank", "Financials", trade, trade, 125.00, vol=0.004,
               closes={day("2024-09-20"): 124.60}, moves={day("2024-09-24"): 0.062})
    trader = w.profile("T102", "Raj Khanna", "Portfolio Manager", "Hedge Fund Desk", "MEDIUM", "")
    w.baseline("T102", {"PRSM": ("Financials", 62.0), "QRTZ": BASKET["QRTZ"], "SOLR": BASKET["SOLR"]}, 36,
               (5_000, 20_000), trade - timedelta(days=3))
    for d, q in (("2023-11-14", 10_000), ("2024-02-06", 12_000), ("2024-04-23", 8_000), ("2024-07-09", 10_000)):
        w.trade("T102", day(d), sym, "BUY" if q != 8_000 else "SELL", q, 118.0, "Financials")
    w.headline(sym, "2024-09-10 08:00", "Company filing", "Granite Street Bank to report third-quarter results on "
               "October 14")
    w.headline(sym, "2024-09-18 12:30", "Bloomberg", "Bank stocks rise as investors bet on rate cuts")
    return _case(name, "enforcement",
                 "United States v. Rajat Gupta / SEC v. Rajaratnam (2011-2012): Galleon bought Goldman Sachs stock "
                 "minutes before the close after a board member learned of Berkshire Hathaway's $5bn investment, "
                 "which was announced after the close",
                 "A portfolio manager buys nine times his usual size in the last session before an investment in the "
                 "bank is announced after the close: the bank's own session barely moves (+0.3%), the next one rises "
                 "6.2%. Measured at the event day's close the trade looks flat; measured where the news could first "
                 "be traded it made about 930,000. The only issuer headline is a results-date notice.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, "BUY", 120_000,
                 ("Strategic Investment", trade, "Granite Street Bank announces a $5bn preferred investment by "
                                                 "Oakridge Holdings"), score=88, estimated_profit=0)


def whole_position_exit_after_hours() -> Case:
    name, sym, trade, event = "insider_whole_position_exit_after_hours", "CLNX", day("2024-06-26"), day("2024-06-27")
    w = _world(name, sym, "Clonex Biologics", "Healthcare", trade, event, 60.00, vol=0.004,
               closes={event: 60.25}, moves={day("2024-06-28"): -0.16})
    trader = w.profile("T103", "Margaret Shaw", "Private Client Adviser", "Wealth Management", "MEDIUM", "")
    w.baseline("T103", {k: BASKET[k] for k in ("QRTZ", "HLX", "PRSM")}, 30, (1_000, 3_000), trade - timedelta(days=3))
    w.trade("T103", day("2023-10-12"), sym, "BUY", 2_000, 58.0, "Healthcare")
    w.trade("T103", day("2024-01-18"), sym, "BUY", 2_000, 61.0, "Healthcare")
    w.headline(sym, "2024-06-10 09:00", "PR Newswire", "Clonex Biologics to present at oncology conference")
    w.headline(sym, "2024-06-20 14:00", "MarketWatch", "Biotech shares slide on rumours of stricter FDA reviews")
    return _case(name, "enforcement",
                 "SEC v. Martha Stewart and Peter Bacanovic (2003): she sold her entire ImClone position the day "
                 "before ImClone disclosed, after the close, that the FDA had refused to file its application",
                 "The adviser sells all 4,000 shares she holds the day before the company discloses, after the "
                 "close, that the regulator refused its filing. The event day closes slightly up (against a seller); "
                 "the next session falls 16%. Her only other trades in the name are the two purchases that built "
                 "the position, so 'usual size in a name she trades' does not apply. The only FDA headline before "
                 "the sale is sector chatter that does not name the issuer.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, "SELL", 4_000,
                 ("Regulatory Decision", event, "FDA refuses to file Clonex Biologics' licence application"),
                 score=84)


def large_holder_sale_before_placing() -> Case:
    name, sym, trade, event = "insider_large_holder_sale_before_placing", "TAVN", day("2024-06-13"), day("2024-06-14")
    w = _world(name, sym, "Tavernier Group", "Consumer", trade, event, 3.10, moves={event: -0.11})
    trader = w.profile("T104", "Jonas Whitfield", "Portfolio Manager", "Long/Short Equity", "MEDIUM", "")
    w.baseline("T104", {k: BASKET[k] for k in ("QRTZ", "HLX", "KRNL")}, 35, (20_000, 60_000), trade - timedelta(days=3))
    w.trade("T104", day("2024-01-10"), sym, "BUY", 60_000, 2.95, "Consumer")
    w.trade("T104", day("2024-03-05"), sym, "BUY", 40_000, 3.02, "Consumer")
    w.headline(sym, "2024-05-20 09:00", "Company filing", "Tavernier Group annual general meeting notice")
    w.headline(sym, "2024-06-07 11:00", "The Grocer", "Pub operators under pressure amid sector consolidation "
               "rumours")
    return _case(name, "enforcement",
                 "FCA Final Notice, David Einhorn and Greenlight Capital (2012): a large holder sold Punch Taverns "
                 "shares after being wall-crossed on a planned equity issue",
                 "A portfolio manager sells 80,000 of the 100,000 shares his history shows him holding, the day "
                 "before the issuer announces a discounted placing that takes 11% off the price. The one 'rumour' "
                 "headline before the sale is sector chatter about pub operators that does not name the issuer.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, "SELL", 80_000,
                 ("Share Placement", event, "Tavernier Group announces an equity placing at a 9% discount"),
                 score=81)


def accumulation_weeks_before_bid() -> Case:
    name, sym, trade, event = "insider_accumulation_weeks_before_bid", "KELP", day("2024-04-08"), day("2024-04-24")
    w = _world(name, sym, "Kelpie Foods", "Consumer Staples", trade, event, 12.40, moves={event: 0.42})
    trader = w.profile("T105", "Ravi Menon", "Sales Trader", "Cash Equities", "MEDIUM", "")
    w.baseline("T105", {k: BASKET[k] for k in ("QRTZ", "SOLR", "PRSM")}, 45, (1_000, 4_000), trade - timedelta(days=3))
    w.headline(sym, "2024-03-28 07:00", "Company filing", "Kelpie Foods publishes annual report")
    w.headline(sym, "2024-04-24 07:00", "Reuters", "Ardent Foods makes agreed bid for Kelpie Foods at 45% premium")
    return _case(name, "enforcement",
                 "R v. Malcolm Calvert (FCA prosecution, 2010): shares bought weeks before takeover announcements the "
                 "defendant learned of as a broker",
                 "A sales trader buys six times his usual size in a name and sector he has never traded, sixteen days "
                 "before an agreed bid at a 45% premium, with nothing public about it: the accumulation pattern, "
                 "outside the one-week window but well inside the run-up to a deal.",
                 (ESCALATE,), w, trader, sym, trade, "BUY", 15_000,
                 ("Takeover Offer", event, "Ardent Foods agreed bid for Kelpie Foods at a 45% premium"), score=90)


def exit_before_breach_disclosure() -> Case:
    name, sym, trade, event = "insider_exit_before_breach_disclosure", "CRDX", day("2024-08-28"), day("2024-09-06")
    w = _world(name, sym, "Credexa", "Financials", trade, event, 142.00, vol=0.004,
               closes={day("2024-09-05"): 143.10, event: 143.50}, moves={day("2024-09-09"): -0.14})
    trader = w.profile("T106", "Daniel Park", "Chief Information Officer", "Technology", "HIGH",
                       "Pre-clearance required")
    w.baseline("T106", {k: BASKET[k] for k in ("QRTZ", "SOLR")}, 8, (500, 1_500), trade - timedelta(days=3))
    for d in ("2023-09-12", "2023-12-12", "2024-03-12"):
        w.trade("T106", day(d), sym, "BUY", 2_000, 130.0, "Financials")
    w.headline(sym, "2024-08-20 09:00", "PR Newswire", "Credexa to present at fintech conference")
    w.headline(sym, "2024-08-22 15:00", "SecurityWeek", "Cybersecurity stocks fall after sector-wide ransomware "
               "warning")
    return _case(name, "enforcement",
                 "SEC v. Jun Ying (2018): Equifax's US chief information officer sold all his shares ten days before "
                 "the company disclosed its data breach",
                 "A chief information officer with high access sells all 6,000 shares he holds nine days before the "
                 "company discloses a data breach after the close; the next session falls 14%. The trade is outside "
                 "a one-week window but inside the event's run-up; the nearest 'breach' headline is sector news.",
                 (ESCALATE,), w, trader, sym, trade, "SELL", 6_000,
                 ("Data Breach Disclosure", event, "Credexa discloses a cybersecurity breach affecting customer data"),
                 score=86)


def trial_failure_liquidation() -> Case:
    name, sym, trade, event = "insider_trial_failure_liquidation", "ELNX", day("2024-07-19"), day("2024-07-29")
    w = _world(name, sym, "Elanix Neuroscience", "Healthcare", trade, event, 33.00, moves={event: -0.38})
    trader = w.profile("T107", "Mark Tobin", "Portfolio Manager", "Healthcare Fund", "MEDIUM", "")
    w.baseline("T107", {"VRDN": ("Healthcare", 28.0), "QRTZ": BASKET["QRTZ"]}, 30, (5_000, 15_000),
               trade - timedelta(days=3))
    for d in ("2023-09-05", "2023-10-17", "2023-12-05", "2024-02-13", "2024-04-09", "2024-06-04"):
        w.trade("T107", day(d), sym, "BUY", 3_000, 30.0, "Healthcare")
    w.peer("P-811", day("2024-07-18"), sym, "SELL", 2_000, 33.2)
    w.peer("P-812", day("2024-07-22"), sym, "SELL", 1_500, 32.9)
    w.headline(sym, "2024-07-10 09:00", "Company filing", "Elanix Neuroscience to present Phase 2 data at "
               "international conference on July 29")
    w.headline(sym, "2024-07-15 10:00", "Fierce Biotech", "Alzheimer's drug developers rally on sector optimism")
    return _case(name, "enforcement",
                 "United States v. Mathew Martoma (2014): a portfolio manager liquidated positions in the week before "
                 "negative drug-trial results were presented",
                 "A portfolio manager who built 18,000 shares over six purchases sells 16,000 of them (89%) ten days "
                 "before the trial data are presented and the stock loses 38%. The size is ordinary for him, which is "
                 "exactly why 'usual size' must not mitigate a liquidation.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, "SELL", 16_000,
                 ("Clinical Trial Results", event, "Elanix Phase 2 Alzheimer's data disappoint"), score=79)


def director_blackout_sale() -> Case:
    name, sym, trade, event = "insider_director_blackout_sale", "IMNX", day("2024-06-21"), day("2024-06-26")
    w = _world(name, sym, "Immunexa", "Healthcare", trade, event, 4.20, moves={event: -0.92})
    trader = w.profile("T108", "Charles Whitmore", "Non-Executive Director", "Board", "HIGH",
                       "Blackout: IMNX closed period until trial results are announced; pre-clearance required")
    w.baseline("T108", {k: BASKET[k] for k in ("QRTZ", "PRSM")}, 10, (2_000, 8_000), trade - timedelta(days=3))
    w.trade("T108", day("2023-11-02"), sym, "BUY", 8_000, 3.9, "Healthcare")
    w.headline(sym, "2024-06-03 09:00", "Company filing", "Immunexa confirms trial read-out expected in late June")
    return _case(name, "enforcement",
                 "SEC v. Christopher Collins et al. (2018): a director of Innate Immunotherapeutics passed on news of "
                 "a failed trial before its announcement",
                 "A director sells his holding three days before a trial failure wipes out 92% of the value, inside a "
                 "documented blackout for this very instrument.",
                 (ESCALATE,), w, trader, sym, trade, "SELL", 8_000,
                 ("Clinical Trial Results", event, "Immunexa's lead drug fails its primary endpoint"), score=93)


def plan_adopted_while_aware() -> Case:
    name, sym, trade, event = "insider_plan_adopted_while_aware", "ONTX", day("2024-05-06"), day("2024-05-24")
    w = _world(name, sym, "Ontrex Health", "Healthcare", trade, event, 8.40, moves={event: -0.44})
    trader = w.profile("T109", "Victor Kane", "Chief Executive Officer", "Executive Office", "HIGH",
                       "Rule 10b5-1 trading plan adopted 2024-05-02: sell ONTX weekly; pre-clearance required")
    w.baseline("T109", {k: BASKET[k] for k in ("QRTZ", "SOLR")}, 6, (2_000, 6_000), trade - timedelta(days=20))
    w.headline(sym, "2024-04-25 16:05", "Company filing", "Ontrex Health to report first-quarter results on May 9")
    return _case(name, "enforcement",
                 "SEC v. Terren Peizer (2023): the first insider-trading case built on Rule 10b5-1 plans alone — plans "
                 "adopted while aware that a major customer was leaving, sales starting the next trading day",
                 "A chief executive's plan was adopted four days before this first sale (no cooling-off period) and "
                 "eighteen days before the loss of the largest customer is disclosed (-44%). A plan adopted inside the "
                 "event's run-up explains nothing; naming the ticker in the plan is not a restriction either.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, "SELL", 150_000,
                 ("Customer Loss", event, "Ontrex Health discloses the loss of its largest customer"), score=87)


def earnings_tip_scheduling_notice() -> Case:
    name, sym, trade, event = "insider_earnings_tip_scheduling_notice", "PLYX", day("2024-01-24"), day("2024-01-26")
    w = _world(name, sym, "Polyxa Communications", "Technology", trade, event, 21.50, moves={event: 0.12})
    trader = w.profile("T110", "Leah Morgan", "Equity Research Analyst", "Research", "MEDIUM", "")
    w.baseline("T110", {k: BASKET[k] for k in ("QRTZ", "SOLR", "HLX")}, 40, (1_000, 3_000), trade - timedelta(days=3))
    for d in ("2023-05-16", "2023-08-22", "2023-11-07"):
        w.trade("T110", day(d), sym, "BUY", 2_000, 19.5, "Technology")
    w.headline(sym, "2024-01-08 16:00", "Company filing", "Polyxa Communications to report fourth-quarter results on "
               "January 26")
    w.headline(sym, "2024-01-15 09:00", "PR Newswire", "Polyxa Communications to present at technology conference")
    w.headline(sym, "2024-01-26 07:00", "Company filing", "Polyxa reports fourth-quarter revenue well above consensus")
    return _case(name, "enforcement",
                 "SEC v. Galleon Management et al. (2009): purchases ahead of quarterly earnings announcements on tips "
                 "from company insiders (Polycom among them)",
                 "A research analyst buys 5.6 times her usual size two days before results that beat consensus by far "
                 "(+12%). The only issuer news before the trade announces the results date and a conference: "
                 "scheduling notices, not disclosure.",
                 (ESCALATE,), w, trader, sym, trade, "BUY", 12_000,
                 ("Earnings Release", event, "Polyxa fourth-quarter revenue well above consensus"), score=89)


def tipping_chain_crowd_sale() -> Case:
    name, sym, trade, event = "insider_tipping_chain_crowd_sale", "DLLX", day("2024-08-23"), day("2024-08-28")
    w = _world(name, sym, "Dellex Computer", "Technology", trade, event, 18.40, vol=0.004,
               closes={event: 18.45}, moves={day("2024-08-29"): -0.13}, vix={trade: 32.5})
    trader = w.profile("T115", "Anthony Chase", "Portfolio Manager", "Technology Long/Short", "MEDIUM", "")
    w.baseline("T115", {"DLLX": ("Technology", 18.0), "QRTZ": BASKET["QRTZ"]}, 50, (30_000, 60_000),
               trade - timedelta(days=3))
    for i, d in enumerate(("2024-08-22", "2024-08-23", "2024-08-23", "2024-08-26")):
        w.peer(f"P-89{i}", day(d), sym, "SELL", 60_000 + 20_000 * i, 18.3, "institutional")
    w.headline(sym, "2024-08-12 16:00", "Company filing", "Dellex Computer to report second-quarter results on "
               "August 28")
    return _case(name, "enforcement",
                 "United States v. Newman and Chiasson (S.D.N.Y. 2012; convictions vacated by the Second Circuit in "
                 "2014): portfolio managers sold Dell ahead of its results on numbers passed down a chain of "
                 "analysts, as other funds in the chain did",
                 "A portfolio manager sells his usual size in a name he trades every few weeks, three sessions "
                 "before results published after the close send the stock 13% lower the next day; four other funds "
                 "sold too and the market was turbulent. The crowd and the usual size outweigh the timing, the "
                 "silence and the loss avoided, but do not explain them: when the crowd is the tipping chain, only "
                 "a human can tell.",
                 (REVIEW, ESCALATE), w, trader, sym, trade, "SELL", 45_000,
                 ("Earnings Release", event, "Dellex second-quarter results miss consensus"), score=76)


def new_joiner_no_history() -> Case:
    name, sym, trade, event = "insider_new_joiner_no_history", "WAVE", day("2024-05-14"), day("2024-05-17")
    w = _world(name, sym, "Wavecrest Energy", "Energy", trade, event, 18.20, moves={event: 0.09})
    trader = w.profile("T111", "Tomasz Nowak", "Analyst", "Cash Equities", "MEDIUM", "")
    w.headline(sym, "2024-05-02 09:00", "Company filing", "Wavecrest Energy to hold capital markets day")
    return _case(name, "ambiguous",
                 "Typical data gap: a new joiner with no trading history, so no baseline to measure the trade against",
                 "A recently joined analyst buys three days before a contract award. With no trading history the "
                 "size and novelty of the trade cannot be judged: a human must review it.",
                 (REVIEW,), w, trader, sym, trade, "BUY", 5_000,
                 ("Contract Award", event, "Wavecrest Energy awarded offshore wind contract"), score=70)


def no_market_data_estimated_profit() -> Case:
    name, sym, trade, event = "insider_no_market_data_estimated_profit", "NEWC", day("2024-10-15"), day("2024-10-18")
    w = World(name)
    w.instrument(sym, "Newcastle Minerals", "Materials")
    trader = w.profile("T112", "Grace Liu", "Equity Trader", "Cash Equities", "MEDIUM", "")
    w.baseline("T112", {k: BASKET[k] for k in ("QRTZ", "SOLR", "HLX")}, 40, (1_000, 3_000), trade - timedelta(days=3))
    w.headline(sym, "2024-10-01 09:00", "Mining Weekly", "Newcastle Minerals begins trading after IPO")
    return _case(name, "ambiguous",
                 "Typical data gap: a recent listing with no prices in the market data, so the outcome cannot be "
                 "measured; the surveillance system's own estimate of the profit is the only figure",
                 "An equity trader buys a newly listed stock three days before a resource upgrade. Our market data has "
                 "no prices for it; the alert estimates a profit of 420,000. The determination cannot rest on the "
                 "data: review.",
                 (REVIEW, ESCALATE), w, trader, sym, trade, "BUY", 60_000,
                 ("Resource Upgrade", event, "Newcastle Minerals doubles its resource estimate"), score=82,
                 estimated_profit=420_000, price=6.50)


def trade_after_press_report() -> Case:
    name, sym, trade, event = "insider_trade_after_press_report", "FJRD", day("2024-05-16"), day("2024-05-20")
    w = _world(name, sym, "Fjordline Shipping", "Industrials", trade, event, 35.60, moves={event: 0.09})
    trader = w.profile("T113", "Priya Raman", "Research Associate", "Equity Research", "MEDIUM",
                       "Pre-clearance required")
    w.baseline("T113", {k: BASKET[k] for k in ("QRTZ", "SOLR", "KRNL")}, 30, (1_200, 2_800), trade - timedelta(days=3))
    w.trade("T113", day("2024-02-06"), sym, "BUY", 2_000, 33.9, "Industrials")
    w.trade("T113", day("2024-04-02"), sym, "SELL", 2_000, 34.8, "Industrials")
    w.peer("P-821", day("2024-05-15"), sym, "BUY", 3_000, 35.2)
    w.headline(sym, "2024-05-02 10:00", "Company filing", "Fjordline Shipping annual general meeting notice")
    w.headline(sym, "2024-05-14 16:20", "Reuters", "Fjordline Shipping said to be in talks for North Sea service "
               "contract - sources")
    w.headline(sym, "2024-05-20 07:00", "Company filing", "Fjordline Shipping awarded five-year North Sea contract")
    return _case(name, "ambiguous",
                 "SEC v. Mayhew (2d Cir. 1997): press reports and rumours of a deal did not make the tipped "
                 "information public — but they are part of what the market knew",
                 "A research associate with research access buys three times her usual size two days after Reuters "
                 "reported, citing sources, that the company was in talks for the contract awarded four days later "
                 "(+9%). The report weakens the case without explaining it: a human must weigh it.",
                 (REVIEW, ESCALATE), w, trader, sym, trade, "BUY", 6_000,
                 ("Contract Award", event, "Five-year North Sea service contract"), score=78)


def research_moderate_size() -> Case:
    name, sym, trade, event = "insider_research_moderate_size", "SLTR", day("2024-09-10"), day("2024-09-16")
    w = _world(name, sym, "Saltire Engineering", "Industrials", trade, event, 22.80, moves={event: 0.07})
    trader = w.profile("T114", "Ewan Fraser", "Research Analyst", "Equity Research", "MEDIUM", "")
    w.baseline("T114", {k: BASKET[k] for k in ("QRTZ", "KRNL", "HLX")}, 36, (1_000, 3_000), trade - timedelta(days=3))
    for d in ("2024-01-16", "2024-04-09", "2024-06-25"):
        w.trade("T114", day(d), sym, "BUY", 2_000, 21.0, "Industrials")
    w.peer("P-831", day("2024-09-09"), sym, "BUY", 2_500, 22.6)
    return _case(name, "ambiguous",
                 "Typical borderline alert: a research analyst's moderately larger trade in a covered name before a "
                 "contract award (MAR Art. 8; FCA SUP 15 Ann 5 suspicion threshold)",
                 "A research analyst buys 3.5 times his usual size in a name he has traded three times, six days "
                 "before a contract award (+7%); nothing was public and one other firm bought too. Suspicion is "
                 "possible but not established.",
                 (REVIEW, ESCALATE), w, trader, sym, trade, "BUY", 7_000,
                 ("Contract Award", event, "Saltire Engineering wins rail signalling contract"), score=74)


CASES = (takeover_tip_first_trade, after_hours_investment_news, whole_position_exit_after_hours,
         large_holder_sale_before_placing, accumulation_weeks_before_bid, exit_before_breach_disclosure,
         trial_failure_liquidation, director_blackout_sale, plan_adopted_while_aware, earnings_tip_scheduling_notice,
         tipping_chain_crowd_sale, new_joiner_no_history, no_market_data_estimated_profit, trade_after_press_report,
         research_moderate_size)
