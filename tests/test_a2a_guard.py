"""What every A2A JSON-RPC request must pass before a method runs (webapp/a2a/guard.py), in this
process: a browser page on another site is refused, only JSON is read, a body over the limit is
refused whole (also when it comes chunked), JSON nested too deep is refused before anything walks
it, and every refusal — 403, 405, 413, 429, 503 — is a JSON-RPC error, never an HTML page.

The app runs with the Flask test client on a Redis and a record of its own (the rate-limit
counters it writes are nobody else's). The served endpoint is tested end to end in test_a2a.py and
test_hostile.py; these tests pin each check at its boundary, fast enough to run for every mutant.
"""

from __future__ import annotations

import io
import json

import pytest

from tests.servers import Identity, provision
from webapp.app import create_app
from webapp.config import Settings
from webapp.embedded_redis import EmbeddedRedis

MAX_ALERT_BYTES = 3000
LIMIT = MAX_ALERT_BYTES * 4 // 3 + 64 * 1024  # README, "A2A": the alert base64-encoded plus the envelope
UNKNOWN_TASK = {"jsonrpc": "2.0", "id": 7, "method": "GetTask", "params": {"id": "0" * 32}}
TASK_NOT_FOUND, INVALID_REQUEST, PARSE_ERROR, CONTENT_TYPE_NOT_SUPPORTED = -32001, -32600, -32700, -32005


@pytest.fixture(scope="module")
def accounts(tmp_path_factory) -> Identity:
    return provision(f"sqlite:///{tmp_path_factory.mktemp('a2a-guard') / 'record' / 'r.sqlite3'}")


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory):
    with EmbeddedRedis(tmp_path_factory.mktemp("a2a-guard-redis"), persistent=False) as server:
        yield server


def make_app(redis_url: str, accounts: Identity, state_dir, **overrides):
    settings = Settings.from_env(**{"redis_url": redis_url, "database_url": accounts.database_url, "secret_key": "k",
                                    "state_dir": state_dir, "max_alert_bytes": MAX_ALERT_BYTES,
                                    "rate_limit_a2a_send": "100000/minute", "rate_limit_a2a_send_ip": "100000/minute",
                                    **overrides})
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="module")
def client(own_redis, accounts, tmp_path_factory):
    return make_app(own_redis.url, accounts, tmp_path_factory.mktemp("a2a-guard-state")).test_client()


@pytest.fixture(scope="module")
def auth(accounts) -> dict[str, str]:
    return {"A2A-Version": "1.0", "Authorization": f"Bearer {accounts.tokens['analyst']}"}


def error_of(response) -> tuple[int, str, dict]:
    """(code, reason, metadata) of a JSON-RPC error response, which must be JSON."""
    assert response.mimetype == "application/json", response.text[:200]
    error = response.json["error"]
    [info] = error["data"]
    return error["code"], info["reason"], info["metadata"]


def padded(call: dict, size: int) -> bytes:
    """``call`` as JSON of exactly ``size`` bytes (trailing spaces are valid JSON)."""
    body = json.dumps(call).encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))


# ----------------------------------------------------------------------------- cross-site

@pytest.mark.parametrize(("headers", "let_in"), [
    ({}, True),                                              # an A2A client: no browser headers
    ({"Sec-Fetch-Site": "same-origin"}, True),
    ({"Sec-Fetch-Site": "none"}, True),                      # typed into the address bar
    ({"Sec-Fetch-Site": "cross-site"}, False),
    ({"Sec-Fetch-Site": "same-site"}, False),                # a sibling subdomain is another site's page
    ({"Sec-Fetch-Site": "Cross-Site"}, False),
    ({"Origin": "http://localhost"}, True),                  # the trusted host the request was sent to
    ({"Origin": "HTTP://LOCALHOST"}, True),                  # origins compare without case
    ({"Origin": "http://localhost:8000"}, False),            # another port is another origin
    ({"Origin": "https://localhost"}, False),                # ... and another scheme
    ({"Origin": "https://attacker.example"}, False),
    ({"Origin": "null"}, False),                             # a sandboxed frame or a file: page
    ({"Sec-Fetch-Site": "same-origin", "Origin": "https://attacker.example"}, False),
    ({"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"}, False),
])
def test_a_request_from_another_sites_page_is_refused_before_anything_runs(client, auth, headers, let_in):
    response = client.post("/a2a", json=UNKNOWN_TASK, headers={**auth, **headers})
    if let_in:
        assert response.status_code == 200 and error_of(response)[0] == TASK_NOT_FOUND
        return
    code, _reason, metadata = error_of(response)
    assert response.status_code == 403 and code == INVALID_REQUEST
    assert response.json["error"]["message"] == ("Cross-site requests from a browser are refused: A2A clients "
                                                  "call this endpoint directly.")
    assert metadata == {"origin": headers.get("Origin", "").lower(),
                        "secFetchSite": headers.get("Sec-Fetch-Site", "").lower()}


