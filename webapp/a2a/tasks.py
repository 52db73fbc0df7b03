"""Runs as A2A tasks, and run events as A2A stream responses.

A run's state maps to a TaskState; each logged event becomes an agent Message (a text part a
person can read, and a data part with the event itself); the decision is an artifact with the
decision as a data part (and the STOR draft, when there is one, as a text artifact). Message
ids are derived from (run, seq), so the same event always yields the same message.
"""

from __future__ import annotations

from a2a.types import a2a_pb2 as pb
from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp

from agents.events import Event, EventType
from webapp.store import Run
from webapp.timeline import RunView, fold

STATES = {
    "queued": pb.TASK_STATE_SUBMITTED,
    "running": pb.TASK_STATE_WORKING,
    "completed": pb.TASK_STATE_COMPLETED,
    "failed": pb.TASK_STATE_FAILED,
    "cancelled": pb.TASK_STATE_CANCELED,
}
TERMINAL = {pb.TASK_STATE_COMPLETED, pb.TASK_STATE_FAILED, pb.TASK_STATE_CANCELED, pb.TASK_STATE_REJECTED}
STATE_BY_EVENT = {
    EventType.RUN_COMPLETED: pb.TASK_STATE_COMPLETED,
    EventType.RUN_FAILED: pb.TASK_STATE_FAILED,
    EventType.RUN_CANCELLED: pb.TASK_STATE_CANCELED,
}


def context_id(run: Run) -> str:
    return run.get("context_id") or run.id


def _timestamp(ts: float) -> Timestamp:
    stamp = Timestamp()
    stamp.FromNanoseconds(int(ts * 1e9))
    return stamp


def describe(event: Event, view: RunView | None = None) -> str:
    """One line a person can read for an event."""
    data = event.data
    title = (view.steps[event.step_id].title if view and event.step_id in view.steps else None) or event.step_id
    match event.type:
        case EventType.RUN_STARTED:
            return f"Investigation started ({data.get('analyst', 'analyst')})."
        case EventType.RUN_RESUMED:
            return data.get("message", "Resumed.")
        case EventType.STEP_STARTED:
            return f"Started: {data.get('title') or title}."
        case EventType.STEP_PROGRESS:
            count = f" ({data['step']}/{data['total']})" if data.get("step") and data.get("total") else ""
            return f"{title}: {data.get('message', '')}{count}"
        case EventType.STEP_COMPLETED:
            return f"Done: {title} — {data.get('summary', '')}"
        case EventType.STEP_FAILED:
            return f"Failed: {title} — {data.get('error', '')}"
        case EventType.ANALYST_TOKEN:
            return data.get("text", "")
        case EventType.DECISION:
            return (f"Determination: {data.get('determination')} ({data.get('confidence')}/100). "
                    f"{data.get('summary', '')}")
        case EventType.RUN_COMPLETED:
            return f"Completed: {data.get('determination')} with confidence {data.get('confidence')}."
        case EventType.RUN_FAILED:
            return f"Failed: {data.get('error', '')}"
        case EventType.RUN_CANCELLED:
            return f"Cancelled: {data.get('reason', '')}"
    return str(event.type)


def event_message(run: Run, event: Event, view: RunView | None = None) -> pb.Message:
    message = pb.Message(message_id=f"{run.id}-{event.seq}", context_id=context_id(run), task_id=run.id,
                         role=pb.ROLE_AGENT)
    message.parts.append(pb.Part(text=describe(event, view), media_type="text/plain"))
    data_part = json_format.ParseDict({"data": event.to_dict(), "mediaType": "application/json"}, pb.Part())
    message.parts.append(data_part)
    message.metadata.update({"seq": event.seq, "eventType": str(event.type)})
    return message


def user_message(run: Run, alert: bytes | None) -> pb.Message:
    """The message that started the task: the alert, as the A2A client (or the upload form) sent it."""
    message = pb.Message(message_id=run.get("message_id") or f"{run.id}-0", context_id=context_id(run),
                         task_id=run.id, role=pb.ROLE_USER)
    if alert is not None:
        message.parts.append(pb.Part(raw=alert, media_type="application/xml", filename=run.get("filename") or ""))
    return message


def artifacts(run: Run, view: RunView, stor_text: str | None = None) -> list[pb.Artifact]:
    if not view.decision:
        return []
    decision = pb.Artifact(artifact_id=f"{run.id}-decision", name="determination",
                           description=view.decision.get("summary", ""))
    decision.parts.append(json_format.ParseDict({"data": view.decision, "mediaType": "application/json"}, pb.Part()))
    decision.parts.append(pb.Part(text=view.decision.get("rationale", ""), media_type="text/plain"))
    result = [decision]
    if stor_text:
        result.append(pb.Artifact(artifact_id=f"{run.id}-stor", name="stor-draft",
                                  description="Suspicious transaction and order report, draft",
                                  parts=[pb.Part(text=stor_text, media_type="text/plain")]))
    return result


def status(run: Run, view: RunView, events: list[Event]) -> pb.TaskStatus:
    result = pb.TaskStatus(state=STATES.get(view.status, pb.TASK_STATE_WORKING))
    if events:
        result.message.CopyFrom(event_message(run, events[-1], view))
        result.timestamp.CopyFrom(_timestamp(events[-1].ts))
    else:
        result.timestamp.CopyFrom(_timestamp(run.created_at))
    return result


def task(run: Run, events: list[Event], alert: bytes | None, *, history_length: int | None = None,
         include_artifacts: bool = True, stor_text: str | None = None) -> pb.Task:
    """The run as a Task. ``history_length`` None keeps the whole history, 0 none, N the last N."""
    view = fold(run.id, events)
    result = pb.Task(id=run.id, context_id=context_id(run), status=status(run, view, events))
    if include_artifacts:
        result.artifacts.extend(artifacts(run, view, stor_text))
    if history_length != 0:
        history = [user_message(run, alert), *(event_message(run, e, view) for e in events)]
        result.history.extend(history if history_length is None else history[-history_length:])
    result.metadata.update({"alertId": run["alert_id"], "alertType": run["alert_type"], "kind": run["kind"],
                            "source": run.get("source", "web"), "lastSeq": view.last_seq})
    return result


def stream_responses(run: Run, event: Event, view: RunView, stor_text: str | None = None) -> list[pb.StreamResponse]:
    """A logged event as StreamResponses: the decision as one artifact update per artifact (the
    determination, and the STOR draft when escalating — what GetTask returns), all else as status."""
    if event.type is EventType.DECISION:
        return [pb.StreamResponse(artifact_update=pb.TaskArtifactUpdateEvent(
            task_id=run.id, context_id=context_id(run), artifact=artifact, append=False, last_chunk=True))
            for artifact in artifacts(run, view, stor_text)]
    update = pb.TaskStatusUpdateEvent(task_id=run.id, context_id=context_id(run), status=pb.TaskStatus(
        state=STATE_BY_EVENT.get(event.type, pb.TASK_STATE_WORKING), message=event_message(run, event, view),
        timestamp=_timestamp(event.ts)))
    update.metadata.update({"seq": event.seq})
    return [pb.StreamResponse(status_update=update)]


def to_json(message) -> dict:
    return json_format.MessageToDict(message)
