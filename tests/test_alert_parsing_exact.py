"""The whole parsed alert, field by field, for each kind (agents/alerts/parsing.py, elements.py).

One rich alert per kind carries every optional element, each listing part placed where only one of
the places the parser looks finds it, so a field read from the wrong element, under the wrong name, or
not at all changes the model. One minimal alert per kind carries only the required elements (and a
"sparse" twin whose optional containers are present but empty): both must parse, with every optional
field at its documented default — which pins which elements are optional. test_alerts.py and
test_alert_fields.py cover the shapes, the hostile files and the refusals.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from xml.etree.ElementTree import Element

import pytest

from agents.alerts import AlertError, parse_alert
from agents.alerts.elements import Node


def parse(xml: str) -> dict:
    return parse_alert(xml.encode()).model_dump()


# --------------------------------------------------------------------------- wash trade

WASH_RICH = """<?xml version="1.0" encoding="UTF-8"?>
<SmartsAlert>
  <AlertMetadata>
    <AlertID>WT-1</AlertID>
    <AlertType>WashTrade</AlertType>
    <RuleViolated>SMARTS-WT-003</RuleViolated>
    <GeneratedTimestamp>2024-06-12T18:05:00Z</GeneratedTimestamp>
    <Severity>HIGH</Severity>
    <AnomalyScore>92.5</AnomalyScore>
    <ConfidenceLevel>MEDIUM</ConfidenceLevel>
  </AlertMetadata>
  <InvestigationNotes>
    <Note>Accounts share an address.</Note>
    <Note>Second look requested.</Note>
  </InvestigationNotes>
  <FlaggedTrades>
    <Trade sequence="1">
      <AccountID>ACC-1</AccountID>
      <AccountName>John Smith</AccountName>
      <TradeDate>2024-06-12</TradeDate>
      <TradeTime>10:15:00.120</TradeTime>
      <Symbol>gldx</Symbol>
      <Side>B</Side>
      <Quantity>25,000</Quantity>
      <Price>18.40</Price>
      <TotalValue>460000.50</TotalValue>
      <CounterpartyAccount>ACC-2</CounterpartyAccount>
      <OrderID>ORD-1</OrderID>
      <ISIN>GB00GLDX0001</ISIN>
    </Trade>
    <Trade sequence="2">
      <AccountID>ACC-2</AccountID>
      <AccountName>Smith Family Trust</AccountName>
      <TradeDate>2024-06-12</TradeDate>
      <TradeTime>10:15:00.450</TradeTime>
      <Symbol>GLDX</Symbol>
      <Side>SELL</Side>
      <Quantity>25000</Quantity>
      <Price>18.40</Price>
      <TotalValue>460000.00</TotalValue>
      <CounterpartyAccount>ACC-1</CounterpartyAccount>
      <OrderID>ORD-2</OrderID>
      <ISIN>GB00OTHER002</ISIN>
    </Trade>
  </FlaggedTrades>
  <WashTradeIndicators>
    <TimeDelta>330ms</TimeDelta>
    <SameSymbol>true</SameSymbol>
    <SameQuantity>yes</SameQuantity>
    <SamePrice>false</SamePrice>
    <OffsettingTrades>1</OffsettingTrades>
    <VolumeImpact>6.25%</VolumeImpact>
    <DailyVolume>400000</DailyVolume>
  </WashTradeIndicators>
  <MarketContext>
    <MarketPhase>Continuous trading</MarketPhase>
    <Venue>XLON</Venue>
  </MarketContext>
  <Currency>GBP</Currency>
  <RegulatoryFlags>
    <Jurisdiction>UK</Jurisdiction>
    <ApplicableRegulations>
      <Regulation>UK MAR Art. 12(1)(a)</Regulation>
      <Regulation>FCA SUP 15 Annex 5</Regulation>
    </ApplicableRegulations>
  </RegulatoryFlags>
