"""The desk in a real Chromium against the served app (gunicorn + gevent, two workers, Redis, the
session's SQLite record): two people in two browser contexts — an analyst and a reviewer — see
each other's work arrive live; four-eyes holds in the browser; the queue's search, paging and
CSV agree on the same cases."""

from __future__ import annotations

import csv
import io
import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from agents.alerts import parse_alert
from tests.conftest import SAMPLES, Browser, _close, _page, sign_in_browser, terminal
from tests.servers import Identity
from webapp.record import Database, cases, runs
from webapp.record.audit import Actor

pytestmark = pytest.mark.browser


def renamed(sample: str, alert_id: str, name: str | None = None) -> bytes:
    raw = (SAMPLES / sample).read_bytes()
    alert = parse_alert(raw)
    raw = raw.replace(alert.alert_id.encode(), alert_id.encode())
    if name is not None:
        raw = raw.replace(f"<Name>{alert.trader.name}</Name>".encode(), f"<Name>{name}</Name>".encode())
    return raw


def analysed(redis_client, upload, alert_id: str) -> None:
    """Wait until the run has ended and its record is on the case: the record bumps the case's version
    as it writes the determination, a moment after the run's last event, and a page loaded before
    that would act on a stale version (a 409, rightly)."""
    assert upload.status_code == 303
    assert terminal(redis_client, upload.headers["location"].rsplit("/", 1)[1]).type == "run_completed"
    db, deadline = Database(Identity.current().database_url), time.monotonic() + 30
    while cases.get(db, alert_id).ai_determination is None:
        assert time.monotonic() < deadline, f"the run of {alert_id} never reached its case"
        time.sleep(0.02)  # polling a condition, with a deadline


@pytest.fixture
def two_people(chromium, page_errors, live_server):
    """An analyst's and a reviewer's browser, each signed in in its own context."""
    made = []
    for role in ("analyst", "reviewer"):
        context, page = _page(chromium, page_errors)
        sign_in_browser(context, live_server, role)
        made.append((context, page))
    yield made[0][1], made[1][1]
    for context, _ in made:
        context.close()
    assert list(page_errors) == [], f"the pages had problems: {list(page_errors)}"


def test_a_proposal_and_its_approval_arrive_live_for_the_other_person(two_people, live_server, redis_client):
    analyst, reviewer = two_people
    alert_id = f"DESK-LIVE-{uuid.uuid4().hex[:8].upper()}"
    analysed(redis_client, Browser(live_server).upload(renamed("insider_genuine_acme.xml", alert_id)), alert_id)

    reviewer.goto(f"{live_server.url}/?q={alert_id}")
    row = reviewer.locator("tr.queue-row")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-state", "new")
    loads = []
    reviewer.on("load", lambda: loads.append(reviewer.url))

    analyst.goto(f"{live_server.url}/cases/{alert_id}")
    expect(analyst.locator("#case-state")).to_have_text("New")
    analyst.click("[data-action=assign] button")
    expect(analyst.locator("#case-state")).to_have_text("In progress")
    expect(row).to_have_attribute("data-state", "in_progress")  # live, on the reviewer's queue
    expect(row).to_contain_text("test-analyst")

    analyst.check("input[name=outcome][value=ESCALATE]")
    analyst.select_option("#reason-code", "reasonable_suspicion")
    analyst.fill("#rationale", "Bought 2 days before the takeover, ten times his usual size, nothing public.")
    analyst.click("[data-action=propose] button")
    expect(analyst.locator("#desk-status")).to_contain_text("waiting for a reviewer")
    expect(analyst.locator("#own-proposal")).to_be_visible()
    expect(analyst.locator("[data-action=approve]")).to_have_count(0)
    expect(row).to_have_attribute("data-state", "proposed")  # arrived live
    assert loads == []  # no reload on the reviewer's side

    reviewer.click(f"tr.queue-row a:text('{alert_id}')")
    reviewer.wait_for_url(re.compile(r"/cases/"))
    reviewer.fill("#approve-comment", "Agreed: report it.")
    reviewer.click("[data-action=approve] button")
    expect(reviewer.locator("#case-state")).to_have_text("Escalated")

    # The analyst's page follows without a reload: the state, the review, and their own next step.
    expect(analyst.locator("#case-state")).to_have_text("Escalated")
    expect(analyst.locator(".case-reviews")).to_contain_text("Agreed: report it.")
    expect(analyst.locator("[data-action=submit_stor]")).to_be_visible()
    assert cases.get(Database(Identity.current().database_url), alert_id).outcome == "ESCALATE"


