"""The run's keeper hears a cancel that came before it was listening."""

from __future__ import annotations

from contextlib import contextmanager
from types import SimpleNamespace

import gevent
import gevent.queue

from webapp.keeper import LocalRun, RunCancelled, keep


class _Store:
    """A run whose cancel flag is already set: the request came before the keeper subscribed."""

    def cancel_requested(self, run_id):
        return True

    def renew(self, *args):
        return True


class _Hub:
    def ensure_ready(self):
        pass

    @contextmanager
    def _listen(self):
        yield gevent.queue.Queue()  # the cancel was published before this existed: nothing arrives

    def subscription(self, run_id, client=False):
        return self._listen()


def test_a_cancel_published_before_the_keeper_subscribed_stops_the_run_at_once():
    hub = _Hub()
    services = SimpleNamespace(store=_Store(), settings=SimpleNamespace(lease_ttl=30.0), hub_for_worker=lambda: hub)
    local = LocalRun("r" * 32, "owner")
    local.greenlet = gevent.spawn(gevent.sleep, 60)  # the run's own greenlet, working
    keeper = gevent.spawn(keep, services, local)
    keeper.join(timeout=2)  # the next lease renewal, where the flag used to be read, is 10 s away
    try:
        assert keeper.dead and local.reason is RunCancelled
        assert local.greenlet.dead
    finally:
        keeper.kill()
        local.greenlet.kill()
