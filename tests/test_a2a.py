"""A2A v1.0 against the real gunicorn server, driven by the official Python SDK client (a2a-sdk),
plus raw JSON-RPC for protocol errors and the v0.3 method names."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from a2a.client import ClientConfig, create_client
from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import (
    TaskNotCancelableError,
    TaskNotFoundError,
    UnsupportedOperationError,
)
from google.protobuf import json_format
from httpx_sse import connect_sse

from tests.conftest import SAMPLES, Browser, server_env
from tests.servers import Identity

pytestmark = pytest.mark.e2e

V1 = {"A2A-Version": "1.0"}


def alert_message(name: str = "wash_genuine_gldx.xml", *, as_text: bool = False, context_id: str = "") -> pb.Message:
    raw = (SAMPLES / name).read_bytes()
    part = pb.Part(text=raw.decode(), media_type="text/plain") if as_text else \
        pb.Part(raw=raw, media_type="application/xml", filename=name)
    return pb.Message(message_id=uuid.uuid4().hex, role=pb.ROLE_USER, parts=[part], context_id=context_id)


def run(coro):
    """asyncio.run in a thread of its own: once a browser test has run, Playwright's sync API
    keeps an event loop running in this thread for the rest of the session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _client(url: str, streaming: bool = True, token: str | None = None):
    """An A2A SDK client; with sign-in on, every call carries an API token (the analyst's by default)."""
    config = ClientConfig(streaming=streaming)
    token = token or Identity.current().tokens["analyst"]
    config.httpx_client = httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60)
    return await create_client(url, config)


async def stream_all(url: str, message: pb.Message, **kwargs) -> list[pb.StreamResponse]:
    client = await _client(url, **kwargs)
    try:
        return [r async for r in client.send_message(pb.SendMessageRequest(message=message))]
    finally:
        await client.close()


def rpc(server, method: str, params: dict | None = None, *, path: str = "/a2a", headers=V1, raw: str | None = None,
        role: str | None = "analyst"):
    body = raw if raw is not None else {"jsonrpc": "2.0", "id": 7, "method": method, "params": params or {}}
    with server.client(role=role) as http:
        if isinstance(body, str):
            return http.post(path, content=body, headers={"content-type": "application/json", **headers})
        return http.post(path, json=body, headers=headers)


def error_of(response) -> tuple[int, str]:
    error = response.json()["error"]
    info = error["data"][0]
    assert info["@type"] == "type.googleapis.com/google.rpc.ErrorInfo" and info["domain"] == "a2a-protocol.org"
    return error["code"], info["reason"]


# ----------------------------------------------------------------------------- cards

@pytest.mark.parametrize(("path", "interface"), [
    ("/.well-known/agent-card.json", "/a2a"),
    ("/a2a/insider-dealing/.well-known/agent-card.json", "/a2a/insider-dealing"),
    ("/a2a/wash-trade/.well-known/agent-card.json", "/a2a/wash-trade"),
    ("/a2a/spoofing/.well-known/agent-card.json", "/a2a/spoofing"),
])
def test_agent_cards_have_the_required_fields_and_cache_headers(live_server, path, interface):
    with live_server.client() as http:
        response = http.get(path)
        assert response.status_code == 200
        card = response.json()
        assert card["supportedInterfaces"] == [{"url": f"{live_server.url}{interface}", "protocolBinding": "JSONRPC",
                                                "protocolVersion": "1.0"}]
        assert card["capabilities"]["streaming"] is True
        assert card["name"] and card["description"] and card["version"]
        assert "application/xml" in card["defaultInputModes"] and "application/json" in card["defaultOutputModes"]
        skill = card["skills"][0]
        assert skill["id"] and skill["name"] and skill["description"] and skill["tags"]
        assert "max-age" in response.headers["cache-control"]
        etag = response.headers["etag"]
        assert http.get(path, headers={"If-None-Match": etag}).status_code == 304
        json_format.ParseDict(card, pb.AgentCard())  # a valid v1.0 AgentCard to the SDK's own schema
        # Sign-in is always on: every card declares the bearer token its JSON-RPC calls need.
        assert card["securitySchemes"]["bearer"]["httpAuthSecurityScheme"]["scheme"] == "Bearer"
        assert card["securityRequirements"] == [{"schemes": {"bearer": {}}}]
    assert httpx.get(f"{live_server.url}/a2a/nobody/.well-known/agent-card.json").status_code == 404


