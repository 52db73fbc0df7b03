"""The JSON-RPC endpoint of each agent: POST /a2a (orchestrator) and POST /a2a/<agent> (specialists).

Requests first pass webapp/a2a/guard.py (not cross-site, JSON, bounded), then are checked in
the order the spec gives its errors: parse (-32700), JSON-RPC shape (-32600), method (-32601),
the A2A-Version header (-32009), params (-32602), then the method's own errors (-32001…-32007).
Params are parsed into the SDK's protobuf request types. Sends are rate limited
(webapp/limits.py). What each method does is in webapp/a2a/methods.py.
"""

from __future__ import annotations

import json

import redis
from a2a.types import a2a_pb2 as pb
from flask import Response, request, stream_with_context
from google.protobuf import json_format

from webapp import limits
from webapp.a2a import guard, methods
from webapp.a2a.agents import A2AAgent, agent_for
from webapp.a2a.errors import (
    A2AError,
    InternalError,
    InvalidParamsError,
    InvalidRequestError,
    MethodNotFoundError,
    VersionNotSupportedError,
    error_response,
)
from webapp.a2a.methods import Call
from webapp.auth import access
from webapp.feed import HEARTBEAT, FeedClosed, HubUnavailable, TooManyStreams
from webapp.sse import closing, current_hub

VERSION_HEADER = "A2A-Version"
METHODS_V1 = {
    "SendMessage": pb.SendMessageRequest, "SendStreamingMessage": pb.SendMessageRequest,
    "GetTask": pb.GetTaskRequest, "ListTasks": pb.ListTasksRequest, "CancelTask": pb.CancelTaskRequest,
    "SubscribeToTask": pb.SubscribeToTaskRequest,
    "CreateTaskPushNotificationConfig": pb.TaskPushNotificationConfig,
    "GetTaskPushNotificationConfig": pb.GetTaskPushNotificationConfigRequest,
    "ListTaskPushNotificationConfigs": pb.ListTaskPushNotificationConfigsRequest,
    "DeleteTaskPushNotificationConfig": pb.DeleteTaskPushNotificationConfigRequest,
    "GetExtendedAgentCard": pb.GetExtendedAgentCardRequest,
}
STREAMING = {"SendStreamingMessage", "SubscribeToTask"}
STREAMING_V03 = {"message/stream", "tasks/resubscribe"}
SENDS = {"SendMessage", "SendStreamingMessage"}  # the methods that start analyses: rate limited


# ----------------------------------------------------------------------------- entry

def endpoint(slug: str | None = None) -> Response:
    agent = agent_for(slug)
    if agent is None:
        return _json(error_response(None, MethodNotFoundError(message=f"No A2A agent at /a2a/{slug}.")), 404)
    request_id = None
    try:
        # The access hook has refused cross-site browser requests and signed the caller in (a bearer token).
        body = guard.read_json()
        request_id = body.get("id") if isinstance(body, dict) else None
        if isinstance(request_id, bool) or not isinstance(request_id, str | int | type(None)):
            request_id = None
        method, raw_params = _envelope(body)
        denied = access.a2a_denied(method)  # the caller was authenticated before this view ran
        if denied is not None:
            return denied
        if method in STREAMING or method in STREAMING_V03:
            return _admitted(lambda: _dispatch(agent, request_id, method, raw_params), request_id)
        return _dispatch(agent, request_id, method, raw_params)
    except A2AError as exc:
        response = _json(error_response(request_id, exc), getattr(exc, "http_status", 200))
        response.headers.update(getattr(exc, "http_headers", {}))
        return response


