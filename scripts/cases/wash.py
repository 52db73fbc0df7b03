"""Wash-trade cases: trades with no change of beneficial ownership, and the crosses that only look like them."""

from __future__ import annotations

from datetime import date, timedelta

from cases import alerts
from cases.common import CLOSE, ESCALATE, REVIEW, Case, check_weekday
from cases.world import World, day

KIND = "wash_trade"


def _world(name: str, symbol: str, trade: date, price: float, daily_volume: int, *, skip_day: bool = False) -> World:
    w = World(name)
    w.market(symbol, trade - timedelta(days=40), trade + timedelta(days=5), price, closes={trade: price},
             volumes={trade: daily_volume}, volume=daily_volume, skip={trade} if skip_day else frozenset())
    return w


def _case(name, category, modelled_on, rationale, acceptable, w, symbol, trade, legs, *, daily_volume, score,
          severity="HIGH"):
    check_weekday(trade)
    alert_id = f"WT-{trade:%Y%m%d}-{sum(map(ord, name)) % 1000:03d}"
    xml = alerts.wash(alert_id, symbol, trade, legs, daily_volume=daily_volume, score=score, severity=severity)
    return Case(name, KIND, category, modelled_on, rationale, tuple(acceptable), w, xml)


def _legs(buyer, buyer_name, seller, seller_name, clock_buy, clock_sell, qty, price, sell_price=None):
    return [(buyer, buyer_name, clock_buy, "BUY", qty, price, seller, "ORD-A1"),
            (seller, seller_name, clock_sell, "SELL", qty, sell_price or price, buyer, "ORD-A2")]


def same_owner_subsecond_repeated() -> Case:
    name, sym, trade = "wash_same_owner_subsecond_repeated", "GLDX", day("2024-06-12")
    w = _world(name, sym, trade, 18.40, 380_000)
    w.account("ACC-5101", "BO-51", "Arjun Mehta", "individual", ["ACC-5102"], "direct")
    w.account("ACC-5102", "BO-51", "Arjun Mehta", "corporate", ["ACC-5101"], "owner")
    for d, clock in (("2024-05-20", "11:02:03.200"), ("2024-05-28", "14:40:10.050"), ("2024-06-05", "10:05:44.900"),
                     ("2024-06-12", "10:15:00.120")):
        w.cross("ACC-5101", "ACC-5102", sym, day(d), clock, 25_000, 18.40, 330)
    return _case(name, "enforcement",
                 "CFTC, In re Cayley Investment Management and Mehran Khorrami (2020): offsetting orders for accounts "
                 "with the same beneficial owner",
                 "Two accounts of one beneficial owner trade 25,000 shares against each other 330 ms apart, at the "
                 "same price, for the fourth time in a month, at 6.6% of the day's volume.",
                 (ESCALATE,), w, sym, trade,
                 _legs("ACC-5101", "Arjun Mehta", "ACC-5102", "Mehta Holdings Ltd", "10:15:00.120", "10:15:00.450",
                       25_000, 18.40), daily_volume=380_000, score=93)


def same_owner_no_market_data() -> Case:
    name, sym, trade = "wash_same_owner_no_market_data", "AUTC", day("2024-03-21")
    w = _world(name, sym, trade, 4.10, 250_000, skip_day=True)
    w.account("ACC-5201", "BO-52", "Yuen Ho", "individual", ["ACC-5202"], "direct")
    w.account("ACC-5202", "BO-52", "Yuen Ho", "nominee", ["ACC-5201"], "nominee")
    for d, clock in (("2024-03-04", "10:30:00.000"), ("2024-03-11", "13:12:40.500"), ("2024-03-15", "15:01:02.250"),
                     ("2024-03-21", "11:45:10.300")):
        w.cross("ACC-5201", "ACC-5202", sym, day(d), clock, 30_000, 4.10, 150)
    return _case(name, "enforcement",
                 "SEC v. AutoChina International et al. (2012): matched trades among accounts controlled by the same "
                 "people, to inflate the reported volume",
                 "An individual's own account and his nominee account trade 30,000 shares against each other 150 ms "
                 "apart, the fourth time this month. The market data has no row for the day; the alert's own daily "
                 "volume puts the flagged trades at 12% of it.",
                 (ESCALATE, REVIEW), w, sym, trade,
                 _legs("ACC-5201", "Yuen Ho", "ACC-5202", "Ho Nominees Ltd", "11:45:10.300", "11:45:10.450", 30_000,
                       4.10), daily_volume=250_000, score=88)


