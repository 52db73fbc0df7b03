"""Insider-dealing specialist: trading ahead of price-sensitive information (MAR Art. 8 and 14).

Steps, in the order an analyst works the case: who is the trader and could they know; is the
trade unusual for them; what did the market do up to the event and what did they gain; was
anything public before they traded; did others trade the same way. Then the analyst weighs it.
"""

from __future__ import annotations

from datetime import date, timedelta

from agents.alerts import InsiderDealingAlert, moment_label
from agents.data import DataError
from agents.evidence import Citation, Evidence
from agents.investigation import ALERT, EscalationGate, Guard, Rule, Specialist, ToolSpec, build_graph
from agents.text import plural
from agents.tools import book, market, news, peers, trader

NAME = "insider_dealing"
EVENT_WINDOW_DAYS = 7        # full timing weight up to here ...
RUN_UP_DAYS = 30             # ... decaying to here (accumulation weeks before a deal is the classic pattern)
TIMING_WEIGHT = 20
MATERIAL_GAIN = market.MATERIAL_AMOUNT
MATERIAL_MOVE_PCT = market.MATERIAL_MOVE_PCT
CROWD = 3
EXIT_SHARE = book.EXIT_SHARE  # selling at least this share of the position the history shows is an exit
REGULAR_TRADES = trader.REGULAR_TRADES  # earlier trades in the instrument before its size can be "usual"
USUAL_SIZE_RATIO = 2.0       # at most this × the average: in line with usual activity (ID-M3) ...
FAR_SIZE_RATIO = 5.0         # ... at least this ×, or above the usual band with z ≥ 3: far outside (ID-R6)
PLAN_TRADES = 2              # earlier same-size, same-side trades under a plan, before the event's run-up
PLAN_WEIGHT = -20            # what a plan weighs besides the timing flags it explains
COOLING_OFF_DAYS = {True: 90, False: 30}  # officers and directors, others (Rule 10b5-1(c)(1)(ii)(B))
HIGH_ANOMALY = 90
# The flags a qualifying plan explains: when, how much and with what outcome the trade was made are the plan's doing.
PLAN_EXPLAINS = ("ID-R4", "ID-R5", "ID-R6", "ID-R9", "ID-R10", "ID-R12", "ID-R13")
# An index-tracking mandate also sets what is traded: a new constituent is a first trade, a deleted one an exit.
MANDATE_EXPLAINS = ("ID-R4", "ID-R5", "ID-R6", "ID-R7", "ID-R8", "ID-R9", "ID-R10", "ID-R11", "ID-R12", "ID-R13")
# A book-wide sale sets when, how much (the whole position) and hence the outcome; not what was known (ID-R5).
BOOK_EXPLAINS = ("ID-R4", "ID-R6", "ID-R9", "ID-R10", "ID-R11", "ID-R12", "ID-R13")
BOOK_WEIGHT = -20
NOVELTY = "novelty"          # ID-R7, ID-R8: a first trade in a new sector is a first trade in the instrument
POSITION = "position size"   # ID-R6, ID-R11: when the trade sells the position, its size is the position's
PUBLIC = "made public"       # ID-M1, ID-M9: one announcement, of the event or of the index change it is
# Escalation needs materiality, or three independent indicators — each family one fact, counted once.
ESCALATION = EscalationGate(any_of=("ID-R1", "ID-R2", "ID-R9", "ID-R12"),
                            indicators=(("ID-R4",), ("ID-R3",), ("ID-R6", "ID-R11"), ("ID-R7", "ID-R8")),
                            min_indicators=3)


def _days_before(alert: InsiderDealingAlert) -> int | None:
    if alert.related_event is None:
        return None
    return (alert.related_event.event_date - alert.activity.trade_date).days


def run_up_start(alert: InsiderDealingAlert) -> date | None:
    """Where the event's run-up begins (RUN_UP_DAYS before it), when the trade falls inside it."""
    days = _days_before(alert)
    if days is None or not 0 <= days <= RUN_UP_DAYS:
        return None
    return alert.related_event.event_date - timedelta(days=RUN_UP_DAYS)


