"""Minimal cases for the rule tests: an alert, neutral evidence that fires nothing, and overrides."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from agents import insider_dealing, spoofing, wash_trade
from agents.alerts import (
    AlertMetadata,
    AnomalyIndicators,
    FlaggedTrade,
    InsiderDealingAlert,
    OrderEvent,
    RelatedEvent,
    SpoofingAlert,
    SuspiciousActivity,
    Trader,
    WashTradeAlert,
    WashTradeIndicators,
)
from agents.data import TABLES
from agents.evidence import Evidence
from agents.investigation import Case

TRADE_DAY = date(2024, 3, 13)


def insider_alert(*, side="BUY", quantity=10_000, event_date=date(2024, 6, 28), event_type="M&A Announcement",
                  score=50.0, estimated_profit=0.0) -> InsiderDealingAlert:
    return InsiderDealingAlert(
        alert_id="T-1", alert_type="Pre-Announcement Trading", trader=Trader(trader_id="T1", name="Test Trader"),
        activity=SuspiciousActivity(symbol="ACME", trade_date=TRADE_DAY, side=side, quantity=quantity, price=10.0,
                                    total_value=quantity * 10.0),
        anomaly=AnomalyIndicators(anomaly_score=score, estimated_profit=estimated_profit),
        related_event=RelatedEvent(event_type=event_type, event_date=event_date, description="test event")
        if event_date else None)


INSIDER_NEUTRAL = {
    "trader_profile": {"role": "Trader", "department": "Cash", "access_level": "LOW", "restrictions": None,
                       "inside_information_access": False, "officer": False, "index_tracking": False,
                       "agency_execution": False, "market_maker": False, "no_trading_allowed": False,
                       "symbol_restricted": False, "restriction": None, "plan": None, "preclearance": None,
                       "unread": []},
    "trader_history": {"trades": 20, "avg_qty": 3_333.0, "flagged_qty": 10_000, "size_ratio": 3.0, "zscore": 1.0,
                       "symbol_trades": 1, "first_time_symbol": False, "first_time_sector": False, "sectors": ["X"],
                       "symbol_sector": "X", "position_before": 0, "exit_share": None, "same_size_trades": [],
                       "thin_baseline": False, "position_built": 10_000, "run_up_trades": [], "round_trips": [],
                       "window_start": "2023-03-14", "baseline_end": "2024-03-13"},
    "market_data": {"reference_date": "2024-06-28", "reference_close": 10.2, "reference_reason": "test",
                    "move_pct": 2.0, "favourable_move": True, "material_move": False,
                    "profit_or_loss_avoided": 2_000.0, "vix": 15.0, "high_vix": False},
    "news": {"coverage": True, "news_silence": False, "event_nature": "M&A", "disclosed_before": [],
             "direction_before": [], "reported_before": [], "index_changes": [], "set_aside": [],
             "first_after": None},
    "peer_trades": {"peers_same_side": 1, "coverage": True, "same_side_qty": 1_000},
}


def wash_alert(*, buy_price=20.0, sell_price=20.0, buy_time="10:00:00", sell_time="10:00:00.500", score=50.0,
               volume_impact="1.00%", daily_volume=1_000_000) -> WashTradeAlert:
    legs = [("A", "BUY", buy_price, buy_time, "B"), ("B", "SELL", sell_price, sell_time, "A")]
    return WashTradeAlert(
        alert_id="W-1", alert_type="WashTrade", metadata=AlertMetadata(anomaly_score=score),
        trades=tuple(FlaggedTrade(sequence=i, account_id=acc, trade_date=TRADE_DAY, trade_time=t, symbol="ACME",
                                  side=side, quantity=1_000, price=price, total_value=1_000 * price,
                                  counterparty_account=cp)
                     for i, (acc, side, price, t, cp) in enumerate(legs, 1)),
        indicators=WashTradeIndicators(volume_impact=volume_impact, daily_volume=daily_volume))


WASH_NEUTRAL = {
    "account_relationships": {"accounts": ["A", "B"], "missing_accounts": [], "owners": {"A": "X (1)", "B": "Y (2)"},
                              "same_beneficial_owner": False, "linked_pairs": ["A↔B"], "management_links": [],
                              "relationship_types": {"A": "individual", "B": "individual"}, "exempt_book": False,
                              "all_funds": False},
    "trade_pattern": {"offsetting": True, "same_price": False, "min_seconds_apart": 120.0, "flagged_quantity": 2_000},
    "related_accounts_history": {"offsetting_pairs": 2, "days_with_pairs": 2, "dates": ["d1", "d2"],
                                 "two_way": True, "flows": ["A→B", "B→A"],
                                 "net_by_account": {"A": 1_000, "B": -1_000},
                                 "traded_by_account": {"A": 3_000, "B": 3_000},
                                 "round_trip": False, "window_start": "2024-02-12"},
    "volume_impact": {"volume_share_pct": 1.0, "daily_volume": 100_000, "low": 19.5, "high": 20.5},
}


def spoofing_alert(orders: list[tuple], score: float = 50.0) -> SpoofingAlert:
    """``orders``: (order id, seconds after 10:00, side, quantity, price, action, filled)."""
    from datetime import datetime, timedelta

    start = datetime(2024, 3, 13, 10, 0)
    return SpoofingAlert(
        alert_id="S-1", alert_type="Spoofing", metadata=AlertMetadata(anomaly_score=score),
        trader=Trader(trader_id="T1"), symbol="ACME", trade_date=TRADE_DAY,
        orders=tuple(OrderEvent(order_id=oid, account_id="T1", timestamp=start + timedelta(seconds=s), symbol="ACME",
                                side=side, quantity=q, price=p, action=action, filled_quantity=filled)
                     for oid, s, side, q, p, action, filled in orders))


SPOOFING_NEUTRAL = {
    "trader_profile": dict(INSIDER_NEUTRAL["trader_profile"]),
    "order_episode": {"layers": 1, "layer_side": "BUY", "layer_price_levels": 1, "layered_quantity": 1_000,
                      "median_layer_lifetime_s": 30.0, "opposite_executed_quantity": 1_000,
                      "executions_while_resting": 0, "cancel_ratio_pct": 50.0, "layer_to_execution_ratio": 1.0,
                      "placed_by_side": {"BUY": 1_000, "SELL": 5_000}, "filled_by_side": {"BUY": 0, "SELL": 1_000},
                      "one_sided": False, "balanced_two_sided": False, "fills_both_sides": False,
                      "accounts": ["T1"], "all_accounts": ["T1"], "account_lines": (), "other_accounts": {}},
    "order_history": {"orders_placed": 40, "cancellations": 24, "cancel_ratio_pct": 60.0,
                      "order_to_trade_ratio": 2.0, "fast_cancel_episode_days": [], "layering_days": [],
                      "pattern_days": []},
    "volume_impact": {"volume_share_pct": 1.0, "daily_volume": 100_000, "low": 9.0, "high": 11.0},
}

SPECIALISTS = {"insider": (insider_dealing.SPECIALIST, INSIDER_NEUTRAL),
               "wash": (wash_trade.SPECIALIST, WASH_NEUTRAL),
               "spoofing": (spoofing.SPECIALIST, SPOOFING_NEUTRAL)}


def case_of(kind: str, alert, overrides: dict | None = None, failed: tuple[str, ...] = ()) -> Case:
    """A case whose tools found the neutral facts, changed by ``overrides`` (tool -> facts); ``failed`` tools failed."""
    specialist, neutral = SPECIALISTS[kind]
    evidence = {}
    for tool, facts in neutral.items():
        if tool in failed:
            evidence[tool] = Evidence.failed(tool, tool, "test: not available")
        else:
            evidence[tool] = Evidence(tool=tool, title=tool, facts={**facts, **(overrides or {}).get(tool, {})})
    return Case(alert=alert, specialist=specialist, evidence=evidence)


def fired(kind: str, alert, overrides: dict | None = None, failed: tuple[str, ...] = ()) -> dict[str, int]:
    """The rules that fire on the minimal case, with their weights."""
    return {f.rule: f.weight for f in case_of(kind, alert, overrides, failed).findings_from_rules() if f.rule != "GAP"}


def write_data(directory: Path, **tables: list[list]) -> Path:
    """A DATA_DIR with every CSV table present (header only unless rows are given); ``news`` is raw text."""
    news = tables.pop("news", "")
    for name, table in TABLES.items():
        if table.reader != "csv" or (name == "instruments" and name not in tables):
            continue
        path = directory / table.path
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(list(table.columns))
            writer.writerows(tables.get(name, []))
    (directory / TABLES["news"].path).write_text(news)
    return directory
