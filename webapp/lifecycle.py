"""A worker's background duties: resuming orphaned runs, and handing runs back on shutdown.

* Recovery: every RECOVERY_INTERVAL (jittered) each worker looks at the active runs; one whose
  lease is gone — its worker was killed, or handed it back — is claimed by whoever gets there
  first and resumed (webapp/runner.py). The timeline shows the resume.
* Graceful shutdown (SIGTERM, as a PaaS sends on deploy): stop taking over runs, hand this
  worker's runs back (stopped without a terminal event, lease released, so another instance
  resumes them at once), end the open SSE streams without ``close`` so browsers reconnect
  elsewhere — and only then let gunicorn stop the worker.
"""

from __future__ import annotations

import logging
import random
import signal

import gevent
import redis
from flask import Flask

from webapp import keeper, runner

log = logging.getLogger(__name__)


class Lifecycle:
    def __init__(self, app: Flask):
        self.app = app
        self.services = app.extensions["saa"]
        self.stopping = False
        self.sweeper: gevent.Greenlet | None = None

    def sweep(self) -> list[str]:
        """Resume every active run that nobody holds a lease on; returns the ids taken over."""
        store, taken = self.services.store, []
        local = keeper.local_runs()
        for run_id in store.active():
            if self.stopping:
                break
            if run_id in local or store.lease_owner(run_id) is not None:
                continue
            run = store.get(run_id)
            if run is None or run.finished:
                store.retire(run_id)
                continue
            if runner.start(self.app, run_id) is not None:  # claims the lease, or someone else did
                log.info("resuming run %s (no live owner)", run_id)
                taken.append(run_id)
        return taken

    def _sweep_forever(self) -> None:
        interval = self.services.settings.recovery_interval
        while not self.stopping:
            gevent.sleep(interval * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not security
            try:
                self.sweep()
            except redis.RedisError as exc:
                log.warning("recovery sweep skipped: %s", exc)

    def start(self) -> None:
        if self.services.settings.recovery_interval > 0:
            self.sweeper = gevent.spawn(self._sweep_forever)

    def shutdown(self) -> list[str]:
        self.stopping = True
        if self.sweeper is not None:
            self.sweeper.kill()
        handed_back = runner.hand_back_all()
        if self.services.hub is not None:
            self.services.hub.close()
        log.info("shutdown: handed back %d run(s), closed %d stream(s)", len(handed_back),
                 self.services.hub.open_streams if self.services.hub else 0)
        return handed_back


def attach(worker) -> Lifecycle:
    """Called from gunicorn's post_worker_init: start recovery, and wrap SIGTERM for a clean handover."""
    lifecycle = Lifecycle(worker.wsgi)
    lifecycle.start()
    gunicorn_exit = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum, frame):
        def hand_over():
            try:
                lifecycle.shutdown()
            finally:
                gunicorn_exit(signum, frame)  # now let gunicorn stop accepting and drain

        gevent.spawn(hand_over)

    signal.signal(signal.SIGTERM, on_sigterm)
    return lifecycle
