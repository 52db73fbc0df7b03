"""Market tools: price and volume around a trade or event, and a trade's share of the day's volume.

Where an event's price reaction is measured matters (MAR Art. 7(1)(a) and 7(4): information is
price-sensitive where its publication moves the price). An alert gives the event's date but
not its time, and results, offerings and regulators' letters are often published after the
close, so the first session that can reflect the event may be the next one. The reaction is
therefore read over the event's own session and the next: if the event's session moved at
least ``REACTION_PCT`` the event was public during or before it and its close is the
reference; if it did not and the next session did, the event came out after the close and the
next session's close is the reference; if neither moved that much, the reference is the next
session's close (the two sessions together). The rows used are cited.
"""

from __future__ import annotations

from datetime import date, timedelta

from agents.data import TABLES, Dataset
from agents.evidence import Citation, Evidence
from agents.progress import StepReporter, records_inputs
from agents.text import plural

VOLUME_LOOKBACK_ROWS = 20
HIGH_VIX = 30.0
REACTION_PCT = 2.0       # a session "reacts" when its close moves at least this much from the previous close
MATERIAL_MOVE_PCT = 5.0  # a move to the reference that is material, for the trader or against them
MATERIAL_AMOUNT = 10_000.0


def _pct(new: float, old: float) -> float:
    """Percentage change, rounded so that a move of exactly 2% or 5% in prices counts as such."""
    return round((new - old) / old * 100, 6)


def reaction_sessions(rows: list, event_date: date) -> tuple[dict | None, str, list]:
    """The session whose close measures the event's reaction, why it was chosen, and the rows read.

    ``rows`` are one symbol's sessions in date order. Returns (reference row, reason, cited rows).
    """
    pre = [r for r in rows if r["date"] < event_date.isoformat()]
    after = [r for r in rows if r["date"] >= event_date.isoformat()]
    if not after:
        return None, "no session on or after the event date", []
    event_session, next_session = after[0], (after[1] if len(after) > 1 else None)
    if not pre:
        return event_session, f"no session before {event_date} to measure the reaction from", [event_session]
    r0 = _pct(event_session["close"], pre[-1]["close"])
    cited = [pre[-1], event_session] + ([next_session] if next_session else [])
    if abs(r0) >= REACTION_PCT or next_session is None:
        why = (f"the event's own session ({event_session['date']}) moved {r0:+.1f}%"
               if abs(r0) >= REACTION_PCT else f"the event's session moved {r0:+.1f}% and no later session is in "
                                               "the data")
        return event_session, why, cited
    r1 = _pct(next_session["close"], event_session["close"])
    if abs(r1) >= REACTION_PCT:
        return next_session, (f"the event's session ({event_session['date']}) moved only {r0:+.1f}% and the next "
                              f"({next_session['date']}) {r1:+.1f}%: the event came out after the close"), cited
    return next_session, (f"neither the event's session ({r0:+.1f}%) nor the next ({r1:+.1f}%) moved "
                          f"{REACTION_PCT:.0f}% or more: measured over both, to {next_session['date']}"), cited