def timing_weight(days: int) -> int:
    """20 up to a week before the event, then ⌊140 / days⌋: 17 at 8 days, 10 at 14, 4 at 30."""
    return TIMING_WEIGHT if days <= EVENT_WINDOW_DAYS else (TIMING_WEIGHT * EVENT_WINDOW_DAYS) // days


def indicators(alert: InsiderDealingAlert) -> Evidence:
    """The alert's own figures: the surveillance system's score and profit estimate, and the event's timing."""
    an, ev = alert.anomaly, alert.related_event
    facts = {"anomaly_score": an.anomaly_score, "estimated_profit": an.estimated_profit,
             "days_before_event": _days_before(alert)}
    citations = {}
    if an.anomaly_score is not None:
        citations["anomaly_score"] = Citation(source="alert", elements=("AnomalyIndicators/AnomalyScore",),
                                              note="the surveillance system's anomaly score")
    if an.estimated_profit is not None:
        citations["estimated_profit"] = Citation(source="alert", elements=("AnomalyIndicators/EstimatedProfit",),
                                                 note="the surveillance system's profit estimate")
    if ev is not None:
        citations["timing"] = Citation(source="alert", note="trade date and event date",
                                       elements=("SuspiciousActivity/TradeDate", "RelatedEvent/EventDate"))
    summary = f"Anomaly score {an.anomaly_score if an.anomaly_score is not None else 'not given'}"
    if an.estimated_profit:
        summary += f"; estimated profit {an.estimated_profit:,.0f}"
    if ev is not None:
        summary += f"; event {ev.event_date}, {_event_gap(facts['days_before_event'])}"
    return Evidence(tool=ALERT, title="Surveillance indicators", summary=summary + ".", facts=facts,
                    citations=citations)


MORE = " …"  # a list cut short says so


def _event_gap(days: int) -> str:
    """Where the event falls from the trade, in words: an event before the trade is not "-2 days after"."""
    if days == 0:
        return "the day of the trade"
    return f"{plural(abs(days), 'day')} {'after' if days > 0 else 'before'} the trade"


def _lots(ds, a: InsiderDealingAlert) -> list[dict]:
    try:
        return trader.run_up_lots(ds, a.trader.trader_id, a.activity.symbol, a.activity.side, run_up_start(a),
                                  a.activity.trade_date)
    except DataError:  # no trading history: the outcome is measured on the flagged trade alone
        return []


TOOLS = (
    ToolSpec("trader_profile", "Trader profile and access",
             lambda ds, a, r: trader.profile(ds, a.trader.trader_id, a.activity.symbol, r), ("trader_profiles",)),
    ToolSpec("trader_history", "Trading history baseline",
             lambda ds, a, r: trader.history(ds, a.trader.trader_id, a.activity.symbol, a.activity.trade_date,
                                             a.activity.side, a.activity.quantity, r, run_up_start(a),
                                             price=a.activity.price),
             ("trader_history",)),
    ToolSpec("market_data", "Price and volume around the event",
             lambda ds, a, r: market.price_context(
                 ds, a.activity.symbol, a.activity.trade_date, a.activity.side, a.activity.quantity,
                 a.activity.price, a.related_event.event_date if a.related_event else None, r,
                 lots=_lots(ds, a)), ("market_data",)),
    ToolSpec("news", "Public news before the trade",
             lambda ds, a, r: news.timeline(ds, a.activity.symbol, a.activity.trade_date, a.activity.side,
                                            a.related_event, r), ("news",)),
    ToolSpec("peer_trades", "Peer trading in the same window",
             lambda ds, a, r: peers.activity(ds, a.trader.trader_id, a.activity.symbol, a.activity.trade_date,
                                             a.activity.side, r), ("peer_trades",)),
)


def _timing(f: dict, a: InsiderDealingAlert) -> str | None:
    days = f.get("days_before_event")
    if days is None or not 0 <= days <= RUN_UP_DAYS:
        return None
    if days == 0 and (f.other("news") or {}).get("event_public_before_trade"):
        return None  # the event was announced before the session opened: the trade came after it
    ev = a.related_event
    where = (f"inside the {EVENT_WINDOW_DAYS}-day window" if days <= EVENT_WINDOW_DAYS
             else f"in the run-up: weight {timing_weight(days)} of {TIMING_WEIGHT}, decaying with distance")
    when = f"{plural(days, 'day')} before" if days else "on the day of"
    return f"Traded {when} the {ev.event_type} on {ev.event_date} ({where})."