def test_what_one_is_typing_survives_a_colleagues_change_and_only_a_sent_form_comes_back_empty(
        two_people, live_server, redis_client):
    analyst, reviewer = two_people
    alert_id = f"DESK-TYPED-{uuid.uuid4().hex[:8].upper()}"
    analysed(redis_client, Browser(live_server).upload(renamed("insider_genuine_acme.xml", alert_id)), alert_id)
    analyst.goto(f"{live_server.url}/cases/{alert_id}")
    analyst.click("[data-action=assign] button")
    expect(analyst.locator("#case-state")).to_have_text("In progress")
    expect(analyst.locator("#desk-status")).to_contain_text("Assigned.")  # the answer, not only the live update

    rationale = "Half written: bought after the results were public — still checking <the> news."
    analyst.check("#outcome-close")
    analyst.select_option("#reason-code", "reasonable_suspicion")
    analyst.fill("#rationale", rationale)
    analyst.fill("#note-text", "A note I am still writing")
    version = int(analyst.locator(".case-status").get_attribute("data-version"))

    reviewer.goto(f"{live_server.url}/cases/{alert_id}")
    reviewer.fill("#note-text", "Colleague: the results came out at 07:00.")
    reviewer.click("[data-action=note] button")
    expect(analyst.locator(".case-notes")).to_contain_text("Colleague: the results")  # live
    # The analyst's actions reloaded for the new version (a proposal from them would not be stale)…
    expect(analyst.locator("[data-action=propose] input[name=version]")).to_have_value(str(version + 1))
    # …and kept everything typed or chosen.
    expect(analyst.locator("#rationale")).to_have_value(rationale)
    expect(analyst.locator("#note-text")).to_have_value("A note I am still writing")
    expect(analyst.locator("#outcome-close")).to_be_checked()
    expect(analyst.locator("#reason-code")).to_have_value("reasonable_suspicion")

    analyst.click("[data-action=note] button")  # sending one form empties it, and only it
    expect(analyst.locator("#desk-status")).to_contain_text("Note added.")
    expect(analyst.locator(".case-notes")).to_contain_text("A note I am still writing")
    expect(analyst.locator("#note-text")).to_have_value("")
    expect(analyst.locator("#rationale")).to_have_value(rationale)

    analyst.click("[data-action=propose] button")  # what was kept is what is proposed, at the current version
    expect(analyst.locator("#case-state")).to_have_text("Disposition proposed")
    case = cases.get(Database(Identity.current().database_url), alert_id)
    assert (case.proposed_outcome, case.reason_code, case.rationale) == ("CLOSE", "reasonable_suspicion", rationale)
    assert sorted(n.text for n in case.notes) == ["A note I am still writing",
                                                  "Colleague: the results came out at 07:00."]


def test_a_new_case_is_announced_on_an_open_queue_and_one_click_lists_it(two_people, live_server):
    _analyst, reviewer = two_people
    alert_id = f"DESK-NEW-{uuid.uuid4().hex[:8].upper()}"
    with reviewer.expect_response(lambda response: "/desk/events" in response.url):  # subscribed: it hears all after
        reviewer.goto(f"{live_server.url}/?q={alert_id}")
    expect(reviewer.locator("#queue-empty")).to_be_visible()
    expect(reviewer.locator("#queue-news")).to_be_hidden()

    upload = Browser(live_server).upload(renamed("insider_genuine_acme.xml", alert_id))
    assert upload.status_code == 303
    news = reviewer.locator("#queue-news")
    expect(news).to_be_visible()  # live, without a reload
    expect(news).to_contain_text("1 case not in this list changed or arrived")
    news.get_by_role("link", name="Show the list as it is now").click()
    expect(reviewer.locator(f"tr.queue-row:has-text('{alert_id}')")).to_have_count(1)
    expect(reviewer.locator("#queue-news")).to_be_hidden()


def test_a_reviewer_cannot_approve_their_own_proposal_in_the_browser(chromium, page_errors, live_server):
    alert_id = f"DESK-SELF-{uuid.uuid4().hex[:8].upper()}"
    db = Database(Identity.current().database_url)
    raw = renamed("wash_genuine_gldx.xml", alert_id)
    runs.record_start(db, Actor("test-reviewer", "reviewer"), [(uuid.uuid4().hex, parse_alert(raw), raw, "a.xml")])
    me = Actor("test-reviewer", "reviewer")
    cases.assign(db, me, alert_id, None)
    cases.propose(db, me, alert_id, None, outcome="ESCALATE", reason_code="refer_to_legal", rationale="Mine.",
                  reason_codes={"refer_to_legal": "Refer"})
    context, page = _page(chromium, page_errors)
    try:
        sign_in_browser(context, live_server, "reviewer")
        page.goto(f"{live_server.url}/cases/{alert_id}")
        expect(page.locator("#own-proposal")).to_be_visible()
        expect(page.locator("[data-action=approve]")).to_have_count(0)
        token = page.locator("input[name=csrf_token]").first.get_attribute("value")
        version = page.locator(".case-status").get_attribute("data-version")
        page_errors.allow(403, r"/approve$")
        refused = page.request.post(f"{live_server.url}/cases/{alert_id}/approve", max_redirects=0,
                                    form={"csrf_token": token, "version": version})
        assert refused.status == 403 and "four-eyes" in refused.text()
        assert cases.get(db, alert_id).state == "proposed"
    finally:
        _close(context, page_errors)


