"""webapp/feed.py's Hub in this process, against a real Redis: what a worker's streams rely on.

A subscription is counted in the run's followers hash before the stream reads the log (so the
runner publishes to it) and uncounted when it ends; the run's channel is subscribed while any
stream of the worker follows it and dropped after the last; a published event reaches every
stream of the run; a stalled stream's queue is replaced by a resync; a broken subscription writes
the followers entry again before the streams re-read the log; the cap on streams answers at once;
a worker shutting down ends every stream; identical log reads made together share one call, but
never one that began before the caller's need.

Production runs the hub under gevent's monkey patching (the gunicorn gevent worker). Here only the
hub's own Redis connections are made cooperative (:class:`GeventUnixConnection`: a gevent socket
to the same real Redis), so its pub/sub reader can wait for messages while the test goes on; the
test's own client stays a plain redis-py one. Served tests (test_fanout.py, test_streams.py)
cover the same paths through gunicorn.
"""

from __future__ import annotations

import json
import time
import uuid

import gevent
import gevent.event
import gevent.queue
import gevent.socket
import pytest
import redis
from flask_sse import Message
from prometheus_client import REGISTRY
from redis.connection import UnixDomainSocketConnection

from agents.events import Event, EventType
from webapp import feed
from webapp.embedded_redis import EmbeddedRedis
from webapp.feed import (
    FOLLOW_TTL,
    HEARTBEAT,
    RESYNC,
    SHUTDOWN,
    FeedClosed,
    Hub,
    HubUnavailable,
    SharedReads,
    Subscription,
    TooManyStreams,
    first_read,
    follow,
)
from webapp.keys import channel, control_channel, followers_key
from webapp.store import Append, RunStore


class GeventUnixConnection(UnixDomainSocketConnection):
    """redis-py's Unix-socket connection on a gevent socket: what monkey patching gives the worker."""

    def _connect(self):
        sock = gevent.socket.socket(gevent.socket.AF_UNIX, gevent.socket.SOCK_STREAM)
        sock.settimeout(self.socket_connect_timeout)
        sock.connect(self.path)
        sock.settimeout(self.socket_timeout)
        return sock


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with EmbeddedRedis(tmp_path_factory.mktemp("hub-redis"), persistent=False) as server:
        yield server


@pytest.fixture
def plain(server):
    """The test's own client: what another worker (or the runner) would see in Redis."""
    client = redis.Redis.from_url(server.url)
    yield client
    client.close()


def cooperative_client(server) -> redis.Redis:
    client = redis.Redis.from_url(server.url)
    client.connection_pool.connection_class = GeventUnixConnection
    return client


@pytest.fixture
def make_hub(server):
    hubs: list[Hub] = []

    def make(**options) -> Hub:
        hub = Hub(RunStore(cooperative_client(server)), **options)
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        if hub._subscriber is not None:
            hub._subscriber.close()
        for greenlet in (hub._refresher, hub._announcer):
            if greenlet is not None:
                greenlet.kill()
        hub.client.close()


@pytest.fixture(autouse=True)
def no_stream_hangs():
    """Whatever breaks, a stream must never wait forever on the hub: a test that blocks this long fails."""
    with gevent.Timeout(30, AssertionError("the hub left the stream waiting")):
        yield


def new_run() -> str:
    return uuid.uuid4().hex


def event(run_id: str, seq: int, *, end: bool = False) -> Event:
    kind = EventType.RUN_COMPLETED if end else EventType.STEP_PROGRESS
    return Event(run_id=run_id, seq=seq, ts=time.time(), type=kind, step_id="s", data={"message": f"m{seq}"})


def append(store: RunStore, run_id: str, seq: int, *, end: bool = False, html: str | None = None) -> bool:
    """Log one event and publish it as the runner does (flask-sse's message shape, while followed)."""
    e = event(run_id, seq, end=end)
    data = {"event": e.to_dict()} | ({"html": html} if html is not None else {})
    message = json.dumps({"data": data, "type": str(e.type), "id": e.seq})
    return store.append([Append.of(e, status="completed" if end else "running", publish=(channel(run_id), message))])


