"""Spoofing / layering cases: orders not meant to execute, and the order flow that only looks like it."""

from __future__ import annotations

from datetime import date, timedelta

from cases import alerts
from cases.common import CLOSE, ESCALATE, REVIEW, Case, check_weekday
from cases.world import World, day, weekdays

KIND = "spoofing"


def _world(name: str, symbol: str, trade: date, price: float, volume: int) -> World:
    w = World(name)
    w.market(symbol, trade - timedelta(days=40), trade + timedelta(days=5), price, closes={trade: price},
             volume=volume)
    return w


def _month(trade: date) -> list[date]:
    return list(weekdays(trade - timedelta(days=29), trade - timedelta(days=1)))


def _case(name, category, modelled_on, rationale, acceptable, w, trader, symbol, trade, orders, *, score):
    check_weekday(trade)
    alert_id = f"SP-{trade:%Y%m%d}-{sum(map(ord, name)) % 1000:03d}"
    xml = alerts.spoofing(alert_id, trader, symbol, trade, orders, score=score)
    return Case(name, KIND, category, modelled_on, rationale, tuple(acceptable), w, xml)


def _layers(prefix: str, side: str, qty: int, prices: list[float], placed: list[str], cancelled: list[str]):
    rows = list(enumerate(zip(prices, placed, cancelled, strict=True), 1))
    return ([(f"{prefix}-{i}", t, side, qty, p, "PLACE", 0) for i, (p, t, _c) in rows]
            + [(f"{prefix}-{i}", c, side, qty, p, "CANCEL", 0) for i, (p, _t, c) in rows])


def _fill(oid: str, side: str, qty: int, price: float, placed: str, executed: str):
    return [(oid, placed, side, qty, price, "PLACE", 0), (oid, executed, side, qty, price, "EXECUTE", qty)]


def _past_episodes(w: World, trader: str, symbol: str, days: list[str], side: str, price: float) -> None:
    """Earlier days with the same signature: four large orders cancelled within seconds."""
    for d in days:
        for i in range(4):
            w.order(trader, day(d), f"11:0{i}:00.000", symbol, side, 25_000, round(price + 0.05 * i, 2),
                    cancel_after=1.5)


def millisecond_layers() -> Case:
    name, sym, trade = "spoofing_millisecond_layers", "FLUX", day("2024-07-09")
    w = _world(name, sym, trade, 41.10, 1_500_000)
    trader = w.profile("T301", "Marco Villa", "Proprietary Trader", "Prop Desk", "MEDIUM", "")
    w.ordinary_orders("T301", sym, 41.0, _month(trade), 0.15, 3)
    _past_episodes(w, "T301", sym, ["2024-06-14", "2024-06-24", "2024-07-02"], "SELL", 41.3)
    orders = sorted(_layers("S", "SELL", 30_000, [41.20, 41.25, 41.30, 41.35],
                            ["10:31:00.100", "10:31:00.150", "10:31:00.200", "10:31:00.250"],
                            ["10:31:00.500", "10:31:00.520", "10:31:00.540", "10:31:00.560"])
                    + _fill("B-1", "BUY", 5_000, 41.10, "10:31:00.300", "10:31:00.420"), key=lambda o: o[1])
    return _case(name, "enforcement",
                 "United States v. Michael Coscia (2015) and the FCA's Final Notice on Coscia (2013): large orders "
                 "on one side cancelled within a fraction of a second while small orders filled on the other",
                 "Four sell orders of 30,000 at four prices are placed, a 5,000 buy fills, and all four sells are "
                 "cancelled 400 ms after placement; the trader did the same on three earlier days.",
                 (ESCALATE,), w, trader, sym, trade, orders, score=94)


