"""The bad-input corpus: every hostile or broken input we know of, sent to the real server (gunicorn +
gevent + Redis), each answered with its specific, clear error — an HTML form error for the browser, a
JSON-RPC error for A2A — and nothing stored.

Alert files go through both doors (the upload form and A2A SendMessage); the rest probe one door.
Add a probe here whenever a new way in is found.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
import redis

from tests.conftest import SAMPLES, Browser, terminal
from tests.html import element
from webapp.keys import RUNS_INDEX

pytestmark = pytest.mark.e2e

INSIDER = (SAMPLES / "insider_genuine_acme.xml").read_bytes()
WASH = (SAMPLES / "wash_genuine_gldx.xml").read_bytes()
SPOOF = (SAMPLES / "spoofing_genuine_flux.xml").read_bytes()
MIB = 1024 * 1024
V1 = {"A2A-Version": "1.0"}


def deep(levels: int) -> bytes:
    return b"<SMARTSAlert>" + b"<a>" * levels + b"</a>" * levels + b"</SMARTSAlert>"


# name -> (file, HTTP status of the form's answer, what the message must say). Messages as the HTML
# shows them (escaped); A2A carries the same text in a -32602 error.
ALERT_FILES: dict[str, tuple[bytes, int, str]] = {
    "empty": (b"", 400, "The file is empty."),
    "whitespace": (b"  \n\t ", 400, "The file is empty."),
    "not-well-formed": (b"<SMARTSAlert><AlertID>1", 422, "not well-formed XML"),
    "nul-byte": (INSIDER.replace(b"Sarah", b"Sa\x00rah"), 422, "not well-formed XML"),
    "xxe-file": (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                 b"<SMARTSAlert><AlertID>&x;</AlertID></SMARTSAlert>", 422, "XXE"),
    "xxe-url": (b'<!DOCTYPE a [<!ENTITY x SYSTEM "http://127.0.0.1:1/x">]><SMARTSAlert>&x;</SMARTSAlert>', 422,
                "XXE"),
    "billion-laughs": (b'<!DOCTYPE l [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                       b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><SMARTSAlert>&c;</SMARTSAlert>', 422,
                       "entity-expansion"),
    "parameter-entity": (b'<!DOCTYPE a [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><SMARTSAlert/>', 422,
                         "DOCTYPE"),
    "external-dtd": (b'<!DOCTYPE SMARTSAlert SYSTEM "http://127.0.0.1:1/alert.dtd"><SMARTSAlert/>', 422,
                     "DOCTYPE"),
    "latin-1": (INSIDER.replace(b"Chen", b"Ch\xe9n"), 422, "not UTF-8 text"),
    "utf-16": ("<SMARTSAlert/>".encode("utf-16"), 422, "not UTF-8 text"),
    "declared-encoding": (INSIDER.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"'), 422,
                          "only UTF-8 alerts are accepted"),
    "binary": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, 422, "not UTF-8 text"),
    "wrong-root": (b"<Alert/>", 422, "Unsupported root element &lt;Alert&gt;"),
    "html": (b"<html><body><script>alert(1)</script></body></html>", 422, "Unsupported root element &lt;html&gt;"),
    "unknown-type": (INSIDER.replace(b"Pre-Announcement Trading", b"Marking the Close"), 422,
                     "Unknown alert type &#39;Marking the Close&#39;"),
    "type-in-wrong-shape": (INSIDER.replace(b"Pre-Announcement Trading", b"WashTrade"), 422,
                            "does not use the &lt;SMARTSAlert&gt; shape"),
    "missing-element": (INSIDER.replace(b"<TraderID>T001</TraderID>", b""), 422,
                        "Missing required element SMARTSAlert/Trader/TraderID"),
    "empty-element": (INSIDER.replace(b"<Symbol>ACME</Symbol>", b"<Symbol> </Symbol>"), 422,
                      "Element SMARTSAlert/SuspiciousActivity/Symbol is empty"),
    "not-a-number": (INSIDER.replace(b"<Quantity>40000</Quantity>", b"<Quantity>lots</Quantity>"), 422,
                     "must be a whole number, got &#39;lots&#39;"),
    "not-finite": (INSIDER.replace(b"<Price>52.30</Price>", b"<Price>NaN</Price>"), 422,
                   "Price must be a number, got &#39;NaN&#39;"),
    "overflow": (INSIDER.replace(b"<Price>52.30</Price>", b"<Price>1e999</Price>"), 422,
                 "Price must be a number"),
    "bad-date": (INSIDER.replace(b"2024-03-13", b"13/03/2024"), 422, "must be a date (YYYY-MM-DD)"),
    "bad-side": (INSIDER.replace(b"<Side>BUY</Side>", b"<Side>HOLD</Side>"), 422, "must be BUY or SELL"),
    "bad-action": (SPOOF.replace(b"<Action>PLACE</Action>", b"<Action>SPOOF</Action>", 1), 422,
                   "must be PLACE, AMEND, CANCEL or EXECUTE"),
    "no-trades": (WASH.split(b"<FlaggedTrades>")[0] + b"<FlaggedTrades/></SmartsAlert>", 422,
                  "contains no &lt;Trade&gt; elements"),
    "100000-deep": (deep(100_000), 422, "more than 10 levels deep"),
    "too-many-elements": (b"<SMARTSAlert>" + b"<x/>" * 20_000 + b"</SMARTSAlert>", 422,
                          "more than 10,000 elements"),
    "800-kb-emoji-name": (INSIDER.replace(b"Sarah Chen", "\U0001F600".encode() * 200_000), 422,
                          "SMARTSAlert/Trader/Name is 200,000 characters long; the limit is 200"),
    "long-note": (WASH.replace(b"</SmartsAlert>", b"<InvestigationNotes><Note>" + b"n" * 2_001 +
                               b"</Note></InvestigationNotes></SmartsAlert>"), 422, "the limit is 2,000"),
    "too-many-notes": (WASH.replace(b"</SmartsAlert>", b"<InvestigationNotes>" + b"<Note>n</Note>" * 51 +
                                    b"</InvestigationNotes></SmartsAlert>"), 422, "51 &lt;Note&gt; elements"),
    "too-many-trades": (WASH.replace(b"</FlaggedTrades>", WASH.split(b"<FlaggedTrades>")[1].split(
        b"</FlaggedTrades>")[0] * 251 + b"</FlaggedTrades>"), 422, "&lt;Trade&gt; elements; the limit is 500"),
    "oversize": (INSIDER + b"<!--" + b"x" * MIB + b"-->", 413, "larger than the 1 MiB limit"),
}


@dataclass(frozen=True)
class Probe:
    """One request and what its answer must be."""

    send: Callable[[object, str], httpx.Response]  # (server, the id of a finished run) -> the answer
    check: Callable[[httpx.Response], None]


def form_error(status: int, message: str):
    def check(response: httpx.Response) -> None:
        assert response.status_code == status, response.text[:500]
        assert message in element(response.text, "upload-error"), element(response.text, "upload-error")
    return check


def rpc_error(code: int, text: str = "", status: int = 200, reason: str | None = None):
    def check(response: httpx.Response) -> None:
        assert response.status_code == status, response.text[:500]
        assert response.headers["content-type"] == "application/json"
        error = response.json()["error"]
        assert error["code"] == code, error
        assert text in error["message"], error["message"]
        if reason:
            assert error["data"][0]["reason"] == reason
    return check


def status_is(status: int, text: str = ""):
    def check(response: httpx.Response) -> None:
        assert response.status_code == status, response.text[:300]
        assert text in response.text
    return check


def upload(content: bytes, name: str = "alert.xml"):
    def send(server, _run_id) -> httpx.Response:
        return Browser(server).upload(content, name)
    return send


def form(**fields: str):
    def send(server, _run_id) -> httpx.Response:
        session = Browser(server)
        return session.http.post("/analyses", data={"csrf_token": session.token, **fields})
    return send


def post(path: str, body: bytes | str, headers: dict | None = None, *, chunked: bool = False):
    def send(server, _run_id) -> httpx.Response:
        content = body.encode() if isinstance(body, str) else body
        if chunked:  # no Content-Length: Transfer-Encoding: chunked
            content = iter([content[i:i + 65536] for i in range(0, len(content), 65536)])
        with server.client() as http:
            return http.post(path, content=content, headers=headers or {})
    return send


def rpc(method: str, params: dict | None = None, headers: dict | None = None, path: str = "/a2a"):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}})
    return post(path, body, {"content-type": "application/json", **V1, **(headers or {})})


def get(path: str, headers: dict | None = None):
    def send(server, run_id) -> httpx.Response:
        with server.client() as http:
            return http.get(path.replace("{run}", run_id), headers=headers or {})
    return send


def message(*parts: dict) -> dict:
    return {"message": {"messageId": uuid.uuid4().hex, "role": "ROLE_USER", "parts": list(parts)}}


def xml_part(content: bytes) -> dict:
    return {"raw": base64.b64encode(content).decode(), "mediaType": "application/xml"}


def multipart(content: bytes) -> tuple[bytes, dict]:
    boundary = "probe-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"alert\"; filename=\"big.xml\"\r\n"
            f"Content-Type: application/xml\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, {"content-type": f"multipart/form-data; boundary={boundary}"}


JSON_RPC = {"content-type": "application/json", **V1}
BIG_JSON = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "SendMessage",
                       "params": message(xml_part(b"x" * 15 * MIB))})


def oversized_form(*, chunked: bool):
    """A multipart body past the request limit (BATCH_MAX_BYTES, 64 MiB, plus 1 MiB), streamed to the server."""
    head, headers = multipart(b"@")
    head, tail = head.split(b"@")
    size = 70

    def body():
        yield head
        for _ in range(size):
            yield b"x" * MIB
        yield tail

    def send(server, _run_id) -> httpx.Response:
        sent = dict(headers) if chunked else {**headers, "content-length": str(len(head) + size * MIB + len(tail))}
        with server.client() as http:
            return http.post("/analyses", content=body(), headers=sent)
    return send


NOT_AN_ALERT = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": message(
    {"text": "Hello! Can you look at the trade Sarah Chen made in ACME last week?", "mediaType": "text/plain"})})


def helpful_reply(response: httpx.Response) -> None:
    result = response.json()["result"]
    assert "task" not in result, "no task for a message that is not an alert"
    first, example = result["message"]["parts"]
    assert "Send the alert's XML export" in first["text"] and example["mediaType"] == "application/xml"


PROBES: dict[str, Probe] = {
    **{f"form:{name}": Probe(upload(content), form_error(status, text))
       for name, (content, status, text) in ALERT_FILES.items()},
    **{f"a2a:{name}": Probe(rpc("SendMessage", message(xml_part(content))),
                            rpc_error(-32602, "larger than" if status == 413 else "The alert was refused"))
       for name, (content, status, _text) in ALERT_FILES.items()},
    # The upload form
    "form:no-file": Probe(form(), form_error(400, "Choose an alert file")),
    "form:oversize-declared": Probe(oversized_form(chunked=False), status_is(413, "64 MiB limit for an upload")),
    "form:oversize-chunked": Probe(oversized_form(chunked=True), status_is(413, "64 MiB limit for an upload")),
    "form:no-csrf": Probe(post("/analyses", *multipart(INSIDER)), status_is(400, "did not come from this site")),
    "form:sample-traversal": Probe(form(sample="../../etc/passwd"), form_error(404, "There is no sample alert")),
    # A2A transport
    "a2a:20-mb-body": Probe(post("/a2a", BIG_JSON, JSON_RPC), rpc_error(-32600, "larger than", 413)),
    "a2a:20-mb-chunked": Probe(post("/a2a", BIG_JSON, JSON_RPC, chunked=True), rpc_error(-32600, "larger than", 413)),
    "a2a:100000-deep-json": Probe(post("/a2a", "[" * 100_000 + "]" * 100_000, JSON_RPC),
                                  rpc_error(-32600, "nested more than 32 levels")),
    "a2a:40-deep-json": Probe(post("/a2a", '{"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": ' +
                                   '{"a": ' * 40 + "1" + "}" * 41, JSON_RPC), rpc_error(-32600, "nested more than")),
    "a2a:invalid-json": Probe(post("/a2a", "{not json", JSON_RPC), rpc_error(-32700, "Invalid JSON")),
    "a2a:non-utf8-json": Probe(post("/a2a", b'{"id": "\xff"}', JSON_RPC), rpc_error(-32700, "Invalid JSON")),
    "a2a:no-content-type": Probe(post("/a2a", NOT_AN_ALERT.replace("SendMessage", "message/send")),
                                 rpc_error(-32005, "had no Content-Type")),
    "a2a:text-plain-v03": Probe(post("/a2a", NOT_AN_ALERT.replace("SendMessage", "tasks/cancel"),
                                     {"content-type": "text/plain"}), rpc_error(-32005, "sent as text/plain")),
    "a2a:form-encoded": Probe(post("/a2a", "a=1", {"content-type": "application/x-www-form-urlencoded"}),
                              rpc_error(-32005, "application/x-www-form-urlencoded")),
    "a2a:cross-site-origin": Probe(rpc("GetTask", {"id": "x"}, {"Origin": "https://evil.example"}),
                                   rpc_error(-32600, "Cross-site", 403)),
    "a2a:cross-site-fetch": Probe(rpc("GetTask", {"id": "x"}, {"Sec-Fetch-Site": "cross-site"}),
                                  rpc_error(-32600, "Cross-site", 403)),
    "a2a:get": Probe(get("/a2a"), rpc_error(-32600, "405 Method Not Allowed", 405)),
    "a2a:batch": Probe(post("/a2a", "[{}]", JSON_RPC), rpc_error(-32600, "Batch")),
    "a2a:no-jsonrpc": Probe(post("/a2a", '{"id": 1, "method": "GetTask"}', JSON_RPC), rpc_error(-32600, "jsonrpc")),
    "a2a:bad-id": Probe(post("/a2a", '{"jsonrpc": "2.0", "id": [1], "method": "GetTask"}', JSON_RPC),
                        rpc_error(-32600, "'id'")),
    "a2a:unknown-method": Probe(rpc("tasks/destroy"), rpc_error(-32601, "does not exist")),
    "a2a:params-not-object": Probe(post("/a2a", '{"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": [1]}',
                                        JSON_RPC), rpc_error(-32602, "'params' must be an object")),
    "a2a:wrong-version": Probe(rpc("GetTask", {"id": "x"}, {"A2A-Version": "9.9"}), rpc_error(-32009, "9.9")),
    "a2a:image-part": Probe(rpc("SendMessage", message({"raw": "iVBORw0K", "mediaType": "image/png"})),
                            rpc_error(-32005, "image/png")),
    "a2a:url-part": Probe(rpc("SendMessage", message({"url": "file:///etc/passwd"})), rpc_error(-32005, "URL")),
    "a2a:follow-up-to-unknown-task": Probe(rpc("SendMessage", {"message": {**message(xml_part(INSIDER))["message"],
                                                                         "taskId": "9" * 32}}),
                                           rpc_error(-32001, "does not exist")),
    "a2a:wrong-specialist": Probe(rpc("SendMessage", message(xml_part(WASH)), path="/a2a/insider-dealing"),
                                  rpc_error(-32602, "this is a wash trade alert")),
    "a2a:unknown-agent": Probe(rpc("GetTask", {"id": "x"}, path="/a2a/nobody"), rpc_error(-32601, "No A2A agent", 404)),
    "a2a:negative-history": Probe(rpc("GetTask", {"id": "x", "historyLength": -1}), rpc_error(-32602, "negative")),
    "a2a:page-size": Probe(rpc("ListTasks", {"pageSize": 100_000}), rpc_error(-32602, "pageSize")),
    "a2a:forged-page-token": Probe(rpc("ListTasks", {"pageToken": "!!!"}), rpc_error(-32602, "pageToken")),
    "a2a:text-that-is-not-an-alert": Probe(post("/a2a", NOT_AN_ALERT, JSON_RPC), helpful_reply),
    # Streams, pages and cards
    "sse:cursor-not-a-number": Probe(get("/analyses/{run}/events?after=ten"), status_is(400, "whole number")),
    "sse:negative-cursor": Probe(get("/analyses/{run}/events", {"Last-Event-ID": "-5"}), status_is(400, "negative")),
    "sse:unknown-run": Probe(get(f"/analyses/{'0' * 32}/events"), status_is(404)),
    "sse:not-a-run-id": Probe(get("/analyses/..%2F..%2Fetc/events"), status_is(404)),
    "sse:stock-channel-endpoint": Probe(get("/stream?channel=analysis:x"), status_is(404)),
    "page:unknown-run": Probe(get(f"/analyses/{'f' * 32}"), status_is(404, "no such page or analysis")),
    "page:stor-of-a-closed-case": Probe(get("/analyses/{run}/stor.txt"), status_is(404, "only escalated alerts")),
    "page:sample-traversal": Probe(get("/samples/..%2Fpyproject.toml"), status_is(404)),
    "card:untrusted-host": Probe(get("/.well-known/agent-card.json", {"Host": "evil.example"}),
                                 status_is(400, "PUBLIC_URL")),
    "card:unknown-agent": Probe(get("/a2a/nobody/.well-known/agent-card.json"), status_is(404)),
}


@pytest.fixture(scope="module")
def finished_run(live_server, redis_url) -> str:
    """A run that closed its case (no STOR draft), for the probes that need one."""
    response = Browser(live_server).upload((SAMPLES / "wash_false_positive_prsm.xml").read_bytes())
    run_id = response.headers["location"].rsplit("/", 1)[1]
    with redis.Redis.from_url(redis_url) as client:
        terminal(client, run_id)
    return run_id


@pytest.mark.parametrize("name", sorted(PROBES))
def test_bad_input_gets_a_clear_error_and_stores_nothing(name, live_server, redis_client, finished_run):
    probe = PROBES[name]
    before = redis_client.zcard(RUNS_INDEX)
    probe.check(probe.send(live_server, finished_run))
    assert redis_client.zcard(RUNS_INDEX) == before
    with live_server.client() as http:
        assert http.get("/healthz").status_code == 200  # and the server is none the worse


def test_the_corpus_covers_every_door():
    doors = {name.split(":")[0] for name in PROBES}
    assert doors == {"form", "a2a", "sse", "page", "card"}
    assert len(PROBES) >= 90