def get(queue, timeout: float = 5.0):
    return queue.get(timeout=timeout)


def followers(plain: redis.Redis, run_id: str) -> dict[bytes, bytes]:
    return plain.hgetall(followers_key(run_id))


# ----------------------------------------------------------------------------- followers and channels

def test_a_stream_is_counted_as_a_follower_before_it_reads_and_uncounted_after(make_hub, plain):
    hub, run_id = make_hub(), new_run()
    token = hub.token.encode()
    assert not append(hub.store, run_id, 1)  # nobody follows: not published
    with hub.subscription(run_id) as first:
        assert followers(plain, run_id) == {token: b"1"}
        assert 0 < plain.ttl(followers_key(run_id)) <= FOLLOW_TTL  # a dead worker's entry expires
        assert channel(run_id).encode() in hub._subscriber.subscribed
        with hub.subscription(run_id) as second:
            assert followers(plain, run_id) == {token: b"2"}  # one entry per worker, its count of streams
            assert append(hub.store, run_id, 2, html="<p>2</p>")  # followed: published
            for queue in (first, second):
                message = get(queue)
                assert (message.id, message.data["html"]) == (2, "<p>2</p>")
                assert message.delivered > queue.active_since  # the tick a gap it shows is read after
        assert followers(plain, run_id) == {token: b"1"}
        assert channel(run_id).encode() in hub._subscriber.subscribed  # still needed by the first stream
    assert followers(plain, run_id) == {}
    assert channel(run_id).encode() not in hub._subscriber.subscribed
    assert run_id not in hub._clients and channel(run_id).encode() not in hub._listeners
    assert not append(hub.store, run_id, 3)


def test_a_stream_is_active_only_after_both_the_subscription_and_the_followers_entry(make_hub):
    """first_read joins no read that began before that moment (SharedReads)."""
    hub, run_id = make_hub(), new_run()
    before = hub.reads.now()
    with hub.subscription(run_id) as queue:
        assert isinstance(queue, Subscription) and queue.active_since > before
        assert queue.active_since <= hub.reads.now()


def test_each_run_is_heard_only_by_its_own_streams(make_hub):
    hub, mine, other = make_hub(), new_run(), new_run()
    with hub.subscription(mine) as queue, hub.subscription(other):
        append(hub.store, other, 1)
        append(hub.store, mine, 1)
        # Published in this order on one connection: had the other run's message reached this
        # queue, it would be first.
        assert get(queue).data["event"]["run_id"] == mine and queue.empty()


def test_a_live_event_reaches_follow_with_its_fragment_and_the_stream_ends_after_the_terminal_one(make_hub):
    hub, run_id = make_hub(), new_run()
    append(hub.store, run_id, 1)
    with hub.subscription(run_id) as queue:
        stream = follow(hub.store, queue, run_id, 0, heartbeat=5, reads=hub.reads)
        assert next(stream).event.seq == 1  # from the log
        append(hub.store, run_id, 2, end=True, html="<p>done</p>")
        live = next(stream)
        assert (live.event.seq, live.html) == (2, "<p>done</p>")
        assert list(stream) == []


def test_the_runs_keeper_hears_its_control_channel_and_is_not_a_follower(make_hub, plain):
    hub, run_id = make_hub(), new_run()
    with hub.subscription(run_id, client=False) as queue:
        assert control_channel(run_id).encode() in hub._subscriber.subscribed
        assert channel(run_id).encode() not in hub._subscriber.subscribed
        assert followers(plain, run_id) == {}
        assert not append(hub.store, run_id, 1)  # a keeper does not make events published
        hub.store.publish_control(run_id, json.dumps({"data": {"control": "cancel"}, "type": "control"}))
        assert get(queue).data == {"control": "cancel"}
    assert control_channel(run_id).encode() not in hub._subscriber.subscribed


