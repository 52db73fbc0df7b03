"""Held-out set 2, wash trades (see heldout2_insider.py for what the second held-out set is and why)."""

from __future__ import annotations

from datetime import timedelta

from cases.common import CLOSE, ESCALATE, REVIEW, Case
from cases.heldout2_common import anchor
from cases.heldout_wash import _case, _retail_flow
from cases.wash import _legs
from cases.wash import _world as _library_world
from cases.world import World, day, weekdays


def _world(name, symbol, trade, price, daily_volume):
    """The library's wash-trade world, its path ending where the trade day opens (see anchor)."""
    w = _library_world(name, symbol, trade, price, daily_volume)
    anchor(w, symbol, trade, price)
    return w


def _phase(case: Case, phase: str) -> Case:
    """The alert's market phase as the venue reported it (closing auction, off-book …)."""
    alert = case.alert.replace("<MarketPhase>Continuous trading</MarketPhase>", f"<MarketPhase>{phase}</MarketPhase>")
    assert alert != case.alert
    return Case(case.name, case.kind, case.category, case.modelled_on, case.rationale, case.acceptable, case.world,
                alert)


# --------------------------------------------------------------------------- enforcement-modelled

def nominee_companies_matched_orders() -> Case:
    name, sym, trade = "heldout2_wash_nominee_companies_matched_orders", "AVLN", day("2024-09-18")
    w = World(name)
    # a microcap promoted over the month: the price climbs from 0.30 to 0.44, then 0.45 on the day
    sessions = list(weekdays(trade - timedelta(days=40), trade - timedelta(days=1)))
    ramp = {d: round(0.30 + 0.14 * i / (len(sessions) - 1), 3) for i, d in enumerate(sessions)}
    w.market(sym, trade - timedelta(days=40), trade + timedelta(days=5), 0.30, vol=0.01, volume=450_000,
             closes={**ramp, trade: 0.45}, volumes={trade: 600_000})
    w.account("ACC-8101", "BO-8101", "Lavender Holdings SA", "corporate", ["ACC-8102", "ACC-8103"], "direct")
    w.account("ACC-8102", "BO-8102", "Orchid Trading Ltd", "corporate", ["ACC-8101"], "direct")
    w.account("ACC-8103", "BO-8103", "Saffron Ventures Inc", "corporate", ["ACC-8101"], "direct")
    history = (("2024-08-21", "ACC-8102", "ACC-8101", "10:14:05.000", 50_000, 22_000),
               ("2024-08-23", "ACC-8101", "ACC-8103", "14:31:40.000", 40_000, 35_000),
               ("2024-08-28", "ACC-8103", "ACC-8101", "11:02:12.000", 70_000, 18_500),
               ("2024-08-30", "ACC-8101", "ACC-8102", "15:10:00.000", 60_000, 41_000),
               ("2024-09-04", "ACC-8102", "ACC-8101", "09:48:31.000", 80_000, 12_000),
               ("2024-09-06", "ACC-8101", "ACC-8103", "13:20:09.000", 55_000, 27_500),
               ("2024-09-11", "ACC-8103", "ACC-8101", "10:55:45.000", 65_000, 30_000),
               ("2024-09-13", "ACC-8101", "ACC-8102", "14:05:18.000", 45_000, 16_000))
    for d, buyer, seller, clock, qty, gap in history:
        w.cross(buyer, seller, sym, day(d), clock, qty, w.close(sym, day(d)), gap)
    w.cross("ACC-8102", "ACC-8101", sym, trade, "14:02:11.000", 60_000, 0.45, 27_500)
    for account in ("ACC-8101", "ACC-8102", "ACC-8103"):
        _retail_flow(w, account, sym, ["2024-08-27", "2024-09-10"], 0.38)
    return _case(name, "enforcement",
                 "SEC v. Wintercap SA, Roger Knox et al. (D. Mass., 2018; Knox's guilty plea 2020): offshore "
                 "nominee companies controlled by one group traded microcap shares among themselves in matched "
                 "trades while the stock was promoted, hiding control behind separate corporate owners",
                 "Three offshore companies recorded with different beneficial owners, but listed in the relationship "
                 "file as linked (one registered office), trade a microcap against each other for the ninth time in "
                 "a month, at a price that has risen 50% over the month; today's 60,000-share match is 10% of the "
                 "day's volume. Noise: the legs are 27 seconds apart, not milliseconds, the owners' names differ, "
                 "and each account also trades with the market. A pattern of matched trades between linked "
                 "accounts during a price rise: escalate.",
                 (ESCALATE, REVIEW), w, sym, trade,
                 _legs("ACC-8102", "Orchid Trading Ltd", "ACC-8101", "Lavender Holdings SA", "14:02:11.000",
                       "14:02:38.500", 60_000, 0.45), daily_volume=600_000, score=88)


