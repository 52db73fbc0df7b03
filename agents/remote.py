"""Delegating an investigation to a specialist served by another A2A server.

The orchestrator runs inside a gevent greenlet, so it cannot use the asyncio a2a-sdk client;
this is a small synchronous A2A v1.0 client over httpx and httpx-sse. It sends the alert with
SendStreamingMessage, yields the remote agent's progress events (carried as data parts of its
status updates) so they appear in the local timeline, and returns the remote decision.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
from a2a.types import a2a_pb2 as pb
from google.protobuf import json_format
from httpx_sse import connect_sse

from agents.decision import Decision

# The remote run's own lifecycle events: the local run has its own.
RUN_LEVEL = {"run_started", "run_resumed", "decision", "run_completed", "run_failed", "run_cancelled"}


class RemoteAgentError(RuntimeError):
    pass


def investigate_remote(url: str, raw: bytes, filename: str, *, token: str | None = None,
                       connect_timeout: float = 10.0) -> Iterator[dict | Decision]:
    """Yield the remote agent's step events (dicts, as tools emit them), then its :class:`Decision`."""
    request = pb.SendMessageRequest(message=pb.Message(
        message_id=uuid.uuid4().hex, role=pb.ROLE_USER,
        parts=[pb.Part(raw=raw, media_type="application/xml", filename=filename)]))
    body = {"jsonrpc": "2.0", "id": uuid.uuid4().hex, "method": "SendStreamingMessage",
            "params": json_format.MessageToDict(request)}
    headers = {"A2A-Version": "1.0"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    decision = None
    timeout = httpx.Timeout(connect_timeout, read=None)  # an investigation takes as long as it takes
    try:
        with httpx.Client(timeout=timeout) as http, connect_sse(http, "POST", url, json=body,
                                                                headers=headers) as source:
            if source.response.status_code != 200 or "text/event-stream" not in source.response.headers.get(
                    "content-type", ""):
                source.response.read()
                raise RemoteAgentError(_error_text(source.response.text, source.response.status_code))
            for sse in source.iter_sse():
                payload = json.loads(sse.data)
                if "error" in payload:
                    raise RemoteAgentError(payload["error"].get("message", "the remote agent failed"))
                result = payload["result"]
                if "artifactUpdate" in result:
                    for part in result["artifactUpdate"]["artifact"].get("parts", []):
                        if "data" in part:
                            decision = Decision.model_validate(part["data"])
                elif "statusUpdate" in result:
                    status = result["statusUpdate"]["status"]
                    if status.get("state") in ("TASK_STATE_FAILED", "TASK_STATE_CANCELED", "TASK_STATE_REJECTED"):
                        texts = [p["text"] for p in status.get("message", {}).get("parts", []) if "text" in p]
                        raise RemoteAgentError("; ".join(texts) or status["state"])
                    for part in status.get("message", {}).get("parts", []):
                        event = part.get("data")
                        if isinstance(event, dict) and event.get("type") not in RUN_LEVEL:
                            yield {k: event.get(k) for k in ("type", "step_id", "agent", "tool", "data")}
    except httpx.HTTPError as exc:
        raise RemoteAgentError(f"{url} could not be reached: {exc}") from None
    if decision is None:
        raise RemoteAgentError(f"{url} ended without a determination")
    yield decision


def _error_text(body: str, status: int) -> str:
    try:
        return json.loads(body)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {status}: {body[:200]}"
