"""End to end against a real gunicorn + gevent server and a real Redis.

The stream is read with a real SSE client (httpx-sse), the way a browser's EventSource
would: ids, event names and the end of the stream are checked, not just the bytes.
"""

from __future__ import annotations

import re

import pytest
from httpx_sse import connect_sse

from tests.conftest import SAMPLES, Browser, terminal
from tests.expected_determinations import EXPECTED
from tests.html import element, normalise
from webapp.keys import channel, followers_key

pytestmark = pytest.mark.e2e


def read_stream(server, run_id: str, *, after: int | None = None, last_event_id: int | None = None):
    """Every SSE event of the run after the cursor, until the server ends the stream."""
    params = {"after": after} if after is not None else {}
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    with server.client(timeout=30) as http, connect_sse(http, "GET", f"/analyses/{run_id}/events",
                                                        params=params, headers=headers) as source:
        assert source.response.status_code == 200
        assert source.response.headers["content-type"].startswith("text/event-stream")
        assert source.response.headers["cache-control"] == "no-cache"
        assert source.response.headers["x-accel-buffering"] == "no"
        # iter_sse() returns only because the server ends the stream. httpx-sse also yields the
        # "retry:"-only frame, which a browser's EventSource does not dispatch; drop it likewise.
        return [e for e in source.iter_sse() if e.data or e.event != "message"]


def start_analysis(session: Browser, name: str) -> str:
    response = session.upload((SAMPLES / name).read_bytes(), name)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/analyses/")
    return location.rsplit("/", 1)[1]


@pytest.mark.parametrize("name", ["insider_genuine_acme.xml", "wash_false_positive_prsm.xml",
                                  "spoofing_ambiguous_krnl.xml"])
def test_upload_streams_every_event_in_order_and_ends(browser_session, live_server, name):
    run_id = start_analysis(browser_session, name)
    events = read_stream(live_server, run_id, after=0)

    *logged, close = events
    assert close.event == "close"
    ids = [int(e.id) for e in logged]
    assert ids == list(range(1, len(ids) + 1))
    types = [e.event for e in logged]
    assert types[0] == "run_started"
    assert types[-2:] == ["decision", "run_completed"]
    assert types.count("step_started") == types.count("step_completed") + types.count("step_failed")

    report = live_server.client().get(f"/analyses/{run_id}.json").json()
    assert report["run"]["status"] == "completed"
    assert [e["seq"] for e in report["events"]] == ids
    assert report["decision"]["determination"] == EXPECTED[name][0]


def _published(monitor, channel_name: str, client) -> list[str]:
    """The publishes on the channel that Redis executed (MONITOR shows commands scripts run too),
    up to a sentinel sent now: everything the run published before it has been seen by then."""
    sentinel = f"sentinel-{channel_name}"
    client.echo(sentinel)
    seen = []
    for command in monitor.listen():
        text = command["command"]
        if sentinel in text:
            return seen
        if text.split(" ", 1)[0].upper() in ("PUBLISH", "SPUBLISH") and channel_name in text:
            seen.append(text)
    raise AssertionError("the monitor stopped before the sentinel")


def test_events_are_published_only_while_a_stream_follows_the_run(browser_session, live_server, redis_client):
    with redis_client.monitor() as monitor:
        unwatched = start_analysis(browser_session, "wash_genuine_gldx.xml")
        assert terminal(redis_client, unwatched).type == "run_completed"
        assert _published(monitor, channel(unwatched), redis_client) == []

        watched = start_analysis(browser_session, "wash_genuine_gldx.xml")
        streamed = read_stream(live_server, watched)  # follows from the start: replay, then live
        assert streamed[-1].event == "close"
        assert redis_client.hlen(followers_key(watched)) == 0  # the stream's entry left with it


def test_page_rendered_after_completion_equals_the_live_result(browser_session, live_server):
    run_id = start_analysis(browser_session, "wash_genuine_gldx.xml")
    events = read_stream(live_server, run_id, after=0)
    # Fragments only replace elements by id, so the live page ends as the last fragment
    # carrying each element left it; the terminal event carries all three.
    live = {}
    for event in events[:-1]:
        for element_id in ("run-header", "timeline", "decision"):
            found = element(event.data, element_id)
            if found:
                live[element_id] = normalise(found)
    page = live_server.client().get(f"/analyses/{run_id}").text
    for element_id in ("run-header", "timeline", "decision"):
        assert normalise(element(page, element_id)) == live[element_id], element_id
    assert 'class="verdict verdict--escalate"' in live["decision"]
    assert "sse-connect" not in page  # a finished run needs no stream


