"""Insider-dealing specialist: trading ahead of price-sensitive information (MAR Art. 8 and 14).

Steps, in the order an analyst works the case: who is the trader and could they know; is the
trade unusual for them; what did the market do up to the event and what did they gain; was
anything public before they traded; did others trade the same way. Then the analyst weighs it.
"""

from __future__ import annotations

from agents.alerts import InsiderDealingAlert
from agents.evidence import Evidence
from agents.investigation import Rule, Specialist, ToolSpec, build_graph
from agents.tools import market, news, peers, trader

NAME = "insider_dealing"
EVENT_WINDOW_DAYS = 7
MATERIAL_GAIN = 10_000.0
CROWD = 3


def _days_before(alert: InsiderDealingAlert) -> int | None:
    if alert.related_event is None:
        return None
    return (alert.related_event.event_date - alert.activity.trade_date).days


TOOLS = (
    ToolSpec("trader_profile", "Trader profile and access",
             lambda ds, a, r: trader.profile(ds, a.trader.trader_id, a.activity.symbol, r)),
    ToolSpec("trader_history", "Trading history baseline",
             lambda ds, a, r: trader.history(ds, a.trader.trader_id, a.activity.symbol, a.activity.trade_date,
                                             a.activity.quantity, r)),
    ToolSpec("market_data", "Price and volume around the event",
             lambda ds, a, r: market.price_context(
                 ds, a.activity.symbol, a.activity.trade_date, a.activity.side, a.activity.quantity,
                 a.activity.price, a.related_event.event_date if a.related_event else None, r)),
    ToolSpec("news", "Public news before the trade",
             lambda ds, a, r: news.timeline(ds, a.activity.symbol, a.activity.trade_date,
                                            a.related_event.event_date if a.related_event else None, r)),
    ToolSpec("peer_trades", "Peer trading in the same window",
             lambda ds, a, r: peers.activity(ds, a.trader.trader_id, a.activity.symbol, a.activity.trade_date,
                                             a.activity.side, r)),
)


def _timing(f: dict, a: InsiderDealingAlert) -> str | None:
    days = _days_before(a)
    if days is None or not 0 <= days <= EVENT_WINDOW_DAYS:
        return None
    return (f"Traded {days} day(s) before the {a.related_event.event_type} on {a.related_event.event_date}"
            + (f" (close {f['reference_close']:,.2f})" if f.get("reference_is_event") else "") + ".")


def _size(f: dict, a: InsiderDealingAlert) -> str | None:
    z, ratio = f.get("zscore"), f.get("size_ratio")
    if (z is not None and z >= 3) or (ratio is not None and ratio >= 5):
        return (f"{f['flagged_qty']:,.0f} shares is {ratio:.1f}× the trader's average of {f['avg_qty']:,.0f}"
                + (f" (z = {z:.1f})" if z is not None else "") + f" over {f['trades']} trades.")
    return None


def _gain(f: dict, a: InsiderDealingAlert) -> str | None:
    pnl, move = f.get("profit_or_loss_avoided"), f.get("move_pct")
    if f.get("favourable_move") and pnl is not None and pnl >= MATERIAL_GAIN and abs(move) >= 5:
        what = "profit" if a.activity.side == "BUY" else "loss avoided"
        return f"Price moved {move:+.1f}% by {f['reference_date']}: {what} of {pnl:,.0f}."
    return None


def _normal_size(f: dict, a) -> str | None:
    ratio = f.get("size_ratio")
    if ratio is not None and ratio <= 2 and not f.get("first_time_symbol"):
        return (f"Size {ratio:.1f}× the trader's average in a symbol they trade regularly "
                f"({f['symbol_trades']} earlier trades).")
    return None


