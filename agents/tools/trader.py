"""Trader tools: who the trader is (profile) and how they usually trade (history baseline).

The profile's ``restrictions`` text is read clause by clause (clauses are separated by ";" or
line breaks), because one field records different things: an outright trading ban, a
restriction on named instruments (restricted list, blackout, closed period), a pre-clearance
requirement or record, and a pre-scheduled trading plan (Rule 10b5-1). Only the first two
restrict; a plan naming the ticker is a plan, not a restricted-list entry. The phrases are in
the README ("How the profile is read").
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta

from agents.data import TABLES, Dataset
from agents.evidence import Citation, Evidence
from agents.progress import StepReporter, records_inputs
from agents.text import plural

BASELINE_DAYS = 365
SAME_SIZE = 0.10  # a plan's trades: within 10% of the flagged quantity

# Roles and access levels that imply routine access to inside information.
_INSIDE_ROLES = ("corporate finance", "m&a", "investment banking", "research", "legal", "compliance",
                 "executive", "director", "deal", "advisory")
_NO_TRADING = ("no trading", "not permitted to trade", "trading prohibited", "no personal trading",
               "trading not permitted", "banned from trading")
_RESTRICTION = re.compile(r"restricted|blackout|black-out|closed period|watch ?list|gr[ae]y ?list|prohibited|"
                          r"not permitted|no trading|no dealing|banned", re.I)
_PLAN = re.compile(r"10b5-1|trading plan|pre-arranged plan|prearranged plan|pre-scheduled|prescheduled|"
                   r"share purchase plan|dividend reinvestment plan", re.I)
_PRECLEARANCE = re.compile(r"pre-?clear|pre-?approv|approved by compliance", re.I)
_TICKER = re.compile(r"\b[A-Z][A-Z0-9]{1,5}\b")
_NOT_TICKERS = {"MNPI", "PA", "HIGH", "LOW", "MEDIUM", "UK", "US", "EU", "ETF", "IPO", "CEO", "CFO", "COO", "NED",
                "PDMR", "MAR", "SEC", "FCA", "OTC"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_OFFICER_ROLES = ("chief", "officer", "director", "president", "executive", "board", "chair", "ceo", "cfo")
_INDEX_ROLES = ("index", "passive", "etf", "tracker")
_AGENCY_ROLES = ("agency", "execution trader", "algorithmic trading", "client execution")


def _tickers(clause: str) -> set[str]:
    return {t for t in _TICKER.findall(clause) if t not in _NOT_TICKERS and not t.isdigit()}


def read_restrictions(text: str, symbol: str | None) -> dict:
    """Sort the restrictions text's clauses into ban, restriction on the symbol, plan and pre-clearance."""
    facts = {"no_trading_allowed": False, "symbol_restricted": False, "restriction": None, "plan": None,
             "preclearance": None}
    for clause in (c.strip() for c in re.split(r"[;\n]", text or "")):
        if not clause:
            continue
        named, lowered = _tickers(clause), clause.casefold()
        if _PLAN.search(clause):
            if facts["plan"] is None and (not named or symbol in named):
                adopted = _DATE.search(clause)
                side = ("SELL" if re.search(r"\bsell|\bsale|dispos", lowered)
                        else "BUY" if re.search(r"\bbuy|purchas|acqui", lowered) else None)
                facts["plan"] = {"text": clause, "adopted": adopted.group(0) if adopted else None, "side": side,
                                 "names_symbol": symbol in named}
        elif _RESTRICTION.search(clause) or any(p in lowered for p in _NO_TRADING):
            if symbol and symbol in named:
                facts["symbol_restricted"], facts["restriction"] = True, clause
            elif not named and any(p in lowered for p in _NO_TRADING):
                facts["no_trading_allowed"], facts["restriction"] = True, clause
        elif _PRECLEARANCE.search(clause):
            facts["preclearance"] = clause
    return facts


