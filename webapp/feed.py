"""Following a run's events: replay from the log, then live, with nothing lost or repeated.

Every stream of run events (the browser's SSE, A2A's SendStreamingMessage/SubscribeToTask)
is built on :func:`follow`. It must be called with a subscription that is already active
(:meth:`Hub.subscription`), so that the order is: subscribe, read the log after the
client's cursor, then go live, skipping what was already sent and filling any gap in
sequence numbers from the log. It ends after the terminal event.

One Redis pattern subscription per worker process (:class:`Hub`) fans messages out to the
worker's streams through in-memory queues: 10,000 watchers cost one Redis connection.

A run's events are published only while some stream follows it: each hub keeps its count of
streams per run in the run's followers hash (written before the stream reads the log, so an
event is either in what it reads or published after), and the append script publishes only
when that hash is not empty. Most runs are watched by nobody most of the time, and otherwise
every event would reach every worker of every instance.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import gevent
import gevent.event
import gevent.queue
import redis
from flask_sse import Message
from prometheus_client import Counter

from agents.events import Event
from webapp.store import RunStore, followers_key

log = logging.getLogger(__name__)

CHANNEL_PATTERN = "analysis:*"
QUEUE_SIZE = 2048
RESYNC = object()     # the hub may have missed messages: re-read the log
SHUTDOWN = object()   # this worker is stopping: end the stream so the client reconnects elsewhere
HEARTBEAT = object()  # yielded by follow() when nothing happened for a heartbeat interval
FOLLOW_TTL = 3600     # seconds a hub's entry in a followers hash lives unless refreshed (a dead worker's)
FOLLOW_REFRESH = 600  # seconds between a hub's refreshes of its entries

HUB_RECONNECTS = Counter("saa_feed_hub_reconnects_total", "Times a worker's subscription was re-established")


class HubUnavailable(RuntimeError):
    pass


class FeedClosed(Exception):
    """The stream ends before the run does (worker shutdown); the client should reconnect."""


class Hub:
    """One Redis pattern subscription per worker process, fanned out to local queues."""

    def __init__(self, client: redis.Redis):
        self.client = client
        self._queues: dict[str, set[gevent.queue.Queue]] = defaultdict(set)
        self._ready = gevent.event.Event()
        self._greenlet: gevent.Greenlet | None = None
        self.pid = os.getpid()
        self.open_streams = 0
        self.closed = False
        self._clients: dict[str, int] = defaultdict(int)  # client subscriptions per run
        self.token = f"{socket.gethostname()}:{self.pid}:{uuid.uuid4().hex[:8]}"
        # One writer per worker, in order, each write carrying the counts at that moment: a stale
        # "nobody here" can never overtake a newer "one here".
        self._announcements: gevent.queue.Queue = gevent.queue.Queue()
        self._announcer: gevent.Greenlet | None = None
        self._refresher: gevent.Greenlet | None = None

    def close(self) -> None:
        """End every stream of this worker (graceful shutdown) and accept no new ones."""
        self.closed = True
        self.broadcast(SHUTDOWN)

    def ensure_ready(self, timeout: float = 5.0) -> None:
        if self.closed:
            raise HubUnavailable("this server is shutting down")
        if self._greenlet is None or self._greenlet.dead:
            self._greenlet = gevent.spawn(self._listen)
        if self._refresher is None or self._refresher.dead:
            self._refresher = gevent.spawn(self._refresh)
        if not self._ready.wait(timeout):
            raise HubUnavailable("the event channel is not available")

    @contextlib.contextmanager
    def subscription(self, run_id: str, *, client: bool = True) -> Iterator[gevent.queue.Queue]:
        """An active subscription to one run's events for the duration of the block.

        ``client`` subscriptions (streams to browsers and A2A clients) count against the cap;
        a run's own keeper listening for cancellation does not.
        """
        self.ensure_ready()
        queue = gevent.queue.Queue(QUEUE_SIZE)
        self._queues[run_id].add(queue)
        self.open_streams += client
        self._clients[run_id] += client
        try:
            if client:
                self.announce([run_id])  # before the caller reads the log: from now on, events are published
            yield queue
        finally:
            self.open_streams -= client
            self._clients[run_id] -= client
            if not self._clients[run_id]:
                del self._clients[run_id]
            if client:
                with contextlib.suppress(redis.RedisError):  # a leftover entry only costs publishes
                    self.announce([run_id])
            queues = self._queues.get(run_id)
            if queues is not None:
                queues.discard(queue)
                if not queues:
                    del self._queues[run_id]

    def announce(self, run_ids) -> None:
        """Write this worker's count of streams following each run to its followers hash, and
        return once it is written. Requests arriving together go out in one pipeline."""
        if self._announcer is None or self._announcer.dead:
            self._announcer = gevent.spawn(self._write_announcements)
        written = gevent.event.AsyncResult()
        self._announcements.put((tuple(run_ids), written))
        written.get()

    def _write_announcements(self) -> None:
        while True:
            batch = [self._announcements.get()]
            while not self._announcements.empty():
                batch.append(self._announcements.get_nowait())
            try:
                pipe = self.client.pipeline(transaction=False)
                for run_id in {run_id for run_ids, _ in batch for run_id in run_ids}:
                    key, count = followers_key(run_id), self._clients.get(run_id, 0)
                    if count:
                        pipe.hset(key, self.token, count)
                        pipe.expire(key, FOLLOW_TTL)
                    else:
                        pipe.hdel(key, self.token)
                pipe.execute()
            except Exception as exc:  # handed to every waiting caller
                for _, written in batch:
                    written.set_exception(exc)
            else:
                for _, written in batch:
                    written.set(None)

    def _refresh(self) -> None:
        """Keep this worker's entries alive while its streams last (a dead worker's expire)."""
        while not self.closed:
            gevent.sleep(FOLLOW_REFRESH)
            try:
                self.announce(tuple(self._clients))
            except redis.RedisError as exc:
                log.warning("could not refresh the followed runs (%s); retrying later", exc)

    def broadcast(self, item) -> None:
        """Put ``item`` on every local queue (e.g. a resync after a reconnect)."""
        for run_id in tuple(self._queues):
            self._deliver(run_id, item)

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
                            # Redis may have lost our entries (a restart): restore them first, so
                            # that what the streams re-read next is followed by what is published.
                            self.announce(tuple(self._clients))
                            self.broadcast(RESYNC)
                        reconnecting, backoff = False, 0.1
                        self._ready.set()
                    elif msg["type"] == "pmessage":
                        run_id = msg["channel"].decode().split(":", 1)[1]
                        # Parse only what someone here needs: a run watched only by its own keeper
                        # needs its control messages, not every event.
                        if run_id in self._clients or (run_id in self._queues and _is_control(msg["data"])):
                            self._deliver(run_id, Message(**json.loads(msg["data"])))
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                self._ready.clear()
                reconnecting = True
                log.warning("event subscription lost (%s); reconnecting in %.1fs", exc, backoff)
                gevent.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):  # closing a broken connection may fail again
                    pubsub.close()


def _is_control(raw: bytes) -> bool:
    return b'"type": "control"' in raw or b'"type":"control"' in raw


@dataclass(frozen=True)
class FeedItem:
    event: Event
    html: str | None = None  # the fragment the runner rendered, when the event came live


def follow(store: RunStore, queue: gevent.queue.Queue, run_id: str, cursor: int,
           heartbeat: float) -> Iterator[FeedItem | object]:
    """Events of ``run_id`` after ``cursor``: the log first, then live; ends when the run has ended.

    Yields :data:`HEARTBEAT` when a heartbeat interval passes with nothing new. Publishing is
    atomic with appending (one Redis script), so an event can only be missed here when this
    worker's subscription drops, and then the hub sends RESYNC. Raises :class:`FeedClosed` when
    the worker shuts down before the run ends.
    """

    def catch_up():
        nonlocal cursor
        for event in store.events(run_id, after=cursor):
            cursor = event.seq
            yield FeedItem(event)
            if event.is_terminal:
                return True
        return False

    # One atomic read of the log and the run: the status is written with the terminal event, so
    # a finished run's snapshot holds everything up to its end.
    events, run = store.snapshot(run_id, after=cursor)
    for event in events:
        cursor = event.seq
        yield FeedItem(event)
    if run is None or run.finished:
        return
    while True:
        try:
            item = queue.get(timeout=heartbeat)
        except gevent.queue.Empty:
            yield HEARTBEAT
            continue
        if item is SHUTDOWN:
            raise FeedClosed
        if getattr(item, "type", None) == "control":
            continue  # meant for the run's owner
        if item is RESYNC or int(item.id) > cursor + 1:
            if (yield from catch_up()):
                return
            continue
        if int(item.id) <= cursor:
            continue
        event = Event.from_dict(item.data["event"])
        cursor = event.seq
        yield FeedItem(event, item.data.get("html"))
        if event.is_terminal:
            return
