"""A case's world: the data files one case of the library needs, and its alert.

Every case of ``test_data/cases/`` is a DATA_DIR of its own, so that each can carry exactly the
history, prices, news and accounts its story needs without disturbing another. A :class:`World`
collects the rows and writes every file the tools read (a file a case has no rows for is written
with its header only, so that a missing file never stands in for missing data by accident; a case
about missing data leaves the rows out, or names the file in ``omit``). Randomness (price paths,
baseline trades, background peers) comes from a generator seeded with the case's name: the
output is byte-for-byte reproducible.
"""

from __future__ import annotations

import csv
import json
import math
import random
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path


def day(text: str) -> date:
    return date.fromisoformat(text)


def weekdays(start: date, end: date):
    d = start
    while d <= end:
        if d.weekday() < 5:
            yield d
        d += timedelta(days=1)


def sessions_before(d: date, n: int) -> date:
    """The weekday n sessions before d."""
    while n:
        d -= timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


HEADERS = {
    "trader_history.csv": ["trader_id", "date", "symbol", "side", "qty", "price", "sector"],
    "trader_profiles.csv": ["trader_id", "name", "role", "department", "access_level", "restrictions"],
    "market_data.csv": ["symbol", "date", "open", "high", "low", "close", "volume", "vix"],
    "peer_trades.csv": ["trader_id", "date", "symbol", "side", "qty", "price", "trader_type"],
    "instruments.csv": ["symbol", "issuer", "sector"],
    "wash_trade/account_relationships.csv": ["account_id", "beneficial_owner_id", "beneficial_owner_name",
                                             "relationship_type", "linked_accounts", "relationship_degree"],
    "wash_trade/related_accounts_history.csv": ["account_id", "trade_date", "trade_time", "symbol", "side",
                                                "quantity", "price", "counterparty_account", "order_id"],
    "spoofing/order_history.csv": ["order_id", "account_id", "trader_id", "timestamp", "date", "symbol", "side",
                                   "quantity", "price", "action", "filled_quantity"],
}