def linked_accounts_volume_inflation() -> Case:
    name, sym, trade = "wash_linked_accounts_volume_inflation", "NXFD", day("2024-09-18")
    w = _world(name, sym, trade, 1.25, 420_000)
    w.account("ACC-5301", "BO-531", "Gotham Liquidity Ltd", "corporate", ["ACC-5302"], "common_control")
    w.account("ACC-5302", "BO-532", "Nimbus Markets LLC", "corporate", ["ACC-5301"], "common_control")
    for d, clock in (("2024-09-04", "09:45:00.000"), ("2024-09-09", "10:10:10.100"), ("2024-09-11", "14:00:30.000"),
                     ("2024-09-16", "11:11:11.500"), ("2024-09-18", "10:20:00.040")):
        w.cross("ACC-5301", "ACC-5302", sym, day(d), clock, 50_000, 1.25, 80)
    return _case(name, "enforcement",
                 "DOJ and SEC 'Operation Token Mirrors' (2024): market makers traded between accounts under common "
                 "control to inflate a token's volume",
                 "Two companies' accounts, linked by common control, trade 50,000 units against each other 80 ms "
                 "apart on five days in two weeks, at 12% of the day's volume.",
                 (ESCALATE,), w, sym, trade,
                 _legs("ACC-5301", "Gotham Liquidity Ltd", "ACC-5302", "Nimbus Markets LLC", "10:20:00.040",
                       "10:20:00.120", 50_000, 1.25), daily_volume=420_000, score=90)


def hedge_position_transfer() -> Case:
    name, sym, trade = "wash_hedge_position_transfer", "CRNZ", day("2024-07-17")
    w = _world(name, sym, trade, 9.80, 150_000)
    w.account("ACC-5401", "BO-54", "Norte Agro SA", "hedge_book", ["ACC-5402"], "house")
    w.account("ACC-5402", "BO-54", "Norte Agro SA", "hedge_book", ["ACC-5401"], "house")
    for d, clock in (("2024-06-26", "10:00:00.000"), ("2024-07-03", "10:00:01.000"), ("2024-07-10", "09:59:58.000"),
                     ("2024-07-17", "10:00:00.300")):
        w.cross("ACC-5401", "ACC-5402", sym, day(d), clock, 12_000, 9.80, 120)
    return _case(name, "enforcement",
                 "CFTC, In re Cargill de México (2015): equal and opposite trades to move hedge positions between the "
                 "firm's own accounts are wash trades, even when the purpose is hedging",
                 "Two hedge books of one company trade 12,000 against each other 120 ms apart, every week for a "
                 "month, at 8% of the day's volume. Hedge books are normally an exemption; a weekly, sub-second, "
                 "exact transfer is not what the exemption covers.",
                 (REVIEW, ESCALATE), w, sym, trade,
                 _legs("ACC-5401", "Norte Agro Hedge A", "ACC-5402", "Norte Agro Hedge B", "10:00:00.300",
                       "10:00:00.420", 12_000, 9.80), daily_volume=150_000, score=83)


def prop_accounts_offset_at_open() -> Case:
    name, sym, trade = "wash_prop_accounts_offset_at_open", "GRNX", day("2024-02-14")
    w = _world(name, sym, trade, 51.20, 900_000)
    w.account("ACC-5501", "BO-55", "Ridgeline Trading LLC", "proprietary", ["ACC-5502"], "house")
    w.account("ACC-5502", "BO-55", "Ridgeline Trading LLC", "proprietary", ["ACC-5501"], "house")
    for d in ("2024-01-24", "2024-02-01", "2024-02-07", "2024-02-14"):
        w.cross("ACC-5501", "ACC-5502", sym, day(d), "09:30:00.000", 6_000, 51.20, 0)
    return _case(name, "enforcement",
                 "CFTC, In re Eagle Market Makers (2019): offsetting orders entered for the firm's own accounts before "
                 "the open, which matched when the market opened",
                 "Two proprietary accounts of one firm match 6,000 shares against each other at the opening print, "
                 "the fourth time in three weeks.",
                 (ESCALATE,), w, sym, trade,
                 _legs("ACC-5501", "Ridgeline Prop 1", "ACC-5502", "Ridgeline Prop 2", "09:30:00.000", "09:30:00.000",
                       6_000, 51.20), daily_volume=900_000, score=85)


# --------------------------------------------------------------------------- false-positive controls