@records_inputs
def price_context(ds: Dataset, symbol: str, trade_date: date, side: str, quantity: float, price: float,
                  event_date: date | None, reporter: StepReporter, lots: list[dict] = ()) -> Evidence:
    """Price move from the trade to the event's reaction, abnormal volume, and profit made or loss avoided.

    ``lots`` are earlier same-side tranches of the position (dicts with qty, price, line, date).
    """
    source = TABLES["market_data"].path
    reporter.progress(f"Loading {symbol} prices around {trade_date}", total=3)
    horizon = max(event_date or trade_date, trade_date) + timedelta(days=10)
    start = trade_date - timedelta(days=45)
    rows = ds.query(
        "market_data",
        "SELECT * FROM rows WHERE symbol = ? AND date >= ? AND date <= ? ORDER BY date",
        (symbol, start.isoformat(), horizon.isoformat()),
    )
    on_trade = [r for r in rows if r["date"] == trade_date.isoformat()]
    if not on_trade:
        return Evidence(tool="market_data", title="Market data", ok=False,
                        summary=f"No {symbol} prices for {trade_date} in {source}.",
                        error=f"no market data for {symbol} on {trade_date}",
                        citations={"searched": Citation(
                            source=source, lines=tuple(r["line"] for r in rows[-5:]),
                            note=f"symbol = {symbol}, date {start} to {horizon}: no row for {trade_date}"
                                 + ("" if rows else "; none found"))})
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
                                                note=f"{plural(len(prior), 'session')} before {trade_date}")
    summary = f"{symbol} closed {day['close']:,.2f} on {trade_date}"
    if volume_ratio:
        summary += f" on {volume_ratio:.1f}× its 20-session average volume"
    later = [r for r in rows if r["date"] > day["date"]]
    if event_date is not None and event_date >= trade_date:
        ref, why, read = reaction_sessions(rows, event_date)
    else:  # no event, or the trade came after it: the outcome a week later
        target = (trade_date + timedelta(days=5)).isoformat()
        after = [r for r in later if r["date"] >= target]
        ref, why, read = (after[0], "the first session five days after the trade", [after[0]]) if after \
            else (None, "", [])
    held = [(quantity, price), *((lot["qty"], lot["price"]) for lot in lots)]
    position = sum(q for q, _ in held)
    average = sum(q * p for q, p in held) / position
    if ref is not None:
        move = _pct(ref["close"], average)
        pnl = round(sum((ref["close"] - p) * q if side == "BUY" else (p - ref["close"]) * q for q, p in held), 2)
        favourable = (move > 0) == (side == "BUY") and move != 0
        material = abs(move) >= MATERIAL_MOVE_PCT and abs(pnl) >= MATERIAL_AMOUNT
        facts.update({
            "reference_date": ref["date"], "reference_close": ref["close"], "reference_reason": why,
            "reference_is_event": event_date is not None and event_date >= trade_date,
            "move_pct": round(move, 2), "favourable_move": favourable, "material_move": material,
            "profit_or_loss_avoided": round(pnl, 2), "position_qty": position,
            "position_price": round(average, 4),
        })
        citations["reference"] = Citation(source=source, lines=(ref["line"],),
                                          note=f"{symbol} close on {ref['date']}: {why}")
        if read:
            citations["reaction"] = Citation(source=source, lines=tuple(r["line"] for r in read),
                                             note=f"{symbol} closes read to place the reaction: "
                                                  + ", ".join(r["date"] for r in read))
        gain = "profit" if side == "BUY" else "loss avoided"
        on = (f" on the {position:,.0f} shares built in the run-up (average {average:,.2f})" if lots else "")
        summary += (f"; {move:+.1f}% to {ref['close']:,.2f} by {ref['date']} ({why}), "
                    f"{gain} {pnl:,.0f}{on}")
    else:
        facts["reference_date"] = None
        summary += f"; no prices after {trade_date} to measure the outcome"
    if lots:
        citations["lots"] = Citation(source=TABLES["trader_history"].path, lines=tuple(lot["line"] for lot in lots),
                                     note=f"earlier {side} tranches of the position in the event's run-up")
    reporter.progress("Computed the outcome at the reference price", step=3)
    return Evidence(tool="market_data", title="Market data", summary=summary + ".", facts=facts,
                    citations=citations)


@records_inputs
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
                        error=f"no market data for {symbol} on {trade_date}",
                        citations={"searched": Citation(source=source, note=f"symbol = {symbol}, date = {trade_date}: "
                                                                            "none found")})
    day = rows[0]
    share = flagged_volume / day["volume"] * 100 if day["volume"] else None
    reporter.progress("Computed the flagged share of daily volume", step=1)
    summary = (f"Flagged trades {flagged_volume:,.0f} of {day['volume']:,.0f} shares traded in {symbol} "
               f"on {trade_date}" + (f" ({share:.1f}% of the day)" if share is not None else ""))
    return Evidence(tool="volume_impact", title="Volume impact", summary=summary + ".",
                    facts={"flagged_volume": flagged_volume, "daily_volume": day["volume"],
                           "volume_share_pct": round(share, 2) if share is not None else None,
                           "close": day["close"], "open": day["open"], "high": day["high"], "low": day["low"]},
                    citations={"day": Citation(source=source, lines=(day["line"],),
                                               note=f"{symbol} on {trade_date}")})