@dataclass
class World:
    name: str
    rows: dict[str, list[list]] = field(default_factory=lambda: {k: [] for k in HEADERS})
    news: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    omit: set[str] = field(default_factory=set)

    def __post_init__(self):
        self.rng = random.Random(zlib.crc32(self.name.encode()))
        self.closes: dict[tuple[str, date], float] = {}
        self._order = 1

    # ------------------------------------------------------------------ market
    def market(self, symbol: str, start: date, end: date, price: float, *, vol: float = 0.006,
               volume: int = 1_000_000, moves: dict[date, float] | None = None,
               closes: dict[date, float] | None = None, volumes: dict[date, int] | None = None,
               vix: dict[date, float] | None = None, skip: set[date] = frozenset()) -> None:
        """A daily price path: a random walk, ``moves`` (date -> return) and ``closes`` (fixed).

        The walk is a bridge into the first fixed close: its random steps up to that day share the
        correction that makes the path arrive there, so the fixed day's own move is an ordinary
        step, not the walk's accumulated drift (a walk of 50 sessions at 0.6% drifts about 4%, which
        a fixed close would otherwise turn into one day's jump). Later fixed closes and ``moves`` are
        the case's own, deliberate moves. The random numbers are drawn as they always were (one
        sequence per case), so nothing else in the case changes.
        """
        moves, closes, volumes, vix = moves or {}, closes or {}, volumes or {}, vix or {}
        days, draws = list(weekdays(start, end)), []
        for d in days:
            step, up, down = self.rng.gauss(0, vol), abs(self.rng.gauss(0, vol / 2)), abs(self.rng.gauss(0, vol / 2))
            v = vx = None
            if d not in skip:
                v = volumes.get(d) or int(volume * self.rng.uniform(0.85, 1.15))
                vx = vix.get(d, round(15 + self.rng.gauss(0, 1.2), 2))
            draws.append((step, up, down, v, vx))
        steps = _bridged([s for s, *_ in draws], days, price, moves, closes)
        close = price
        for d, step, (_s, up, down, v, vx) in zip(days, steps, draws, strict=True):
            open_ = close
            close = round(open_ * (1 + moves[d]), 2) if d in moves else round(close * (1 + step), 2)
            close = closes.get(d, close)
            high = round(max(open_, close) * (1 + up), 2)
            low = round(min(open_, close) * (1 - down), 2)
            self.closes[(symbol, d)] = close
            if d in skip:
                continue
            self.rows["market_data.csv"].append([symbol, d.isoformat(), round(open_, 2), high, low, close, v, vx])

    def close(self, symbol: str, d: date) -> float:
        return self.closes[(symbol, d)]

    # ------------------------------------------------------------------ people and trades
    def profile(self, trader_id: str, name: str, role: str, department: str, access: str,
                restrictions: str = "") -> tuple[str, str, str]:
        self.rows["trader_profiles.csv"].append([trader_id, name, role, department, access, restrictions])
        return trader_id, name, department

    def trade(self, trader_id: str, d: date, symbol: str, side: str, qty: int, price: float, sector: str) -> None:
        self.rows["trader_history.csv"].append([trader_id, d.isoformat(), symbol, side, qty, round(price, 2), sector])

    def baseline(self, trader_id: str, symbols: dict[str, tuple[str, float]], n: int, qty: tuple[int, int],
                 until: date, days: int = 330) -> None:
        """``n`` ordinary trades in ``symbols`` (symbol -> (sector, price)) over the year before ``until``."""
        pool = list(weekdays(until - timedelta(days=days), until))
        for d in sorted(self.rng.sample(pool, n)):
            symbol = self.rng.choice(sorted(symbols))
            sector, price = symbols[symbol]
            self.trade(trader_id, d, symbol, self.rng.choice(["BUY", "SELL"]),
                       self.rng.randrange(qty[0], qty[1] + 1, 100), price * self.rng.uniform(0.95, 1.05), sector)

    def peer(self, trader_id: str, d: date, symbol: str, side: str, qty: int, price: float,
             kind: str = "institutional") -> None:
        self.rows["peer_trades.csv"].append([trader_id, d.isoformat(), symbol, side, qty, round(price, 2), kind])

    def background_peers(self, symbol: str, price: float, start: date, end: date, n: int = 6) -> None:
        """Other traders' ordinary activity in the symbol between ``start`` and ``end``."""
        pool = list(weekdays(start, end))
        for d in sorted(self.rng.sample(pool, n)):
            self.peer(f"P-{self.rng.randrange(700, 799)}", d, symbol, self.rng.choice(["BUY", "SELL"]),
                      self.rng.randrange(500, 5_000, 100), price * self.rng.uniform(0.97, 1.03),
                      self.rng.choice(["retail", "institutional"]))

    def headline(self, symbol: str, ts: str, source: str, text: str) -> None:
        self.news.setdefault(symbol, []).append((ts, source, text))

    def instrument(self, symbol: str, issuer: str, sector: str) -> None:
        self.rows["instruments.csv"].append([symbol, issuer, sector])

    # ------------------------------------------------------------------ accounts (wash trades)
    def account(self, account_id: str, owner_id: str, owner: str, kind: str, linked: list[str],
                degree: str) -> None:
        self.rows["wash_trade/account_relationships.csv"].append(
            [account_id, owner_id, owner, kind, json.dumps(linked), degree])

    def cross(self, buyer: str, seller: str, symbol: str, d: date, clock: str, qty: int, price: float,
              gap_ms: int) -> None:
        """An offsetting buy/sell pair between two accounts in their trading history."""
        t0 = datetime.fromisoformat(f"{d.isoformat()}T{clock}")
        t1 = t0 + timedelta(milliseconds=gap_ms)
        for account, other, side, t in ((buyer, seller, "BUY", t0), (seller, buyer, "SELL", t1)):
            self.rows["wash_trade/related_accounts_history.csv"].append(
                [account, d.isoformat(), t.time().isoformat(timespec="milliseconds"), symbol, side, qty, price,
                 other, f"ORD-{self._next()}"])

    def account_trade(self, account: str, d: date, clock: str, symbol: str, side: str, qty: int, price: float,
                      counterparty: str = "EXCH") -> None:
        self.rows["wash_trade/related_accounts_history.csv"].append(
            [account, d.isoformat(), clock, symbol, side, qty, round(price, 2), counterparty, f"ORD-{self._next()}"])

    # ------------------------------------------------------------------ orders (spoofing)
    def order(self, trader_id: str, d: date, clock: str, symbol: str, side: str, qty: int, price: float, *,
              cancel_after: float | None = None, fill_after: float | None = None) -> None:
        oid = f"H-{self._next():05d}"
        placed = datetime.fromisoformat(f"{d.isoformat()}T{clock}")
        rows = self.rows["spoofing/order_history.csv"]
        rows.append([oid, trader_id, trader_id, placed.isoformat(timespec="milliseconds"), d.isoformat(), symbol,
                     side, qty, price, "PLACE", 0])
        if cancel_after is not None:
            at = placed + timedelta(seconds=cancel_after)
            rows.append([oid, trader_id, trader_id, at.isoformat(timespec="milliseconds"), d.isoformat(), symbol,
                         side, qty, price, "CANCEL", 0])
        if fill_after is not None:
            at = placed + timedelta(seconds=fill_after)
            rows.append([oid, trader_id, trader_id, at.isoformat(timespec="milliseconds"), d.isoformat(), symbol,
                         side, qty, price, "EXECUTE", qty])

    def ordinary_orders(self, trader_id: str, symbol: str, price: float, days: list[date], cancel_share: float,
                        per_day: int, *, rest: tuple[float, float] = (60, 900)) -> None:
        """A month of ordinary order flow with the given share of (slow) cancellations."""
        for d in days:
            for _ in range(per_day):
                clock = f"{self.rng.randrange(9, 16):02d}:{self.rng.randrange(60):02d}:{self.rng.randrange(60):02d}.000"
                side, qty = self.rng.choice(["BUY", "SELL"]), self.rng.randrange(1_000, 6_000, 500)
                p = round(price * self.rng.uniform(0.99, 1.01), 2)
                if self.rng.random() < cancel_share:
                    self.order(trader_id, d, clock, symbol, side, qty, p, cancel_after=self.rng.uniform(*rest))
                else:
                    self.order(trader_id, d, clock, symbol, side, qty, p, fill_after=self.rng.uniform(1, 120))

    def _next(self) -> int:
        self._order += 1
        return self._order

    # ------------------------------------------------------------------ output
    def write(self, out: Path) -> None:
        for name, header in HEADERS.items():
            if name in self.omit:
                continue
            path = out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            rows = sorted(self.rows[name], key=_sort_key(name))
            with path.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh, lineterminator="\n")
                writer.writerow(header)
                writer.writerows(rows)
        if "market_news.txt" not in self.omit:
            lines = []
            for symbol, items in self.news.items():
                lines.append(f"===== {symbol} News Timeline =====")
                lines += [f"{ts} - {source}: {text}" for ts, source, text in sorted(items)]
                lines.append("")
            (out / "market_news.txt").write_text("\n".join(lines), encoding="utf-8")


