"""Held-out set 2, spoofing / layering (see heldout2_insider.py for what the second held-out set is and why)."""

from __future__ import annotations

from datetime import datetime, timedelta

from cases.common import CLOSE, ESCALATE, REVIEW, Case
from cases.heldout2_common import anchor
from cases.heldout_spoofing import _history_row
from cases.spoofing import _case, _fill, _month
from cases.spoofing import _world as _library_world
from cases.world import day


def _at(clock: str, seconds: float) -> str:
    later = datetime.fromisoformat(f"2000-01-01T{clock}") + timedelta(seconds=seconds)
    return later.time().isoformat(timespec="milliseconds")


def _world(name, symbol, trade, price, volume):
    """The library's spoofing world, its path ending where the trade day opens (see anchor)."""
    w = _library_world(name, symbol, trade, price, volume)
    anchor(w, symbol, trade, price)
    return w


def _sorted(orders):
    return sorted(orders, key=lambda o: (o[1], o[0]))


# --------------------------------------------------------------------------- enforcement-modelled

def opening_auction_spoof() -> Case:
    name, sym, trade = "heldout2_spoofing_opening_auction_spoof", "QNTA", day("2024-04-10")
    w = _world(name, sym, trade, 24.40, 2_000_000)
    trader = w.profile("T701", "Evan Oakes", "Proprietary Trader", "Proprietary Trading", "MEDIUM", "")
    w.ordinary_orders("T701", sym, 24.5, _month(trade), 0.30, 3)
    offers = [(24.60, "09:26:00.000", "09:29:55.000"), (24.55, "09:26:10.000", "09:29:55.200"),
              (24.50, "09:26:20.000", "09:29:55.400"), (24.45, "09:26:30.000", "09:29:55.600")]
    # the same opening sequence on three earlier days
    for d in ("2024-03-20", "2024-03-27", "2024-04-03"):
        for price, placed, cancelled in offers:
            w.order("T701", day(d), placed, sym, "SELL", 15_000, round(price + 0.30, 2),
                    cancel_after=(datetime.fromisoformat(f"{d}T{cancelled}")
                                  - datetime.fromisoformat(f"{d}T{placed}")).total_seconds())
        w.order("T701", day(d), "09:27:10.000", sym, "BUY", 5_000, 24.65, fill_after=170)
    orders = [(f"L-{i}", placed, "SELL", 15_000, p, "PLACE", 0) for i, (p, placed, _c) in enumerate(offers, 1)]
    orders += [(f"L-{i}", cancelled, "SELL", 15_000, p, "CANCEL", 0) for i, (p, _p, cancelled) in enumerate(offers, 1)]
    orders += _fill("B-1", "BUY", 5_000, 24.38, "09:27:10.000", "09:30:00.000")
    orders += _fill("S-2", "SELL", 5_000, 24.55, "09:31:00.000", "09:34:20.000")
    return _case(name, "enforcement",
                 "SEC, In re Briargate Trading LLC and Eric Oscher (2015): spoofing in the pre-opening session — "
                 "non-bona fide orders entered before the open to move the indicative opening price, bona fide "
                 "orders on the other side, the non-bona fide orders cancelled just before the open",
                 "In the pre-open a proprietary trader enters four offers of 15,000 at falling prices, pushing the "
                 "indicative opening price down, then a 5,000 bid; five seconds before the open he cancels every "
                 "offer, his bid executes in the opening cross at 24.38, and he sells the 5,000 four minutes later "
                 "at 24.55. The same sequence on three earlier days. Noise: the offers rested three and a half "
                 "minutes (in an auction nothing executes before the uncross, so resting time shows nothing), and "
                 "the bid executed after the offers were cancelled, at the uncross they were meant to move. A "
                 "reviewer escalates or reviews.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, _sorted(orders), score=81)


def layers_and_fill_in_two_accounts() -> Case:
    name, sym, trade = "heldout2_spoofing_layers_and_fill_in_two_accounts", "PRXS", day("2024-09-11")
    w = _world(name, sym, trade, 8.45, 3_000_000)
    trader = w.profile("T702", "Yun Tao", "Remote Day Trader", "Proprietary Trading - Remote Traders", "MEDIUM", "")
    w.ordinary_orders("T702", sym, 8.45, _month(trade), 0.35, 3)
    prices = [8.44, 8.43, 8.42, 8.41, 8.40]
    n = 0
    for d in ("2024-08-22", "2024-08-29", "2024-09-05", trade.isoformat()):
        clock = "13:05:00.000" if d == trade.isoformat() else "11:40:00.000"
        for i, p in enumerate(prices):
            n += 1
            oid = f"L-{i + 1}" if d == trade.isoformat() else f"HB-{n:03d}"
            _history_row(w, oid, "ACC-HB-01", "T702", d, _at(clock, 0.4 * i), sym, "BUY", 8_000, p, "PLACE")
            _history_row(w, oid, "ACC-HB-01", "T702", d, _at(clock, 4.0 + 0.2 * i), sym, "BUY", 8_000, p, "CANCEL")
        oid = "S-1" if d == trade.isoformat() else f"HS-{n:03d}"
        _history_row(w, oid, "ACC-HB-02", "T702", d, _at(clock, 2.0), sym, "SELL", 4_000, 8.45, "PLACE")
        _history_row(w, oid, "ACC-HB-02", "T702", d, _at(clock, 3.1), sym, "SELL", 4_000, 8.45, "EXECUTE", 4_000)
    orders = [(f"L-{i + 1}", _at("13:05:00.000", 0.4 * i), "BUY", 8_000, p, "PLACE", 0) for i, p in enumerate(prices)]
    orders += [(f"L-{i + 1}", _at("13:05:00.000", 4.0 + 0.2 * i), "BUY", 8_000, p, "CANCEL", 0)
               for i, p in enumerate(prices)]
    orders += _fill("S-1", "SELL", 4_000, 8.45, "13:05:02.000", "13:05:03.100")
    return _case(name, "enforcement",
                 "SEC, In re Hold Brothers On-Line Investment Services and its owners (2012): overseas traders "
                 "layered US equities through the firm's accounts — non-bona fide orders on one side, an "
                 "execution on the other, the orders then cancelled — spreading the activity across accounts",
                 "A remote day trader places five bids of 8,000 at five prices in one account, sells 4,000 from a "
                 "second account of his into the raised bid, and cancels every bid a second later; the same "
                 "sequence, split the same way between the two accounts, on three earlier days. Noise: the bids "
                 "and the sale are in different accounts, and the relationship file records no owner for either; "
                 "both are accounts of the one trader, so the layers and the fill are one interest. Escalate.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, _sorted(orders), score=89)


def hft_trader_high_cancel_rate() -> Case:
    name, sym, trade = "heldout2_spoofing_hft_trader_high_cancel_rate", "EMNI", day("2024-05-15")
    w = _world(name, sym, trade, 5310.25, 1_500_000)
    trader = w.profile("T703", "Noah Lindgren", "Quantitative Trader", "High-Frequency Trading - Index Futures",
                       "MEDIUM", "")
    w.ordinary_orders("T703", sym, 5310.0, _month(trade), 0.93, 12, rest=(0.2, 4.0))
    for d in ("2024-04-24", "2024-05-02", "2024-05-09"):
        for i, p in enumerate((5310.50, 5310.50, 5310.75, 5310.75, 5311.00, 5311.00)):
            w.order("T703", day(d), f"14:20:0{i}.000", sym, "SELL", 150, p, cancel_after=0.9)
        w.order("T703", day(d), "14:20:02.300", sym, "BUY", 20, 5310.25, fill_after=0.4)
    offers = [(5310.50, 0.000), (5310.50, 0.050), (5310.75, 0.100), (5310.75, 0.150), (5311.00, 0.200),
              (5311.00, 0.250)]
    orders = [(f"L-{i}", _at("10:02:03.000", t), "SELL", 150, p, "PLACE", 0) for i, (p, t) in enumerate(offers, 1)]
    orders += [(f"L-{i}", _at("10:02:03.900", t), "SELL", 150, p, "CANCEL", 0) for i, (p, t) in enumerate(offers, 1)]
    orders += _fill("B-1", "BUY", 20, 5310.25, "10:02:03.300", "10:02:03.700")
    return _case(name, "enforcement",
                 "United States v. Tower Research Capital LLC (deferred prosecution agreement, 2019) and CFTC, In re "
                 "Tower Research Capital (2019): traders at a high-frequency firm placed large E-mini futures "
                 "orders they intended to cancel, to fill smaller orders on the other side",
                 "A high-frequency trader places six offers of 150 contracts at three prices, a 20-lot bid fills "
                 "400 ms later, and all six offers are cancelled within a second; the same signature on three "
                 "earlier days. Noise: an HFT cancels over 90% of its orders as a matter of course, so a high "
                 "cancellation rate is normal for him — but what is normal for the trader does not explain "
                 "layers pulled as soon as the other side filled. Escalate.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, _sorted(orders), score=90)


def same_price_bids_bond_market() -> Case:
    name, sym, trade = "heldout2_spoofing_same_price_bids_bond_market", "DSL28", day("2024-10-08")
    w = _world(name, sym, trade, 99.52, 900_000_000)
    trader = w.profile("T704", "Anton Weller", "Government Bond Trader", "Rates - European Government Bonds",
                       "MEDIUM", "")
    w.ordinary_orders("T704", sym, 99.5, _month(trade), 0.35, 4)
    for d in ("2024-09-24", "2024-10-01"):
        for i in range(3):
            w.order("T704", day(d), f"11:30:0{i}.000", sym, "BUY", 10_000_000, 99.48, cancel_after=5.5 - i)
        w.order("T704", day(d), "11:30:03.000", sym, "SELL", 5_000_000, 99.49, fill_after=1.0)
    bids = [("B-1", "10:15:00.000", "10:15:05.100"), ("B-2", "10:15:00.400", "10:15:05.300"),
            ("B-3", "10:15:00.800", "10:15:05.500")]
    orders = [(oid, placed, "BUY", 10_000_000, 99.52, "PLACE", 0) for oid, placed, _c in bids]
    orders += [(oid, cancelled, "BUY", 10_000_000, 99.52, "CANCEL", 0) for oid, _p, cancelled in bids]
    orders += _fill("S-1", "SELL", 5_000_000, 99.53, "10:15:03.000", "10:15:04.200")
    return _case(name, "enforcement",
                 "FCA Final Notice, Paul Axel Walter (2017): a bond trader entered bids in Dutch state loans that he "
                 "did not intend to trade, at the best bid, to give a false impression of demand, then sold to the "
                 "participants who raised their bids",
                 "A government-bond trader enters three bids of 10m nominal at the best bid, all at the same price; "
                 "others raise their bids, he sells 5m to them a tick higher, and his three bids are cancelled a "
                 "second later; the same on two earlier days. Noise: the bids are all at one price level, not "
                 "layered across prices, and the trader's overall cancel rate is ordinary. Orders at one price can "
                 "spoof as well as a ladder: escalate or review.",
                 (ESCALATE, REVIEW), w, trader, sym, trade, _sorted(orders), score=85)


# --------------------------------------------------------------------------- false-positive controls

def buyside_router_one_sided() -> Case:
    name, sym, trade = "heldout2_spoofing_buyside_router_one_sided", "HRZN", day("2024-03-19")
    w = _world(name, sym, trade, 45.30, 2_500_000)
    trader = w.profile("T705", "Aisha Grant", "Buy-side Dealer", "Equity Dealing - Long Only Funds", "MEDIUM", "")
    w.ordinary_orders("T705", sym, 45.2, _month(trade), 0.55, 6)
    orders = []
    children = [("C-1", 45.26, 0.0, 1.2), ("C-2", 45.27, 0.1, 2.0), ("C-3", 45.28, 0.2, 0.8),
                ("C-4", 45.27, 3.0, 1.5), ("C-5", 45.28, 3.1, 2.5), ("C-6", 45.29, 6.0, 1.0),
                ("C-7", 45.28, 6.1, 2.2), ("C-8", 45.29, 9.0, 1.8)]
    for oid, p, start, life in children:
        orders += [(oid, _at("10:20:00.000", start), "BUY", 2_000, p, "PLACE", 0),
                   (oid, _at("10:20:00.000", start + life), "BUY", 2_000, p, "CANCEL", 0)]
    for oid, p, start in (("F-1", 45.28, 4.5), ("F-2", 45.29, 8.0), ("F-3", 45.30, 12.0)):
        orders += _fill(oid, "BUY", 2_000, p, _at("10:20:00.000", start), _at("10:20:00.000", start + 0.6))
    return _case(name, "control",
                 "Typical false positive: a buy-side dealer's smart order router working a fund's buy order, "
                 "posting and cancelling child bids at several prices as the market moves, filled on the same side, "
                 "nothing offered or sold",
                 "A long-only fund's dealer works a buy order through the firm's router: eight child bids of 2,000 "
                 "at three prices are posted and pulled within one to three seconds as the touch moves, and three "
                 "bids fill. There is no order on the other side at all, so nothing could profit from the bids; "
                 "fills on the bid side show the bids were meant to trade.",
                 (CLOSE,), w, trader, sym, trade, _sorted(orders), score=66)


def fat_finger_cancel_and_reenter() -> Case:
    name, sym, trade = "heldout2_spoofing_fat_finger_cancel_and_reenter", "MLBK", day("2024-07-23")
    w = _world(name, sym, trade, 12.40, 1_800_000)
    trader = w.profile("T706", "Tom Ashby", "Equity Trader", "Cash Equities", "MEDIUM", "")
    w.ordinary_orders("T706", sym, 12.4, _month(trade), 0.25, 3)
    orders = [("X-1", "11:02:10.000", "SELL", 500_000, 12.40, "PLACE", 0),
              ("X-1", "11:02:12.300", "SELL", 500_000, 12.40, "CANCEL", 0)]
    orders += _fill("X-2", "SELL", 5_000, 12.40, "11:02:15.000", "11:02:21.000")
    return _case(name, "control",
                 "Typical false positive: an order entered at the wrong size by mistake (a 'fat finger': two "
                 "zeros too many), cancelled within seconds and re-entered at the intended size",
                 "An equity trader enters a sell of 500,000 (28% of the day's volume) instead of 5,000, cancels it "
                 "2.3 seconds later and re-enters 5,000 at the same price, which fills. Nothing was bought; the "
                 "cancelled order and the fill are on the same side.",
                 (CLOSE,), w, trader, sym, trade, orders, score=64)


# --------------------------------------------------------------------------- ambiguous

def one_episode_clean_record() -> Case:
    name, sym, trade = "heldout2_spoofing_one_episode_clean_record", "BRLN", day("2024-11-26")
    w = _world(name, sym, trade, 17.85, 1_200_000)
    trader = w.profile("T707", "Lucas Brenner", "Equity Trader", "Proprietary Trading", "MEDIUM", "")
    w.ordinary_orders("T707", sym, 17.9, _month(trade), 0.25, 3)
    offers = [("O-1", 17.90, "14:40:00.000", "14:40:31.000"), ("O-2", 17.92, "14:40:03.000", "14:40:33.000"),
              ("O-3", 17.94, "14:40:06.000", "14:40:35.000")]
    orders = [(oid, placed, "SELL", 6_000, p, "PLACE", 0) for oid, p, placed, _c in offers]
    orders += [(oid, cancelled, "SELL", 6_000, p, "CANCEL", 0) for oid, p, _p, cancelled in offers]
    orders += _fill("B-1", "BUY", 2_000, 17.85, "14:40:12.000", "14:40:20.000")
    return _case(name, "ambiguous",
                 "Typical borderline alert: a first layering-like episode from a proprietary trader with an "
                 "ordinary record (ESMA Q&A on MAR and Delegated Reg. 2016/522 Annex II: indicators, not proof)",
                 "A proprietary trader with an ordinary cancellation record rests three offers of 6,000 at three "
                 "prices for half a minute, buys 2,000 below them, and cancels the offers ten seconds after the "
                 "buy fills; nothing like it in the past month. The signature is there, once, with modest sizes "
                 "(three times the fill): a human should look; escalation on one episode is also defensible.",
                 (REVIEW, ESCALATE), w, trader, sym, trade, _sorted(orders), score=70)


CASES = (opening_auction_spoof, layers_and_fill_in_two_accounts, hft_trader_high_cancel_rate,
         same_price_bids_bond_market, buyside_router_one_sided, fat_finger_cancel_and_reenter,
         one_episode_clean_record)