def unrelated_institutions_exchange() -> Case:
    name, sym, trade = "wash_unrelated_institutions_exchange", "PRSM", day("2024-06-18")
    w = _world(name, sym, trade, 62.10, 2_100_000)
    w.account("ACC-5701", "BO-571", "Northbridge Capital LLP", "institutional", [], "direct")
    w.account("ACC-5702", "BO-572", "Harbor Pension Fund", "institutional", [], "direct")
    for i, d in enumerate(("2024-05-22", "2024-05-29", "2024-06-04", "2024-06-11")):
        w.account_trade("ACC-5701", day(d), f"1{i}:15:00.000", sym, "BUY" if i % 2 else "SELL", 4_000, 62.0)
        w.account_trade("ACC-5702", day(d), f"1{i}:40:30.000", sym, "SELL" if i % 2 else "BUY", 6_500, 62.2)
    return _case(name, "control",
                 "Typical false positive: two unrelated institutions matched anonymously on the exchange",
                 "A hedge fund and a pension fund with unrelated owners and no links traded the same quantity 150 s "
                 "apart through the central order book, once.",
                 (CLOSE,), w, sym, trade,
                 _legs("ACC-5701", "Northbridge Capital LLP", "ACC-5702", "Harbor Pension Fund", "10:02:10.000",
                       "10:04:40.000", 5_000, 62.10), daily_volume=2_100_000, score=58, severity="MEDIUM")


def fund_cross_same_manager() -> Case:
    name, sym, trade = "wash_fund_cross_same_manager", "BRKL", day("2024-04-30")
    w = _world(name, sym, trade, 27.35, 600_000)
    w.account("ACC-5801", "BO-581", "Lakeside Growth Fund", "fund", ["ACC-5802"], "same_manager")
    w.account("ACC-5802", "BO-582", "Lakeside Income Fund", "fund", ["ACC-5801"], "same_manager")
    return _case(name, "control",
                 "Typical false positive: a cross between two funds of one manager at the current market price "
                 "(SEC Rule 17a-7; UCITS cross-trade policies): the beneficial owners differ",
                 "Two funds run by the same manager, owned by different investors, cross 40,000 shares once at the "
                 "day's market price to rebalance. The beneficial ownership changes; the link between the accounts "
                 "is the manager, not the owner.",
                 (CLOSE,), w, sym, trade,
                 _legs("ACC-5801", "Lakeside Growth Fund", "ACC-5802", "Lakeside Income Fund", "11:00:00.000",
                       "11:00:00.000", 40_000, 27.35), daily_volume=600_000, score=79)


def mm_hedge_selfmatch_once() -> Case:
    name, sym, trade = "wash_mm_hedge_selfmatch_once", "MNRL", day("2024-07-10")
    w = _world(name, sym, trade, 12.06, 1_000_000)
    w.account("ACC-5901", "BO-59", "Calder Securities Ltd", "market_maker", ["ACC-5902"], "house")
    w.account("ACC-5902", "BO-59", "Calder Securities Ltd", "hedge_book", ["ACC-5901"], "house")
    for i, d in enumerate(("2024-06-19", "2024-06-26", "2024-07-03")):
        w.account_trade("ACC-5901", day(d), f"1{i}:05:00.000", sym, "BUY", 2_000, 12.0)
        w.account_trade("ACC-5902", day(d), f"1{i + 2}:30:00.000", sym, "SELL", 1_500, 12.1)
    return _case(name, "control",
                 "Typical false positive: an unintentional self-match between a market maker's quoting book and its "
                 "hedging book (FINRA Rule 5210 .02: self-trades that form no pattern are bona fide)",
                 "A market maker's quoting book and its hedge book matched 3,000 shares once (0.3% of the day's "
                 "volume); they have never matched against each other before.",
                 (CLOSE,), w, sym, trade,
                 _legs("ACC-5901", "Calder MM Book", "ACC-5902", "Calder Hedge Book", "14:22:31.400", "14:22:31.400",
                       3_000, 12.06), daily_volume=1_000_000, score=64, severity="MEDIUM")


def unrelated_far_apart_prices() -> Case:
    name, sym, trade = "wash_unrelated_far_apart_prices", "HLX", day("2024-05-22")
    w = _world(name, sym, trade, 45.32, 800_000)
    w.account("ACC-6001", "BO-601", "Aldgate Wealth Ltd", "individual", [], "direct")
    w.account("ACC-6002", "BO-602", "Birch Family Office", "institutional", [], "direct")
    return _case(name, "control",
                 "Typical false positive: two unrelated clients trading the same quantity on the same day, far apart "
                 "and at different prices",
                 "Two unrelated clients bought and sold 2,000 shares 26 minutes apart at different prices.",
                 (CLOSE,), w, sym, trade,
                 _legs("ACC-6001", "Aldgate Wealth Ltd", "ACC-6002", "Birch Family Office", "10:05:00.000",
                       "10:31:12.000", 2_000, 45.10, sell_price=45.32), daily_volume=800_000, score=52,
                 severity="LOW")