RULES = (
    Rule("ID-R1", "red_flag", 40, "trader_profile", "Traded despite a trading ban",
         lambda f, a: (f"Profile restricts the trader: “{f['restrictions']}” ({f['role']}, {f['department']})."
                       if f.get("no_trading_allowed") else None), cite=("profile",), critical=True),
    Rule("ID-R2", "red_flag", 30, "trader_profile", "Instrument on the trader's restricted list",
         lambda f, a: (f"{a.activity.symbol} is named in the trader's restrictions: “{f['restrictions']}”."
                       if f.get("symbol_restricted") else None), cite=("profile",), critical=True),
    Rule("ID-R3", "red_flag", 15, "trader_profile", "Access to inside information",
         lambda f, a: (f"{f['role']} in {f['department']} with {f['access_level']} access level."
                       if f.get("inside_information_access") else None), cite=("profile",)),
    Rule("ID-R4", "red_flag", 20, "market_data", "Traded shortly before the price-sensitive event", _timing,
         cite=("reference",)),
    Rule("ID-R5", "red_flag", 10, "news", "Nothing price-sensitive was public before the trade",
         lambda f, a: ("No price-sensitive news in the 14 days before the trade"
                       + (f"; the first came after it: {f['first_material_after']}" if f.get("first_material_after")
                          else "") + "." if f.get("news_silence") else None), cite=("window",)),
    Rule("ID-R6", "red_flag", 15, "trader_history", "Trade size far outside the trader's baseline", _size,
         cite=("baseline",)),
    Rule("ID-R7", "red_flag", 10, "trader_history", "First trade in this instrument",
         lambda f, a: (f"No trade in {a.activity.symbol} among {f['trades']} trades in the past year."
                       if f.get("first_time_symbol") else None), cite=("baseline",)),
    Rule("ID-R8", "red_flag", 5, "trader_history", "First trade in this sector",
         lambda f, a: (f"Sector {f['symbol_sector']} is new; the trader's sectors were "
                       f"{', '.join(f['sectors'])}." if f.get("first_time_sector") else None), cite=("baseline",)),
    Rule("ID-R9", "red_flag", 15, "market_data", "Material profit or loss avoided", _gain,
         cite=("trade_day", "reference")),
    Rule("ID-R10", "red_flag", 5, "peer_trades", "No one else traded this way",
         lambda f, a: (f"No other trader {a.activity.side.lower()}ing {a.activity.symbol} within ±3 days."
                       if f.get("peers_same_side") == 0 else None), cite=("window",)),
    Rule("ID-M1", "mitigating", -30, "news", "Price-sensitive news was public before the trade",
         lambda f, a: ("; ".join(f["material_before_trade"][:3]) + "."
                       if f.get("material_before_trade") else None), cite=("material_before",)),
    Rule("ID-M2", "mitigating", -15, "peer_trades", "Many peers traded the same way",
         lambda f, a: (f"{f['peers_same_side']} other traders {a.activity.side.lower()}ing within ±3 days "
                       f"({f['same_side_qty']:,.0f} shares)." if f.get("peers_same_side", 0) >= CROWD else None),
         cite=("same_side",)),
    Rule("ID-M3", "mitigating", -15, "trader_history", "Trade in line with the trader's usual activity",
         _normal_size, cite=("baseline", "symbol")),
    Rule("ID-M4", "mitigating", -20, "market_data", "The trade did not benefit from the event",
         lambda f, a: (f"Price moved {f['move_pct']:+.1f}% against the position by {f['reference_date']}."
                       if f.get("reference_date") and not f.get("favourable_move") else None),
         cite=("reference",)),
    Rule("ID-M5", "mitigating", -5, "market_data", "Market-wide volatility was high",
         lambda f, a: (f"VIX was {f['vix']:.1f} on the trade date." if f.get("high_vix") else None),
         cite=("trade_day",)),
)


def describe(alert: InsiderDealingAlert, evidence: dict[str, Evidence]) -> str:
    act, who = alert.activity, alert.trader
    profile = evidence.get("trader_profile")
    role = ""
    if profile and profile.ok:
        role = f", {profile.facts['role']} in {profile.facts['department']}"
    text = (f"{who.name or who.trader_id} ({who.trader_id}{role}) "
            f"{'bought' if act.side == 'BUY' else 'sold'} {act.quantity:,} {act.symbol} at {act.price:,.2f} "
            f"(value {act.total_value:,.0f}) on {act.trade_date}")
    days = _days_before(alert)
    if alert.related_event:
        ev = alert.related_event
        when = f"{days} day(s) before" if days is not None and days >= 0 else "after"
        text += f", {when} the {ev.event_type} on {ev.event_date}"
        if ev.description:
            text += f" ({ev.description})"
    return text + "."


def stor_fields(alert: InsiderDealingAlert, evidence: dict[str, Evidence]) -> dict:
    act, who = alert.activity, alert.trader
    profile = evidence.get("trader_profile")
    person = f"{who.name or 'Name not given'} (trader ID {who.trader_id})"
    if profile and profile.ok:
        person += f", {profile.facts['role']}, {profile.facts['department']}"
    elif who.department:
        person += f", {who.department}"
    return {
        "instrument": act.symbol,
        "suspected_persons": [person],
        "transactions": [f"{act.trade_date} {act.side} {act.quantity:,} {act.symbol} @ {act.price:,.2f} "
                         f"(value {act.total_value:,.2f})"],
    }


SPECIALIST = Specialist(
    name=NAME, label="Insider dealing", tools=TOOLS, rules=RULES,
    key_tools=frozenset({"trader_profile", "trader_history", "market_data", "news"}),
    describe=describe, stor_fields=stor_fields,
    suspicion="Insider dealing / unlawful disclosure (MAR Art. 8, 14; SEC Rule 10b-5)",
    regulations=("EU MAR Art. 8, 14, 16", "Delegated Reg. (EU) 2016/522 Annex II", "SEC Rule 10b-5"),
)
GRAPH = build_graph(SPECIALIST)