def _size(f: dict, a: InsiderDealingAlert) -> str | None:
    """Far outside: ≥ 5× the average, or above the usual band (> 2×) and z ≥ 3; the bands never overlap ID-M3's."""
    z, ratio = f.get("zscore"), f.get("size_ratio")
    if ratio is None or not (ratio >= FAR_SIZE_RATIO or (ratio > USUAL_SIZE_RATIO and z is not None and z >= 3)):
        return None
    what = (f"{f['position_built']:,.0f} shares (the flagged {f['flagged_qty']:,.0f} and "
            f"{plural(len(_tranches(f, a)), 'tranche')} in the run-up)" if _tranches(f, a)
            else f"{f['flagged_qty']:,.0f} shares")
    return (f"{what} is {ratio:.1f}× the trader's average of {f['avg_qty']:,.0f}"
            + (f" (z = {z:.1f})" if z is not None else "") + f" over {plural(f['trades'], 'trade')}.")


def _tranches(f: dict, a: InsiderDealingAlert) -> list[dict]:
    return [t for t in f.get("run_up_trades", []) if t["side"].upper() == a.activity.side]


def _outcome(f: dict, a: InsiderDealingAlert) -> str:
    what = "profit" if a.activity.side == "BUY" else "loss avoided"
    built = f.get("position_qty") or a.activity.quantity
    start = (f"from the {built:,.0f} shares' average price {f['position_price']:,.2f} (the position built in the "
             f"run-up)" if built != a.activity.quantity else "from the trade price")
    amount = f['profit_or_loss_avoided']
    if amount < 0:  # the move went against the position: say what it cost, never "a profit of -6,000"
        what, amount = ("a loss" if a.activity.side == "BUY" else "a gain forgone"), -amount
    return (f"{f['move_pct']:+.1f}% {start} to {f['reference_close']:,.2f} on {f['reference_date']} "
            f"({f['reference_reason']}): {what} of {amount:,.0f}")


def _gain(f: dict, a: InsiderDealingAlert) -> str | None:
    if f.get("reference_date") and f.get("favourable_move") and f.get("material_move"):
        return f"Price moved {_outcome(f, a)}."
    return None


def _against(f: dict, a: InsiderDealingAlert) -> str | None:
    if f.get("reference_date") and not f.get("favourable_move") and f.get("material_move"):
        return f"Price moved against the position, {_outcome(f, a)} to the trader."
    return None


def _exits(f: dict) -> bool:
    return f.get("exit_share") is not None and f["exit_share"] >= EXIT_SHARE


def _exit(f: dict, a: InsiderDealingAlert) -> str | None:
    if not _exits(f):
        return None
    return (f"Sold {a.activity.quantity:,} of the {f['position_before']:,.0f} shares the history shows held "
            f"({f['exit_share']:.0%}): an exit, not a trim.")


def _normal_size(f: dict, a) -> str | None:
    """In line: ≤ 2× the average, ≥ 3 earlier trades in the symbol before the run-up, not an exit, and those trades
    not a record of quick profitable round trips (a pattern of well-timed trades is not a usual pattern)."""
    ratio, trips = f.get("size_ratio"), f.get("round_trips") or []
    if ratio is None or ratio > USUAL_SIZE_RATIO or f.get("symbol_trades", 0) < REGULAR_TRADES or _exits(f):
        return None
    in_trips = 2 * len(trips)  # each round trip is two of the earlier trades
    if len(trips) >= 2 and 2 * in_trips >= f["symbol_trades"]:
        return None
    return (f"Size {ratio:.1f}× the trader's average in a symbol they trade regularly "
            f"({plural(f['symbol_trades'], 'earlier trade')} in the year).")


def _news_silence(f: dict, a: InsiderDealingAlert) -> str | None:
    if not f.get("news_silence"):
        return None
    about = f"public {f['event_nature']} news about" if f.get("event_nature") else "public news about"
    text = (f"No {about} {a.activity.symbol} — disclosed or reported — nor any explaining a {a.activity.side}, in the "
            f"{news.LOOKBACK_DAYS} days before the trade")
    if f.get("set_aside"):
        text += "; set aside: " + "; ".join(f["set_aside"][:4])
    if f.get("first_after"):
        text += f"; the first issuer news came after the trade: {f['first_after']}"
    return text + "."