# ----------------------------------------------------------------------------- methods

def test_send_streaming_message_runs_an_alert_to_its_determination(live_server):
    responses = run(stream_all(live_server.url, alert_message("wash_genuine_gldx.xml")))
    kinds = [r.WhichOneof("payload") for r in responses]
    assert kinds[0] == "task" and kinds[-1] == "status_update"
    task_id = responses[0].task.id
    updates = [r.status_update for r in responses if r.HasField("status_update")]
    seqs = [int(u.metadata["seq"]) for u in updates]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)  # ordered, no repeats
    assert all(u.task_id == task_id for u in updates)
    assert updates[-1].status.state == pb.TASK_STATE_COMPLETED
    assert all(u.status.state == pb.TASK_STATE_WORKING for u in updates[:-1])
    step = next(u for u in updates if u.status.message.parts[1].data.struct_value["type"] == "step_completed")
    assert step.status.message.parts[0].text.startswith("Done: ")
    streamed = [r.artifact_update.artifact for r in responses if r.HasField("artifact_update")]
    assert [a.name for a in streamed] == ["determination", "stor-draft"]  # every artifact, as GetTask has them
    decision = json_format.MessageToDict(streamed[0].parts[0])["data"]
    assert decision["determination"] == "ESCALATE" and decision["stor"]["instrument"] == "GLDX"
    assert "SUSPICIOUS TRANSACTION AND ORDER REPORT" in streamed[1].parts[0].text
    got = rpc(live_server, "GetTask", {"id": task_id, "historyLength": 0}).json()["result"]
    assert [json_format.ParseDict(a, pb.Artifact()) for a in got["artifacts"]] == streamed
    # The task is a run: the browser sees it, with the same decision.
    with live_server.client() as http:
        page = http.get(f"/analyses/{task_id}").text
        assert "WT-2024-0612-001" in page and "verdict--escalate" in page
        assert f"/analyses/{task_id}" in http.get("/analyses").text


def test_send_message_blocks_until_done_and_honours_history_length(live_server):
    async def go():
        client = await _client(live_server.url, streaming=False)
        try:
            request = pb.SendMessageRequest(message=alert_message("insider_false_positive_nova.xml", as_text=True))
            request.configuration.history_length = 2
            return [r async for r in client.send_message(request)]
        finally:
            await client.close()

    [response] = run(go())
    task = response.task
    assert task.status.state == pb.TASK_STATE_COMPLETED
    assert len(task.history) == 2 and task.history[-1].role == pb.ROLE_AGENT
    assert json_format.MessageToDict(task.artifacts[0].parts[0])["data"]["determination"] == "CLOSE"


def test_return_immediately_answers_before_the_run_ends(paced_server):
    request = {"message": json_format.MessageToDict(alert_message()), "configuration": {"returnImmediately": True}}
    task = rpc(paced_server, "SendMessage", request).json()["result"]["task"]
    assert task["status"]["state"] in ("TASK_STATE_SUBMITTED", "TASK_STATE_WORKING")
    cancel = rpc(paced_server, "CancelTask", {"id": task["id"]}).json()["result"]  # tidy up, and test cancel
    assert cancel["status"]["state"] == "TASK_STATE_CANCELED"


