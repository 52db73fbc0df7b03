"""Scales and axis ticks: data values to SVG user units, and readable tick labels."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta


@dataclass(frozen=True)
class Linear:
    """Maps ``lo..hi`` onto ``start..end`` (``end`` may be smaller than ``start``: SVG's y grows downwards)."""

    lo: float
    hi: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        if self.hi == self.lo:
            return round((self.start + self.end) / 2, 2)
        return round(self.start + (value - self.lo) / (self.hi - self.lo) * (self.end - self.start), 2)


def padded(lo: float, hi: float, share: float = 0.06, minimum: float = 0.5) -> tuple[float, float]:
    """A domain with room around the data, so that marks at its edges are not cut off."""
    pad = max((hi - lo) * share, minimum if hi == lo else 0.0)
    return lo - pad, hi + pad


def nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """About ``count`` round values (1, 2 or 5 × 10^n apart) inside ``lo..hi``."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step) * step
    ticks, value = [], first
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def price(value: float) -> str:
    return f"{value:,.2f}"


def quantity(value: float) -> str:
    """Short volume labels: 950, 12.5k, 3.4M."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:,.0f}"


def day_ticks(first: date, last: date, count: int = 5) -> list[date]:
    """Dates spread over ``first..last``, at whole-week steps when the span allows."""
    span = (last - first).days
    if span <= 0:
        return [first]
    step = max(1, round(span / count))
    if step >= 5:
        step = 7 * max(1, round(step / 7))
    return [first + timedelta(days=d) for d in range(0, span + 1, step)]


def day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


def clock_label(moment: datetime, span_seconds: float) -> str:
    """A time of day, with milliseconds when the chart spans seconds rather than minutes."""
    if span_seconds < 20:
        return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
    return moment.strftime("%H:%M:%S")


def clock_ticks(first: datetime, last: datetime, count: int = 4) -> list[datetime]:
    """Round times of day (whole seconds, or tenths, …) between ``first`` and ``last``."""
    midnight = datetime.combine(first.date(), datetime.min.time())
    lo, hi = (first - midnight).total_seconds(), (last - midnight).total_seconds()
    return [midnight + timedelta(seconds=s) for s in nice_ticks(lo, hi, count)] if hi > lo else [first]


def inside(ticks: list[dict], width: float, size: float = 11) -> list[dict]:
    """The tick labels (``x``, ``label``; centred) that fit inside the chart's width."""
    return [t for t in ticks if text_width(t["label"], size) / 2 <= t["x"] <= width - text_width(t["label"], size) / 2]


def text_width(text: str, size: float = 12) -> float:
    """Rough width of a label in the app's sans-serif, to keep labels inside the chart."""
    return len(text) * size * 0.56


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
