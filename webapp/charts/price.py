"""Insider dealing: the close and the volume around the trade and the event, with the trade, the
event and each news headline marked (filled when public before the trade, hollow after)."""

from __future__ import annotations

from datetime import date, datetime

from webapp.charts import Chart
from webapp.charts.scale import Linear, day_label, day_ticks, inside, nice_ticks, padded, price, quantity, text_width

WIDTH, HEIGHT = 440, 300
LEFT, RIGHT = 48, 430
NEWS_Y = 22
PRICE_TOP, PRICE_BOTTOM = 44, 196
VOLUME_TOP, VOLUME_BOTTOM = 210, 262
AXIS_Y = 280


def _day_number(value: str) -> float:
    """A date or 'YYYY-MM-DD HH:MM' as a day number with the time as its fraction."""
    if len(value) > 10:
        moment = datetime.fromisoformat(value)
        return moment.toordinal() + (moment.hour * 60 + moment.minute) / 1440
    return date.fromisoformat(value).toordinal()


def build(data: dict, dom_id: str, siblings: dict) -> Chart:
    series, trade, event = data["series"], data["trade"], data.get("event")
    news = (siblings.get("news") or {}).get("headlines", [])
    days = [_day_number(r["date"]) for r in series] + [_day_number(trade["date"])]
    days += [_day_number(event["date"])] if event else []
    days += [_day_number(h["ts"]) for h in news]
    x = Linear(*padded(min(days), max(days), 0.02), LEFT, RIGHT)
    closes = [r["close"] for r in series] + [trade["price"]]
    lo, hi = padded(min(closes), max(closes), 0.08)
    y = Linear(lo, hi, PRICE_BOTTOM, PRICE_TOP)
    top_volume = max((r["volume"] for r in series), default=0) or 1
    v = Linear(0, top_volume, VOLUME_BOTTOM, VOLUME_TOP)
    bar = max(1.5, (RIGHT - LEFT) / max(1, max(days) - min(days)) * 0.6)

    trade_x = x(_day_number(trade["date"]))
    trade_label = f"{trade['side']} {trade['quantity']:,.0f} @ {price(trade['price'])}"
    parts = {
        "line": " ".join(f"{x(_day_number(r['date']))},{y(r['close'])}" for r in series),
        "bars": [{"x": round(x(_day_number(r["date"])) - bar / 2, 2), "y": v(r["volume"]), "w": round(bar, 2),
                  "h": round(VOLUME_BOTTOM - v(r["volume"]), 2), "trade": r["date"] == trade["date"]}
                 for r in series],
        "price_ticks": [{"y": y(t), "label": price(t)} for t in nice_ticks(lo, hi, 4)],
        "volume_label": {"y": VOLUME_TOP, "label": quantity(top_volume)},
        "day_ticks": inside([{"x": x(d.toordinal()), "label": day_label(d)} for d in
                             day_ticks(date.fromordinal(int(min(days))), date.fromordinal(int(max(days))))], WIDTH),
        "trade": {"x": trade_x, "y": y(trade["price"]), "label": trade_label,
                  "anchor": "end" if trade_x + text_width(trade_label) > RIGHT else "start"},
        "event": {"x": x(_day_number(event["date"])), "label": event.get("type") or "Event"} if event else None,
        "news": _news_marks(news, x),
        "plot": {"left": LEFT, "right": RIGHT, "price_top": PRICE_TOP, "price_bottom": PRICE_BOTTOM,
                 "volume_top": VOLUME_TOP, "volume_bottom": VOLUME_BOTTOM, "axis_y": AXIS_Y, "news_y": NEWS_Y},
    }
    if parts["event"]:
        parts["event"]["anchor"] = "end" if parts["event"]["x"] > (LEFT + RIGHT) / 2 + 120 else "start"
    symbol = data["symbol"]
    return Chart("charts/_price_volume.html", dom_id, WIDTH, HEIGHT,
                 title=f"{symbol}: price and volume around the trade" + (" and the event" if event else ""),
                 desc=_describe(data, news), parts=parts,
                 notes=[f"{h['ts']} {h['source']}: {h['headline']} — "
                        + ("public before the trade" if h["public_before_trade"] else "after the trade") for h in news])


def _news_marks(news: list[dict], x: Linear) -> list[dict]:
    marks, taken = [], []
    for i, h in enumerate(news, 1):
        at = x(_day_number(h["ts"]))
        while any(abs(at - other) < 15 for other in taken):  # headlines on one day sit side by side
            at += 15
        taken.append(at)
        marks.append({"x": round(at, 2), "number": i, "before": h["public_before_trade"]})
    return marks


def _describe(data: dict, news: list[dict]) -> str:
    series, trade, event = data["series"], data["trade"], data.get("event")
    text = []
    if series:
        closes = [r["close"] for r in series]
        text.append(f"{data['symbol']} daily close from {series[0]['date']} to {series[-1]['date']} "
                    f"({len(series)} sessions), between {price(min(closes))} and {price(max(closes))}; "
                    f"volume up to {quantity(max(r['volume'] for r in series))} shares.")
    text.append(f"Trade: {trade['side']} {trade['quantity']:,.0f} at {price(trade['price'])} on {trade['date']}.")
    if event:
        at_event = next((r for r in series if r["date"] >= event["date"]), None)
        text.append(f"{event.get('type') or 'Price-sensitive event'} on {event['date']}"
                    + (f"; close {price(at_event['close'])} on {at_event['date']}." if at_event else "."))
    before = sum(h["public_before_trade"] for h in news)
    text.append(f"{len(news)} news headline{'s' if len(news) != 1 else ''}: {before} public before the trade, "
                f"{len(news) - before} after." if news else "No news headlines marked.")
    return " ".join(text)