def employee_two_accounts_self_trades() -> Case:
    name, sym, trade = "heldout2_wash_employee_two_accounts_self_trades", "LTCU", day("2024-03-06")
    w = _world(name, sym, trade, 71.20, 2_000_000)
    w.account("ACC-8201", "BO-8201", "Daniel Okoro", "individual", ["ACC-8202"], "direct")
    w.account("ACC-8202", "BO-8201", "Daniel Okoro", "individual", ["ACC-8201"], "direct")
    history = [("2024-02-12", "10:02:15.100", 80, 69.90, 240), ("2024-02-12", "13:45:00.400", 150, 70.05, 410),
               ("2024-02-15", "09:31:02.000", 60, 70.40, 180), ("2024-02-20", "11:11:11.500", 200, 70.10, 520),
               ("2024-02-20", "15:20:30.000", 100, 70.25, 300), ("2024-02-23", "10:40:00.900", 90, 70.80, 260),
               ("2024-02-27", "14:02:45.300", 180, 71.00, 600), ("2024-02-29", "09:50:10.000", 70, 70.90, 150),
               ("2024-03-01", "12:12:12.200", 130, 71.10, 330), ("2024-03-04", "10:05:05.050", 110, 71.05, 280),
               ("2024-03-06", "09:35:20.000", 90, 71.15, 210), ("2024-03-06", "10:12:40.700", 140, 71.18, 450)]
    for i, (d, clock, qty, price, gap) in enumerate(history):
        buyer, seller = ("ACC-8201", "ACC-8202") if i % 2 == 0 else ("ACC-8202", "ACC-8201")
        w.cross(buyer, seller, sym, day(d), clock, qty, price, gap)
    w.cross("ACC-8202", "ACC-8201", sym, trade, "10:41:05.210", 120, 71.20, 270)
    return _case(name, "enforcement",
                 "CFTC, In re Coinbase, Inc. (March 2021): a Coinbase employee wash-traded on the firm's own "
                 "platform through two accounts he controlled, and the platform reported the resulting volume",
                 "Two accounts of the same individual — an employee of the venue, per the surveillance flag — "
                 "trade a small quantity against each other 270 ms apart at one price, for the thirteenth time in "
                 "three weeks, alternating which account buys, so that neither builds a position. Noise: the sizes "
                 "are tiny (0.01% of the day's volume), so no single cross moves the market. Self-trades in a "
                 "pattern between one owner's accounts are wash trades whatever their size: escalate.",
                 (ESCALATE, REVIEW), w, sym, trade,
                 _legs("ACC-8202", "D Okoro (margin)", "ACC-8201", "D Okoro", "10:41:05.210", "10:41:05.480", 120,
                       71.20), daily_volume=2_000_000, score=79,
                 notes=["Account holder flagged as an employee of the venue operator"])