# ----------------------------------------------------------------------------- breaks and stalls

def test_a_broken_subscription_writes_the_followers_entry_again_then_resyncs(make_hub, plain):
    hub, run_id = make_hub(), new_run()
    with hub.subscription(run_id) as queue:
        plain.delete(followers_key(run_id))  # Redis restarted, or a failover lost it
        before = hub.reads.resynced
        hub._on_resubscribed(channel(run_id).encode())
        assert get(queue) is RESYNC
        assert followers(plain, run_id) == {hub.token.encode(): b"1"}  # written before the streams re-read
        assert hub.reads.resynced > before


def test_a_keepers_broken_subscription_resyncs_without_a_followers_entry(make_hub, plain):
    hub, run_id = make_hub(), new_run()
    with hub.subscription(run_id, client=False) as queue:
        hub._on_resubscribed(control_channel(run_id).encode())
        assert get(queue) is RESYNC
        assert followers(plain, run_id) == {}


def test_a_stalled_streams_queue_is_replaced_by_one_resync(make_hub):
    hub, run_id = make_hub(), new_run()
    with hub.subscription(run_id) as stalled, hub.subscription(run_id) as reading:
        name = channel(run_id).encode()
        for seq in range(stalled.maxsize):
            hub._deliver(name, seq)
            assert reading.get_nowait() == seq
        assert stalled.qsize() == stalled.maxsize
        before = hub.reads.resynced
        hub._deliver(name, "one too many")
        assert stalled.qsize() == 1 and stalled.get_nowait() is RESYNC  # catch up from the log instead
        assert hub.reads.resynced > before
        assert reading.get_nowait() == "one too many"


def test_a_message_for_a_channel_nobody_here_follows_any_more_is_dropped(make_hub):
    hub = make_hub()
    hub._on_message(channel(new_run()).encode(), b"not even JSON")  # unsubscribed meanwhile: not parsed


# ----------------------------------------------------------------------------- the cap and shutdown

def metrics() -> tuple[float, float, float]:
    """The worker's /metrics: open streams, open A2A streams, streams refused."""
    return tuple(REGISTRY.get_sample_value(name) or 0.0 for name in (
        "saa_sse_streams_open", "saa_a2a_streams_open", "saa_sse_streams_refused_total"))


def test_the_cap_refuses_at_once_and_a_released_slot_is_counted_once(make_hub):
    hub = make_hub(max_streams=2)
    start = metrics()

    def counted() -> tuple[float, ...]:
        return tuple(now - then for now, then in zip(metrics(), start, strict=True))

    first, second = hub.admit(), hub.admit("a2a")
    assert hub.open_streams == 2 and counted() == (2, 1, 0)
    with pytest.raises(TooManyStreams, match="2 streams open"):
        hub.admit()
    assert counted() == (2, 1, 1)
    first.release()
    first.release()  # closing a response twice frees one place, not two
    assert hub.open_streams == 1 and counted() == (1, 1, 1)
    third = hub.admit()
    with pytest.raises(TooManyStreams):
        hub.admit("a2a")
    second.release()
    assert counted() == (1, 0, 2)
    third.release()
    assert hub.open_streams == 0 and counted() == (0, 0, 2)


def test_shutting_down_ends_every_stream_and_admits_no_more(make_hub):
    hub, one, two = make_hub(), new_run(), new_run()
    append(hub.store, one, 1)
    with hub.subscription(one) as queue, hub.subscription(two, client=False) as keeper:
        stream = follow(hub.store, queue, one, 0, heartbeat=5, reads=hub.reads)
        next(stream)
        hub.close()
        assert keeper.get_nowait() is SHUTDOWN
        with pytest.raises(FeedClosed):
            next(stream)
    with pytest.raises(HubUnavailable):
        hub.admit()
    with pytest.raises(HubUnavailable):
        hub.ensure_ready()
    with pytest.raises(HubUnavailable), hub.subscription(new_run()):
        pass


