"""Following a run's events: replay from the log, then live, with nothing lost or repeated.

Every stream of run events (the browser's SSE, A2A's SendStreamingMessage/SubscribeToTask)
is built on :func:`follow`. It must be called with a subscription that is already active
(:meth:`Hub.subscription`), so that the order is: subscribe, read the log after the
client's cursor, then go live, skipping what was already sent and filling any gap in
sequence numbers from the log. It ends after the terminal event.

One hub per worker process (:class:`Hub`) subscribes to the channel of each run its streams
follow — added with the first stream, removed with the last (webapp/subscriber.py) — and fans
each message out to those streams through in-memory queues: 10,000 watchers of one run cost
one subscription, and an event reaches only the workers that serve someone watching it.

A run's events are published only while some stream follows it: each hub keeps its count of
streams per run in the run's followers hash (written, and the subscription confirmed, before
the stream reads the log, so an event is either in what it reads or published to it after),
and the append script publishes only when that hash is not empty. Most runs are watched by
nobody most of the time.

When a subscription breaks (Redis restarts, a cluster shard fails over) the hub writes its
followers entries again, then tells the run's streams to re-read the log (:data:`RESYNC`).

Streams opening together on one popular run read the log together (:class:`SharedReads`): one
Redis call for thousands of streams, but never a read that began before a stream's own
subscription was active, which could miss the event published in between.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import gevent
import gevent.event
import gevent.lock
import gevent.queue
import redis
from flask_sse import Message
from prometheus_client import Counter, Gauge

from agents.events import Event
from webapp.keys import channel, channel_run, control_channel, followers_key
from webapp.store import Run, RunStore
from webapp.subscriber import Subscriber

log = logging.getLogger(__name__)

QUEUE_SIZE = 2048
RESYNC = object()     # the hub may have missed messages: re-read the log
SHUTDOWN = object()   # this worker is stopping: end the stream so the client reconnects elsewhere
HEARTBEAT = object()  # yielded by follow() when nothing happened for a heartbeat interval
FOLLOW_TTL = 3600     # seconds a hub's entry in a followers hash lives unless refreshed (a dead worker's)
FOLLOW_REFRESH = 600  # seconds between a hub's refreshes of its entries
SUBSCRIBE_WAIT = 5.0  # seconds a new stream waits for Redis to confirm its run's subscription

HUB_RECONNECTS = Counter("saa_feed_hub_reconnects_total", "Times a run's subscription was re-established")
MESSAGES = Counter("saa_feed_messages_total", "Messages this worker received from Redis pub/sub")
STREAMS_OPEN = Gauge("saa_sse_streams_open", "Live streams open in this worker, browser SSE and A2A together")
A2A_STREAMS_OPEN = Gauge("saa_a2a_streams_open", "Live A2A streams open in this worker (within saa_sse_streams_open)")
STREAMS_REFUSED = Counter("saa_sse_streams_refused_total", "Streams refused by the cap (SSE_MAX_CONCURRENT)")


class HubUnavailable(RuntimeError):
    pass


class TooManyStreams(RuntimeError):
    """This worker holds SSE_MAX_CONCURRENT streams already."""


class FeedClosed(Exception):
    """The stream ends before the run does (worker shutdown, its lifetime); the client reconnects."""


class Slot:
    """A stream's place under the worker's cap, from the moment it is admitted until its response
    is closed (whether or not its body ever started)."""

    def __init__(self, hub: Hub, kind: str):
        self.hub, self.kind, self.released = hub, kind, False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.hub.open_streams -= 1
            STREAMS_OPEN.dec()
            if self.kind == "a2a":
                A2A_STREAMS_OPEN.dec()


class SharedReads:
    """Identical reads of the log made at once by many streams share one Redis call — but a caller
    joins only a read that started after ``since``, a tick from :meth:`now` taken when its need
    arose (its subscription became active, the message that showed a gap was delivered, the hub
    said to resync), since an older read may predate the event it must see."""

    def __init__(self):
        self._tick = 0
        self.resynced = 0  # the tick of the latest RESYNC the hub delivered
        self._inflight: dict[tuple, tuple[int, gevent.event.AsyncResult]] = {}

    def now(self) -> int:
        self._tick += 1
        return self._tick

    def read(self, key: tuple, since: int, fn: Callable[[], object]):
        current = self._inflight.get(key)
        if current is not None and current[0] > since:
            return current[1].get()
        mine = (self.now(), gevent.event.AsyncResult())
        self._inflight[key] = mine
        try:
            value = fn()
        except BaseException as exc:
            mine[1].set_exception(exc)
            raise
        else:
            mine[1].set(value)
            return value
        finally:
            if self._inflight.get(key) is mine:
                del self._inflight[key]


class Subscription(gevent.queue.Queue):
    """A stream's queue, knowing when its subscription became active (a :class:`SharedReads` tick)."""

    active_since = 0


