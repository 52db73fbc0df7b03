"""How news is judged: the time a headline became public, scheduling notices, price reports, the Takeover Code's
announcement titles, headlines of several natures (README, "How news is judged")."""

from __future__ import annotations

from datetime import date

import pytest

from agents.data import Dataset
from agents.progress import NullReporter
from agents.tools import news
from tests.rules_support import TRADE_DAY, insider_alert, write_data
from tests.test_rules_insider import on


def _judge(tmp_path, *lines: str, event_date=date(2024, 3, 20), event_type="M&A Announcement", side="BUY") -> dict:
    ds = Dataset(write_data(tmp_path, news="===== ACME News Timeline =====\n" + "\n".join(lines) + "\n",
                            instruments=[["ACME", "Acme Widgets plc", "Industrials"]]))
    event = insider_alert(event_date=event_date, event_type=event_type).related_event
    return news.timeline(ds, "ACME", TRADE_DAY, side, event, NullReporter()).facts


def _kinds(facts: dict) -> list[str]:
    return [j["judged"] for j in facts["judged"]]


@pytest.mark.parametrize(("clock", "kind"), [("07:59", "disclosed"), ("08:00", "same_day"), ("16:05", "same_day")])
def test_a_headline_is_public_from_its_timestamp_and_the_trade_time_is_unknown(tmp_path, clock, kind):
    """Before the session opens (08:00) a trade-day headline was public for the whole session; from the open on it
    cannot be placed before a trade whose time the alert does not give."""
    facts = _judge(tmp_path, f"2024-03-13 {clock} - RNS: Acme Widgets receives takeover approach")
    assert _kinds(facts) == [kind]


def test_an_event_announced_before_the_open_of_the_trade_day_came_before_the_trade(tmp_path):
    facts = _judge(tmp_path, "2024-03-13 07:00 - RNS: Acme Widgets half-year profit beats forecasts, raises dividend",
                   event_date=TRADE_DAY, event_type="Earnings Release")
    assert facts["event_public_before_trade"] and _kinds(facts) == ["disclosed"]  # of results nature, and dividend
    assert "ID-R4" not in on({"news": {"event_public_before_trade": True}}, event_date=TRADE_DAY)
    assert on({"news": {"event_public_before_trade": False}}, event_date=TRADE_DAY)["ID-R4"] == 20
    later = _judge(tmp_path / "later", "2024-03-13 16:30 - RNS: Acme Widgets half-year profit beats forecasts",
                   event_date=TRADE_DAY, event_type="Earnings Release")
    assert not later["event_public_before_trade"]


@pytest.mark.parametrize("headline", [
    "Acme Widgets to report second-quarter results on August 22",
    "Acme Widgets to release second-quarter earnings on August 22",
    "Acme Widgets to publish interim results on 22 August",
    "Acme Widgets to issue trading update on September 13",
    "Acme Widgets sets date for second-quarter results",
    "Acme Widgets second-quarter results due August 22",
    "Acme Widgets schedules second-quarter earnings call for August 22",
    "Acme Widgets results scheduled for Thursday",
    "Acme Widgets confirms interim dividend payment date of October 11",
    "Acme Widgets will announce full-year results next week",
])
def test_scheduling_notices_say_when_not_what(tmp_path, headline):
    facts = _judge(tmp_path, f"2024-03-08 16:00 - Company filing: {headline}", event_type="Earnings Release")
    assert _kinds(facts) == ["scheduling"] and facts["news_silence"]


@pytest.mark.parametrize("headline", [
    "Acme Widgets reports record first-quarter profit, beats estimates",
    "Acme Widgets expected to report higher quarterly sales, analysts say",
    "Acme Widgets raises full-year guidance",
])
def test_results_news_is_not_a_scheduling_notice(tmp_path, headline):
    facts = _judge(tmp_path, f"2024-03-08 07:00 - RNS: {headline}", event_type="Earnings Release")
    assert _kinds(facts) == ["disclosed"]


@pytest.mark.parametrize("headline", ["Acme Widgets plc: Statement re possible offer", "Rule 2.7 announcement: "
                                      "recommended cash offer for Acme Widgets", "Acme Widgets: Form 8.3 disclosure"])
def test_takeover_code_announcement_titles_are_m_and_a_news(headline):
    assert news.nature_of(headline) == "M&A"


def test_a_report_of_the_share_prices_own_move_explains_nothing(tmp_path):
    facts = _judge(tmp_path, "2024-03-06 10:00 - Bloomberg: Acme Widgets shares rise on AI chip demand",
                   event_type="Index Inclusion")
    assert _kinds(facts) == ["price_move"] and facts["news_silence"] and not facts["direction_before"]
    # information that moves the price still counts, price words or not
    facts = _judge(tmp_path / "b", "2024-03-06 10:00 - Reuters: Acme Widgets wins contract, shares jump",
                   event_type="Index Inclusion")
    assert _kinds(facts) == ["direction"]


@pytest.mark.parametrize(("headline", "nature"), [
    ("Crownfield Packaging half-year profit beats forecasts, raises interim dividend", "results"),
    ("Acme Widgets chief executive resigns ahead of results", "management"),
    ("Harbury Foods confirms takeover approach; shares jump", "M&A"),
    ("Hartwell Retail to be deleted from the FTSE 250 in the March quarterly review", "index change"),
])
def test_a_headlines_nature_is_its_subject_the_words_that_come_first(headline, nature):
    assert news.subject_of(headline) == nature


def test_an_instruments_own_session_opening_places_its_headlines(tmp_path):
    """A New York listing opens at 09:30: results released at 08:30 were public for the whole session."""
    line = "2024-03-13 08:30 - Business Wire: Acme Widgets first-quarter profit beats estimates"
    ds = Dataset(write_data(tmp_path, news="===== ACME News Timeline =====\n" + line + "\n",
                            instruments=[["ACME", "Acme Widgets Inc", "Industrials", "09:30"]]))
    event = insider_alert(event_date=TRADE_DAY, event_type="Earnings Release").related_event
    facts = news.timeline(ds, "ACME", TRADE_DAY, "BUY", event, NullReporter()).facts
    assert _kinds(facts) == ["disclosed"] and facts["event_public_before_trade"]
    assert "before the session opened (09:30)" in facts["disclosed_before"][0]
    assert _kinds(_judge(tmp_path / "default", line, event_date=TRADE_DAY, event_type="Earnings Release")) == [
        "same_day"]  # without it, the earliest opening covered: 08:00


def test_the_news_chart_marks_public_headlines_as_the_news_tool_reads_them(tmp_path):
    from agents.chart_data import chart_for
    from agents.evidence import Evidence

    ds = Dataset(write_data(tmp_path, news="===== ACME News Timeline =====\n"
                                           "2024-03-12 16:30 - RNS: Acme Widgets wins contract\n"
                                           "2024-03-13 07:00 - RNS: Acme Widgets profit beats forecasts\n"
                                           "2024-03-13 09:00 - Reuters: Acme Widgets shares rise\n"))
    chart = chart_for("news", ds, insider_alert(), Evidence(tool="news", title="News"))
    assert [h["public_before_trade"] for h in chart["headlines"]] == [True, True, False]