def _plan(f: dict, a: InsiderDealingAlert) -> str | None:
    """A documented pre-scheduled plan that the trade follows (Rule 10b5-1(c))."""
    profile = f.other("trader_profile")
    plan = profile and profile.get("plan")
    if not plan or not plan.get("adopted") or plan.get("side") not in (None, a.activity.side):
        return None
    adopted, trade = date.fromisoformat(plan["adopted"]), a.activity.trade_date
    cooling = COOLING_OFF_DAYS[bool(profile.get("officer"))]
    if (trade - adopted).days < cooling:  # at least 30 days: the plan also predates the event's run-up
        return None
    # Good faith shows in a track record: the plan traded this size before the event's run-up began, so its
    # schedule was set before the information could be in hand (a plan adopted while aware trades only near it).
    horizon = (run_up_start(a) or trade).isoformat()
    under_plan = [t for t in f.get("same_size_trades", []) if plan["adopted"] < t["date"] < horizon]
    if len(under_plan) < PLAN_TRADES:
        return None
    dates = ", ".join(t["date"] for t in under_plan[:6]) + MORE * (len(under_plan) > 6)
    return (f"The trade follows a documented plan: “{plan['text']}”. Adopted {adopted}, "
            f"{plural((trade - adopted).days, 'day')} before the trade (cooling-off {cooling} days)"
            f"; {plural(len(under_plan), 'earlier trade')} of the same side and size under it before the event's "
            f"run-up ({dates}): the plan, not the trader, set this trade's timing and size.")


def _index_mandate(f: dict, a: InsiderDealingAlert) -> str | None:
    profile = f.other("trader_profile")
    if not profile or not profile.get("index_tracking"):
        return None
    matching = [c for c in f.get("index_changes", []) if news.explains(c["tone"], a.activity.side)]
    if not matching:
        return None
    return (f"{profile['role']} in {profile['department']} tracks an index, and the index change was public: "
            f"{matching[0]['headline']}; an index-tracking {a.activity.side} follows it.")


def _book(f: dict, a: InsiderDealingAlert) -> str | None:
    """The flagged sale is one of several whole-position exits the same day and not the bulk of them (see
    agents.tools.book), by a trader without access to inside information who is no officer or director: the
    decision was about the book. An insider's book-wide sale explains nothing (it may be the cover)."""
    profile = f.other("trader_profile") or {}
    if a.activity.side != "SELL" or not _exits(f) or not f.get("book_wide_exit") \
            or profile.get("inside_information_access", True) or profile.get("officer", True):
        return None
    exits = f["book_exits"]
    return (f"The same day the trader also sold out of {plural(len(exits), 'other position')} ("
            + ", ".join(f"{e['symbol']} {e['qty']:,.0f} of {e['held']:,.0f}" for e in exits[:8])
            + (" …" if len(exits) > 8 else "") + f"); this sale is {f['flagged_share_of_day']:.0%} of the value sold "
            f"out that day: the book was sold, not this holding singled out. {profile.get('role')} in "
            f"{profile.get('department')}, with no access to inside information and no office on record.")


NEWS_STRENGTH = ("disclosed_before", "reported_before", "direction_before")


def _news_mitigation(kind: str, f: dict) -> str | None:
    """News mitigations count once, the strongest: disclosed > reported (unconfirmed) > direction."""
    stronger = NEWS_STRENGTH[:NEWS_STRENGTH.index(kind)]
    if f.get(kind) and not any(f.get(k) for k in stronger):
        return "; ".join(f[kind][:3]) + "."
    return None


def _strongest_news(kind: str):
    # The check is a call at assessment time, not a closure built with the table at import: the
    # table is built once, and a closure's body would be out of mutation testing's reach.
    return lambda f, a: _news_mitigation(kind, f)


