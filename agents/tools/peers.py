"""Peer tool: did others trade the same instrument the same way at the same time?

"Nobody else traded this way" is evidence only where the peer file covers the symbol: a symbol
with no peer rows at all is a gap in the data, never a sign that the trader was alone.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from agents.data import TABLES, Dataset
from agents.evidence import Citation, Evidence
from agents.progress import StepReporter, records_inputs
from agents.text import noun, plural

WINDOW_DAYS = 3


@records_inputs
def activity(ds: Dataset, trader_id: str, symbol: str, trade_date: date, side: str,
             reporter: StepReporter) -> Evidence:
    """Peers trading the symbol within a few days of the flagged trade, by direction."""
    source = TABLES["peer_trades"].path
    start, end = trade_date - timedelta(days=WINDOW_DAYS), trade_date + timedelta(days=WINDOW_DAYS)
    reporter.progress(f"Looking for {symbol} trades from {start} to {end}", total=1)
    rows = ds.query("peer_trades",
                    "SELECT * FROM rows WHERE symbol = ? AND date >= ? AND date <= ? AND trader_id != ? "
                    "ORDER BY date, line", (symbol, start.isoformat(), end.isoformat(), trader_id))
    same = [r for r in rows if r["side"].upper() == side]
    opposite = [r for r in rows if r["side"].upper() != side]
    same_traders = sorted({r["trader_id"] for r in same})
    types = Counter(r["trader_type"] for r in same)
    covered = bool(rows) or bool(ds.query("peer_trades", "SELECT line FROM rows WHERE symbol = ? LIMIT 1", (symbol,)))
    reporter.progress(f"{plural(len(same_traders), 'peer')} traded {side} in the window", step=1)
    facts = {
        "peers_same_side": len(same_traders), "peers_opposite_side": len({r['trader_id'] for r in opposite}),
        "same_side_qty": sum(r["qty"] for r in same), "same_side_types": dict(types),
        "window": f"{start} to {end}", "coverage": covered,
    }
    citations = {"window": Citation(source=source, lines=tuple(r["line"] for r in rows),
                                    note=f"{symbol} trades by others searched from {start} to {end}"
                                    + ("" if rows else ": none found"))}
    if same:
        citations["same_side"] = Citation(source=source, lines=tuple(r["line"] for r in same),
                                          note=f"peer {side} trades in {symbol}")
    if same_traders:
        kinds = ", ".join(f"{n} {t}" for t, n in types.most_common())
        summary = (f"{plural(len(same_traders), 'other trader')} also {side.lower()}ing {symbol} "
                   f"({kinds} {noun(len(same), 'trade')})")
    elif covered:
        summary = f"No other trader {side.lower()}ing {symbol} within {WINDOW_DAYS} days"
    else:
        summary = f"No {symbol} trades at all in {source}"
    if opposite:
        summary += f"; {facts['peers_opposite_side']} on the other side"
    gaps = {} if covered else {"window": f"{source} has no {symbol} trades at all: whether others traded the same "
                                         "way cannot be told"}
    return Evidence(tool="peer_trades", title="Peer trading", summary=summary + ".", facts=facts,
                    citations=citations, gaps=gaps)
