"""Held-out set 1, spoofing / layering (see heldout_insider.py for what the held-out set was and why)."""

from __future__ import annotations

from datetime import datetime, timedelta

from cases.common import CLOSE, ESCALATE, REVIEW, Case
from cases.spoofing import _case, _fill, _month, _world
from cases.world import World, day


def _at(d: str, clock: str, seconds: float) -> str:
    later = datetime.fromisoformat(f"{d}T{clock}") + timedelta(seconds=seconds)
    return later.time().isoformat(timespec="milliseconds")


def _history_row(w: World, oid: str, account: str, trader: str, d: str, clock: str, symbol: str, side: str, qty: int,
                 price: float, action: str, filled: int = 0) -> None:
    w.rows["spoofing/order_history.csv"].append([oid, account, trader, f"{d}T{clock}", d, symbol, side, qty, price,
                                                 action, filled])


# --------------------------------------------------------------------------- enforcement-modelled

def layers_resting_seconds() -> Case:
    name, sym, trade = "heldout_spoofing_layers_resting_seconds", "PNDR", day("2024-06-12")
    w = _world(name, sym, trade, 3.42, 6_500_000)
    trader = w.profile("T501", "Tamas Brody", "Day Trader", "Proprietary Trading", "MEDIUM", "")
    w.ordinary_orders("T501", sym, 3.41, _month(trade), 0.50, 3)
    # the same signature on five earlier days: six bids rest half a minute, a sale fills, the bids go
    for d in ("2024-05-16", "2024-05-22", "2024-05-29", "2024-06-04", "2024-06-07"):
        for i in range(6):
            w.order("T501", day(d), _at(d, "11:10:00.000", 4 * i), sym, "BUY", 40_000, round(3.39 - 0.01 * i, 2),
                    cancel_after=44 - 3.5 * i)
        w.order("T501", day(d), "11:10:25.000", sym, "SELL", 30_000, 3.42, fill_after=16)
    bids = [(3.40, "14:20:00.000", "14:20:44.000"), (3.39, "14:20:04.000", "14:20:44.500"),
            (3.39, "14:20:08.500", "14:20:45.000"), (3.38, "14:20:12.000", "14:20:45.500"),
            (3.37, "14:20:16.000", "14:20:46.000"), (3.36, "14:20:20.000", "14:20:46.500")]
    orders = [(f"L-{i}", placed, "BUY", 40_000, p, "PLACE", 0) for i, (p, placed, _c) in enumerate(bids, 1)]
    orders += [(f"L-{i}", cancelled, "BUY", 40_000, p, "CANCEL", 0) for i, (p, _p, cancelled) in enumerate(bids, 1)]
    orders += _fill("S-1", "SELL", 30_000, 3.43, "14:20:25.000", "14:20:41.000")
    return _case(name, "enforcement",
                 "FCA v. Da Vinci Invest Ltd, Mineworld Ltd and others (Upper Tribunal, 2015): layering in UK "
                 "equities — orders on one side that rested for seconds to minutes, moved the price, and were "
                 "deleted once an order on the other side had executed",
                 "A day trader builds six bids of 40,000 over twenty seconds (240,000 against a 30,000 sale), the "
                 "sale fills, and three seconds later every bid is deleted; the same sequence on five earlier days "
                 "this month. Noise: the bids rested 26 to 44 seconds, not milliseconds, and his overall "
                 "cancellation rate is middling (about half). How long a layer rests matters less than what "
                 "happens while it rests: it is withdrawn when the other side has filled.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, sorted(orders, key=lambda o: o[1]), score=84)


def layers_one_partly_hit() -> Case:
    name, sym, trade = "heldout_spoofing_layers_one_partly_hit", "KLRX", day("2024-02-21")
    w = _world(name, sym, trade, 18.75, 900_000)
    trader = w.profile("T502", "Ray Donnelly", "Equity Trader", "Proprietary Trading Group", "MEDIUM", "")
    w.ordinary_orders("T502", sym, 18.7, _month(trade), 0.35, 3)
    for d in ("2024-02-07", "2024-02-14"):
        w.order("T502", day(d), "13:30:00.000", sym, "SELL", 4_000, 18.66, fill_after=4.0)
        for i in range(5):
            w.order("T502", day(d), _at(d, "13:30:01.000", 0.3 * i), sym, "BUY", 5_000, round(18.60 + 0.01 * i, 2),
                    cancel_after=3.5 - 0.3 * i)
    bids = [(18.70, "11:05:00.000"), (18.71, "11:05:00.300"), (18.72, "11:05:00.600"), (18.73, "11:05:00.900"),
            (18.74, "11:05:01.200")]
    orders = [(f"B-{i}", placed, "BUY", 5_000, p, "PLACE", 0) for i, (p, placed) in enumerate(bids, 1)]
    orders.append(("B-5", "11:05:01.800", "BUY", 5_000, 18.74, "EXECUTE", 300))
    orders += [(f"B-{i}", _at(trade.isoformat(), "11:05:02.600", 0.1 * (i - 1)), "BUY", 5_000, p, "CANCEL", 0)
               for i, (p, _t) in enumerate(bids, 1)]
    orders += _fill("S-1", "SELL", 4_000, 18.76, "11:04:58.000", "11:05:02.100")
    return _case(name, "enforcement",
                 "FINRA, Trillium Brokerage Services (2010): proprietary traders entered layers of non-bona fide buy "
                 "orders at rising prices to create the appearance of demand, sold at the improved price, and "
                 "cancelled the buy orders",
                 "A trader offers 4,000 at 18.76, then stacks five 5,000 bids a cent apart up to 18.74 within 1.2 s; "
                 "the offer fills and half a second later all five bids are cancelled, as on two earlier days this "
                 "month. Noise: the top bid was hit for 300 shares before it was cancelled (a layer close to the "
                 "touch sometimes fills), so not every layer is 'unfilled'.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, sorted(orders, key=lambda o: o[1]), score=87)


def single_large_order() -> Case:
    name, sym, trade = "heldout_spoofing_single_large_order", "XAUF", day("2024-01-17")
    w = _world(name, sym, trade, 2045.60, 250_000)
    trader = w.profile("T503", "Liam Foster", "Precious Metals Trader", "Metals Desk", "MEDIUM", "")
    w.ordinary_orders("T503", sym, 2040.0, _month(trade), 0.40, 4)
    for d in ("2024-01-03", "2024-01-08", "2024-01-10", "2024-01-12"):
        for k, clock in enumerate(("09:40:00.000", "11:15:00.000", "14:05:00.000")):
            small, big = ("SELL", "BUY") if k % 2 == 0 else ("BUY", "SELL")
            w.order("T503", day(d), clock, sym, small, 1_000, 2040.0, fill_after=3.0)
            w.order("T503", day(d), _at(d, clock, 2.0), sym, big, 15_000, 2039.8 if big == "BUY" else 2040.2,
                    cancel_after=1.4)
    orders = _fill("S-1", "SELL", 1_000, 2045.80, "09:31:10.000", "09:31:13.100")
    orders += [("B-1", "09:31:12.500", "BUY", 15_000, 2045.50, "PLACE", 0),
               ("B-1", "09:31:13.700", "BUY", 15_000, 2045.50, "CANCEL", 0)]
    return _case(name, "enforcement",
                 "CFTC, In re The Bank of Nova Scotia (2018 and 2020): precious-metals traders placed orders they "
                 "intended to cancel before execution to help fill smaller orders on the other side; one order is "
                 "enough (CEA 4c(a)(5)(C): bidding or offering with intent to cancel before execution)",
                 "A metals trader offers 1,000, then bids 15,000 at the best bid; the offer fills 0.6 s later and the "
                 "big bid is cancelled 0.6 s after that, 1.2 s after it was placed. He did the same three times a day "
                 "on four earlier days this month, on both sides. Noise: a single order at a single price, not a "
                 "ladder of layers — spoofing does not need layers.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, sorted(orders, key=lambda o: o[1]), score=85)


# --------------------------------------------------------------------------- false-positive controls

def market_maker_inventory_skew() -> Case:
    name, sym, trade = "heldout_spoofing_market_maker_inventory_skew", "TLRX", day("2024-09-18")
    w = _world(name, sym, trade, 26.30, 1_700_000)
    trader = w.profile("T504", "Aisha Rahman", "Market Maker", "Designated Market Making - Mid Caps", "MEDIUM", "")
    w.ordinary_orders("T504", sym, 26.3, _month(trade), 0.85, 8)
    first = [("B1", "BUY", 1_000, 26.28), ("B2", "BUY", 1_000, 26.27), ("A1", "SELL", 4_000, 26.31),
             ("A2", "SELL", 4_000, 26.32), ("A3", "SELL", 4_000, 26.33)]
    second = [("B3", "BUY", 1_000, 26.26), ("B4", "BUY", 1_000, 26.25), ("A4", "SELL", 4_000, 26.29),
              ("A5", "SELL", 4_000, 26.30), ("A6", "SELL", 4_000, 26.31)]
    orders = [(oid, "13:00:00.000", side, q, p, "PLACE", 0) for oid, side, q, p in first]
    orders += [("A1", "13:00:04.000", "SELL", 4_000, 26.31, "EXECUTE", 4_000),
               ("A2", "13:00:06.000", "SELL", 4_000, 26.32, "EXECUTE", 2_000)]
    orders += [(oid, "13:00:09.000", side, q, p, "CANCEL", 0) for oid, side, q, p in first if oid != "A1"]
    orders += [(oid, "13:00:09.100", side, q, p, "PLACE", 0) for oid, side, q, p in second]
    orders += [("A4", "13:00:12.500", "SELL", 4_000, 26.29, "EXECUTE", 4_000)]
    orders += [(oid, "13:00:18.100", side, q, p, "CANCEL", 0) for oid, side, q, p in second if oid != "A4"]
    return _case(name, "control",
                 "Typical false positive: a market maker skewing its two-sided quotes to work off a long inventory — "
                 "small bids, larger offers, offers filled, both sides re-quoted lower (MiFID II Art. 17(3) "
                 "market-making obligations; inventory management is the business)",
                 "A designated market maker long the stock quotes 1,000 on the bid and 4,000 on the offer; its "
                 "offers are lifted for 10,000 in two rounds and it re-quotes both sides a tick lower each time. The "
                 "large side is the side that trades; nothing was bought while its offers rested. Asymmetric "
                 "sizes are how a market maker sheds inventory, not layering.",
                 (CLOSE,), w, trader, sym, trade, orders, score=63)


def scale_in_ladder_withdrawn() -> Case:
    name, sym, trade = "heldout_spoofing_scale_in_ladder_withdrawn", "WDLN", day("2024-05-29")
    w = _world(name, sym, trade, 14.05, 2_600_000)
    trader = w.profile("T505", "Helena Fry", "Portfolio Manager", "Global Equities Fund", "MEDIUM", "")
    w.ordinary_orders("T505", sym, 14.1, _month(trade), 0.20, 2)
    orders = [("L-1", "10:01:30.000", "BUY", 10_000, 13.98, "PLACE", 0),
              ("L-2", "10:02:00.000", "BUY", 10_000, 13.95, "PLACE", 0),
              ("L-3", "10:02:30.000", "BUY", 10_000, 13.90, "PLACE", 0),
              ("L-4", "10:03:00.000", "BUY", 10_000, 13.85, "PLACE", 0),
              ("L-1", "10:05:12.000", "BUY", 10_000, 13.98, "EXECUTE", 2_000),
              ("L-1", "10:14:10.000", "BUY", 10_000, 13.98, "CANCEL", 0),
              ("L-2", "10:14:10.000", "BUY", 10_000, 13.95, "CANCEL", 0),
              ("L-3", "10:14:10.100", "BUY", 10_000, 13.90, "CANCEL", 0),
              ("L-4", "10:14:10.200", "BUY", 10_000, 13.85, "CANCEL", 0)]
    return _case(name, "control",
                 "Typical false positive: a portfolio manager's scale-in ladder of limit bids below the market, "
                 "withdrawn after twelve minutes when the decision changed, with nothing sold",
                 "A fund manager places four 10,000 bids at four prices below the market, the top one fills 2,000, "
                 "and twelve minutes later she withdraws the rest together. Several orders at several prices, "
                 "mostly cancelled — but they rested for minutes, and she neither sold nor offered anything.",
                 (CLOSE,), w, trader, sym, trade, orders, score=58)


def agency_two_clients_opposite() -> Case:
    name, sym, trade = "heldout_spoofing_agency_two_clients_opposite", "CRSN", day("2024-10-23")
    w = _world(name, sym, trade, 61.10, 2_100_000)
    trader = w.profile("T506", "Agency Trading Desk", "Execution Trader", "Agency Electronic Execution", "MEDIUM", "")
    w.ordinary_orders("T506", sym, 61.0, _month(trade), 0.65, 6)
    clients = ["CL-A-2231", "CL-B-5520", "CL-C-0907", "CL-D-3314"]
    for row in w.rows["spoofing/order_history.csv"]:  # agency orders belong to clients, not to the desk
        row[1] = clients[sum(map(ord, row[0])) % len(clients)]
    d = trade.isoformat()
    buys = [("C1", 61.05, "10:00:00.000", "CANCEL", "10:00:08.000"),
            ("C2", 61.06, "10:00:08.050", "CANCEL", "10:00:16.000"),
            ("C3", 61.07, "10:00:16.050", "EXECUTE", "10:00:19.300"),
            ("C4", 61.07, "10:00:19.400", "CANCEL", "10:00:27.400"),
            ("C5", 61.08, "10:00:27.450", "CANCEL", "10:00:35.450"),
            ("C6", 61.09, "10:00:35.500", "EXECUTE", "10:00:38.000")]
    sells = [("D1", 61.14, "10:00:02.000", "CANCEL", "10:00:12.000"),
             ("D2", 61.13, "10:00:12.050", "EXECUTE", "10:00:14.500"),
             ("D3", 61.13, "10:00:14.600", "CANCEL", "10:00:24.600"),
             ("D4", 61.12, "10:00:24.650", "EXECUTE", "10:00:31.000")]
    orders = []
    for side, qty, account, legs in (("BUY", 3_000, "CL-A-2231", buys), ("SELL", 2_000, "CL-B-5520", sells)):
        for oid, price, placed, action, at in legs:
            filled = qty if action == "EXECUTE" else 0
            orders += [(oid, placed, side, qty, price, "PLACE", 0), (oid, at, side, qty, price, action, filled)]
            _history_row(w, oid, account, "T506", d, placed, sym, side, qty, price, "PLACE")
            _history_row(w, oid, account, "T506", d, at, sym, side, qty, price, action, filled)
    return _case(name, "control",
                 "Typical false positive: an agency desk working two different clients' orders on opposite sides of "
                 "the same stock at the same time, each by an execution algorithm (FINRA Notice 15-09; ESMA MAR Q&A: "
                 "the behaviour is judged per client order)",
                 "The agency desk's VWAP algorithm works client A's purchase with 3,000-share child bids, each "
                 "re-priced a cent higher every eight seconds until filled, while another algorithm works client B's "
                 "sale with 2,000-share child offers. The order history shows the bids on client A's account and the "
                 "offers on client B's. A sale filling while a bid was cancelled is two clients' algorithms "
                 "meeting the market, not one trader's spoof.",
                 (CLOSE,), w, trader, sym, trade, sorted(orders, key=lambda o: o[1]), score=67)


CASES = (layers_resting_seconds, layers_one_partly_hit, single_large_order, market_maker_inventory_skew,
         scale_in_ladder_withdrawn, agency_two_clients_opposite)