</SmartsAlert>"""

WASH_RICH_EXPECTED = {
    "alert_id": "WT-1",
    "alert_type": "WashTrade",
    "rule_violated": "SMARTS-WT-003",
    "generated_at": datetime(2024, 6, 12, 18, 5, tzinfo=UTC),
    "notes": ("Accounts share an address.", "Second look requested."),
    # ISIN from the first trade (not the second's), venue from MarketContext, currency from the root.
    "listing": {"isin": "GB00GLDX0001", "venue": "XLON", "currency": "GBP"},
    "kind": "wash_trade",
    "metadata": {"severity": "HIGH", "anomaly_score": 92.5, "confidence_level": "MEDIUM"},
    "trades": (
        {"sequence": 1, "account_id": "ACC-1", "account_name": "John Smith", "trade_date": date(2024, 6, 12),
         "trade_time": time(10, 15, 0, 120_000), "symbol": "GLDX", "side": "BUY", "quantity": 25_000,
         "price": 18.40, "total_value": 460_000.50, "counterparty_account": "ACC-2", "order_id": "ORD-1"},
        {"sequence": 2, "account_id": "ACC-2", "account_name": "Smith Family Trust",
         "trade_date": date(2024, 6, 12), "trade_time": time(10, 15, 0, 450_000), "symbol": "GLDX",
         "side": "SELL", "quantity": 25_000, "price": 18.40, "total_value": 460_000.00,
         "counterparty_account": "ACC-1", "order_id": "ORD-2"},
    ),
    "indicators": {"time_delta": "330ms", "same_symbol": True, "same_quantity": True, "same_price": False,
                   "offsetting_trades": True, "volume_impact": "6.25%", "daily_volume": 400_000},
    "market_context": {"MarketPhase": "Continuous trading", "Venue": "XLON"},
    "regulatory": {"jurisdiction": "UK", "regulations": ("UK MAR Art. 12(1)(a)", "FCA SUP 15 Annex 5")},
}

WASH_MINIMAL = """<SmartsAlert>
  <AlertMetadata><AlertID>WT-2</AlertID><AlertType>Wash Trading</AlertType></AlertMetadata>
  <FlaggedTrades>
    <Trade>
      <AccountID>ACC-7</AccountID><TradeDate>2024-06-13</TradeDate><Symbol>PRSM</Symbol>
      <Side>SELL</Side><Quantity>100</Quantity><Price>2.5</Price>
    </Trade>
    <Trade>
      <AccountID>ACC-8</AccountID><TradeDate>2024-06-13</TradeDate><Symbol>PRSM</Symbol>
      <Side>BUY</Side><Quantity>40</Quantity><Price>4</Price>
    </Trade>
  </FlaggedTrades>
  {containers}