def resting_layers_amended() -> Case:
    name, sym, trade = "spoofing_resting_layers_amended", "ESMX", day("2024-05-06")
    w = _world(name, sym, trade, 101.30, 2_000_000)
    trader = w.profile("T302", "Nigel Sands", "Futures Trader", "Proprietary Trading", "MEDIUM", "")
    w.ordinary_orders("T302", sym, 101.0, _month(trade), 0.20, 3)
    prices = [101.50, 101.55, 101.60, 101.65, 101.70]
    orders = [(f"L-{i}", f"10:00:00.{i * 100:03d}", "SELL", 40_000, p, "PLACE", 0) for i, p in enumerate(prices, 1)]
    for step, clock in ((0.05, "10:00:30"), (0.10, "10:01:00")):
        orders += [(f"L-{i}", f"{clock}.{i * 100:03d}", "SELL", 40_000, round(p + step, 2), "AMEND", 0)
                   for i, p in enumerate(prices, 1)]
    orders += [(f"L-{i}", f"10:01:30.{i * 100:03d}", "SELL", 40_000, round(p + 0.10, 2), "CANCEL", 0)
               for i, p in enumerate(prices, 1)]
    orders += _fill("B-1", "BUY", 10_000, 101.20, "10:00:35.000", "10:00:40.000")
    orders += _fill("B-2", "BUY", 10_000, 101.25, "10:01:05.000", "10:01:10.000")
    return _case(name, "enforcement",
                 "United States v. Navinder Sarao (2016) / CFTC v. Nav Sarao Futures (2015): a layering algorithm "
                 "kept large sell orders resting away from the best price, modifying them to avoid execution, while "
                 "he traded on the other side",
                 "Five sell orders of 40,000 rest for 90 s, amended twice to stay away from the touch, while two "
                 "10,000 buys fill; then all five are cancelled. Resting long is no alibi when the orders were kept "
                 "out of reach.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, sorted(orders, key=lambda o: o[1]), score=90)


def iceberg_then_layers() -> Case:
    name, sym, trade = "spoofing_iceberg_then_layers", "GLDF", day("2024-03-12")
    w = _world(name, sym, trade, 2310.0, 300_000)
    trader = w.profile("T303", "Gregory Steele", "Precious Metals Trader", "Metals Desk", "MEDIUM", "")
    w.ordinary_orders("T303", sym, 2305.0, _month(trade), 0.25, 3)
    _past_episodes(w, "T303", sym, ["2024-02-20", "2024-02-28", "2024-03-05"], "SELL", 2310.5)
    orders = _fill("I-1", "BUY", 2_000, 2310.0, "09:15:00.000", "09:15:01.900")
    orders += _layers("L", "SELL", 25_000, [2310.5, 2310.6, 2310.7], ["09:15:01.000", "09:15:01.200", "09:15:01.400"],
                      ["09:15:02.500", "09:15:02.600", "09:15:02.700"])
    return _case(name, "enforcement",
                 "United States v. Gregg Smith and Michael Nowak (2022 convictions); CFTC and DOJ resolutions with "
                 "JPMorgan (2020): large orders placed to fill a small iceberg order on the other side, then "
                 "cancelled",
                 "A 2,000 buy rests; three 25,000 sells at three prices appear, the buy fills, and the sells are "
                 "cancelled a second later — the fourth such day in a month.",
                 (ESCALATE,), w, trader, sym, trade, sorted(orders, key=lambda o: o[1]), score=92)


def flip_after_fill() -> Case:
    name, sym, trade = "spoofing_flip_after_fill", "VIXF", day("2024-10-16")
    w = _world(name, sym, trade, 10.00, 3_000_000)
    trader = w.profile("T304", "Ivan Petrov", "Proprietary Trader", "Futures Desk", "MEDIUM", "")
    w.ordinary_orders("T304", sym, 10.0, _month(trade), 0.30, 4)
    orders = _layers("F", "BUY", 20_000, [9.98, 9.97, 9.96], ["11:20:00.000", "11:20:00.100", "11:20:00.200"],
                     ["11:20:01.000", "11:20:01.050", "11:20:01.100"])
    orders += _fill("X-1", "SELL", 3_000, 10.00, "11:20:00.300", "11:20:00.800")
    orders += _layers("G", "SELL", 20_000, [10.02, 10.03, 10.04], ["11:20:01.200", "11:20:01.300", "11:20:01.400"],
                      ["11:20:02.300", "11:20:02.400", "11:20:02.500"])
    orders += _fill("Y-1", "BUY", 3_000, 10.00, "11:20:01.500", "11:20:02.000")
    return _case(name, "enforcement",
                 "CFTC v. Igor Oystacher and 3Red Trading (2015): large orders cancelled as soon as a fill arrived on "
                 "the other side, then 'flipped' to the opposite side",
                 "Three 20,000 bids rest until a 3,000 sell fills, are cancelled, and three 20,000 offers appear until "
                 "a 3,000 buy fills, and are cancelled in turn — all within three seconds.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, sorted(orders, key=lambda o: o[1]), score=88)


def large_orders_opposite_small() -> Case:
    name, sym, trade = "spoofing_large_orders_opposite_small", "CFDX", day("2024-11-05")
    w = _world(name, sym, trade, 15.42, 1_800_000)
    trader = w.profile("T305", "Corrado Bellini", "Portfolio Manager", "Equity Long/Short", "MEDIUM", "")
    w.ordinary_orders("T305", sym, 15.4, _month(trade), 0.20, 2)
    orders = _layers("A", "BUY", 20_000, [15.40, 15.38, 15.36], ["13:05:00.000", "13:05:00.200", "13:05:00.400"],
                     ["13:05:07.000", "13:05:07.200", "13:05:07.400"])
    orders += _fill("S-1", "SELL", 3_000, 15.45, "13:05:01.000", "13:05:04.000")
    return _case(name, "enforcement",
                 "FCA Final Notice, Corrado Abbattista (2020): large orders he did not intend to execute placed on one "
                 "side of the book while he traded smaller orders on the other",
                 "Three 20,000 bids at three prices rest seven seconds, a 3,000 sell fills meanwhile, and the bids "
                 "are cancelled; the trader's usual cancellation rate is 20%.",
                 (ESCALATE,), w, trader, sym, trade, sorted(orders, key=lambda o: o[1]), score=89)


def market_maker_one_sided_layers() -> Case:
    name, sym, trade = "spoofing_market_maker_one_sided_layers", "LKSC", day("2024-08-07")
    w = _world(name, sym, trade, 8.55, 1_200_000)
    trader = w.profile("T306", "Dana Whitlock", "Market Maker", "Electronic Market Making", "MEDIUM", "")
    w.ordinary_orders("T306", sym, 8.5, _month(trade), 0.85, 6)
    orders = _layers("L", "SELL", 20_000, [8.57, 8.58, 8.59, 8.60],
                     ["10:10:00.000", "10:10:00.100", "10:10:00.200", "10:10:00.300"],
                     ["10:10:01.500", "10:10:01.600", "10:10:01.700", "10:10:01.800"])
    orders += _fill("B-1", "BUY", 3_000, 8.55, "10:10:00.400", "10:10:00.900")
    return _case(name, "enforcement",
                 "SEC v. Lek Securities Corp. and Avalon FA (2017): layering in US equities — here by a trader "
                 "registered as a market maker, whose registration is no licence to layer",
                 "A market maker places four 20,000 offers on one side only, buys 3,000 while they rest and cancels "
                 "them 1.5 s later: nothing two-sided about it.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, sorted(orders, key=lambda o: o[1]), score=86)


# --------------------------------------------------------------------------- false-positive controls

def market_maker_two_sided_fills() -> Case:
    name, sym, trade = "spoofing_market_maker_two_sided_fills", "MNRL", day("2024-07-10")
    w = _world(name, sym, trade, 12.01, 900_000)
    trader = w.profile("T307", "Lena Fischer", "Market Maker", "Electronic Market Making", "MEDIUM", "")
    w.ordinary_orders("T307", sym, 12.0, _month(trade), 0.85, 8)
    first = [("B1", "BUY", 12.00), ("B2", "BUY", 11.99), ("B3", "BUY", 11.98),
             ("A1", "SELL", 12.02), ("A2", "SELL", 12.03), ("A3", "SELL", 12.04)]
    second = [("B4", "BUY", 12.01), ("B5", "BUY", 12.00), ("B6", "BUY", 11.99),
              ("A4", "SELL", 12.03), ("A5", "SELL", 12.04), ("A6", "SELL", 12.05)]
    orders = [(oid, "09:40:00.000", side, 2_000, p, "PLACE", 0) for oid, side, p in first]
    orders += [("A1", "09:40:05.000", "SELL", 2_000, 12.02, "EXECUTE", 2_000),
               ("B1", "09:40:06.000", "BUY", 2_000, 12.00, "EXECUTE", 2_000)]
    orders += [(oid, "09:40:08.000", side, 2_000, p, "CANCEL", 0) for oid, side, p in first if oid not in ("A1", "B1")]
    orders += [(oid, "09:40:08.100", side, 2_000, p, "PLACE", 0) for oid, side, p in second]
    orders += [(oid, "09:40:16.100", side, 2_000, p, "CANCEL", 0) for oid, side, p in second]
    return _case(name, "control",
                 "Typical false positive: a registered market maker quoting both sides symmetrically, filled on both "
                 "sides, refreshing its quotes every few seconds (MiFID II Art. 17(3) market-making obligations)",
                 "A market maker quotes three levels a side, is filled once on each side, and re-quotes a tick higher "
                 "eight seconds later; every cancellation has its mirror image on the other side.",
                 (CLOSE,), w, trader, sym, trade, orders, score=68)


def agency_vwap_repricing() -> Case:
    name, sym, trade = "spoofing_agency_vwap_repricing", "ORCA", day("2024-04-17")
    w = _world(name, sym, trade, 50.22, 2_500_000)
    trader = w.profile("T308", "Agency Execution Desk", "Execution Trader", "Agency Electronic Execution", "MEDIUM",
                       "")
    w.ordinary_orders("T308", sym, 50.0, _month(trade), 0.65, 6)
    orders = []
    for i in range(6):
        start = 6.1 * i
        placed, cancelled = f"10:00:{start:06.3f}", f"10:00:{start + 6:06.3f}"
        orders += [(f"C{i + 1}", placed, "BUY", 5_000, round(50.10 + 0.02 * i, 2), "PLACE", 0),
                   (f"C{i + 1}", cancelled, "BUY", 5_000, round(50.10 + 0.02 * i, 2), "CANCEL", 0)]
    orders += _fill("C7", "BUY", 3_000, 50.22, "10:00:36.700", "10:00:37.000")
    return _case(name, "control",
                 "Typical false positive: an agency VWAP algorithm re-pricing its child orders on one side as the "
                 "price moves, with nothing executed on the other side",
                 "A client's VWAP buy order is worked by the agency algorithm: six child bids are each cancelled and "
                 "replaced a tick higher after six seconds until the seventh fills. Nothing was offered or sold.",
                 (CLOSE,), w, trader, sym, trade, sorted(orders, key=lambda o: o[1]), score=71)


def agency_pov_partial_fills() -> Case:
    name, sym, trade = "spoofing_agency_pov_partial_fills", "TLMK", day("2024-12-04")
    w = _world(name, sym, trade, 20.46, 1_600_000)
    trader = w.profile("T309", "Agency Algo Desk", "Execution Trader", "Agency Algorithmic Trading", "MEDIUM", "")
    w.ordinary_orders("T309", sym, 20.5, _month(trade), 0.60, 5)
    orders = [("P1", "14:00:00.000", "SELL", 4_000, 20.50, "PLACE", 0),
              ("P1", "14:00:04.000", "SELL", 4_000, 20.50, "EXECUTE", 1_500),
              ("P1", "14:00:09.000", "SELL", 4_000, 20.50, "CANCEL", 0)]
    for oid, price, start in (("P2", 20.48, 9), ("P3", 20.46, 18), ("P5", 20.44, 36)):
        orders += [(oid, f"14:00:{start:02d}.100", "SELL", 4_000, price, "PLACE", 0),
                   (oid, f"14:00:{start + 9:02d}.000", "SELL", 4_000, price, "CANCEL", 0)]
    orders += [("P4", "14:00:27.100", "SELL", 4_000, 20.45, "PLACE", 0),
               ("P4", "14:00:30.000", "SELL", 4_000, 20.45, "EXECUTE", 2_000),
               ("P4", "14:00:36.000", "SELL", 4_000, 20.45, "CANCEL", 0)]
    return _case(name, "control",
                 "Typical false positive: an agency participation (POV) algorithm working a client's sell order, "
                 "cancelling and replacing child orders as volume trades",
                 "Five child offers are placed and cancelled over 45 seconds as the algorithm follows the market, "
                 "two of them partly filled; nothing was bid or bought.",
                 (CLOSE,), w, trader, sym, trade, sorted(orders, key=lambda o: o[1]), score=62)


def market_maker_pulls_quotes() -> Case:
    name, sym, trade = "spoofing_market_maker_pulls_quotes", "VLTY", day("2024-08-05")
    w = _world(name, sym, trade, 33.10, 2_200_000)
    trader = w.profile("T310", "Sofia Brandt", "Market Maker", "Electronic Market Making", "MEDIUM", "")
    w.ordinary_orders("T310", sym, 33.0, _month(trade), 0.85, 6)
    quotes = [("Q1", "BUY", 33.05), ("Q2", "BUY", 33.00), ("Q3", "BUY", 32.95),
              ("Q4", "SELL", 33.15), ("Q5", "SELL", 33.20), ("Q6", "SELL", 33.25)]
    orders = [(oid, "15:30:00.000", side, 3_000, p, "PLACE", 0) for oid, side, p in quotes]
    orders += [(oid, "15:30:45.000", side, 3_000, p, "CANCEL", 0) for oid, side, p in quotes]
    return _case(name, "control",
                 "Typical false positive: a market maker withdrawing its quotes on both sides in a volatility spike "
                 "(MiFID II RTS 8 Art. 3: exceptional circumstances)",
                 "A market maker pulls all six quotes, both sides at once, as volatility spikes; nothing traded.",
                 (CLOSE,), w, trader, sym, trade, orders, score=60)


def single_client_order_withdrawn() -> Case:
    name, sym, trade = "spoofing_single_client_order_withdrawn", "BLKW", day("2024-02-27")
    w = _world(name, sym, trade, 64.80, 1_400_000)
    trader = w.profile("T311", "Kieran Doyle", "Sales Trader", "Cash Equities", "MEDIUM", "")
    w.ordinary_orders("T311", sym, 64.5, _month(trade), 0.30, 2)
    orders = [("W-1", "11:00:00.000", "BUY", 80_000, 64.70, "PLACE", 0),
              ("W-1", "11:05:00.000", "BUY", 80_000, 64.70, "CANCEL", 0)]
    return _case(name, "control",
                 "Typical false positive: a single large client order withdrawn by the client, nothing traded on the "
                 "other side",
                 "One large client bid rests five minutes and is withdrawn on the client's instruction.",
                 (CLOSE,), w, trader, sym, trade, orders, score=55)


# --------------------------------------------------------------------------- ambiguous

def single_bid_cancel_after_sale() -> Case:
    name, sym, trade = "spoofing_single_bid_cancel_after_sale", "KRNL", day("2024-07-11")
    w = _world(name, sym, trade, 7.82, 1_100_000)
    trader = w.profile("T312", "Ahmed Yusuf", "Equity Trader", "Cash Equities", "MEDIUM", "")
    w.ordinary_orders("T312", sym, 7.8, _month(trade), 0.82, 4)
    orders = [("K-2", "14:01:58.000", "SELL", 20_000, 7.85, "PLACE", 0),
              ("K-1", "14:02:00.000", "BUY", 50_000, 7.80, "PLACE", 0),
              ("K-2", "14:02:05.000", "SELL", 20_000, 7.85, "EXECUTE", 20_000),
              ("K-1", "14:02:08.000", "BUY", 50_000, 7.80, "CANCEL", 0)]
    return _case(name, "ambiguous",
                 "Typical borderline alert: one large bid cancelled just after a sale fills (ESMA Q&A on MAR, "
                 "indicators of manipulative behaviour)",
                 "A trader's 50,000 bid is cancelled eight seconds after it was placed, three seconds after his "
                 "20,000 sale filled; his usual cancellation rate is high.",
                 (REVIEW,), w, trader, sym, trade, orders, score=72)


def layers_no_order_history() -> Case:
    name, sym, trade = "spoofing_layers_no_order_history", "PLTN", day("2024-09-25")
    w = _world(name, sym, trade, 5.12, 2_400_000)
    trader = w.profile("T313", "Hugo Laurent", "Proprietary Trader", "Prop Desk", "MEDIUM", "")
    orders = _layers("L", "SELL", 15_000, [5.14, 5.15, 5.15], ["12:00:00.000", "12:00:00.200", "12:00:00.400"],
                     ["12:00:03.000", "12:00:03.100", "12:00:03.200"])
    orders += _fill("B-1", "BUY", 4_000, 5.12, "12:00:01.000", "12:00:01.500")
    return _case(name, "ambiguous",
                 "Typical data gap: a layering signature from a trader whose order history is missing, so habits "
                 "cannot be checked",
                 "Three 15,000 offers rest three seconds while a 4,000 buy fills, then are cancelled; the order "
                 "history has nothing for the trader.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, sorted(orders, key=lambda o: o[1]), score=84)


CASES = (millisecond_layers, resting_layers_amended, iceberg_then_layers, flip_after_fill,
         large_orders_opposite_small, market_maker_one_sided_layers, market_maker_two_sided_fills,
         agency_vwap_repricing, agency_pov_partial_fills, market_maker_pulls_quotes, single_client_order_withdrawn,
         single_bid_cancel_after_sale, layers_no_order_history)
