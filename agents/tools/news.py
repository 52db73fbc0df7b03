"""News tool: what was public about the instrument before the trade."""

from __future__ import annotations

import re
from datetime import date, timedelta

from agents.data import TABLES, Dataset
from agents.evidence import Citation, Evidence
from agents.progress import StepReporter

LOOKBACK_DAYS = 14

# Headlines with these words concern price-sensitive matters (MAR Art. 7 inside information).
_MATERIAL = re.compile(
    r"\b(acqui\w*|merger|merge|takeover|take-over|bid|buyout|offer|deal|talks|stake|rumou?r\w*|"
    r"earnings|results|guidance|profit warning|forecast|outlook|dividend|fda|approval|trial|"
    r"contract|lawsuit|investigation|restructur\w*|bankrupt\w*|downgrade|upgrade|approach\w*)\b",
    re.IGNORECASE,
)


def is_material(headline: str) -> bool:
    return bool(_MATERIAL.search(headline))


def timeline(ds: Dataset, symbol: str, trade_date: date, event_date: date | None,
             reporter: StepReporter) -> Evidence:
    """News before the trade, between trade and event, and on the event day."""
    source = TABLES["news"].path
    start = trade_date - timedelta(days=LOOKBACK_DAYS)
    end = (event_date or trade_date) + timedelta(days=1)
    reporter.progress(f"Reading {symbol} news from {start} to {end}", total=2)
    rows = ds.query("news", "SELECT * FROM rows WHERE symbol = ? AND ts >= ? AND ts < ? ORDER BY ts",
                    (symbol, start.isoformat(), end.isoformat()))
    before = [r for r in rows if r["ts"][:10] < trade_date.isoformat()]
    same_day = [r for r in rows if r["ts"][:10] == trade_date.isoformat()]
    later = [r for r in rows if r["ts"][:10] > trade_date.isoformat()]
    material_before = [r for r in before if is_material(r["headline"])]
    reporter.progress(f"{len(rows)} items; {len(material_before)} price-sensitive before the trade", step=2)
    facts = {
        "items": len(rows), "before_trade": len(before), "same_day": len(same_day), "after_trade": len(later),
        "material_before_trade": [f"{r['ts']} {r['source']}: {r['headline']}" for r in material_before],
        "news_silence": not material_before,
        "first_material_after": next((f"{r['ts']} {r['source']}: {r['headline']}"
                                      for r in later if is_material(r["headline"])), None),
    }
    citations = {}
    if material_before:
        citations["material_before"] = Citation(source=source, lines=tuple(r["line"] for r in material_before),
                                                note="price-sensitive news public before the trade")
    if later:
        citations["after"] = Citation(source=source, lines=tuple(r["line"] for r in later),
                                      note="news after the trade")
    citations["window"] = Citation(source=source, lines=tuple(r["line"] for r in rows),
                                   note=f"{symbol} news searched from {start} to {end}"
                                   + ("" if rows else ": none found"))
    if material_before:
        summary = (f"{len(material_before)} price-sensitive item(s) public before the trade, first: "
                   f"{facts['material_before_trade'][0]}")
    elif rows:
        summary = f"No price-sensitive {symbol} news in the {LOOKBACK_DAYS} days before the trade"
        if facts["first_material_after"]:
            summary += f"; first after it: {facts['first_material_after']}"
    else:
        summary = f"No {symbol} news at all from {start} to {end}"
    return Evidence(tool="news", title="News timeline", summary=summary + ".", facts=facts, citations=citations)
