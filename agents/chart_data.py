"""What each tool's chart is drawn from: plain rows, no geometry.

A tool step that has a chart records this data in its completion event, so the page drawn
from the log, a replayed fragment and a reload draw the same chart, and the record shows what
was drawn. The rows come from the same data the tool read (the same files, the alert's own
trades and orders, the lines the tool cited); the web layer turns them into SVG.

Kept apart from the tools on purpose: the tools weigh evidence and change with the rules; a
chart only shows the data around it. A chart that cannot be drawn is left out, never a failed
step.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from agents.data import TABLES, Dataset
from agents.evidence import Evidence
from agents.tools import news

log = logging.getLogger(__name__)

DAYS_BEFORE, DAYS_AFTER = 45, 7  # the price chart's window around the trade and the event
MAX_HEADLINES = 40               # headlines marked on the price chart: the ones nearest the trade


def _price_volume(ds: Dataset, alert, evidence: Evidence) -> dict | None:
    act, event = alert.activity, alert.related_event
    end = max(event.event_date if event else act.trade_date, act.trade_date) + timedelta(days=DAYS_AFTER)
    rows = ds.query("market_data", "SELECT date, close, volume, line FROM rows WHERE symbol = ? AND date >= ? "
                    "AND date <= ? ORDER BY date",
                    (act.symbol, (act.trade_date - timedelta(days=DAYS_BEFORE)).isoformat(), end.isoformat()))
    if not rows:
        return None
    return {"kind": "price_volume", "symbol": act.symbol, "source": TABLES["market_data"].path,
            "series": [dict(r) for r in rows],
            "trade": {"date": act.trade_date.isoformat(), "side": act.side, "quantity": act.quantity,
                      "price": act.price},
            "event": {"date": event.event_date.isoformat(), "type": event.event_type} if event else None}


def _news(ds: Dataset, alert, evidence: Evidence) -> dict | None:
    act, event = alert.activity, alert.related_event
    start = act.trade_date - timedelta(days=DAYS_BEFORE)
    end = max(event.event_date if event else act.trade_date, act.trade_date) + timedelta(days=DAYS_AFTER + 1)
    rows = ds.query("news", "SELECT ts, source, headline, line FROM rows WHERE symbol = ? AND ts >= ? AND ts < ? "
                    "ORDER BY ts", (act.symbol, start.isoformat(), end.isoformat()))
    trade_day = act.trade_date.isoformat()
    # public before the trade as the news tool reads it: an earlier day, or the trade day before the session opened
    opens = f"{trade_day} {news.session_open(ds, act.symbol):%H:%M}"
    nearest = sorted(rows, key=lambda r: abs(date.fromisoformat(r["ts"][:10]) - act.trade_date))[:MAX_HEADLINES]
    return {"kind": "news", "symbol": act.symbol, "source": TABLES["news"].path, "trade_date": trade_day,
            "headlines": [{**dict(r), "public_before_trade": r["ts"] < opens}
                          for r in sorted(nearest, key=lambda r: r["ts"])]}


def _ownership(ds: Dataset, alert, evidence: Evidence) -> dict | None:
    accounts = alert.accounts
    rows = ds.query("account_relationships",
                    f"SELECT * FROM rows WHERE account_id IN ({','.join('?' * len(accounts))}) "  # noqa: S608
                    "ORDER BY line", tuple(accounts))
    found = {r["account_id"]: r for r in rows}
    return {"kind": "ownership", "source": TABLES["account_relationships"].path,
            "missing": [a for a in accounts if a not in found],
            "accounts": [{"account_id": a, "owner_id": r["beneficial_owner_id"],
                          "owner_name": r["beneficial_owner_name"], "relationship_type": r["relationship_type"],
                          "linked_accounts": json.loads(r["linked_accounts"]), "line": r["line"]}
                         for a, r in found.items()]}


def _moment(day: date, clock: time | None) -> datetime | None:
    return datetime.combine(day, clock) if clock else None


def _wash_pairs(ds: Dataset, alert, evidence: Evidence) -> dict | None:
    trades = alert.trades
    pairs = []
    for b in (t for t in trades if t.side == "BUY"):
        for s in (t for t in trades if t.side == "SELL" and t.trade_date == b.trade_date and t.symbol == b.symbol):
            at_b, at_s = _moment(b.trade_date, b.trade_time), _moment(s.trade_date, s.trade_time)
            pairs.append({"buy": b.sequence, "sell": s.sequence,
                          "seconds_apart": abs((at_b - at_s).total_seconds()) if at_b and at_s else None,
                          "same_quantity": b.quantity == s.quantity, "same_price": abs(b.price - s.price) < 1e-9})
    return {"kind": "wash_pairs", "symbol": alert.symbol, "pairs": pairs,
            "trades": [{"sequence": t.sequence, "account_id": t.account_id, "side": t.side, "quantity": t.quantity,
                        "price": t.price, "date": t.trade_date.isoformat(),
                        "time": t.trade_time.isoformat() if t.trade_time else None,
                        "counterparty": t.counterparty_account} for t in trades]}


def _pair_history(ds: Dataset, alert, evidence: Evidence) -> dict | None:
    """The offsetting pairs the tool cited, leg by leg, on the days of its window."""
    window = evidence.facts.get("window_start")
    cited = evidence.citations.get("pairs")
    if not window:
        return None
    lines = set(cited.lines) if cited else set()
    accounts, flagged = alert.accounts, alert.trades[0].trade_date
    rows = ds.query("related_accounts_history",
                    f"SELECT * FROM rows WHERE account_id IN ({','.join('?' * len(accounts))}) "  # noqa: S608
                    "AND trade_date >= ? AND trade_date <= ? ORDER BY trade_date, trade_time",
                    (*accounts, window, flagged.isoformat()))
    legs = defaultdict(lambda: {"BUY": [], "SELL": []})
    for r in rows:
        if r["line"] in lines:
            legs[r["trade_date"]][r["side"].upper()].append(r)
    pairs = [{"date": day, "buy_account": b["account_id"], "sell_account": s["account_id"], "quantity": b["quantity"]}
             for day, sides in sorted(legs.items()) for b, s in zip(sides["BUY"], sides["SELL"], strict=False)]
    return {"kind": "pair_history", "symbol": alert.symbol, "source": TABLES["related_accounts_history"].path,
            "accounts": accounts, "window_start": window, "flagged_date": flagged.isoformat(), "pairs": pairs}


def _order_book(ds: Dataset, alert, evidence: Evidence) -> dict | None:
    orders: dict[str, dict[str, Any]] = {}
    for ev in alert.orders:
        order = orders.setdefault(ev.order_id, {"order_id": ev.order_id, "side": ev.side, "quantity": ev.quantity,
                                                "price": ev.price, "placed": ev.timestamp, "filled": 0, "ended": None,
                                                "outcome": "resting"})
        if ev.action == "AMEND":
            order["quantity"], order["price"] = ev.quantity, ev.price
        elif ev.action == "CANCEL":
            order["ended"], order["outcome"] = order["ended"] or ev.timestamp, \
                "executed" if order["filled"] else "cancelled"
        elif ev.action == "EXECUTE":
            order["filled"] += ev.filled_quantity or ev.quantity
            order["ended"], order["outcome"] = order["ended"] or ev.timestamp, "executed"
    last = alert.orders[-1].timestamp
    return {"kind": "order_book", "symbol": alert.symbol, "layer_side": evidence.facts.get("layer_side"),
            "start": alert.orders[0].timestamp.isoformat(), "end": last.isoformat(),
            "orders": [{**o, "placed": o["placed"].isoformat(), "ended": (o["ended"] or last).isoformat()}
                       for o in orders.values()]}


CHARTS: dict[str, Callable[[Dataset, Any, Evidence], dict | None]] = {
    "market_data": _price_volume,
    "news": _news,
    "account_relationships": _ownership,
    "trade_pattern": _wash_pairs,
    "related_accounts_history": _pair_history,
    "order_episode": _order_book,
}


def chart_for(tool: str, ds: Dataset, alert, evidence: Evidence) -> dict | None:
    """The data of the chart drawn for ``tool``'s step, or None (no chart for it, or nothing to draw)."""
    build = CHARTS.get(tool)
    if build is None:
        return None
    try:
        return build(ds, alert, evidence)
    except Exception:  # a chart is an aid: never let it fail the step
        log.warning("no chart for %s", tool, exc_info=True)
        return None