def test_search_paging_and_the_csv_agree_on_the_same_cases(page, live_server):
    token = uuid.uuid4().hex[:8]
    name = f"Pager {token}"
    db = Database(Identity.current().database_url)
    entries = []
    for n in range(57):
        raw = renamed("insider_genuine_acme.xml", f"QP-{token}-{n:03d}", name)
        entries.append((uuid.uuid4().hex, parse_alert(raw), raw, "p.xml"))
    runs.record_start(db, Actor("test-analyst", "analyst"), entries)

    page.goto(live_server.url + "/")
    page.fill("#queue-q", name.lower())  # active search: the rows change without a page load
    page.wait_for_url(re.compile(rf"/\?q=pager(\+|%20){token}$"))  # the view's own link, nothing else
    rows = page.locator("tr.queue-row")
    expect(rows).to_have_count(50)
    first = rows.evaluate_all("rs => rs.map(r => r.querySelector('a').textContent)")
    page.click("#queue-next")
    expect(rows).to_have_count(7)
    second = rows.evaluate_all("rs => rs.map(r => r.querySelector('a').textContent)")
    assert len(set(first + second)) == 57 and all(a.startswith(f"QP-{token}-") for a in first + second)

    href = page.locator("#queue-csv").get_attribute("href")
    exported = page.request.get(live_server.url + href)
    assert exported.status == 200
    ids = [r["alert_id"] for r in csv.DictReader(io.StringIO(exported.text()))]
    assert ids == first + second  # the same cases in the same order

    page.go_back()  # the filtered first page is a link in the history
    expect(rows).to_have_count(50)
    assert re.search(rf"q=pager(\+|%20){token}$", page.url)


def _case_form(session: Browser, alert_id: str, action: str, **fields) -> int:
    version = cases.get(Database(Identity.current().database_url), alert_id).version
    return session.http.post(f"/cases/{alert_id}/{action}", data={"csrf_token": session.token,
                                                                 "version": version, **fields}).status_code


def test_the_desk_stream_sends_a_cases_changes_once_and_resumes_after_the_last_one(live_server):
    from httpx_sse import connect_sse

    alert_id = f"DESK-SSE-{uuid.uuid4().hex[:8].upper()}"
    db = Database(Identity.current().database_url)
    raw = renamed("insider_genuine_acme.xml", alert_id)
    runs.record_start(db, Actor("test-analyst", "analyst"), [(uuid.uuid4().hex, parse_alert(raw), raw, "a.xml")])
    analyst = Browser(live_server)
    seen: list[tuple[str, str]] = []
    with live_server.client(role="reviewer", timeout=30) as http:
        with connect_sse(http, "GET", f"/desk/events?case={alert_id}") as source:
            assert _case_form(analyst, alert_id, "assign") == 303
            for event in source.iter_sse():
                if event.event == "desk":
                    seen.append((event.id, event.data))
                    break
        assert 'data-state="in_progress"' in seen[0][1] and "hx-swap-oob" in seen[0][1]
        assert _case_form(analyst, alert_id, "note", text="second change") == 303
        # Reconnecting after the first change: the second arrives, the first is not sent again.
        with connect_sse(http, "GET", f"/desk/events?case={alert_id}",
                         headers={"Last-Event-ID": seen[0][0]}) as source:
            for event in source.iter_sse():
                if event.event == "desk":
                    seen.append((event.id, event.data))
                    break
    assert seen[1][0] != seen[0][0] and "second change" in seen[1][1]


def test_live_updates_leave_the_keyboard_focus_where_it_was(two_people, live_server, redis_client):
    """The counts and a row are replaced whenever a case changes; a keyboard user on one of their links
    must stay there (htmx gives focus back to the element with the same id), not be sent to the page's
    top (seeded run 1438817142 caught the focus leaving the queue's first link)."""
    analyst, reviewer = two_people
    alert_id = f"DESK-FOCUS-{uuid.uuid4().hex[:8].upper()}"
    analysed(redis_client, Browser(live_server).upload(renamed("insider_genuine_acme.xml", alert_id)), alert_id)
    with reviewer.expect_response(lambda response: "/desk/events" in response.url):  # subscribed
        reviewer.goto(f"{live_server.url}/?q={alert_id}")
    row = reviewer.locator("tr.queue-row")
    expect(row).to_have_attribute("data-state", "new")

    focused = reviewer.locator("#queue-counts a[data-state=new]")
    focused.focus()
    other = Browser(live_server).upload(renamed("insider_genuine_acme.xml", f"{alert_id}-OTHER"))
    assert other.status_code == 303
    expect(reviewer.locator("#queue-news")).to_be_visible()  # the counts came in the same message
    expect(focused).to_be_focused()

    link = row.get_by_role("link", name=alert_id)
    link.focus()
    analyst.goto(f"{live_server.url}/cases/{alert_id}")
    analyst.click("[data-action=assign] button")
    expect(row).to_have_attribute("data-state", "in_progress")  # the row was replaced, live
    expect(link).to_be_focused()
