"""Market tools: price and volume around a trade or event, and a trade's share of the day's volume."""

from __future__ import annotations

from datetime import date, timedelta

from agents.data import TABLES, Dataset
from agents.evidence import Citation, Evidence
from agents.progress import StepReporter

VOLUME_LOOKBACK_ROWS = 20
HIGH_VIX = 30.0


def price_context(ds: Dataset, symbol: str, trade_date: date, side: str, quantity: float, price: float,
                  event_date: date | None, reporter: StepReporter) -> Evidence:
    """Price move from the trade to the event, abnormal volume, and profit made or loss avoided."""
    source = TABLES["market_data"].path
    reporter.progress(f"Loading {symbol} prices around {trade_date}", total=3)
    horizon = max(event_date or trade_date, trade_date) + timedelta(days=7)
    rows = ds.query(
        "market_data",
        "SELECT * FROM rows WHERE symbol = ? AND date >= ? AND date <= ? ORDER BY date",
        (symbol, (trade_date - timedelta(days=45)).isoformat(), horizon.isoformat()),
    )
    on_trade = [r for r in rows if r["date"] == trade_date.isoformat()]
    if not on_trade:
        return Evidence(tool="market_data", title="Market data", ok=False,
                        summary=f"No {symbol} prices for {trade_date} in {source}.",
                        error=f"no market data for {symbol} on {trade_date}")
    day = on_trade[0]
    prior = [r for r in rows if r["date"] < day["date"]][-VOLUME_LOOKBACK_ROWS:]
    avg_volume = sum(r["volume"] for r in prior) / len(prior) if prior else None
    volume_ratio = day["volume"] / avg_volume if avg_volume else None
    reporter.progress("Measured volume against the prior 20 sessions", step=2)

    facts: dict = {
        "trade_date_close": day["close"], "trade_date_volume": day["volume"],
        "avg_volume_20d": round(avg_volume) if avg_volume else None,
        "volume_ratio": round(volume_ratio, 2) if volume_ratio else None,
        "vix": day["vix"], "high_vix": bool(day["vix"] and day["vix"] >= HIGH_VIX),
    }
    citations = {"trade_day": Citation(source=source, lines=(day["line"],), note=f"{symbol} on {trade_date}")}
    if prior:
        citations["volume_baseline"] = Citation(source=source, lines=tuple(r["line"] for r in prior),
                                                note=f"{len(prior)} sessions before {trade_date}")
    target_date = event_date or trade_date + timedelta(days=5)
    after = [r for r in rows if r["date"] >= target_date.isoformat() and r["date"] > day["date"]]
    summary = f"{symbol} closed {day['close']:,.2f} on {trade_date}"
    if volume_ratio:
        summary += f" on {volume_ratio:.1f}× its 20-session average volume"
    if after:
        ref = after[0]
        move = (ref["close"] - price) / price * 100
        pnl = (ref["close"] - price) * quantity if side == "BUY" else (price - ref["close"]) * quantity
        pre_event = [r for r in rows if r["date"] < ref["date"]]
        event_return = ((ref["close"] - pre_event[-1]["close"]) / pre_event[-1]["close"] * 100
                        if pre_event else None)
        facts.update({
            "reference_date": ref["date"], "reference_close": ref["close"],
            "reference_is_event": event_date is not None,
            "move_pct": round(move, 2), "favourable_move": (move > 0) == (side == "BUY") and move != 0,
            "profit_or_loss_avoided": round(pnl, 2),
            "event_day_return_pct": round(event_return, 2) if event_return is not None else None,
        })
        citations["reference"] = Citation(source=source, lines=(ref["line"],),
                                          note=f"{symbol} close on {ref['date']}")
        gain = "profit" if side == "BUY" else "loss avoided"
        summary += (f"; {move:+.1f}% to {ref['close']:,.2f} by {ref['date']}"
                    f" ({'event' if event_date else '5-day'} reference), {gain} {pnl:,.0f}")
    else:
        facts["reference_date"] = None
        summary += f"; no prices on or after {target_date} to measure the outcome"
    reporter.progress("Computed the outcome at the reference price", step=3)
    return Evidence(tool="market_data", title="Market data", summary=summary + ".", facts=facts,
                    citations=citations)


def volume_share(ds: Dataset, symbol: str, trade_date: date, flagged_volume: float,
                 reporter: StepReporter) -> Evidence:
    """How much of the day's reported volume the flagged trades made up."""
    source = TABLES["market_data"].path
    reporter.progress(f"Loading {symbol} volume on {trade_date}", total=1)
    rows = ds.query("market_data", "SELECT * FROM rows WHERE symbol = ? AND date = ?",
                    (symbol, trade_date.isoformat()))
    if not rows:
        return Evidence(tool="volume_impact", title="Volume impact", ok=False,
                        summary=f"No {symbol} volume for {trade_date} in {source}.",
                        error=f"no market data for {symbol} on {trade_date}")
    day = rows[0]
    share = flagged_volume / day["volume"] * 100 if day["volume"] else None
    reporter.progress("Computed the flagged share of daily volume", step=1)
    summary = (f"Flagged trades {flagged_volume:,.0f} of {day['volume']:,.0f} shares traded in {symbol} "
               f"on {trade_date}" + (f" ({share:.1f}% of the day)" if share is not None else ""))
    return Evidence(tool="volume_impact", title="Volume impact", summary=summary + ".",
                    facts={"flagged_volume": flagged_volume, "daily_volume": day["volume"],
                           "volume_share_pct": round(share, 2) if share is not None else None,
                           "close": day["close"], "open": day["open"]},
                    citations={"day": Citation(source=source, lines=(day["line"],),
                                               note=f"{symbol} on {trade_date}")})