def _dispatch(agent: A2AAgent, request_id, method: str, raw_params) -> Response:
    from webapp.a2a import compat  # loaded with the blueprint; imported here because it imports this module

    if method in compat.METHODS:
        _check_version({"0.3", "1.0"})
        if method in compat.SENDS:
            limits.a2a_send()
        return compat.handle(Call(agent, request_id, method, raw_params))
    if method not in METHODS_V1:
        raise MethodNotFoundError(message=f"Method {method!r} does not exist. A2A v1.0 methods: "
                                          f"{', '.join(sorted(METHODS_V1))}.")
    _check_version({"1.0"})
    try:
        params = json_format.ParseDict(raw_params, METHODS_V1[method](), ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise InvalidParamsError(message=f"Invalid params for {method}: {exc}") from None
    if method in SENDS:
        limits.a2a_send()
    call = Call(agent, request_id, method, params)
    if method in STREAMING:
        return _sse(methods.HANDLERS[method](call), request_id)
    return _json({"jsonrpc": "2.0", "id": request_id, "result": methods.HANDLERS[method](call)})


def _admitted(respond, request_id) -> Response:
    """A stream counts against the worker's cap (SSE_MAX_CONCURRENT) with the browsers' from before
    anything is created until its response closes; past the cap: 503 with Retry-After, at once."""
    try:
        slot = current_hub().admit("a2a")
    except (TooManyStreams, HubUnavailable) as exc:
        busy = "Too many live streams on this server" if isinstance(exc, TooManyStreams) else "Shutting down"
        response = _json(error_response(request_id, InternalError(message=f"{busy}; retry shortly.")), 503)
        response.headers["Retry-After"] = "5"
        return closing(response)
    try:
        response = respond()
    except BaseException:
        slot.release()
        raise
    response.call_on_close(slot.release)
    if response.mimetype != "text/event-stream":  # an error answered instead of a stream
        slot.release()
    return response


def _json(payload: dict, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def _envelope(body) -> tuple[str, dict]:
    if isinstance(body, list):
        raise InvalidRequestError(message="Batch requests are not supported.")
    if not isinstance(body, dict):
        raise InvalidRequestError(message="A JSON-RPC request must be an object.")
    if body.get("jsonrpc") != "2.0":
        raise InvalidRequestError(message="'jsonrpc' must be exactly \"2.0\".")
    if "id" in body and (isinstance(body["id"], bool) or not isinstance(body["id"], str | int | type(None))):
        raise InvalidRequestError(message="'id' must be a string, a number or null.")
    method = body.get("method")
    if not isinstance(method, str) or not method:
        raise InvalidRequestError(message="'method' must be a non-empty string.")
    params = body.get("params", {})
    if not isinstance(params, dict):
        raise InvalidParamsError(message="'params' must be an object.")
    return method, params


def _check_version(accepted: set[str]) -> None:
    """The A2A-Version header: missing means 0.3 (spec); major.minor must be one we serve."""
    raw = request.headers.get(VERSION_HEADER, "").strip() or "0.3"
    major_minor = ".".join(raw.split(".")[:2])
    if major_minor not in accepted:
        raise VersionNotSupportedError(
            message=f"A2A-Version {raw} is not supported here; this method needs {' or '.join(sorted(accepted))}.",
            data={"requestedVersion": raw, "supportedVersions": ",".join(sorted(accepted))})


# ----------------------------------------------------------------------------- SSE

def _sse(items, request_id) -> Response:
    """Each item as an SSE event whose data is a JSON-RPC response; errors as ``event: error``."""

    def frames():
        yield ": a2a stream\n\n"
        try:
            for item in items:
                if item is HEARTBEAT:
                    yield ": keep-alive\n\n"
                    continue
                yield f"data: {json.dumps({'jsonrpc': '2.0', 'id': request_id, 'result': item})}\n\n"
        except A2AError as exc:
            yield f"event: error\ndata: {json.dumps(error_response(request_id, exc))}\n\n"
        except FeedClosed:
            return  # the worker is shutting down: the client resubscribes elsewhere
        except (redis.RedisError, HubUnavailable):  # Redis went away mid-stream: the task is safe
            error = InternalError(message="The task store became unavailable; the task is safe. Resubscribe "
                                          "(SubscribeToTask) shortly.", data={"retryAfterSeconds": 5})
            yield f"event: error\ndata: {json.dumps(error_response(request_id, error))}\n\n"

    response = Response(stream_with_context(frames()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response
