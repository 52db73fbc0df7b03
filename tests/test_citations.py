"""Evidence on click: a citation opens the rows it cites, and nothing else can be read that way."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import TEST_DATA, Browser
from tests.html import element
from tests.test_e2e import read_stream, start_analysis
from webapp import citations


def test_cited_lines_come_with_the_header_and_the_cells_read_marked():
    rows = citations.read(TEST_DATA, {"source": "trader_history.csv", "lines": [3, 5], "note": "n"}, "trader_history")
    assert [name for name, _ in rows.header] == ["trader_id", "date", "symbol", "side", "qty", "price", "sector"]
    assert [name for name, used in rows.header if used] == ["symbol", "qty", "sector"]
    assert [r.line for r in rows.rows] == [3, 5]
    lines = (TEST_DATA / "trader_history.csv").read_text().splitlines()
    assert [",".join(text for text, _ in r.cells) for r in rows.rows] == [lines[2], lines[4]]
    # A citation that names its own columns marks those instead.
    own = citations.read(TEST_DATA, {"source": "trader_history.csv", "lines": [3], "columns": ["price"]},
                         "trader_history")
    assert [name for name, used in own.header if used] == ["price"]


def test_news_lines_show_their_block_and_split_into_time_source_headline():
    rows = citations.read(TEST_DATA, {"source": "market_news.txt", "lines": [4]}, "news")
    assert rows.context == ["===== ACME News Timeline ====="]
    assert [text for text, _ in rows.rows[0].cells] == [
        "2024-03-15 07:00", "Reuters", "GlobalPharma agrees to acquire ACME Therapeutics at 40% premium"]


def test_lines_beyond_the_shown_limit_are_counted_and_vanished_lines_reported():
    rows = citations.read(TEST_DATA, {"source": "market_data.csv", "lines": list(range(2, citations.MAX_ROWS + 12))},
                          "market_data")
    assert len(rows.rows) == citations.MAX_ROWS and rows.not_shown == 10
    gone = citations.read(TEST_DATA, {"source": "peer_trades.csv", "lines": [2, 10_000_000]}, "peer_trades")
    assert gone.missing == [10_000_000] and [r.line for r in gone.rows] == [2]


@pytest.mark.parametrize("source", [
    "../pyproject.toml", "/etc/passwd", "wash_trade/../../README.md", "alerts/insider_genuine_acme.xml",
    "trader_history.csv/", "./trader_history.csv", "TRADER_HISTORY.CSV", "", "market_news.txt\x00.csv",
])
def test_only_the_data_files_the_tools_read_can_be_shown(source):
    with pytest.raises(citations.NotCitable):
        citations.read(TEST_DATA, {"source": source, "lines": [1, 2]}, "trader_history")


def test_a_data_file_that_links_outside_the_data_directory_is_refused(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(TEST_DATA, data, ignore=shutil.ignore_patterns("trader_profiles.csv"))
    secret = tmp_path / "secret.csv"
    secret.write_text("trader_id,name,role,department,access_level,restrictions\nX,secret,,,,\n")
    (data / "trader_profiles.csv").symlink_to(secret)
    with pytest.raises(citations.NotCitable):
        citations.read(data, {"source": "trader_profiles.csv", "lines": [2]}, "trader_profile")


def test_no_lines_is_not_a_citation_of_rows():
    with pytest.raises(citations.NotCitable):
        citations.read(TEST_DATA, {"source": "trader_history.csv", "lines": []}, "trader_history")
    with pytest.raises(citations.NotCitable):
        citations.read(TEST_DATA, {"source": "trader_history.csv", "lines": [0, -3]}, "trader_history")


def test_alert_citations_show_the_cited_elements_of_the_stored_alert():
    raw = (TEST_DATA / "alerts" / "wash_genuine_gldx.xml").read_bytes()
    rows = citations.alert_elements(raw, {"source": "alert", "elements": [
        "FlaggedTrades/Trade[@sequence=2]", "FlaggedTrades/Trade[@sequence=9]", "Nope[["]})
    (path, xml), (_, missing), (_, broken) = rows.elements
    assert path == "FlaggedTrades/Trade[@sequence=2]" and "<AccountID>ACC-1002</AccountID>" in xml
    assert missing == broken == "(not in the alert)"


# ----------------------------------------------------------------------------- served

@pytest.fixture(scope="module")
def escalated(live_server):
    session = Browser(live_server)
    run_id = start_analysis(session, "insider_genuine_acme.xml")
    read_stream(live_server, run_id, after=0)
    report = live_server.client().get(f"/analyses/{run_id}.json").json()
    session.close()
    return run_id, report["decision"]


def _first(decision: dict, source: str) -> tuple[int, int, dict]:
    for i, finding in enumerate(decision["findings"]):
        for j, cited in enumerate(finding["citations"]):
            if cited["source"] == source:
                return i, j, cited
    raise AssertionError(f"no citation of {source}")


def test_a_citation_opens_inline_for_htmx_and_as_a_page_without_javascript(live_server, escalated):
    run_id, decision = escalated
    i, j, cited = _first(decision, "trader_history.csv")
    page = live_server.client().get(f"/analyses/{run_id}")
    link = f"/analyses/{run_id}/findings/{i}/citations/{j}"
    assert f'href="{link}" hx-get="{link}" hx-target="#cited-{i}"' in page.text
    assert element(page.text, f"cited-{i}") is not None  # where the rows open, under the finding
    with live_server.client() as http:
        fragment = http.get(link, headers={"HX-Request": "true"})
        full = http.get(link)
    assert fragment.status_code == full.status_code == 200
    assert fragment.text.lstrip().startswith('<details class="cited"') and "<html" not in fragment.text
    assert "<html" in full.text and element(full.text, f"cite-{i}-{j}") is not None
    assert "HX-Request" in fragment.headers["Vary"] and "HX-Request" in full.headers["Vary"]
    lines = (TEST_DATA / "trader_history.csv").read_text().splitlines()
    for number in cited["lines"][:5]:
        assert f'<th scope="row" class="num">{number}</th>' in fragment.text
        assert lines[number - 1].split(",")[4] in fragment.text  # the quantity, marked
    assert fragment.text.count("<mark>") == 3 * len(cited["lines"])  # symbol, qty, sector of every row


def test_the_alert_itself_can_be_cited(live_server):
    session = Browser(live_server)
    run_id = start_analysis(session, "wash_genuine_gldx.xml")
    read_stream(live_server, run_id, after=0)
    decision = live_server.client().get(f"/analyses/{run_id}.json").json()["decision"]
    i, j, _ = _first(decision, "alert")
    body = live_server.client().get(f"/analyses/{run_id}/findings/{i}/citations/{j}",
                                    headers={"HX-Request": "true"}).text
    assert "&lt;AccountID&gt;ACC-1001&lt;/AccountID&gt;" in body and "<AccountID>" not in body
    session.close()


@pytest.mark.parametrize("path", [
    "findings/999/citations/0", "findings/0/citations/999", "findings/-1/citations/0",
    "findings/0/citations/..%2F..%2Fpyproject.toml", "findings/x/citations/0",
])
def test_anything_but_a_citation_of_the_run_is_404(live_server, escalated, path):
    run_id, _ = escalated
    with live_server.client() as http:
        assert http.get(f"/analyses/{run_id}/{path}").status_code == 404
        assert http.get(f"/analyses/{'0' * 32}/findings/0/citations/0").status_code == 404
