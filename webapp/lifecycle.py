"""A worker's background duties: taking runs off the work queue, resuming orphaned runs, and
handing runs back on shutdown.

* Dispatch: the worker's dispatcher (webapp/workqueue.py) starts at boot and takes runs off the
  queue within the instance's cap.
* Recovery: every RECOVERY_INTERVAL (jittered) each worker looks at the active runs; one that is
  not waiting in the queue, holds no live slot and whose lease is gone — its worker was killed —
  is put back at the head of the queue, and resumed by whichever worker takes it
  (webapp/runner.py); the timeline shows the resume. The sweep starts nothing itself, so the cap
  holds for resumed runs too.
* Graceful shutdown (SIGTERM, as a PaaS sends on deploy): stop taking runs, hand this worker's
  runs back (stopped without a terminal event, lease and slot released, queued again at the head
  so another worker or instance resumes them at once), end the open SSE streams without
  ``close`` so browsers reconnect elsewhere — and only then let gunicorn stop the worker.
  A worker told to stop while it was still booting (gunicorn's own handler heard it) starts
  nothing; and whichever way a worker leaves, gunicorn's ``worker_exit`` runs the same handover
  before the interpreter exits, so no run is left to die with the process.
"""

from __future__ import annotations

import logging
import random
import signal

import gevent
import gevent.event
import redis
from flask import Flask

from webapp import cases, keeper, runner

log = logging.getLogger(__name__)


class Lifecycle:
    def __init__(self, app: Flask, workers: int = 1):
        self.app = app
        self.services = app.extensions["saa"]
        self.workers = workers
        self.stopping = False
        self.stopped = gevent.event.Event()  # the handover is done
        self.sweeper: gevent.Greenlet | None = None

    def sweep(self) -> list[str]:
        """Queue again every active run that nobody runs or will run; returns their ids.

        Waiting runs are left alone in one round trip, and leases read in one more, so a long
        queue costs the sweep little."""
        store, queue, requeued = self.services.store, self.services.queue, []
        local = keeper.local_runs()
        active = store.active()
        waiting = queue.waiting_among(active)
        candidates = [run_id for run_id in active if run_id not in waiting and run_id not in local]
        for run_id, owner in zip(candidates, store.lease_owners(candidates), strict=True):
            if self.stopping:
                break
            if owner is not None:
                continue
            run = store.get(run_id)
            if run is None or run.finished:
                if run is None or cases.save_record(self.services, run_id):  # e.g. its worker died saving it
                    store.retire(run_id)
                continue
            if queue.requeue(run_id):  # unless a live slot holds it: then it is being started
                log.info("run %s has no live owner: queued again to resume", run_id)
                requeued.append(run_id)
        return requeued

    def _sweep_forever(self) -> None:
        interval = self.services.settings.recovery_interval
        while not self.stopping:
            gevent.sleep(interval * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not security
            try:
                self.sweep()
            except redis.RedisError as exc:
                log.warning("recovery sweep skipped: %s", exc)

    def start(self) -> None:
        self.services.dispatcher_for_worker(self.app, workers=self.workers)
        if self.services.settings.recovery_interval > 0:
            self.sweeper = gevent.spawn(self._sweep_forever)

    def shutdown(self) -> list[str]:
        """Hand this worker's runs back and end its streams; a second call waits for the first."""
        if self.stopping:
            self.stopped.wait(timeout=10)
            return []
        self.stopping = True
        try:
            return self._hand_over()
        finally:
            self.stopped.set()

    def _hand_over(self) -> list[str]:
        if self.sweeper is not None:
            self.sweeper.kill()
        dispatcher = self.services.dispatcher
        if dispatcher is not None:
            dispatcher.stop()
        handed_back = runner.hand_back_all()
        if dispatcher is not None:
            try:
                dispatcher.hand_back(handed_back)
            except redis.RedisError as exc:  # their slots lapse and the sweep queues them again
                log.warning("could not queue the handed-back runs again: %s", exc)
        if self.services.hub is not None:
            self.services.hub.close()
        log.info("shutdown: handed back %d run(s), closed %d stream(s)", len(handed_back),
                 self.services.hub.open_streams if self.services.hub else 0)
        return handed_back


def attach(worker) -> Lifecycle:
    """Called from gunicorn's post_worker_init: wrap SIGTERM for a clean handover, and start taking
    and recovering runs — unless the worker was told to stop while it booted (``worker.alive`` is
    False: gunicorn's handler heard the signal), when it takes none."""
    lifecycle = Lifecycle(worker.wsgi, workers=worker.cfg.workers)
    worker.saa_lifecycle = lifecycle  # for worker_exit (webapp/gunicorn_conf.py)
    gunicorn_exit = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum, frame):
        def hand_over():
            try:
                lifecycle.shutdown()
            finally:
                gunicorn_exit(signum, frame)  # now let gunicorn stop accepting and drain

        gevent.spawn(hand_over)

    signal.signal(signal.SIGTERM, on_sigterm)
    if worker.alive:
        lifecycle.start()
    else:  # told to stop while booting: take no runs at all
        lifecycle.shutdown()
    return lifecycle