def test_a_stream_that_reaches_its_lifetime_ends_and_one_that_waits_gets_heartbeats(make_hub):
    hub, run_id = make_hub(), new_run()
    append(hub.store, run_id, 1)
    with hub.subscription(run_id) as queue:
        stream = follow(hub.store, queue, run_id, 1, heartbeat=0.05, reads=hub.reads)
        assert next(stream) is HEARTBEAT
        ending = follow(hub.store, queue, run_id, 1, heartbeat=5, reads=hub.reads, until=time.monotonic() + 0.05)
        with pytest.raises(FeedClosed):
            next(ending)
        over = follow(hub.store, queue, run_id, 1, heartbeat=5, reads=hub.reads, until=time.monotonic() - 1)
        with pytest.raises(FeedClosed):
            next(over)  # its lifetime is over already: it ends without waiting for a heartbeat


def test_without_redis_a_client_stream_is_refused_and_a_keeper_goes_on(tmp_path):
    hub = Hub(RunStore(redis.Redis.from_url(f"unix://{tmp_path}/no-redis.sock")))
    with pytest.raises(HubUnavailable, match="not available"), hub.subscription(new_run()):
        pass
    with hub.subscription(new_run(), client=False) as queue:  # the keeper reads the durable cancel flag
        assert queue.empty()


# ----------------------------------------------------------------------------- shared reads

def test_a_read_joins_one_in_flight_only_if_it_began_after_the_callers_need():
    reads, calls, gate = SharedReads(), [], gevent.event.Event()

    def held_read():
        calls.append(1)
        number = len(calls)
        gate.wait()  # in flight until every caller has arrived
        return number

    need_before = reads.now()
    leader = gevent.spawn(reads.read, ("k",), need_before, held_read)
    gevent.sleep(0)  # the leader's read is now in flight
    need_after_it_began = reads.now()
    late = gevent.spawn(reads.read, ("k",), need_before, held_read)           # joins it
    fresh = gevent.spawn(reads.read, ("k",), need_after_it_began, held_read)  # must not: it may predate the need
    other = gevent.spawn(reads.read, ("other",), need_before, held_read)      # another read altogether
    gevent.sleep(0)
    gate.set()
    gevent.joinall([leader, late, fresh, other], raise_error=True)
    assert (leader.value, late.value, fresh.value, other.value) == (1, 1, 2, 3)
    assert len(calls) == 3 and reads._inflight == {}


def test_a_failed_shared_read_fails_every_caller_and_the_next_read_starts_afresh():
    reads, gate = SharedReads(), gevent.event.Event()

    def broken():
        gate.wait()
        raise redis.ConnectionError("down")

    since = reads.now()
    leader = gevent.spawn(reads.read, ("k",), since, broken)
    gevent.sleep(0)
    joiner = gevent.spawn(reads.read, ("k",), since, lambda: "a read of its own")
    gevent.sleep(0)  # the joiner is waiting on the leader's read
    gate.set()
    gevent.joinall([leader, joiner])
    assert isinstance(leader.exception, redis.ConnectionError) and isinstance(joiner.exception, redis.ConnectionError)
    assert reads.read(("k",), reads.now(), lambda: "ok") == "ok"


