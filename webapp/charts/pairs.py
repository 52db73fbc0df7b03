"""Wash trades: the accounts as lanes on a time axis, each trade on its account's lane and each
buy/sell pair joined across the lanes — the flagged trades within the day, and the offsetting
pairs between the same accounts over the past month."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from webapp.charts import Chart
from webapp.charts.scale import (
    Linear,
    clock_label,
    clock_ticks,
    day_label,
    day_ticks,
    inside,
    padded,
    price,
    shorten,
    text_width,
)

WIDTH = 440
LEFT, RIGHT = 84, 430
TOP, LANE_GAP = 40, 84


def _lanes(accounts: list[str]) -> dict[str, float]:
    return {a: TOP + i * LANE_GAP for i, a in enumerate(accounts)}


def _height(lanes: dict) -> int:
    return int(TOP + LANE_GAP * (len(lanes) - 1) + 74)


def _moment(trade: dict) -> datetime | None:
    if not trade.get("time"):
        return None
    return datetime.combine(date.fromisoformat(trade["date"]), time.fromisoformat(trade["time"]))


def build(data: dict, dom_id: str, siblings: dict) -> Chart:
    trades = data["trades"]
    accounts = list(dict.fromkeys([t["account_id"] for t in trades]
                                  + [t["counterparty"] for t in trades if t.get("counterparty")]))
    lanes = _lanes(accounts)
    moments = [_moment(t) for t in trades]
    timed = all(moments)
    if timed:
        first, last = min(moments), max(moments)
        span = (last - first).total_seconds()
        origin = datetime.combine(first.date(), time())
        seconds = [(m - origin).total_seconds() for m in moments]
        x = Linear(*padded(min(seconds), max(seconds), 0.25, 0.5), LEFT + 30, RIGHT - 30)
        xs = [x(s) for s in seconds]
        ticks = inside([{"x": x((t - origin).total_seconds()), "label": clock_label(t, span)}
                        for t in clock_ticks(origin + timedelta(seconds=x.lo), origin + timedelta(seconds=x.hi))],
                       WIDTH)
        axis = "time of day" + (f" on {first.date()}" if first.date() == last.date() else "")
    else:  # no times in the alert: in the alert's order
        x = Linear(0.5, len(trades) + 0.5, LEFT, RIGHT)
        xs = [x(i) for i in range(1, len(trades) + 1)]
        ticks, axis, span = [], "in the alert's order (the alert gives no trade times)", 0.0
    position = {t["sequence"]: (xs[i], lanes[t["account_id"]]) for i, t in enumerate(trades)}
    marks = [{"x": xs[i], "y": lanes[t["account_id"]], "side": t["side"].lower(),
              "label": f"#{t['sequence']} {t['side']} {t['quantity']:,} @ {price(t['price'])}"}
             for i, t in enumerate(trades)]
    for mark in marks:
        mark["anchor"] = "end" if mark["x"] + text_width(mark["label"]) / 2 > RIGHT else \
            "start" if mark["x"] - text_width(mark["label"]) / 2 < LEFT else "middle"
    links = []
    for p in data["pairs"]:
        (x1, y1), (x2, y2) = position[p["buy"]], position[p["sell"]]
        gap = p.get("seconds_apart")
        label = "" if gap is None else f"{gap * 1000:,.0f} ms" if gap < 1 else f"{gap:,.1f} s"
        links.append({"x1": x1, "y1": y1, "x2": x2, "y2": y2, "label": label,
                      "lx": round((x1 + x2) / 2 + 6, 2), "ly": round((y1 + y2) / 2, 2),
                      "matched": p.get("same_quantity") and p.get("same_price")})
    height = _height(lanes)
    parts = {"lanes": [{"y": y, "label": shorten(a, 14)} for a, y in lanes.items()], "marks": marks,
             "links": links, "ticks": ticks, "axis": axis, "axis_y": height - 24, "left": LEFT, "right": RIGHT}
    return Chart("charts/_lanes.html", dom_id, WIDTH, height,
                 title=f"{data['symbol']}: the flagged trades between the accounts",
                 desc=_describe(data, accounts, timed, span), parts=parts)


def _describe(data: dict, accounts: list[str], timed: bool, span: float) -> str:
    trades = data["trades"]
    legs = "; ".join(f"#{t['sequence']} {t['account_id']} {t['side']} {t['quantity']:,} at {price(t['price'])}"
                     + (f" at {t['time']}" if t.get("time") else "") for t in trades)
    text = [f"{len(trades)} flagged trades in {data['symbol']} between {', '.join(accounts)}: {legs}."]
    for p in data["pairs"]:
        gap = p.get("seconds_apart")
        text.append(f"Buy #{p['buy']} and sell #{p['sell']}"
                    + (f" are {gap:,.3f} s apart" if gap is not None else "")
                    + (", same quantity and price." if p.get("same_quantity") and p.get("same_price") else "."))
    if not data["pairs"]:
        text.append("No buy/sell pair offsets another.")
    if not timed:
        text.append("The alert gives no trade times; the trades are shown in its order.")
    return " ".join(text)


def build_history(data: dict, dom_id: str, siblings: dict) -> Chart:
    """The offsetting pairs between the accounts on each day of the past month."""
    accounts = data["accounts"]
    lanes = _lanes(accounts)
    first, last = date.fromisoformat(data["window_start"]), date.fromisoformat(data["flagged_date"])
    x = Linear(*padded(first.toordinal(), last.toordinal(), 0.03), LEFT + 10, RIGHT - 10)
    links = []
    seen: dict[tuple, int] = {}
    for p in data["pairs"]:
        day = date.fromisoformat(p["date"]).toordinal()
        key = (day, p["buy_account"], p["sell_account"])
        nudge = 5 * seen.get(key, 0)  # several pairs on one day side by side
        seen[key] = seen.get(key, 0) + 1
        at = x(day) + nudge
        links.append({"x1": at, "y1": lanes.get(p["buy_account"], TOP), "x2": at,
                      "y2": lanes.get(p["sell_account"], TOP), "flagged": p["date"] == data["flagged_date"]})
    height = _height(lanes)
    parts = {"lanes": [{"y": y, "label": shorten(a, 14)} for a, y in lanes.items()], "links": links,
             "ticks": inside([{"x": x(d.toordinal()), "label": day_label(d)} for d in day_ticks(first, last)], WIDTH),
             "flagged_x": x(last.toordinal()), "axis_y": height - 40, "left": LEFT, "right": RIGHT}
    days = sorted({p["date"] for p in data["pairs"]})
    desc = (f"{len(data['pairs'])} offsetting {data['symbol']} pair{'s' if len(data['pairs']) != 1 else ''} "
            f"between {', '.join(accounts)} from {first} to {last}"
            + (f", on {len(days)} day{'s' if len(days) != 1 else ''}: {', '.join(days)}." if days else "."))
    return Chart("charts/_pair_history.html", dom_id, WIDTH, height,
                 title=f"{data['symbol']}: offsetting pairs between the accounts over the past month",
                 desc=desc, parts=parts)
