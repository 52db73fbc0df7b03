"""Counted nouns in the texts the agents write ("1 order", "3 orders" — never "order(s)" or "1 orders"), and the one
normalisation every rule applies before it matches a phrase."""

from __future__ import annotations

import unicodedata


def noun(n: float, word: str, many: str | None = None) -> str:
    """The noun for ``n`` of it: ``word`` for exactly one, ``many`` (default ``word + "s"``) otherwise."""
    return word if n == 1 else (many or word + "s")


def plural(n: float, word: str, many: str | None = None) -> str:
    """``n`` (with thousands separators) and its noun: ``plural(1, "day")`` is "1 day"."""
    return f"{n:,} {noun(n, word, many)}"


# Dash and hyphen variants (hyphen, non-breaking hyphen, figure dash, en and em dashes, minus, small and full-width
# hyphen-minus) read as "-"; a soft hyphen is invisible and dropped; typographic quotes read as plain ones.
_FOLD = {**dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-"),
         ord("\u00ad"): None, **dict.fromkeys(map(ord, "\u2018\u2019\u201b\u2032"), "'"),
         **dict.fromkeys(map(ord, "\u201c\u201d\u201f\u2033"), '"')}


def normalise(text: str | None) -> str:
    """``text`` as the rules match it: Unicode NFKC (non-breaking and other spaces become spaces, full-width and
    ligature forms their plain letters), every dash and hyphen variant "-", typographic quotes plain, runs of
    whitespace one space. Rules match the normalised text; findings quote the original."""
    folded = unicodedata.normalize("NFKC", text or "").translate(_FOLD)
    return " ".join(folded.split())
