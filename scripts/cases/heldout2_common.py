"""Helpers of held-out set 2: a price path without an artificial jump into the trade day."""

from __future__ import annotations

from datetime import date

from cases.world import World


def anchor(w: World, symbol: str, d: date, close: float) -> None:
    """Rescale the price path before ``d`` so that it ends at ``close``: no artificial jump into ``d``.

    A path is a random walk from a start price with the trade-day close fixed, so over a few weeks
    it can drift far from the fixed close and make the fixed day look like a large move of its
    own. The sessions before ``d`` are scaled by one factor (their shape kept), and ``d`` opens at
    the new previous close.
    """
    rows = sorted((r for r in w.rows["market_data.csv"] if r[0] == symbol), key=lambda r: r[1])
    before = [r for r in rows if r[1] < d.isoformat()]
    if not before:
        return
    factor = close / before[-1][5]
    for r in before:
        r[2], r[3], r[4], r[5] = (round(v * factor, 4 if close < 1 else 2) for v in r[2:6])
        w.closes[(symbol, date.fromisoformat(r[1]))] = r[5]
    for r in rows:
        if r[1] == d.isoformat():
            r[2] = before[-1][5]
            r[3] = round(max(r[2], r[5]) * (1 + 0.004 + 0.003 * w.rng.random()), 4 if close < 1 else 2)
            r[4] = round(min(r[2], r[5]) * (1 - 0.004 - 0.003 * w.rng.random()), 4 if close < 1 else 2)