def market_maker_bot_volume() -> Case:
    name, sym, trade = "heldout2_wash_market_maker_bot_volume", "HYDR", day("2024-08-14")
    w = _world(name, sym, trade, 0.082, 8_000_000)
    w.account("ACC-8301", "BO-8301", "Moonline Trading LLC", "market_maker", ["ACC-8302"], "owner")
    w.account("ACC-8302", "BO-8301", "Moonline Trading LLC", "liquidity_provider", ["ACC-8301"], "owner")
    days = ["2024-07-17", "2024-07-19", "2024-07-23", "2024-07-25", "2024-07-30", "2024-08-01", "2024-08-05",
            "2024-08-07", "2024-08-09", "2024-08-12"]
    for i, d in enumerate(days):
        for j, clock in enumerate(("10:00:01.000", "12:30:07.000", "15:05:44.000")):
            buyer, seller = ("ACC-8301", "ACC-8302") if (i + j) % 2 == 0 else ("ACC-8302", "ACC-8301")
            w.cross(buyer, seller, sym, day(d), clock, 1_000_000 + 250_000 * j, 0.080, 35)
    w.cross("ACC-8301", "ACC-8302", sym, trade, "11:20:00.000", 3_000_000, 0.082, 40)
    return _case(name, "enforcement",
                 "SEC v. Hydrogen Technology Corp., Michael Ross Kane and Tyler Ostern (2022): the issuer's hired "
                 "market maker ran a trading bot that traded the Hydro token between accounts it controlled, to "
                 "create the appearance of an active market",
                 "Two accounts of one market-making firm — recorded as its market-making and liquidity-provision "
                 "books — have crossed one to one and a half million units three times a day on ten days this "
                 "month, 35 ms apart at one price, alternating direction; today's 3,000,000-unit cross is 37.5% of "
                 "the day's volume. Noise: the accounts are registered as market-making books, which FINRA 5210 "
                 "treats as bona fide for an isolated self-match, and the notes say the firm provides liquidity "
                 "under an agreement with the issuer. A registration is no licence for a pattern that makes most "
                 "of a market's volume: escalate.",
                 (ESCALATE, REVIEW), w, sym, trade,
                 _legs("ACC-8301", "Moonline Trading MM Book", "ACC-8302", "Moonline Trading LP Book", "11:20:00.000",
                       "11:20:00.040", 3_000_000, 0.082), daily_volume=8_000_000, score=94,
                 notes=["Liquidity provider engaged by the issuer under a market-making agreement"])


# --------------------------------------------------------------------------- false-positive controls

def closing_auction_same_print() -> Case:
    name, sym, trade = "heldout2_wash_closing_auction_same_print", "GRNT", day("2024-06-28")
    w = _world(name, sym, trade, 14.62, 1_250_000)
    w.account("ACC-8401", "BO-8401", "Ashcombe County Council Pension Fund", "pension_fund", [], "direct")
    w.account("ACC-8402", "BO-8402", "Northern Mutual Life Assurance", "insurance", [], "direct")
    _retail_flow(w, "ACC-8401", sym, ["2024-06-05", "2024-06-19"], 14.5)
    _retail_flow(w, "ACC-8402", sym, ["2024-06-11"], 14.5)
    case = _case(name, "control",
                 "Typical false positive: two unrelated institutions' market-on-close orders executed in the "
                 "closing auction, where every execution carries the auction's uncrossing time and price",
                 "A pension fund's sell-on-close and an insurer's buy-on-close, each 25,000 shares, executed in the "
                 "closing auction at 16:35:00.000 at the closing price; the surveillance system paired them because "
                 "the quantity, the price and the timestamp match. Every auction print has the same timestamp and "
                 "price; the owners are unrelated, with no link and no earlier trade between them; 2% of the day's "
                 "volume.",
                 (CLOSE,), w, sym, trade,
                 _legs("ACC-8402", "Northern Mutual Life", "ACC-8401", "Ashcombe CC Pension Fund", "16:35:00.000",
                       "16:35:00.000", 25_000, 14.62), daily_volume=1_250_000, score=74, severity="MEDIUM")
    w.cross("ACC-8402", "ACC-8401", sym, trade, "16:35:00.000", 25_000, 14.62, 0)
    return _phase(case, "Closing auction")