@records_inputs
def profile(ds: Dataset, trader_id: str, symbol: str | None, reporter: StepReporter) -> Evidence:
    """Role, department, access to inside information, restrictions, plans and pre-clearance."""
    source = TABLES["trader_profiles"].path
    reporter.progress(f"Looking up profile of {trader_id}", total=2)
    rows = ds.query("trader_profiles", "SELECT * FROM rows WHERE trader_id = ? ORDER BY line", (trader_id,))
    if not rows:
        return Evidence(tool="trader_profile", title="Trader profile", ok=False,
                        summary=f"No profile for trader {trader_id} in {source}.",
                        error=f"trader {trader_id} not in {source}",
                        citations={"searched": Citation(source=source, note=f"trader_id = {trader_id}: none found")})
    row = rows[-1]
    restrictions = (row["restrictions"] or "").strip()
    role = f"{row['role']} {row['department']}".casefold()
    inside_access = (row["access_level"] or "").strip().upper() in ("HIGH", "MNPI", "INSIDER") or any(
        r in role for r in _INSIDE_ROLES)
    reporter.progress("Checked role, access level, restrictions and plans", step=2)
    facts = {
        "trader_id": trader_id, "name": row["name"], "role": row["role"], "department": row["department"],
        "access_level": row["access_level"], "restrictions": restrictions or None,
        "inside_information_access": inside_access,
        "officer": any(r in role for r in _OFFICER_ROLES),
        "index_tracking": any(r in role for r in _INDEX_ROLES),
        "agency_execution": any(r in role for r in _AGENCY_ROLES),
        **read_restrictions(restrictions, symbol),
    }
    parts = [f"{row['name']} — {row['role']}, {row['department']}; access {row['access_level']}"]
    if restrictions:
        parts.append(f"restrictions: {restrictions}")
    if facts["plan"]:
        parts.append("a pre-scheduled trading plan is on record" + (f" (adopted {facts['plan']['adopted']})"
                                                                     if facts["plan"]["adopted"] else ""))
    return Evidence(tool="trader_profile", title="Trader profile", summary="; ".join(parts) + ".",
                    facts=facts,
                    citations={"profile": Citation(source=source, lines=(row["line"],),
                                                   note=f"profile of {trader_id}")})


