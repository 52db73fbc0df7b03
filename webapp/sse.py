"""Server-sent events for runs: flask-sse, subclassed where it falls short.

Stock flask-sse opens a Redis connection per publish and per client, sends no heartbeat,
ignores ``Last-Event-ID`` and streams any ``?channel=``. Here:

* publishing goes through the app's one pooled Redis client;
* each worker process holds ONE pattern subscription (``analysis:*``) and fans messages out
  to its streams through in-memory queues (:class:`Hub`), so 10,000 browsers cost one Redis
  connection, not 10,000;
* a stream is addressed by run id only — the channel is derived from it, never taken from
  the client — and exists only for runs in the store;
* a stream subscribes first, then replays the log after the client's cursor (``?after=`` or
  ``Last-Event-ID``, whichever is later), then goes live, skipping what it already sent and
  filling any gap in sequence numbers from the log; so no event is lost or reordered;
* a comment is sent at once (headers flush) and every SSE_HEARTBEAT_INTERVAL; a dead client
  is noticed at the next write and cleaned up; the stream ends after the terminal event with
  an ``event: close`` that the page's ``sse-close`` acts on;
* streams per worker are capped (SSE_MAX_CONCURRENT): past it, 503 with Retry-After.
"""

from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from collections.abc import Iterator

import gevent
import gevent.event
import gevent.queue
import redis
from flask import Response, abort, current_app, request, stream_with_context
from flask_sse import Message, ServerSentEventsBlueprint
from prometheus_client import Counter, Gauge

from agents.events import Event
from webapp.store import RunStore, channel
from webapp.timeline import RunView, render_fragment

log = logging.getLogger(__name__)

CHANNEL_PATTERN = "analysis:*"
QUEUE_SIZE = 2048
RESYNC = object()  # tells a stream to re-read the log: the hub may have missed messages

STREAMS_OPEN = Gauge("saa_sse_streams_open", "SSE streams open in this worker")
STREAMS_REFUSED = Counter("saa_sse_streams_refused_total", "SSE streams refused by the concurrency cap")
HUB_RECONNECTS = Counter("saa_sse_hub_reconnects_total", "Times the worker's subscription was re-established")


class HubUnavailable(RuntimeError):
    pass


