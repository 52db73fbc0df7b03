"""A real headless Chromium (Debian's, driven by Playwright) using the app as an analyst would."""

from __future__ import annotations

import json
import re
import zipfile
from collections import Counter

import pytest
from playwright.sync_api import expect

from tests.conftest import ANALYSIS_URL, ARTIFACTS, SAMPLES, server_env, snapshot, upload_in_browser
from tests.expected_determinations import EXPECTED

pytestmark = pytest.mark.browser

def test_upload_through_the_form_and_watch_the_investigation_live(paced_server, page, page_errors):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    upload_in_browser(page, paced_server.url, SAMPLES / "insider_genuine_acme.xml")
    page.wait_for_url(ANALYSIS_URL)

    # The server rendered the page while the run was still going: it holds a live stream and
    # no decision yet. Everything that appears from here on arrives over SSE.
    assert page.locator("#live[sse-connect]").count() == 1
    assert page.locator("#decision .verdict").count() == 0
    steps_at_load = page.locator("#timeline .step").count()
    loads = []
    page.on("load", lambda: loads.append(page.url))

    expect(page.locator("#timeline .step--running")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "analysis-running.png"), full_page=True)
    expect(page.locator("#timeline .step")).to_have_count(7, timeout=30_000)
    expect(page.locator("#decision .verdict")).to_have_text("ESCALATE", timeout=30_000)
    expect(page.locator("#run-header .status")).to_have_text("Completed")
    expect(page.locator("#timeline .step--done")).to_have_count(7)
    expect(page.locator(".cancel-form")).to_be_hidden()
    assert steps_at_load < 7
    assert loads == []  # no reload: the steps and the decision were swapped in live
    page.screenshot(path=str(ARTIFACTS / "analysis-complete.png"), full_page=True)

    live = snapshot(page)
    page.reload()
    assert snapshot(page) == live  # the page rendered from the log equals what streamed in
    assert page.locator("#live").count() == 0
    assert page_errors == []


def test_bad_file_shows_the_error_in_the_form_without_leaving_the_page(live_server, page, page_errors,
                                                                      tmp_path):
    bad = tmp_path / "not-an-alert.xml"
    bad.write_bytes(b"<Alert><AlertID>1</AlertID></Alert>")
    page_errors.allow(422, r"/analyses$")  # the refused upload answers 422 with the form
    upload_in_browser(page, live_server.url, bad)
    expect(page.locator("#upload-error")).to_contain_text("Unsupported root element <Alert>")
    assert page.url == live_server.url + "/"
    # The swapped-in form still works: a good file now goes through.
    page.set_input_files("#alert-file", str(SAMPLES / "wash_false_positive_prsm.xml"))
    page.check("#reinvestigate")
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(ANALYSIS_URL)
    expect(page.locator("#decision .verdict")).to_have_text("CLOSE", timeout=30_000)
    assert page_errors == []


def test_everything_works_with_javascript_off(paced_server, page_without_js, page_errors, tmp_path):
    page = page_without_js
    page_errors.allow(400, r"/analyses$")  # the empty file below is refused with the page
    upload_in_browser(page, paced_server.url, SAMPLES / "spoofing_genuine_flux.xml")
    page.wait_for_url(ANALYSIS_URL)
    # No stream without JS: the page refreshes itself while the run is going.
    expect(page.locator("#decision .verdict")).to_have_text("ESCALATE", timeout=30_000)
    expect(page.locator("#timeline .step--done")).to_have_count(6)

    bad = tmp_path / "empty.xml"
    bad.write_bytes(b"")
    upload_in_browser(page, paced_server.url, bad)
    expect(page.locator("#upload-error")).to_have_text("empty.xml: The file is empty.")


BATCH_URL = re.compile(r"/batches/[0-9a-f]{32}$")


def test_a_zip_of_the_sample_alerts_runs_as_a_batch_with_live_counts(paced_server, page, page_errors, tmp_path):
    archive = tmp_path / "samples.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for name in sorted(EXPECTED):
            bundle.write(SAMPLES / name, name)
    upload_in_browser(page, paced_server.url, archive)
    page.wait_for_url(BATCH_URL)
    loads = []
    page.on("load", lambda: loads.append(page.url))
    done_at_load = int(page.locator(".batch-progress__done strong").inner_text())
    assert done_at_load < len(EXPECTED)  # paced steps: the counts that follow arrive live
    assert page.locator("#live[sse-connect]").count() == 1

    expected = Counter(determination for determination, *_ in EXPECTED.values())
    expect(page.locator("#batch-progress")).to_have_attribute("data-finished", "true", timeout=60_000)
    # What the page said when it called the batch finished, for the message if a count is then wrong.
    said = {el.get_attribute("id"): el.inner_text() for el in page.locator("[id^=batch-count-]").all()}
    rows = [el.inner_text() for el in page.locator(".batch-item").all()]
    seen = f"counts at finish {said}; rows {rows}"
    for state, count in expected.items():
        expect(page.locator(f"#batch-count-{state.lower()}"), seen).to_have_text(str(count))
    for state in ("queued", "running", "failed", "cancelled"):
        expect(page.locator(f"#batch-count-{state}"), seen).to_have_text("0")
    expect(page.locator(".batch-item .status--completed")).to_have_count(len(EXPECTED))
    assert loads == [] and page_errors == []  # no reload: every count and row was swapped in live
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "batch-complete.png"), full_page=True)

    live = page.locator("main").inner_text()
    page.reload()
    assert page.locator("main").inner_text() == live  # the page rendered afresh equals what streamed in
    page.locator(".batch-item a").first.click()
    page.wait_for_url(ANALYSIS_URL)
    expect(page.locator("#decision .verdict")).to_be_visible()