def test_get_list_and_the_ui_run_as_a_task(live_server, browser_session):
    location = browser_session.upload((SAMPLES / "spoofing_genuine_flux.xml").read_bytes()).headers["location"]
    ui_run = location.rsplit("/", 1)[1]
    context = uuid.uuid4().hex
    for name in ("wash_false_positive_prsm.xml", "insider_genuine_acme.xml", "wash_genuine_gldx.xml"):
        run(stream_all(live_server.url, alert_message(name, context_id=context)))

    async def go():
        client = await _client(live_server.url)
        try:
            ui_task = await client.get_task(pb.GetTaskRequest(id=ui_run, history_length=0))
            first = await client.list_tasks(pb.ListTasksRequest(context_id=context, page_size=2))
            second = await client.list_tasks(pb.ListTasksRequest(context_id=context, page_size=2,
                                                                 page_token=first.next_page_token))
            done = await client.list_tasks(pb.ListTasksRequest(status=pb.TASK_STATE_COMPLETED, page_size=100,
                                                               include_artifacts=True))
            with pytest.raises(TaskNotFoundError):
                await client.get_task(pb.GetTaskRequest(id="f" * 32))
            return ui_task, first, second, done
        finally:
            await client.close()

    ui_task, first, second, done = run(go())
    assert ui_task.metadata["source"] == "web" and ui_task.metadata["alertId"] == "SP-2024-0709-001"
    assert len(ui_task.history) == 0
    assert first.total_size == 3 and len(first.tasks) == 2 and first.next_page_token
    assert len(second.tasks) == 1 and not second.next_page_token
    assert len({t.id for t in [*first.tasks, *second.tasks]}) == 3
    assert all(t.context_id == context for t in [*first.tasks, *second.tasks])
    assert all(t.status.state == pb.TASK_STATE_COMPLETED and t.artifacts for t in done.tasks)


def test_subscribe_mid_run_gets_the_task_then_the_rest(paced_server):
    async def go():
        client = await _client(paced_server.url)
        try:
            first_stream = client.send_message(pb.SendMessageRequest(message=alert_message("insider_genuine_acme.xml")))
            head = [await anext(first_stream) for _ in range(4)]  # the task and a few updates
            await first_stream.aclose()  # the client goes away mid-run
            task_id = head[0].task.id
            rest = [r async for r in client.subscribe(pb.SubscribeToTaskRequest(id=task_id))]
            with pytest.raises(UnsupportedOperationError):  # it has ended: nothing left to subscribe to
                _ = [r async for r in client.subscribe(pb.SubscribeToTaskRequest(id=task_id))]
            return head, rest
        finally:
            await client.close()

    head, rest = run(go())
    assert rest[0].HasField("task") and rest[0].task.status.state == pb.TASK_STATE_WORKING
    seen = int(rest[0].task.metadata["lastSeq"])
    later = [int(r.status_update.metadata["seq"]) for r in rest[1:] if r.HasField("status_update")]
    assert later[0] > seen and later == sorted(later) and rest[-1].status_update.status.state == pb.TASK_STATE_COMPLETED
    # Nothing lost: the task snapshot plus the updates after it cover every event of the run.
    log = paced_server.client().get(f"/analyses/{head[0].task.id}.json").json()["events"]
    decision_seq = next(e["seq"] for e in log if e["type"] == "decision")
    assert sorted([*later, decision_seq]) == [e["seq"] for e in log if e["seq"] > seen]


def test_cancel_a_running_task_and_not_a_finished_one(paced_server, live_server):
    async def go():
        client = await _client(paced_server.url)
        try:
            stream = client.send_message(pb.SendMessageRequest(message=alert_message("spoofing_genuine_flux.xml")))
            task_id = (await anext(stream)).task.id
            await anext(stream)
            cancelled = await client.cancel_task(pb.CancelTaskRequest(id=task_id))
            rest = [r async for r in stream]
            with pytest.raises(TaskNotCancelableError):
                await client.cancel_task(pb.CancelTaskRequest(id=task_id))
            return cancelled, rest
        finally:
            await client.close()

    cancelled, rest = run(go())
    assert cancelled.status.state == pb.TASK_STATE_CANCELED
    assert rest[-1].status_update.status.state == pb.TASK_STATE_CANCELED


