"""What every case of the library declares, and the helpers the case modules share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from cases.world import World

ESCALATE, REVIEW, CLOSE = "ESCALATE", "NEEDS_HUMAN_REVIEW", "CLOSE"

# Names a trader's ordinary baseline is drawn from (symbol -> sector, price).
BASKET = {"QRTZ": ("Technology", 75.0), "SOLR": ("Energy", 16.0), "HLX": ("Consumer", 45.0),
          "PRSM": ("Financials", 62.0), "KRNL": ("Industrials", 7.8)}


@dataclass(frozen=True)
class Case:
    """One case: its world, its alert, and what a compliance reviewer would accept as the answer.

    ``category`` is ``enforcement`` (modelled on a public enforcement action: must never be
    closed), ``control`` (a typical false-positive pattern whose only acceptable answer is
    CLOSE) or ``ambiguous`` (conflicting signals or missing data).
    """

    name: str
    kind: str                       # insider_dealing | wash_trade | spoofing
    category: str
    modelled_on: str
    rationale: str
    acceptable: tuple[str, ...]
    world: World
    alert: str
    origin: str = ""                # the set it came from, when not written with the library (e.g. a held-out review)

    def __post_init__(self):
        assert self.category in ("enforcement", "control", "ambiguous"), self.category
        assert self.category != "control" or self.acceptable == (CLOSE,), self.name
        assert self.category != "enforcement" or CLOSE not in self.acceptable, self.name


def check_weekday(*days: date) -> None:
    for d in days:
        assert d.weekday() < 5, f"{d} is not a weekday"


def market_around(w: World, symbol: str, trade: date, event: date | None, price: float, **kwargs) -> None:
    """Prices from ten weeks before the trade to two weeks after the event; the trade-day close is ``price``."""
    closes = {trade: price, **kwargs.pop("closes", {})}
    end = max(event or trade, trade) + timedelta(days=14)
    w.market(symbol, trade - timedelta(days=75), end, price, closes=closes, **kwargs)