def test_reconnect_resumes_after_the_cursor(browser_session, live_server):
    run_id = start_analysis(browser_session, "insider_false_positive_nova.xml")
    everything = [e for e in read_stream(live_server, run_id, after=0) if e.event != "close"]
    last = int(everything[-1].id)

    middle = last // 2
    resumed = read_stream(live_server, run_id, last_event_id=middle)
    assert [int(e.id) for e in resumed[:-1]] == list(range(middle + 1, last + 1))
    assert resumed[-1].event == "close"
    # The later of ?after= and Last-Event-ID wins: the browser's id is newer than the page's.
    assert int(read_stream(live_server, run_id, after=3, last_event_id=middle)[0].id) == middle + 1
    assert int(read_stream(live_server, run_id, after=middle, last_event_id=3)[0].id) == middle + 1
    # A client already past the end gets the close at once.
    assert [e.event for e in read_stream(live_server, run_id, after=last)] == ["close"]


def test_stream_only_exists_for_runs(live_server):
    with live_server.client() as http:
        assert http.get("/analyses/0123456789abcdef0123456789abcdef/events").status_code == 404
        assert http.get("/analyses/not-a-run/events").status_code == 404
        assert http.get("/stream", params={"channel": "analysis:x"}).status_code == 404  # no stock endpoint


def test_bad_cursor_is_a_clear_400(browser_session, live_server):
    run_id = start_analysis(browser_session, "insider_genuine_acme.xml")
    response = live_server.client().get(f"/analyses/{run_id}/events", params={"after": "ten"})
    assert response.status_code == 400
    assert "whole number" in response.text


BAD_FILES = {
    "empty.xml": (b"", 400, "The file is empty."),
    "broken.xml": (b"<SMARTSAlert><AlertID>1", 422, "not well-formed XML"),
    "xxe.xml": (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                b"<SMARTSAlert><AlertID>&x;</AlertID></SMARTSAlert>", 422, "XXE"),
    "root.xml": (b"<Alert/>", 422, "Unsupported root element &lt;Alert&gt;"),
    "type.xml": ((SAMPLES / "insider_genuine_acme.xml").read_bytes().replace(b"Pre-Announcement Trading",
                                                                            b"Marking the Close"),
                 422, "Unknown alert type &#39;Marking the Close&#39;"),
    "latin1.xml": ((SAMPLES / "insider_genuine_acme.xml").read_bytes().replace(b"Chen", b"Ch\xe9n"), 422,
                   "not UTF-8 text"),
}


def _run_keys(redis_client) -> tuple[int, int]:
    """Runs indexed, and runs with any key: counted by id, since a run of an earlier test that is still
    going adds keys of its own (its log, its lease) while this one checks that it added no run. The desk's
    live feed keeps a followers entry among them (``saa:run:{desk}:followers``) while a queue is open."""
    tags = (re.search(rb"\{([0-9a-f]{32})\}", key) for key in redis_client.keys("saa:run:*"))
    ids = {tag.group(1) for tag in tags if tag}
    return redis_client.zcard("saa:runs"), len(ids)


@pytest.mark.parametrize("filename", sorted(BAD_FILES))
def test_bad_upload_is_refused_in_the_form_and_nothing_is_stored(browser_session, redis_client, filename):
    content, status, message = BAD_FILES[filename]
    before = _run_keys(redis_client)

    plain = browser_session.upload(content, filename)
    assert plain.status_code == status
    assert "<html" in plain.text and 'id="upload-form"' in plain.text
    assert message in element(plain.text, "upload-error")

    htmx = browser_session.upload(content, filename, htmx=True)
    assert htmx.status_code == status
    assert htmx.text.lstrip().startswith('<form id="upload-form"') and "<html" not in htmx.text
    assert message in element(htmx.text, "upload-error")

    assert _run_keys(redis_client) == before


def test_oversized_upload_is_413_and_nothing_is_stored(browser_session, redis_client):
    before = _run_keys(redis_client)
    padding = b"<!-- " + b"x" * (1024 * 1024) + b" -->"
    response = browser_session.upload((SAMPLES / "insider_genuine_acme.xml").read_bytes() + padding, "big.xml")
    assert response.status_code == 413
    assert "larger than the 1 MiB limit" in element(response.text, "upload-error")
    way_too_big = browser_session.upload(b"x" * (3 * 1024 * 1024), "huge.xml", htmx=True)
    assert way_too_big.status_code == 413 and "1 MiB" in way_too_big.text
    assert _run_keys(redis_client) == before