# ----------------------------------------------------------------------------- errors

@pytest.mark.parametrize(("body", "code", "reason"), [
    ("{not json", -32700, None),
    ('[{"jsonrpc": "2.0", "id": 1, "method": "GetTask"}]', -32600, None),
    ('{"id": 1, "method": "GetTask", "params": {}}', -32600, None),
    ('{"jsonrpc": "2.0", "id": 1, "method": "tasks/destroy", "params": {}}', -32601, "METHOD_NOT_FOUND"),
    ('{"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": 5, "historyLength": "x"}}', -32602, None),
])
def test_malformed_json_rpc_is_answered_with_its_code(live_server, body, code, reason):
    response = rpc(live_server, "", raw=body)
    assert response.status_code == 200
    got_code, got_reason = error_of(response)
    assert got_code == code
    if reason:
        assert got_reason == reason


def test_a2a_errors_carry_their_codes_and_error_info(live_server):
    finished = run(stream_all(live_server.url, alert_message()))[0].task.id
    xml_part = json_format.MessageToDict(alert_message())
    cases = [
        ("GetTask", {"id": "0" * 32}, -32001, "TASK_NOT_FOUND"),
        ("CancelTask", {"id": finished}, -32002, "TASK_NOT_CANCELABLE"),
        ("CreateTaskPushNotificationConfig", {"taskId": finished, "url": "https://example.invalid/hook"}, -32003,
         "PUSH_NOTIFICATION_NOT_SUPPORTED"),
        ("SendMessage", {"message": {**xml_part, "taskId": finished}}, -32004, "UNSUPPORTED_OPERATION"),
        ("SendMessage", {"message": {**xml_part, "taskId": "9" * 32}}, -32001, "TASK_NOT_FOUND"),
        ("SubscribeToTask", {"id": finished}, -32004, "UNSUPPORTED_OPERATION"),
        ("SendMessage", {"message": {"messageId": "m", "role": "ROLE_USER", "parts": [
            {"raw": base64.b64encode(b"\x89PNG").decode(), "mediaType": "image/png"}]}}, -32005,
         "CONTENT_TYPE_NOT_SUPPORTED"),
        ("SendMessage", {"message": xml_part, "configuration": {"acceptedOutputModes": ["image/png"]}}, -32005,
         "CONTENT_TYPE_NOT_SUPPORTED"),
        ("GetExtendedAgentCard", {}, -32007, "EXTENDED_AGENT_CARD_NOT_CONFIGURED"),
        ("SendMessage", {}, -32602, "INVALID_PARAMS"),
        ("SendMessage", {"message": {"messageId": "m", "role": "ROLE_USER", "parts": [{"text": "<Alert/>"}]}},
         -32602, "INVALID_PARAMS"),
        ("ListTasks", {"pageSize": 1000}, -32602, "INVALID_PARAMS"),
    ]
    for method, params, code, reason in cases:
        assert error_of(rpc(live_server, method, params)) == (code, reason), method
    wrong_type = rpc(live_server, "", raw='{"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {}}',
                     headers={**V1, "content-type": "text/plain"})
    assert error_of(wrong_type) == (-32005, "CONTENT_TYPE_NOT_SUPPORTED")
    refused = rpc(live_server, "SendMessage", {"message": {"messageId": "m", "role": "ROLE_USER", "parts": [
        {"text": "<Alert/>"}]}}).json()["error"]
    assert "Unsupported root element <Alert>" in refused["message"]


def test_a_specialist_refuses_another_type_of_alert(live_server):
    response = rpc(live_server, "SendMessage", {"message": json_format.MessageToDict(alert_message())},
                   path="/a2a/insider-dealing")
    assert error_of(response) == (-32602, "INVALID_PARAMS")
    assert "this is a wash trade alert" in response.json()["error"]["message"]
    ok = run(stream_all(f"{live_server.url}/a2a/insider-dealing", alert_message("insider_genuine_acme.xml")))
    assert ok[-1].status_update.status.state == pb.TASK_STATE_COMPLETED


