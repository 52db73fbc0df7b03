"""Typed alerts: what an alert export says once it has been read and checked.

Three kinds share a base (id, type, rule, generation time, surveillance notes, listing): insider
dealing (one suspicious trade and the event it preceded), wash trade (flagged trades between
accounts) and spoofing (one trader's order events). Models are frozen: an alert never changes
after parsing.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class AlertKind(StrEnum):
    INSIDER_DEALING = "insider_dealing"
    WASH_TRADE = "wash_trade"
    SPOOFING = "spoofing"

    @property
    def label(self) -> str:
        return {"insider_dealing": "Insider dealing", "wash_trade": "Wash trade",
                "spoofing": "Spoofing / layering"}[self.value]



class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Trader(_Model):
    trader_id: str
    name: str | None = None
    department: str | None = None


class SuspiciousActivity(_Model):
    symbol: str
    trade_date: date
    side: Literal["BUY", "SELL"]
    quantity: int
    price: float
    total_value: float
    account_id: str | None = None


class Listing(_Model):
    """Where and how the instrument trades, when the alert says (a STOR names them)."""

    isin: str | None = None
    venue: str | None = None      # e.g. the MIC, XLON
    currency: str | None = None


class AnomalyIndicators(_Model):
    anomaly_score: float | None = None
    confidence_level: str | None = None
    temporal_proximity: str | None = None
    estimated_profit: float | None = None


class RelatedEvent(_Model):
    event_type: str
    event_date: date
    description: str | None = None


class _AlertBase(_Model):
    alert_id: str
    alert_type: str
    rule_violated: str | None = None
    generated_at: datetime | None = None
    notes: tuple[str, ...] = ()
    listing: Listing = Listing()

    @property
    def title(self) -> str:
        return f"{self.alert_id} · {self.alert_type}"


class InsiderDealingAlert(_AlertBase):
    kind: Literal[AlertKind.INSIDER_DEALING] = AlertKind.INSIDER_DEALING
    trader: Trader
    activity: SuspiciousActivity
    anomaly: AnomalyIndicators = AnomalyIndicators()
    related_event: RelatedEvent | None = None

    @property
    def symbol(self) -> str:
        return self.activity.symbol

    @property
    def subject(self) -> str:
        return self.trader.name or self.trader.trader_id


class FlaggedTrade(_Model):
    sequence: int
    account_id: str
    account_name: str | None = None
    trade_date: date
    trade_time: time | None = None
    symbol: str
    side: Literal["BUY", "SELL"]
    quantity: int
    price: float
    total_value: float
    counterparty_account: str | None = None
    order_id: str | None = None


class WashTradeIndicators(_Model):
    time_delta: str | None = None
    same_symbol: bool | None = None
    same_quantity: bool | None = None
    same_price: bool | None = None
    offsetting_trades: bool | None = None
    volume_impact: str | None = None
    daily_volume: int | None = None


class AlertMetadata(_Model):
    severity: str | None = None
    anomaly_score: float | None = None
    confidence_level: str | None = None


class RegulatoryFlags(_Model):
    jurisdiction: str | None = None
    regulations: tuple[str, ...] = ()


class WashTradeAlert(_AlertBase):
    kind: Literal[AlertKind.WASH_TRADE] = AlertKind.WASH_TRADE
    metadata: AlertMetadata = AlertMetadata()
    trades: tuple[FlaggedTrade, ...]
    indicators: WashTradeIndicators = WashTradeIndicators()
    market_context: dict[str, str] = Field(default_factory=dict)
    regulatory: RegulatoryFlags = RegulatoryFlags()

    @property
    def symbol(self) -> str:
        return self.trades[0].symbol

    @property
    def accounts(self) -> list[str]:
        seen: dict[str, None] = {}
        for t in self.trades:
            seen[t.account_id] = None
            if t.counterparty_account:
                seen[t.counterparty_account] = None
        return list(seen)

    @property
    def subject(self) -> str:
        return ", ".join(self.accounts)


class OrderEvent(_Model):
    """One order placement, amendment, cancellation or execution in a spoofing alert."""

    order_id: str
    account_id: str
    timestamp: datetime
    symbol: str
    side: Literal["BUY", "SELL"]
    quantity: int
    price: float
    action: Literal["PLACE", "AMEND", "CANCEL", "EXECUTE"]
    filled_quantity: int = 0


class SpoofingAlert(_AlertBase):
    kind: Literal[AlertKind.SPOOFING] = AlertKind.SPOOFING
    metadata: AlertMetadata = AlertMetadata()
    trader: Trader
    symbol: str
    trade_date: date
    orders: tuple[OrderEvent, ...]
    market_context: dict[str, str] = Field(default_factory=dict)
    regulatory: RegulatoryFlags = RegulatoryFlags()

    @property
    def subject(self) -> str:
        return self.trader.name or self.trader.trader_id


Alert = Annotated[InsiderDealingAlert | WashTradeAlert | SpoofingAlert, Field(discriminator="kind")]


def moment_label(day: date | datetime, clock: time | None = None) -> str:
    """A trade's date and time as the analyzer writes them everywhere: ``2024-06-12 10:15:00.120``
    (always to the millisecond), or the date alone when there is no time."""
    if isinstance(day, datetime):
        day, clock = day.date(), day.time()
    if clock is None:
        return day.isoformat()
    return f"{day.isoformat()} {clock.isoformat(timespec='milliseconds')}"
