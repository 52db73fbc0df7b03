"""The alert parser field by field (agents/alerts/parsing.py, limits.py): how each value is read,
what is optional and what it then defaults to, and the exact message for each way a field can be
wrong — at each limit of the README's "Alerts" table, just under and just over. test_alerts.py
covers the shapes and the hostile files; these pin the details an analyst sees in a refusal."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from agents.alerts import AlertError, parse_alert
from agents.alerts.limits import MAX_DEPTH, MAX_ELEMENTS
from tests.conftest import SAMPLES

INSIDER = (SAMPLES / "insider_genuine_acme.xml").read_text()
WASH = (SAMPLES / "wash_genuine_gldx.xml").read_text()
SPOOF = (SAMPLES / "spoofing_genuine_flux.xml").read_text()


def parse(text: str):
    return parse_alert(text.encode())


def refused(text: str | bytes) -> str:
    with pytest.raises(AlertError) as caught:
        parse_alert(text.encode() if isinstance(text, str) else text)
    assert caught.value.status == 422
    return caught.value.message


def insider(**activity: str) -> str:
    """The ACME insider alert with its SuspiciousActivity fields replaced (or added)."""
    text = INSIDER
    for tag, value in activity.items():
        if f"<{tag}>" in text:
            start, end = text.index(f"<{tag}>"), text.index(f"</{tag}>") + len(tag) + 3
            text = text[:start] + f"<{tag}>{value}</{tag}>" + text[end:]
        else:
            text = text.replace("</SuspiciousActivity>", f"<{tag}>{value}</{tag}></SuspiciousActivity>")
    return text


def without(text: str, tag: str) -> str:
    start, end = text.index(f"<{tag}>"), text.index(f"</{tag}>") + len(tag) + 3
    return text[:start] + text[end:]


# ----------------------------------------------------------------------------- encoding

def test_a_file_not_in_utf8_names_the_byte_and_its_offset():
    raw = INSIDER.encode().replace(b"Sarah", b"S\xe9rah")
    offset = raw.index(b"\xe9")
    assert refused(raw) == (f"The file is not UTF-8 text (invalid byte 0xe9 at offset {offset}). "
                            "Export the alert as UTF-8 XML.")


@pytest.mark.parametrize("declared", ["UTF-8", "utf-8", "utf8", "UTF_8", "us-ascii", "US-ASCII"])
def test_utf8_and_ascii_declarations_are_accepted(declared):
    assert parse(INSIDER.replace('encoding="UTF-8"', f"encoding='{declared}'")).alert_id == "ITA-2024-0313-001"


def test_another_declared_encoding_is_refused_by_name():
    assert refused(INSIDER.replace('encoding="UTF-8"', 'encoding="windows-1252"')) == \
        "The XML declares encoding 'windows-1252'; only UTF-8 alerts are accepted."


def test_xml_that_is_not_well_formed_says_where():
    assert refused("<SMARTSAlert><AlertID>1</SMARTSAlert>").startswith(
        "The file is not well-formed XML: mismatched tag: line 1, column")


def test_an_unsupported_root_lists_the_two_shapes():
    assert refused("<Alert/>") == ("Unsupported root element <Alert>. Expected <SMARTSAlert> (insider dealing) or "
                                   "<SmartsAlert> (wash trade, spoofing).")


# ----------------------------------------------------------------------------- size limits

def nested(levels: int) -> str:
    """An insider alert with an unknown extra element nested so the document is ``levels`` deep."""
    inner = "<X>1</X>"
    for _ in range(levels - 2):
        inner = f"<X>{inner}</X>"
    return INSIDER.replace("</Trader>", f"</Trader>{inner}")


def test_the_document_may_nest_ten_levels_and_not_eleven():
    assert parse(nested(MAX_DEPTH)).alert_id == "ITA-2024-0313-001"
    assert refused(nested(MAX_DEPTH + 1)) == "The alert nests elements more than 10 levels deep (SMARTS exports: four)."


def test_depth_counts_back_down_as_each_element_closes():
    """Eleven levels below an element that already closed a child of its own are still eleven."""
    def below_a_closed_child(levels: int) -> str:
        chain = "<X>1</X>"
        for _ in range(levels - 3):
            chain = f"<X>{chain}</X>"
        return INSIDER.replace("</Trader>", f"</Trader><Y><Z/>{chain}</Y>")

    assert parse(below_a_closed_child(MAX_DEPTH)).alert_id == "ITA-2024-0313-001"
    assert refused(below_a_closed_child(MAX_DEPTH + 1)) == (
        "The alert nests elements more than 10 levels deep (SMARTS exports: four).")


def test_the_document_may_have_ten_thousand_elements_and_not_more():
    count = INSIDER.count("</")  # elements in the sample
    filler = "<X/>" * (MAX_ELEMENTS - count)
    assert parse(INSIDER.replace("</Trader>", f"</Trader>{filler}")).alert_id == "ITA-2024-0313-001"
    assert refused(INSIDER.replace("</Trader>", f"</Trader>{filler}<X/>")) == \
        "The alert has more than 10,000 elements, the limit for one alert."


@pytest.mark.parametrize(("tag", "limit", "where"), [
    ("AlertID", 200, "SMARTSAlert/AlertID"),
    ("RuleViolated", 500, "SMARTSAlert/RuleViolated"),
    ("EventDescription", 2000, "SMARTSAlert/RelatedEvent/EventDescription"),
])
def test_each_field_may_be_as_long_as_its_limit_and_not_longer(tag, limit, where):
    def with_value(value: str) -> str:
        start = INSIDER.index(f"<{tag}>") + len(tag) + 2
        return INSIDER[:start] + value + INSIDER[INSIDER.index(f"</{tag}>"):]

    assert parse(with_value("A" * limit))
    assert parse(with_value(" " + "A" * limit + "\n"))  # surrounding whitespace does not count
    assert refused(with_value("A" * (limit + 1))) == \
        f"Element {where} is {limit + 1:,} characters long; the limit is {limit:,}."


def test_a_long_note_is_measured_by_the_notes_limit_and_names_its_place():
    notes = "<InvestigationNotes><Note>first</Note><Note>{}</Note></InvestigationNotes>"
    assert parse(INSIDER.replace("</Trader>", "</Trader>" + notes.format("n" * 2000))).notes == ("first", "n" * 2000)
    assert refused(INSIDER.replace("</Trader>", "</Trader>" + notes.format("n" * 2001))) == \
        "Element SMARTSAlert/InvestigationNotes/Note[2] is 2,001 characters long; the limit is 2,000."


def test_empty_notes_are_left_out():
    notes = "<InvestigationNotes><Note> </Note><Note>kept</Note><Note/></InvestigationNotes>"
    assert parse(INSIDER.replace("</Trader>", "</Trader>" + notes)).notes == ("kept",)


def test_a_repeated_element_may_come_as_often_as_its_limit_and_not_more():
    trade = WASH[WASH.index("<Trade sequence=\"1\">"):WASH.index("</Trade>") + len("</Trade>")]
    body = WASH[:WASH.index("<Trade ")] + "{}" + WASH[WASH.index("</FlaggedTrades>"):]
    assert len(parse(body.format(trade * 500)).trades) == 500
    assert refused(body.format(trade * 501)) == \
        "SmartsAlert/FlaggedTrades has 501 <Trade> elements; the limit is 500."


def test_market_context_may_have_fifty_fields_and_not_more():
    def context(n: int) -> str:
        fields = "".join(f"<F{i}>v{i}</F{i}>" for i in range(n))
        return WASH.replace("<MarketPhase>", fields + "<Group><Inner>x</Inner></Group><MarketPhase>")

    parsed = parse(context(48))
    assert parsed.market_context["F47"] == "v47" and parsed.market_context["Venue"] == "XLON"
    assert "Group" not in parsed.market_context and "Inner" not in parsed.market_context  # fields are leaves
    assert refused(context(49)) == "SmartsAlert/MarketContext has 51 fields; the limit is 50."


# ----------------------------------------------------------------------------- values

@pytest.mark.parametrize(("quantity", "read"), [("40000", 40_000), ("40,000", 40_000), ("40000.0", 40_000),
                                                 (" 40000 ", 40_000), ("4e4", 40_000)])
def test_whole_numbers(quantity, read):
    assert parse(insider(Quantity=quantity)).activity.quantity == read


@pytest.mark.parametrize("quantity", ["40000.5", "nan", "inf", "-inf", "1e999", "forty"])
def test_not_whole_numbers_are_refused_with_what_was_sent(quantity):
    assert refused(insider(Quantity=quantity)) == \
        f"Element SMARTSAlert/SuspiciousActivity/Quantity must be a whole number, got {quantity!r}."


@pytest.mark.parametrize("price", ["nan", "NaN", "inf", "Infinity", "1e400", "fifty"])
def test_prices_must_be_finite_numbers(price):
    assert refused(insider(Price=price)) == \
        f"Element SMARTSAlert/SuspiciousActivity/Price must be a number, got {price!r}."


def test_a_price_may_have_thousands_separators():
    assert parse(insider(Price="1,052.30")).activity.price == pytest.approx(1052.30)


def test_the_total_is_quantity_times_price_unless_the_alert_gives_it():
    assert parse(without(INSIDER, "TotalValue")).activity.total_value == pytest.approx(40_000 * 52.30)
    assert parse(insider(TotalValue="1.00")).activity.total_value == 1.0


@pytest.mark.parametrize(("side", "read"), [("BUY", "BUY"), ("buy", "BUY"), ("B", "BUY"), ("SELL", "SELL"),
                                            ("s", "SELL"), ("Short Sell", "SELL"), ("SS", "SELL")])
def test_sides_and_their_aliases(side, read):
    assert parse(insider(Side=side)).activity.side == read


@pytest.mark.parametrize("side", ["HOLD", "BS", "SHORT"])
def test_other_sides_are_refused(side):
    assert refused(insider(Side=side)) == \
        f"Element SMARTSAlert/SuspiciousActivity/Side must be BUY or SELL, got {side!r}."


def test_a_trade_date_may_carry_a_time_and_symbols_are_upper_case():
    alert = parse(insider(TradeDate="2024-03-13T09:30:00", Symbol="acme", AccountID="A-9"))
    assert alert.activity.trade_date == date(2024, 3, 13) and alert.activity.symbol == "ACME"
    assert alert.activity.account_id == "A-9"


def test_timestamps_and_times_are_iso_8601():
    alert = parse(INSIDER)
    assert alert.generated_at == datetime(2024, 3, 16, 6, 30, tzinfo=UTC)
    assert refused(INSIDER.replace("2024-03-16T06:30:00Z", "16 March")) == \
        "Element SMARTSAlert/GeneratedTimestamp must be an ISO 8601 timestamp, got '16 March'."
    assert refused(WASH.replace("10:15:00.120", "10h15")) == \
        "Element SmartsAlert/FlaggedTrades/Trade[1]/TradeTime must be a time (HH:MM:SS[.fff]), got '10h15'."


def test_optional_parts_of_an_insider_alert_may_be_missing_or_empty():
    alert = parse(without(without(without(INSIDER, "AnomalyIndicators"), "RelatedEvent"), "RuleViolated")
                  .replace("<Name>Sarah Chen</Name>", "<Name></Name>"))
    assert alert.anomaly.anomaly_score is None and alert.related_event is None and alert.rule_violated is None
    assert alert.trader.name is None and alert.trader.department == "M&A Advisory"
    assert alert.generated_at == datetime(2024, 3, 16, 6, 30, tzinfo=UTC)


def test_the_insider_alerts_indicators_and_event_are_read():
    alert = parse(INSIDER)
    assert (alert.anomaly.confidence_level, alert.anomaly.temporal_proximity, alert.anomaly.estimated_profit) == \
        ("HIGH", "2 days before announcement", 0)
    assert alert.related_event.event_type == "M&A Announcement"
    assert alert.rule_violated == "SMARTS-IT-001" and alert.alert_type == "Pre-Announcement Trading"


def test_the_listing_is_read_from_the_trade_then_the_instrument_then_the_alert():
    alert = parse(insider(ISIN="GB00ACME0001").replace(
        "</Trader>", "</Trader><Instrument><ISIN>IGNORED</ISIN><MIC>XLON</MIC></Instrument><Currency>GBP</Currency>"))
    assert (alert.listing.isin, alert.listing.venue, alert.listing.currency) == ("GB00ACME0001", "XLON", "GBP")
    assert parse(INSIDER).listing.isin is None


@pytest.mark.parametrize(("alert_type", "kind"), [("Insider Trading", "insider_dealing"),
                                                  ("trading ahead of announcement", "insider_dealing"),
                                                  ("INSIDER-DEALING", "insider_dealing")])
def test_insider_alert_types_are_recognised_whatever_their_punctuation(alert_type, kind):
    assert parse(INSIDER.replace("Pre-Announcement Trading", alert_type)).kind == kind


def test_an_alert_type_in_the_wrong_shape_lists_the_types_that_shape_takes():
    assert refused(WASH.replace("<AlertType>WashTrade", "<AlertType>Insider Dealing")) == (
        "Alert type 'Insider Dealing' is an insider dealing alert, which does not use the <SmartsAlert> shape "
        "(expected types: layering, spoofing, spoofinglayering, washtrade, washtrading).")
    assert refused(WASH.replace("<AlertType>WashTrade", "<AlertType>Ramping")) == (
        "Unknown alert type 'Ramping' in SmartsAlert/AlertMetadata/AlertType. This analyzer investigates insider "
        "dealing (e.g. 'Pre-Announcement Trading'), wash trades ('WashTrade') and spoofing ('Spoofing', "
        "'Layering').")
    assert refused(INSIDER.replace("Pre-Announcement Trading", "Ramping")).startswith(
        "Unknown alert type 'Ramping' in SMARTSAlert/AlertType. ")  # the insider shape names its own path


# ----------------------------------------------------------------------------- wash trades

def test_wash_metadata_indicators_and_regulations_are_read():
    alert = parse(WASH)
    assert (alert.metadata.severity, alert.metadata.anomaly_score, alert.metadata.confidence_level) == \
        ("HIGH", 92, "HIGH")
    ind = alert.indicators
    assert (ind.time_delta, ind.same_symbol, ind.same_price, ind.offsetting_trades, ind.volume_impact) == \
        ("330ms", True, True, True, "6.25%")
    assert alert.regulatory.jurisdiction == "UK" and alert.listing.venue == "XLON"
    first = alert.trades[0]
    assert (first.account_name, first.counterparty_account, first.order_id, first.total_value) == \
        ("John Smith", "ACC-1002", "ORD-5006", 460000.0)


@pytest.mark.parametrize(("value", "read"), [("true", True), ("Yes", True), ("y", True), ("1", True),
                                             ("false", False), ("NO", False), ("n", False), ("0", False)])
def test_indicator_flags(value, read):
    assert parse(WASH.replace("<SameQuantity>true", f"<SameQuantity>{value}")).indicators.same_quantity is read


def test_an_indicator_flag_that_is_not_a_yes_or_no_is_refused():
    assert refused(WASH.replace("<SameQuantity>true", "<SameQuantity>maybe")) == \
        "Element SmartsAlert/WashTradeIndicators/SameQuantity must be true or false, got 'maybe'."


def test_a_wash_alert_without_optional_parts_has_their_defaults():
    alert = parse(without(without(without(WASH, "WashTradeIndicators"), "RegulatoryFlags"), "MarketContext"))
    assert alert.indicators.same_quantity is None and alert.indicators.daily_volume is None
    assert alert.regulatory.jurisdiction is None and alert.regulatory.regulations == ()
    assert alert.market_context == {} and alert.listing.venue is None
    no_list = parse(without(WASH, "ApplicableRegulations"))
    assert no_list.regulatory.jurisdiction == "UK" and no_list.regulatory.regulations == ()


@pytest.mark.parametrize(("first", "second", "order"), [
    ('sequence="2"', 'sequence="1"', ["ACC-1002", "ACC-1001"]),      # in their sequence, not the file's order
    ('sequence="x"', 'sequence=" 1"', ["ACC-1001", "ACC-1002"]),     # unreadable: its place in the file
    ('sequence="9999999999"', 'sequence="3"', ["ACC-1001", "ACC-1002"]),  # ten digits: its place (1)
    ('sequence="999999999"', 'sequence="3"', ["ACC-1002", "ACC-1001"]),   # nine digits are read
])
def test_trades_are_ordered_by_their_sequence_attribute(first, second, order):
    text = WASH.replace('sequence="1"', "{first}").replace('sequence="2"', "{second}")
    text = text.replace("{first}", first).replace("{second}", second)
    assert [t.account_id for t in parse(text).trades] == order


def test_a_wash_alert_without_trades_is_refused():
    empty = WASH[:WASH.index("<Trade ")] + WASH[WASH.index("</FlaggedTrades>"):]
    assert refused(empty) == "SmartsAlert/FlaggedTrades contains no <Trade> elements."


# ----------------------------------------------------------------------------- spoofing

def order(action: str, **fields: str) -> str:
    extra = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    return (f"<Order><OrderID>Z-1</OrderID><Timestamp>2024-07-09T09:00:00</Timestamp><Side>BUY</Side>"
            f"<Quantity>10</Quantity><Price>1.5</Price><Action>{action}</Action>{extra}</Order>")


def spoof_with(*orders: str) -> str:
    return SPOOF.replace("<TradeDate>2024-07-09</TradeDate>", "<TradeDate>2024-07-09</TradeDate>" + "".join(orders), 1)


def test_an_orders_account_symbol_and_fill_default_to_the_alerts():
    alert = parse(spoof_with(order("place")))
    first = alert.orders[0]  # the earliest
    assert (first.order_id, first.account_id, first.symbol, first.action, first.filled_quantity) == \
        ("Z-1", "T020", "FLUX", "PLACE", 0)
    assert alert.trader.name == "Marco Villa" and alert.symbol == "FLUX" and alert.trade_date == date(2024, 7, 9)
    given = parse(spoof_with(order("EXECUTE", AccountID="ACC-7", Symbol="flx2", FilledQuantity="4"))).orders[0]
    assert (given.account_id, given.symbol, given.filled_quantity) == ("ACC-7", "FLX2", 4)


def test_an_unknown_order_action_is_refused():
    assert refused(spoof_with(order("Hold"))) == \
        "Element SmartsAlert/OrderActivity/Order[1]/Action must be PLACE, AMEND, CANCEL or EXECUTE, got 'HOLD'."


def test_a_spoofing_alert_without_orders_is_refused():
    start, end = SPOOF.index("<Order>"), SPOOF.rindex("</Order>") + len("</Order>")
    assert refused(SPOOF[:start] + SPOOF[end:]) == "SmartsAlert/OrderActivity contains no <Order> elements."


def test_spoofing_orders_are_in_time_order_whatever_the_files_order():
    late, early = order("PLACE").replace("09:00", "11:00"), order("CANCEL").replace("Z-1", "Z-0")
    alert = parse(spoof_with(late, early))
    assert [o.timestamp for o in alert.orders] == sorted(o.timestamp for o in alert.orders)
    assert alert.orders[0].order_id == "Z-0" and alert.orders[0].timestamp.time() == time(9, 0)


# ----------------------------------------------------------------------------- the file itself

def test_the_refusals_of_the_file_itself_say_exactly_why():
    with pytest.raises(AlertError) as empty:
        parse_alert(b"  \n")
    assert (empty.value.status, empty.value.message) == (400, "The file is empty.")
    assert refused('<?xml version="1.0"?>\n<!DOCTYPE SMARTSAlert [<!ENTITY a "b">]>\n<SMARTSAlert/>') == (
        "The file contains a DOCTYPE, entity declaration or external reference. These are refused to protect "
        "against XXE and entity-expansion attacks; SMARTS exports do not need them.")


def test_a_byte_order_mark_does_not_hide_a_declared_encoding_other_than_utf8():
    latin = INSIDER.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    assert latin != INSIDER
    assert refused(b"\xef\xbb\xbf" + latin.encode()) == (
        "The XML declares encoding 'ISO-8859-1'; only UTF-8 alerts are accepted.")


def test_a_trade_without_a_side_is_refused():
    without = WASH.replace("<Side>BUY</Side>", "", 1)
    assert refused(without) == "Missing required element SmartsAlert/FlaggedTrades/Trade[1]/Side."