def test_streams_of_different_runs_reading_at_once_never_share_a_read(make_hub):
    """Reads are shared by run and cursor only: a stream never gets another run's events."""
    hub, reads, runs = make_hub(), SharedReads(), [new_run() for _ in range(3)]
    queues = {run_id: Subscription() for run_id in runs}
    for run_id in runs:
        append(hub.store, run_id, 1)
    for queue in queues.values():
        queue.active_since = reads.now()  # all active before any read began: each could join any
    firsts = [gevent.spawn(first_read, hub.store, queues[r], r, 0, reads) for r in runs]  # reads yield on I/O
    gevent.joinall(firsts, raise_error=True)
    assert [[e.run_id for e in g.value[0]] for g in firsts] == [[r] for r in runs]
    streams = {r: follow(hub.store, queues[r], r, 0, heartbeat=3600, reads=reads, first=g.value)
               for r, g in zip(runs, firsts, strict=True)}
    for r, stream in streams.items():
        assert next(stream).event.run_id == r
        append(hub.store, r, 2, end=True)
        queues[r].put(RESYNC)
    reads.resynced = reads.now()
    rest = [gevent.spawn(list, streams[r]) for r in runs]  # their catch-up reads run at once
    gevent.joinall(rest, raise_error=True)
    assert [[(item.event.run_id, item.event.seq) for item in g.value] for g in rest] == [[(r, 2)] for r in runs]


def test_announcements_made_together_are_written_together_and_each_caller_told(make_hub, plain):
    hub, runs = make_hub(), [new_run() for _ in range(4)]
    for run_id in runs:
        hub._clients[run_id] = 1
    calls = [gevent.spawn(hub.announce, [run_id]) for run_id in runs]
    gevent.joinall(calls, raise_error=True)
    assert all(call.value > 0 for call in calls)
    assert all(followers(plain, run_id) == {hub.token.encode(): b"1"} for run_id in runs)
    for run_id in runs:
        del hub._clients[run_id]
    gevent.joinall([gevent.spawn(hub.announce, [run_id]) for run_id in runs], raise_error=True)
    assert all(followers(plain, run_id) == {} for run_id in runs)


def test_first_read_is_the_log_after_the_cursor_and_the_run_at_once(make_hub):
    hub, run_id = make_hub(), new_run()
    for seq in (1, 2, 3):
        append(hub.store, run_id, seq, end=seq == 3)
    with hub.subscription(run_id) as queue:
        events, run = first_read(hub.store, queue, run_id, 1, hub.reads)
    assert [e.seq for e in events] == [2, 3] and run.finished


def test_a_live_workers_followers_entry_is_refreshed_before_it_would_expire(make_hub, plain, monkeypatch):
    monkeypatch.setattr(feed, "FOLLOW_REFRESH", 0.01)  # instead of every ten minutes
    hub, run_id = make_hub(), new_run()
    with hub.subscription(run_id):
        plain.delete(followers_key(run_id))  # as if it had expired
        deadline = time.monotonic() + 5
        while not followers(plain, run_id):
            assert time.monotonic() < deadline, "the hub never wrote its followers entry again"
            gevent.sleep(0.01)  # polling a condition, with a deadline; lets the hub's greenlets run
        assert followers(plain, run_id) == {hub.token.encode(): b"1"}


def test_a_failed_announcement_reaches_the_caller_and_the_next_one_is_written(make_hub, server, plain, tmp_path):
    hub, run_id = make_hub(), new_run()
    working = hub.client
    hub.client = redis.Redis.from_url(f"unix://{tmp_path}/no-redis.sock")  # Redis away for a moment
    hub._clients[run_id] = 1
    with pytest.raises(redis.ConnectionError):
        hub.announce([run_id])
    hub.client = working
    tick = hub.announce([run_id])
    assert tick == hub.reads.now() - 1 and followers(plain, run_id) == {hub.token.encode(): b"1"}
    del hub._clients[run_id]
    hub.announce([run_id])
    assert followers(plain, run_id) == {}