RULES = (
    Rule("ID-R1", "red_flag", 40, "trader_profile", "Traded despite a trading ban",
         lambda f, a: (f"Profile restricts the trader: “{f['restriction']}” ({f['role']}, {f['department']})."
                       if f.get("no_trading_allowed") else None), cite=("profile",), critical=True),
    Rule("ID-R2", "red_flag", 30, "trader_profile", "Instrument named in the trader's restrictions",
         lambda f, a: (f"{a.activity.symbol} is named in a restriction: “{f['restriction']}”."
                       if f.get("symbol_restricted") else None), cite=("profile",), critical=True),
    Rule("ID-R3", "red_flag", 15, "trader_profile", "Access to inside information",
         lambda f, a: (f"{f['role']} in {f['department']} with {f['access_level']} access level."
                       if f.get("inside_information_access") else None), cite=("profile",)),
    Rule("ID-R4", "red_flag", TIMING_WEIGHT, ALERT, "Traded in the run-up to the price-sensitive event", _timing,
         cite=("timing",), weigh=lambda f, a: timing_weight(f["days_before_event"])),
    Rule("ID-R5", "red_flag", 10, "news", "Nothing about the matter was public before the trade", _news_silence,
         cite=("window",)),
    Rule("ID-R6", "red_flag", 15, "trader_history", "Trade size far outside the trader's baseline", _size,
         cite=("baseline", "run_up"), group=POSITION),
    Rule("ID-R7", "red_flag", 10, "trader_history", "First trade in this instrument",
         lambda f, a: (f"No trade in {a.activity.symbol} among {plural(f['trades'], 'trade')} from "
                       f"{f['window_start']} to {f['baseline_end']}, and no position held."
                       if f.get("first_time_symbol") else None),
         cite=("baseline",), group=NOVELTY),
    Rule("ID-R8", "red_flag", 5, "trader_history", "First trade in this sector",
         lambda f, a: (f"Sector {f['symbol_sector']} is new; the trader's sectors were "
                       f"{', '.join(f['sectors'])}." if f.get("first_time_sector") else None), cite=("baseline",),
         group=NOVELTY),
    Rule("ID-R9", "red_flag", 15, "market_data", "Material profit or loss avoided", _gain,
         cite=("trade_day", "reference", "reaction", "lots")),
    Rule("ID-R10", "red_flag", 5, "peer_trades", "No one else traded this way",
         lambda f, a: (f"No other trader {a.activity.side.lower()}ing {a.activity.symbol} within ±3 days, in a "
                       "symbol the peer file covers." if f.get("peers_same_side") == 0 and f.get("coverage")
                       else None), cite=("window",)),
    Rule("ID-R11", "red_flag", 15, "trader_history", "Sold out of the position", _exit, cite=("position",),
         group=POSITION),
    Rule("ID-R12", "red_flag", 10, ALERT, "Material profit estimated by the surveillance system",
         lambda f, a: (f"The alert estimates a profit of {f['estimated_profit']:,.0f}; the market data could not "
                       "measure the outcome, so the system's figure is the only one."
                       if (f.get("estimated_profit") or 0) >= MATERIAL_GAIN
                       and not (f.other("market_data") or {}).get("reference_date") else None),
         cite=("estimated_profit",)),
    Rule("ID-R13", "red_flag", 5, ALERT, "Highly anomalous for the surveillance system",
         lambda f, a: (f"Anomaly score {f['anomaly_score']:.0f} (≥ {HIGH_ANOMALY})."
                       if (f.get("anomaly_score") or 0) >= HIGH_ANOMALY else None), cite=("anomaly_score",)),
    Rule("ID-M1", "mitigating", -30, "news", "News of the event's nature was disclosed before the trade",
         _strongest_news("disclosed_before"), cite=("disclosed",), group=PUBLIC),
    Rule("ID-M2", "mitigating", -15, "peer_trades", "Many peers traded the same way",
         lambda f, a: (f"{plural(f['peers_same_side'], 'other trader')} {a.activity.side.lower()}ing within ±3 days "
                       f"({f['same_side_qty']:,.0f} shares)." if f.get("peers_same_side", 0) >= CROWD else None),
         cite=("same_side",)),
    Rule("ID-M3", "mitigating", -15, "trader_history", "Trade in line with the trader's usual activity",
         _normal_size, cite=("baseline", "symbol")),
    Rule("ID-M4", "mitigating", -20, "market_data", "The event went materially against the trade", _against,
         cite=("reference", "reaction")),
    Rule("ID-M5", "mitigating", -5, "market_data", "Market-wide volatility was high",
         lambda f, a: (f"VIX was {f['vix']:.1f} on the trade date." if f.get("high_vix") else None),
         cite=("trade_day",)),
    Rule("ID-M6", "mitigating", -15, "news", "Public news explained the trade's direction",
         _strongest_news("direction_before"), cite=("direction",)),
    Rule("ID-M7", "mitigating", -20, "news", "The matter had been reported, unconfirmed",
         _strongest_news("reported_before"), cite=("reported",)),
    Rule("ID-M8", "mitigating", PLAN_WEIGHT, "trader_history", "The trade follows a documented trading plan", _plan,
         cite=("trader_profile:profile", "same_size"), explains=PLAN_EXPLAINS),
    Rule("ID-M9", "mitigating", -30, "news", "Index-tracking trade on an announced index change", _index_mandate,
         cite=("index_changes", "trader_profile:profile"), explains=MANDATE_EXPLAINS, group=PUBLIC),
    Rule("ID-M10", "mitigating", BOOK_WEIGHT, "trader_history", "One of a book-wide sale the same day", _book,
         cite=("book", "same_day"), explains=BOOK_EXPLAINS),
)

