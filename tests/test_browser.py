"""A real headless Chromium (Debian's, driven by Playwright) using the app as an analyst would."""

from __future__ import annotations

import re
import zipfile
from collections import Counter

import pytest
from playwright.sync_api import expect

from tests.conftest import ANALYSIS_URL, ARTIFACTS, SAMPLES, snapshot, upload_in_browser
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
    upload_in_browser(page, live_server.url, bad)
    expect(page.locator("#upload-error")).to_contain_text("Unsupported root element <Alert>")
    assert page.url == live_server.url + "/"
    # The swapped-in form still works: a good file now goes through.
    page.set_input_files("#alert-file", str(SAMPLES / "wash_false_positive_prsm.xml"))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(ANALYSIS_URL)
    expect(page.locator("#decision .verdict")).to_have_text("CLOSE", timeout=30_000)
    assert page_errors == []


def test_everything_works_with_javascript_off(paced_server, page_without_js, tmp_path):
    page = page_without_js
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
    for state, count in expected.items():
        expect(page.locator(f"#batch-count-{state.lower()}")).to_have_text(str(count))
    for state in ("queued", "running", "failed", "cancelled"):
        expect(page.locator(f"#batch-count-{state}")).to_have_text("0")
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
