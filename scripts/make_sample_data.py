"""Regenerate test_data/ (the sample DATA_DIR and alerts) deterministically.

Each scenario below is a case an experienced surveillance analyst would recognise; its
expected determination is in tests/expected_determinations.py. Run from the repo root:
``python scripts/make_sample_data.py``. Output is byte-for-byte reproducible.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import date, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "test_data"
rng = random.Random(20240313)

START, END = date(2023, 1, 2), date(2024, 7, 31)

# Issuers' names, so that headlines naming the company rather than its ticker are read as about it.
ISSUERS = {
    "ACME": "ACME Therapeutics", "NOVA": "NOVA Systems", "QRTZ": "Quartz Computing", "ORBT": "Orbit Industrial",
    "BLTC": "BLTC Energy", "HLX": "Helix Brands", "GLDX": "GLDX Resources", "PRSM": "Prism Financial",
    "TRVL": "Traveler Group", "FLUX": "Flux Semiconductors", "MNRL": "Mineral Holdings", "KRNL": "Kernel Industries",
    "VRDN": "Viridian Bio", "SOLR": "Solar Dynamics",
}
SECTORS = {
    "ACME": "Healthcare", "NOVA": "Technology", "QRTZ": "Technology", "ORBT": "Industrials",
    "BLTC": "Energy", "HLX": "Consumer", "GLDX": "Materials", "PRSM": "Financials",
    "TRVL": "Consumer", "FLUX": "Technology", "MNRL": "Materials", "KRNL": "Industrials",
    "VRDN": "Healthcare", "SOLR": "Energy",
}
# Price path knobs: start price, daily volatility, average volume, and dated jumps (multiplier).
MARKETS = {
    "ACME": (52.0, 0.008, 900_000, {date(2024, 3, 15): 1.34}),
    "NOVA": (190.0, 0.009, 2_500_000, {date(2024, 4, 23): 1.02, date(2024, 4, 24): 1.02, date(2024, 4, 25): 1.03}),
    "QRTZ": (75.0, 0.010, 1_200_000, {}),
    "ORBT": (44.0, 0.009, 800_000, {date(2024, 6, 3): 0.82}),
    "BLTC": (35.0, 0.010, 700_000, {date(2024, 5, 20): 1.09}),
    "HLX": (45.0, 0.007, 600_000, {date(2024, 6, 25): 1.03}),
    "GLDX": (18.0, 0.006, 400_000, {}),
    "PRSM": (62.0, 0.006, 2_100_000, {}),
    "TRVL": (33.0, 0.006, 130_000, {}),
    "FLUX": (41.0, 0.008, 1_500_000, {}),
    "MNRL": (12.0, 0.006, 900_000, {}),
    "KRNL": (7.8, 0.009, 1_100_000, {}),
    "VRDN": (28.0, 0.008, 500_000, {}),
    "SOLR": (16.0, 0.010, 650_000, {}),
}
# Volume spikes on particular days (multiplier of the average).
VOLUME_SPIKES = {("ACME", date(2024, 3, 13)): 3.1, ("ACME", date(2024, 3, 15)): 6.0,
                 ("ORBT", date(2024, 6, 3)): 4.0, ("BLTC", date(2024, 5, 20)): 2.5}
# Fixed daily volumes where a wash-trade share must come out exactly.
FIXED_VOLUME = {("GLDX", date(2024, 6, 12)): 400_000, ("PRSM", date(2024, 6, 18)): 2_100_000,
                ("TRVL", date(2024, 6, 20)): 130_000}
# Fixed prices where an alert's trade price must match the tape.
FIXED_CLOSE = {("ACME", date(2024, 3, 13)): 52.30, ("NOVA", date(2024, 4, 22)): 212.40,
               ("BLTC", date(2024, 5, 16)): 35.60, ("ORBT", date(2024, 5, 30)): 45.10,
               ("HLX", date(2024, 6, 20)): 45.20, ("QRTZ", date(2024, 6, 10)): 78.00,
               ("GLDX", date(2024, 6, 12)): 18.40, ("PRSM", date(2024, 6, 18)): 62.10,
               ("TRVL", date(2024, 6, 20)): 33.05, ("FLUX", date(2024, 7, 9)): 41.10,
               ("MNRL", date(2024, 7, 10)): 12.03, ("KRNL", date(2024, 7, 11)): 7.82}


def weekdays(start: date, end: date):
    d = start
    while d <= end:
        if d.weekday() < 5:
            yield d
        d += timedelta(days=1)


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def market_data() -> None:
    rows = []
    for symbol, (price, vol, avg_volume, jumps) in MARKETS.items():
        close = price
        for d in weekdays(START, END):
            open_ = close
            close = round(close * (1 + rng.gauss(0, vol)) * jumps.get(d, 1.0), 2)
            close = FIXED_CLOSE.get((symbol, d), close)
            high = round(max(open_, close) * (1 + abs(rng.gauss(0, vol / 2))), 2)
            low = round(min(open_, close) * (1 - abs(rng.gauss(0, vol / 2))), 2)
            volume = FIXED_VOLUME.get((symbol, d)) or int(avg_volume * rng.uniform(0.8, 1.2)
                                                          * VOLUME_SPIKES.get((symbol, d), 1.0))
            vix = round(15 + rng.gauss(0, 1.5), 2)
            rows.append([symbol, d.isoformat(), round(open_, 2), high, low, close, volume, vix])
    write_csv(OUT / "market_data.csv", ["symbol", "date", "open", "high", "low", "close", "volume", "vix"], rows)


PROFILES = [
    ["T001", "Sarah Chen", "Corporate Finance Analyst", "M&A Advisory", "HIGH", "Pre-clearance required"],
    ["T002", "David Okafor", "Equity Trader", "Cash Equities", "MEDIUM", ""],
    ["T003", "Priya Raman", "Research Associate", "Equity Research", "MEDIUM", "Pre-clearance required"],
    ["T004", "Tom Becker", "Operations Analyst", "Back Office", "LOW", "No trading allowed"],
    ["T005", "Nina Alvarez", "Graduate Trainee", "Cash Equities", "LOW", ""],
    ["T006", "Oliver Grant", "Equity Trader", "Cash Equities", "MEDIUM", ""],
    ["T007", "Hannah Weiss", "Equity Trader", "Consumer Desk", "MEDIUM", ""],
    ["T020", "Marco Villa", "Proprietary Trader", "Prop Desk", "MEDIUM", ""],
    ["T021", "Lena Fischer", "Market Maker", "Electronic Market Making", "MEDIUM", ""],
    ["T022", "Ahmed Yusuf", "Equity Trader", "Cash Equities", "MEDIUM", ""],
]


def trader_history() -> None:
    plan = {  # trader: (symbols, qty range, trades, until)
        "T001": (["QRTZ", "NOVA", "FLUX"], (600, 1_800), 24, date(2024, 3, 12)),
        "T002": (["NOVA", "QRTZ", "ACME", "VRDN"], (3_500, 7_000), 60, date(2024, 4, 19)),
        "T003": (["BLTC", "SOLR", "ORBT"], (1_200, 2_800), 30, date(2024, 5, 15)),
        "T004": (["QRTZ"], (100, 300), 3, date(2023, 11, 30)),
        "T006": (["QRTZ", "NOVA"], (1_000, 3_000), 40, date(2024, 6, 7)),
        "T007": (["HLX", "TRVL", "VRDN"], (1_500, 2_500), 45, date(2024, 6, 18)),
        "T020": (["FLUX", "QRTZ"], (2_000, 6_000), 50, date(2024, 7, 8)),
        "T021": (["MNRL", "GLDX"], (1_000, 3_000), 80, date(2024, 7, 9)),
        "T022": (["KRNL", "ORBT"], (3_000, 9_000), 40, date(2024, 7, 10)),
    }
    rows = []
    for trader_id, (symbols, (lo, hi), n, until) in plan.items():
        days = [d for d in weekdays(until - timedelta(days=330), until)]
        for d in sorted(rng.sample(days, n)):
            symbol = rng.choice(symbols)
            price = MARKETS[symbol][0] * rng.uniform(0.95, 1.08)
            rows.append([trader_id, d.isoformat(), symbol, rng.choice(["BUY", "SELL"]),
                         rng.randrange(lo, hi, 100), round(price, 2), SECTORS[symbol]])
    # T003 has traded BLTC before (so the ambiguous case is not a first trade).
    rows += [["T003", "2024-02-06", "BLTC", "BUY", 2_000, 33.9, "Energy"],
             ["T003", "2024-04-02", "BLTC", "SELL", 2_000, 34.8, "Energy"]]
    rows.sort(key=lambda r: (r[1], r[0]))
    write_csv(OUT / "trader_history.csv", ["trader_id", "date", "symbol", "side", "qty", "price", "sector"], rows)


def peer_trades() -> None:
    rows = [
        # ACME before the acquisition: nobody else buying; one small seller.
        ["P-310", "2024-03-12", "ACME", "SELL", 1_200, 51.9, "retail"],
        # NOVA ahead of earnings: the street was buying on the published estimates.
        ["P-101", "2024-04-19", "NOVA", "BUY", 20_000, 209.8, "institutional"],
        ["P-102", "2024-04-22", "NOVA", "BUY", 8_000, 212.1, "institutional"],
        ["P-103", "2024-04-22", "NOVA", "BUY", 1_500, 212.6, "retail"],
        ["P-104", "2024-04-23", "NOVA", "BUY", 12_000, 214.0, "institutional"],
        ["P-105", "2024-04-24", "NOVA", "BUY", 900, 216.3, "retail"],
        # BLTC: a single other buyer.
        ["P-201", "2024-05-15", "BLTC", "BUY", 3_000, 35.2, "institutional"],
        # ORBT: nobody else selling ahead of the profit warning.
        ["P-401", "2024-05-31", "ORBT", "BUY", 2_000, 45.3, "retail"],
        # HLX: ordinary buying around the trade.
        ["P-501", "2024-06-19", "HLX", "BUY", 4_000, 45.0, "institutional"],
        ["P-502", "2024-06-20", "HLX", "BUY", 1_000, 45.2, "retail"],
        ["P-503", "2024-06-21", "HLX", "BUY", 2_500, 45.4, "institutional"],
        ["P-504", "2024-06-21", "HLX", "SELL", 800, 45.4, "retail"],
    ]
    for _ in range(120):  # unrelated background activity
        symbol = rng.choice(["QRTZ", "VRDN", "SOLR", "FLUX"])
        d = rng.choice(list(weekdays(date(2024, 1, 2), date(2024, 7, 31))))
        rows.append([f"P-{rng.randrange(600, 699)}", d.isoformat(), symbol, rng.choice(["BUY", "SELL"]),
                     rng.randrange(200, 5_000, 100), round(MARKETS[symbol][0] * rng.uniform(0.95, 1.05), 2),
                     rng.choice(["retail", "institutional"])])
    rows.sort(key=lambda r: (r[1], r[0]))
    write_csv(OUT / "peer_trades.csv", ["trader_id", "date", "symbol", "side", "qty", "price", "trader_type"], rows)


NEWS = {
    "ACME": [
        ("2024-02-20 09:00", "PR Newswire", "ACME Therapeutics to present at Global Healthcare Conference"),
        ("2024-03-04 14:30", "Company filing", "ACME Therapeutics files annual report"),
        ("2024-03-15 07:00", "Reuters", "GlobalPharma agrees to acquire ACME Therapeutics at 40% premium"),
        ("2024-03-15 07:45", "Bloomberg", "ACME shares set to jump on GlobalPharma takeover"),
    ],
    "NOVA": [
        ("2024-04-10 08:00", "Company filing", "NOVA Systems confirms Q1 results date of April 25"),
        ("2024-04-18 13:10", "Bloomberg", "NOVA Systems expected to beat Q1 earnings estimates on cloud demand"),
        ("2024-04-22 06:45", "Financial Times", "Analysts raise NOVA price targets ahead of results"),
        ("2024-04-25 21:05", "Company filing", "NOVA Systems reports record Q1 results, raises guidance"),
    ],
    "BLTC": [
        ("2024-05-02 10:00", "Company filing", "BLTC Energy annual general meeting notice"),
        ("2024-05-14 16:20", "Reuters", "BLTC Energy said to be in talks for North Sea service contract - sources"),
        ("2024-05-20 07:00", "Company filing", "BLTC Energy awarded five-year North Sea contract"),
    ],
    "ORBT": [
        ("2024-05-10 09:00", "Company filing", "Orbit Industrial to attend investor day"),
        ("2024-06-03 07:00", "Company filing", "Orbit Industrial issues profit warning on supply disruption"),
    ],
    "QRTZ": [
        ("2024-06-12 16:00", "Company filing", "Quartz Computing unveils next-generation chip platform"),
    ],
    "GLDX": [("2024-06-11 08:00", "Mining Weekly", "GLDX Resources quarterly production update")],
    "PRSM": [("2024-06-17 12:00", "Reuters", "Prism Financial declares quarterly dividend")],
    "TRVL": [("2024-06-19 09:30", "Travel Trade", "Traveler Group launches summer booking campaign")],
}


def news() -> None:
    lines = []
    for symbol, items in NEWS.items():
        lines.append(f"===== {symbol} News Timeline =====")
        lines += [f"{ts} - {source}: {headline}" for ts, source, headline in items]
        lines.append("")
    (OUT / "market_news.txt").write_text("\n".join(lines), encoding="utf-8")


def account_data() -> None:
    rel = [
        ["ACC-1001", "BO-77", "John Smith", "individual", json.dumps(["ACC-1002"]), "direct"],
        ["ACC-1002", "BO-77", "John Smith", "family_trust", json.dumps(["ACC-1001"]), "trustee"],
        ["ACC-2001", "BO-201", "Northbridge Capital LLP", "institutional", "[]", "direct"],
        ["ACC-2002", "BO-305", "Harbor Pension Fund", "institutional", "[]", "direct"],
        ["ACC-3001", "BO-900", "Meridian Securities Ltd", "market_maker", json.dumps(["ACC-3002"]), "house"],
        ["ACC-3002", "BO-900", "Meridian Securities Ltd", "hedge_book", json.dumps(["ACC-3001"]), "house"],
        ["ACC-4001", "BO-410", "Ana Costa", "individual", json.dumps(["ACC-4002"]), "direct"],
        ["ACC-4002", "BO-411", "Luis Costa", "individual", json.dumps(["ACC-4001"]), "spouse"],
    ]
    write_csv(OUT / "wash_trade" / "account_relationships.csv",
              ["account_id", "beneficial_owner_id", "beneficial_owner_name", "relationship_type",
               "linked_accounts", "relationship_degree"], rel)
    rows = []
    order = 5000

    def pair(a, b, symbol, day, clock, qty, price, gap_ms):
        nonlocal order
        t0 = datetime.fromisoformat(f"{day}T{clock}")
        t1 = t0 + timedelta(milliseconds=gap_ms)
        rows.append([a, day, t0.time().isoformat(timespec="milliseconds"), symbol, "BUY", qty, price, b,
                     f"ORD-{order}"])
        rows.append([b, day, t1.time().isoformat(timespec="milliseconds"), symbol, "SELL", qty, price, a,
                     f"ORD-{order + 1}"])
        order += 2

    # Smith accounts: the same GLDX round trip on four days, the last one the alert.
    for day, clock in [("2024-05-20", "11:02:03.200"), ("2024-05-28", "14:40:10.050"),
                       ("2024-06-05", "10:05:44.900"), ("2024-06-12", "10:15:00.120")]:
        pair("ACC-1001", "ACC-1002", "GLDX", day, clock, 25_000, 18.40, 330)
    # Meridian market-making and hedge books: repeated sub-second TRVL crosses.
    for day, clock in [("2024-06-03", "09:45:12.000"), ("2024-06-10", "13:20:01.500"),
                       ("2024-06-14", "15:05:30.250"), ("2024-06-20", "11:30:00.400")]:
        pair("ACC-3001", "ACC-3002", "TRVL", day, clock, 8_000, 33.05, 180)
    # Costa spouses: one GLDX cross two days before the alert, within the minute.
    pair("ACC-4001", "ACC-4002", "GLDX", "2024-06-10", "12:00:05.000", 3_000, 18.35, 41_000)
    # Unrelated institutions: ordinary two-way activity, never against each other.
    for day in weekdays(date(2024, 5, 20), date(2024, 6, 17)):
        if rng.random() < 0.4:
            for acc in ("ACC-2001", "ACC-2002"):
                rows.append([acc, day.isoformat(), f"{rng.randrange(9, 16):02d}:{rng.randrange(60):02d}:"
                             f"{rng.randrange(60):02d}.000", "PRSM", rng.choice(["BUY", "SELL"]),
                             rng.randrange(1_000, 9_000, 500), round(62 * rng.uniform(0.98, 1.02), 2),
                             "EXCH", f"ORD-{order}"])
                order += 1
    rows.sort(key=lambda r: (r[1], r[2]))
    write_csv(OUT / "wash_trade" / "related_accounts_history.csv",
              ["account_id", "trade_date", "trade_time", "symbol", "side", "quantity", "price",
               "counterparty_account", "order_id"], rows)


def order_history() -> None:
    rows = []
    seq = 1

    def order(trader, day, t, symbol, side, qty, price, *, cancel_after=None, fill_after=None):
        nonlocal seq
        oid = f"H-{seq:05d}"
        seq += 1
        placed = datetime.fromisoformat(f"{day}T{t}")
        rows.append([oid, trader, trader, placed.isoformat(timespec="milliseconds"), day, symbol, side, qty, price,
                     "PLACE", 0])
        if cancel_after is not None:
            at = placed + timedelta(seconds=cancel_after)
            rows.append([oid, trader, trader, at.isoformat(timespec="milliseconds"), day, symbol, side, qty, price,
                         "CANCEL", 0])
        if fill_after is not None:
            at = placed + timedelta(seconds=fill_after)
            rows.append([oid, trader, trader, at.isoformat(timespec="milliseconds"), day, symbol, side, qty, price,
                         "EXECUTE", qty])

    def ordinary(trader, symbol, price, days, cancel_share, n_per_day):
        for day in days:
            for _ in range(n_per_day):
                t = f"{rng.randrange(9, 16):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.000"
                side, qty = rng.choice(["BUY", "SELL"]), rng.randrange(1_000, 6_000, 500)
                p = round(price * rng.uniform(0.99, 1.01), 2)
                if rng.random() < cancel_share:
                    order(trader, day.isoformat(), t, symbol, side, qty, p, cancel_after=rng.uniform(60, 900))
                else:
                    order(trader, day.isoformat(), t, symbol, side, qty, p, fill_after=rng.uniform(1, 120))

    june = list(weekdays(date(2024, 6, 10), date(2024, 7, 8)))
    ordinary("T020", "FLUX", 41.0, june, 0.15, 3)
    for day in ("2024-06-14", "2024-06-24", "2024-07-02"):  # earlier layering episodes
        for i in range(4):
            order("T020", day, f"11:0{i}:00.000", "FLUX", "SELL", 25_000, 41.3 + i * 0.05, cancel_after=2.5)
        order("T020", day, "11:00:01.500", "FLUX", "BUY", 4_000, 41.0, fill_after=0.3)
    ordinary("T021", "MNRL", 12.0, list(weekdays(date(2024, 6, 10), date(2024, 7, 9))), 0.85, 8)
    ordinary("T022", "KRNL", 7.8, list(weekdays(date(2024, 6, 11), date(2024, 7, 10))), 0.82, 4)
    rows.sort(key=lambda r: (r[3], r[0]))
    write_csv(OUT / "spoofing" / "order_history.csv",
              ["order_id", "account_id", "trader_id", "timestamp", "date", "symbol", "side", "quantity", "price",
               "action", "filled_quantity"], rows)


def _insider(alert_id, trader, symbol, day, side, qty, price, event=None, score=80, notes=(), rule="SMARTS-IT-001"):
    tid, name, dept = trader
    event_xml = ""
    if event:
        etype, edate, desc = event
        event_xml = f"""
  <RelatedEvent>
    <EventType>{etype}</EventType>
    <EventDate>{edate}</EventDate>
    <EventDescription>{desc}</EventDescription>
  </RelatedEvent>"""
    notes_xml = ""
    if notes:
        notes_xml = "\n  <InvestigationNotes>\n" + "".join(f"    <Note>{n}</Note>\n" for n in notes) + \
            "  </InvestigationNotes>"
    days = (date.fromisoformat(event[1]) - date.fromisoformat(day)).days if event else None
    generated = (date.fromisoformat(event[1]) if event else date.fromisoformat(day)) + timedelta(days=1)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<SMARTSAlert>
  <AlertID>{alert_id}</AlertID>
  <AlertType>Pre-Announcement Trading</AlertType>
  <RuleViolated>{rule}</RuleViolated>
  <GeneratedTimestamp>{generated}T06:30:00Z</GeneratedTimestamp>
  <Trader>
    <TraderID>{tid}</TraderID>
    <Name>{name}</Name>
    <Department>{dept}</Department>
  </Trader>
  <SuspiciousActivity>
    <Symbol>{symbol}</Symbol>
    <TradeDate>{day}</TradeDate>
    <Side>{side}</Side>
    <Quantity>{qty}</Quantity>
    <Price>{price:.2f}</Price>
    <TotalValue>{qty * price:.2f}</TotalValue>
  </SuspiciousActivity>
  <AnomalyIndicators>
    <AnomalyScore>{score}</AnomalyScore>
    <ConfidenceLevel>{"HIGH" if score >= 80 else "MEDIUM"}</ConfidenceLevel>
    <TemporalProximity>{f"{days} days before announcement" if days is not None else "n/a"}</TemporalProximity>
    <EstimatedProfit>0</EstimatedProfit>
  </AnomalyIndicators>{event_xml}{notes_xml}
</SMARTSAlert>
"""


