"""The live path of webapp/feed.py's follow(), against a real Redis: what a stream yields when
live messages arrive out of step with the log. A message may be lost (the worker's subscription
dropped one), arrive twice, repeat what the replay already sent, or be replaced by a resync.
Whatever happens, a stream yields every event exactly once, in order, and ends after the
terminal one.

Each test lets follow() take its snapshot of the log first (the first item it yields), then
writes more events and puts their live messages — or not — on the stream's queue, as the
worker's hub would."""

from __future__ import annotations

import time
import uuid

import gevent.queue
import pytest
import redis
from flask_sse import Message

from agents.events import Event, EventType
from webapp.embedded_redis import EmbeddedRedis
from webapp.feed import HEARTBEAT, RESYNC, follow
from webapp.store import Append, RunStore


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with EmbeddedRedis(tmp_path_factory.mktemp("feed-redis"), persistent=False) as server:
        client = redis.Redis.from_url(server.url)
        yield RunStore(client)
        client.close()


class Run:
    """A run written straight into the log, and a stream following it."""

    def __init__(self, store: RunStore, cursor: int = 0):
        self.store, self.id, self.seq = store, uuid.uuid4().hex, 0
        self.queue = gevent.queue.Queue()
        self.cursor = cursor

    def log(self, count: int = 1, *, end: bool = False) -> list[Event]:
        events = []
        for i in range(count):
            self.seq += 1
            kind = EventType.RUN_COMPLETED if end and i == count - 1 else EventType.STEP_PROGRESS
            event = Event(run_id=self.id, seq=self.seq, ts=time.time(), type=kind, step_id="s",
                          data={"message": f"m{self.seq}"})
            self.store.append([Append.of(event, status="completed" if event.is_terminal else "running")])
            events.append(event)
        return events

    def publish(self, *events: Event, html: str | None = None) -> None:
        for event in events:
            data = {"event": event.to_dict()} | ({"html": html} if html else {})
            self.queue.put(Message(data, type=str(event.type), id=event.seq))

    def follow(self):
        stream = follow(self.store, self.queue, self.id, self.cursor, heartbeat=5)
        return stream

    @staticmethod
    def rest(stream) -> list:
        items = []
        for item in stream:
            assert item is not HEARTBEAT, "the stream waited although the events were in the log"
            items.append(item)
        return items


def seqs(items) -> list[int]:
    return [item.event.seq for item in items]


def test_a_gap_in_the_live_messages_is_filled_from_the_log(store):
    run = Run(store, cursor=1)
    run.log(2)
    stream = run.follow()
    first = next(stream)                 # the snapshot: seq 2
    lost = run.log(3)                    # 3, 4 and 5 are logged, but their messages never arrive
    end = run.log(1, end=True)
    run.publish(*end)                    # only 6's does
    assert [first.event.seq, *seqs(Run.rest(stream))] == [2, 3, 4, 5, 6]
    assert [e.seq for e in lost] == [3, 4, 5]


def test_messages_already_sent_by_the_replay_are_skipped(store):
    run = Run(store)
    run.log(2)
    stream = run.follow()
    first = next(stream)
    run.publish(*run.store.events(run.id))  # published while the stream was reading the log: 1 and 2 again
    later = run.log(2, end=True)
    run.publish(*later)
    assert [first.event.seq, *seqs(Run.rest(stream))] == [1, 2, 3, 4]


def test_a_message_delivered_twice_is_yielded_once(store):
    run = Run(store)
    run.log(1)
    stream = run.follow()
    next(stream)
    two = run.log(1)
    run.publish(*two, *two)              # a re-delivery after a reconnect
    run.publish(*run.log(1, end=True))
    assert seqs(Run.rest(stream)) == [2, 3]


def test_a_resync_rereads_the_log_after_the_cursor(store):
    run = Run(store)
    run.log(1)
    stream = run.follow()
    next(stream)
    run.log(3, end=True)
    run.queue.put(RESYNC)                # the hub lost its subscription: anything may be missing
    assert seqs(Run.rest(stream)) == [2, 3, 4]


def test_live_events_carry_the_fragment_the_runner_rendered(store):
    run = Run(store)
    run.log(1)
    stream = run.follow()
    replayed = next(stream)
    end = run.log(1, end=True)
    run.publish(*end, html="<p>done</p>")
    [live] = Run.rest(stream)
    assert (replayed.event.seq, replayed.html) == (1, None)  # from the log: the stream renders it
    assert (live.event.seq, live.html) == (2, "<p>done</p>")


def test_a_finished_run_is_replayed_and_the_stream_ends_without_waiting(store):
    run = Run(store, cursor=1)
    run.log(3, end=True)
    assert seqs(Run.rest(run.follow())) == [2, 3]
