"""Order tools for spoofing and layering: the flagged order book episode, and the account's
order-to-trade and cancellation habits over the prior month.

Orders belong to the account they are entered for (ESMA MAR Q&A; FINRA Notice 15-09: an agency
desk's behaviour is judged per client order): layers and the opposite execution that pays for
them must be for the same beneficial interest. The episode is therefore read account by
account — the account an order was entered for is the alert's AccountID, or, when the alert
names only the trader, the account the order history records for that order id — and habits
are the same account's.

The payoff of layers is an execution on the other side while they rest — or seconds after they
are pulled, of an order placed while they rested: their effect on the book, or on the indicative
price of an auction, outlasts them until the next execution (in a call auction nothing executes
before the uncross, which is what the pulled layers were meant to move: MAR Annex I A(f), (g);
SEC In re Briargate Trading). A pattern recurs when earlier days show the same signature as the
episode: layers pulled around an execution on the other side, or orders cancelled within seconds
— the latter only when it is not the trader's everyday style (a high-frequency trader cancels
within seconds every day: a habit present every day distinguishes nothing). The baseline rates
are the trader's ordinary flow: the days with the signature are left out of them, so that a
suspect's own earlier episodes never make the episode look normal.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

from agents.alerts import OrderEvent, SpoofingAlert
from agents.data import TABLES, DataError, Dataset
from agents.evidence import Citation, Evidence
from agents.progress import StepReporter, records_inputs
from agents.text import normalise, noun, plural
from agents.tools import accounts, news, trader

HISTORY_DAYS = 30
FAST_CANCEL_SECONDS = 10.0
FOLLOW_SECONDS = 10.0  # an execution this soon after a layer was pulled still trades on its effect
STYLE_SHARE = 0.5      # fast cancels on at least this share of the days with orders are the trader's style ...
STYLE_MIN_DAYS = 5     # ... of at least this many days (fewer show no habit)
MIN_BASELINE_ORDERS = 10  # orders outside the signature days a baseline cancellation rate needs
LAYER_MIN = 3
BALANCED_RATIO = 2.0  # two-sided quoting: the larger side placed at most twice the smaller
_AUCTION = re.compile(r"auction|pre-?open|uncross|\bcall\b|closing cross|opening cross", re.I)


@dataclass
class _Order:
    order_id: str
    side: str
    quantity: int
    price: float
    placed_at: datetime
    cancelled_at: datetime | None = None
    filled: int = 0
    executed_at: datetime | None = None

    @property
    def lifetime(self) -> float | None:
        return (self.cancelled_at - self.placed_at).total_seconds() if self.cancelled_at else None


def _lifecycles(events: tuple[OrderEvent, ...]) -> dict[str, _Order]:
    orders: dict[str, _Order] = {}
    for ev in events:
        order = orders.get(ev.order_id)
        if order is None:
            order = orders[ev.order_id] = _Order(ev.order_id, ev.side, ev.quantity, ev.price, ev.timestamp)
        if ev.action == "CANCEL":
            order.cancelled_at = ev.timestamp
        elif ev.action == "EXECUTE":
            order.filled += ev.filled_quantity or ev.quantity
            order.executed_at = order.executed_at or ev.timestamp
        elif ev.action == "AMEND":
            order.quantity, order.price = ev.quantity, ev.price
    return orders


def accounts_of(ds: Dataset | None, alert: SpoofingAlert) -> tuple[dict[str, str], tuple[int, ...]]:
    """The account each order of the alert was entered for, and the order-history lines that said so."""
    given = {ev.order_id: ev.account_id for ev in alert.orders}
    unnamed = sorted(oid for oid, acc in given.items() if acc == alert.trader.trader_id)
    if ds is None or not unnamed:
        return given, ()
    try:
        marks = ",".join("?" * len(unnamed))
        rows = ds.query("order_history",
                        "SELECT line, order_id, account_id FROM rows WHERE symbol = ? AND date = ? AND order_id IN "  # noqa: S608
                        f"({marks}) ORDER BY line", (alert.symbol, alert.trade_date.isoformat(), *unnamed))
    except DataError:  # no order history: the alert's accounts are all there is
        return given, ()
    recorded = {r["order_id"]: r["account_id"] for r in rows if r["account_id"]}
    return {oid: recorded.get(oid, acc) for oid, acc in given.items()}, tuple(r["line"] for r in rows)


def interests_of(ds: Dataset | None, alert: SpoofingAlert, account_ids: list[str]) -> dict[str, str]:
    """The beneficial interest each account trades for: its recorded beneficial owner; without one, the account
    itself when the trader executes for clients (an agency desk's accounts are its clients'), else the trader (a
    trader's own accounts are one interest, so layers in one and a fill in another are still read together)."""
    if ds is None or account_ids == [alert.trader.trader_id]:
        return {acc: alert.trader.trader_id for acc in account_ids}
    owners = accounts.owner_ids(ds, account_ids)
    agency = trader.agency_desk(ds, alert.trader.trader_id)
    return {acc: owners.get(acc) or (acc if agency else alert.trader.trader_id) for acc in account_ids}


def episode_facts(alert: SpoofingAlert, ds: Dataset | None = None) -> tuple[dict, dict[str, _Order]]:
    """The flagged episode, read per beneficial interest: the one whose orders look most like layering is judged."""
    account_of, lines = accounts_of(ds, alert)
    interest_of = interests_of(ds, alert, sorted(set(account_of.values())))
    by_interest: dict[str, list[OrderEvent]] = defaultdict(list)
    for ev in alert.orders:
        by_interest[interest_of[account_of[ev.order_id]]].append(ev)
    read = {key: _account_facts(tuple(events)) for key, events in by_interest.items()}
    judged = max(read, key=lambda k: (read[k][0]["executions_while_resting"] + read[k][0]["executions_after_pull"] > 0,
                                      read[k][0]["layered_quantity"], k))
    members = {k: sorted({account_of[ev.order_id] for ev in by_interest[k]}) for k in read}
    facts, orders = read[judged]
    facts.update({"accounts": members[judged], "all_accounts": sorted(set(account_of.values())),
                  "account_lines": lines,
                  "other_accounts": {", ".join(members[k]): f"{plural(read[k][0]['orders'], 'order')}, "
                                                            f"{read[k][0]['layers']} cancelled unfilled"
                                     for k in sorted(read) if k != judged}})
    return facts, orders


def _account_facts(events: tuple[OrderEvent, ...]) -> tuple[dict, dict[str, _Order]]:
    """Layers placed and cancelled on one side while the same account executed on the other."""
    orders = _lifecycles(events)
    cancelled = [o for o in orders.values() if o.cancelled_at and o.filled == 0]
    executed = [o for o in orders.values() if o.filled > 0]
    by_side = defaultdict(list)
    for o in cancelled:
        by_side[o.side].append(o)
    layer_side, layers = max(by_side.items(), key=lambda kv: sum(o.quantity for o in kv[1]), default=(None, []))
    opposite = [o for o in executed if layer_side and o.side != layer_side]
    # Executions on the other side while at least one layer was resting, or within FOLLOW_SECONDS after one was
    # pulled, of an order placed while it rested (an auction's uncross, or the book before it recovers).
    while_resting = [e for e in opposite if any(
        layer.placed_at <= e.executed_at <= layer.cancelled_at for layer in layers)]
    after_pull = [e for e in opposite if e not in while_resting and any(
        e.placed_at <= layer.cancelled_at < e.executed_at <= layer.cancelled_at + timedelta(seconds=FOLLOW_SECONDS)
        for layer in layers)]
    placed_qty = sum(o.quantity for o in orders.values())
    cancelled_qty = sum(o.quantity for o in cancelled)
    lifetimes = [o.lifetime for o in layers if o.lifetime is not None]
    executed_qty = sum(o.filled for o in opposite)
    layered_qty = sum(o.quantity for o in layers)
    facts = {
        "orders": len(orders), "cancelled_orders": len(cancelled), "executed_orders": len(executed),
        "layer_side": layer_side, "layers": len(layers),
        "layer_price_levels": len({o.price for o in layers}),
        "layered_quantity": layered_qty,
        "layers_from": min((o.placed_at for o in layers), default=None),
        "layers_to": max((o.cancelled_at for o in layers), default=None),
        "median_layer_lifetime_s": round(median(lifetimes), 3) if lifetimes else None,
        "opposite_executed_quantity": executed_qty,
        "executions_while_resting": len(while_resting), "executions_after_pull": len(after_pull),
        "seconds_after_pull": (round(min((e.executed_at - layer.cancelled_at).total_seconds() for e in after_pull
                                         for layer in layers if layer.cancelled_at < e.executed_at), 3)
                               if after_pull else None),
        "cancel_ratio_pct": round(cancelled_qty / placed_qty * 100, 1) if placed_qty else None,
        "layer_to_execution_ratio": round(layered_qty / executed_qty, 1) if executed_qty else None,
    }
    placed_by_side = {side: sum(o.quantity for o in orders.values() if o.side == side) for side in ("BUY", "SELL")}
    filled_by_side = {side: sum(o.filled for o in orders.values() if o.side == side) for side in ("BUY", "SELL")}
    small, large = sorted(placed_by_side.values())
    facts.update({
        "placed_by_side": placed_by_side, "filled_by_side": filled_by_side,
        "one_sided": not small,
        "balanced_two_sided": bool(small) and large / small <= BALANCED_RATIO,
        "fills_both_sides": all(filled_by_side.values()),
    })
    return facts, orders


@records_inputs
def episode(ds: Dataset, alert: SpoofingAlert, reporter: StepReporter) -> Evidence:
    """The flagged episode as evidence, citing the alert's order events."""
    reporter.progress(f"Reconstructing {plural(len(alert.orders), 'order event')}", total=2)
    facts, orders = episode_facts(alert, ds)
    facts["auction_phase"] = auction_phase(ds, alert, facts)
    layers, layer_side, executed_qty = facts["layers"], facts["layer_side"], facts["opposite_executed_quantity"]
    while_resting = facts["executions_while_resting"]
    reporter.progress(f"{layers} cancelled {layer_side or ''} {noun(layers, 'order')}, "
                      f"{plural(executed_qty, 'share')} executed opposite", step=2)
    elements = tuple(f"OrderActivity/Order[OrderID={oid}]" for oid in orders)
    if layers:
        summary = (f"{layers} {layer_side} {noun(layers, 'order')} ({plural(facts['layered_quantity'], 'share')} at "
                   f"{plural(facts['layer_price_levels'], 'price level')}) cancelled after a median "
                   f"{facts['median_layer_lifetime_s']:.1f} s; {plural(executed_qty, 'share')} executed on the other "
                   "side")
        if while_resting:
            summary += f", {plural(while_resting, 'execution')} while the layers rested"
        if facts["executions_after_pull"]:
            summary += (f", {plural(facts['executions_after_pull'], 'execution')} {facts['seconds_after_pull']:.1f} s "
                        "after a layer was pulled, of an order placed while it rested")
        if facts["auction_phase"]:
            summary += f"; the layers rested in an auction phase ({facts['auction_phase']})"
    else:
        summary = "No cancelled orders in the flagged episode"
    citations = {"orders": Citation(source="alert", elements=elements, note="order events of the episode")}
    if facts["other_accounts"]:
        summary += (f"; orders for {plural(len(facts['all_accounts']), 'account')} of different beneficial interests, "
                    f"read apart: judged {', '.join(facts['accounts'])}"
                    + "".join(f"; {acc}: {what}" for acc, what in facts["other_accounts"].items()))
    if facts["account_lines"]:
        citations["accounts"] = Citation(source=TABLES["order_history"].path, lines=facts["account_lines"],
                                         note="the accounts the episode's orders were entered for")
    return Evidence(tool="order_episode", title="Order book episode", summary=summary + ".", facts=facts,
                    citations=citations)


def auction_phase(ds: Dataset | None, alert: SpoofingAlert, facts: dict) -> str | None:
    """Why the layers rested in an auction phase, where nothing executes before the uncross: the alert's market
    phase names one, or every layer was placed and pulled before the instrument's session opened (instruments.csv's
    session_open, else news.SESSION_OPEN). None when neither shows it."""
    phase = normalise((alert.market_context or {}).get("MarketPhase"))
    if _AUCTION.search(phase):
        return f"the alert's market phase: {phase}"
    if not facts.get("layers") or ds is None:
        return None
    opens = news.session_open(ds, alert.symbol)
    if facts["layers_to"].time() < opens:
        return f"placed and pulled before the session opened at {opens:%H:%M}"
    return None


@records_inputs
def habits(ds: Dataset, trader_id: str, account_ids: list[str], trade_date: date, reporter: StepReporter,
           episode: SpoofingAlert | None = None) -> Evidence:
    """The account's cancellation and order-to-trade ratios in the prior month, and the earlier days that show
    the episode's signature (orders cancelled within seconds, or layers cancelled while the other side executed).

    With ``episode`` (the alert), the trade day's orders before the episode began count too, as one more
    occasion: repetition the same day is a pattern as much as repetition on earlier days.
    """
    source = TABLES["order_history"].path
    since = trade_date - timedelta(days=HISTORY_DAYS)
    account = ", ".join(account_ids)
    who = trader_id if account_ids == [trader_id] else f"{trader_id} for {account}"
    reporter.progress(f"Reading {who}'s orders since {since}", total=2)
    rows = ds.query("order_history",
                    f"SELECT * FROM rows WHERE trader_id = ? AND account_id IN ({','.join('?' * len(account_ids))}) "  # noqa: S608
                    "AND date >= ? AND date <= ? ORDER BY timestamp, line",
                    (trader_id, *account_ids, since.isoformat(), trade_date.isoformat()))
    start = episode.orders[0].timestamp.isoformat() if episode else ""
    ours = {ev.order_id for ev in episode.orders} if episode else set()
    same_day = f"{trade_date} before {start[11:19]}"
    rows = [{**r, "date": same_day} if r["date"] == trade_date.isoformat() else r for r in rows
            if r["date"] < trade_date.isoformat() or (episode and r["timestamp"] < start and r["order_id"] not in ours)]
    if not rows:
        return Evidence(tool="order_history", title="Order history baseline", ok=False,
                        summary=f"No orders by {who} in {source} in the {HISTORY_DAYS} days before "
                                f"{trade_date}.", error=f"no order history for {who}",
                        citations={"searched": Citation(source=source, note=f"trader_id = {trader_id}, account_id = "
                                                                            f"{account}, date {since} to {trade_date}: "
                                                                            "none found")})
    fast_by_day = defaultdict(list)
    placed_at = {r["order_id"]: r["timestamp"] for r in rows if r["action"].upper() == "PLACE"}
    for c in (r for r in rows if r["action"].upper() == "CANCEL"):
        if c["order_id"] in placed_at and (datetime.fromisoformat(c["timestamp"])
                                           - datetime.fromisoformat(placed_at[c["order_id"]])
                                           ).total_seconds() <= FAST_CANCEL_SECONDS:
            fast_by_day[c["date"]].append(c)
    by_day = defaultdict(list)
    for r in rows:
        by_day[r["date"]].append(r)
    fast_days = {d for d, cs in fast_by_day.items() if len(cs) >= LAYER_MIN}
    # Fast cancels on most days are the trader's style, not the episode's signature: they recur but tell nothing.
    style = len(by_day) >= STYLE_MIN_DAYS and len(fast_days) >= STYLE_SHARE * len(by_day)
    layering_days = {d for d, day_rows in by_day.items() if _layered_while_filled(day_rows)}
    episode_days = sorted(layering_days | (set() if style else fast_days))
    # The baseline is the trader's ordinary flow: the days with the signature are left out of it.
    ordinary = [r for r in rows if r["date"] not in episode_days]
    placed = {r["order_id"]: r for r in ordinary if r["action"].upper() == "PLACE"}
    cancels = [r for r in ordinary if r["action"].upper() == "CANCEL"]
    fills = [r for r in ordinary if r["action"].upper() == "EXECUTE"]
    thin = len(placed) < MIN_BASELINE_ORDERS
    reporter.progress(f"{plural(len(placed), 'order')}, {plural(len(cancels), 'cancellation')}, "
                      f"{plural(len(fills), 'execution')} outside the days with the signature", step=2)
    facts = {
        "accounts": account_ids, "orders_placed": len(placed), "cancellations": len(cancels), "executions": len(fills),
        "cancel_ratio_pct": round(len(cancels) / len(placed) * 100, 1) if placed and not thin else None,
        "order_to_trade_ratio": round(len(placed) / len(fills), 1) if fills and not thin else None,
        "fast_cancel_episode_days": sorted(fast_days), "fast_cancel_style": style,
        "layering_days": sorted(layering_days), "pattern_days": episode_days, "window_start": since.isoformat(),
        "baseline_days": len({r["date"] for r in ordinary}),
    }
    citations = {"window": Citation(source=source, lines=tuple(r["line"] for r in (ordinary or rows)[:60]),
                                    note=f"{who}'s orders since {since}, the days with the signature left out"
                                    if ordinary else f"{who}'s orders since {since}: all on the days with the "
                                                     "signature, none left for a baseline")}
    if episode_days:
        lines = sorted({c["line"] for d in episode_days for c in fast_by_day.get(d, [])}
                       | {r["line"] for d in layering_days for r in by_day[d]})
        citations["episodes"] = Citation(source=source, lines=tuple(lines),
                                         note="earlier days with the signature: layers pulled around an execution "
                                              "on the other side, or orders cancelled within 10 s")
    gaps = {"window": f"only {plural(len(placed), 'order')} by {who} outside the days with the signature: too few "
                      f"for a baseline cancellation rate (needs {MIN_BASELINE_ORDERS})"} if thin else {}
    summary = (f"{plural(len(placed), 'order')} by {who} in the prior month and earlier the same day, outside the "
               f"days with the signature: cancel ratio {facts['cancel_ratio_pct'] if not thin else 'n/a'}%, "
               f"order-to-trade ratio {facts['order_to_trade_ratio'] or 'n/a'}; "
               f"{plural(len(fast_days), 'earlier day')} with ≥{LAYER_MIN} orders cancelled within "
               f"{FAST_CANCEL_SECONDS:.0f} s" + (" (the trader's style: most days)" if style and fast_days else "")
               + f", {plural(len(layering_days), 'day')} with layers pulled around an execution on the other side")
    return Evidence(tool="order_history", title="Order history baseline", summary=summary + ".", facts=facts,
                    citations=citations, gaps=gaps)


def _layered_while_filled(rows: list) -> bool:
    """One day's orders of the account show layering: ≥ LAYER_MIN orders on one side at ≥ 2 prices cancelled
    unfilled, and an execution on the other side while one of them rested or just after it was pulled."""
    events = tuple(OrderEvent(order_id=r["order_id"], account_id=r["account_id"], symbol=r["symbol"],
                              side=r["side"].upper(),
                              timestamp=datetime.fromisoformat(r["timestamp"]), quantity=int(r["quantity"]),
                              price=r["price"], action=r["action"].upper(),
                              filled_quantity=int(r["filled_quantity"] or 0))
                   for r in rows if r["action"].upper() in ("PLACE", "AMEND", "CANCEL", "EXECUTE")
                   and r["side"].upper() in ("BUY", "SELL"))
    facts, _ = _account_facts(events)
    return facts["layers"] >= LAYER_MIN and facts["layer_price_levels"] >= 2 and (
        facts["executions_while_resting"] + facts["executions_after_pull"] > 0)