def test_a_cross_site_request_is_refused_whatever_its_credentials(client):
    """Refused as cross-site (403), not as unauthenticated (401): the page learns nothing about tokens."""
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = client.post("/a2a", json=UNKNOWN_TASK, headers={"Origin": "https://attacker.example", **headers})
        assert response.status_code == 403 and "Cross-site" in response.json["error"]["message"]


def test_a_page_on_a_rebound_dns_name_is_not_its_own_origin(client, auth):
    """DNS rebinding: the attacker's name resolves to this server, so Host and Origin agree — but the
    name is not a trusted host, so it is no origin of ours."""
    response = client.post("/a2a", json=UNKNOWN_TASK, headers={**auth, "Host": "rebound.attacker.example",
                                                                "Origin": "http://rebound.attacker.example"})
    assert response.status_code == 403 and "Cross-site" in response.json["error"]["message"]


def test_a_trusted_host_is_its_own_origin(own_redis, accounts, tmp_path, auth):
    app = make_app(own_redis.url, accounts, tmp_path, trusted_hosts=("analyzer.internal",))
    response = app.test_client().post("/a2a", json=UNKNOWN_TASK, headers={
        **auth, "Host": "analyzer.internal:8443", "Origin": "http://analyzer.internal:8443"})
    assert response.status_code == 200 and error_of(response)[0] == TASK_NOT_FOUND


# ----------------------------------------------------------------------------- JSON only

@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "application/a2a+json"])
def test_json_bodies_are_read(client, auth, content_type):
    response = client.post("/a2a", data=json.dumps(UNKNOWN_TASK), headers={**auth, "Content-Type": content_type})
    assert response.status_code == 200 and error_of(response)[0] == TASK_NOT_FOUND
    assert response.json["id"] == 7


@pytest.mark.parametrize(("content_type", "said"), [
    ("text/plain", "was sent as text/plain"),               # what a no-cors fetch from another page can send
    ("application/x-www-form-urlencoded", "was sent as application/x-www-form-urlencoded"),
    ("multipart/form-data; boundary=x", "was sent as multipart/form-data"),  # the parameters are not repeated
    ("application/jsonp", "was sent as application/jsonp"),
    (None, "had no Content-Type"),
])
def test_other_content_types_are_refused_for_every_method(client, auth, content_type, said):
    headers = {**auth, **({"Content-Type": content_type} if content_type else {})}
    response = client.post("/a2a", data=json.dumps(UNKNOWN_TASK), headers=headers)
    code, _reason, metadata = error_of(response)
    assert code == CONTENT_TYPE_NOT_SUPPORTED and response.status_code == 200
    message = response.json["error"]["message"]
    assert message == f"JSON-RPC requests must be sent as application/json; this one {said}."
    assert metadata == {"contentType": (content_type or "").split(";")[0]}


# ----------------------------------------------------------------------------- bounded

def test_a_body_at_the_limit_is_read_and_one_byte_more_is_refused_whole(client, auth):
    at_limit = client.post("/a2a", data=padded(UNKNOWN_TASK, LIMIT), headers=auth, content_type="application/json")
    assert at_limit.status_code == 200 and error_of(at_limit)[0] == TASK_NOT_FOUND
    over = client.post("/a2a", data=padded(UNKNOWN_TASK, LIMIT + 1), headers=auth, content_type="application/json")
    assert over.status_code == 413
    code, _reason, metadata = error_of(over)
    assert code == INVALID_REQUEST and metadata == {"limitBytes": str(LIMIT)}
    assert over.json["error"]["message"] == (f"The request is larger than the {LIMIT}-byte limit (an alert of "
                                             "MAX_ALERT_BYTES, base64-encoded, plus the envelope).")