def _flagged_trades(symbol, trades, day):
    trade_xml = ""
    for i, (acc, name, t, side, qty, price, cpty, oid) in enumerate(trades, 1):
        trade_xml += f"""    <Trade sequence="{i}">
      <AccountID>{acc}</AccountID>
      <AccountName>{name}</AccountName>
      <TradeDate>{day}</TradeDate>
      <TradeTime>{t}</TradeTime>
      <Symbol>{symbol}</Symbol>
      <Side>{side}</Side>
      <Quantity>{qty}</Quantity>
      <Price>{price:.2f}</Price>
      <TotalValue>{qty * price:.2f}</TotalValue>
      <CounterpartyAccount>{cpty}</CounterpartyAccount>
      <OrderID>{oid}</OrderID>
    </Trade>
"""
    return trade_xml


def _wash_alert(alert_id, symbol, day, trades, daily_volume, score=85, severity="HIGH", notes=()):
    qty = trades[0][4]
    t0 = datetime.fromisoformat(f"{day}T{trades[0][2]}")
    t1 = datetime.fromisoformat(f"{day}T{trades[1][2]}")
    delta_ms = abs((t1 - t0).total_seconds()) * 1000
    notes_xml = ""
    if notes:
        notes_xml = "\n  <InvestigationNotes>\n" + "".join(f"    <Note>{n}</Note>\n" for n in notes) + \
            "  </InvestigationNotes>"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<SmartsAlert>
  <AlertMetadata>
    <AlertID>{alert_id}</AlertID>
    <AlertType>WashTrade</AlertType>
    <RuleViolated>SMARTS-WT-003</RuleViolated>
    <GeneratedTimestamp>{day}T18:05:00Z</GeneratedTimestamp>
    <Severity>{severity}</Severity>
    <AnomalyScore>{score}</AnomalyScore>
    <ConfidenceLevel>{"HIGH" if score >= 80 else "MEDIUM"}</ConfidenceLevel>
  </AlertMetadata>
  <FlaggedTrades>
{_flagged_trades(symbol, trades, day)}  </FlaggedTrades>
  <WashTradeIndicators>
    <TimeDelta>{delta_ms:.0f}ms</TimeDelta>
    <SameSymbol>true</SameSymbol>
    <SameQuantity>{str(trades[0][4] == trades[1][4]).lower()}</SameQuantity>
    <SamePrice>{str(trades[0][5] == trades[1][5]).lower()}</SamePrice>
    <OffsettingTrades>true</OffsettingTrades>
    <VolumeImpact>{qty / daily_volume * 100:.2f}%</VolumeImpact>
    <DailyVolume>{daily_volume}</DailyVolume>
  </WashTradeIndicators>
  <MarketContext>
    <MarketPhase>Continuous trading</MarketPhase>
    <Venue>XLON</Venue>
  </MarketContext>
  <RegulatoryFlags>
    <Jurisdiction>UK</Jurisdiction>
    <ApplicableRegulations>
      <Regulation>UK MAR Art. 12(1)(a)</Regulation>
      <Regulation>FCA SUP 15 Annex 5</Regulation>
    </ApplicableRegulations>
  </RegulatoryFlags>{notes_xml}
