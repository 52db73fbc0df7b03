"""The work queue: at most MAX_RUNS_IN_FLIGHT runs execute at once per instance; the rest wait,
in order, in one queue that every instance takes from.

* One FIFO for everything that starts a run: browser uploads, batches, A2A sends, and runs handed
  back or orphaned. A run gets a ticket when it is queued; whoever takes, takes the lowest.
* The cap is per **instance** — every worker sharing INSTANCE_NAME (default: the host name) — and
  is counted in Redis: a slot is an entry in the instance's slot set, added by the same script
  that takes the run off the queue, so two workers can never both take the last slot. Each worker
  takes at most an even share of it, ⌈cap / workers⌉: a gevent worker is one core, and a worker
  that took every slot would leave the instance's other cores idle.
* A slot has a deadline on Redis's clock that its worker pushes forward while the run lasts (every
  third of LEASE_TTL, like the lease), so a killed worker's slots lapse with its leases and the
  instance's count heals by itself. When the run ends, its worker releases the slot at once.
* Runs are taken when they are submitted (the receiving worker takes the head of the queue in the
  same script that queues the runs: when nothing else waits, the run it just stored), when one of
  the worker's runs ends, and every QUEUE_POLL_INTERVAL otherwise (another worker or instance
  queued runs, or a slot lapsed).
* Crash recovery (webapp/lifecycle.py) never starts a run: it puts an orphan — active, not
  waiting, no live slot, no lease — back at the head of the queue, where the cap applies to it as
  to any other run. A duplicate entry cannot run twice: starting claims the run's lease first.
"""

from __future__ import annotations

import logging
import math
import os
import random
import time

import gevent
import gevent.event
import redis
from flask import Flask
from prometheus_client import Counter, Gauge

from webapp import cases, runner
from webapp.keys import queue_key
from webapp.record.audit import Actor

log = logging.getLogger(__name__)

RUNS_TAKEN = Counter("saa_queue_runs_taken_total", "Runs this worker took off the work queue")
RUNS_REQUEUED = Counter("saa_queue_runs_requeued_total", "Runs put back at the head of the queue")
LOCAL_IN_FLIGHT = Gauge("saa_queue_runs_in_flight", "Runs holding a slot taken by this worker")

# Queue new runs (ARGV[4:]) with the next tickets, then take up to ``room`` from the head for this
# instance while it has free slots. KEYS: waiting, all slots, this instance's slots, ticket.
# ARGV: cap, slot ttl (ms), room, run ids... Returns the ids taken, oldest first.
_QUEUE_AND_TAKE = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 4, #ARGV do
  redis.call('ZADD', KEYS[1], 'NX', redis.call('INCR', KEYS[4]), ARGV[i])
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local n = math.min(tonumber(ARGV[3]), tonumber(ARGV[1]) - redis.call('ZCARD', KEYS[3]))
if n <= 0 then return {} end
local popped = redis.call('ZPOPMIN', KEYS[1], n)
local taken = {}
for i = 1, #popped, 2 do
  taken[#taken + 1] = popped[i]
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), popped[i])
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), popped[i])
end
return taken
"""

# Push the deadlines of slots this worker holds. KEYS: all slots, this instance's. ARGV: ttl, ids...
_TOUCH = """
redis.replicate_commands()
local t = redis.call('TIME')
local deadline = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], deadline, ARGV[i])
  redis.call('ZADD', KEYS[2], deadline, ARGV[i])