@pytest.mark.parametrize(("headers", "expected"), [
    ({"A2A-Version": "2.0"}, (-32009, "VERSION_NOT_SUPPORTED")),
    ({"A2A-Version": "0.2"}, (-32009, "VERSION_NOT_SUPPORTED")),
    ({}, (-32009, "VERSION_NOT_SUPPORTED")),  # no header means 0.3, which has no GetTask
])
def test_the_a2a_version_header_is_validated(live_server, headers, expected):
    assert error_of(rpc(live_server, "GetTask", {"id": "x"}, headers=headers)) == expected
    assert rpc(live_server, "GetTask", {"id": "x"}, headers={"A2A-Version": "1.0.0"}).json()["error"]["code"] == -32001


# ----------------------------------------------------------------------------- v0.3 names

def test_v0_3_methods_are_served_for_older_clients(live_server, paced_server):
    message = {"kind": "message", "messageId": "m1", "role": "user",
               "parts": [{"kind": "file", "file": {"bytes": base64.b64encode(
                   (SAMPLES / "wash_false_positive_prsm.xml").read_bytes()).decode(), "mimeType": "application/xml"}}]}
    sent = rpc(live_server, "message/send", {"message": message}, headers={}).json()["result"]
    assert sent["kind"] == "task" and sent["status"]["state"] == "completed"
    got = rpc(live_server, "tasks/get", {"id": sent["id"], "historyLength": 1}, headers={"A2A-Version": "0.3"}).json()
    assert got["result"]["id"] == sent["id"] and len(got["result"]["history"]) == 1
    assert rpc(live_server, "tasks/cancel", {"id": sent["id"]}, headers={}).json()["error"]["code"] == -32002
    with paced_server.client(timeout=60) as http, http.stream(
            "POST", "/a2a", json={"jsonrpc": "2.0", "id": 1, "method": "message/stream",
                                  "params": {"message": {**message, "messageId": "m2"}}}) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    events = [json.loads(line[6:])["result"] for line in lines]
    assert events[0]["kind"] == "task"
    assert {e["kind"] for e in events[1:]} == {"status-update", "artifact-update"}
    assert events[-1]["kind"] == "status-update" and events[-1]["final"] is True
    assert events[-1]["status"]["state"] == "completed"


# ----------------------------------------------------------------------------- auth

def test_bearer_auth_is_declared_and_enforced(start_server, redis_url):
    server = start_server(server_env(redis_url, A2A_AUTH_TOKEN="s3cret-token"), workers=1, name="a2a-auth")
    with server.client(role=None) as anonymous:  # cards stay public
        card = anonymous.get("/.well-known/agent-card.json").json()
    assert card["securitySchemes"]["bearer"]["httpAuthSecurityScheme"]["scheme"] == "Bearer"
    assert card["securityRequirements"] == [{"schemes": {"bearer": {}}}]
    denied = rpc(server, "GetTask", {"id": "x"}, role=None)
    assert denied.status_code == 401 and denied.headers["www-authenticate"].startswith("Bearer")
    assert error_of(denied)[1] == "UNAUTHENTICATED"
    assert rpc(server, "GetTask", {"id": "x"}, headers={**V1, "Authorization": "Bearer wrong"}).status_code == 401
    # The static service token opens the A2A endpoints, and only them.
    responses = run(stream_all(server.url, alert_message(), token="s3cret-token"))
    assert responses[-1].status_update.status.state == pb.TASK_STATE_COMPLETED
    task_id = responses[0].task.id
    with server.client(role=None, headers={"Authorization": "Bearer s3cret-token"}) as http:
        assert http.get(f"/analyses/{task_id}.json").status_code == 401