class Hub:
    """One worker's subscriptions to the runs its streams follow, fanned out to local queues."""

    def __init__(self, store: RunStore, *, max_streams: int = 10_000):
        self.store = store
        self.client = store.redis
        self.max_streams = max_streams
        self.pid = os.getpid()
        self.open_streams = 0  # admitted streams (browser and A2A), what the cap counts
        self.closed = False
        self.reads = SharedReads()
        self._listeners: dict[bytes, set[gevent.queue.Queue]] = defaultdict(set)  # channel -> queues
        self._clients: dict[str, int] = defaultdict(int)  # client subscriptions per run
        self._subscriber: Subscriber | None = None
        self._starting = gevent.lock.Semaphore()
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

    def admit(self, kind: str = "browser") -> Slot:
        """A place for one more stream, or :class:`TooManyStreams` at once (the caller answers 503)."""
        if self.closed:
            raise HubUnavailable("this server is shutting down")
        if self.open_streams >= self.max_streams:
            STREAMS_REFUSED.inc()
            raise TooManyStreams(f"{self.open_streams} streams open")
        self.open_streams += 1
        STREAMS_OPEN.inc()
        if kind == "a2a":
            A2A_STREAMS_OPEN.inc()
        return Slot(self, kind)

    def ensure_ready(self, timeout: float = 5.0) -> None:
        if self.closed:
            raise HubUnavailable("this server is shutting down")
        if self._subscriber is None:
            with self._starting:  # one subscriber per hub, however many streams arrive while it starts
                if self._subscriber is None:
                    try:
                        sharded = self.store.sharded  # asks Redis: other greenlets run meanwhile
                    except redis.RedisError as exc:
                        raise HubUnavailable(f"the event channel is not available ({exc})") from None
                    self._subscriber = Subscriber(self.client, sharded=sharded, deliver=self._on_message,
                                                  resubscribed=self._on_resubscribed, clock=self.reads.now)
        if self._refresher is None or self._refresher.dead:
            self._refresher = gevent.spawn(self._refresh)
        if not self._subscriber.wait_connected(timeout):
            raise HubUnavailable("the event channel is not available")

    @contextlib.contextmanager
    def subscription(self, run_id: str, *, client: bool = True) -> Iterator[gevent.queue.Queue]:
        """An active subscription to one run for the duration of the block.

        ``client`` subscriptions (streams to browsers and A2A clients) receive the run's events and
        are counted in its followers hash; the run's own keeper (``client=False``) receives its
        control messages (a cancel). Either gets RESYNC when messages may have been missed. A
        client subscription Redis does not confirm in time raises :class:`HubUnavailable`; the
        keeper's goes on, and gets RESYNC once it is confirmed (meanwhile it reads the durable
        cancel flag at each renewal of its lease).
        """
        try:
            self.ensure_ready()
        except HubUnavailable:
            if client:
                raise
            if self._subscriber is None:  # nothing to subscribe with yet: the keeper reads the flag
                yield Subscription(QUEUE_SIZE)
                return
        subscriber = self._subscriber
        name = (channel(run_id) if client else control_channel(run_id)).encode()
        queue = Subscription(QUEUE_SIZE)
        self._listeners[name].add(queue)
        subscriber.add(name)
        self._clients[run_id] += client
        try:
            # Active once both Redis has confirmed the subscription and the followers entry is written
            # (from then on, events are published): log reads started after that see every later event.
            announced = self.announce([run_id]) if client else 0
            confirmed = subscriber.wait(name, SUBSCRIBE_WAIT)
            if confirmed is None:
                if client:
                    raise HubUnavailable("the event channel did not confirm the subscription")
                subscriber.mark_broken(name)
            queue.active_since = max(announced, confirmed or self.reads.now())
            yield queue
        finally:
            self._clients[run_id] -= client
            if not self._clients[run_id]:
                del self._clients[run_id]
            if client:
                with contextlib.suppress(redis.RedisError):  # a leftover entry only costs publishes
                    self.announce([run_id])
            listeners = self._listeners.get(name)
            if listeners is not None:
                listeners.discard(queue)
                if not listeners:
                    del self._listeners[name]
                    subscriber.remove(name)

    def announce(self, run_ids) -> int:
        """Write this worker's count of streams following each run to its followers hash, and
        return once it is written, with the tick it was written at. Requests arriving together
        go out in one pipeline."""
        if self._announcer is None or self._announcer.dead:
            self._announcer = gevent.spawn(self._write_announcements)
        written = gevent.event.AsyncResult()
        self._announcements.put((tuple(run_ids), written))
        return written.get()

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
                tick = self.reads.now()
                for _, written in batch:
                    written.set(tick)

    def _refresh(self) -> None:
        """Keep this worker's entries alive while its streams last (a dead worker's expire)."""
        while not self.closed:
            gevent.sleep(FOLLOW_REFRESH)
            try:
                self.announce(tuple(self._clients))
            except redis.RedisError as exc:
                log.warning("could not refresh the followed runs (%s); retrying later", exc)

    def broadcast(self, item) -> None:
        """Put ``item`` on every local queue (e.g. shutdown)."""
        for name in tuple(self._listeners):
            self._deliver(name, item)

    def _deliver(self, name: bytes, item) -> None:
        for queue in tuple(self._listeners.get(name, ())):
            try:
                queue.put_nowait(item)
            except gevent.queue.Full:  # a stalled client: let it catch up from the log instead
                queue.queue.clear()
                self.reads.resynced = self.reads.now()
                queue.put_nowait(RESYNC)

    def _on_message(self, name: bytes, data: bytes) -> None:
        MESSAGES.inc()
        if name in self._listeners:  # else: unsubscribed meanwhile
            message = Message(**json.loads(data))
            message.delivered = self.reads.now()
            self._deliver(name, message)

    def _on_resubscribed(self, name: bytes) -> None:
        """The subscription was broken and is back: Redis may have lost our followers entry too (a
        restart, a failover), so write it again first, then have the run's streams re-read the log."""
        HUB_RECONNECTS.inc()
        gevent.spawn(self._resync, name)

    def _resync(self, name: bytes) -> None:
        run_id, control = channel_run(name)
        backoff = 0.1
        while not control and name in self._listeners:
            try:
                self.announce([run_id])
                break
            except Exception as exc:  # Redis down, or no cluster node reachable: keep trying
                log.warning("could not restore the followers of run %s (%s); retrying", run_id, exc)
                gevent.sleep(backoff * random.uniform(0.5, 1.0))  # noqa: S311 - jitter: not in step
                backoff = min(backoff * 2, 5.0)
        self.reads.resynced = self.reads.now()
        self._deliver(name, RESYNC)


