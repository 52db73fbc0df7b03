"""The system of record: cases, users, API tokens and the audit trail, in a relational database.

Redis is the live plane (runs in flight, event logs, pub/sub, leases); what a compliance
department must keep for years lives here. This package is the only one that imports
SQLAlchemy; callers get plain data back (dataclasses, dicts), never ORM objects, so nothing
outside it holds a session or triggers a lazy load.

* :class:`Database` is made in ``init_app`` (never at import): an engine and a sessionmaker
  for ``DATABASE_URL`` — an SQLite file by default (WAL, 0600 in a 0700 directory), or
  PostgreSQL through psycopg 3.
* Each command opens ``with db.transaction() as s:``, changes rows and appends its audit
  entry in the same transaction (:func:`webapp.record.audit.append`). On SQLite a write
  transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock first, so the audit
  chain's head it reads cannot change under it; on PostgreSQL the head row is locked.
* Database calls never stall the gevent hub. SQLite is a blocking C call, so under gevent
  every command runs on one native thread of this process (:func:`off_hub`); one thread,
  because SQLite has one writer anyway and SQLAlchemy's (monkey-patched) locks are then never
  contended across native threads. psycopg 3 (>= 3.1.14) waits cooperatively under gevent,
  so PostgreSQL calls run in the calling greenlet.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from webapp.state import private_dir

P = ParamSpec("P")
T = TypeVar("T")

_ON_DB_THREAD = contextvars.ContextVar("on_db_thread", default=False)
_IMMEDIATE = contextvars.ContextVar("sqlite_immediate", default=False)
SQLITE_BUSY_TIMEOUT = 30  # seconds a write waits for another writer before it fails


class RecordUnavailable(RuntimeError):
    """The database could not be reached or refused the work (locked, down, full): the action
    was not recorded, so it must not be done either."""


def normalise_url(url: str) -> URL:
    """``postgres://`` and ``postgresql://`` (as PaaS hand them out) mean psycopg 3 here."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _gevent_patched() -> bool:
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return False
    return monkey.is_module_patched("socket")


class Database:
    """One per process: the engine, the sessionmaker and (for SQLite under gevent) the thread
    that runs every command."""

    def __init__(self, url: str, *, pool_size: int = 10, sqlite_synchronous: str = "NORMAL"):
        self.url = normalise_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if sqlite_synchronous.upper() not in ("NORMAL", "FULL", "EXTRA"):
                raise ValueError(f"SQLITE_SYNCHRONOUS must be NORMAL, FULL or EXTRA, not {sqlite_synchronous!r}")
            self.engine = create_engine(self.url, connect_args={"check_same_thread": False,
                                                                "timeout": SQLITE_BUSY_TIMEOUT})
            self._prepare_sqlite_file()
            event.listen(self.engine, "connect", functools.partial(_sqlite_connect, sqlite_synchronous.upper()))
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            self.engine = create_engine(self.url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                                        pool_timeout=30)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._pool = None
        self._pool_pid = None

    def _prepare_sqlite_file(self) -> None:
        """Create the file 0600 inside a 0700 directory before SQLite opens it, so it never exists
        with the umask's permissions; SQLite gives its -wal and -shm files the same mode."""
        name = self.url.database
        if not name or name == ":memory:":
            return
        path = Path(name)
        private_dir(path.parent, ours=False)
        # Only ever create it: opening and closing an existing database file would drop every
        # POSIX lock this process's SQLite connections hold on it (closing any descriptor does),
        # and another process could then checkpoint and delete the WAL under them.
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        if stat.S_IMODE(path.stat().st_mode) != 0o600:
            path.chmod(0o600)

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        token = _IMMEDIATE.set(True)
        try:
            with self.sessions() as session, session.begin():
                yield session
        finally:
            _IMMEDIATE.reset(token)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only transaction (on SQLite it does not take the write lock)."""
        with self.sessions() as session, session.begin():
            yield session

    # ------------------------------------------------------------------ off the hub
    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` where a database call may block: on the database thread for SQLite under
        gevent, else right here. Connection-level failures become :class:`RecordUnavailable`."""
        try:
            if not self.is_sqlite or _ON_DB_THREAD.get() or not _gevent_patched():
                return fn(*args, **kwargs)
            return self._threadpool().apply(_on_db_thread, (fn, args, kwargs))
        except DBAPIError as exc:
            if exc.connection_invalidated or isinstance(exc.orig, _UNAVAILABLE):
                raise RecordUnavailable(f"the record database is unavailable: {exc.orig}") from exc
            raise
        except PoolTimeout as exc:
            raise RecordUnavailable("the record database has no free connection") from exc

    def _threadpool(self):
        if self._pool is None or self._pool_pid != os.getpid():  # never one inherited across a fork
            from gevent.threadpool import ThreadPool

            self._pool, self._pool_pid = ThreadPool(1), os.getpid()
        return self._pool

    def dispose(self) -> None:
        self.engine.dispose()


def _unavailable_errors() -> tuple[type[BaseException], ...]:
    """The DBAPI errors that mean "not reachable / not now" rather than a bug in a query."""
    import sqlite3

    errors: list[type[BaseException]] = [sqlite3.OperationalError]
    try:
        import psycopg

        errors.append(psycopg.OperationalError)
    except ImportError:  # pragma: no cover - psycopg is a dependency
        pass
    return tuple(errors)


_UNAVAILABLE = _unavailable_errors()


def _on_db_thread(fn, args, kwargs):
    token = _ON_DB_THREAD.set(True)
    try:
        return fn(*args, **kwargs)
    finally:
        _ON_DB_THREAD.reset(token)


def _sqlite_connect(synchronous: str, dbapi_connection, _record) -> None:
    # Transactions are begun explicitly (below), not by the sqlite3 module's own guesswork.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")      # readers never block the writer, nor it them
    # NORMAL: a commit survives the process dying, and nothing is ever corrupted; a power cut may
    # take the last commits back (as the embedded Redis's everysec). FULL: fsync every commit.
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
    cursor.close()


def _sqlite_begin(connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE" if _IMMEDIATE.get() else "BEGIN")


def off_hub(fn: Callable[P, T]) -> Callable[P, T]:
    """Mark a record command ``fn(db, ...)``: it runs through :meth:`Database.call`."""

    @functools.wraps(fn)
    def wrapper(db: Database, *args, **kwargs):
        return db.call(fn, db, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def cpu_bound(fn: Callable[..., T], *args: Any) -> T:
    """Run CPU-heavy work (password hashing) on gevent's thread pool under gevent, so the hub
    keeps serving streams meanwhile; argon2 releases the GIL while it works."""
    if not _gevent_patched():
        return fn(*args)
    import gevent

    return gevent.get_hub().threadpool.apply(fn, args)


def init_app(app) -> Database:
    """Bind the record to the app: one :class:`Database` in ``app.extensions["saa"]``."""
    settings = app.extensions["saa"].settings
    db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    app.extensions["saa"].db = db
    return db
