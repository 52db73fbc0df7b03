"""The work queue, crash recovery's part in it, and the model's shared rate limit, against a real
Redis of their own (no server: test_batches.py drives real gunicorn instances)."""

from __future__ import annotations

import itertools
import time

import pytest
import redis

from tests.conftest import SAMPLES
from webapp.embedded_redis import EmbeddedRedis
from webapp.keys import lease_key


@pytest.fixture
def own_redis(tmp_path):
    with EmbeddedRedis(tmp_path / "redis", persistent=False) as server:
        client = redis.Redis.from_url(server.url)
        yield server.url, client
        client.close()


def queue_of(client, instance: str, cap: int, ttl_ms: int = 60_000):
    from webapp.workqueue import WorkQueue

    return WorkQueue(client, instance=instance, cap=cap, slot_ttl_ms=ttl_ms)


def put(queue, run_ids: list[str]) -> None:
    """Queue runs without taking any (as a worker with no room would)."""
    pipe = queue.redis.pipeline(transaction=True)
    queue.enqueue(pipe, run_ids, room=0)
    assert pipe.execute()[-1] == []


def test_the_cap_holds_per_instance_and_runs_leave_in_order_on_any_instance(own_redis):
    _url, client = own_redis
    a, also_a, b = queue_of(client, "a", 2), queue_of(client, "a", 2), queue_of(client, "b", 1)
    put(a, ["r1", "r2", "r3", "r4", "r5"])
    assert a.take(10) == ["r1", "r2"]          # the instance's cap, oldest first
    assert also_a.take(10) == []               # another worker of the same instance: no slot left
    assert b.take(10) == ["r3"]                # another instance takes the next in line
    a.release(["r1"])
    assert also_a.take(10) == ["r4"]           # a freed slot goes to the head of the queue
    assert a.position("r5") == 0 and a.length() == 1 and a.in_flight() == 2
    assert a.waiting_among(["r1", "r5", "nope"]) == {"r5"}


def test_a_worker_takes_no_more_than_its_room_and_submitting_takes_the_head(own_redis):
    _url, client = own_redis
    queue = queue_of(client, "a", 10)
    put(queue, ["old"])
    pipe = client.pipeline(transaction=True)
    queue.enqueue(pipe, ["new1", "new2"], room=1)
    assert pipe.execute()[-1] == [b"old"]      # FIFO: the run already waiting goes first
    assert queue.take(1) == ["new1"] and queue.position("new2") == 0


def test_a_dead_workers_slots_lapse_and_free_the_instance(own_redis):
    _url, client = own_redis
    queue = queue_of(client, "a", 1, ttl_ms=300)
    put(queue, ["r1", "r2"])
    assert queue.take(1) == ["r1"]
    assert queue.take(1) == []                 # r1's worker holds the only slot...
    deadline = time.monotonic() + 5
    while not (taken := queue.take(1)):        # ...until, no longer touched, it lapses
        assert time.monotonic() < deadline, "the slot never lapsed"
        time.sleep(0.05)  # polling a condition, with a deadline
    assert taken == ["r2"]


def test_a_touched_slot_does_not_lapse(own_redis):
    _url, client = own_redis
    queue = queue_of(client, "a", 1, ttl_ms=300)
    put(queue, ["r1", "r2"])
    assert queue.take(1) == ["r1"]
    until = time.monotonic() + 1.0
    while time.monotonic() < until:            # three lifetimes, touched as a live worker does
        queue.touch(["r1"])
        assert queue.take(1) == []
        time.sleep(0.1)  # the worker's renewal period (a third of the slot's life)


def test_requeue_takes_only_orphans_and_puts_them_first(own_redis):
    _url, client = own_redis
    queue = queue_of(client, "a", 1, ttl_ms=60_000)
    put(queue, ["r1", "r2"])
    assert not queue.requeue("r2")             # waiting already
    assert queue.take(1) == ["r1"]
    assert not queue.requeue("r1")             # a live slot holds it: it is being run
    queue.release(["r1"])
    assert queue.requeue("r1")                 # nobody runs it: back, ahead of those waiting
    assert queue.position("r1") == 0 and queue.position("r2") == 1


@pytest.fixture
def app_with_runs(own_redis):
    """The app in this process over its own Redis (nothing starts runs here: no dispatcher runs)."""
    from agents.alerts import parse_alert
    from webapp.app import create_app
    from webapp.config import Settings

    url, client = own_redis
    app = create_app(Settings.from_env(redis_url=url, secret_key="x", max_runs_in_flight=1))
    raw = (SAMPLES / "wash_genuine_gldx.xml").read_bytes()
    store = app.extensions["saa"].store
    runs = [store.create(parse_alert(raw), raw, filename=f"{i}.xml") for i in range(4)]
    with app.test_request_context("/"):
        yield app, client, [run.id for run in runs]


