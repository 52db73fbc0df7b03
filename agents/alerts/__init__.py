"""Alerts: the typed models (``models``) and the safe XML parser that builds them (``parsing``,
reading each element through ``elements``).

Callers import from here: ``from agents.alerts import parse_alert, AlertError, WashTradeAlert``.
"""

from agents.alerts.elements import AlertError
from agents.alerts.models import (
    Alert,
    AlertKind,
    AlertMetadata,
    AnomalyIndicators,
    FlaggedTrade,
    InsiderDealingAlert,
    Listing,
    OrderEvent,
    RegulatoryFlags,
    RelatedEvent,
    SpoofingAlert,
    SuspiciousActivity,
    Trader,
    WashTradeAlert,
    WashTradeIndicators,
    moment_label,
)
from agents.alerts.parsing import classify_alert_type, parse_alert

__all__ = [
    "Alert", "AlertError", "AlertKind", "AlertMetadata", "AnomalyIndicators", "FlaggedTrade", "InsiderDealingAlert",
    "Listing", "OrderEvent", "RegulatoryFlags", "RelatedEvent", "SpoofingAlert", "SuspiciousActivity", "Trader",
    "WashTradeAlert", "WashTradeIndicators", "classify_alert_type", "moment_label", "parse_alert",
]
