"""Trader tools: who the trader is (profile) and how they usually trade (history baseline).

The profile's ``restrictions`` text is read clause by clause (clauses are separated by ";" or
line breaks), because one field records different things: an outright trading ban, a
restriction on named instruments (restricted list, blackout, closed period), a pre-clearance
requirement or record, and a pre-scheduled trading plan (Rule 10b5-1). Only the first two
restrict; a plan naming the ticker is a plan, not a restricted-list entry. The phrases are in
the README ("How the profile is read").

The baseline is the trader's own activity before the event's run-up: trades in the instrument
inside the run-up are the activity under review (tranches of one position), never the yardstick
it is measured against. A baseline statistic needs a minimum sample (``MIN_BASELINE_TRADES``
for the average, ``MIN_ZSCORE_TRADES`` for a standard deviation); below it the statistic is a
data gap, not a finding.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import date, timedelta

from agents.data import TABLES, DataError, Dataset
from agents.evidence import Citation, Evidence
from agents.progress import StepReporter, records_inputs
from agents.text import normalise, plural
from agents.tools import book

BASELINE_DAYS = 365
SAME_SIZE = 0.10  # a plan's trades: within 10% of the flagged quantity
REGULAR_TRADES = 3        # earlier trades in the instrument that make it one the trader trades regularly
MIN_BASELINE_TRADES = 5   # an average (and "first trade in …") needs at least this many trades in the year
MIN_ZSCORE_TRADES = 10    # a standard deviation needs at least this many (its relative error is ~1/√(2(n−1)))
ROUND_TRIP_DAYS = 14      # an opposite trade of about the same size within this many days closes a round trip
ROUND_TRIP_GAIN_PCT = 5.0

# Roles and access levels that imply routine access to inside information (whole words: "Senior Dealer" is not a
# deal team, a private client's "advisory" service is not deal advisory).
_INSIDE_ROLES = re.compile(r"\bcorporate finance\b|\bm&a\b|\bmergers\b|\binvestment bank|\bdeal (?:team|advisory)\b|"
                           r"\b(?:m&a|deal|transaction|financial|strategic|corporate) advis|\bcapital markets\b|"
                           r"\b[ed]cm\b|\bresearch\b|\blegal\b|\bgeneral counsel\b|\bcompany secretar|\bcompliance\b|"
                           r"\bexecutive\b|\bdirector\b|\bcorporate development\b|\binvestor relations\b", re.I)
_NO_TRADING = ("no trading", "not permitted to trade", "trading prohibited", "no personal trading",
               "trading not permitted", "banned from trading")
# A restriction, or a record that the person holds inside information on what it names (MAR Art. 18 insider
# lists, Art. 11 market soundings / wall-crossings): either way, dealing in what it names is barred.
_RESTRICTION = re.compile(r"restricted|blackout|black-out|closed period|watch ?list|gr[ae]y ?list|prohibited|"
                          r"not permitted|no trading|no dealing|banned|insider list|insiders? register|"
                          r"wall-? ?cross|market sounding|over the wall|inside information\b|\bmnpi\b", re.I)
_PLAN = re.compile(r"10b5-1|trading plan|pre-arranged plan|prearranged plan|pre-scheduled|prescheduled|"
                   r"(?:share|stock) purchase plan|\bespp\b|employee (?:share|stock) (?:plan|scheme|ownership)|"
                   r"\bsaye\b|sharesave|share incentive plan|dividend reinvestment|\bdrip\b|"
                   r"automatic (?:purchase|sale|sales|investment|reinvestment) plan", re.I)
_PLAN_WORD = re.compile(r"\bplans?\b|\bprogramme\b|\bprogram\b|\bscheme\b|\bmandate\b|standing order", re.I)
_PRECLEARANCE = re.compile(r"pre-?clear|pre-?approv|approved by compliance", re.I)
_TICKER = re.compile(r"\b[A-Z][A-Z0-9]{1,5}\b")
_NOT_TICKERS = {"MNPI", "PA", "HIGH", "LOW", "MEDIUM", "UK", "US", "EU", "ETF", "IPO", "CEO", "CFO", "COO", "NED",
                "PDMR", "MAR", "SEC", "FCA", "OTC", "ESPP", "SAYE", "DRIP", "RSU", "RSUS", "PSU", "ESOP", "LTIP", "ISA",
                "SIPP", "GBP", "USD", "EUR"}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATES = re.compile(rf"\b(\d{{4}})-(\d{{2}})-(\d{{2}})\b"                                # 2021-06-30
                    rf"|\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\s*,?\s+(\d{{4}})\b"     # 30 June 2021
                    rf"|\b({_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s+(\d{{4}})\b",    # June 30, 2021
                    re.I)
_AMENDED = re.compile(r"amend|modif|revis|replac|restat|chang", re.I)
_OFFICER_ROLES = re.compile(r"\bchief\b|\bofficer\b|\bdirector\b|\bpresident\b|\bexecutive\b|\bboard\b|\bchair|"
                            r"\bc[efot]o\b", re.I)
_INDEX_ROLES = re.compile(r"\bindex|\bpassive\b|\betfs?\b|\btrackers?\b", re.I)
_AGENCY_ROLES = re.compile(r"\bagency\b|\bexecution trader\b|\balgorithmic trading\b|\bclient execution\b", re.I)
# Market makers and their exchange-specific names: a Xetra Designated Sponsor, a liquidity provider, an NYSE DMM.
_MARKET_MAKER_ROLES = re.compile(r"\bmarket[- ]?mak|\bdesignated sponsor|\bliquidity provi|\b(?:designated|lead|"
                                 r"supplemental) market maker|\bdmm\b|\bprimary dealer", re.I)


def role_of(role: str | None, department: str | None) -> str:
    """The role and department as the role phrases are matched against them (normalised)."""
    return normalise(f"{role or ''} {department or ''}")


def _tickers(clause: str) -> set[str]:
    return {t for t in _TICKER.findall(clause) if t not in _NOT_TICKERS and not t.isdigit()}


def dates_in(text: str) -> list[date]:
    """The calendar dates written in ``text``: 2021-06-30, 30 June 2021, June 30, 2021 (month names or their
    first three letters). Numeric day/month forms (30/06/2021) are ambiguous and not read."""
    found = []
    for m in _DATES.finditer(text):
        y, mo, d = (m.group(1), m.group(2), m.group(3)) if m.group(1) else \
            (m.group(6), m.group(5), m.group(4)) if m.group(4) else (m.group(9), m.group(7), m.group(8))
        month = int(mo) if mo.isdigit() else _MONTHS.index(mo[:3].casefold()) + 1
        try:
            found.append(date(int(y), month, int(d)))
        except ValueError:
            continue
    return found


def read_restrictions(text: str, symbol: str | None, known: set[str] | None = None) -> dict:
    """Sort the restrictions text's clauses into ban, restriction on the symbol, plan and pre-clearance.

    ``known`` is the set of instruments the data knows among the clause's capitalised words: a plan
    covers the traded symbol unless it names another instrument the data knows ("RSU" is not one).
    Without ``known`` every capitalised word is taken for an instrument. The text is matched normalised
    (``agents.text.normalise``: a non-breaking hyphen is a hyphen). A clause the rules cannot apply — one
    they do not recognise, a restriction that names no instrument, a plan covering the symbol with no
    adoption date — is listed in ``unread`` with the reason: a gap for a human, never dropped.
    """
    facts = {"no_trading_allowed": False, "symbol_restricted": False, "restriction": None, "plan": None,
             "preclearance": None, "unread": []}
    for clause in (c.strip() for c in re.split(r"[;\n]", normalise(text).replace(" ; ", ";"))):
        if not clause:
            continue
        named, lowered = _tickers(clause), clause.casefold()
        if _PLAN.search(clause):
            others = (named - {symbol}) if known is None else (named - {symbol}) & known
            if facts["plan"] is None and (symbol in named or not others):
                dates = dates_in(clause)
                # A modified plan is a new plan from its modification (Rule 10b5-1(c)(1)(iv)): the latest date counts.
                adopted = (max(dates) if _AMENDED.search(clause) else dates[0]) if dates else None
                side = ("SELL" if re.search(r"\bsell|\bsold\b|\bsale|dispos", lowered)
                        else "BUY" if re.search(r"\bbuy|\bbought\b|purchas|acqui|reinvest", lowered) else None)
                facts["plan"] = {"text": clause, "adopted": adopted.isoformat() if adopted else None, "side": side,
                                 "names_symbol": symbol in named}
                if adopted is None:
                    facts["unread"].append((clause, "a plan with no adoption date the rules can read, so whether the "
                                                    "trade follows it cannot be checked"))
        elif _RESTRICTION.search(clause) or any(p in lowered for p in _NO_TRADING):
            if symbol and symbol in named:
                facts["symbol_restricted"], facts["restriction"] = True, clause
            elif not named and any(p in lowered for p in _NO_TRADING):
                facts["no_trading_allowed"], facts["restriction"] = True, clause
            elif not named:
                facts["unread"].append((clause, f"a restriction that names no instrument: whether it covers "
                                                f"{symbol or 'the instrument'} is not in the data"))
        elif _PRECLEARANCE.search(clause):
            facts["preclearance"] = clause
        else:
            facts["unread"].append((clause, "mentions a plan or mandate the rules do not recognise"
                                    if _PLAN_WORD.search(clause) else "not a phrase the rules recognise"))
    return facts


def known_instruments(ds: Dataset, tokens: set[str]) -> set[str]:
    """Those of ``tokens`` that the data knows as instruments (instruments, prices, trading histories)."""
    known = set()
    for token in sorted(tokens):
        for table in ("instruments", "market_data", "trader_history", "peer_trades"):
            try:
                if ds.query(table, "SELECT 1 FROM rows WHERE symbol = ? LIMIT 1", (token,)):
                    known.add(token)
                    break
            except DataError:  # an optional or missing file knows no instrument
                continue
    return known


def agency_desk(ds: Dataset, trader_id: str) -> bool:
    """Whether the trader executes for clients (role or department names agency execution)."""
    try:
        rows = ds.query("trader_profiles", "SELECT role, department FROM rows WHERE trader_id = ? ORDER BY line",
                        (trader_id,))
    except DataError:
        return False
    return bool(rows) and bool(_AGENCY_ROLES.search(role_of(rows[-1]["role"], rows[-1]["department"])))


@records_inputs
def profile(ds: Dataset, trader_id: str, symbol: str | None, reporter: StepReporter) -> Evidence:
    """Role, department, access to inside information, restrictions, plans and pre-clearance."""
    source = TABLES["trader_profiles"].path
    reporter.progress(f"Looking up profile of {trader_id}", total=2)
    rows = ds.query("trader_profiles", "SELECT * FROM rows WHERE trader_id = ? ORDER BY line", (trader_id,))
    if not rows:
        return Evidence(tool="trader_profile", title="Trader profile", ok=False,
                        summary=f"No profile for trader {trader_id} in {source}.",
                        error=f"trader {trader_id} not in {source}",
                        citations={"searched": Citation(source=source, note=f"trader_id = {trader_id}: none found")})
    row = rows[-1]
    restrictions = (row["restrictions"] or "").strip()
    known = known_instruments(ds, _tickers(normalise(restrictions)))
    role = role_of(row["role"], row["department"])
    inside_access = normalise(row["access_level"]).upper() in ("HIGH", "MNPI", "INSIDER") or bool(
        _INSIDE_ROLES.search(role))
    reporter.progress("Checked role, access level, restrictions and plans", step=2)
    facts = {
        "trader_id": trader_id, "name": row["name"], "role": row["role"], "department": row["department"],
        "access_level": row["access_level"], "restrictions": restrictions or None,
        "inside_information_access": inside_access,
        "officer": bool(_OFFICER_ROLES.search(role)),
        "index_tracking": bool(_INDEX_ROLES.search(role)),
        "agency_execution": bool(_AGENCY_ROLES.search(role)),
        "market_maker": bool(_MARKET_MAKER_ROLES.search(role)),
        **read_restrictions(restrictions, symbol, known),
    }
    parts = [f"{row['name']} — {row['role']}, {row['department']}; access {row['access_level']}"]
    if restrictions:
        parts.append(f"restrictions: {restrictions}")
    if facts["plan"]:
        parts.append("a pre-scheduled trading plan is on record" + (f" (adopted {facts['plan']['adopted']})"
                                                                     if facts["plan"]["adopted"] else ""))
    gaps = {"profile": "the rules could not read " + "; ".join(f"“{clause}” ({why})" for clause, why in facts["unread"])
            + " — a human must read it before deciding"} if facts["unread"] else {}
    return Evidence(tool="trader_profile", title="Trader profile", summary="; ".join(parts) + ".",
                    facts=facts, gaps=gaps,
                    citations={"profile": Citation(source=source, lines=(row["line"],),
                                                   note=f"profile of {trader_id}")})


@records_inputs
def history(ds: Dataset, trader_id: str, symbol: str, trade_date: date, side: str, quantity: float,
            reporter: StepReporter, run_up_start: date | None = None, price: float | None = None) -> Evidence:
    """Baseline of the trader's own trading in the year before the flagged trade, and their position.

    With ``run_up_start`` (the start of the event's run-up), the trader's trades in the symbol from
    then on are the position under review, not part of the baseline: the flagged size is the
    flagged trade plus the same-side trades in the run-up — unless the trader already traded the
    symbol regularly before the run-up (``REGULAR_TRADES``), when those trades are their habit.
    The trader's trades in other instruments on the trade date are read too (agents.tools.book).
    """
    source = TABLES["trader_history"].path
    since = (trade_date - timedelta(days=BASELINE_DAYS)).isoformat()
    before = trade_date.isoformat()
    run_up = run_up_start.isoformat() if run_up_start and run_up_start < trade_date else before
    reporter.progress(f"Computing {trader_id}'s baseline since {since}", total=3)
    # Every earlier trade in the symbol, not only the baseline year: a position may be older.
    symbol_rows = ds.query(
        "trader_history",
        "SELECT line, date, side, qty, price FROM rows WHERE trader_id = ? AND date < ? AND symbol = ? "
        "ORDER BY date, line", (trader_id, before, symbol))
    if sum(since <= r["date"] < run_up for r in symbol_rows) >= REGULAR_TRADES:
        run_up = before  # a name the trader trades regularly: the run-up's trades are the habit, not tranches
    run_up_rows = [r for r in symbol_rows if r["date"] >= run_up]
    lots = [r for r in run_up_rows if r["side"].upper() == side]
    excluded = {r["line"] for r in run_up_rows}
    rows = [r for r in ds.query("trader_history",
                                "SELECT line, date, symbol, qty, sector FROM rows WHERE trader_id = ? AND date >= ? "
                                "AND date < ? ORDER BY date DESC, line", (trader_id, since, before))
            if r["line"] not in excluded]
    n = len(rows)
    sector = symbol_sector(ds, symbol)
    if n == 0 and not run_up_rows:
        return Evidence(tool="trader_history", title="Trading history baseline", ok=False,
                        summary=f"No trades by {trader_id} in {source} in the {BASELINE_DAYS} days before "
                                f"{before}: no baseline to compare the flagged trade against.",
                        facts={"trades": 0, "symbol_sector": sector},
                        error=f"no trading history for {trader_id}",
                        citations={"searched": Citation(source=source, note=f"trader_id = {trader_id}, date {since} "
                                                                            f"to {before}: none found")})
    reporter.progress(f"{plural(n, 'trade')} in the baseline window", step=2)
    position_built = quantity + sum(r["qty"] for r in lots)
    avg = sum(r["qty"] for r in rows) / n if n else None
    std = math.sqrt(sum((r["qty"] - avg) ** 2 for r in rows) / n) if n else None
    thin = n < MIN_BASELINE_TRADES
    zscore = (position_built - avg) / std if n >= MIN_ZSCORE_TRADES and std else None
    ratio = position_built / avg if avg and not thin else None
    in_symbol = [r for r in symbol_rows if since <= r["date"] < run_up]
    sector_names = [s for s, _ in Counter(r["sector"] for r in rows).most_common()]
    reporter.progress("Compared the flagged trade with the baseline and the position", step=3)
    position = _net(symbol_rows)
    # Only a long position can be read from the history: a net short may be holdings bought before it starts.
    exit_share = min(quantity, position) / position if side == "SELL" and position > 0 else None
    # A first trade opens a position: the sale of shares held (bought on any date, the run-up included) is not one,
    # and neither is a purchase adding to a holding older than the baseline year (held before the run-up began).
    held = position if side == "SELL" else _net([r for r in symbol_rows if r["date"] < run_up])
    novel = not in_symbol and not thin and held <= 0
    same_size = [r for r in symbol_rows if r["side"].upper() == side
                 and abs(r["qty"] - quantity) <= SAME_SIZE * quantity]
    trips = round_trips(in_symbol)
    facts = {
        "trades": n, "avg_qty": round(avg, 1) if avg else None, "max_qty": max((r["qty"] for r in rows), default=None),
        "std_qty": round(std, 1) if std is not None else None, "thin_baseline": thin,
        "flagged_qty": quantity, "position_built": position_built,
        "run_up_trades": [{"date": r["date"], "side": r["side"], "qty": r["qty"], "price": r["price"],
                           "line": r["line"]} for r in run_up_rows],
        "size_ratio": round(ratio, 2) if ratio else None,
        "zscore": round(zscore, 2) if zscore is not None else None,
        "symbol_trades": len(in_symbol), "first_time_symbol": novel, "held_position": held,
        "sectors": sector_names, "symbol_sector": sector,
        "first_time_sector": novel and bool(sector) and sector not in sector_names,
        "window_start": since, "baseline_end": run_up,
        "position_before": position, "exit_share": round(exit_share, 3) if exit_share is not None else None,
        "same_size_trades": [{"date": r["date"], "qty": r["qty"], "line": r["line"]} for r in same_size],
        "round_trips": trips,
    }
    day_facts, day_citations = book.same_day(ds, trader_id, symbol, trade_date, side, quantity, price)
    facts.update(day_facts)
    size = f"{position_built:,.0f}" + (f" (the flagged {quantity:,.0f} and {plural(len(lots), 'earlier tranche')} "
                                       "in the run-up)" if lots else "")
    if avg:
        size += f" vs average {avg:,.0f} (max {facts['max_qty']:,.0f}" + (f", z = {zscore:.1f})" if zscore is not None
                                                                        else ")")
    novelty = (f"first trade in {symbol}" if not in_symbol and held <= 0
               else f"{plural(len(in_symbol), 'earlier trade')} in {symbol}"
               + (f", a holding of {held:,.0f} shares" if held > 0 else ""))
    summary = f"{plural(n, 'trade')} in the baseline year (to {run_up}); flagged size {size}; {novelty}"
    if facts["first_time_sector"]:
        summary += f"; first trade in sector {sector}"
    if exit_share is not None:
        summary += f"; sells {exit_share:.0%} of the {position:,.0f} shares the history shows held"
    if day_facts["same_day_trades"]:
        exits = [e["symbol"] for e in day_facts["book_exits"]]
        summary += (f"; the same day, {plural(day_facts['same_day_trades'], 'trade')} in "
                    f"{plural(len(day_facts['same_day_symbols']), 'other instrument')}"
                    + (f", sold out of {len(exits)} ({', '.join(exits[:6])}{' …' if len(exits) > 6 else ''})"
                       if exits else ""))
    if trips:
        summary += (f"; {plural(len(trips), 'short round trip')} in {symbol} closed at a gain of "
                    f"{ROUND_TRIP_GAIN_PCT:.0f}% or more")
    citations = {**day_citations, "baseline": Citation(source=source, lines=tuple(sorted(r["line"] for r in rows[:50])),
                                      note=f"{plural(n, 'trade')} by {trader_id} from {since} to {run_up}"
                                      + ("" if run_up == before else ", before the run-up of the event")
                                      + (": none" if not rows else ""))}
    gaps = {}
    if thin:
        gaps["baseline"] = (f"only {plural(n, 'trade')} by {trader_id} in the baseline year: an average needs "
                            f"{MIN_BASELINE_TRADES} (a z-score {MIN_ZSCORE_TRADES}), so size and novelty are not "
                            "judged")
    elif zscore is None and n < MIN_ZSCORE_TRADES:
        gaps["baseline"] = (f"{plural(n, 'trade')} in the baseline year: too few for a standard deviation "
                            f"(needs {MIN_ZSCORE_TRADES}), so size is judged on the ratio to the average only")
    if in_symbol:
        citations["symbol"] = Citation(source=source, lines=tuple(r["line"] for r in in_symbol),
                                       note=f"earlier trades in {symbol}")
    if symbol_rows:
        citations["position"] = Citation(source=source, lines=tuple(r["line"] for r in symbol_rows),
                                         note=f"every earlier {symbol} trade: net position {position:+,.0f}")
    if run_up_rows:
        citations["run_up"] = Citation(source=source, lines=tuple(r["line"] for r in run_up_rows),
                                       note=f"{symbol} trades in the event's run-up, from {run_up}: the position "
                                            "under review, not the baseline")
    if same_size:
        citations["same_size"] = Citation(source=source, lines=tuple(r["line"] for r in same_size),
                                          note=f"earlier {side} trades in {symbol} within 10% of {quantity:,.0f}")
    if trips:
        citations["round_trips"] = Citation(source=source, lines=tuple(x for t in trips for x in t["lines"]),
                                            note=f"short round trips in {symbol} closed at a gain")
    return Evidence(tool="trader_history", title="Trading history baseline", summary=summary + ".",
                    facts=facts, citations=citations, gaps=gaps)


def _net(rows: list) -> float:
    """The net quantity bought (Σ BUY − Σ SELL) over ``rows``."""
    return sum(r["qty"] if r["side"].upper() == "BUY" else -r["qty"] for r in rows)


def run_up_lots(ds: Dataset, trader_id: str, symbol: str, side: str, start: date | None,
                trade_date: date) -> list[dict]:
    """The trader's same-side trades in the symbol from ``start`` (the event's run-up) to the trade: earlier tranches
    of the flagged position — none when the trader traded the symbol regularly before the run-up (see history)."""
    if start is None or start >= trade_date:
        return []
    since = (trade_date - timedelta(days=BASELINE_DAYS)).isoformat()
    rows = ds.query("trader_history",
                    "SELECT line, date, side, qty, price FROM rows WHERE trader_id = ? AND date >= ? AND date < ? "
                    "AND symbol = ? ORDER BY date, line", (trader_id, since, trade_date.isoformat(), symbol))
    if sum(r["date"] < start.isoformat() for r in rows) >= REGULAR_TRADES:
        return []
    return [{"date": r["date"], "qty": r["qty"], "price": r["price"], "line": r["line"]} for r in rows
            if r["date"] >= start.isoformat() and r["side"].upper() == side]


def round_trips(rows: list) -> list[dict]:
    """Earlier trades reversed within ``ROUND_TRIP_DAYS`` by an opposite trade of about the same size, at a gain of
    ``ROUND_TRIP_GAIN_PCT`` or more: well-timed in-and-out trading, not a usual pattern that explains a trade."""
    trips, used = [], set()
    for i, first in enumerate(rows):
        if first["line"] in used:
            continue
        for second in rows[i + 1:]:
            days = (date.fromisoformat(second["date"]) - date.fromisoformat(first["date"])).days
            if days > ROUND_TRIP_DAYS:
                break
            if second["line"] in used or second["side"].upper() == first["side"].upper() \
                    or abs(second["qty"] - first["qty"]) > SAME_SIZE * first["qty"]:
                continue
            gain = (second["price"] - first["price"]) / first["price"] * 100
            gain = gain if first["side"].upper() == "BUY" else -gain
            if gain >= ROUND_TRIP_GAIN_PCT:
                trips.append({"open": first["date"], "close": second["date"], "gain_pct": round(gain, 1),
                              "lines": (first["line"], second["line"])})
                used |= {first["line"], second["line"]}
            break
    return trips


def symbol_sector(ds: Dataset, symbol: str) -> str | None:
    """The sector a symbol belongs to, as recorded in the trading history of any trader."""
    rows = ds.query("trader_history",
                    "SELECT sector, COUNT(*) AS n FROM rows WHERE symbol = ? GROUP BY sector ORDER BY n DESC "
                    "LIMIT 1", (symbol,))
    return rows[0]["sector"] if rows else None
