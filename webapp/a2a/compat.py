"""The v0.3 method names (message/send, message/stream, tasks/get, tasks/cancel, tasks/resubscribe),
for clients that still speak A2A 0.3: params and results are converted with the SDK's v0.3
conversions around the same v1.0 handlers."""

from __future__ import annotations

from a2a.compat.v0_3 import conversions as conv
from a2a.compat.v0_3 import types as t03
from a2a.types import a2a_pb2 as pb
from google.protobuf import json_format
from pydantic import ValidationError

from webapp.a2a import methods, rpc
from webapp.a2a.errors import InvalidParamsError, PushNotificationNotSupportedError
from webapp.feed import HEARTBEAT

PARAMS = {
    "message/send": t03.MessageSendParams, "message/stream": t03.MessageSendParams,
    "tasks/get": t03.TaskQueryParams, "tasks/cancel": t03.TaskIdParams, "tasks/resubscribe": t03.TaskIdParams,
}
PUSH = {"tasks/pushNotificationConfig/set", "tasks/pushNotificationConfig/get", "tasks/pushNotificationConfig/list",
        "tasks/pushNotificationConfig/delete"}
METHODS = set(PARAMS) | PUSH
SENDS = {"message/send", "message/stream"}


def _dump(model) -> dict:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def _task(task_json: dict) -> dict:
    return _dump(conv.to_compat_task(json_format.ParseDict(task_json, pb.Task(), ignore_unknown_fields=True)))


def _message(message_json: dict) -> dict:
    return _dump(conv.to_compat_message(json_format.ParseDict(message_json, pb.Message(), ignore_unknown_fields=True)))


def _stream_item(item):
    if item is HEARTBEAT:
        return item
    if "task" in item:
        return _task(item["task"])
    if "message" in item:
        return _message(item["message"])
    if "statusUpdate" in item:
        event = json_format.ParseDict(item["statusUpdate"], pb.TaskStatusUpdateEvent(), ignore_unknown_fields=True)
        return _dump(conv.to_compat_task_status_update_event(event))
    event = json_format.ParseDict(item["artifactUpdate"], pb.TaskArtifactUpdateEvent(), ignore_unknown_fields=True)
    return _dump(conv.to_compat_task_artifact_update_event(event))


def handle(call: methods.Call):
    if call.method in PUSH:
        raise PushNotificationNotSupportedError(message="This agent does not send push notifications.")
    try:
        params = PARAMS[call.method].model_validate(call.params)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidParamsError(message=f"Invalid params for {call.method}: "
                                         f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    if call.method in ("message/send", "message/stream"):
        request = pb.SendMessageRequest(message=conv.to_core_message(params.message))
        if params.configuration:
            request.configuration.CopyFrom(conv.to_core_send_message_configuration(params.configuration))
        call.params = request
        if call.method == "message/send":
            result = methods.send_message(call)
            converted = _task(result["task"]) if "task" in result else _message(result["message"])
            return rpc._json({"jsonrpc": "2.0", "id": call.id, "result": converted})
        return rpc._sse((_stream_item(i) for i in methods.send_streaming_message(call)), call.id)
    if call.method == "tasks/get":
        request = pb.GetTaskRequest(id=params.id)
        if params.history_length is not None:
            request.history_length = params.history_length
        call.params = request
        return rpc._json({"jsonrpc": "2.0", "id": call.id, "result": _task(methods.get_task(call))})
    call.params = pb.CancelTaskRequest(id=params.id) if call.method == "tasks/cancel" else \
        pb.SubscribeToTaskRequest(id=params.id)
    if call.method == "tasks/cancel":
        return rpc._json({"jsonrpc": "2.0", "id": call.id, "result": _task(methods.cancel_task(call))})
    return rpc._sse((_stream_item(i) for i in methods.subscribe_to_task(call)), call.id)
