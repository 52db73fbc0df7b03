"""Every page type on a phone and under axe-core, and the whole path from upload to the decision
with the keyboard alone.

Page types: home (fresh, and after a refused upload), an analysis while it runs, finished with
each determination and alert type (charts, STOR), cancelled, with cited rows open, the cited-rows
page, the report, an error page, a batch, and the cancel confirmation (JavaScript off).
"""

from __future__ import annotations

import re

import pytest
import redis
from playwright.sync_api import expect

from tests.conftest import (
    ANALYSIS_URL,
    ARTIFACTS,
    SAMPLES,
    Browser,
    axe_source,
    axe_violations,
    terminal,
    upload_in_browser,
)
from tests.servers import Identity
from tests.test_e2e import read_stream, start_analysis
from webapp.record import Database, users
from webapp.record.audit import Actor

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
FINISHED = {"escalated": "insider_genuine_acme.xml", "closed": "insider_false_positive_nova.xml",
            "review": "insider_edge_no_market_data.xml", "wash": "wash_genuine_gldx.xml",
            "unknown-account": "wash_edge_unknown_account.xml", "spoofing": "spoofing_genuine_flux.xml"}


# The longest username there can be (64 characters): the case page lists the people a case can be handed
# to, and its layout must hold on a phone with this name among them.
LONG_NAME = "alexandra.konstantinopoulou-wellingtons@surveillance.example.com"


@pytest.fixture(scope="module")
def runs(live_server, paced_server, redis_url):
    """Finished runs of every kind and determination, and a cancelled one; an analyst with a long name."""
    db = Database(Identity.current().database_url)
    if LONG_NAME not in users.who_work_cases(db):
        users.add(db, Actor.cli(), LONG_NAME, "analyst", "a long enough password")
    db.dispose()
    redis_client = redis.Redis.from_url(redis_url)
    session = Browser(live_server)
    ids = {label: start_analysis(session, name) for label, name in FINISHED.items()}
    for run_id in ids.values():
        read_stream(live_server, run_id, after=0)
    session.close()
    paced = Browser(paced_server)
    ids["cancelled"] = start_analysis(paced, "wash_genuine_gldx.xml")
    cancelled = paced.http.post(f"/analyses/{ids['cancelled']}/cancel",
                                data={"csrf_token": paced.token, "confirmed": "yes"})
    assert cancelled.status_code == 303, cancelled.text
    assert terminal(redis_client, ids["cancelled"]).type == "run_cancelled"
    paced.close()
    redis_client.close()
    return ids


def _page_types(open_page, live_server, paced_server, runs, options):
    """Open each page type in turn; yield (name, page) with the page showing it."""
    base = live_server.url
    page = open_page(**options)
    page.goto(base + "/")
    yield "home", page

    bad = SAMPLES.parent.parent / "pyproject.toml"
    upload_in_browser(page, base, bad)
    expect(page.locator("#upload-error")).to_be_visible()
    yield "home-refused-upload", page

    upload_in_browser(page, paced_server.url, SAMPLES / "insider_genuine_acme.xml")
    page.wait_for_url(ANALYSIS_URL)
    expect(page.locator("#timeline .step--running")).to_have_count(1)
    yield "analysis-running", page

    for label in (*FINISHED, "cancelled"):
        page.goto(f"{base}/analyses/{runs[label]}")
        yield f"analysis-{label}", page

    page.goto(f"{base}/analyses/{runs['escalated']}")
    page.locator("#decision .citation__link", has_text="trader_history.csv").first.click()
    expect(page.locator("details.cited")).to_be_visible()
    for summary in page.locator(".step__details summary").all():
        summary.click()
    yield "analysis-evidence-open", page

    page.goto(f"{base}/analyses/{runs['escalated']}/findings/0/citations/0")
    yield "cited-rows-page", page

    page.goto(f"{base}/analyses/{runs['wash']}/report")
    yield "report", page

    page.goto(f"{base}/analyses/{runs['escalated']}")
    page.click("#its-case")
    page.wait_for_url(re.compile(r"/cases/"))
    yield "case", page

    page.goto(f"{base}/analyses/{runs['escalated']}/case-file")
    yield "case-file", page

    page.goto(f"{base}/analyses/{'0' * 32}")
    yield "not-found", page

    page.goto(base + "/")
    page.set_input_files("#alert-file", [str(SAMPLES / name) for name in sorted(FINISHED.values())])
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(re.compile(r"/batches/[0-9a-f]{32}$"))
    expect(page.locator("#batch-progress")).to_have_attribute("data-finished", "true", timeout=30_000)
    yield "batch", page

    # What a browser without JavaScript gets from the cancel button: the form posted as it is. (axe
    # itself needs JavaScript, so the page is reached by submitting the form natively, past htmx.)
    upload_in_browser(page, paced_server.url, SAMPLES / "spoofing_genuine_flux.xml")
    page.wait_for_url(ANALYSIS_URL)
    with page.expect_navigation():
        page.evaluate("document.querySelector('.cancel-form').submit()")
    expect(page.locator("h1")).to_contain_text("Cancel the analysis")
    yield "cancel-confirmation", page


