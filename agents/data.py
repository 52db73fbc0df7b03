"""The investigation data (DATA_DIR), loaded once into indexed SQLite caches.

Why SQLite: look-ups must stay fast at millions of rows without holding millions of Python
objects per worker. Each data file is converted once into its own SQLite file with the
indexes its tools need (keyed by the source file's path, size and mtime), built atomically
so that several workers and instances can share it, then opened read-only. Every row keeps
the line number it came from, which is what a finding cites.

A missing or malformed file is a :class:`DataError` naming the file, line and column; it
fails only the tools that need that file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import re
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

log = logging.getLogger(__name__)

SCHEMA_VERSION = 6
_BATCH = 50_000


class DataError(RuntimeError):
    """A data file is missing or malformed."""


def _text(v: str) -> str:
    return v.strip()


def _real(v: str) -> float:
    return float(v.replace(",", ""))


def _day(v: str) -> str:
    return date.fromisoformat(v.strip()[:10]).isoformat()


def _clock(v: str) -> str:
    v = v.strip()
    if not re.fullmatch(r"\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?", v):
        raise ValueError(v)
    return v


def _json_list(v: str) -> str:
    value = json.loads(v) if v.strip() else []
    if not isinstance(value, list):
        raise ValueError(v)
    return json.dumps([str(x) for x in value])


_SQL_TYPES = {_text: "TEXT", _real: "REAL", _day: "TEXT", _clock: "TEXT", _json_list: "TEXT"}


@dataclass(frozen=True)
class Table:
    """A data file and how its tools read it.

    Rows are stored clustered on ``cluster`` (the tools' main access path, e.g. one trader's
    trades by date) so a range read touches a few contiguous pages, not one page per row: at
    ten million rows that is the difference between ~1 ms and hundreds. ``indexes`` are the
    secondary access paths.
    """

    name: str
    path: str                                   # relative to DATA_DIR
    columns: dict[str, Callable[[str], object]]
    cluster: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()
    optional: tuple[str, ...] = ()              # columns that may be absent from the file
    reader: str = "csv"
    required: bool = True                       # False: a data directory may leave the file out

    @property
    def label(self) -> str:
        return self.path


TABLES: dict[str, Table] = {t.name: t for t in (
    Table("trader_history", "trader_history.csv",
          {"trader_id": _text, "date": _day, "symbol": _text, "side": _text, "qty": _real,
           "price": _real, "sector": _text},
          cluster=("trader_id", "date"), indexes=(("symbol", "sector"),)),
    Table("trader_profiles", "trader_profiles.csv",
          {"trader_id": _text, "name": _text, "role": _text, "department": _text, "access_level": _text,
           "restrictions": _text},
          cluster=("trader_id",)),
    Table("market_data", "market_data.csv",
          {"symbol": _text, "date": _day, "open": _real, "high": _real, "low": _real, "close": _real,
           "volume": _real, "vix": _real},
          cluster=("symbol", "date"), optional=("vix",)),
    Table("peer_trades", "peer_trades.csv",
          {"trader_id": _text, "date": _day, "symbol": _text, "side": _text, "qty": _real, "price": _real,
           "trader_type": _text},
          cluster=("symbol", "date")),
    Table("news", "market_news.txt",
          {"symbol": _text, "ts": _text, "source": _text, "headline": _text},
          cluster=("symbol", "ts"), reader="news"),
    Table("instruments", "instruments.csv", {"symbol": _text, "issuer": _text, "sector": _text,
                                             "session_open": _clock},
          cluster=("symbol",), optional=("sector", "session_open"), required=False),
    Table("account_relationships", "wash_trade/account_relationships.csv",
          {"account_id": _text, "beneficial_owner_id": _text, "beneficial_owner_name": _text,
           "relationship_type": _text, "linked_accounts": _json_list, "relationship_degree": _text},
          cluster=("account_id",), indexes=(("beneficial_owner_id",),)),
    Table("related_accounts_history", "wash_trade/related_accounts_history.csv",
          {"account_id": _text, "trade_date": _day, "trade_time": _clock, "symbol": _text, "side": _text,
           "quantity": _real, "price": _real, "counterparty_account": _text, "order_id": _text},
          cluster=("account_id", "trade_date"), indexes=(("symbol", "trade_date"),)),
    Table("order_history", "spoofing/order_history.csv",
          {"order_id": _text, "account_id": _text, "trader_id": _text, "timestamp": _text, "date": _day,
           "symbol": _text, "side": _text, "quantity": _real, "price": _real, "action": _text,
           "filled_quantity": _real},
          cluster=("trader_id", "date"), indexes=(("symbol", "date"),)),
)}


# --------------------------------------------------------------------------- readers

def _read_csv(path: Path, table: Table) -> Iterator[tuple]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in table.columns if c not in header and c not in table.optional]
        if missing:
            raise DataError(f"{table.label} is missing {'a column' if len(missing) == 1 else 'columns'}: "
                            f"{', '.join(missing)}")
        positions = [(header.index(c) if c in header else None, c, conv) for c, conv in table.columns.items()]
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            line = reader.line_num
            values = [line]
            for pos, col, conv in positions:
                if pos is None:
                    values.append(None)
                    continue
                raw = row[pos] if pos < len(row) else ""
                if not raw.strip() and col in table.optional:
                    values.append(None)
                    continue
                try:
                    values.append(conv(raw))
                except (ValueError, TypeError, json.JSONDecodeError):
                    raise DataError(f"{table.label} line {line}: column {col} has invalid value {raw!r}") \
                        from None
            yield tuple(values)


_NEWS_HEADER = re.compile(r"^=+\s*(?P<symbol>\S+)\s+News Timeline\s*=+$")
_NEWS_LINE = re.compile(r"^(?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2})\s+-\s+(?P<source>[^:]+):\s*(?P<headline>.+)$")


def _read_news(path: Path, table: Table) -> Iterator[tuple]:
    symbol = None
    with path.open(encoding="utf-8-sig") as fh:
        for line_no, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            if header := _NEWS_HEADER.match(line):
                symbol = header["symbol"].upper()
                continue
            item = _NEWS_LINE.match(line)
            if item is None or symbol is None:
                raise DataError(
                    f"{table.label} line {line_no}: expected '===== SYMBOL News Timeline =====' or "
                    f"'YYYY-MM-DD HH:MM - Source: headline', got {line[:80]!r}"
                )
            datetime.strptime(item["ts"], "%Y-%m-%d %H:%M")
            yield (line_no, symbol, item["ts"], item["source"].strip(), item["headline"].strip())


_READERS = {"csv": _read_csv, "news": _read_news}


# --------------------------------------------------------------------------- cache

def _cache_dir() -> Path:
    return Path(os.environ.get("DATA_CACHE_DIR") or Path(tempfile.gettempdir()) / "smarts-analyzer-data")


def _signature(path: Path) -> str:
    st = path.stat()
    key = f"{SCHEMA_VERSION}|{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def _build(table: Table, source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{table.name}-", suffix=".sqlite", dir=target.parent)
    os.close(fd)
    try:
        db = sqlite3.connect(tmp)
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA temp_store=FILE")
        cols = ", ".join(f"{c} {_SQL_TYPES[conv]}" for c, conv in table.columns.items())
        # Load in file order into a scratch table, then copy in cluster order: a sorted bulk
        # insert builds the clustered B-tree densely and quickly.
        db.execute(f"CREATE TEMP TABLE staging (line INTEGER, {cols})")
        placeholders = ", ".join("?" * (len(table.columns) + 1))
        insert = f"INSERT INTO staging VALUES ({placeholders})"  # noqa: S608 - names come from TABLES
        batch: list[tuple] = []
        for values in _READERS[table.reader](source, table):
            batch.append(values)
            if len(batch) >= _BATCH:
                db.executemany(insert, batch)
                batch.clear()
        db.executemany(insert, batch)
        key = ", ".join((*table.cluster, "line"))
        db.execute(f"CREATE TABLE rows (line INTEGER NOT NULL, {cols}, PRIMARY KEY ({key})) WITHOUT ROWID")
        db.execute(f"INSERT INTO rows SELECT * FROM staging ORDER BY {key}")  # noqa: S608
        db.execute("DROP TABLE staging")
        for i, cols_ in enumerate(table.indexes):
            db.execute(f"CREATE INDEX ix_{i} ON rows ({', '.join(cols_)})")
        db.execute("ANALYZE")
        db.commit()
        db.close()
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def in_os_thread(fn: Callable[[], object]) -> object:
    """Run a long build off the gevent hub when gevent is active, so other greenlets keep going."""
    try:
        import gevent.monkey

        if gevent.monkey.is_module_patched("socket"):
            import gevent

            return gevent.get_hub().threadpool.apply(fn)
    except ImportError:
        pass
    return fn()


class Dataset:
    """Read-only access to DATA_DIR's tables; one per process and directory (see :func:`dataset`)."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self._connections: dict[str, sqlite3.Connection] = {}
        self._lock = threading.Lock()

    def source(self, name: str) -> Path:
        return self.data_dir / TABLES[name].path

    def cache_file(self, name: str) -> Path:
        source = self.source(name)
        if not source.is_file():
            raise DataError(f"{TABLES[name].label} not found in the data directory ({self.data_dir})")
        return _cache_dir() / f"{name}-{_signature(source)}.sqlite"

    def prepare(self, name: str) -> Path:
        """Build the table's cache if needed and return its path."""
        target = self.cache_file(name)
        if not target.exists():
            log.info("indexing %s into %s", self.source(name), target)
            in_os_thread(lambda: _build(TABLES[name], self.source(name), target))
        return target

    def connection(self, name: str) -> sqlite3.Connection:
        with self._lock:
            conn = self._connections.get(name)
            if conn is None:
                target = self.prepare(name)
                conn = sqlite3.connect(f"file:{target}?mode=ro&immutable=1", uri=True, check_same_thread=False)
                conn.row_factory = sqlite3.Row
                self._connections[name] = conn
            return conn

    def query(self, name: str, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        """Run one read query against a table (exposed as ``rows``) and fetch all results."""
        return self.connection(name).execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            for conn in self._connections.values():
                conn.close()
            self._connections.clear()


_DATASETS: dict[tuple[int, Path], Dataset] = {}
_DATASETS_LOCK = threading.Lock()


def dataset(data_dir: Path | str) -> Dataset:
    """The process's shared :class:`Dataset` for a directory (connections are per process)."""
    key = (os.getpid(), Path(data_dir).resolve())
    with _DATASETS_LOCK:
        if key not in _DATASETS:
            _DATASETS[key] = Dataset(key[1])
        return _DATASETS[key]


def warm(data_dir: Path | str) -> dict[str, str]:
    """Build every table's cache before workers start; returns the tables that failed and why."""
    ds = Dataset(Path(data_dir))
    problems = {}
    for name, table in TABLES.items():
        if not table.required and not ds.source(name).is_file():
            continue
        try:
            ds.prepare(name)
        except (DataError, OSError) as exc:
            problems[name] = str(exc)
    return problems
