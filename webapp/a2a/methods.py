"""What each A2A method does, once webapp/a2a/rpc.py has checked the request: start a task (an
analysis, through the work queue like every run), get, list, cancel and follow tasks. A task is
visible to exactly those who could see its case in the UI, and every read of a case is audited.
"""

from __future__ import annotations

import base64
import time
import uuid

import gevent
from a2a.types import a2a_pb2 as pb
from flask import current_app
from flask_login import current_user

from agents.alerts import AlertError, parse_alert
from webapp import cases, runner, workqueue
from webapp.a2a import replies, tasks
from webapp.a2a.agents import INPUT_MODES, OUTPUT_MODES, A2AAgent
from webapp.a2a.errors import (
    ContentTypeNotSupportedError,
    ExtendedAgentCardNotConfiguredError,
    InvalidParamsError,
    PushNotificationNotSupportedError,
    TaskNotCancelableError,
    TaskNotFoundError,
    UnsupportedOperationError,
)
from webapp.a2a.replies import NotAnAlert
from webapp.auth import access
from webapp.feed import HEARTBEAT, follow
from webapp.record import audit
from webapp.sse import current_hub
from webapp.store import Run
from webapp.timeline import fold

LIST_PAGE_DEFAULT, LIST_PAGE_MAX = 50, 100
CANCEL_WAIT = 5.0


class Call:
    """One JSON-RPC call: the agent it reached, the request id, the method and its parsed params."""

    def __init__(self, agent: A2AAgent, request_id, method: str, params):
        self.agent, self.id, self.method, self.params = agent, request_id, method, params


def services():
    return current_app.extensions["saa"]


# ----------------------------------------------------------------------------- tasks

def load(task_id: str, action: str | None = None) -> tuple[Run, list]:
    """The task (live, or from the record once Redis let it go) if the caller may see its case —
    a task is visible to exactly those who could see its case in the UI; ``action`` is audited."""
    found = cases.find(services(), task_id) if task_id else None
    if found is None or not access.can_see_case(current_user, found.run.fields):
        raise TaskNotFoundError(message=f"Task {task_id!r} does not exist.", data={"taskId": task_id})
    if action is not None:
        audit.record(services().db, access.actor(), action, case_id=found.run["alert_id"], run_id=found.run.id,
                     via="a2a")
    return found.run, found.events


def stor_text(run: Run, events: list) -> str | None:
    view = fold(run.id, events)
    draft = (view.decision or {}).get("stor")
    if not draft:
        return None
    return current_app.jinja_env.get_template("stor.txt").render(run=run, decision=view.decision, stor=draft)


def task_json(run: Run, events: list, history_length: int | None = None, include_artifacts: bool = True) -> dict:
    alert = services().store.alert_bytes(run.id) if history_length != 0 else None
    return tasks.to_json(tasks.task(run, events, alert, history_length=history_length,
                                    include_artifacts=include_artifacts, stor_text=stor_text(run, events)))


def _history_length(config) -> int | None:
    if config is None or not config.HasField("history_length"):
        return None
    if config.history_length < 0:
        raise InvalidParamsError(message="historyLength must not be negative.")
    return config.history_length


# ----------------------------------------------------------------------------- methods

def alert_from(message: pb.Message) -> tuple[bytes, str]:
    """The alert XML from the message's parts: raw bytes (application/xml) or text. Text that is
    not XML (a sentence) raises :class:`NotAnAlert`, answered with what the agent accepts."""
    if not message.parts:
        raise InvalidParamsError(message="The message has no parts: attach the alert XML as a part.")
    if message.task_id:
        load(message.task_id)  # -32001 when there is no such task
        raise UnsupportedOperationError(
            message="Tasks here are single investigations and do not take follow-up messages; send a new message.",
            data={"taskId": message.task_id})
    prose = False
    for part in message.parts:
        kind = part.WhichOneof("content")
        media = part.media_type.split(";")[0].strip().lower()
        if kind == "raw":
            if media and media not in ("application/xml", "text/xml"):
                raise ContentTypeNotSupportedError(
                    message=f"Parts of type {media} are not accepted; send the alert as application/xml.",
                    data={"mediaType": media, "accepted": ",".join(INPUT_MODES)})
            return part.raw, part.filename or "alert.xml"
        if kind == "text" and part.text.strip():
            if media and media not in INPUT_MODES:
                raise ContentTypeNotSupportedError(message=f"Parts of type {media} are not accepted.",
                                                   data={"mediaType": media, "accepted": ",".join(INPUT_MODES)})
            if part.text.lstrip().startswith("<"):
                return part.text.encode(), part.filename or "alert.xml"
            prose = True  # a sentence: another part may still carry the alert
        if kind == "url":
            raise ContentTypeNotSupportedError(message="Alerts by URL are not fetched; send the XML itself.",
                                               data={"accepted": ",".join(INPUT_MODES)})
    if prose:
        raise NotAnAlert
    raise InvalidParamsError(message="No part carries the alert XML.")


