"""Tool look-up latency at 1M and 10M rows per table.

Builds a data directory from test_data/ plus N synthetic rows in each large table
(trader_history, peer_trades, market_data, related_accounts_history, order_history), indexes
it once (timed), then times every tool's look-up for the sample alerts' subjects and for
random synthetic subjects, and a whole investigation of each sample alert.

    python -m bench.data_lookups --rows 1000000 10000000
    python -m bench.data_lookups --smoke     # 2,000 rows, 5 repeats, in a temporary directory; writes nothing

Results go to BENCHMARKS.md (section "Tool look-ups") and bench/out/data_lookups.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agents.alerts import parse_alert  # noqa: E402
from agents.analyst_offline import OfflineAnalyst  # noqa: E402
from agents.data import TABLES, Dataset  # noqa: E402
from agents.orchestrator import Outcome, investigate  # noqa: E402
from agents.tools import accounts, market, orders, peers, trader  # noqa: E402
from bench.report import write_section  # noqa: E402

OUT = REPO / "bench" / "out"
SAMPLES = REPO / "test_data" / "alerts"
SYMBOLS = [f"S{i:04d}" for i in range(2_000)] + ["ACME", "NOVA", "QRTZ", "GLDX", "FLUX"]
SECTORS = ["Technology", "Healthcare", "Energy", "Financials", "Consumer", "Industrials", "Materials"]
DAY0 = date(2022, 1, 3)


class Quiet:
    def progress(self, *args, **kwargs) -> None:
        pass


def _day(rng: random.Random) -> str:
    return (DAY0 + timedelta(days=rng.randrange(940))).isoformat()


def generate(rows: int, target: Path) -> float:
    """Copy test_data and append ``rows`` synthetic rows to each large table; return seconds."""
    started = time.perf_counter()
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(REPO / "test_data", target, ignore=shutil.ignore_patterns("alerts"))
    rng = random.Random(rows)
    writers = {
        "trader_history.csv": lambda: [f"T{rng.randrange(100_000, 120_000)}", _day(rng), rng.choice(SYMBOLS),
                                       rng.choice(("BUY", "SELL")), rng.randrange(100, 20_000, 100),
                                       round(rng.uniform(5, 400), 2), rng.choice(SECTORS)],
        "peer_trades.csv": lambda: [f"P{rng.randrange(100_000, 140_000)}", _day(rng), rng.choice(SYMBOLS),
                                    rng.choice(("BUY", "SELL")), rng.randrange(100, 20_000, 100),
                                    round(rng.uniform(5, 400), 2), rng.choice(("retail", "institutional"))],
        "wash_trade/related_accounts_history.csv": lambda: [
            f"ACC-{rng.randrange(100_000, 200_000)}", _day(rng), f"{rng.randrange(9, 17):02d}:{rng.randrange(60):02d}:"
            f"{rng.randrange(60):02d}.{rng.randrange(1000):03d}", rng.choice(SYMBOLS), rng.choice(("BUY", "SELL")),
            rng.randrange(100, 20_000, 100), round(rng.uniform(5, 400), 2), f"ACC-{rng.randrange(100_000, 200_000)}",
            f"ORD-{rng.randrange(10**9)}"],
        "spoofing/order_history.csv": lambda: _order(rng),
    }
    for name, make in writers.items():
        with (target / name).open("a", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            for _ in range(rows):
                writer.writerow(make())
    # market_data: one row per synthetic symbol and day, as many symbols as it takes to reach ``rows``.
    days = [DAY0 + timedelta(days=i) for i in range(940) if (DAY0 + timedelta(days=i)).weekday() < 5]
    with (target / "market_data.csv").open("a", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        written, n = 0, 0
        while written < rows:
            symbol, price = f"M{n:06d}", rng.uniform(5, 400)
            n += 1
            for d in days:
                if written >= rows:
                    break
                price *= 1 + rng.gauss(0, 0.01)
                writer.writerow([symbol, d.isoformat(), round(price, 2), round(price * 1.01, 2), round(price * 0.99, 2),
                                 round(price, 2), rng.randrange(10_000, 5_000_000), round(rng.uniform(12, 30), 2)])
                written += 1
    return time.perf_counter() - started


def _order(rng: random.Random) -> list:
    day = _day(rng)
    trader_id = f"T{rng.randrange(100_000, 120_000)}"
    return [f"O{rng.randrange(10**10)}", trader_id, trader_id,
            f"{day}T{rng.randrange(9, 17):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.000", day,
            rng.choice(SYMBOLS), rng.choice(("BUY", "SELL")), rng.randrange(100, 20_000, 100),
            round(rng.uniform(5, 400), 2), rng.choice(("PLACE", "CANCEL", "EXECUTE")), 0]


def index(data_dir: Path) -> dict[str, float]:
    ds = Dataset(data_dir)
    timings = {}
    for name in TABLES:
        started = time.perf_counter()
        ds.prepare(name)
        timings[name] = round(time.perf_counter() - started, 2)
    return timings


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 3),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
            "max_ms": round(ordered[-1] * 1000, 3), "n": len(ordered)}


def time_lookups(data_dir: Path, repeats: int) -> dict[str, dict]:
    ds = Dataset(data_dir)
    rng = random.Random(7)
    quiet = Quiet()
    trade_day = date(2024, 3, 13)
    calls = {
        "trader_history": lambda: trader.history(ds, rng.choice(["T001", f"T{rng.randrange(100_000, 120_000)}"]),
                                                 rng.choice(SYMBOLS), trade_day, "BUY", 5_000, quiet),
        "trader_profile": lambda: trader.profile(ds, "T001", "ACME", quiet),
        "market_data": lambda: market.price_context(ds, rng.choice(["ACME", f"M{rng.randrange(0, 100):06d}"]),
                                                    trade_day, "BUY", 1_000, 50.0, trade_day + timedelta(days=2),
                                                    quiet),
        "peer_trades": lambda: peers.activity(ds, "T001", rng.choice(SYMBOLS), trade_day, "BUY", quiet),
        "related_accounts_history": lambda: accounts.related_history(
            ds, ["ACC-1001", f"ACC-{rng.randrange(100_000, 200_000)}"], "GLDX", date(2024, 6, 12), quiet),
        "order_history": lambda: (lambda trader: orders.habits(ds, trader, [trader], date(2024, 7, 9), quiet))(
            rng.choice(["T020", f"T{rng.randrange(100_000, 120_000)}"])),
    }
    results = {}
    for name, call in calls.items():
        call()  # open the connection and warm the page cache, as a running worker would be
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            call()
            samples.append(time.perf_counter() - started)
        results[name] = _percentiles(samples)
    investigations = []
    for path in sorted(SAMPLES.glob("*.xml")):
        alert = parse_alert(path.read_bytes())
        started = time.perf_counter()
        for item in investigate(alert, dataset=ds, analyst=OfflineAnalyst()):
            if isinstance(item, Outcome):
                break
        investigations.append(time.perf_counter() - started)
    results["whole investigation (15 samples)"] = _percentiles(investigations)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeats", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the generated data in bench/out")
    parser.add_argument("--smoke", action="store_true", help="2,000 rows, 5 repeats, a temporary directory; "
                                                              "write nothing")
    args = parser.parse_args()
    global OUT
    if args.smoke:
        args.rows, args.repeats, args.keep = [2_000], 5, False
        OUT = Path(tempfile.mkdtemp(prefix="bench-lookups-"))
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ["DATA_CACHE_DIR"] = str(OUT / "cache")
    report = {"machine": f"{platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}",
              "command": "python -m bench.data_lookups " + " ".join(sys.argv[1:]), "runs": {}}
    for rows in args.rows:
        data_dir = OUT / f"data-{rows}"
        gen = generate(rows, data_dir)
        build = index(data_dir)
        lookups = time_lookups(data_dir, args.repeats)
        cache_mb = sum(p.stat().st_size for p in (OUT / "cache").glob("*.sqlite")) / 1e6
        report["runs"][rows] = {"generate_s": round(gen, 1), "index_s": build, "lookups": lookups,
                                "cache_mb_total": round(cache_mb)}
        print(json.dumps({rows: report["runs"][rows]}, indent=1), flush=True)
        if not args.keep:
            shutil.rmtree(data_dir)
            shutil.rmtree(OUT / "cache")
    if args.smoke:
        print(render(report))
        shutil.rmtree(OUT)
        return
    (OUT / "data_lookups.json").write_text(json.dumps(report, indent=1))
    write_section("Tool look-ups", render(report))


def render(report: dict) -> str:
    lines = [f"Machine: {report['machine']}. Command: `{report['command']}`.", "",
             "Each large table (trader_history, peer_trades, market_data, related_accounts_history, order_history) "
             "holds the sample data plus N synthetic rows. Look-ups are timed in a warm process (as a worker "
             "serves them), mixing sample subjects with random synthetic ones.", ""]
    sizes = list(report["runs"])
    lines.append("| look-up | " + " | ".join(f"{int(n):,} rows p50 / p99 (ms)" for n in sizes) + " |")
    lines.append("|---|" + "---|" * len(sizes))
    for name in report["runs"][sizes[0]]["lookups"]:
        cells = [f"{report['runs'][n]['lookups'][name]['p50_ms']} / {report['runs'][n]['lookups'][name]['p99_ms']}"
                 for n in sizes]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "| one-off indexing | " + " | ".join(f"{int(n):,} rows" for n in sizes) + " |",
              "|---|" + "---|" * len(sizes)]
    for table in report["runs"][sizes[0]]["index_s"]:
        lines.append(f"| {table} (s) | " + " | ".join(str(report["runs"][n]["index_s"][table]) for n in sizes) + " |")
    lines.append("| cache size on disk (MB) | " + " | ".join(str(report["runs"][n]["cache_mb_total"])
                                                            for n in sizes) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
