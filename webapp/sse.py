"""Server-sent events for the browser: flask-sse, subclassed where it falls short.

Stock flask-sse opens a Redis connection per publish and per client, sends no heartbeat,
ignores ``Last-Event-ID``, streams any ``?channel=`` and splits data at every line boundary
Python knows (U+2028, U+0085...), which changes the text the client receives. Here:

* publishing goes through the app's one pooled Redis client;
* clients are served from the worker's subscriptions to the runs they follow (:class:`webapp.feed.Hub`);
* a stream is addressed by run id only — the channel is derived from it, never taken from
  the client — and exists only for runs in the store;
* the client's cursor is the later of ``?after=`` (what the page was rendered from) and
  ``Last-Event-ID`` (what the browser's EventSource last received); :func:`webapp.feed.follow`
  replays the log after it, then goes live, so no event is lost and none is repeated;
* a comment goes out at once (so headers flush) and every SSE_HEARTBEAT_INTERVAL; a dead
  client is noticed at the next write and cleaned up; after the terminal event an
  ``event: close`` tells the page's ``sse-close`` to stop reconnecting;
* streams per worker are capped (SSE_MAX_CONCURRENT, A2A streams included): past it, 503 with
  Retry-After at once, before any Redis call, and the connection is closed;
* on shutdown, a Redis outage or after SSE_MAX_LIFETIME a stream ends WITHOUT ``close``: the
  browser reconnects with ``Last-Event-ID``, to another worker or instance, and resumes where
  it was (the lifetime is jittered, so streams opened together do not all come back together);
* data lines break only where SSE breaks lines, and a CR in a fragment goes as ``&#13;``, so
  the text a client receives is the text that was sent.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import socket
import time
from collections import OrderedDict
from collections.abc import Iterator

import redis
from flask import Response, abort, current_app, request, stream_with_context
from flask_login import current_user
from flask_sse import ServerSentEventsBlueprint

from agents.events import Event
from webapp.auth.access import can_see_case
from webapp.feed import HEARTBEAT, FeedClosed, Hub, HubUnavailable, TooManyStreams, first_read, follow
from webapp.keys import channel, is_run_id
from webapp.store import Run, RunStore
from webapp.timeline import RunView, fold, render_fragment

CLOSE_FRAME = "event: close\ndata: end\n\n"
SSE_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the only line ends SSE knows
FRAME_CACHE = 2048  # rendered frames kept per worker: streams on one run share them


def current_hub() -> Hub:
    """This worker's hub (never one inherited across a fork)."""
    return current_app.extensions["saa"].hub_for_worker()


def frame(data: str, *, event: str | None = None, id: int | None = None) -> str:
    """One SSE event whose ``data`` reaches the client unchanged, but for CR (SSE has no way to
    send one: a CR or CRLF arrives as LF). Lines are split only at CR, LF and CRLF; each ``data:``
    is followed by a space, which the client strips, so a line's own leading space survives."""
    head = (f"event: {event}\n" if event else "") + (f"id: {id}\n" if id is not None else "")
    return head + "".join(f"data: {line}\n" for line in SSE_LINE_BREAK.split(data)) + "\n"


def fragment_frame(html: str, event: Event) -> str:
    """An event's HTML fragment as a frame. A CR becomes ``&#13;``: the same text once parsed as
    HTML (more faithfully so: a raw CR would be read as LF), and it crosses SSE unchanged."""
    return frame(html.replace("\r", "&#13;"), event=str(event.type), id=event.seq)


class _Frames:
    """Frames already rendered in this worker, by (run, seq): a fragment depends only on the log up
    to its event, so thousands of streams on one run render each event once."""

    def __init__(self, size: int):
        self.size, self._frames = size, OrderedDict()

    def get(self, key: tuple[str, int]) -> str | None:
        found = self._frames.get(key)
        if found is not None:
            self._frames.move_to_end(key)
        return found

    def put(self, key: tuple[str, int], value: str) -> str:
        self._frames[key] = value
        if len(self._frames) > self.size:
            self._frames.popitem(last=False)
        return value


FRAMES = _Frames(FRAME_CACHE)


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


def unavailable(message: str, retry_after: int) -> Response:
    """A plain 503 that closes the connection: a refused client holds nothing while it waits."""
    return closing(Response(message + "\n", status=503, mimetype="text/plain",
                            headers={"Retry-After": str(retry_after)}))