def average_price_account_allocation() -> Case:
    name, sym, trade = "heldout2_wash_average_price_account_allocation", "TWNE", day("2024-11-13")
    w = _world(name, sym, trade, 31.27, 900_000)
    w.account("ACC-8501", "BO-8501", "Kestrel Securities Ltd", "average_price_account", [], "house")
    w.account("ACC-8502", "BO-8502", "Larchmont Global Equity Fund", "fund", [], "direct")
    # each time the client trades, the broker fills the order on the market through its average-price
    # account during the day and books the total to the client at the average price after the close
    booked = {}
    for d, fills in (("2024-10-17", 5), ("2024-10-24", 6), ("2024-10-31", 4), ("2024-11-06", 7)):
        booked[d] = [(w.rng.randrange(4_000, 8_000, 100), round(31.0 * w.rng.uniform(0.99, 1.01), 2))
                     for _ in range(fills)]
    booked[trade.isoformat()] = list(zip((6_000, 5_500, 7_000, 6_200, 5_800, 6_300, 5_900, 5_600),
                                         (31.20, 31.25, 31.30, 31.34, 31.22, 31.28, 31.31, 31.25), strict=True))
    for d, fills in booked.items():
        for k, (qty, price) in enumerate(fills):
            w.account_trade("ACC-8501", day(d), f"{10 + k // 2:02d}:{(k % 2) * 30 + 5:02d}:00.000", sym, "BUY", qty,
                            price)
        total = sum(q for q, _p in fills)
        w.cross("ACC-8502", "ACC-8501", sym, day(d), "16:45:00.000", total,
                round(sum(q * p for q, p in fills) / total, 2), 0)
    total = sum(q for q, _p in booked[trade.isoformat()])
    avg = round(sum(q * p for q, p in booked[trade.isoformat()]) / total, 2)
    return _case(name, "control",
                 "Typical false positive: a broker's average-price account passing a client's fills to the client "
                 "at the average price (the booking that completes one client order, FINRA Rule 6140 and trade "
                 "reporting guidance on riskless-principal and average-price bookings)",
                 "The broker filled an asset manager's buy order on the market during the day through its "
                 "average-price account and, after the close, booked the 48,300 shares to the fund at the average "
                 "price; it did the same for the fund's four earlier orders this month. The 'pairs' are bookings "
                 "of shares the broker bought on the market for the client, always in one direction: the fund "
                 "only buys, the average-price account ends each day flat. Owners unrelated; 5.4% of the day's "
                 "volume, which is the client's own order.",
                 (CLOSE,), w, sym, trade,
                 _legs("ACC-8502", "Larchmont Global Equity Fund", "ACC-8501", "Kestrel Securities Average Price "
                       "Account", "16:45:00.000", "16:45:00.000", total, avg), daily_volume=900_000, score=72,
                 severity="MEDIUM")


def negotiated_block_unrelated() -> Case:
    name, sym, trade = "heldout2_wash_negotiated_block_unrelated", "MRLN", day("2024-02-14")
    w = _world(name, sym, trade, 9.84, 3_300_000)
    w.account("ACC-8601", "BO-8601", "Ashdown Pension Fund", "pension_fund", [], "direct")
    w.account("ACC-8602", "BO-8602", "Meridian Life Assurance", "insurance", [], "direct")
    _retail_flow(w, "ACC-8601", sym, ["2024-01-22", "2024-02-05"], 9.7)
    w.cross("ACC-8602", "ACC-8601", sym, trade, "12:05:00.000", 300_000, 9.80, 0)
    case = _case(name, "control",
                 "Typical false positive: a negotiated block trade between two unrelated institutions, arranged by "
                 "a broker and reported off-book at the agreed price (MiFIR negotiated-trade waiver)",
                 "A pension fund sells 300,000 shares to an insurer in one negotiated block at 9.80, inside the "
                 "day's range, reported as a negotiated trade; both legs carry the same timestamp. It is 9% of "
                 "the day's volume, but a reported block between unrelated owners is a real change of ownership "
                 "and gives no false impression of activity; the accounts have never traded with each other.",
                 (CLOSE,), w, sym, trade,
                 _legs("ACC-8602", "Meridian Life Assurance", "ACC-8601", "Ashdown Pension Fund", "12:05:00.000",
                       "12:05:00.000", 300_000, 9.80), daily_volume=3_300_000, score=77, severity="MEDIUM")
    return _phase(case, "Off-book (negotiated trade)")


CASES = (nominee_companies_matched_orders, employee_two_accounts_self_trades, market_maker_bot_volume,
         closing_auction_same_print, average_price_account_allocation, negotiated_block_unrelated)
