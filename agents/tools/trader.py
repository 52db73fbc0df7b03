"""Trader tools: who the trader is (profile) and how they usually trade (history baseline)."""

from __future__ import annotations

import math
from datetime import date, timedelta

from agents.data import TABLES, Dataset
from agents.evidence import Citation, Evidence
from agents.progress import StepReporter

BASELINE_DAYS = 365

# Roles and access levels that imply routine access to inside information.
_INSIDE_ROLES = ("corporate finance", "m&a", "investment banking", "research", "legal", "compliance",
                 "executive", "director", "deal", "advisory")
_NO_TRADING = ("no trading", "not permitted to trade", "trading prohibited", "no personal trading")


def profile(ds: Dataset, trader_id: str, symbol: str | None, reporter: StepReporter) -> Evidence:
    """Role, department, access to inside information and trading restrictions."""
    source = TABLES["trader_profiles"].path
    reporter.progress(f"Looking up profile of {trader_id}", total=2)
    rows = ds.query("trader_profiles", "SELECT * FROM rows WHERE trader_id = ? ORDER BY line", (trader_id,))
    if not rows:
        return Evidence(tool="trader_profile", title="Trader profile", ok=False,
                        summary=f"No profile for trader {trader_id} in {source}.",
                        error=f"trader {trader_id} not in {source}")
    row = rows[-1]
    restrictions = (row["restrictions"] or "").strip()
    lowered = restrictions.casefold()
    role = f"{row['role']} {row['department']}".casefold()
    no_trading = any(p in lowered for p in _NO_TRADING)
    restricted_symbol = bool(symbol) and symbol.casefold() in {
        token.strip(" .;:,").casefold() for token in restrictions.replace(",", " ").split()
    }
    inside_access = (row["access_level"] or "").strip().upper() in ("HIGH", "MNPI", "INSIDER") or any(
        r in role for r in _INSIDE_ROLES)
    reporter.progress("Checked role, access level and restrictions", step=2)
    facts = {
        "trader_id": trader_id, "name": row["name"], "role": row["role"], "department": row["department"],
        "access_level": row["access_level"], "restrictions": restrictions or None,
        "no_trading_allowed": no_trading, "symbol_restricted": restricted_symbol,
        "inside_information_access": inside_access,
    }
    parts = [f"{row['name']} — {row['role']}, {row['department']}; access {row['access_level']}"]
    if restrictions:
        parts.append(f"restrictions: {restrictions}")
    return Evidence(tool="trader_profile", title="Trader profile", summary="; ".join(parts) + ".",
                    facts=facts,
                    citations={"profile": Citation(source=source, lines=(row["line"],),
                                                   note=f"profile of {trader_id}")})


def history(ds: Dataset, trader_id: str, symbol: str, trade_date: date, quantity: float,
            reporter: StepReporter) -> Evidence:
    """Baseline of the trader's own trading in the year before the flagged trade."""
    source = TABLES["trader_history"].path
    since = (trade_date - timedelta(days=BASELINE_DAYS)).isoformat()
    before = trade_date.isoformat()
    reporter.progress(f"Computing {trader_id}'s baseline since {since}", total=3)
    stats = ds.query(
        "trader_history",
        "SELECT COUNT(*) AS n, AVG(qty) AS avg_qty, MAX(qty) AS max_qty, SUM(qty * qty) AS sum_sq, "
        "MIN(line) AS first_line, MAX(line) AS last_line FROM rows "
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
                        error=f"no trading history for {trader_id}")
    reporter.progress(f"{n} trades in the baseline window", step=2)
    avg = stats["avg_qty"]
    variance = max(stats["sum_sq"] / n - avg * avg, 0.0)
    std = math.sqrt(variance) if n > 1 else 0.0
    zscore = (quantity - avg) / std if std > 0 else None
    in_symbol = ds.query(
        "trader_history",
        "SELECT line FROM rows WHERE trader_id = ? AND symbol = ? AND date >= ? AND date < ? ORDER BY line",
        (trader_id, symbol, since, before),
    )
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
    reporter.progress("Compared the flagged trade with the baseline", step=3)
    ratio = quantity / avg if avg else None
    facts = {
        "trades": n, "avg_qty": round(avg, 1), "max_qty": stats["max_qty"], "std_qty": round(std, 1),
        "flagged_qty": quantity, "size_ratio": round(ratio, 2) if ratio else None,
        "zscore": round(zscore, 2) if zscore is not None else None,
        "symbol_trades": len(in_symbol), "first_time_symbol": not in_symbol,
        "sectors": sector_names, "symbol_sector": sector,
        "first_time_sector": bool(sector) and sector not in sector_names,
        "window_start": since,
    }
    size = f"{quantity:,.0f} vs average {avg:,.0f} (max {stats['max_qty']:,.0f}"
    size += f", z = {zscore:.1f})" if zscore is not None else ")"
    novelty = "first trade in " + symbol if not in_symbol else f"{len(in_symbol)} earlier trades in {symbol}"
    summary = f"{n} trades in the baseline year; flagged size {size}; {novelty}"
    if facts["first_time_sector"]:
        summary += f"; first trade in sector {sector}"
    citations = {"baseline": Citation(source=source, lines=tuple(sorted(r["line"] for r in window_lines)),
                                      note=f"{n} trades by {trader_id} from {since} to {before}")}
    if in_symbol:
        citations["symbol"] = Citation(source=source, lines=tuple(r["line"] for r in in_symbol),
                                       note=f"earlier trades in {symbol}")
    return Evidence(tool="trader_history", title="Trading history baseline", summary=summary + ".",
                    facts=facts, citations=citations)


def symbol_sector(ds: Dataset, symbol: str) -> str | None:
    """The sector a symbol belongs to, as recorded in the trading history of any trader."""
    rows = ds.query("trader_history",
                    "SELECT sector, COUNT(*) AS n FROM rows WHERE symbol = ? GROUP BY sector ORDER BY n DESC "
                    "LIMIT 1", (symbol,))
    return rows[0]["sector"] if rows else None
