"""Server-sent events for the browser: flask-sse, subclassed where it falls short.

Stock flask-sse opens a Redis connection per publish and per client, sends no heartbeat,
ignores ``Last-Event-ID`` and streams any ``?channel=``. Here:

* publishing goes through the app's one pooled Redis client;
* clients are served from the worker's single subscription (:class:`webapp.feed.Hub`);
* a stream is addressed by run id only — the channel is derived from it, never taken from
  the client — and exists only for runs in the store;
* the client's cursor is the later of ``?after=`` (what the page was rendered from) and
  ``Last-Event-ID`` (what the browser's EventSource last received); :func:`webapp.feed.follow`
  replays the log after it, then goes live, so no event is lost and none is repeated;
* a comment goes out at once (so headers flush) and every SSE_HEARTBEAT_INTERVAL; a dead
  client is noticed at the next write and cleaned up; after the terminal event an
  ``event: close`` tells the page's ``sse-close`` to stop reconnecting;
* streams per worker are capped (SSE_MAX_CONCURRENT): past it, 503 with Retry-After;
* on shutdown (or a Redis outage) a stream ends WITHOUT ``close``: the browser reconnects with
  ``Last-Event-ID``, to another worker or instance, and resumes where it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import redis
from flask import Response, abort, current_app, request, stream_with_context
from flask_sse import Message, ServerSentEventsBlueprint
from prometheus_client import Counter, Gauge

from agents.events import Event
from webapp.feed import HEARTBEAT, FeedClosed, Hub, HubUnavailable, follow
from webapp.store import Run, RunStore, channel
from webapp.timeline import RunView, fold, render_fragment

STREAMS_OPEN = Gauge("saa_sse_streams_open", "Browser SSE streams open in this worker")
STREAMS_REFUSED = Counter("saa_sse_streams_refused_total", "SSE streams refused by the concurrency cap")
CLOSE_FRAME = "event: close\ndata: end\n\n"


def current_hub() -> Hub:
    """This worker's hub (never one inherited across a fork)."""
    return current_app.extensions["saa"].hub_for_worker()


def request_cursor() -> int:
    """The client's position: the later of ``?after=`` and ``Last-Event-ID``."""
    cursor = 0
    for raw in (request.args.get("after"), request.headers.get("Last-Event-ID")):
        if raw in (None, ""):
            continue
        try:
            value = int(raw)
        except ValueError:
            abort(400, description="The event cursor must be a whole number.")
        if value < 0:
            abort(400, description="The event cursor must not be negative.")
        cursor = max(cursor, value)
    return cursor


class RunEventStream(ServerSentEventsBlueprint):
    """The flask-sse blueprint for run events (see the module docstring)."""

    @property
    def redis(self) -> redis.Redis:
        return current_app.extensions["saa"].redis

    def message(self, event: Event, html: str | None) -> tuple[str, str]:
        """The (channel, payload) flask-sse would publish for ``event``; the runner publishes it in
        the same Redis script that appends the event to the log. ``html`` is None when no stream
        followed the run at the previous event: streams then render the fragment themselves."""
        # Flask-sse's message shape ({"data", "type", "id"}), with the event's JSON — already encoded
        # for the log — spliced in rather than encoded a second time for every event.
        html_part = "" if html is None else ',"html":' + json.dumps(html)
        return channel(event.run_id), (f'{{"data":{{"event":{event.to_json()}{html_part}}},'
                                       f'"type":"{event.type}","id":{event.seq}}}')

    def publish_control(self, run_id: str, kind: str) -> None:
        """A message for the run's owner (e.g. "cancel"), not an event: streams ignore it."""
        self.publish({"control": kind}, type="control", channel=channel(run_id))

    def run_stream(self, run_id: str) -> Response:
        services = current_app.extensions["saa"]
        try:
            run = services.store.get(run_id)
        except redis.ConnectionError:  # Redis restarting, or every pooled connection busy
            return Response("The event store is busy; retry shortly.\n", status=503, headers={"Retry-After": "2"},
                            mimetype="text/plain")
        if run is None:
            abort(404)
        cursor = request_cursor()
        hub = current_hub()
        return self._respond(services, hub, run, cursor)

    def _respond(self, services, hub: Hub, run: Run, cursor: int) -> Response:
        if hub.open_streams >= services.settings.sse_max_concurrent:
            STREAMS_REFUSED.inc()
            return Response("Too many live streams on this server; retry shortly.\n", status=503,
                            headers={"Retry-After": "5"}, mimetype="text/plain")
        try:
            hub.ensure_ready()
        except HubUnavailable:
            return Response("The event channel is unavailable; retry shortly.\n", status=503,
                            headers={"Retry-After": "2"}, mimetype="text/plain")
        body = _frames(services.store, hub, run, cursor, services.settings.sse_heartbeat_interval,
                       services.settings.sse_retry_ms)
        response = Response(stream_with_context(body), mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"
        return response


def _frames(store: RunStore, hub: Hub, run: Run, cursor: int, heartbeat: float, retry_ms: int) -> Iterator[str]:
    yield f": run {run.id}\nretry: {retry_ms}\n\n"
    STREAMS_OPEN.inc()
    try:
        with hub.subscription(run.id) as queue:
            view: RunView | None = None  # built only when a fragment must be rendered here
            for item in follow(store, queue, run.id, cursor, heartbeat):
                if item is HEARTBEAT:
                    yield ": heartbeat\n\n"
                    continue
                event, html = item.event, item.html
                if html is None:  # replayed from the log: render it as the runner did
                    if view is None:
                        view = fold(run.id, store.events(run.id, until=event.seq - 1))
                    view.apply(event)
                    html = render_fragment(view, event, run)
                elif view is not None:
                    view.apply(event)
                yield str(Message(html, type=str(event.type), id=event.seq))
        yield CLOSE_FRAME  # follow() returns only once the run is over
    except (FeedClosed, redis.RedisError):
        # Shutdown or Redis restarting: end without `close`, so EventSource reconnects (to another
        # worker or once Redis is back) with Last-Event-ID and misses nothing.
        return
    finally:
        STREAMS_OPEN.dec()


sse = RunEventStream("events", __name__)
sse.add_url_rule("/analyses/<run_id>/events", endpoint="stream", view_func=sse.run_stream)