</SmartsAlert>"""

WASH_MINIMAL_EXPECTED = {
    "alert_id": "WT-2",
    "alert_type": "Wash Trading",
    "rule_violated": None,
    "generated_at": None,
    "notes": (),
    "listing": {"isin": None, "venue": None, "currency": None},
    "kind": "wash_trade",
    "metadata": {"severity": None, "anomaly_score": None, "confidence_level": None},
    # Without a sequence attribute trades are numbered from 1 in document order; without a
    # TotalValue the total is quantity x price.
    "trades": (
        {"sequence": 1, "account_id": "ACC-7", "account_name": None, "trade_date": date(2024, 6, 13),
         "trade_time": None, "symbol": "PRSM", "side": "SELL", "quantity": 100, "price": 2.5,
         "total_value": 250.0, "counterparty_account": None, "order_id": None},
        {"sequence": 2, "account_id": "ACC-8", "account_name": None, "trade_date": date(2024, 6, 13),
         "trade_time": None, "symbol": "PRSM", "side": "BUY", "quantity": 40, "price": 4.0,
         "total_value": 160.0, "counterparty_account": None, "order_id": None},
    ),
    "indicators": {"time_delta": None, "same_symbol": None, "same_quantity": None, "same_price": None,
                   "offsetting_trades": None, "volume_impact": None, "daily_volume": None},
    "market_context": {},
    "regulatory": {"jurisdiction": None, "regulations": ()},
}

# The optional containers present but empty: each field inside them is optional too.
EMPTY_CONTAINERS = ("<InvestigationNotes/><MarketContext/><RegulatoryFlags/>"
                    "<RegulatoryFlags><ApplicableRegulations/></RegulatoryFlags>")


def test_a_rich_wash_trade_alert_parses_to_exactly_its_fields():
    assert parse(WASH_RICH) == WASH_RICH_EXPECTED


@pytest.mark.parametrize("containers", ["", EMPTY_CONTAINERS + "<WashTradeIndicators/>"],
                         ids=["absent", "empty"])
def test_a_minimal_wash_trade_alert_parses_with_every_optional_field_at_its_default(containers):
    assert parse(WASH_MINIMAL.format(containers=containers)) == WASH_MINIMAL_EXPECTED


def test_an_empty_regulatory_flags_with_regulations_but_no_jurisdiction_keeps_the_regulations():
    xml = WASH_MINIMAL.format(containers="<RegulatoryFlags><ApplicableRegulations><Regulation>MAR Art. 12"
                                         "</Regulation></ApplicableRegulations></RegulatoryFlags>")
    assert parse(xml)["regulatory"] == {"jurisdiction": None, "regulations": ("MAR Art. 12",)}


# --------------------------------------------------------------------------- spoofing

SPOOF_RICH = """<?xml version="1.0" encoding="UTF-8"?>
<SmartsAlert>
  <AlertMetadata>
    <AlertID>SP-1</AlertID>
    <AlertType>Layering</AlertType>
    <RuleViolated>SMARTS-SP-002</RuleViolated>
    <GeneratedTimestamp>2024-07-09T18:10:00+01:00</GeneratedTimestamp>
    <Severity>LOW</Severity>
    <AnomalyScore>41</AnomalyScore>
    <ConfidenceLevel>HIGH</ConfidenceLevel>
  </AlertMetadata>
  <InvestigationNotes><Note>Pattern repeats on three days.</Note></InvestigationNotes>
  <Trader>
    <TraderID>T020</TraderID>
    <Name>Marco Villa</Name>
    <Department>Prop Desk</Department>
  </Trader>
  <OrderActivity>
    <Symbol>flux</Symbol>
    <TradeDate>2024-07-09</TradeDate>
    <ISIN>NL00FLUX0001</ISIN>
    <Order>
      <OrderID>S-1</OrderID>
      <Timestamp>2024-07-09T10:31:03.000</Timestamp>
      <Side>S</Side>
      <Quantity>30000</Quantity>
      <Price>41.20</Price>
      <Action>cancel</Action>
    </Order>
    <Order>
      <OrderID>S-1</OrderID>
      <AccountID>ACC-99</AccountID>
      <Symbol>fluxb</Symbol>
      <Timestamp>2024-07-09T10:31:00.100</Timestamp>
      <Side>SELL</Side>
      <Quantity>30000</Quantity>
      <Price>41.20</Price>
      <Action>EXECUTE</Action>
      <FilledQuantity>1200</FilledQuantity>
    </Order>
  </OrderActivity>
  <MarketContext><Venue>XAMS</Venue></MarketContext>
  <Currency>EUR</Currency>
  <RegulatoryFlags>
    <Jurisdiction>EU</Jurisdiction>
    <ApplicableRegulations><Regulation>MAR Art. 12(1)(a), Annex I A(f)</Regulation></ApplicableRegulations>
  </RegulatoryFlags>
</SmartsAlert>"""

SPOOF_RICH_EXPECTED = {
    "alert_id": "SP-1",
    "alert_type": "Layering",
    "rule_violated": "SMARTS-SP-002",
    "generated_at": datetime.fromisoformat("2024-07-09T18:10:00+01:00"),
    "notes": ("Pattern repeats on three days.",),
    # ISIN from OrderActivity, venue from MarketContext, currency from the root.
    "listing": {"isin": "NL00FLUX0001", "venue": "XAMS", "currency": "EUR"},
    "kind": "spoofing",
    "metadata": {"severity": "LOW", "anomaly_score": 41.0, "confidence_level": "HIGH"},
    "trader": {"trader_id": "T020", "name": "Marco Villa", "department": "Prop Desk"},
    "symbol": "FLUX",
    "trade_date": date(2024, 7, 9),
    # Orders in time order, whatever the document order; an order without its own account or
    # symbol takes the trader's id and the activity's symbol.
    "orders": (
        {"order_id": "S-1", "account_id": "ACC-99", "timestamp": datetime(2024, 7, 9, 10, 31, 0, 100_000),
         "symbol": "FLUXB", "side": "SELL", "quantity": 30_000, "price": 41.20, "action": "EXECUTE",
         "filled_quantity": 1200},
        {"order_id": "S-1", "account_id": "T020", "timestamp": datetime(2024, 7, 9, 10, 31, 3),
         "symbol": "FLUX", "side": "SELL", "quantity": 30_000, "price": 41.20, "action": "CANCEL",
         "filled_quantity": 0},
    ),
    "market_context": {"Venue": "XAMS"},
    "regulatory": {"jurisdiction": "EU", "regulations": ("MAR Art. 12(1)(a), Annex I A(f)",)},
}

SPOOF_MINIMAL = """<SmartsAlert>
  <AlertMetadata><AlertID>SP-2</AlertID><AlertType>Spoofing</AlertType></AlertMetadata>
  <Trader><TraderID>T021</TraderID></Trader>
  <OrderActivity>
    <Symbol>KRNL</Symbol><TradeDate>2024-07-10</TradeDate>
    <Order>
      <OrderID>O-1</OrderID><Timestamp>2024-07-10T09:00:00</Timestamp><Side>BUY</Side>
      <Quantity>500</Quantity><Price>12</Price><Action>PLACE</Action>
    </Order>
  </OrderActivity>
  {containers}