# ----------------------------------------------------------------------------- delegation

def test_the_orchestrator_delegates_to_a_remote_specialist_over_a2a(start_server, redis_url):
    specialist = start_server(server_env(redis_url, INSTANCE_NAME="specialist", A2A_AUTH_TOKEN="peer-token"),
                              workers=1, name="specialist")
    orchestrator = start_server(server_env(
        redis_url, INSTANCE_NAME="orchestrator", INSIDER_DEALING_AGENT_URL=f"{specialist.url}/a2a/insider-dealing",
        REMOTE_AGENT_TOKEN="peer-token"), workers=1, name="orchestrator")
    session = Browser(orchestrator)
    run_id = session.upload((SAMPLES / "insider_genuine_acme.xml").read_bytes()).headers["location"].split("/")[-1]
    with orchestrator.client(timeout=60) as http:
        with connect_sse(http, "GET", f"/analyses/{run_id}/events") as source:
            types = [e.event for e in source.iter_sse() if e.data]
        report = http.get(f"/analyses/{run_id}.json").json()
    steps = [e["step_id"] for e in report["events"] if e["type"] == "step_completed"]
    assert "orchestrator.delegate" in steps
    assert "insider_dealing.trader_history" in steps and "insider_dealing.analyst" in steps  # relayed remote steps
    assert report["decision"]["determination"] == "ESCALATE" and types[-1] == "close"
    delegate = next(e for e in report["events"] if e["type"] == "step_completed" and
                    e["step_id"] == "orchestrator.delegate")
    assert f"{specialist.url}/a2a/insider-dealing answered ESCALATE" in delegate["data"]["summary"]
    # A wash trade is not delegated (no URL configured for it): it runs in-process.
    other = session.upload((SAMPLES / "wash_genuine_gldx.xml").read_bytes()).headers["location"].split("/")[-1]
    with orchestrator.client(timeout=60) as http, connect_sse(
            http, "GET", f"/analyses/{other}/events") as source:
        assert [e.event for e in source.iter_sse() if e.data][-1] == "close"
        assert "orchestrator.delegate" not in {e["step_id"] for e in http.get(f"/analyses/{other}.json").json()[
            "events"]}


# ----------------------------------------------------------------------------- conversation

def test_a_message_that_is_not_an_alert_gets_a_reply_saying_what_to_send(live_server, redis_client):
    question = pb.Message(message_id=uuid.uuid4().hex, role=pb.ROLE_USER, context_id="ctx-1", parts=[
        pb.Part(text="Hi, can you check Sarah Chen's ACME trade from last week?", media_type="text/plain")])
    runs_before = redis_client.zcard("saa:runs")
    streamed = run(stream_all(live_server.url, question))
    plain = run(stream_all(live_server.url, question, streaming=False))
    for responses in (streamed, plain):
        [response] = responses
        assert response.WhichOneof("payload") == "message"  # a reply, not a task
        reply = response.message
        assert reply.role == pb.ROLE_AGENT and reply.context_id == "ctx-1"
        assert "Send the alert's XML export" in reply.parts[0].text
        assert reply.parts[1].media_type == "application/xml"
    assert redis_client.zcard("saa:runs") == runs_before
    # The example it gives is an alert it accepts.
    example = pb.Message(message_id=uuid.uuid4().hex, role=pb.ROLE_USER,
                         parts=[pb.Part(text=streamed[0].message.parts[1].text, media_type="text/plain")])
    assert run(stream_all(live_server.url, example))[-1].status_update.status.state == pb.TASK_STATE_COMPLETED
    # Older clients get the same reply as a v0.3 message.
    legacy = rpc(live_server, "message/send", {"message": {"kind": "message", "messageId": "m", "role": "user",
                                                           "parts": [{"kind": "text", "text": "hello"}]}}, headers={})
    assert legacy.json()["result"]["kind"] == "message" and legacy.json()["result"]["role"] == "agent"