def _expect_provoked(page_errors):
    page_errors.allow(422, r"/analyses$")                 # the refused upload
    page_errors.allow(404, r"/analyses/0{32}$")           # the error page


def test_no_page_scrolls_sideways_on_a_phone(open_page, page_errors, live_server, paced_server, runs):
    _expect_provoked(page_errors)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    widths = {}
    for name, page in _page_types(open_page, live_server, paced_server, runs, PHONE):
        widths[name] = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
        page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)
    assert len(widths) == 18
    assert {name: w for name, w in widths.items() if w > 390} == {}


def test_the_stor_download_works_on_a_phone(open_page, live_server, runs):
    page = open_page(**PHONE)
    page.goto(f"{live_server.url}/analyses/{runs['escalated']}")
    link = page.get_by_role("link", name="Download STOR draft")
    link.scroll_into_view_if_needed()
    with page.expect_download() as download:
        link.click()  # a real click: Playwright refuses one that something else would receive
    assert download.value.suggested_filename.startswith("STOR-draft-")
    assert "SUSPICIOUS TRANSACTION AND ORDER REPORT" in download.value.path().read_text()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_axe_finds_no_serious_or_critical_violation_on_any_page(open_page, page_errors, live_server, paced_server,
                                                                 runs, size):
    _expect_provoked(page_errors)
    source = axe_source()
    found = {}
    for name, page in _page_types(open_page, live_server, paced_server, runs, PHONE if size == "phone" else DESKTOP):
        violations = axe_violations(page, source)
        if violations:
            found[name] = violations
    assert found == {}


def test_skip_link_is_the_first_stop_and_leads_to_the_content(page, live_server):
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["y"] >= 0  # shown when focused
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


def test_after_a_refused_upload_the_field_has_the_focus_and_says_why(page, page_errors, live_server, tmp_path):
    page_errors.allow(422, r"/analyses$")
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<Alert/>")
    upload_in_browser(page, live_server.url, bad)
    field = page.locator("#alert-file")
    expect(field).to_be_focused()
    expect(field).to_have_attribute("aria-invalid", "true")
    described = field.get_attribute("aria-describedby").split()
    assert "upload-error" in described
    assert "Unsupported root element" in page.locator("#upload-error").inner_text()
    # What a screen reader announces for the field includes the problem.
    assert "Unsupported root element" in page.evaluate(
        "ids => ids.map(id => document.getElementById(id).textContent).join(' ')", described)


def test_without_javascript_a_refused_upload_also_lands_on_the_field(page_without_js, page_errors, live_server,
                                                                      tmp_path):
    page_errors.allow(422, r"/analyses$")
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<Alert/>")
    upload_in_browser(page_without_js, live_server.url, bad)
    expect(page_without_js.locator("#alert-file")).to_be_focused()


def _tab_to(page, selector: str, limit: int = 150) -> int:
    """Press Tab until the focused element matches ``selector``; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return presses
    raise AssertionError(f"{selector} never received the focus in {limit} presses of Tab")


def test_keyboard_only_from_upload_to_the_decision_and_its_evidence(page, live_server):
    page.goto(live_server.url + "/")
    _tab_to(page, "#alert-file")
    # The file dialog is the browser's own (Space opens it on a focused file input); the test fills
    # the focused field directly instead of waiting on that dialog, which Chromium may not raise
    # for a background page when other pages run at the same time.
    page.locator("#alert-file:focus").set_input_files(str(SAMPLES / "insider_genuine_acme.xml"))
    _tab_to(page, "#reinvestigate")  # the suite analyses this alert again: its case exists already
    page.keyboard.press("Space")
    _tab_to(page, "#upload-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(ANALYSIS_URL)
    expect(page.locator("#decision .verdict")).to_have_text("ESCALATE", timeout=30_000)
    # Past the header and the steps to the decision's first citation, and open it.
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    _tab_to(page, "#decision .citation__link")
    target = page.evaluate("document.activeElement.getAttribute('aria-controls')")
    page.keyboard.press("Enter")
    expect(page.locator(f"#{target} details.cited[open] tbody tr").first).to_be_visible()
    # A step's inputs and raw result open from the keyboard too.
    page.keyboard.press("Shift+Tab")
    _tab_to(page, ".step__details summary")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.closest('details').open")
    # And the STOR draft's download is reachable.
    _tab_to(page, "a[download]")
    assert re.search(r"/stor\.txt$", page.evaluate("document.activeElement.href"))
