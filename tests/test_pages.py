"""Pages as served (HTTP, no browser): sample labels, the refused upload's accessible error, the
skip link, and the confirmation a cancel asks for without JavaScript."""

from __future__ import annotations

import re

import pytest

from tests.conftest import SAMPLES, Browser, terminal
from tests.html import element
from tests.test_e2e import start_analysis
from webapp.keys import run_key

pytestmark = pytest.mark.e2e


def test_sample_labels_name_the_case_and_the_instrument(live_server):
    page = live_server.client().get("/analyses").text
    labels = re.findall(r'<td data-label="Alert">([^<]+)</td>', page)
    assert len(labels) == len(list(SAMPLES.glob("*.xml")))
    assert "Insider dealing — edge case: no history — QRTZ" in labels
    assert "Wash trade — edge case: unknown account — PRSM" in labels
    assert "Insider dealing — edge case: no market data — ZZZT" in labels
    assert "Spoofing / layering — genuine — FLUX" in labels
    assert not [label for label in labels if re.search(r"— (HISTORY|ACCOUNT|DATA|NEWS)$", label)]


def test_a_refused_upload_marks_the_field_invalid_focuses_it_and_ties_the_message(browser_session):
    for htmx in (False, True):
        response = browser_session.upload(b"<Alert/>", "bad.xml", htmx=htmx)
        assert response.status_code == 422
        field = element(response.text, "alert-file")
        assert 'aria-invalid="true"' in field and " autofocus" in field
        described = re.search(r'aria-describedby="([^"]+)"', field)[1].split()
        assert "upload-error" in described
        assert "Unsupported root element" in element(response.text, "upload-error")
    fresh = element(browser_session.http.get("/").text, "alert-file")
    assert "aria-invalid" not in fresh and "autofocus" not in fresh and "upload-error" not in fresh


def test_every_page_starts_with_a_skip_link_to_the_main_content(live_server):
    for path in ("/", f"/analyses/{'0' * 32}"):
        page = live_server.client().get(path).text
        body = page[page.index("<body"):]
        first_link = re.search(r"<a [^>]*>", body)[0]
        assert 'class="skip-link"' in first_link and 'href="#main"' in first_link
        assert 'id="main"' in page


def test_without_javascript_a_cancel_asks_for_confirmation_first(paced_server, redis_client):
    session = Browser(paced_server)
    run_id = start_analysis(session, "insider_genuine_acme.xml")
    asked = session.http.post(f"/analyses/{run_id}/cancel", data={"csrf_token": session.token})
    assert asked.status_code == 200 and "Cancel the analysis of ITA-2024-0313-001?" in asked.text
    assert 'name="confirmed" value="yes"' in asked.text and f'href="/analyses/{run_id}"' in asked.text
    assert redis_client.hget(run_key(run_id), "cancel_requested") is None  # nothing happened yet
    confirmed = session.http.post(f"/analyses/{run_id}/cancel", data={"csrf_token": session.token,
                                                                       "confirmed": "yes"})
    assert confirmed.status_code == 303
    assert terminal(redis_client, run_id).type == "run_cancelled"
    page = session.http.get(f"/analyses/{run_id}").text
    assert "step--cancelled" in page and ">Cancelled<" in page and ">Failed<" not in page
    again = session.http.post(f"/analyses/{run_id}/cancel", data={"csrf_token": session.token})
    assert "already ended" in again.text
    session.close()


def test_the_page_offers_htmx_a_confirmation_before_it_cancels(live_server, browser_session):
    run_id = start_analysis(browser_session, "wash_genuine_gldx.xml")
    form = re.search(r'<form [^>]*class="cancel-form"[^>]*>', browser_session.http.get(f"/analyses/{run_id}").text)[0]
    assert 'hx-confirm="Cancel this analysis?' in form