def test_several_files_through_the_form_with_javascript_off(paced_server, page_without_js):
    page = page_without_js
    page.goto(paced_server.url + "/")
    page.set_input_files("#alert-file", [str(SAMPLES / "wash_genuine_gldx.xml"),
                                         str(SAMPLES / "wash_false_positive_prsm.xml")])
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(BATCH_URL)
    # No stream without JS: the page refreshes itself until the batch is done.
    expect(page.locator("#batch-progress")).to_have_attribute("data-finished", "true", timeout=30_000)
    expect(page.locator("#batch-count-escalate")).to_have_text("1")
    expect(page.locator("#batch-count-close")).to_have_text("1")


# ----------------------------------------------------------------------------- evidence you can see

CHARTS_PER_SAMPLE = {"insider": 1, "wash": 3, "spoofing": 1}  # the price chart carries the headlines


def finished_page(page, server, name: str) -> str:
    """Upload a sample through the form and wait on its page for the run's end: the decision comes one
    event before it, and the end's fragment redraws the timeline once more (a chart caught in that
    swap is detached under the test's hands)."""
    upload_in_browser(page, server.url, SAMPLES / name)
    page.wait_for_url(ANALYSIS_URL)
    expect(page.locator("#run-header")).to_have_attribute("data-status", "completed", timeout=30_000)
    return page.url.rsplit("/", 1)[1]


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.xml")))
def test_each_sample_draws_the_charts_of_its_alert_type(live_server, page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    finished_page(page, live_server, name)
    charts = page.locator("figure.chart")
    expected = 0 if name == "insider_edge_no_market_data.xml" else CHARTS_PER_SAMPLE[name.split("_")[0]]
    expect(charts).to_have_count(expected)
    for i, chart in enumerate(charts.all()):
        svg = chart.locator("svg")
        box = svg.bounding_box()
        assert box["width"] > 300 and box["height"] > 100  # drawn, at a readable size
        assert svg.locator("title").text_content() and len(svg.locator("desc").text_content()) > 40
        assert chart.locator("figcaption .chart__title").inner_text() == svg.locator("title").text_content()
        chart.screenshot(path=str(ARTIFACTS / f"chart-{name.removesuffix('.xml')}-{i}.png"))


def test_charts_arrive_with_their_step_while_the_run_goes_on(paced_server, page):
    upload_in_browser(page, paced_server.url, SAMPLES / "insider_genuine_acme.xml")
    page.wait_for_url(ANALYSIS_URL)
    loads = []
    page.on("load", lambda: loads.append(page.url))
    market = page.locator("#step-insider_dealing-market_data")
    expect(market.locator("figure.chart")).to_have_count(1, timeout=30_000)
    assert page.locator("#decision .verdict").count() == 0  # the run was still going when the chart came
    expect(market.locator(".chart__headline")).to_have_count(4, timeout=30_000)  # news step done: headlines
    expect(page.locator("#decision .verdict")).to_have_text("ESCALATE", timeout=30_000)
    assert loads == []


def test_a_citation_opens_its_rows_under_the_finding(live_server, page):
    finished_page(page, live_server, "insider_genuine_acme.xml")
    link = page.locator("#decision .citation__link", has_text="trader_history.csv").first
    target = "#" + link.get_attribute("aria-controls")
    url = page.url
    link.click()
    rows = page.locator(f"{target} details.cited[open]")
    expect(rows).to_be_visible()
    assert page.url == url  # opened in place
    expect(rows.locator("thead th")).to_contain_text(["line", "trader_id", "date", "symbol", "side", "qty"])
    assert rows.locator("tbody tr").count() >= 3 and rows.locator("tbody mark").count() >= 9
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator(target).screenshot(path=str(ARTIFACTS / "citation-inline.png"))
    rows.locator("summary").click()  # it folds away like any details element
    expect(rows.locator("table")).to_be_hidden()


def test_without_javascript_a_citation_is_a_page_of_its_rows(live_server, page_without_js):
    page = page_without_js
    finished_page(page, live_server, "wash_genuine_gldx.xml")
    page.locator("#decision .citation__link", has_text="account_relationships.csv").first.click()
    expect(page).to_have_url(re.compile(r"/findings/\d+/citations/\d+$"))
    expect(page.locator("h1")).to_have_text("Cited rows")
    expect(page.locator("details.cited tbody mark").first).to_be_visible()


def test_a_step_expands_to_its_inputs_and_raw_result_and_stays_open_as_the_run_goes_on(paced_server, page):
    upload_in_browser(page, paced_server.url, SAMPLES / "insider_genuine_acme.xml")
    page.wait_for_url(ANALYSIS_URL)
    profile = page.locator("#step-insider_dealing-trader_profile")
    details = profile.locator("details.step__details")
    expect(details).to_have_count(1, timeout=30_000)
    assert page.locator("#decision .verdict").count() == 0
    details.locator("summary").click()
    expect(details.locator("dl.kv")).to_contain_text("trader id")
    expect(details.locator("dl.kv")).to_contain_text("T001")
    raw = json.loads(details.locator("pre.step__raw").inner_text())
    assert raw["tool"] == "trader_profile" and raw["facts"]["trader_id"] == "T001" and raw["citations"]["profile"]
    # Later events redraw the whole timeline; the analyst's open step stays open.
    expect(page.locator("#decision .verdict")).to_have_text("ESCALATE", timeout=30_000)
    assert details.get_attribute("open") is not None


@pytest.fixture(scope="module")
def slow_server(start_server, redis_url):
    """Steps of 2.5 s: long enough to watch the clock count with no event arriving."""
    return start_server(server_env(redis_url, DEMO_STEP_DELAY="2.5"), workers=1, name="slow-browser")


def test_the_header_counts_steps_and_the_clock_runs_between_events(slow_server, page):
    upload_in_browser(page, slow_server.url, SAMPLES / "wash_genuine_gldx.xml")
    page.wait_for_url(ANALYSIS_URL)
    expect(page.locator("#run-header .run-header__step")).to_have_text(re.compile(r"^[2-6] of 6$"), timeout=20_000)
    clock = page.locator("#run-header .clock--live")
    # Mark the header: a swap (an event) would replace it. The clock must advance without one.
    page.evaluate("document.querySelector('#run-header').dataset.marked = 'yes'")
    first = int(clock.evaluate("e => getComputedStyle(e).getPropertyValue('--clock')"))
    page.wait_for_function("""first => {
        const clock = document.querySelector('#run-header .clock--live');
        return clock && +getComputedStyle(clock).getPropertyValue('--clock') > first;
    }""", arg=first, timeout=5_000)
    assert page.locator("#run-header").get_attribute("data-marked") == "yes"  # no event redrew it
    expect(page.locator("#run-header .status")).to_have_text("Completed", timeout=30_000)
    expect(page.locator("#run-header .run-header__step")).to_have_text("6 of 6")
    assert page.locator("#run-header .clock--live").count() == 0  # a finished run says how long it took


def test_cancel_asks_first_and_the_running_step_says_cancelled(slow_server, page):
    upload_in_browser(page, slow_server.url, SAMPLES / "insider_genuine_acme.xml")
    page.wait_for_url(ANALYSIS_URL)
    done = page.locator("#timeline .step--done")
    expect(done).to_have_count(1, timeout=20_000)
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click(".cancel-form button")
    expect(done).to_have_count(2, timeout=20_000)  # dismissed: it runs on
    assert asked and asked[0].startswith("Cancel this analysis?")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(".cancel-form button")
    expect(page.locator("#run-header .status")).to_have_text("Cancelled", timeout=10_000)
    stopped = page.locator("#timeline .step--cancelled")
    expect(stopped).to_have_count(1)
    expect(stopped.locator(".step__status")).to_have_text("Cancelled")
    assert page.locator("#timeline .step--failed").count() == 0
    expect(page.locator("#decision")).to_contain_text("Analysis cancelled")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "analysis-cancelled.png"), full_page=True)


def test_printing_keeps_the_evidence_and_drops_the_controls(live_server, page):
    finished_page(page, live_server, "spoofing_genuine_flux.xml")
    page.emulate_media(media="print")
    expect(page.locator(".run-actions")).to_be_hidden()
    expect(page.locator(".skip-link")).to_be_hidden()
    chart = page.locator("figure.chart svg")
    expect(chart).to_be_visible()
    width = page.evaluate("document.documentElement.clientWidth")
    assert 0 < chart.bounding_box()["width"] <= width
    expect(page.locator("#decision .verdict")).to_be_visible()
    pdf = page.pdf(format="A4")  # headless Chromium prints it
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