class Hub:
    """One Redis pattern subscription per worker process, fanned out to local queues."""

    def __init__(self, client: redis.Redis):
        self.client = client
        self._queues: dict[str, set[gevent.queue.Queue]] = defaultdict(set)
        self._ready = gevent.event.Event()
        self._greenlet: gevent.Greenlet | None = None
        self._pid = os.getpid()
        self.open_streams = 0

    def start(self) -> None:
        if self._greenlet is None or self._greenlet.dead:
            self._greenlet = gevent.spawn(self._listen)

    def subscribe(self, run_id: str, timeout: float = 5.0) -> gevent.queue.Queue:
        self.start()
        if not self._ready.wait(timeout):
            raise HubUnavailable("the event channel is not available")
        queue = gevent.queue.Queue(QUEUE_SIZE)
        self._queues[run_id].add(queue)
        return queue

    def unsubscribe(self, run_id: str, queue: gevent.queue.Queue) -> None:
        queues = self._queues.get(run_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._queues[run_id]

    def local_subscribers(self, run_id: str) -> int:
        return len(self._queues.get(run_id, ()))

    def _deliver(self, run_id: str, item) -> None:
        for queue in tuple(self._queues.get(run_id, ())):
            try:
                queue.put_nowait(item)
            except gevent.queue.Full:  # a stalled client: let it catch up from the log instead
                queue.queue.clear()
                queue.put_nowait(RESYNC)

    def _listen(self) -> None:
        backoff, reconnecting = 0.1, False
        while True:
            pubsub = self.client.pubsub()
            try:
                pubsub.psubscribe(CHANNEL_PATTERN)
                for msg in pubsub.listen():
                    if msg["type"] == "psubscribe":
                        if reconnecting:
                            HUB_RECONNECTS.inc()
                            for run_id in tuple(self._queues):
                                self._deliver(run_id, RESYNC)
                        reconnecting, backoff = False, 0.1
                        self._ready.set()
                    elif msg["type"] == "pmessage":
                        run_id = msg["channel"].decode().split(":", 1)[1]
                        if run_id in self._queues:
                            self._deliver(run_id, Message(**json.loads(msg["data"])))
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                self._ready.clear()
                reconnecting = True
                log.warning("event subscription lost (%s); reconnecting in %.1fs", exc, backoff)
                gevent.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                try:
                    pubsub.close()
                except Exception:  # noqa: S110 - closing a broken connection may fail again
                    pass


class RunEventStream(ServerSentEventsBlueprint):
    """The flask-sse blueprint for run events (see the module docstring)."""

    @property
    def redis(self) -> redis.Redis:
        return current_app.extensions["saa"].redis

    @property
    def hub(self) -> Hub:
        ext = current_app.extensions["saa"]
        if ext.hub is None or ext.hub._pid != os.getpid():  # never share a hub across a fork
            ext.hub = Hub(ext.redis)
        return ext.hub

    def publish_event(self, event: Event, html: str) -> None:
        self.publish({"html": html, "event": event.to_dict()}, type=str(event.type), id=event.seq,
                     channel=channel(event.run_id))

    def run_stream(self, run_id: str) -> Response:
        ext = current_app.extensions["saa"]
        store: RunStore = ext.store
        run = store.get(run_id)
        if run is None:
            abort(404)
        cursor = _cursor()
        settings = ext.settings
        hub = self.hub
        if hub.open_streams >= settings.sse_max_concurrent:
            STREAMS_REFUSED.inc()
            return Response("Too many live streams on this server; retrying shortly.\n", status=503,
                            headers={"Retry-After": "5"}, mimetype="text/plain")
        try:
            queue = hub.subscribe(run_id)
        except HubUnavailable:
            return Response("The event channel is unavailable; retrying shortly.\n", status=503,
                            headers={"Retry-After": "2"}, mimetype="text/plain")
        hub.open_streams += 1
        STREAMS_OPEN.inc()

        def release() -> None:
            hub.unsubscribe(run_id, queue)
            hub.open_streams -= 1
            STREAMS_OPEN.dec()

        body = _generate(store, run, queue, cursor, settings.sse_heartbeat_interval, settings.sse_retry_ms)
        response = Response(stream_with_context(_closing(body, release)), mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"
        return response


def _cursor() -> int:
    """The client's position: the later of ``?after=`` and ``Last-Event-ID``."""
    values = [request.args.get("after"), request.headers.get("Last-Event-ID")]
    cursor = 0
    for raw in values:
        if raw in (None, ""):
            continue
        try:
            cursor = max(cursor, int(raw))
        except ValueError:
            abort(400, description="The event cursor must be a whole number.")
        if cursor < 0:
            abort(400, description="The event cursor must not be negative.")
    return cursor


def _closing(body: Iterator[str], release) -> Iterator[str]:
    try:
        yield from body
    finally:
        release()


def _frame(seq: int, type_: str, html: str) -> str:
    return str(Message(html, type=type_, id=seq))


CLOSE_FRAME = "event: close\ndata: end\n\n"


def _replay(store: RunStore, run, cursor: int) -> tuple[list[str], int, bool]:
    """Frames for the logged events after ``cursor``, rendered from the fold up to each one."""
    view = RunView(run.id)
    frames, ended = [], False
    for ev in store.events(run.id):
        view.apply(ev)
        if ev.seq > cursor:
            frames.append(_frame(ev.seq, str(ev.type), render_fragment(view, ev, run)))
            cursor = ev.seq
        ended = ended or ev.is_terminal
    return frames, cursor, ended


def _generate(store: RunStore, run, queue, cursor: int, heartbeat: float, retry_ms: int) -> Iterator[str]:
    yield f": run {run.id}\nretry: {retry_ms}\n\n"
    frames, cursor, ended = _replay(store, run, cursor)
    yield from frames
    if ended:
        yield CLOSE_FRAME
        return
    while True:
        try:
            item = queue.get(timeout=heartbeat)
        except gevent.queue.Empty:
            if store.last_seq(run.id) <= cursor:  # nothing missed: just keep the connection alive
                yield ": heartbeat\n\n"
                continue
            item = RESYNC
        if item is RESYNC or int(item.id) > cursor + 1:
            frames, cursor, ended = _replay(store, run, cursor)
            yield from frames
        elif int(item.id) <= cursor:
            continue
        else:
            cursor = int(item.id)
            yield _frame(cursor, item.type, item.data["html"])
            ended = item.data["event"]["type"] in ("run_completed", "run_failed", "run_cancelled")
        if ended:
            yield CLOSE_FRAME
            return


sse = RunEventStream("events", __name__)
sse.add_url_rule("/analyses/<run_id>/events", endpoint="stream", view_func=sse.run_stream)