@dataclass(frozen=True)
class FeedItem:
    event: Event
    html: str | None = None  # the fragment the runner rendered, when the event came live


def first_read(store: RunStore, queue: gevent.queue.Queue, run_id: str, cursor: int,
               reads: SharedReads) -> tuple[list[Event], Run | None]:
    """What a stream starts from, read once its subscription is active: the events after its cursor
    and the run, in one atomic read (the status is written with the terminal event, so a finished
    run's snapshot holds everything up to its end). Shared with streams on the same run and cursor
    whose subscriptions were active before the read began."""
    since = getattr(queue, "active_since", 0) or reads.now()
    return reads.read(("snapshot", run_id, cursor), since, lambda: store.snapshot(run_id, after=cursor))


def follow(store: RunStore, queue: gevent.queue.Queue, run_id: str, cursor: int, heartbeat: float, *,
           reads: SharedReads | None = None, until: float | None = None,
           first: tuple[list[Event], Run | None] | None = None) -> Iterator[FeedItem | object]:
    """Events of ``run_id`` after ``cursor``: the log first, then live; ends when the run has ended.

    Yields :data:`HEARTBEAT` when a heartbeat interval passes with nothing new. Publishing is
    atomic with appending (one Redis script), so an event can only be missed here when this
    worker's subscription drops, and then the hub sends RESYNC. Raises :class:`FeedClosed` when
    the worker shuts down before the run ends, or at ``until`` (a ``time.monotonic()`` value).
    Reads of the log go through the worker's ``reads`` when given (shared with other streams);
    ``first`` is the :func:`first_read` when the caller made it already.
    """
    reads = reads or SharedReads()

    def catch_up(since: int):
        nonlocal cursor
        after = cursor
        for event in reads.read(("events", run_id, after), since, lambda: store.events(run_id, after=after)):
            cursor = event.seq
            yield FeedItem(event)
            if event.is_terminal:
                return True
        return False

    events, run = first or first_read(store, queue, run_id, cursor, reads)
    for event in events:
        cursor = event.seq
        yield FeedItem(event)
    if run is None or run.finished:
        return
    while True:
        timeout = heartbeat if until is None else min(heartbeat, until - time.monotonic())
        if timeout <= 0:
            raise FeedClosed
        try:
            item = queue.get(timeout=timeout)
        except gevent.queue.Empty:
            if until is not None and time.monotonic() >= until:
                raise FeedClosed from None
            yield HEARTBEAT
            continue
        if item is SHUTDOWN:
            raise FeedClosed
        if item is RESYNC or int(item.id) > cursor + 1:
            since = (reads.resynced if item is RESYNC else getattr(item, "delivered", 0)) or reads.now()
            if (yield from catch_up(since)):
                return
            continue
        if int(item.id) <= cursor:
            continue
        event = Event.from_dict(item.data["event"])
        cursor = event.seq
        yield FeedItem(event, item.data.get("html"))
        if event.is_terminal:
            return