def chunked(client, auth, body: bytes):
    """A body with no Content-Length, as a server that decodes chunked transfer passes it on."""
    return client.post("/a2a", input_stream=io.BytesIO(body), headers=auth, content_type="application/json",
                       environ_overrides={"wsgi.input_terminated": True})


@pytest.mark.parametrize("extra", [1, 2, 1000])
def test_a_chunked_body_over_the_limit_is_refused_not_cut_at_it(client, auth, extra):
    """Cut at the limit, the padding would go and the call would run: it must be refused whole."""
    assert chunked(client, auth, padded(UNKNOWN_TASK, LIMIT)).status_code == 200
    over = chunked(client, auth, padded(UNKNOWN_TASK, LIMIT + extra))
    assert over.status_code == 413 and error_of(over)[0] == INVALID_REQUEST


class Endless(io.RawIOBase):
    """A chunked body that never ends (a slow-loris upload): spaces, forever — reading four limits' worth of it
    fails the request, as a server that reads until the end never would have stopped."""

    def __init__(self):
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self.read_bytes += len(buffer)
        if self.read_bytes > 4 * LIMIT:
            raise AssertionError("the server kept reading an endless body")
        buffer[:] = b" " * len(buffer)
        return len(buffer)


def test_a_chunked_body_that_never_ends_is_refused_after_the_limit_not_read_to_its_end(client, auth):
    body = Endless()
    response = client.post("/a2a", headers=auth, content_type="application/json",
                           environ_overrides={"wsgi.input": io.BufferedReader(body), "wsgi.input_terminated": True})
    assert response.status_code == 413 and error_of(response)[0] == INVALID_REQUEST
    assert body.read_bytes <= 2 * LIMIT


def nested(levels: int) -> dict:
    params: object = {"id": "0" * 32}
    for _ in range(levels - 2):  # the envelope and params are two levels
        params = {"x": params}
    return {**UNKNOWN_TASK, "params": params}


def test_json_nested_deeper_than_the_limit_is_refused_before_anything_walks_it(client, auth):
    deep_enough = client.post("/a2a", json=nested(32), headers=auth)
    assert deep_enough.status_code == 200 and error_of(deep_enough)[0] != INVALID_REQUEST  # reached the method
    too_deep = client.post("/a2a", json=nested(33), headers=auth)
    assert too_deep.status_code == 200 and error_of(too_deep)[0] == INVALID_REQUEST
    assert too_deep.json["error"]["message"] == "The request is nested more than 32 levels deep."


def test_json_too_deep_for_the_parser_itself_is_refused_the_same_way(own_redis, accounts, tmp_path, auth):
    app = make_app(own_redis.url, accounts, tmp_path, max_alert_bytes=1024 * 1024)
    body = b"[" * 100_000 + b"]" * 100_000  # json.loads would recurse past Python's limit
    response = app.test_client().post("/a2a", data=body, headers=auth, content_type="application/json")
    assert response.status_code == 200 and error_of(response)[0] == INVALID_REQUEST
    assert response.json["error"]["message"] == "The request is nested more than 32 levels deep."


@pytest.mark.parametrize(("body", "said"), [
    (b'{"jsonrpc": "2.0", "id": 1,', "Invalid JSON: Expecting"),
    (b'{"jsonrpc": "2.0", "method": "\xff"}', "Invalid JSON: 'utf-8' codec can't decode"),
    (b"", "Invalid JSON: Expecting value"),
])
def test_a_body_that_is_not_json_is_a_parse_error(client, auth, body, said):
    response = client.post("/a2a", data=body, headers=auth, content_type="application/json")
    assert response.status_code == 200 and error_of(response)[0] == PARSE_ERROR
    assert response.json["error"]["message"].startswith(said)


