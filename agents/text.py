"""Counted nouns in the texts the agents write: "1 order", "3 orders" — never "order(s)" or "1 orders"."""

from __future__ import annotations


def noun(n: float, word: str, many: str | None = None) -> str:
    """The noun for ``n`` of it: ``word`` for exactly one, ``many`` (default ``word + "s"``) otherwise."""
    return word if n == 1 else (many or word + "s")


def plural(n: float, word: str, many: str | None = None) -> str:
    """``n`` (with thousands separators) and its noun: ``plural(1, "day")`` is "1 day"."""
    return f"{n:,} {noun(n, word, many)}"
