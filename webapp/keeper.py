"""Owning a run while this worker executes it: its lease, its cancellation, and how it stops.

A run is executed under a lease in Redis (``run:<id>:lease``) that a keeper greenlet renews
every third of its TTL. The keeper also hears cancellation — at once through the worker's one
subscription, or by polling the durable flag when that is unavailable — and stops the run.

Stopping a run means stopping every greenlet working on it, not only the one streaming the
graph. LangGraph runs nodes in a background executor (greenlets, under gevent) and waits for the
running ones before an exception leaves ``stream()``: interrupting only the streaming greenlet
let a step blocked on the network — or a whole specialist subgraph — run on to its end before
the cancel took effect. So each step enters :meth:`LocalRun.step_scope` in whichever greenlet it
runs (``agents.progress.interruptible``), and :meth:`LocalRun.interrupt` stops the streaming
greenlet with the reason and every running step with :class:`StepInterrupted`; a step that starts
afterwards is refused. The stop exceptions are BaseExceptions, like GreenletExit, so that a
tool's ``except Exception`` (a failed tool becomes a data gap) cannot swallow them.

When Redis is unreachable the keeper retries with a jittered, growing backoff — never in a tight
loop, which would keep the worker's hub from serving anyone else.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import gevent
import gevent.queue
import redis

CANCEL_POLL = 0.25   # poll for cancellation when the worker's subscription is unavailable
MAX_BACKOFF = 2.0    # longest pause between attempts to reach Redis while it is down


class RunStopped(BaseException):
    """Why a run stops before its own end."""


class RunCancelled(RunStopped):
    """An analyst cancelled the run."""


class HandedBack(RunStopped):
    """The worker is shutting down: give the run back for another worker to resume."""


class LeaseLost(RunStopped):
    """Another worker owns the run now."""


class StepInterrupted(RunStopped):
    """Raised in a step's greenlet when its run is stopped (the run's greenlet gets the reason)."""


@dataclass(eq=False)
class LocalRun:
    """A run this process executes: its greenlet, and the greenlets of the steps running now."""

    run_id: str
    owner: str
    greenlet: gevent.Greenlet | None = None
    steps: set[gevent.Greenlet] = field(default_factory=set)
    reason: BaseException | type[BaseException] | None = None

    @contextmanager
    def step_scope(self) -> Iterator[None]:
        """Entered around each step, in the greenlet that runs it."""
        if self.reason is not None:
            raise StepInterrupted
        current = gevent.getcurrent()
        self.steps.add(current)
        try:
            yield
        finally:
            self.steps.discard(current)

    def interrupt(self, reason: BaseException | type[BaseException]) -> None:
        """Stop the run: ``reason`` in its greenlet, :class:`StepInterrupted` in its running steps.
        The first reason stands."""
        if self.reason is not None:
            return
        self.reason = reason
        self.greenlet.kill(reason, block=False)
        for step_greenlet in tuple(self.steps):
            if step_greenlet is not self.greenlet:  # a node LangGraph ran inline got the reason already
                step_greenlet.kill(StepInterrupted, block=False)


_LOCAL: dict[str, LocalRun] = {}  # the runs this process is executing


def register(local: LocalRun) -> None:
    """Track a run until its greenlet ends."""
    _LOCAL[local.run_id] = local
    local.greenlet.link(lambda _g: _LOCAL.pop(local.run_id, None) if _LOCAL.get(local.run_id) is local else None)


def local_runs() -> dict[str, LocalRun]:
    return dict(_LOCAL)


def owner_token(settings) -> str:
    """Who holds a lease: instance, pid (so tests and operators can find the worker) and a nonce."""
    return f"{settings.instance_name}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def ttl_ms(services) -> int:
    return int(services.settings.lease_ttl * 1000)


class _CancelSignals:
    """How a run's keeper hears about cancellation.

    Normally through this worker's one subscription: the cancel request publishes a control
    message on the run's channel, so it arrives at once and costs no polling. Without the
    subscription (Redis unavailable at start) it falls back to polling the durable flag.
    """

    def __init__(self, services, run_id: str):
        from webapp.feed import RESYNC, HubUnavailable  # the hub belongs to the web layer's worker

        self._resync = RESYNC
        try:
            hub = services.hub_for_worker()
            hub.ensure_ready()
            self._subscription = hub.subscription(run_id, client=False)
        except HubUnavailable:
            self._subscription = None
        self.polling = self._subscription is None

    def __enter__(self) -> _CancelSignals:
        self._queue = self._subscription.__enter__() if self._subscription else None
        return self

    def __exit__(self, *exc) -> None:
        if self._subscription:
            self._subscription.__exit__(*exc)

    def wait(self, timeout: float) -> str | None:
        """"cancel" when a cancel message arrives, "check" when messages may have been missed,
        None when ``timeout`` passes. The run's own events arriving meanwhile are ignored."""
        if self._queue is None:
            gevent.sleep(timeout)
            return "check"
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                item = self._queue.get(timeout=remaining)
            except gevent.queue.Empty:
                return None
            if getattr(item, "type", None) == "control" and item.data == {"control": "cancel"}:
                return "cancel"
            if item is self._resync:
                return "check"
        return None


def keep(services, local: LocalRun) -> None:
    """Renew the lease every third of its TTL; stop the run when it is cancelled or lost.

    The run writes what it had emitted before its run_cancelled (RunEmitter.resync), so that
    event is always the log's last.
    """
    store, lease_ms, run_id, owner = services.store, ttl_ms(services), local.run_id, local.owner
    renew_every = services.settings.lease_ttl / 3
    next_renewal = time.monotonic() + renew_every
    failures = 0
    with _CancelSignals(services, run_id) as signals:
        # A cancel published before the subscription was in place is not heard; the flag it set
        # first is read at once, not at the next renewal (which could let a short run finish).
        first: str | None = "check"
        while True:
            timeout = CANCEL_POLL if signals.polling else max(0.0, next_renewal - time.monotonic())
            signal_, first = (first, None) if first else (signals.wait(timeout), None)
            renewal_due = time.monotonic() >= next_renewal
            try:
                # On a "check" or a renewal, the durable flag is read too: no cancel is missed.
                if signal_ == "cancel" or ((signal_ == "check" or renewal_due) and store.cancel_requested(run_id)):
                    local.interrupt(RunCancelled)
                    return
                if renewal_due:
                    # An outage longer than the TTL lets the lease lapse: take it back if nobody else did.
                    if not (store.renew(run_id, owner, lease_ms) or store.claim(run_id, owner, lease_ms)):
                        local.interrupt(LeaseLost)
                        return
                    next_renewal = time.monotonic() + renew_every
                failures = 0
            except redis.RedisError:
                # Redis is restarting: try again after a growing, jittered pause. Writes are fenced by
                # the stream ids, so a lease that lapses meanwhile cannot lead to a double write.
                failures += 1
                pause = min(MAX_BACKOFF, 0.05 * 2 ** min(failures, 6)) * random.uniform(0.5, 1.0)  # noqa: S311
                next_renewal = time.monotonic() + pause