@pytest.mark.parametrize(("body", "said"), [(b"5", "A JSON-RPC request must be an object."),
                                           (b'"GetTask"', "A JSON-RPC request must be an object."),
                                           (b"null", "A JSON-RPC request must be an object."),
                                           (b"[1, 2]", "Batch requests are not supported.")])
def test_json_that_is_not_a_request_object_is_an_invalid_request(client, auth, body, said):
    """A bare value passes the depth check (it nests nothing) and is refused for what it is."""
    response = client.post("/a2a", data=body, headers=auth, content_type="application/json")
    assert response.status_code == 200 and error_of(response)[0] == INVALID_REQUEST
    assert response.json["error"]["message"] == said


# ----------------------------------------------------------------------------- refusals stay JSON-RPC

def test_a_wrong_http_method_on_a2a_is_a_json_rpc_error_and_elsewhere_a_page(client, auth):
    response = client.get("/a2a", headers=auth)
    assert response.status_code == 405 and error_of(response)[0] == INVALID_REQUEST
    assert response.json["error"]["message"].startswith("405 Method Not Allowed: ")
    page = client.put("/login")
    assert page.status_code == 405 and page.mimetype == "text/html"


def test_sends_past_the_rate_limit_are_a_json_rpc_error_with_429(own_redis, accounts, tmp_path):
    app = make_app(own_redis.url, accounts, tmp_path, rate_limit_a2a_send="1/minute")
    token = accounts.tokens["reviewer"]  # whose sends nothing else here counts
    headers = {"A2A-Version": "1.0", "Authorization": f"Bearer {token}"}
    send = {"jsonrpc": "2.0", "id": 3, "method": "SendMessage", "params": {}}
    client = app.test_client()
    first = client.post("/a2a", json=send, headers=headers)
    assert first.status_code != 429  # counted (and refused for its empty message)
    second = client.post("/a2a", json=send, headers=headers)
    assert second.status_code == 429
    code, reason, metadata = error_of(second)
    assert (code, reason, metadata) == (-32000, "RATE_LIMIT_EXCEEDED", {"limit": "1 per 1 minute"})
    assert second.json["error"]["message"] == ("Too many requests: the limit is 1 per 1 minute for sending alerts. "
                                               "Retry later.")


def test_a_redis_outage_is_a_json_rpc_error_with_503_and_retry_after(accounts, tmp_path, auth):
    app = make_app(f"unix://{tmp_path}/no-redis.sock", accounts, tmp_path)
    response = app.test_client().post("/a2a", json=UNKNOWN_TASK, headers=auth)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    code, _reason, metadata = error_of(response)
    assert code == -32603 and metadata == {"retryAfterSeconds": "5"}
    assert response.json["error"]["message"] == "The task store is unavailable for a moment; tasks are safe. Retry " \
                                                "shortly."


def test_an_unexpected_failure_is_logged_and_answered_without_its_details(client, auth, monkeypatch, caplog):
    from webapp.a2a import methods

    def broken(_call):
        raise RuntimeError("secret detail of a bug")

    monkeypatch.setitem(methods.HANDLERS, "GetTask", broken)
    response = client.post("/a2a", json=UNKNOWN_TASK, headers=auth)
    assert response.status_code == 500 and error_of(response)[0] == -32603
    assert response.json["error"]["message"] == "Internal error; it has been logged."
    assert "secret detail" not in response.text
    [record] = [r for r in caplog.records if r.name == "webapp.a2a.guard"]
    assert record.getMessage() == "A2A request failed" and "secret detail of a bug" in caplog.text  # with its traceback


def test_an_http_error_raised_inside_a_method_keeps_its_status_as_a_json_rpc_error(client, auth, monkeypatch):
    from werkzeug.exceptions import Conflict

    from webapp.a2a import methods

    def conflicting(_call):
        raise Conflict("The task changed meanwhile.")

    monkeypatch.setitem(methods.HANDLERS, "GetTask", conflicting)
    response = client.post("/a2a", json=UNKNOWN_TASK, headers=auth)
    assert (response.status_code, response.mimetype) == (409, "application/json")
    assert response.json["error"]["code"] == INVALID_REQUEST
    assert response.json["error"]["message"] == "409 Conflict: The task changed meanwhile."