GUARDS = (
    # Only the issuer's disclosure of the matter before the trade (ID-M1) explains the cluster: a rumour, a press
    # report or news of another kind subtract their weight but never make the information public.
    Guard("ID-G1", "traded in the event's run-up, before any disclosure, with a material gain or loss avoided",
          requires=("ID-R4", "ID-R9"), explained_by=("ID-M1", "ID-M8", "ID-M9", "ID-M10")),
    Guard("ID-G2", "sold out of a position in the event's run-up and avoided a material loss",
          requires=("ID-R11", "ID-R4", "ID-R9"), explained_by=("ID-M1", "ID-M8", "ID-M9", "ID-M10")),
    Guard("ID-G3", "traded despite a trading ban", requires=("ID-R1",)),
    Guard("ID-G4", "traded an instrument named in the trader's restrictions", requires=("ID-R2",)),
)


def describe(alert: InsiderDealingAlert, evidence: dict[str, Evidence]) -> str:
    act, who = alert.activity, alert.trader
    profile = evidence.get("trader_profile")
    role = f"{profile.facts['role']} in {profile.facts['department']}" if profile and profile.ok else ""
    known = ", ".join(part for part in (who.trader_id if who.name else "", role) if part)
    named = (who.name or f"Trader {who.trader_id}") + (f" ({known})" if known else "")  # never "T7 (T7)"
    text = (f"{named} "
            f"{'bought' if act.side == 'BUY' else 'sold'} {act.quantity:,} {act.symbol} at {act.price:,.2f} "
            f"(value {act.total_value:,.0f}) on {act.trade_date}")
    days = _days_before(alert)
    if alert.related_event:
        ev = alert.related_event
        when = ("on the day of" if days == 0 else f"{plural(days, 'day')} before" if days is not None and days > 0
                else "after")
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
    listing, ccy = alert.listing, f" {alert.listing.currency}" if alert.listing.currency else ""
    return {
        "instrument": act.symbol, "isin": listing.isin, "venue": listing.venue, "currency": listing.currency,
        "accounts": [act.account_id] if act.account_id else [],
        "suspected_persons": [person],
        "transactions": [f"{moment_label(act.trade_date)} {act.side} {act.quantity:,} {act.symbol} @ {act.price:,.2f}"
                         f"{ccy} (value {act.total_value:,.2f}{ccy})"
                         + (f" on {listing.venue}" if listing.venue else "")
                         + (f", account {act.account_id}" if act.account_id else "")],
    }


SPECIALIST = Specialist(
    name=NAME, label="Insider dealing", tools=TOOLS, rules=RULES,
    key_tools=frozenset({"trader_profile", "trader_history", "market_data", "news"}),
    describe=describe, stor_fields=stor_fields,
    suspicion="Insider dealing / unlawful disclosure (MAR Art. 8, 14; SEC Rule 10b-5)",
    regulations=("EU MAR Art. 8, 14, 16", "Delegated Reg. (EU) 2016/522 Annex II", "SEC Rule 10b-5"),
    guards=GUARDS, alert_indicators=indicators, escalation=ESCALATION,
)
GRAPH = build_graph(SPECIALIST)