def start_task(call: Call) -> Run:
    params: pb.SendMessageRequest = call.params
    if not params.HasField("message"):
        raise InvalidParamsError(message="params.message is required.")
    accepted = set(params.configuration.accepted_output_modes)
    if accepted and not accepted & set(OUTPUT_MODES):
        raise ContentTypeNotSupportedError(
            message=f"This agent answers in {', '.join(OUTPUT_MODES)}; none is in acceptedOutputModes.",
            data={"produced": ",".join(OUTPUT_MODES)})
    _history_length(params.configuration if params.HasField("configuration") else None)
    raw, filename = alert_from(params.message)
    if len(raw) > services().settings.max_alert_bytes:
        raise InvalidParamsError(message=f"The alert is larger than {services().settings.max_alert_bytes} bytes.")
    try:
        alert = parse_alert(raw)
    except AlertError as exc:
        raise InvalidParamsError(message=f"The alert was refused: {exc.message}", data={"reason": exc.message}) \
            from None
    if alert.kind not in call.agent.kinds:
        raise InvalidParamsError(
            message=f"{call.agent.name} investigates {', '.join(k.label.lower() for k in call.agent.kinds)} alerts; "
                    f"this is a {alert.kind.label.lower()} alert. Send it to the orchestrator at /a2a.",
            data={"alertKind": str(alert.kind)})
    extra = {"context_id": params.message.context_id or uuid.uuid4().hex,
             "message_id": params.message.message_id or uuid.uuid4().hex, "a2a_agent": call.agent.path}
    # Into the work queue like every run: it starts here at once when a slot is free.
    [run] = workqueue.submit(current_app._get_current_object(), [(alert, raw, filename)], actor=access.actor(),
                             source="a2a", extra=extra)
    return run


def send_message(call: Call) -> dict:
    params: pb.SendMessageRequest = call.params
    try:
        run = start_task(call)
    except NotAnAlert:
        return {"message": replies.not_an_alert(call.agent, params.message)}
    history = _history_length(params.configuration) if params.HasField("configuration") else None
    if params.configuration.return_immediately:
        return {"task": task_json(run, [], history)}
    hub = current_hub()
    with hub.subscription(run.id) as queue:  # blocking: this client waits on the events for the end
        for _item in follow(services().store, queue, run.id, 0, services().settings.sse_heartbeat_interval):
            pass
    run, events = load(run.id)
    return {"task": task_json(run, events, history)}


def get_task(call: Call) -> dict:
    params: pb.GetTaskRequest = call.params
    if params.HasField("history_length") and params.history_length < 0:
        raise InvalidParamsError(message="historyLength must not be negative.")
    run, events = load(params.id, "case.view")
    return task_json(run, events, params.history_length if params.HasField("history_length") else None)


def cancel_task(call: Call) -> dict:
    run, _events = load(call.params.id)
    if run.finished:
        raise TaskNotCancelableError(message=f"Task {run.id} has already ended ({run.status}).",
                                     data={"taskId": run.id, "state": run.status})
    audit.record(services().db, access.actor(), "case.cancel", case_id=run["alert_id"], run_id=run.id, via="a2a")
    runner.cancel(current_app._get_current_object(), run.id)
    deadline = time.monotonic() + CANCEL_WAIT
    while not services().store.get(run.id).finished and time.monotonic() < deadline:
        gevent.sleep(0.05)  # the owner ends the run within its cancel latency; answer with the result
    run, events = load(run.id)
    return task_json(run, events)