def closing(response: Response) -> Response:
    """Close the connection once ``response`` is sent, instead of keeping it alive for the next
    request: in a connect storm, refused clients would otherwise hold the worker's greenlets.
    (gunicorn drops a Connection header set by the app, so its socket is shut instead.)"""
    sock = request.environ.get("gunicorn.socket")
    if sock is not None:
        response.call_on_close(lambda: _shut(sock))
    return response


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # the client may be gone already
        sock.shutdown(socket.SHUT_RDWR)


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
        """A message for the run's owner (e.g. "cancel"), on the run's control channel."""
        current_app.extensions["saa"].store.publish_control(run_id, json.dumps(
            {"data": {"control": kind}, "type": "control"}))

    def run_stream(self, run_id: str) -> Response:
        if not is_run_id(run_id) or not can_see_case(current_user):  # authorised once, here, before anything
            abort(404)
        cursor = request_cursor()
        services, hub = current_app.extensions["saa"], current_hub()
        try:
            slot = hub.admit("browser")  # a refused client costs no Redis call
        except TooManyStreams:
            return unavailable("Too many live streams on this server; retry shortly.", 5)
        except HubUnavailable:
            return unavailable("This server is shutting down; retry shortly.", 2)
        held = contextlib.ExitStack()  # the subscription, until the response is closed
        held.callback(slot.release)
        try:
            response = self._open(services, hub, run_id, cursor, held)
        except BaseException:
            held.close()
            raise
        if response.status_code == 200:
            response.call_on_close(held.close)
        else:
            held.close()
        return response

    def _open(self, services, hub: Hub, run_id: str, cursor: int, held: contextlib.ExitStack) -> Response:
        """Subscribe, then read where the stream starts (one Redis call, shared with the streams
        opening on the same run): the run's existence is known from that read."""
        try:
            hub.ensure_ready()
            queue = held.enter_context(hub.subscription(run_id))
            events, run = first_read(services.store, queue, run_id, cursor, hub.reads)
        except HubUnavailable:
            return unavailable("The event channel is unavailable; retry shortly.", 2)
        except redis.RedisError:  # Redis restarting, or every pooled connection busy
            return unavailable("The event store is busy; retry shortly.", 2)
        if run is None:
            abort(404)
        settings = services.settings
        until = None
        if settings.sse_max_lifetime > 0:  # jittered: streams opened together end apart
            until = time.monotonic() + settings.sse_max_lifetime * random.uniform(0.75, 1.0)  # noqa: S311
        body = _frames(services.store, hub, queue, run, cursor, (events, run), settings, until, held)
        response = Response(stream_with_context(body), mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"
        return response


def _frames(store: RunStore, hub: Hub, queue, run: Run, cursor: int, first, settings, until: float | None,
            held: contextlib.ExitStack) -> Iterator[str]:
    yield f": run {run.id}\nretry: {settings.sse_retry_ms}\n\n"
    try:
        view: RunView | None = None  # built only when a fragment must be rendered here
        for item in follow(store, queue, run.id, cursor, settings.sse_heartbeat_interval, reads=hub.reads,
                           until=until, first=first):
            if item is HEARTBEAT:
                yield ": heartbeat\n\n"
                continue
            event, html, key = item.event, item.html, (run.id, item.event.seq)
            rendered = FRAMES.get(key)
            if rendered is None:
                if html is None:  # replayed from the log: render it as the runner did
                    if view is None:
                        prefix = hub.reads.read(("log", run.id, event.seq - 1), 0,
                                                lambda e=event: store.events(run.id, until=e.seq - 1))
                        view = fold(run.id, prefix)
                    view.apply(event)
                    html = render_fragment(view, event, run)
                elif view is not None:
                    view.apply(event)
                rendered = FRAMES.put(key, fragment_frame(html, event))
            elif view is not None:
                view.apply(event)
            yield rendered
        held.close()  # unsubscribed (and no longer a follower) before the client hears the end
        yield CLOSE_FRAME  # follow() returns only once the run is over
    except (FeedClosed, HubUnavailable, redis.RedisError):
        # Shutdown, the stream's lifetime, or Redis restarting: end without `close`, so EventSource
        # reconnects (to another worker, or once Redis is back) with Last-Event-ID and misses nothing.
        return
    finally:
        held.close()


sse = RunEventStream("events", __name__)
sse.add_url_rule("/analyses/<run_id>/events", endpoint="stream", view_func=sse.run_stream)