@records_inputs
def history(ds: Dataset, trader_id: str, symbol: str, trade_date: date, side: str, quantity: float,
            reporter: StepReporter) -> Evidence:
    """Baseline of the trader's own trading in the year before the flagged trade, and their position."""
    source = TABLES["trader_history"].path
    since = (trade_date - timedelta(days=BASELINE_DAYS)).isoformat()
    before = trade_date.isoformat()
    reporter.progress(f"Computing {trader_id}'s baseline since {since}", total=3)
    stats = ds.query(
        "trader_history",
        "SELECT COUNT(*) AS n, AVG(qty) AS avg_qty, MAX(qty) AS max_qty, SUM(qty * qty) AS sum_sq FROM rows "
        "WHERE trader_id = ? AND date >= ? AND date < ?",
        (trader_id, since, before),
    )[0]
    n = stats["n"]
    sector = symbol_sector(ds, symbol)
    if n == 0:
        return Evidence(tool="trader_history", title="Trading history baseline", ok=False,
                        summary=f"No trades by {trader_id} in {source} in the {BASELINE_DAYS} days before "
                                f"{before}: no baseline to compare the flagged trade against.",
                        facts={"trades": 0, "symbol_sector": sector},
                        error=f"no trading history for {trader_id}",
                        citations={"searched": Citation(source=source, note=f"trader_id = {trader_id}, date {since} "
                                                                            f"to {before}: none found")})
    reporter.progress(f"{plural(n, 'trade')} in the baseline window", step=2)
    avg = stats["avg_qty"]
    variance = max(stats["sum_sq"] / n - avg * avg, 0.0)
    std = math.sqrt(variance) if n > 1 else 0.0
    zscore = (quantity - avg) / std if std > 0 else None
    # Every earlier trade in the symbol, not only the baseline year: a position may be older.
    symbol_rows = ds.query(
        "trader_history",
        "SELECT line, date, side, qty FROM rows WHERE trader_id = ? AND date < ? AND symbol = ? ORDER BY date, line",
        (trader_id, before, symbol),
    )
    in_symbol = [r for r in symbol_rows if r["date"] >= since]
    sectors = ds.query(
        "trader_history",
        "SELECT sector, COUNT(*) AS n FROM rows WHERE trader_id = ? AND date >= ? AND date < ? "
        "GROUP BY sector ORDER BY n DESC",
        (trader_id, since, before),
    )
    sector_names = [r["sector"] for r in sectors]
    window_lines = ds.query(
        "trader_history",
        "SELECT line FROM rows WHERE trader_id = ? AND date >= ? AND date < ? ORDER BY date DESC LIMIT 50",
        (trader_id, since, before),
    )
    reporter.progress("Compared the flagged trade with the baseline and the position", step=3)
    ratio = quantity / avg if avg else None
    position = sum(r["qty"] if r["side"].upper() == "BUY" else -r["qty"] for r in symbol_rows)
    # Only a long position can be read from the history: a net short may be holdings bought before it starts.
    exit_share = min(quantity, position) / position if side == "SELL" and position > 0 else None
    same_size = [r for r in symbol_rows if r["side"].upper() == side
                 and abs(r["qty"] - quantity) <= SAME_SIZE * quantity]
    facts = {
        "trades": n, "avg_qty": round(avg, 1), "max_qty": stats["max_qty"], "std_qty": round(std, 1),
        "flagged_qty": quantity, "size_ratio": round(ratio, 2) if ratio else None,
        "zscore": round(zscore, 2) if zscore is not None else None,
        "symbol_trades": len(in_symbol), "first_time_symbol": not in_symbol,
        "sectors": sector_names, "symbol_sector": sector,
        "first_time_sector": bool(sector) and sector not in sector_names,
        "window_start": since,
        "position_before": position, "exit_share": round(exit_share, 3) if exit_share is not None else None,
        "same_size_trades": [{"date": r["date"], "qty": r["qty"], "line": r["line"]} for r in same_size],
    }
    size = f"{quantity:,.0f} vs average {avg:,.0f} (max {stats['max_qty']:,.0f}"
    size += f", z = {zscore:.1f})" if zscore is not None else ")"
    novelty = "first trade in " + symbol if not in_symbol else f"{plural(len(in_symbol), 'earlier trade')} in {symbol}"
    summary = f"{plural(n, 'trade')} in the baseline year; flagged size {size}; {novelty}"
    if facts["first_time_sector"]:
        summary += f"; first trade in sector {sector}"
    if exit_share is not None:
        summary += f"; sells {exit_share:.0%} of the {position:,.0f} shares the history shows held"
    citations = {"baseline": Citation(source=source, lines=tuple(sorted(r["line"] for r in window_lines)),
                                      note=f"{plural(n, 'trade')} by {trader_id} from {since} to {before}")}
    if in_symbol:
        citations["symbol"] = Citation(source=source, lines=tuple(r["line"] for r in in_symbol),
                                       note=f"earlier trades in {symbol}")
    if symbol_rows:
        citations["position"] = Citation(source=source, lines=tuple(r["line"] for r in symbol_rows),
                                         note=f"every earlier {symbol} trade: net position {position:+,.0f}")
    if same_size:
        citations["same_size"] = Citation(source=source, lines=tuple(r["line"] for r in same_size),
                                          note=f"earlier {side} trades in {symbol} within 10% of {quantity:,.0f}")
    return Evidence(tool="trader_history", title="Trading history baseline", summary=summary + ".",
                    facts=facts, citations=citations)


def symbol_sector(ds: Dataset, symbol: str) -> str | None:
    """The sector a symbol belongs to, as recorded in the trading history of any trader."""
    rows = ds.query("trader_history",
                    "SELECT sector, COUNT(*) AS n FROM rows WHERE symbol = ? GROUP BY sector ORDER BY n DESC "
                    "LIMIT 1", (symbol,))
    return rows[0]["sector"] if rows else None
