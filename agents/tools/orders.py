"""Order tools for spoofing and layering: the flagged order book episode, and the trader's
order-to-trade and cancellation habits over the prior month."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

from agents.alerts import OrderEvent, SpoofingAlert
from agents.data import TABLES, Dataset
from agents.evidence import Citation, Evidence
from agents.progress import StepReporter, records_inputs
from agents.text import noun, plural

HISTORY_DAYS = 30
FAST_CANCEL_SECONDS = 10.0
LAYER_MIN = 3
BALANCED_RATIO = 2.0  # two-sided quoting: the larger side placed at most twice the smaller


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


def episode_facts(alert: SpoofingAlert) -> tuple[dict, dict[str, _Order]]:
    """Layers placed and cancelled on one side while the trader executed on the other."""
    orders = _lifecycles(alert.orders)
    cancelled = [o for o in orders.values() if o.cancelled_at and o.filled == 0]
    executed = [o for o in orders.values() if o.filled > 0]
    by_side = defaultdict(list)
    for o in cancelled:
        by_side[o.side].append(o)
    layer_side, layers = max(by_side.items(), key=lambda kv: sum(o.quantity for o in kv[1]), default=(None, []))
    opposite = [o for o in executed if layer_side and o.side != layer_side]
    # Executions on the other side while at least one layer was resting.
    while_resting = [e for e in opposite if any(
        layer.placed_at <= e.executed_at <= layer.cancelled_at for layer in layers)]
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
        "median_layer_lifetime_s": round(median(lifetimes), 3) if lifetimes else None,
        "opposite_executed_quantity": executed_qty,
        "executions_while_resting": len(while_resting),
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
def episode(alert: SpoofingAlert, reporter: StepReporter) -> Evidence:
    """The flagged episode as evidence, citing the alert's order events."""
    reporter.progress(f"Reconstructing {plural(len(alert.orders), 'order event')}", total=2)
    facts, orders = episode_facts(alert)
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
    else:
        summary = "No cancelled orders in the flagged episode"
    return Evidence(tool="order_episode", title="Order book episode", summary=summary + ".", facts=facts,
                    citations={"orders": Citation(source="alert", elements=elements,
                                                  note="order events of the episode")})


@records_inputs
def habits(ds: Dataset, trader_id: str, trade_date: date, reporter: StepReporter) -> Evidence:
    """The trader's cancellation and order-to-trade ratios, and fast-cancel days, in the prior month."""
    source = TABLES["order_history"].path
    since = trade_date - timedelta(days=HISTORY_DAYS)
    reporter.progress(f"Reading {trader_id}'s orders since {since}", total=2)
    rows = ds.query("order_history",
                    "SELECT * FROM rows WHERE trader_id = ? AND date >= ? AND date < ? ORDER BY timestamp",
                    (trader_id, since.isoformat(), trade_date.isoformat()))
    if not rows:
        return Evidence(tool="order_history", title="Order history baseline", ok=False,
                        summary=f"No orders by {trader_id} in {source} in the {HISTORY_DAYS} days before "
                                f"{trade_date}.", error=f"no order history for {trader_id}",
                        citations={"searched": Citation(source=source, note=f"trader_id = {trader_id}, date {since} "
                                                                            f"to {trade_date}: none found")})
    placed = {r["order_id"]: r for r in rows if r["action"].upper() == "PLACE"}
    cancels = [r for r in rows if r["action"].upper() == "CANCEL"]
    fills = [r for r in rows if r["action"].upper() == "EXECUTE"]
    fast_by_day = defaultdict(list)
    for c in cancels:
        p = placed.get(c["order_id"])
        if p and (datetime.fromisoformat(c["timestamp"]) - datetime.fromisoformat(p["timestamp"])
                  ).total_seconds() <= FAST_CANCEL_SECONDS:
            fast_by_day[c["date"]].append(c)
    episode_days = sorted(d for d, cs in fast_by_day.items() if len(cs) >= LAYER_MIN)
    reporter.progress(f"{plural(len(placed), 'order')}, {plural(len(cancels), 'cancellation')}, "
                      f"{plural(len(fills), 'execution')}", step=2)
    facts = {
        "orders_placed": len(placed), "cancellations": len(cancels), "executions": len(fills),
        "cancel_ratio_pct": round(len(cancels) / len(placed) * 100, 1) if placed else None,
        "order_to_trade_ratio": round(len(placed) / len(fills), 1) if fills else None,
        "fast_cancel_episode_days": episode_days, "window_start": since.isoformat(),
    }
    citations = {"window": Citation(source=source, lines=tuple(r["line"] for r in rows[:60]),
                                    note=f"{trader_id}'s orders since {since}")}
    if episode_days:
        lines = tuple(c["line"] for d in episode_days for c in fast_by_day[d])
        citations["episodes"] = Citation(source=source, lines=lines,
                                         note="orders cancelled within 10 s on earlier days")
    summary = (f"{plural(len(placed), 'order')} in the prior month: cancel ratio {facts['cancel_ratio_pct']}%, "
               f"order-to-trade ratio {facts['order_to_trade_ratio'] or 'n/a'}; "
               f"{plural(len(episode_days), 'earlier day')} with ≥{LAYER_MIN} orders cancelled within "
               f"{FAST_CANCEL_SECONDS:.0f} s")
    return Evidence(tool="order_history", title="Order history baseline", summary=summary + ".", facts=facts,
                    citations=citations)
