"""Hostile clients against the real server: cross-site requests from a real Chromium page, rate
limits, untrusted Host headers on the agent cards, and what one upload may cost."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis

from tests.conftest import SAMPLES, Browser, server_env, terminal
from tests.test_e2e import read_stream
from webapp.keys import RUNS_INDEX, alert_key, events_key, run_key

pytestmark = pytest.mark.e2e


class _AttackerPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>a page on another site</title><p>nothing to see"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def attacker_port():
    """A web server for the attacker's page, on another origin than the app."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AttackerPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def no_cors_post(page, url: str, payload: dict) -> int:
    """What the issue reproduced: fetch(url, {mode: "no-cors", method: "POST", body: new Blob([json])}),
    run by the page. The page cannot read the answer; the test reads its status from the network."""
    with page.expect_response(url) as answer:
        page.evaluate("([url, json]) => { fetch(url, {mode: 'no-cors', method: 'POST', body: new Blob([json])}); }",
                      [url, json.dumps(payload)])
    return answer.value.status


@pytest.mark.browser
@pytest.mark.parametrize("attacker_host", ["localhost", "127.0.0.1"])  # another site; the same site, another port
def test_no_cors_posts_from_another_origin_create_and_cancel_nothing(chromium, paced_server, redis_client,
                                                                     attacker_port, attacker_host):
    session = Browser(paced_server)
    live = session.upload((SAMPLES / "insider_genuine_acme.xml").read_bytes()).headers["location"].rsplit("/", 1)[1]
    runs_before = redis_client.zcard(RUNS_INDEX)
    planted = {"kind": "message", "messageId": "m1", "role": "user", "parts": [{"kind": "text", "text": (
        SAMPLES / "wash_genuine_gldx.xml").read_text().replace("John Smith", "Planted Name")}]}
    context = chromium.new_context()
    page = context.new_page()
    try:
        page.goto(f"http://{attacker_host}:{attacker_port}/")
        for path in ("/a2a", "/a2a/wash-trade"):
            assert no_cors_post(page, paced_server.url + path, {"jsonrpc": "2.0", "id": 1, "method": "message/send",
                                                                "params": {"message": planted}}) == 403
        assert no_cors_post(page, paced_server.url + "/a2a", {"jsonrpc": "2.0", "id": 2, "method": "tasks/cancel",
                                                              "params": {"id": live}}) == 403
        assert no_cors_post(page, paced_server.url + "/a2a", {"jsonrpc": "2.0", "id": 3, "method": "SendMessage",
                                                              "params": {"message": planted}}) == 403
    finally:
        context.close()
    assert redis_client.zcard(RUNS_INDEX) == runs_before  # nothing created
    assert redis_client.hget(run_key(live), "cancel_requested") is None
    assert terminal(redis_client, live).type == "run_completed"  # and nothing cancelled