def test_the_sweep_queues_orphans_again_and_starts_nothing(app_with_runs):
    from webapp.lifecycle import Lifecycle

    app, client, (taken, orphan, leased, waiting) = app_with_runs
    queue = app.extensions["saa"].queue
    put(queue, [taken, waiting])
    assert queue.take(1) == [taken]            # the instance's one slot: "taken" is being started,
    client.set(lease_key(leased), "elsewhere:1:x", px=60_000)  # another worker runs "leased",
    # "waiting" waits for a slot and "orphan" lost its worker: active, no lease, no slot, not waiting.

    assert Lifecycle(app).sweep() == [orphan]
    # Nothing was started past the cap: no lease appeared; the orphan waits at the head.
    assert [client.get(lease_key(r)) for r in (taken, orphan, waiting)] == [None, None, None]
    assert queue.position(orphan) == 0 and queue.position(waiting) == 1
    assert Lifecycle(app).sweep() == []        # queued once, not twice


def test_cancelling_a_queued_run_ends_it_without_it_ever_running(app_with_runs):
    from webapp import runner

    app, _client, (run_id, *_rest) = app_with_runs
    services = app.extensions["saa"]
    put(services.queue, [run_id])
    runner.cancel(app, run_id)
    assert [e.type for e in services.store.events(run_id)] == ["run_cancelled"]
    assert services.store.get(run_id).status == "cancelled"
    assert services.queue.position(run_id) is None and run_id not in services.store.active()


# ----------------------------------------------------------------------------- the model's rate limit

def limiter(client, **limits):
    from webapp.llm_limit import SharedRateLimit

    return SharedRateLimit(client, "http://model|m", **{"requests_per_minute": 0, "tokens_per_minute": 0, **limits})


def test_requests_are_booked_one_interval_apart_across_instances(own_redis):
    url, client = own_redis
    other = redis.Redis.from_url(url)  # another instance: its own connection, the same bookings
    a, b = limiter(client, requests_per_minute=1200), limiter(other, requests_per_minute=1200)
    slots, waits = [], []  # a booking's time lies between the clock before the call and after it, plus its wait
    for i in range(10):
        before = time.monotonic()
        waits.append((a if i % 2 else b).reserve(500))
        slots.append((before + waits[-1], time.monotonic() + waits[-1]))
    assert waits[0] < 0.05  # nothing booked before: at once
    for (early_lo, early_hi), (late_lo, late_hi) in itertools.pairwise(slots):  # 1200 a minute: one every 50 ms
        assert late_lo - early_hi - 0.001 <= 0.050 <= late_hi - early_lo + 0.001, slots
    assert slots[-1][0] - slots[0][1] - 0.001 <= 0.450 <= slots[-1][1] - slots[0][0] + 0.001, slots
    other.close()


def test_tokens_are_booked_and_corrected_by_the_usage(own_redis):
    _url, client = own_redis
    tokens = limiter(client, tokens_per_minute=60_000)  # one token a millisecond
    assert tokens.reserve(100) < 0.01
    assert 0.09 <= tokens.reserve(100) <= 0.101         # after the first request's 100 tokens
    tokens.settle(100, 300)                              # the second one used 300
    assert 0.39 <= tokens.reserve(100) <= 0.401


def test_no_limit_configured_means_no_booking(own_redis):
    from agents.llm_limit import Unlimited
    from webapp.config import Settings
    from webapp.llm_limit import SharedRateLimit, rate_limit_for

    url, client = own_redis
    assert isinstance(rate_limit_for(client, Settings.from_env(redis_url=url)), Unlimited)
    limited = rate_limit_for(client, Settings.from_env(redis_url=url, llm_requests_per_minute=60))
    assert isinstance(limited, SharedRateLimit)


def test_requests_woken_late_together_are_spaced_out_again_before_sending(own_redis):
    _url, client = own_redis
    requests = limiter(client, requests_per_minute=1200)
    booked = [requests.reserve(500) for _ in range(5)]     # turns 50 ms apart...
    assert booked[-1] >= 0.19
    time.sleep(0.3)  # ...but this worker was busy: all five turns have passed when they wake
    ready = [requests.ready() for _ in range(5)]
    assert ready[0] < 0.01 and all(0.045 <= b - a <= 0.051 for a, b in itertools.pairwise(ready)), ready