def test_a_resync_keeps_trying_to_restore_the_followers_entry_until_redis_is_back(make_hub, plain, tmp_path, caplog):
    hub, run_id = make_hub(), new_run()
    with hub.subscription(run_id) as queue:
        plain.delete(followers_key(run_id))
        working = hub.client
        hub.client = redis.Redis.from_url(f"unix://{tmp_path}/no-redis.sock")  # Redis still restarting
        resync = gevent.spawn(hub._resync, channel(run_id).encode())
        deadline = time.monotonic() + 5
        while "could not restore the followers of run" not in caplog.text:
            assert time.monotonic() < deadline and not resync.dead, "the resync neither retried nor said so"
            gevent.sleep(0.01)  # polling a condition, with a deadline
        [warning] = {r.getMessage() for r in caplog.records if "could not restore" in r.getMessage()}
        assert warning.startswith(f"could not restore the followers of run {run_id} (Error ")
        assert warning.endswith("); retrying")
        assert queue.empty()  # the streams re-read only once the entry is back: else events go unpublished
        hub.client = working
        assert get(queue) is RESYNC
        resync.join(5)
        assert resync.successful() and followers(plain, run_id) == {hub.token.encode(): b"1"}


# ----------------------------------------------------------------------------- follow() with shared reads

def test_a_gap_is_filled_by_a_read_of_its_own_not_one_that_began_before_the_message(make_hub):
    """Another stream's read of the log, in flight since before the gap's message arrived, may predate
    the missing event: joining it would lose that event. An old resync must not make it look recent."""
    hub, run_id = make_hub(), new_run()
    reads, queue, gate = hub.reads, gevent.queue.Queue(), gevent.event.Event()
    reads.resynced = reads.now()  # a resync long ago
    for seq in (1, 2):
        append(hub.store, run_id, seq)
    stream = follow(hub.store, queue, run_id, 0, heartbeat=3600, reads=reads)
    assert [next(stream).event.seq, next(stream).event.seq] == [1, 2]

    def stale_read():
        before = hub.store.events(run_id, after=2)  # the log before 3 and 4 were appended
        gate.wait()
        return before

    other = gevent.spawn(reads.read, ("events", run_id, 2), reads.now(), stale_read)
    gevent.sleep(0)  # the other stream's read is now in flight
    for seq in (3, 4):
        append(hub.store, run_id, seq)
    hub._listeners[channel(run_id).encode()].add(queue)
    hub._on_message(channel(run_id).encode(), json.dumps(
        {"data": {"event": event(run_id, 4).to_dict()}, "type": "step_progress", "id": 4}).encode())  # 3's was lost
    with gevent.Timeout(10):
        assert [next(stream).event.seq, next(stream).event.seq] == [3, 4]
    gate.set()
    other.join()
    end = event(run_id, 5, end=True)
    queue.put(Message({"event": end.to_dict(), "html": "<p>5</p>"}, type="run_completed", id=5))
    with gevent.Timeout(10):
        rest = list(stream)  # after the catch-up the stream goes on live, from the right place
    assert [(item.event.seq, item.html) for item in rest] == [(5, "<p>5</p>")]


def test_a_stream_goes_on_after_a_heartbeat(make_hub):
    hub, run_id = make_hub(), new_run()
    append(hub.store, run_id, 1)
    queue = gevent.queue.Queue()
    stream = follow(hub.store, queue, run_id, 1, heartbeat=0.01, reads=hub.reads)
    assert next(stream) is HEARTBEAT
    end = event(run_id, 2, end=True)
    queue.put(Message({"event": end.to_dict()}, type="run_completed", id=2))
    assert [item.event.seq for item in stream if item is not HEARTBEAT] == [2]


def test_a_stream_past_its_lifetime_ends_without_waiting_for_a_heartbeat(make_hub):
    hub, run_id = make_hub(), new_run()
    append(hub.store, run_id, 1)
    stream = follow(hub.store, gevent.queue.Queue(), run_id, 1, heartbeat=3600, reads=hub.reads,
                    until=time.monotonic() - 1)
    with gevent.Timeout(10), pytest.raises(FeedClosed):  # not after the hour's heartbeat
        next(stream)


def test_a_resubscription_confirmed_after_the_last_stream_left_changes_nothing(make_hub, plain):
    hub, run_id = make_hub(), new_run()
    with hub.subscription(run_id):
        pass
    hub._resync(channel(run_id).encode())
    assert followers(plain, run_id) == {}