</SmartsAlert>
"""


def _spoofing(alert_id, trader, symbol, day, orders, score=85):
    tid, name, dept = trader
    order_xml = ""
    for oid, t, side, qty, price, action, filled in orders:
        order_xml += f"""    <Order>
      <OrderID>{oid}</OrderID>
      <Timestamp>{day}T{t}</Timestamp>
      <Side>{side}</Side>
      <Quantity>{qty}</Quantity>
      <Price>{price:.2f}</Price>
      <Action>{action}</Action>""" + (f"\n      <FilledQuantity>{filled}</FilledQuantity>" if filled else "") + """
    </Order>
"""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<SmartsAlert>
  <AlertMetadata>
    <AlertID>{alert_id}</AlertID>
    <AlertType>Spoofing</AlertType>
    <RuleViolated>SMARTS-SP-002</RuleViolated>
    <GeneratedTimestamp>{day}T18:10:00Z</GeneratedTimestamp>
    <Severity>{"HIGH" if score >= 80 else "MEDIUM"}</Severity>
    <AnomalyScore>{score}</AnomalyScore>
    <ConfidenceLevel>{"HIGH" if score >= 80 else "MEDIUM"}</ConfidenceLevel>
  </AlertMetadata>
  <Trader>
    <TraderID>{tid}</TraderID>
    <Name>{name}</Name>
    <Department>{dept}</Department>
  </Trader>
  <OrderActivity>
    <Symbol>{symbol}</Symbol>
    <TradeDate>{day}</TradeDate>
{order_xml}  </OrderActivity>
  <MarketContext>
    <MarketPhase>Continuous trading</MarketPhase>
  </MarketContext>
  <RegulatoryFlags>
    <Jurisdiction>EU</Jurisdiction>
    <ApplicableRegulations>
      <Regulation>MAR Art. 12(1)(a), Annex I A(f)</Regulation>
    </ApplicableRegulations>
  </RegulatoryFlags>
</SmartsAlert>
"""


