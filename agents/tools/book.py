"""The trader's other trades on the day of the flagged trade: was the flagged sale one of a book-wide sale?

A trade is judged in the context of what the trader did that day across instruments
(Delegated Reg. 2016/957: orders and transactions are analysed individually and comparatively;
MAR Art. 9(2)(b): a person executing orders for others in the normal course of their job). A
transition manager liquidating a client's legacy portfolio on the transition date, a
discretionary manager's year-end tax-loss sales, a fund selling every holding to wind down: the
decision was about the book, so it explains why *this* holding was sold *that* day.

It explains only when the flagged sale is genuinely one of many, never as cover: the day holds
whole-position exits (``EXIT_SHARE`` of the position the history shows) in at least
``BOOK_EXITS`` other instruments, and the flagged sale is not the bulk of what was sold that day
(at most ``MAX_SHARE_OF_DAY`` of its value), so that three token sales cannot dress up one large
one. Who may not rely on it (a person with access to inside information) is the rule's business,
not this tool's (agents/insider_dealing.py, ID-M10).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from agents.data import TABLES, Dataset
from agents.evidence import Citation

EXIT_SHARE = 0.75        # selling at least this share of the position the history shows is an exit
BOOK_EXITS = 3           # other instruments sold out of the same day that make a book-wide sale
MAX_SHARE_OF_DAY = 0.5   # the flagged sale's share of the day's sold value, at most


def same_day(ds: Dataset, trader_id: str, symbol: str, trade_date: date, side: str, quantity: float,
             price: float | None) -> tuple[dict, dict[str, Citation]]:
    """Facts about the trader's trades in other instruments on the trade date, and their citations."""
    source = TABLES["trader_history"].path
    day = trade_date.isoformat()
    rows = ds.query("trader_history", "SELECT line, symbol, side, qty, price FROM rows WHERE trader_id = ? "
                                      "AND date = ? AND symbol != ? ORDER BY line", (trader_id, day, symbol))
    same_side = [r for r in rows if r["side"].upper() == side]
    exits, held_lines = [], []
    if side == "SELL" and same_side:
        sold: dict[str, float] = defaultdict(float)
        for r in same_side:
            sold[r["symbol"]] += r["qty"]
        marks = ",".join("?" * len(sold))
        earlier = ds.query("trader_history",
                           f"SELECT line, symbol, side, qty FROM rows WHERE trader_id = ? AND date < ? "  # noqa: S608
                           f"AND symbol IN ({marks}) ORDER BY line", (trader_id, day, *sorted(sold)))
        held: dict[str, float] = defaultdict(float)
        for r in earlier:
            held[r["symbol"]] += r["qty"] if r["side"].upper() == "BUY" else -r["qty"]
        for other in sorted(sold):
            if held[other] > 0 and min(sold[other], held[other]) / held[other] >= EXIT_SHARE:
                exits.append({"symbol": other, "qty": sold[other], "held": held[other]})
                held_lines += [r["line"] for r in earlier if r["symbol"] == other]
    exited = {e["symbol"] for e in exits}
    exit_value = sum(r["qty"] * r["price"] for r in same_side if r["symbol"] in exited)
    flagged_value = quantity * price if price else None
    share = (flagged_value / (flagged_value + exit_value) if flagged_value and exit_value else None)
    facts = {
        "same_day_trades": len(rows), "same_day_symbols": sorted({r["symbol"] for r in rows}),
        "same_day_same_side": sorted({r["symbol"] for r in same_side}),
        "book_exits": exits, "book_exit_value": round(exit_value, 2),
        "flagged_share_of_day": round(share, 3) if share is not None else None,
        "book_wide_exit": len(exits) >= BOOK_EXITS and share is not None and share <= MAX_SHARE_OF_DAY,
    }
    citations = {}
    if rows:
        citations["same_day"] = Citation(source=source, lines=tuple(r["line"] for r in rows),
                                         note=f"{trader_id}'s trades in other instruments on {day}")
    if exits:
        citations["book"] = Citation(source=source, lines=tuple(sorted({r["line"] for r in same_side
                                                                       if r["symbol"] in exited} | set(held_lines))),
                                     note=f"the positions {trader_id} sold out of on {day}, and the trades that "
                                          "built them")
    return facts, citations
