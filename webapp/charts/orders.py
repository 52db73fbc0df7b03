"""Spoofing / layering: the order-book episode — each order as a bar at its price level from the
moment it was placed until it was cancelled (×) or filled (◆), so the layers resting on one side
and the executions on the other read at a glance."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from statistics import median

from webapp.charts import Chart
from webapp.charts.scale import Linear, clock_label, clock_ticks, inside, padded, price, text_width

WIDTH = 440
LEFT, RIGHT = 50, 430
TOP, ROW, LEVEL_GAP = 16, 13, 8


def build(data: dict, dom_id: str, siblings: dict) -> Chart:
    orders = data["orders"]
    start, end = datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["end"])
    moments = [datetime.fromisoformat(o[k]) for o in orders for k in ("placed", "ended")] + [start, end]
    origin = min(moments)
    seconds = lambda m: (m - origin).total_seconds()  # noqa: E731
    x = Linear(*padded(0, seconds(max(moments)), 0.04, 0.5), LEFT, RIGHT)
    by_level: dict[float, list[dict]] = defaultdict(list)
    for o in orders:
        by_level[o["price"]].append(o)
    levels, y = [], TOP
    bars = []
    for level in sorted(by_level, reverse=True):  # the highest price on top, as in an order book
        rows = by_level[level]
        levels.append({"y": round(y + ROW * len(rows) / 2 + 2, 2), "label": price(level),
                       "top": y - LEVEL_GAP / 2, "height": ROW * len(rows) + LEVEL_GAP})
        for i, o in enumerate(rows):
            x1, x2 = x(seconds(datetime.fromisoformat(o["placed"]))), x(seconds(datetime.fromisoformat(o["ended"])))
            layer = o["side"] == data.get("layer_side") and o["outcome"] == "cancelled"
            bars.append({"x": x1, "y": y + i * ROW, "w": max(round(x2 - x1, 2), 2), "end": x2, "mid": y + i * ROW + 5,
                         "side": o["side"].lower(), "outcome": o["outcome"], "layer": layer,
                         "label": f"{o['order_id']} {o['side']} {o['quantity']:,}"
                                  + (f", filled {o['filled']:,}" if o["filled"] else "")})
        y += ROW * len(rows) + LEVEL_GAP
    for bar in bars:  # executions are labelled beside their mark, inside the chart
        bar["anchor"] = "end" if bar["end"] + 8 + text_width(bar["label"], 11) > RIGHT else "start"
        bar["lx"] = bar["end"] - 8 if bar["anchor"] == "end" else bar["end"] + 8
    span = (max(moments) - origin).total_seconds()
    axis_y = y + 14
    ticks = inside([{"x": x(seconds(t)), "label": clock_label(t, span)}
                    for t in clock_ticks(origin, max(moments)) if LEFT <= x(seconds(t)) <= RIGHT], WIDTH)
    parts = {"levels": levels, "bars": bars, "ticks": ticks, "axis_y": axis_y, "left": LEFT, "right": RIGHT,
             "plot_bottom": y}
    return Chart("charts/_order_book.html", dom_id, WIDTH, int(axis_y + 14),
                 title=f"{data['symbol']}: the order-book episode, each order from placed to cancelled or filled",
                 desc=_describe(data, origin), parts=parts)


def _describe(data: dict, origin: datetime) -> str:
    orders, side = data["orders"], data.get("layer_side")
    layers = [o for o in orders if o["side"] == side and o["outcome"] == "cancelled"]
    executed = [o for o in orders if o["outcome"] == "executed"]
    text = [f"{len(orders)} order{'s' if len(orders) != 1 else ''} in {data['symbol']} from "
            f"{clock_label(datetime.fromisoformat(data['start']), 0)} to "
            f"{clock_label(datetime.fromisoformat(data['end']), 0)}."]
    if layers:
        lives = [(datetime.fromisoformat(o["ended"]) - datetime.fromisoformat(o["placed"])).total_seconds()
                 for o in layers]
        prices = sorted({o["price"] for o in layers})
        text.append(f"{len(layers)} {side} order{'s' if len(layers) != 1 else ''} "
                    f"({sum(o['quantity'] for o in layers):,} shares) at "
                    + (f"{price(prices[0])}–{price(prices[-1])}" if len(prices) > 1 else price(prices[0]))
                    + f", cancelled unfilled after a median {median(lives):.1f} s.")
    for o in executed:
        text.append(f"{o['side']} {o['filled']:,} filled at {price(o['price'])} at "
                    f"{clock_label(datetime.fromisoformat(o['ended']), 0)}"
                    + (" — on the other side." if side and o["side"] != side else "."))
    if not executed:
        text.append("Nothing was executed.")
    return " ".join(text)