def alerts() -> None:
    out = OUT / "alerts"
    out.mkdir(exist_ok=True)
    chen, okafor, raman = ("T001", "Sarah Chen", "M&amp;A Advisory"), ("T002", "David Okafor", "Cash Equities"), \
        ("T003", "Priya Raman", "Equity Research")
    files = {
        "insider_genuine_acme.xml": _insider(
            "ITA-2024-0313-001", chen, "ACME", "2024-03-13", "BUY", 40_000, 52.30,
            ("M&amp;A Announcement", "2024-03-15", "GlobalPharma agrees to acquire ACME Therapeutics at a 40% premium"),
            score=94),
        "insider_false_positive_nova.xml": _insider(
            "ITA-2024-0422-002", okafor, "NOVA", "2024-04-22", "BUY", 5_500, 212.40,
            ("Earnings Release", "2024-04-25", "NOVA Systems Q1 results above consensus"), score=71),
        "insider_ambiguous_bltc.xml": _insider(
            "ITA-2024-0516-003", raman, "BLTC", "2024-05-16", "BUY", 6_000, 35.60,
            ("Contract Award", "2024-05-20", "Five-year North Sea service contract"), score=78),
        "insider_backoffice_breach_orbt.xml": _insider(
            "ITA-2024-0530-004", ("T004", "Tom Becker", "Back Office"), "ORBT", "2024-05-30", "SELL", 3_000, 45.10,
            ("Profit Warning", "2024-06-03", "Orbit Industrial warns on full-year profit"), score=83),
        "insider_edge_no_history.xml": _insider(
            "ITA-2024-0610-005", ("T005", "Nina Alvarez", "Cash Equities"), "QRTZ", "2024-06-10", "BUY", 1_000, 78.00,
            ("Product Launch", "2024-06-12", "Next-generation chip platform"), score=62),
        "insider_edge_no_market_data.xml": _insider(
            "ITA-2024-0610-006", ("T006", "Oliver Grant", "Cash Equities"), "ZZZT", "2024-06-10", "BUY", 2_000, 9.50,
            ("Earnings Release", "2024-06-13", "Quarterly results"), score=66),
        "insider_edge_empty_news.xml": _insider(
            "ITA-2024-0620-007", ("T007", "Hannah Weiss", "Consumer Desk"), "HLX", "2024-06-20", "BUY", 2_000, 45.20,
            ("Earnings Release", "2024-06-25", "Helix Brands quarterly results"), score=64,
            notes=("Auto-generated: trader flagged twice this year",)),
        "wash_genuine_gldx.xml": _wash_alert(
            "WT-2024-0612-001", "GLDX", "2024-06-12",
            [("ACC-1001", "John Smith", "10:15:00.120", "BUY", 25_000, 18.40, "ACC-1002", "ORD-5006"),
             ("ACC-1002", "Smith Family Trust", "10:15:00.450", "SELL", 25_000, 18.40, "ACC-1001", "ORD-5007")],
            400_000, score=92),
        "wash_false_positive_prsm.xml": _wash_alert(
            "WT-2024-0618-002", "PRSM", "2024-06-18",
            [("ACC-2001", "Northbridge Capital LLP", "10:02:10.000", "BUY", 5_000, 62.10, "ACC-2002", "ORD-9101"),
             ("ACC-2002", "Harbor Pension Fund", "10:04:40.000", "SELL", 5_000, 62.10, "ACC-2001", "ORD-9102")],
            2_100_000, score=58, severity="MEDIUM"),
        "wash_ambiguous_trvl.xml": _wash_alert(
            "WT-2024-0620-003", "TRVL", "2024-06-20",
            [("ACC-3001", "Meridian MM Book", "11:30:00.400", "BUY", 8_000, 33.05, "ACC-3002", "ORD-5016"),
             ("ACC-3002", "Meridian Hedge Book", "11:30:00.580", "SELL", 8_000, 33.05, "ACC-3001", "ORD-5017")],
            130_000, score=81),
        "wash_linked_spouses_gldx.xml": _wash_alert(
            "WT-2024-0610-004", "GLDX", "2024-06-10",
            [("ACC-4001", "Ana Costa", "12:00:05.000", "BUY", 3_000, 18.35, "ACC-4002", "ORD-5018"),
             ("ACC-4002", "Luis Costa", "12:00:46.000", "SELL", 3_000, 18.35, "ACC-4001", "ORD-5019")],
            410_000, score=69, severity="MEDIUM"),
        "wash_edge_unknown_account.xml": _wash_alert(
            "WT-2024-0618-005", "PRSM", "2024-06-18",
            [("ACC-9001", "Unknown Holdings", "13:00:00.000", "BUY", 4_000, 62.00, "ACC-2002", "ORD-9201"),
             ("ACC-2002", "Harbor Pension Fund", "13:00:00.900", "SELL", 4_000, 62.00, "ACC-9001", "ORD-9202")],
            2_100_000, score=74),
        "spoofing_genuine_flux.xml": _spoofing(
            "SP-2024-0709-001", ("T020", "Marco Villa", "Prop Desk"), "FLUX", "2024-07-09", [
                ("S-1", "10:31:00.100", "SELL", 30_000, 41.20, "PLACE", 0),
                ("S-2", "10:31:00.350", "SELL", 30_000, 41.25, "PLACE", 0),
                ("S-3", "10:31:00.600", "SELL", 30_000, 41.30, "PLACE", 0),
                ("S-4", "10:31:00.900", "SELL", 30_000, 41.35, "PLACE", 0),
                ("B-1", "10:31:01.800", "BUY", 5_000, 41.10, "PLACE", 0),
                ("B-1", "10:31:02.300", "BUY", 5_000, 41.10, "EXECUTE", 5_000),
                ("S-1", "10:31:03.000", "SELL", 30_000, 41.20, "CANCEL", 0),
                ("S-2", "10:31:03.100", "SELL", 30_000, 41.25, "CANCEL", 0),
                ("S-3", "10:31:03.250", "SELL", 30_000, 41.30, "CANCEL", 0),
                ("S-4", "10:31:03.400", "SELL", 30_000, 41.35, "CANCEL", 0),
            ], score=93),
        "spoofing_false_positive_mnrl.xml": _spoofing(
            "SP-2024-0710-002", ("T021", "Lena Fischer", "Electronic Market Making"), "MNRL", "2024-07-10", [
                ("Q-1", "09:40:00.000", "BUY", 2_000, 12.00, "PLACE", 0),
                ("Q-2", "09:40:00.000", "SELL", 2_000, 12.05, "PLACE", 0),
                ("Q-1", "09:41:35.000", "BUY", 2_000, 12.00, "CANCEL", 0),
                ("Q-2", "09:41:35.000", "SELL", 2_000, 12.05, "CANCEL", 0),
                ("Q-3", "09:41:35.200", "BUY", 2_000, 12.01, "PLACE", 0),
                ("Q-4", "09:41:35.200", "SELL", 2_000, 12.06, "PLACE", 0),
                ("Q-4", "09:42:10.000", "SELL", 1_000, 12.06, "EXECUTE", 1_000),
                ("Q-3", "09:43:20.000", "BUY", 2_000, 12.01, "CANCEL", 0),
            ], score=61),
        "spoofing_ambiguous_krnl.xml": _spoofing(
            "SP-2024-0711-003", ("T022", "Ahmed Yusuf", "Cash Equities"), "KRNL", "2024-07-11", [
                ("K-2", "14:01:58.000", "SELL", 20_000, 7.85, "PLACE", 0),
                ("K-1", "14:02:00.000", "BUY", 50_000, 7.80, "PLACE", 0),
                ("K-2", "14:02:05.000", "SELL", 20_000, 7.85, "EXECUTE", 20_000),
                ("K-1", "14:02:08.000", "BUY", 50_000, 7.80, "CANCEL", 0),
            ], score=72),
    }
    for name, xml in files.items():
        (out / name).write_text(xml, encoding="utf-8")


def main() -> None:
    market_data()
    write_csv(OUT / "trader_profiles.csv",
              ["trader_id", "name", "role", "department", "access_level", "restrictions"], PROFILES)
    trader_history()
    peer_trades()
    news()
    account_data()
    order_history()
    alerts()
    write_csv(OUT / "instruments.csv", ["symbol", "issuer", "sector"],
              [[symbol, ISSUERS[symbol], SECTORS[symbol]] for symbol in SECTORS])


if __name__ == "__main__":
    main()