</SmartsAlert>"""

SPOOF_MINIMAL_EXPECTED = {
    "alert_id": "SP-2",
    "alert_type": "Spoofing",
    "rule_violated": None,
    "generated_at": None,
    "notes": (),
    "listing": {"isin": None, "venue": None, "currency": None},
    "kind": "spoofing",
    "metadata": {"severity": None, "anomaly_score": None, "confidence_level": None},
    "trader": {"trader_id": "T021", "name": None, "department": None},
    "symbol": "KRNL",
    "trade_date": date(2024, 7, 10),
    "orders": (
        {"order_id": "O-1", "account_id": "T021", "timestamp": datetime(2024, 7, 10, 9, 0),
         "symbol": "KRNL", "side": "BUY", "quantity": 500, "price": 12.0, "action": "PLACE",
         "filled_quantity": 0},
    ),
    "market_context": {},
    "regulatory": {"jurisdiction": None, "regulations": ()},
}


def test_a_rich_spoofing_alert_parses_to_exactly_its_fields():
    assert parse(SPOOF_RICH) == SPOOF_RICH_EXPECTED


@pytest.mark.parametrize("containers", ["", EMPTY_CONTAINERS], ids=["absent", "empty"])
def test_a_minimal_spoofing_alert_parses_with_every_optional_field_at_its_default(containers):
    assert parse(SPOOF_MINIMAL.format(containers=containers)) == SPOOF_MINIMAL_EXPECTED


# --------------------------------------------------------------------------- insider dealing

INSIDER_RICH = """<?xml version="1.0" encoding="UTF-8"?>
<SMARTSAlert>
  <AlertID>ITA-1</AlertID>
  <AlertType>Pre-Announcement Trading</AlertType>
  <RuleViolated>SMARTS-IT-001</RuleViolated>
  <GeneratedTimestamp>2024-03-16T06:30:00Z</GeneratedTimestamp>
  <InvestigationNotes><Note>Wall-crossed on 2024-03-01.</Note></InvestigationNotes>
  <Trader>
    <TraderID>T001</TraderID>
    <Name>Sarah Chen</Name>
    <Department>M&amp;A Advisory</Department>
  </Trader>
  <SuspiciousActivity>
    <Symbol>acme</Symbol>
    <TradeDate>2024-03-13</TradeDate>
    <Side>BUY</Side>
    <Quantity>40000</Quantity>
    <Price>52.30</Price>
    <TotalValue>2092000.00</TotalValue>
    <AccountID>ACC-5</AccountID>
    <ISIN>US00ACME0001</ISIN>
  </SuspiciousActivity>
  <Instrument><ISIN>IGNORED</ISIN><MIC>XNAS</MIC></Instrument>
  <Currency>USD</Currency>
  <AnomalyIndicators>
    <AnomalyScore>94</AnomalyScore>
    <ConfidenceLevel>HIGH</ConfidenceLevel>
    <TemporalProximity>2 days before announcement</TemporalProximity>
    <EstimatedProfit>1250.5</EstimatedProfit>
  </AnomalyIndicators>
  <RelatedEvent>
    <EventType>M&amp;A Announcement</EventType>
    <EventDate>2024-03-15</EventDate>
    <EventDescription>GlobalPharma agrees to acquire ACME</EventDescription>
  </RelatedEvent>