def test_cross_site_headers_and_non_json_bodies_are_refused_even_without_a_browser(live_server, redis_client):
    body = {"jsonrpc": "2.0", "id": 1, "method": "message/send", "params": {"message": {
        "kind": "message", "messageId": "m", "role": "user",
        "parts": [{"kind": "text", "text": (SAMPLES / "wash_genuine_gldx.xml").read_text()}]}}}
    before = redis_client.zcard(RUNS_INDEX)
    with live_server.client() as http:
        for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                        {"Sec-Fetch-Site": "same-site"}, {"Origin": "null"},
                        {"Origin": live_server.url.replace("127.0.0.1", "evil.example"), "Host": "evil.example"}):
            refused = http.post("/a2a", json=body, headers=headers)
            assert refused.status_code == 403, headers
            assert refused.json()["error"]["code"] == -32600 and "Cross-site" in refused.json()["error"]["message"]
        for content_type in (None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
            headers = {"content-type": content_type} if content_type else {}
            refused = http.post("/a2a", content=json.dumps(body), headers=headers)
            assert refused.json()["error"]["code"] == -32005, content_type
        same_origin = http.post("/a2a", json={**body, "method": "tasks/get", "params": {"id": "x"}},
                                headers={"Origin": live_server.url, "Sec-Fetch-Site": "same-origin"})
        assert same_origin.json()["error"]["code"] == -32001  # allowed through, then: no such task
    assert redis_client.zcard(RUNS_INDEX) == before


# ----------------------------------------------------------------------------- rate limits

@pytest.fixture(scope="module")
def limited_server(start_server, redis_url):
    return start_server(server_env(redis_url, RATE_LIMIT_UPLOAD="3/minute", RATE_LIMIT_UPLOAD_IP="5/minute",
                                   RATE_LIMIT_A2A_SEND="2/minute", RATE_LIMIT_A2A_SEND_IP="100/minute"),
                        workers=2, name="limited")


def test_uploads_are_limited_per_user_and_per_address(limited_server):
    alert = (SAMPLES / "wash_false_positive_prsm.xml").read_bytes()
    alice, bob = Browser(limited_server, "analyst"), Browser(limited_server, "reviewer")  # two users
    assert [alice.upload(alert).status_code for _ in range(3)] == [303, 303, 303]
    refused = alice.upload(alert, htmx=True)
    assert refused.status_code == 429 and refused.headers["retry-after"]
    assert 'id="upload-form"' in refused.text and "Too many requests" in refused.text
    assert "3 per 1 minute" in refused.text  # Alice's own limit
    # Bob has his own allowance, but both come from one address, which has 5 a minute (Alice's refused
    # attempt counted too): his second upload is refused by the address's limit, not his own.
    assert bob.upload(alert).status_code == 303
    second = bob.upload(alert)
    assert second.status_code == 429 and "5 per 1 minute" in second.text
    with limited_server.client() as http:  # pages and reads are not limited
        assert http.get("/").status_code == 200 and http.get("/readyz").status_code == 200


def test_a2a_sends_are_limited_and_answered_as_json_rpc(limited_server):
    message = {"message": {"messageId": "m", "role": "ROLE_USER", "parts": [{"text": (
        SAMPLES / "wash_false_positive_prsm.xml").read_text()}]}, "configuration": {"returnImmediately": True}}
    tokens = limited_server.identity.tokens  # two users: each has an allowance of their own
    with limited_server.client() as http:
        def send(method="SendMessage", params=message):
            return http.post("/a2a", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
                             headers={"A2A-Version": "1.0", "Authorization": f"Bearer {tokens['analyst']}"})
        assert [send().status_code for _ in range(2)] == [200, 200]
        limited = send()
        assert limited.status_code == 429 and limited.headers["retry-after"]
        error = limited.json()["error"]
        assert error["code"] == -32000 and error["data"][0]["reason"] == "RATE_LIMIT_EXCEEDED"
        assert send("GetTask", {"id": "0" * 32}).json()["error"]["code"] == -32001  # reads are not limited
        other_client = http.post("/a2a", json={"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": message},
                                 headers={"A2A-Version": "1.0", "Authorization": f"Bearer {tokens['reviewer']}"})
        assert other_client.status_code == 200 and "task" in other_client.json()["result"]


# ----------------------------------------------------------------------------- agent cards

def test_agent_card_urls_never_come_from_an_untrusted_host_header(start_server, redis_url, live_server):
    with live_server.client() as http:
        forged = http.get("/.well-known/agent-card.json", headers={"Host": "evil.example"})
        assert forged.status_code == 400 and "PUBLIC_URL" in forged.json()["error"]
        local = http.get("/.well-known/agent-card.json")
        assert local.json()["supportedInterfaces"][0]["url"] == f"{live_server.url}/a2a"
        assert local.headers["cache-control"].startswith("private") and "Host" in local.headers["vary"]
    public = start_server(server_env(redis_url, PUBLIC_URL="https://analyzer.example.com"), workers=1, name="public")
    with public.client() as http:
        card = http.get("/a2a/spoofing/.well-known/agent-card.json", headers={"Host": "evil.example"})
        assert card.status_code == 200 and card.headers["cache-control"].startswith("public")
        assert card.json()["supportedInterfaces"][0]["url"] == "https://analyzer.example.com/a2a/spoofing"
    trusted = start_server(server_env(redis_url, TRUSTED_HOSTS="analyzer.internal"), workers=1, name="trusted")
    with trusted.client() as http:
        card = http.get("/.well-known/agent-card.json", headers={"Host": "analyzer.internal:8443"})
        assert card.json()["supportedInterfaces"][0]["url"] == "http://analyzer.internal:8443/a2a"
        assert http.get("/", headers={"Host": "evil.example"}).status_code == 400  # TRUSTED_HOSTS guards every page
        assert http.get("/healthz").status_code == 200


# ----------------------------------------------------------------------------- one upload's cost

E = "\U0001F600"  # four bytes in UTF-8: the costliest character per limit


def costliest_alert() -> bytes:
    """An insider alert with every field at its length limit in 4-byte characters, 50 notes, padded with
    a comment to just under 1 MiB."""
    xml = (SAMPLES / "insider_genuine_acme.xml").read_text()
    for old, new in {"ITA-2024-0313-001": E * 200, "Sarah Chen": E * 200, "M&amp;A Advisory": E * 200,
                     "Pre-Announcement Trading": "Pre-Announcement Trading" + E * 176, "SMARTS-IT-001": E * 500,
                     "2 days before announcement": E * 200, ">HIGH<": f">{E * 200}<",
                     "M&amp;A Announcement": E * 200,
                     "GlobalPharma agrees to acquire ACME Therapeutics at a 40% premium": E * 2000,
                     "</SMARTSAlert>": "<InvestigationNotes>" + f"<Note>{E * 2000}</Note>" * 50 +
                                       "</InvestigationNotes></SMARTSAlert>"}.items():
        assert old in xml
        xml = xml.replace(old, new)
    raw = xml.encode()
    return raw.replace(b"</SMARTSAlert>", b"<!--" + b"x" * (1024 * 1024 - len(raw) - 20) + b"--></SMARTSAlert>")


def test_one_upload_costs_a_bounded_amount_in_redis_reports_and_streams(browser_session, live_server, redis_client):
    raw = costliest_alert()
    assert 1_000_000 < len(raw) <= 1024 * 1024
    response = browser_session.upload(raw, E * 200 + ".xml")
    assert response.status_code == 303, response.text
    run_id = response.headers["location"].rsplit("/", 1)[1]
    assert terminal(redis_client, run_id).type == "run_completed"
    stored = sum(redis_client.memory_usage(key) for key in (run_key(run_id), events_key(run_id), alert_key(run_id)))
    with live_server.client() as http:
        answered = http.get(f"/analyses/{run_id}.json")
    assert answered.status_code == 200 and answered.json()["run"]["id"] == run_id
    report = answered.content
    replay = sum(len(event.data) for event in read_stream(live_server, run_id, after=0))
    # Before the limits: 6.3 MB in Redis for a 1 MB alert, a 19 MB report, a 30 MB replay.
    assert stored < len(raw) + 128 * 1024, stored  # the alert once, and a small log
    assert len(report) < 256 * 1024, len(report)
    assert replay < 256 * 1024, replay


def test_an_alert_is_parsed_once_per_worker_not_on_every_view(browser_session, live_server, redis_client, redis_url):
    run_id = browser_session.upload((SAMPLES / "wash_genuine_gldx.xml").read_bytes()).headers["location"][-32:]
    terminal(redis_client, run_id)
    commands = []
    with redis_client.monitor() as monitor, live_server.client() as http:  # every command Redis receives
        for _ in range(8):  # both workers serve some
            assert http.get(f"/analyses/{run_id}").status_code == 200
        redis.Redis.from_url(redis_url).echo("end of the page views")
        for command in monitor.listen():
            if "end of the page views" in command["command"]:
                break
            commands.append(command["command"])
    assert sum(c.startswith("HGETALL") and run_id in c for c in commands) >= 8  # the views did reach Redis
    alert_reads = [c for c in commands if c.startswith("GET") and f"{run_id}:alert" in c]
    assert len(alert_reads) <= 2, alert_reads  # once per worker at most, not once per view
