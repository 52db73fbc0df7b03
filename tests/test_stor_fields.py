"""Each specialist's STOR fields, exactly: what a regulator reads is the report, so every word,
number format and optional part (ISIN, venue, currency, account, names) is pinned on a minimal case,
with the optional parts present and absent."""

from __future__ import annotations

from datetime import time

from agents import insider_dealing, spoofing, wash_trade
from agents.alerts import Listing, Trader
from agents.evidence import Evidence
from tests.rules_support import insider_alert, spoofing_alert, wash_alert

LISTED = Listing(isin="GB00B03MLX29", venue="XLON", currency="GBP")


def _profile(**facts) -> dict[str, Evidence]:
    return {"trader_profile": Evidence(tool="trader_profile", title="Profile", facts=facts)}


def test_insider_stor_names_the_trade_the_account_the_venue_and_the_profile():
    act = insider_alert(quantity=12_345)
    alert = act.model_copy(update={
        "listing": LISTED, "trader": Trader(trader_id="T1", name="Ann Lee", department="Desk"),
        "activity": act.activity.model_copy(update={"account_id": "PA-1", "price": 1234.5,
                                                    "total_value": 15_239_902.5})})
    fields = insider_dealing.stor_fields(alert, _profile(role="Analyst", department="M&A"))
    assert fields == {
        "instrument": "ACME", "isin": "GB00B03MLX29", "venue": "XLON", "currency": "GBP", "accounts": ["PA-1"],
        "suspected_persons": ["Ann Lee (trader ID T1), Analyst, M&A"],
        "transactions": ["2024-03-13 BUY 12,345 ACME @ 1,234.50 GBP (value 15,239,902.50 GBP) on XLON, account PA-1"],
    }


def test_insider_stor_without_listing_account_name_or_profile():
    alert = insider_alert(quantity=1_000).model_copy(update={"trader": Trader(trader_id="T9", department="Rates")})
    failed = {"trader_profile": Evidence.failed("trader_profile", "Profile", "down")}
    fields = insider_dealing.stor_fields(alert, failed)
    assert fields == {
        "instrument": "ACME", "isin": None, "venue": None, "currency": None, "accounts": [],
        "suspected_persons": ["Name not given (trader ID T9), Rates"],
        "transactions": ["2024-03-13 BUY 1,000 ACME @ 10.00 (value 10,000.00)"],
    }
    no_department = alert.model_copy(update={"trader": Trader(trader_id="T9")})
    assert insider_dealing.stor_fields(no_department, {})["suspected_persons"] == ["Name not given (trader ID T9)"]


def test_wash_stor_lists_each_account_once_with_its_name_and_owner_and_every_leg():
    alert = wash_alert(buy_price=1234.5)
    first, second = alert.trades
    alert = alert.model_copy(update={"listing": LISTED, "trades": (
        first.model_copy(update={"account_name": "Alpha Fund", "order_id": "O-1", "trade_time": time(10, 0, 0)}),
        second,
        first.model_copy(update={"sequence": 3, "account_name": "Alpha Fund", "counterparty_account": None,
                                 "trade_time": None}))})
    rel = {"account_relationships": Evidence(tool="account_relationships", title="Accounts",
                                             facts={"owners": {"A": "Owner X (1)"}})}
    fields = wash_trade.stor_fields(alert, rel)
    assert fields == {
        "instrument": "ACME", "isin": "GB00B03MLX29", "venue": "XLON", "currency": "GBP", "accounts": ["A", "B"],
        "suspected_persons": ["Account A (Alpha Fund), beneficial owner Owner X (1)", "Account B"],
        "transactions": [
            "2024-03-13 10:00:00.000 A BUY 1,000 ACME @ 1,234.50 GBP order O-1 vs B",
            "2024-03-13 10:00:00.500 B SELL 1,000 ACME @ 20.00 GBP order n/a vs A",
            "2024-03-13 A BUY 1,000 ACME @ 1,234.50 GBP order n/a vs n/a",
        ],
    }


def test_wash_stor_leaves_owners_out_when_the_relationships_tool_failed():
    alert = wash_alert()
    failed = {"account_relationships": Evidence.failed("account_relationships", "Accounts", "down")}
    failed["account_relationships"].facts["owners"] = {"A": "should not be read"}
    fields = wash_trade.stor_fields(alert, failed)
    assert fields["suspected_persons"] == ["Account A", "Account B"]
    assert (fields["isin"], fields["venue"], fields["currency"]) == (None, None, None)
    assert fields["transactions"][0] == "2024-03-13 10:00:00.000 A BUY 1,000 ACME @ 20.00 order n/a vs B"
    assert wash_trade.stor_fields(alert, {})["suspected_persons"] == ["Account A", "Account B"]


def test_spoofing_stor_lists_each_order_event_and_each_account_once():
    alert = spoofing_alert([("O1", 0, "BUY", 5_000, 1234.5, "PLACE", 0),
                            ("O1", 1.25, "BUY", 5_000, 1234.5, "CANCEL", 0),
                            ("O2", 2, "SELL", 100, 9.0, "EXECUTE", 100)])
    orders = (*alert.orders[:2], alert.orders[2].model_copy(update={"account_id": "T2"}))
    alert = alert.model_copy(update={"listing": LISTED, "orders": orders,
                                     "trader": Trader(trader_id="T1", name="Bo", department="Futures")})
    fields = spoofing.stor_fields(alert, {})
    assert fields == {
        "instrument": "ACME", "isin": "GB00B03MLX29", "venue": "XLON", "currency": "GBP", "accounts": ["T1", "T2"],
        "suspected_persons": ["Bo (trader ID T1), Futures"],
        "transactions": [
            "2024-03-13 10:00:00.000 PLACE O1 BUY 5,000 @ 1,234.50 GBP",
            "2024-03-13 10:00:01.250 CANCEL O1 BUY 5,000 @ 1,234.50 GBP",
            "2024-03-13 10:00:02.000 EXECUTE O2 SELL 100 @ 9.00 GBP",
        ],
    }


def test_spoofing_stor_without_listing_name_or_department():
    alert = spoofing_alert([("O1", 0, "BUY", 5_000, 10.0, "PLACE", 0)])
    fields = spoofing.stor_fields(alert, {})
    assert fields["suspected_persons"] == ["Name not given (trader ID T1)"]
    assert fields["transactions"] == ["2024-03-13 10:00:00.000 PLACE O1 BUY 5,000 @ 10.00"]
    assert (fields["isin"], fields["venue"], fields["currency"], fields["accounts"]) == (None, None, None, ["T1"])
