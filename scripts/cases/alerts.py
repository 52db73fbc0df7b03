"""Alert XML for the case library, in the shapes SMARTS tooling exports (see shared/domain.md)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from xml.sax.saxutils import escape


def _notes(notes) -> str:
    if not notes:
        return ""
    return ("\n  <InvestigationNotes>\n" + "".join(f"    <Note>{escape(n)}</Note>\n" for n in notes)
            + "  </InvestigationNotes>")


def insider(alert_id: str, trader: tuple[str, str, str], symbol: str, trade_day: date, side: str, qty: int,
            price: float, event: tuple[str, date, str] | None, *, score: int, estimated_profit: float = 0,
            notes=()) -> str:
    tid, name, dept = trader
    event_xml = ""
    days = None
    if event:
        etype, edate, desc = event
        days = (edate - trade_day).days
        event_xml = f"""
  <RelatedEvent>
    <EventType>{escape(etype)}</EventType>
    <EventDate>{edate.isoformat()}</EventDate>
    <EventDescription>{escape(desc)}</EventDescription>
  </RelatedEvent>"""
    generated = (event[1] if event else trade_day) + timedelta(days=1)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<SMARTSAlert>
  <AlertID>{alert_id}</AlertID>
  <AlertType>Pre-Announcement Trading</AlertType>
  <RuleViolated>SMARTS-IT-001</RuleViolated>
  <GeneratedTimestamp>{generated.isoformat()}T06:30:00Z</GeneratedTimestamp>
  <Trader>
    <TraderID>{tid}</TraderID>
    <Name>{escape(name)}</Name>
    <Department>{escape(dept)}</Department>
  </Trader>
  <SuspiciousActivity>
    <Symbol>{symbol}</Symbol>
    <TradeDate>{trade_day.isoformat()}</TradeDate>
    <Side>{side}</Side>
    <Quantity>{qty}</Quantity>
    <Price>{price:.2f}</Price>
    <TotalValue>{qty * price:.2f}</TotalValue>
  </SuspiciousActivity>
  <AnomalyIndicators>
    <AnomalyScore>{score}</AnomalyScore>
    <ConfidenceLevel>{"HIGH" if score >= 80 else "MEDIUM"}</ConfidenceLevel>
    <TemporalProximity>{f"{days} days before announcement" if days is not None else "n/a"}</TemporalProximity>
    <EstimatedProfit>{estimated_profit:.0f}</EstimatedProfit>
  </AnomalyIndicators>{event_xml}{_notes(notes)}
</SMARTSAlert>
"""