# ----------------------------------------------------------------------------- reads are shared when they may be

def counted(store: RunStore, name: str, gate: gevent.event.Event) -> list[int]:
    """Count (and hold until ``gate``) the store's ``name`` reads: how many Redis calls the streams made."""
    calls, read = [], getattr(store, name)

    def held(*args, **kwargs):
        calls.append(1)
        gate.wait()
        return read(*args, **kwargs)

    setattr(store, name, held)
    return calls


def test_streams_active_before_a_first_read_began_share_it_and_a_later_one_does_not(make_hub):
    hub, run_id, gate = make_hub(), new_run(), gevent.event.Event()
    append(hub.store, run_id, 1)
    early, also_early, late = Subscription(), Subscription(), Subscription()
    early.active_since = also_early.active_since = hub.reads.now()
    calls = counted(hub.store, "snapshot", gate)
    leader = gevent.spawn(first_read, hub.store, early, run_id, 0, hub.reads)
    gevent.sleep(0)  # its read is in flight
    late.active_since = hub.reads.now()  # became active after that read began: it may predate late's need
    fresh = gevent.spawn(first_read, hub.store, late, run_id, 0, hub.reads)
    gevent.sleep(0)  # late's own read is in flight now, the latest
    joiner = gevent.spawn(lambda: next(follow(hub.store, also_early, run_id, 0, heartbeat=3600, reads=hub.reads)))
    gevent.sleep(0)
    gate.set()
    gevent.joinall([leader, fresh, joiner], raise_error=True)
    assert len(calls) == 2  # the leader's and late's own, which also_early's stream joined
    assert [[e.seq for e in g.value[0]] for g in (leader, fresh)] == [[1], [1]] and joiner.value.event.seq == 1


@pytest.mark.parametrize("need", ["a message past a gap", "a resync"])
def test_a_catch_up_joins_a_read_that_began_after_its_need_arose(make_hub, need):
    """The gap's message was delivered (or the resync sent) before another stream's identical read began:
    that read holds everything the stream lacks, so it takes its result instead of a Redis call of its own."""
    hub, run_id, gate = make_hub(), new_run(), gevent.event.Event()
    reads, queue = hub.reads, gevent.queue.Queue()
    append(hub.store, run_id, 1)
    stream = follow(hub.store, queue, run_id, 0, heartbeat=3600, reads=reads)
    assert next(stream).event.seq == 1
    for seq in (2, 3):
        append(hub.store, run_id, seq)
    if need == "a resync":
        reads.resynced = reads.now()
        item = RESYNC
    else:
        item = Message({"event": event(run_id, 3).to_dict()}, type="step_progress", id=3)  # 2's was lost
        item.delivered = reads.now()
    calls = counted(hub.store, "events", gate)
    other = gevent.spawn(reads.read, ("events", run_id, 1), reads.now(), lambda: hub.store.events(run_id, after=1))
    gevent.sleep(0)  # the other stream's read is in flight, begun after the need
    queue.put(item)
    caught_up = gevent.spawn(lambda: [next(stream).event.seq, next(stream).event.seq])
    gevent.sleep(0)
    gate.set()
    gevent.joinall([other, caught_up], raise_error=True)
    assert caught_up.value == [2, 3] and len(calls) == 1


def test_a_dropped_subscriber_connection_is_reopened_and_its_streams_resync(make_hub, plain):
    """What a Redis restart or failover does to a worker: its streams hear RESYNC (so they re-read the
    log for what passed meanwhile), then live events again."""
    hub, run_id = make_hub(), new_run()
    with hub.subscription(run_id) as queue:
        assert plain.client_kill_filter(_type="pubsub") >= 1
        assert get(queue, timeout=10) is RESYNC
        assert followers(plain, run_id) == {hub.token.encode(): b"1"}
        append(hub.store, run_id, 1)
        assert int(get(queue, timeout=10).id) == 1
