"""Parse SMARTS-style alert XML into typed alerts, refusing anything unsafe or incomplete.

Two export shapes exist in the wild (see shared/domain.md): ``<SMARTSAlert>`` for insider
dealing and ``<SmartsAlert>`` for wash trades; spoofing alerts use the second shape with
``OrderActivity``. Element names are case-sensitive, unknown extra elements are ignored and
a missing required element is a clear :class:`AlertError` naming its path (each element is read
through agents/alerts/elements.py, which knows where it is).

Parsing goes through defusedxml with DTDs forbidden, so XXE, entity expansion ("billion
laughs") and external references are refused before any expansion happens.

What one alert may cost is bounded at parse time (agents/alerts/limits.py).
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from agents.alerts.elements import AlertError, Node, strip_namespaces
from agents.alerts.limits import BoundedTreeBuilder, LimitExceeded
from agents.alerts.models import (
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
)

# AlertType values seen in SMARTS exports, normalised (case and punctuation folded).
_TYPE_NAMES: dict[str, AlertKind] = {
    "preannouncementtrading": AlertKind.INSIDER_DEALING,
    "insidertrading": AlertKind.INSIDER_DEALING,
    "insiderdealing": AlertKind.INSIDER_DEALING,
    "tradingaheadofannouncement": AlertKind.INSIDER_DEALING,
    "washtrade": AlertKind.WASH_TRADE,
    "washtrading": AlertKind.WASH_TRADE,
    "spoofing": AlertKind.SPOOFING,
    "layering": AlertKind.SPOOFING,
    "spoofinglayering": AlertKind.SPOOFING,
}
_ROOT_KINDS = {
    "SMARTSAlert": {AlertKind.INSIDER_DEALING},
    "SmartsAlert": {AlertKind.WASH_TRADE, AlertKind.SPOOFING},
}


def classify_alert_type(alert_type: str) -> AlertKind | None:
    return _TYPE_NAMES.get(re.sub(r"[^a-z]", "", alert_type.casefold()))



# --------------------------------------------------------------------------- parsing

_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


def parse_alert(raw: bytes) -> InsiderDealingAlert | WashTradeAlert | SpoofingAlert:
    """Turn the bytes of an uploaded file into an alert, or raise :class:`AlertError`."""
    if not raw or not raw.strip():
        raise AlertError("The file is empty.", status=400)
    text_bytes = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        text_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AlertError(
            f"The file is not UTF-8 text (invalid byte 0x{text_bytes[exc.start]:02x} at offset "
            f"{exc.start}). Export the alert as UTF-8 XML."
        ) from None
    declared = _DECLARED_ENCODING.match(text_bytes)
    if declared and declared.group(1).decode().lower().replace("_", "-") not in ("utf-8", "utf8", "us-ascii"):
        raise AlertError(
            f"The XML declares encoding {declared.group(1).decode()!r}; only UTF-8 alerts are accepted."
        )
    try:
        parser = DefusedXMLParser(target=BoundedTreeBuilder(), forbid_dtd=True, forbid_entities=True,
                                  forbid_external=True)
        parser.feed(text_bytes)
        root = parser.close()
    except LimitExceeded as exc:
        raise AlertError(str(exc)) from None
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden):
        raise AlertError(
            "The file contains a DOCTYPE, entity declaration or external reference. These are refused "
            "to protect against XXE and entity-expansion attacks; SMARTS exports do not need them."
        ) from None
    except DefusedXmlException as exc:
        raise AlertError(f"The file was refused by the XML safety checks: {exc}.") from None
    except ParseError as exc:
        raise AlertError(f"The file is not well-formed XML: {exc}.") from None

    strip_namespaces(root)
    if root.tag not in _ROOT_KINDS:
        raise AlertError(
            f"Unsupported root element <{root.tag}>. Expected <SMARTSAlert> (insider dealing) or "
            "<SmartsAlert> (wash trade, spoofing)."
        )
    return _ALERT_READERS[root.tag](Node(root, root.tag))


def _kind_for(root: Node, alert_type: str, where: str) -> AlertKind:
    kind = classify_alert_type(alert_type)
    supported = sorted({k for k in _TYPE_NAMES if _TYPE_NAMES[k] in _ROOT_KINDS[root.el.tag]})
    if kind is None:
        raise AlertError(
            f"Unknown alert type {alert_type!r} in {where}. This analyzer investigates insider dealing "
            "(e.g. 'Pre-Announcement Trading'), wash trades ('WashTrade') and spoofing ('Spoofing', "
            "'Layering')."
        )
    if kind not in _ROOT_KINDS[root.el.tag]:
        label = kind.label.lower()
        article = "an" if label[0] in "aeiou" else "a"
        raise AlertError(
            f"Alert type {alert_type!r} is {article} {label} alert, which does not use the "
            f"<{root.el.tag}> shape (expected types: {', '.join(supported)})."
        )
    return kind


# Optional elements naming the listing, in the order they are looked for.
_LISTING_TAGS = {"isin": ("ISIN",), "venue": ("Venue", "MIC", "Exchange", "ExecutionVenue"),
                 "currency": ("Currency", "TradeCurrency")}


def _listing(*nodes: Node | None) -> Listing:
    """The listing from the first of ``nodes`` that names each part (e.g. the trade, then MarketContext)."""
    found = {name: next((value for node in nodes if node is not None for tag in tags
                         if (value := node.text(tag, required=False))), None)
             for name, tags in _LISTING_TAGS.items()}
    return Listing(**found)


def _notes(node: Node) -> tuple[str, ...]:
    notes = node.child("InvestigationNotes", required=False)
    if notes is None:
        return ()
    return tuple(text for n in notes.children("Note") if (text := n.value()))


def _read_insider(root: Node) -> InsiderDealingAlert:
    alert_type = root.text("AlertType")
    _kind_for(root, alert_type, f"{root.path}/AlertType")
    trader = root.child("Trader")
    activity = root.child("SuspiciousActivity")
    quantity = activity.whole("Quantity")
    price = activity.number("Price")
    total = activity.number("TotalValue", required=False)
    anomaly = root.child("AnomalyIndicators", required=False)
    event = root.child("RelatedEvent", required=False)
    return InsiderDealingAlert(
        alert_id=root.text("AlertID"),
        alert_type=alert_type,
        rule_violated=root.text("RuleViolated", required=False),
        generated_at=root.moment("GeneratedTimestamp", required=False),
        notes=_notes(root),
        trader=Trader(
            trader_id=trader.text("TraderID"),
            name=trader.text("Name", required=False),
            department=trader.text("Department", required=False),
        ),
        activity=SuspiciousActivity(
            symbol=activity.text("Symbol").upper(),
            trade_date=activity.day("TradeDate"),
            side=activity.side("Side"),
            quantity=quantity,
            price=price,
            total_value=total if total is not None else quantity * price,
            account_id=activity.text("AccountID", required=False),
        ),
        listing=_listing(activity, root.child("Instrument", required=False), root),
        anomaly=AnomalyIndicators(
            anomaly_score=anomaly.number("AnomalyScore", required=False),
            confidence_level=anomaly.text("ConfidenceLevel", required=False),
            temporal_proximity=anomaly.text("TemporalProximity", required=False),
            estimated_profit=anomaly.number("EstimatedProfit", required=False),
        ) if anomaly is not None else AnomalyIndicators(),
        related_event=RelatedEvent(
            event_type=event.text("EventType"),
            event_date=event.day("EventDate"),
            # Older exports call it <Description>; domain.md's shape is <EventDescription>.
            description=event.text("EventDescription", required=False) or event.text("Description",
                                                                                      required=False),
        ) if event is not None else None,
    )


def _metadata(meta: Node) -> AlertMetadata:
    return AlertMetadata(
        severity=meta.text("Severity", required=False),
        anomaly_score=meta.number("AnomalyScore", required=False),
        confidence_level=meta.text("ConfidenceLevel", required=False),
    )


def _regulatory(root: Node) -> RegulatoryFlags:
    flags = root.child("RegulatoryFlags", required=False)
    if flags is None:
        return RegulatoryFlags()
    regs = flags.child("ApplicableRegulations", required=False)
    return RegulatoryFlags(
        jurisdiction=flags.text("Jurisdiction", required=False),
        regulations=tuple(r.value() for r in regs.children("Regulation")) if regs else (),
    )


def _read_smarts(root: Node) -> WashTradeAlert | SpoofingAlert:
    meta = root.child("AlertMetadata")
    alert_type = meta.text("AlertType")
    kind = _kind_for(root, alert_type, f"{meta.path}/AlertType")
    common = dict(
        alert_id=meta.text("AlertID"),
        alert_type=alert_type,
        rule_violated=meta.text("RuleViolated", required=False),
        generated_at=meta.moment("GeneratedTimestamp", required=False),
        notes=_notes(root),
        metadata=_metadata(meta),
        regulatory=_regulatory(root),
    )
    context = root.child("MarketContext", required=False)
    common["market_context"] = context.fields() if context is not None else {}
    if kind is AlertKind.SPOOFING:
        common["listing"] = _listing(root.child("OrderActivity"), context, root)
        return _read_spoofing(root, common)
    flagged = root.child("FlaggedTrades")
    nodes = flagged.children("Trade")
    if not nodes:
        raise AlertError(f"{flagged.path} contains no <Trade> elements.")
    common["listing"] = _listing(nodes[0], context, root)
    trades = []
    for i, node in enumerate(nodes, 1):
        quantity = node.whole("Quantity")
        price = node.number("Price")
        total = node.number("TotalValue", required=False)
        sequence = node.el.get("sequence")
        trades.append(FlaggedTrade(
            sequence=int(sequence) if sequence and sequence.strip().isdigit() and len(sequence) < 10 else i,
            account_id=node.text("AccountID"),
            account_name=node.text("AccountName", required=False),
            trade_date=node.day("TradeDate"),
            trade_time=node.clock("TradeTime", required=False),
            symbol=node.text("Symbol").upper(),
            side=node.side("Side"),
            quantity=quantity,
            price=price,
            total_value=total if total is not None else quantity * price,
            counterparty_account=node.text("CounterpartyAccount", required=False),
            order_id=node.text("OrderID", required=False),
        ))
    ind = root.child("WashTradeIndicators", required=False)
    indicators = WashTradeIndicators(
        time_delta=ind.text("TimeDelta", required=False),
        same_symbol=ind.flag("SameSymbol"),
        same_quantity=ind.flag("SameQuantity"),
        same_price=ind.flag("SamePrice"),
        offsetting_trades=ind.flag("OffsettingTrades"),
        volume_impact=ind.text("VolumeImpact", required=False),
        daily_volume=ind.whole("DailyVolume", required=False),
    ) if ind is not None else WashTradeIndicators()
    return WashTradeAlert(trades=tuple(sorted(trades, key=lambda t: t.sequence)), indicators=indicators,
                          **common)


def _read_spoofing(root: Node, common: dict) -> SpoofingAlert:
    trader = root.child("Trader")
    activity = root.child("OrderActivity")
    nodes = activity.children("Order")
    if not nodes:
        raise AlertError(f"{activity.path} contains no <Order> elements.")
    symbol = activity.text("Symbol").upper()
    orders = []
    for node in nodes:
        action = node.text("Action").upper()
        if action not in ("PLACE", "AMEND", "CANCEL", "EXECUTE"):
            raise AlertError(f"Element {node.path}/Action must be PLACE, AMEND, CANCEL or EXECUTE, "
                             f"got {action!r}.")
        orders.append(OrderEvent(
            order_id=node.text("OrderID"),
            account_id=node.text("AccountID", required=False) or trader.text("TraderID"),
            timestamp=node.moment("Timestamp"),
            symbol=(node.text("Symbol", required=False) or symbol).upper(),
            side=node.side("Side"),
            quantity=node.whole("Quantity"),
            price=node.number("Price"),
            action=action,
            filled_quantity=node.whole("FilledQuantity", required=False) or 0,
        ))
    return SpoofingAlert(
        trader=Trader(
            trader_id=trader.text("TraderID"),
            name=trader.text("Name", required=False),
            department=trader.text("Department", required=False),
        ),
        symbol=symbol,
        trade_date=activity.day("TradeDate"),
        orders=tuple(sorted(orders, key=lambda o: o.timestamp)),
        **common,
    )


_ALERT_READERS = {"SMARTSAlert": _read_insider, "SmartsAlert": _read_smarts}