</SMARTSAlert>"""

INSIDER_RICH_EXPECTED = {
    "alert_id": "ITA-1",
    "alert_type": "Pre-Announcement Trading",
    "rule_violated": "SMARTS-IT-001",
    "generated_at": datetime(2024, 3, 16, 6, 30, tzinfo=UTC),
    "notes": ("Wall-crossed on 2024-03-01.",),
    "listing": {"isin": "US00ACME0001", "venue": "XNAS", "currency": "USD"},
    "kind": "insider_dealing",
    "trader": {"trader_id": "T001", "name": "Sarah Chen", "department": "M&A Advisory"},
    "activity": {"symbol": "ACME", "trade_date": date(2024, 3, 13), "side": "BUY", "quantity": 40_000,
                 "price": 52.30, "total_value": 2_092_000.00, "account_id": "ACC-5"},
    "anomaly": {"anomaly_score": 94.0, "confidence_level": "HIGH",
                "temporal_proximity": "2 days before announcement", "estimated_profit": 1250.5},
    "related_event": {"event_type": "M&A Announcement", "event_date": date(2024, 3, 15),
                      "description": "GlobalPharma agrees to acquire ACME"},
}

INSIDER_MINIMAL = """<SMARTSAlert>
  <AlertID>ITA-2</AlertID>
  <AlertType>Insider Dealing</AlertType>
  <Trader><TraderID>T002</TraderID></Trader>
  <SuspiciousActivity>
    <Symbol>NOVA</Symbol><TradeDate>2024-04-02</TradeDate><Side>SELL</Side>
    <Quantity>300</Quantity><Price>1.5</Price>
  </SuspiciousActivity>
  {containers}
</SMARTSAlert>"""

INSIDER_MINIMAL_EXPECTED = {
    "alert_id": "ITA-2",
    "alert_type": "Insider Dealing",
    "rule_violated": None,
    "generated_at": None,
    "notes": (),
    "listing": {"isin": None, "venue": None, "currency": None},
    "kind": "insider_dealing",
    "trader": {"trader_id": "T002", "name": None, "department": None},
    "activity": {"symbol": "NOVA", "trade_date": date(2024, 4, 2), "side": "SELL", "quantity": 300,
                 "price": 1.5, "total_value": 450.0, "account_id": None},
    "anomaly": {"anomaly_score": None, "confidence_level": None, "temporal_proximity": None,
                "estimated_profit": None},
    "related_event": None,
}


def test_a_rich_insider_alert_parses_to_exactly_its_fields():
    assert parse(INSIDER_RICH) == INSIDER_RICH_EXPECTED


@pytest.mark.parametrize("containers", ["", "<InvestigationNotes/><Instrument/><AnomalyIndicators/>"],
                         ids=["absent", "empty"])
def test_a_minimal_insider_alert_parses_with_every_optional_field_at_its_default(containers):
    assert parse(INSIDER_MINIMAL.format(containers=containers)) == INSIDER_MINIMAL_EXPECTED


def test_a_related_event_with_only_its_required_fields_has_no_description():
    xml = INSIDER_MINIMAL.format(containers="<RelatedEvent><EventType>Results</EventType>"
                                            "<EventDate>2024-04-05</EventDate></RelatedEvent>")
    assert parse(xml)["related_event"] == {"event_type": "Results", "event_date": date(2024, 4, 5),
                                           "description": None}


# --------------------------------------------------------------------------- typed readers

@pytest.mark.parametrize("reader", ["number", "whole", "day", "moment", "clock"])
def test_each_typed_reader_requires_its_element_unless_told_otherwise(reader):
    node = Node(Element("Trade"), "Trade")
    with pytest.raises(AlertError) as caught:
        getattr(node, reader)("Missing")
    assert caught.value.message == "Missing required element Trade/Missing."
    assert getattr(node, reader)("Missing", required=False) is None


def test_a_flag_is_always_optional():
    assert Node(Element("Indicators"), "Indicators").flag("SameSymbol") is None