def test_missing_file_and_missing_csrf_are_refused(browser_session, live_server, redis_client):
    before = _run_keys(redis_client)
    no_file = browser_session.http.post("/analyses", data={"csrf_token": browser_session.token})
    assert no_file.status_code == 400 and "Choose an alert file" in no_file.text
    with live_server.client() as stranger:
        forged = stranger.post("/analyses", files={"alert": ("a.xml", (SAMPLES / "insider_genuine_acme.xml")
                                                             .read_bytes(), "application/xml")})
    assert forged.status_code == 400 and "did not come from this site" in forged.text
    assert _run_keys(redis_client) == before


def test_htmx_upload_answers_with_hx_redirect(browser_session):
    response = browser_session.upload((SAMPLES / "wash_genuine_gldx.xml").read_bytes(), htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/analyses/")


HOSTILE = "<script>alert('x')</script>"


def test_user_supplied_text_is_escaped_in_pages_and_fragments(browser_session, live_server):
    xml = (SAMPLES / "insider_genuine_acme.xml").read_bytes().replace(
        b"<Name>Sarah Chen</Name>", f"<Name>{HOSTILE.replace('<', '&lt;')}</Name>".encode()).replace(
        b"<EventDescription>", b"<EventDescription>&lt;img src=x onerror=alert(1)&gt; ")
    response = browser_session.upload(xml, '<b onmouseover="x">bad name</b>.xml')
    run_id = response.headers["location"].rsplit("/", 1)[1]
    events = read_stream(live_server, run_id, after=0)
    page = live_server.client().get(f"/analyses/{run_id}").text
    stor = live_server.client().get(f"/analyses/{run_id}/stor.txt").text
    for markup in [page, *(e.data for e in events)]:
        assert "<script>alert" not in markup and "<img src=x" not in markup and "<b onmouseover" not in markup
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "&lt;b onmouseover=&#34;x&#34;&gt;" in page
    assert any("&lt;script&gt;" in e.data for e in events)
    assert HOSTILE in stor  # a plain-text download carries the text itself


def test_sample_alerts_can_be_downloaded_and_investigated(browser_session, live_server):
    with live_server.client() as http:
        download = http.get("/samples/wash_genuine_gldx.xml")
        assert download.status_code == 200 and download.content == (SAMPLES / "wash_genuine_gldx.xml").read_bytes()
        assert http.get("/samples/..%2Fpyproject.toml").status_code == 404
    response = browser_session.http.post("/analyses", data={"csrf_token": browser_session.token,
                                                            "sample": "spoofing_genuine_flux.xml"})
    assert response.status_code == 303
    missing = browser_session.http.post("/analyses", data={"csrf_token": browser_session.token,
                                                           "sample": "../../etc/passwd"})
    assert missing.status_code == 404


def test_stor_draft_download_only_for_escalations(browser_session, live_server):
    escalated = start_analysis(browser_session, "wash_genuine_gldx.xml")
    closed = start_analysis(browser_session, "wash_false_positive_prsm.xml")
    read_stream(live_server, escalated, after=0)
    read_stream(live_server, closed, after=0)
    with live_server.client() as http:
        stor = http.get(f"/analyses/{escalated}/stor.txt")
        assert stor.status_code == 200 and stor.headers["content-type"].startswith("text/plain")
        assert "attachment" in stor.headers["content-disposition"]
        assert "SUSPICIOUS TRANSACTION AND ORDER REPORT" in stor.text and "GLDX" in stor.text
        assert "tipping-off" in stor.text
        assert http.get(f"/analyses/{closed}/stor.txt").status_code == 404


def test_the_analyses_page_lists_recent_analyses_and_health_endpoints_answer(browser_session, live_server):
    run_id = start_analysis(browser_session, "insider_edge_empty_news.xml")
    with live_server.client() as http:
        assert f"/analyses/{run_id}" in http.get("/analyses").text
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/readyz").json() == {"status": "ready"}
        assert "saa_sse_streams_open" in http.get("/metrics").text
        headers = http.get("/").headers
        assert "default-src 'self'" in headers["content-security-policy"]
        assert http.get(f"/analyses/{'f' * 32}").status_code == 404
