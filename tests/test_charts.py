"""Charts: each sample's tools record the data of their chart, and the SVG drawn from it has a text
alternative, no inline style or script (the CSP would refuse them), and escapes what it shows."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import defusedxml.ElementTree as SafeET
import pytest

from agents.alerts import parse_alert
from agents.events import Event, EventType
from tests.conftest import SAMPLES
from tests.expected_determinations import EXPECTED
from tests.test_agents import run
from webapp.app import create_app
from webapp.config import Settings
from webapp.timeline import fold, render_fragment

SVG = "{http://www.w3.org/2000/svg}"
CHARTED = {  # tool -> chart kind, per alert type
    "insider": {"market_data": "price_volume", "news": "news"},
    "wash": {"account_relationships": "ownership", "trade_pattern": "wash_pairs",
             "related_accounts_history": "pair_history"},
    "spoofing": {"order_episode": "order_book"},
}


@pytest.fixture(scope="module")
def app(redis_url):
    return create_app(Settings.from_env(redis_url=redis_url, secret_key="t"))


def _events(name: str) -> list[Event]:
    events, _outcome = run(parse_alert((SAMPLES / name).read_bytes()))
    logged = [Event(run_id="r" * 32, seq=i, ts=1_700_000_000 + i, type=EventType(e["type"]), step_id=e["step_id"],
                    agent=e["agent"], tool=e["tool"], data=e["data"]) for i, e in enumerate(events, 1)]
    return logged


def _charts(html: str) -> list[ElementTree.Element]:
    return [SafeET.fromstring(svg) for svg in re.findall(r"<svg class=\"chart__svg\".*?</svg>", html, re.S)]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_sample_records_its_charts_data_and_draws_it(app, name):
    events = _events(name)
    recorded = {e.tool: e.data["chart"]["kind"] for e in events
                if e.type is EventType.STEP_COMPLETED and "chart" in e.data}
    expected = CHARTED[name.split("_")[0]]
    if name == "insider_edge_no_market_data.xml":  # no prices to draw: the news step still records its headlines
        expected = {"news": "news"}
    assert recorded == expected
    view = fold("r" * 32, events)
    with app.test_request_context("/"):
        html = app.jinja_env.get_template("fragments/_timeline.html").render(view=view, oob=False)
    drawn = _charts(html)
    assert len(drawn) == len([k for k in expected.values() if k != "news"])  # headlines are marks on the price chart
    for svg in drawn:
        title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
        assert title is not None and title.text and desc is not None and len(desc.text) > 40
        assert svg.get("role") == "img" and svg.get("aria-labelledby") == title.get("id")
        assert svg.get("aria-describedby") == desc.get("id")
        assert svg.get("viewBox").startswith("0 0 ")
        assert not [el for el in svg.iter() if "style" in el.attrib or el.tag in (f"{SVG}style", f"{SVG}script")]


def test_the_price_chart_marks_the_trade_the_event_and_each_headline(app):
    view = fold("r" * 32, _events("insider_genuine_acme.xml"))
    with app.test_request_context("/"):
        html = app.jinja_env.get_template("fragments/_timeline.html").render(view=view, oob=False)
    [svg] = _charts(html)
    text = " ".join(t.text or "" for t in svg.iter(f"{SVG}text"))
    assert "BUY 40,000 @ 52.30" in text and "M&A Announcement" in text
    headlines = [g for g in svg.iter(f"{SVG}g") if "chart__headline " in g.get("class", "") + " "]
    # market_news.txt lines 2-5: two public before the trade, the deal and its coverage after it
    assert [g.get("class").split("--")[-1] for g in headlines] == ["before", "before", "after", "after"]
    desc = svg.find(f"{SVG}desc").text
    assert "Trade: BUY 40,000 at 52.30 on 2024-03-13" in desc and "4 news headlines: 2 public before the trade" in desc


def test_the_news_step_redraws_the_price_chart_with_its_headlines(app):
    events = _events("insider_genuine_acme.xml")
    news_done = next(i for i, e in enumerate(events) if e.type is EventType.STEP_COMPLETED and e.tool == "news")
    view = fold("r" * 32, events[: news_done + 1])
    with app.test_request_context("/"):
        fragment = render_fragment(view, events[news_done], run=_Run())
    assert 'id="step-insider_dealing-news"' in fragment
    market = re.search(r'<li id="step-insider_dealing-market_data".*?</li>', fragment, re.S)
    assert market and market.group(0).count("chart__headline ") == 4


def test_ownership_graph_draws_an_unknown_account_as_a_gap(app):
    view = fold("r" * 32, _events("wash_edge_unknown_account.xml"))
    with app.test_request_context("/"):
        html = app.jinja_env.get_template("fragments/_timeline.html").render(view=view, oob=False)
    ownership = next(svg for svg in _charts(html) if "Beneficial owners" in svg.find(f"{SVG}title").text)
    missing = [g for g in ownership.iter(f"{SVG}g") if "chart__node--missing" in g.get("class", "")]
    assert len(missing) == 1 and "ACC-9001" in ElementTree.tostring(missing[0], encoding="unicode")
    assert "No ownership record for ACC-9001" in ownership.find(f"{SVG}desc").text


def test_the_order_book_shows_layers_cancelled_and_the_fill_on_the_other_side(app):
    view = fold("r" * 32, _events("spoofing_genuine_flux.xml"))
    with app.test_request_context("/"):
        html = app.jinja_env.get_template("fragments/_timeline.html").render(view=view, oob=False)
    [svg] = _charts(html)
    orders = [g.get("class") for g in svg.iter(f"{SVG}g") if "chart__order " in g.get("class", "") + " "]
    assert sum("chart__order--layer" in c for c in orders) == 4
    assert sum("chart__order--buy chart__order--executed" in c for c in orders) == 1
    assert "4 SELL orders (120,000 shares) at 41.20–41.35, cancelled unfilled" in svg.find(f"{SVG}desc").text


def test_chart_text_is_escaped(app):
    events = _events("wash_genuine_gldx.xml")
    hostile = "<script>alert(1)</script>"
    for e in events:
        if e.tool == "account_relationships" and e.type is EventType.STEP_COMPLETED:
            e.data["chart"]["accounts"][0]["owner_name"] = hostile
    view = fold("r" * 32, events)
    with app.test_request_context("/"):
        html = app.jinja_env.get_template("fragments/_timeline.html").render(view=view, oob=False)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html


class _Run:
    """Just what the run header needs."""

    id = "r" * 32
    created_at = 1_700_000_000.0
    finished = False

    def __getitem__(self, key):
        return ""
