"""Gunicorn settings for every way the app is served (Procfile and ``smarts-analyzer serve``).

gevent workers: each analysis and each live stream is a greenlet. Before forking workers the
master: starts an embedded Redis when REDIS_URL is unset (and stops it on exit); brings the
record's schema up to date (unless DB_AUTO_UPGRADE=0); makes the secret key file when
SECRET_KEY is unset; and, on the very first start, creates the ``admin`` account and prints
its password once on the console.

Sized for connect storms (every browser reconnecting after a deploy): greenlets per worker
(``worker_connections``) exceed the stream cap by enough to answer the clients beyond it with a
503 at once — a full greenlet pool would stop accepting, and those clients would hang in the
listen queue — and the listen queue (``backlog``) holds a cap's worth of connections (the kernel
caps it at ``net.core.somaxconn``, which is logged when lower). Each worker raises its soft
open-files limit to the hard limit as it starts: every stream is a socket.
"""

from gevent import monkey

monkey.patch_all()  # first: the master imports the app's modules below, and workers inherit them

import logging  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
from pathlib import Path  # noqa: E402

from agents.data import warm  # noqa: E402
from webapp.config import Settings  # noqa: E402
from webapp.embedded_redis import EmbeddedRedis  # noqa: E402

_settings = Settings.from_env()
STREAM_CAP = _settings.sse_max_concurrent
HEADROOM = 2000  # greenlets beyond the stream cap: refusals, pages, uploads, A2A calls

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_connections = int(os.environ.get("WORKER_CONNECTIONS") or STREAM_CAP + HEADROOM)
backlog = int(os.environ.get("GUNICORN_BACKLOG") or max(2048, STREAM_CAP))
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
        directory = os.environ.get("EMBEDDED_REDIS_DIR") or str(Settings.from_env().state_dir / "redis")
        _embedded = EmbeddedRedis(directory)
        os.environ["REDIS_URL"] = _embedded.start()
        server.log.info("REDIS_URL not set: started embedded Redis at %s (data in %s)", os.environ["REDIS_URL"],
                        directory)
    settings = Settings.from_env()
    prepare_record(settings, server.log)
    for table, problem in warm(settings.data_dir).items():
        server.log.warning("data table %s unavailable: %s", table, problem)
    somaxconn = _read_int("/proc/sys/net/core/somaxconn")
    if somaxconn is not None and somaxconn < server.cfg.backlog:
        server.log.warning("listen backlog %d is capped by the kernel at net.core.somaxconn=%d: in a connect "
                           "storm the rest wait for SYN retries", server.cfg.backlog, somaxconn)


def _read_int(path: str) -> int | None:
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def raise_open_files_limit(needed: int) -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit (a stream is a socket; the usual soft limit
    of 1,024 would stop a worker long before its cap). Returns (before, after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard
    if hard == resource.RLIM_INFINITY:  # the kernel's own ceiling applies then
        target = _read_int("/proc/sys/fs/nr_open") or max(soft, needed)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft, soft
    return soft, resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def prepare_record(settings: Settings, log) -> None:
    from webapp.record import Database, schema, users
    from webapp.state import secret_key

    if not settings.secret_key:
        secret_key(settings.state_dir)  # made once here, so every worker reads the same file
    if settings.db_auto_upgrade:
        schema.upgrade(settings.database_url)
    elif schema.pending(settings.database_url):
        raise RuntimeError("The record's schema is out of date: run `smarts-analyzer db upgrade` (DB_AUTO_UPGRADE=0).")
    db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        password = users.bootstrap_admin(db)
    finally:
        db.dispose()
    if password:
        banner = "=" * 72
        print(f"\n{banner}\nFirst start: created the administrator account\n\n    username: admin\n    password: "
              f"{password}\n\nIt is shown only this once. Sign in, add the analysts' accounts (Accounts page, or "
              f"`smarts-analyzer users add`),\nand keep this password safe or disable the account.\n{banner}\n",
              flush=True)
        log.info("created the first administrator account 'admin' (password printed on the console)")


def post_worker_init(worker) -> None:
    import gc

    from prometheus_client import Info

    from webapp.lifecycle import attach

    # /metrics answers for whichever worker accepted the request: say which one that was.
    Info("saa_worker", "The worker process whose metrics these are").info({"pid": str(os.getpid())})

    needed = worker.cfg.worker_connections + _settings.redis_pool_size + 100  # + Redis, files, pub/sub
    before, after = raise_open_files_limit(needed)
    if after != before:
        worker.log.info("open files limit raised from %d to %d (the hard limit)", before, after)
    if after < needed:
        worker.log.warning("open files limit %d is below the %d this worker may need (%d connections + Redis "
                           "pool): raise the hard limit (ulimit -Hn) or lower SSE_MAX_CONCURRENT", after, needed,
                           worker.cfg.worker_connections)

    attach(worker)
    # Everything loaded so far (the app, LangGraph, the compiled graphs) lives as long as the
    # worker: keep it out of the collector's way, so that full collections — which must walk
    # every live object, ten thousand streams included — stay short and rare.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def worker_exit(server, worker) -> None:
    """Whichever way a worker leaves, its runs are handed back before the interpreter exits (at
    once if SIGTERM did it already). The master calls this too, for workers it reaps: they have
    no lifecycle there, and the app is never imported into the master."""
    lifecycle = getattr(worker, "saa_lifecycle", None)
    if lifecycle is not None:
        lifecycle.shutdown()


def on_exit(server) -> None:
    if _embedded is not None:
        server.log.info("stopping embedded Redis")
        _embedded.stop()
