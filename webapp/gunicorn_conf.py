"""Gunicorn settings for every way the app is served (Procfile and ``smarts-analyzer serve``).

gevent workers: each analysis and each live stream is a greenlet. With REDIS_URL unset, the
master starts an embedded Redis before forking workers and stops it on exit.
"""

from gevent import monkey

monkey.patch_all()  # first: the master imports the app's modules below, and workers inherit them

import logging  # noqa: E402
import os  # noqa: E402

from agents.data import warm  # noqa: E402
from webapp.config import Settings  # noqa: E402
from webapp.embedded_redis import EmbeddedRedis  # noqa: E402

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "12000"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
accesslog = os.environ.get("ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
preload_app = False  # workers import the app after gevent has patched them
control_socket_disable = True  # one per user by default: two instances on a machine would collide

_embedded: EmbeddedRedis | None = None
log = logging.getLogger("gunicorn.error")


def on_starting(server) -> None:
    global _embedded
    if not os.environ.get("REDIS_URL"):
        directory = os.environ.get("EMBEDDED_REDIS_DIR") or os.path.join(os.getcwd(), "var", "redis")
        _embedded = EmbeddedRedis(directory)
        os.environ["REDIS_URL"] = _embedded.start()
        server.log.info("REDIS_URL not set: started embedded Redis at %s (data in %s)", os.environ["REDIS_URL"],
                        directory)
    settings = Settings.from_env()
    for table, problem in warm(settings.data_dir).items():
        server.log.warning("data table %s unavailable: %s", table, problem)


def post_worker_init(worker) -> None:
    import gc

    from webapp.lifecycle import attach

    attach(worker)
    # Everything loaded so far (the app, LangGraph, the compiled graphs) lives as long as the
    # worker: keep it out of the collector's way, so that full collections — which must walk
    # every live object, ten thousand streams included — stay short and rare.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def on_exit(server) -> None:
    if _embedded is not None:
        server.log.info("stopping embedded Redis")
        _embedded.stop()
