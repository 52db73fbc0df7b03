"""STOR drafts: one way of writing times, and the instrument's ISIN, venue and currency and the
accounts wherever the alert names them."""

from __future__ import annotations

import re

import pytest

from agents.alerts import moment_label, parse_alert
from tests.conftest import SAMPLES, Browser
from tests.test_agents import run
from tests.test_e2e import read_stream, start_analysis

STAMP = re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\b")
OTHER_TIMES = re.compile(r"\d{2}:\d{2}:\d{2}(?!\.\d{3}\b)|\d{2}:\d{2}:\d{2}\.\d{4,}|\d{4}-\d{2}-\d{2}T\d")


def _stor(xml: bytes):
    _events, outcome = run(parse_alert(xml))
    assert outcome.decision.stor is not None, outcome.decision.summary
    return outcome.decision.stor


@pytest.mark.parametrize("name", ["wash_genuine_gldx.xml", "spoofing_genuine_flux.xml"])
def test_every_time_in_a_stor_is_written_one_way(name):
    stor = _stor((SAMPLES / name).read_bytes())
    text = " ".join([*stor.transactions, stor.description])
    assert STAMP.search(" ".join(stor.transactions))
    assert all(STAMP.search(t) for t in stor.transactions)
    assert not OTHER_TIMES.findall(STAMP.sub("", text)), OTHER_TIMES.findall(STAMP.sub("", text))


def test_moment_label_always_has_milliseconds():
    from datetime import date, datetime, time

    assert moment_label(date(2024, 6, 12), time(10, 15)) == "2024-06-12 10:15:00.000"
    assert moment_label(date(2024, 6, 12), time(10, 15, 0, 450000)) == "2024-06-12 10:15:00.450"
    assert moment_label(datetime(2024, 7, 9, 10, 31, 0, 100000)) == "2024-07-09 10:31:00.100"
    assert moment_label(date(2024, 3, 13)) == "2024-03-13"


def test_listing_and_account_from_the_alert_reach_the_stor():
    xml = (SAMPLES / "insider_genuine_acme.xml").read_bytes().replace(
        b"<Symbol>ACME</Symbol>", b"<Symbol>ACME</Symbol><ISIN>US0046031087</ISIN><Venue>XNAS</Venue>"
                                  b"<Currency>USD</Currency><AccountID>PA-7781</AccountID>")
    alert = parse_alert(xml)
    assert (alert.listing.isin, alert.listing.venue, alert.listing.currency) == ("US0046031087", "XNAS", "USD")
    assert alert.activity.account_id == "PA-7781"
    stor = _stor(xml)
    assert (stor.isin, stor.venue, stor.currency, stor.accounts) == ("US0046031087", "XNAS", "USD", ["PA-7781"])
    assert stor.transactions == ["2024-03-13 BUY 40,000 ACME @ 52.30 USD (value 2,092,000.00 USD) on XNAS, "
                                 "account PA-7781"]


def test_wash_and_spoofing_alerts_take_the_listing_from_market_context_or_the_order_activity():
    wash = parse_alert((SAMPLES / "wash_genuine_gldx.xml").read_bytes().replace(
        b"<Venue>XLON</Venue>", b"<Venue>XLON</Venue><ISIN>GB00B03MLX29</ISIN><Currency>GBP</Currency>"))
    assert (wash.listing.isin, wash.listing.venue, wash.listing.currency) == ("GB00B03MLX29", "XLON", "GBP")
    spoof = parse_alert((SAMPLES / "spoofing_genuine_flux.xml").read_bytes().replace(
        b"<Symbol>FLUX</Symbol>", b"<Symbol>FLUX</Symbol><MIC>XPAR</MIC><Currency>EUR</Currency>", 1))
    assert (spoof.listing.venue, spoof.listing.currency, spoof.listing.isin) == ("XPAR", "EUR", None)
    stor = _stor((SAMPLES / "spoofing_genuine_flux.xml").read_bytes().replace(
        b"<Symbol>FLUX</Symbol>", b"<Symbol>FLUX</Symbol><MIC>XPAR</MIC><Currency>EUR</Currency>", 1))
    assert stor.venue == "XPAR" and stor.accounts == ["T020"] and all(t.endswith(" EUR") for t in stor.transactions)


@pytest.mark.e2e
def test_the_stor_download_names_venue_and_accounts(live_server):
    session = Browser(live_server)
    run_id = start_analysis(session, "wash_genuine_gldx.xml")
    read_stream(live_server, run_id, after=0)
    text = live_server.client().get(f"/analyses/{run_id}/stor.txt").text
    session.close()
    assert "Venue: XLON" in text and "Account(s): ACC-1001, ACC-1002" in text
    assert "2024-06-12 10:15:00.120 ACC-1001 BUY 25,000 GLDX @ 18.40" in text
    assert "2024-06-12 10:15:00.450 ACC-1002 SELL" in text