end
return #ARGV - 1
"""

# Put a run back at the head of the queue unless it waits already or a live slot holds it.
# KEYS: waiting, all slots. ARGV: run id. Returns 1 when it was queued again.
_REQUEUE = """
redis.replicate_commands()
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local deadline = redis.call('ZSCORE', KEYS[2], ARGV[1])
if deadline and tonumber(deadline) > now then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], 0, ARGV[1])
return 1
"""


class WorkQueue:
    """The queue's Redis operations (keys from webapp/keys.py); one per process."""

    def __init__(self, client: redis.Redis, *, instance: str, cap: int, slot_ttl_ms: int):
        self.redis = client
        self.instance = instance
        self.cap = cap
        self.slot_ttl_ms = slot_ttl_ms
        self.waiting_key = queue_key("waiting")
        self.slots_key = queue_key("slots")
        self.instance_slots_key = queue_key("slots", instance)
        self._queue_and_take = client.register_script(_QUEUE_AND_TAKE)
        self._touch = client.register_script(_TOUCH)
        self._requeue = client.register_script(_REQUEUE)

    def _take_keys(self) -> list[str]:
        return [self.waiting_key, self.slots_key, self.instance_slots_key, queue_key("ticket")]

    def enqueue(self, pipe, run_ids: list[str], room: int):
        """Queue the runs and take up to ``room`` from the head for this instance: in the caller's
        transaction (``pipe``; its result is the list of ids taken), or at once with a client."""
        return self._queue_and_take(keys=self._take_keys(), args=[self.cap, self.slot_ttl_ms, room, *run_ids],
                                    client=pipe)

    def take(self, room: int) -> list[str]:
        """Take up to ``room`` runs from the head of the queue, as far as this instance has slots."""
        if room <= 0:
            return []
        return [run_id.decode() for run_id in
                self._queue_and_take(keys=self._take_keys(), args=[self.cap, self.slot_ttl_ms, room])]

    def touch(self, run_ids: list[str]) -> None:
        if run_ids:
            self._touch(keys=[self.slots_key, self.instance_slots_key], args=[self.slot_ttl_ms, *run_ids])

    def release(self, run_ids: list[str]) -> None:
        if run_ids:
            pipe = self.redis.pipeline(transaction=True)
            pipe.zrem(self.slots_key, *run_ids)
            pipe.zrem(self.instance_slots_key, *run_ids)
            pipe.execute()

    def requeue(self, run_id: str) -> bool:
        """Back at the head of the queue, unless it waits already or a live slot holds it."""
        requeued = bool(self._requeue(keys=[self.waiting_key, self.slots_key], args=[run_id]))
        if requeued:
            RUNS_REQUEUED.inc()
        return requeued

    def withdraw(self, run_id: str) -> bool:
        """Take a run out of the queue (it was cancelled before it started)."""
        return bool(self.redis.zrem(self.waiting_key, run_id))

    def waiting_among(self, run_ids: list[str]) -> set[str]:
        """Which of these runs wait in the queue, in one round trip."""
        if not run_ids:
            return set()
        scores = self.redis.zmscore(self.waiting_key, run_ids)
        return {run_id for run_id, score in zip(run_ids, scores, strict=True) if score is not None}

    def position(self, run_id: str) -> int | None:
        """How many runs wait ahead of this one; None when it does not wait."""
        return self.redis.zrank(self.waiting_key, run_id)

    def length(self) -> int:
        return self.redis.zcard(self.waiting_key)

    def in_flight(self) -> int:
        """Runs holding a live slot on this instance."""
        return self.redis.zcount(self.instance_slots_key, f"({int(time.time() * 1000)}", "+inf")