def wash(alert_id: str, symbol: str, trade_day: date, trades: list[tuple], *, daily_volume: int, score: int,
         severity: str = "HIGH", jurisdiction: str = "UK", notes=()) -> str:
    """``trades``: (account, account name, time, side, qty, price, counterparty, order id)."""
    rows = ""
    for i, (acc, name, clock, side, qty, price, cpty, oid) in enumerate(trades, 1):
        rows += f"""    <Trade sequence="{i}">
      <AccountID>{acc}</AccountID>
      <AccountName>{escape(name)}</AccountName>
      <TradeDate>{trade_day.isoformat()}</TradeDate>
      <TradeTime>{clock}</TradeTime>
      <Symbol>{symbol}</Symbol>
      <Side>{side}</Side>
      <Quantity>{qty}</Quantity>
      <Price>{price:.2f}</Price>
      <TotalValue>{qty * price:.2f}</TotalValue>
      <CounterpartyAccount>{cpty}</CounterpartyAccount>
      <OrderID>{oid}</OrderID>
    </Trade>
"""
    t0 = datetime.fromisoformat(f"{trade_day.isoformat()}T{trades[0][2]}")
    t1 = datetime.fromisoformat(f"{trade_day.isoformat()}T{trades[1][2]}")
    delta_ms = abs((t1 - t0).total_seconds()) * 1000
    qty = max(sum(t[4] for t in trades if t[3] == s) for s in ("BUY", "SELL"))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<SmartsAlert>
  <AlertMetadata>
    <AlertID>{alert_id}</AlertID>
    <AlertType>WashTrade</AlertType>
    <RuleViolated>SMARTS-WT-003</RuleViolated>
    <GeneratedTimestamp>{trade_day.isoformat()}T18:05:00Z</GeneratedTimestamp>
    <Severity>{severity}</Severity>
    <AnomalyScore>{score}</AnomalyScore>
    <ConfidenceLevel>{"HIGH" if score >= 80 else "MEDIUM"}</ConfidenceLevel>
  </AlertMetadata>
  <FlaggedTrades>
{rows}  </FlaggedTrades>
  <WashTradeIndicators>
    <TimeDelta>{delta_ms:.0f}ms</TimeDelta>
    <SameSymbol>true</SameSymbol>
    <SameQuantity>{str(trades[0][4] == trades[1][4]).lower()}</SameQuantity>
    <SamePrice>{str(trades[0][5] == trades[1][5]).lower()}</SamePrice>
    <OffsettingTrades>true</OffsettingTrades>
    <VolumeImpact>{qty / daily_volume * 100:.2f}%</VolumeImpact>
    <DailyVolume>{daily_volume}</DailyVolume>
  </WashTradeIndicators>
  <MarketContext>
    <MarketPhase>Continuous trading</MarketPhase>
  </MarketContext>
  <RegulatoryFlags>
    <Jurisdiction>{jurisdiction}</Jurisdiction>
    <ApplicableRegulations>
      <Regulation>MAR Art. 12(1)(a)</Regulation>
    </ApplicableRegulations>
  </RegulatoryFlags>{_notes(notes)}
</SmartsAlert>
"""


def spoofing(alert_id: str, trader: tuple[str, str, str], symbol: str, trade_day: date, orders: list[tuple], *,
             score: int, alert_type: str = "Spoofing") -> str:
    """``orders``: (order id, time, side, qty, price, action, filled quantity)."""
    tid, name, dept = trader
    rows = ""
    for oid, clock, side, qty, price, action, filled in orders:
        rows += f"""    <Order>
      <OrderID>{oid}</OrderID>
      <Timestamp>{trade_day.isoformat()}T{clock}</Timestamp>
      <Side>{side}</Side>
      <Quantity>{qty}</Quantity>
      <Price>{price:.2f}</Price>
      <Action>{action}</Action>""" + (f"\n      <FilledQuantity>{filled}</FilledQuantity>" if filled else "") + """
    </Order>
"""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<SmartsAlert>
  <AlertMetadata>
    <AlertID>{alert_id}</AlertID>
    <AlertType>{alert_type}</AlertType>
    <RuleViolated>SMARTS-SP-002</RuleViolated>
    <GeneratedTimestamp>{trade_day.isoformat()}T18:10:00Z</GeneratedTimestamp>
    <Severity>{"HIGH" if score >= 80 else "MEDIUM"}</Severity>
    <AnomalyScore>{score}</AnomalyScore>
    <ConfidenceLevel>{"HIGH" if score >= 80 else "MEDIUM"}</ConfidenceLevel>
  </AlertMetadata>
  <Trader>
    <TraderID>{tid}</TraderID>
    <Name>{escape(name)}</Name>
    <Department>{escape(dept)}</Department>
  </Trader>
  <OrderActivity>
    <Symbol>{symbol}</Symbol>
    <TradeDate>{trade_day.isoformat()}</TradeDate>
{rows}  </OrderActivity>
  <MarketContext>
    <MarketPhase>Continuous trading</MarketPhase>
  </MarketContext>
  <RegulatoryFlags>
    <Jurisdiction>EU</Jurisdiction>
    <ApplicableRegulations>
      <Regulation>MAR Art. 12(1)(a), Annex I A(f)</Regulation>
    </ApplicableRegulations>
  </RegulatoryFlags>
</SmartsAlert>
"""