def agency_cross_unrelated_clients() -> Case:
    name, sym, trade = "wash_agency_cross_unrelated_clients", "TRVL", day("2024-08-21")
    w = _world(name, sym, trade, 33.40, 1_200_000)
    w.account("ACC-6101", "BO-611", "Thornbury Asset Management", "institutional", [], "direct")
    w.account("ACC-6102", "BO-612", "Kestrel Insurance plc", "institutional", [], "direct")
    return _case(name, "control",
                 "Typical false positive: an agency desk crossing two unrelated clients' orders (a genuine change of "
                 "beneficial ownership)",
                 "The agency desk crossed an asset manager's buy against an insurer's sell, 25,000 shares at one "
                 "price and time; the owners are unrelated and have never traded against each other.",
                 (CLOSE,), w, sym, trade,
                 _legs("ACC-6101", "Thornbury Asset Management", "ACC-6102", "Kestrel Insurance plc", "15:45:00.000",
                       "15:45:00.000", 25_000, 33.40), daily_volume=1_200_000, score=61, severity="MEDIUM")


# --------------------------------------------------------------------------- ambiguous

def unknown_account_owner() -> Case:
    name, sym, trade = "wash_unknown_account_owner", "PRSM", day("2024-06-18")
    w = _world(name, sym, trade, 62.00, 2_100_000)
    w.account("ACC-6202", "BO-572", "Harbor Pension Fund", "institutional", [], "direct")
    return _case(name, "ambiguous",
                 "Typical data gap: one side's account has no ownership record",
                 "A pension fund sold 4,000 shares 900 ms after an account with no ownership record bought them. "
                 "Without the owner no determination can rest on the data.",
                 (REVIEW,), w, sym, trade,
                 _legs("ACC-6201", "Unknown Holdings", "ACC-6202", "Harbor Pension Fund", "13:00:00.000",
                       "13:00:00.900", 4_000, 62.00), daily_volume=2_100_000, score=74)


def self_trade_unrelated_desks() -> Case:
    name, sym, trade = "wash_self_trade_unrelated_desks", "SOLR", day("2024-10-09")
    w = _world(name, sym, trade, 16.12, 650_000)
    w.account("ACC-6401", "BO-64", "Harrow Capital LLP", "proprietary", ["ACC-6402"], "house")
    w.account("ACC-6402", "BO-64", "Harrow Capital LLP", "proprietary", ["ACC-6401"], "house")
    for i, d in enumerate(("2024-09-18", "2024-09-25", "2024-10-02")):
        w.account_trade("ACC-6401", day(d), f"1{i}:20:00.000", sym, "BUY", 3_000, 16.0)
        w.account_trade("ACC-6402", day(d), f"1{i + 3}:10:00.000", sym, "SELL", 2_000, 16.1)
    return _case(name, "ambiguous",
                 "FINRA Rule 5210 .02 (2014): self-trades from unrelated algorithms or desks of one firm are "
                 "generally bona fide, unless they form a pattern — but one owner on both sides is for a human to "
                 "confirm",
                 "Two desks of one firm, one beneficial owner, bought and sold 2,500 shares 22 minutes apart at "
                 "different prices, for the first time. Everything about the trades says 'unintentional', but the "
                 "owner is the same on both sides: the rules may not close that alone.",
                 (REVIEW,), w, sym, trade,
                 _legs("ACC-6401", "Harrow Systematic Desk", "ACC-6402", "Harrow Index Arbitrage Desk",
                       "10:05:00.000", "10:27:00.000", 2_500, 16.10, sell_price=16.14), daily_volume=650_000, score=57,
                 severity="MEDIUM")


def spouses_linked_once() -> Case:
    name, sym, trade = "wash_spouses_linked_once", "GLDX", day("2024-06-10")
    w = _world(name, sym, trade, 18.35, 410_000)
    w.account("ACC-6301", "BO-631", "Ana Costa", "individual", ["ACC-6302"], "direct")
    w.account("ACC-6302", "BO-632", "Luis Costa", "individual", ["ACC-6301"], "spouse")
    return _case(name, "ambiguous",
                 "Typical borderline alert: linked household accounts trading against each other once "
                 "(FINRA Rule 6140(b); MAR Annex I A(a))",
                 "Spouses' accounts traded 3,000 shares against each other 41 s apart, for the first time.",
                 (REVIEW,), w, sym, trade,
                 _legs("ACC-6301", "Ana Costa", "ACC-6302", "Luis Costa", "12:00:05.000", "12:00:46.000", 3_000,
                       18.35), daily_volume=410_000, score=69, severity="MEDIUM")


CASES = (same_owner_subsecond_repeated, same_owner_no_market_data, linked_accounts_volume_inflation,
         hedge_position_transfer, prop_accounts_offset_at_open, unrelated_institutions_exchange,
         fund_cross_same_manager, mm_hedge_selfmatch_once, unrelated_far_apart_prices,
         agency_cross_unrelated_clients, unknown_account_owner, self_trade_unrelated_desks, spouses_linked_once)