def _bridged(steps: list[float], days: list[date], price: float, moves: dict, closes: dict) -> list[float]:
    """The random ``steps`` (daily returns), their log-returns shifted equally up to the first fixed close so the
    walk from ``price`` arrives at it: a Brownian bridge instead of a jump on the fixed day."""
    fixed = [i for i, d in enumerate(days) if d in closes]
    if not fixed:
        return steps
    first = fixed[0]
    free = [i for i in range(first + 1) if days[i] not in moves]
    if not free:
        return steps
    reached = sum(math.log1p(moves[days[i]]) if days[i] in moves else math.log1p(steps[i]) for i in range(first + 1))
    shift = (math.log(closes[days[first]] / price) - reached) / len(free)
    return [math.expm1(math.log1p(s) + shift) if i in free else s for i, s in enumerate(steps)]


def _sort_key(name: str):
    if name in ("trader_history.csv", "peer_trades.csv"):
        return lambda r: (r[1], r[0], r[2])
    if name == "market_data.csv":
        return lambda r: (r[0], r[1])
    if name == "wash_trade/related_accounts_history.csv":
        return lambda r: (r[1], r[2], r[0])
    if name == "spoofing/order_history.csv":
        return lambda r: (r[3], r[0])
    return lambda r: tuple(r)