class Dispatcher:
    """Takes runs off the queue for this worker and starts them; keeps and releases their slots."""

    def __init__(self, app: Flask, workers: int = 1):
        self.app = app
        services = app.extensions["saa"]
        self.queue: WorkQueue = services.queue
        self.settings = services.settings
        self.share = max(1, math.ceil(self.settings.max_runs_in_flight / max(1, workers)))
        self.pid = os.getpid()
        self.mine: set[str] = set()    # runs holding a slot this worker took
        self.ended: set[str] = set()   # of those, the ones whose greenlet ended: slots to release
        self.wake = gevent.event.Event()
        self.greenlet: gevent.Greenlet | None = None
        self.stopping = False

    def room(self) -> int:
        """How many more runs this worker may take (its share of the instance's cap)."""
        return max(0, self.share - len(self.mine))

    def start(self) -> Dispatcher:
        if self.greenlet is None or self.greenlet.dead:
            self.greenlet = gevent.spawn(self._loop)
        return self

    def poke(self) -> None:
        self.wake.set()

    def launch(self, run_ids: list[str]) -> None:
        """Start runs this worker took (their slots are held already)."""
        for run_id in run_ids:
            self.mine.add(run_id)
            RUNS_TAKEN.inc()
            greenlet = runner.start(self.app, run_id)
            if greenlet is None:  # another worker holds its lease (a duplicate entry, or a cancel)
                self.ended.add(run_id)
            else:
                greenlet.link(lambda _g, run_id=run_id: self._on_end(run_id))
        LOCAL_IN_FLIGHT.set(len(self.mine))
        if self.ended:
            self.poke()

    def _on_end(self, run_id: str) -> None:
        # Called from the hub when the run's greenlet ends: no I/O here, the loop releases the slot.
        self.ended.add(run_id)
        self.wake.set()

    def _settle(self) -> None:
        ended = list(self.ended)
        if ended:
            self.queue.release(ended)
            self.ended.difference_update(ended)
            self.mine.difference_update(ended)
            LOCAL_IN_FLIGHT.set(len(self.mine))

    def _loop(self) -> None:
        touch_every = self.settings.lease_ttl / 3
        next_touch, failures = 0.0, 0
        while not self.stopping:
            self.wake.clear()
            try:
                self._settle()
                if time.monotonic() >= next_touch:
                    self.queue.touch(sorted(self.mine - self.ended))
                    next_touch = time.monotonic() + touch_every
                self.launch(self.queue.take(self.room()))
                failures = 0
                pause = self.settings.queue_poll_interval * random.uniform(0.8, 1.2)  # noqa: S311 - jitter
            except redis.RedisError as exc:
                failures += 1
                pause = min(2.0, 0.05 * 2 ** min(failures, 6)) * random.uniform(0.5, 1.0)  # noqa: S311
                # A touch that failed is not due again before the pause: otherwise the wait below is zero
                # and the loop spins on a Redis that is down, holding the worker's hub.
                next_touch = max(next_touch, time.monotonic() + pause)
                if failures == 1 or failures % 20 == 0:
                    log.warning("work queue unavailable (%s); retrying in %.2fs", exc, pause)
            self.wake.wait(max(0.0, min(pause, next_touch - time.monotonic())))

    def stop(self) -> None:
        """Take no more runs (shutdown). Slots are released by :meth:`hand_back`."""
        self.stopping = True
        if self.greenlet is not None:
            self.greenlet.kill()

    def hand_back(self, run_ids: list[str]) -> None:
        """After shutdown stopped this worker's runs: free their slots and queue them again at the
        head, so that another worker or instance resumes them at once."""
        self.queue.release(sorted(self.mine))
        self.mine.clear()
        self.ended.clear()
        for run_id in run_ids:
            self.queue.requeue(run_id)


def submit(app: Flask, entries, *, actor: Actor | None = None, source: str = "web",
           extra: dict[str, str] | None = None, also=None, take: int = 1) -> list:
    """Store new runs and queue them, in one transaction; this worker starts at most ``take`` of the
    runs at the head of the queue at once (its own, when nothing waits ahead of it) and leaves the
    rest to its dispatcher, so the request answers without waiting for runs to start.

    ``entries`` are (alert, raw bytes, filename). ``actor`` is who submits them (the system when
    None): the record notes the runs, with their audit entries, first — if it cannot, nothing is
    stored or queued (webapp/cases.py). ``also(pipe, runs)`` adds writes that belong to the same
    submission (a batch's record). Returns the stored runs, in order.
    """
    services = app.extensions["saa"]
    actor = actor or Actor.system()
    run_ids = cases.note(services, actor, entries, source=source, batch_id=(extra or {}).get("batch_id"))
    dispatcher = services.dispatcher_for_worker()
    writes = services.store.writes()  # one transaction; on a cluster, ordered phases (webapp/store.py)
    stamped = {**(extra or {}), "created_by": actor.username}
    runs = [services.store.create(alert, raw, filename=filename, source=source, extra=stamped, writes=writes,
                                  run_id=run_id)
            for (alert, raw, filename), run_id in zip(entries, run_ids, strict=True)]
    if also is not None:
        also(writes.phase(writes.INDEXES), runs)
    room = min(take, dispatcher.room())
    writes.last(lambda client: services.queue.enqueue(client, [run.id for run in runs], room))
    taken = writes.execute()[-1]
    dispatcher.launch([run_id.decode() for run_id in taken])
    if len(runs) > len(taken):
        dispatcher.poke()
    return runs