def list_tasks(call: Call) -> dict:
    params: pb.ListTasksRequest = call.params
    if params.page_size < 0 or params.page_size > LIST_PAGE_MAX:
        raise InvalidParamsError(message=f"pageSize must be between 1 and {LIST_PAGE_MAX}.")
    if params.HasField("history_length") and params.history_length < 0:
        raise InvalidParamsError(message="historyLength must not be negative.")
    size = params.page_size or LIST_PAGE_DEFAULT
    try:
        offset = int(base64.urlsafe_b64decode(params.page_token.encode()).decode()) if params.page_token else 0
    except (ValueError, UnicodeDecodeError):
        raise InvalidParamsError(message="pageToken is not one this server issued.") from None
    wanted_state = params.status if params.status != pb.TASK_STATE_UNSPECIFIED else None
    since = params.status_timestamp_after.ToNanoseconds() / 1e9 if params.HasField("status_timestamp_after") else None
    store = services().store
    audit.record(services().db, access.actor(), "case.list", via="a2a", context_id=params.context_id or None)
    matches = [run for run in store.recent(0, store.count()) if access.can_see_case(current_user, run.fields)
               and (not params.context_id or tasks.context_id(run) == params.context_id)
               and (wanted_state is None or tasks.STATES.get(run.status) == wanted_state)
               and (since is None or float(run.get("updated_at") or run.created_at) > since)]
    page = matches[offset:offset + size]
    history = params.history_length if params.HasField("history_length") else 0
    result = {"tasks": [task_json(run, store.events(run.id), history, params.include_artifacts) for run in page],
              "pageSize": size, "totalSize": len(matches), "nextPageToken": ""}
    if offset + size < len(matches):
        result["nextPageToken"] = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
    return result


def _stream_task(run: Run, cursor_events: list, heartbeat: float, queue):
    """Yield the Task, then each later event as a StreamResponse, until the run ends."""
    store = services().store
    yield {"task": task_json(run, cursor_events)}
    view = fold(run.id, cursor_events)
    cursor = view.last_seq
    for item in follow(store, queue, run.id, cursor, heartbeat):
        if item is HEARTBEAT:
            yield HEARTBEAT
            continue
        view.apply(item.event)
        text = stor_text(run, store.events(run.id)) if item.event.type == "decision" and \
            (view.decision or {}).get("stor") else None
        for response in tasks.stream_responses(run, item.event, view, text):
            yield tasks.to_json(response)


def send_streaming_message(call: Call):
    try:
        run = start_task(call)
    except NotAnAlert:
        return iter([{"message": replies.not_an_alert(call.agent, call.params.message)}])
    hub = current_hub()
    heartbeat = services().settings.sse_heartbeat_interval

    def stream():
        with hub.subscription(run.id) as queue:  # follow() reads the log after subscribing: nothing is missed
            yield from _stream_task(run, [], heartbeat, queue)

    return stream()


def subscribe_to_task(call: Call):
    run, _events = load(call.params.id, "case.view")
    if run.finished:
        raise UnsupportedOperationError(message=f"Task {run.id} has ended ({run.status}); use GetTask.",
                                        data={"taskId": run.id, "state": run.status})
    hub = current_hub()
    heartbeat = services().settings.sse_heartbeat_interval

    def stream():
        with hub.subscription(run.id) as queue:  # subscribe first, then read where the task is
            current, events = load(run.id)
            yield from _stream_task(current, events, heartbeat, queue)

    return stream()


def no_push(_call: Call) -> dict:
    raise PushNotificationNotSupportedError(message="This agent does not send push notifications; stream instead.")


def no_extended_card(_call: Call) -> dict:
    raise ExtendedAgentCardNotConfiguredError(message="This agent has no extended card.")


HANDLERS = {
    "SendMessage": send_message, "SendStreamingMessage": send_streaming_message, "GetTask": get_task,
    "ListTasks": list_tasks, "CancelTask": cancel_task, "SubscribeToTask": subscribe_to_task,
    "CreateTaskPushNotificationConfig": no_push, "GetTaskPushNotificationConfig": no_push,
    "ListTaskPushNotificationConfigs": no_push, "DeleteTaskPushNotificationConfig": no_push,
    "GetExtendedAgentCard": no_extended_card,
}


