"""Account tools for wash trades: who owns the accounts, how the flagged trades line up, and
whether the same accounts have traded against each other before.

A wash trade is a trade with no change of beneficial ownership (MAR Annex I A(a)-(c); FINRA
6140(b)). Two kinds of link between accounts are told apart by ``relationship_degree``: links
of ownership or household (spouse, nominee, common control …), and management links between
separately owned funds of one manager (``same_manager``, ``common_manager``, ``sibling_fund``),
whose crosses change beneficial ownership.

A nominee or omnibus registration (``relationship_type`` omnibus, or a nominee or custodian
company in the beneficial-owner column) names who holds the shares, not who owns them: two
such accounts of one custodian say nothing about one owner being on both sides. Their owners
are unknown — a gap in the data, like an account missing from the file, never shared
ownership.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from itertools import combinations

from agents.alerts import WashTradeAlert
from agents.data import TABLES, DataError, Dataset
from agents.evidence import Citation, Evidence
from agents.progress import StepReporter, records_inputs
from agents.text import normalise, noun, plural

HISTORY_DAYS = 30
PAIR_WINDOW_SECONDS = 300
# Types are compared normalised: case, spaces and hyphens folded to one form ("Market Making" is market_making).
# Books whose self-matching is routinely exempt (market making, one firm's hedging book), by their usual names.
EXEMPT_TYPES = {"market_maker", "market_making", "hedge_book", "hedging", "liquidity_provider", "liquidity_provision",
                "designated_sponsor", "designated_market_maker"}
# Collective investment accounts, by kind and by legal form: each fund's investors are its beneficial owners.
FUND_TYPES = {"fund", "investment_fund", "mutual_fund", "pension_fund", "pension_scheme", "ucits", "etf", "oeic",
              "sicav", "sicaf", "icav", "fcp", "unit_trust", "investment_trust", "aif", "collective_investment_scheme",
              "sub_fund"}
MANAGEMENT_DEGREES = {"same_manager", "common_manager", "sibling_fund"}
# Registrations that pool or hold for others: the beneficial owners behind them are not recorded.
OMNIBUS_TYPES = {"omnibus", "pooled", "custody", "custodian", "nominee_omnibus"}


def kind_of(value: str | None) -> str:
    """A recorded type or degree, normalised: "Market Making", "market-making" and "market_making" are one."""
    return re.sub(r"[\s\-]+", "_", normalise(value).casefold())
_REGISTERED_HOLDER = re.compile(r"\bnominees?\b|\bcustod(y|ian)\b|\bomnibus\b", re.I)
ROUND_TRIP_RATIO = 2.0  # back and forth: each account bought and sold, the larger direction at most twice the smaller


@records_inputs
def relationships(ds: Dataset, accounts: list[str], reporter: StepReporter) -> Evidence:
    """Beneficial owners of the accounts on both sides and the links between them."""
    source = TABLES["account_relationships"].path
    reporter.progress(f"Looking up owners of {plural(len(accounts), 'account')}", total=2)
    placeholders = ",".join("?" * len(accounts))
    rows = ds.query("account_relationships",
                    f"SELECT * FROM rows WHERE account_id IN ({placeholders}) ORDER BY line",  # noqa: S608
                    tuple(accounts))
    by_account = {r["account_id"]: r for r in rows}
    missing = [a for a in accounts if a not in by_account]
    registered = {a: r for a, r in by_account.items() if _registered(r)}
    owners = {a: by_account[a]["beneficial_owner_id"] for a in by_account if a not in registered}
    links, management_links = set(), set()
    for a, b in combinations(by_account, 2):
        linked_a = set(json.loads(by_account[a]["linked_accounts"]))
        linked_b = set(json.loads(by_account[b]["linked_accounts"]))
        if b in linked_a or a in linked_b:
            degrees = {kind_of(by_account[x]["relationship_degree"]) for x in (a, b)}
            (management_links if degrees <= MANAGEMENT_DEGREES else links).add((a, b))
    shared_owner = len(set(owners.values())) < len(owners)
    types = {a: (by_account[a]["relationship_type"] or "").strip() for a in by_account}
    exempt = bool(by_account) and all(kind_of(t) in EXEMPT_TYPES for t in types.values()) and shared_owner
    reporter.progress("Compared beneficial owners and linked accounts", step=2)
    facts = {
        "accounts": accounts, "missing_accounts": missing, "nominee_registered": sorted(registered),
        "owners": {a: f"{by_account[a]['beneficial_owner_name']} ({by_account[a]['beneficial_owner_id']})"
                   for a in by_account},
        "same_beneficial_owner": shared_owner, "linked_pairs": sorted(f"{a}↔{b}" for a, b in links),
        "management_links": sorted(f"{a}↔{b}" for a, b in management_links),
        "relationship_types": types, "exempt_book": exempt,
        "all_funds": bool(by_account) and all(kind_of(t) in FUND_TYPES for t in types.values()),
        "degrees": {a: by_account[a]["relationship_degree"] for a in by_account},
    }
    citations = {}
    if rows:
        citations["owners"] = Citation(source=source, lines=tuple(r["line"] for r in rows),
                                       note="beneficial ownership of the flagged accounts")
    if shared_owner:
        names = {by_account[a]["beneficial_owner_name"] for a in by_account}
        summary = f"Same beneficial owner on both sides: {', '.join(sorted(names))}"
    elif links:
        summary = f"Different owners but linked accounts: {', '.join(facts['linked_pairs'])}"
    elif management_links:
        summary = f"Different owners; the accounts share only a manager: {', '.join(facts['management_links'])}"
    else:
        summary = "Different beneficial owners and no links between the accounts"
    if exempt:
        summary += f" — all accounts are exempt books ({', '.join(sorted(set(types.values())))})"
    if missing:
        summary += f"; not in {source}: {', '.join(missing)}"
    if registered:
        held = "; ".join(f"{a} registered to {r['beneficial_owner_name']} ({r['relationship_type']})"
                         for a, r in sorted(registered.items()))
        summary += f"; beneficial owner not known: {held} — a nominee or omnibus registration, not an owner"
    problems = ([f"accounts not in {source}: {', '.join(missing)}"] if missing else []) + (
        [f"beneficial owner not recorded for {', '.join(sorted(registered))} (nominee or omnibus registration)"]
        if registered else [])
    if problems:
        citations["searched"] = Citation(source=source, lines=tuple(r["line"] for r in rows),
                                         note=f"account_id in {', '.join(accounts)}: " + "; ".join(
                                             ([f"none found for {', '.join(missing)}"] if missing else [])
                                             + ([f"{', '.join(sorted(registered))} registered to a nominee or "
                                                 "omnibus holder"] if registered else [])))
    return Evidence(tool="account_relationships", title="Account relationships", summary=summary + ".",
                    facts=facts, citations=citations, ok=not problems,
                    error="; ".join(problems) or None)


def owner_ids(ds: Dataset, account_ids: list[str]) -> dict[str, str]:
    """The recorded beneficial owner of each account the relationships file knows, nominee registrations left out."""
    try:
        rows = ds.query("account_relationships",
                        f"SELECT * FROM rows WHERE account_id IN ({','.join('?' * len(account_ids))})",  # noqa: S608
                        tuple(account_ids))
    except DataError:  # no relationships file: no owner is recorded
        return {}
    return {r["account_id"]: r["beneficial_owner_id"] for r in rows if not _registered(r)}


def _registered(row) -> bool:
    """A nominee or omnibus registration: the row names a holder, not a beneficial owner."""
    return (kind_of(row["relationship_type"]) in OMNIBUS_TYPES
            or bool(_REGISTERED_HOLDER.search(normalise(row["beneficial_owner_name"]))))


@records_inputs
def trade_pattern(alert: WashTradeAlert, reporter: StepReporter) -> Evidence:
    """Whether the flagged trades offset each other: sides, quantities, prices and timing."""
    reporter.progress(f"Pairing {plural(len(alert.trades), 'flagged trade')}", total=1)
    buys = [t for t in alert.trades if t.side == "BUY"]
    sells = [t for t in alert.trades if t.side == "SELL"]
    pairs = []
    for b in buys:
        for s in sells:
            if b.symbol != s.symbol or b.trade_date != s.trade_date:
                continue
            delta = None
            if b.trade_time and s.trade_time:
                delta = abs((_at(b.trade_date, b.trade_time) - _at(s.trade_date, s.trade_time)).total_seconds())
            pairs.append({"buy": b.sequence, "sell": s.sequence, "same_quantity": b.quantity == s.quantity,
                          "same_price": abs(b.price - s.price) < 1e-9, "seconds_apart": delta,
                          "cross_referenced": b.counterparty_account == s.account_id
                          or s.counterparty_account == b.account_id})
    reporter.progress(f"{plural(len(pairs), 'buy/sell pair')}", step=1)
    best = min(pairs, key=lambda p: (not p["same_quantity"], p["seconds_apart"] if p["seconds_apart"]
                                     is not None else 1e12)) if pairs else None
    facts = {"pairs": pairs, "offsetting": bool(best and best["same_quantity"]),
             "same_price": bool(best and best["same_price"]),
             "min_seconds_apart": best["seconds_apart"] if best else None,
             # each share is bought once and sold once: the flagged volume is the larger side's
             "flagged_quantity": max(sum(t.quantity for t in side) for side in (buys, sells))}
    elements = tuple(f"FlaggedTrades/Trade[@sequence={t.sequence}]" for t in alert.trades)
    if best:
        timing = (f"{best['seconds_apart'] * 1000:,.0f} ms apart" if best["seconds_apart"] is not None
                  else "times not given")
        summary = (f"Buy #{best['buy']} and sell #{best['sell']}: "
                   f"{'same' if best['same_quantity'] else 'different'} quantity, "
                   f"{'same' if best['same_price'] else 'different'} price, {timing}")
    else:
        summary = "No offsetting buy/sell pair among the flagged trades"
    return Evidence(tool="trade_pattern", title="Flagged trade pattern", summary=summary + ".", facts=facts,
                    citations={"trades": Citation(source="alert", elements=elements, note="flagged trades")})


@records_inputs
def related_history(ds: Dataset, accounts: list[str], symbol: str, trade_date: date,
                    reporter: StepReporter) -> Evidence:
    """Offsetting pairs between the same accounts over the prior month: is this a habit?"""
    source = TABLES["related_accounts_history"].path
    since = trade_date - timedelta(days=HISTORY_DAYS)
    reporter.progress(f"Reading the trades of {plural(len(accounts), 'account')} since {since}", total=2)
    placeholders = ",".join("?" * len(accounts))
    rows = ds.query(
        "related_accounts_history",
        f"SELECT * FROM rows WHERE account_id IN ({placeholders}) AND trade_date >= ? AND trade_date <= ? "  # noqa: S608
        "ORDER BY trade_date, trade_time",
        (*accounts, since.isoformat(), trade_date.isoformat()),
    )
    by_day = defaultdict(list)
    for r in rows:
        if r["symbol"] == symbol:
            by_day[r["trade_date"]].append(r)
    pairs = []
    for day, trades in by_day.items():
        used = set()
        for b in (t for t in trades if t["side"].upper() == "BUY"):
            for s in (t for t in trades if t["side"].upper() == "SELL"):
                if s["line"] in used or (b["account_id"] == s["account_id"] and len(accounts) > 1):
                    continue
                gap = abs((_clock(day, b["trade_time"]) - _clock(day, s["trade_time"])).total_seconds())
                if b["quantity"] == s["quantity"] and gap <= PAIR_WINDOW_SECONDS:
                    pairs.append({"date": day, "buy_line": b["line"], "sell_line": s["line"],
                                  "seconds_apart": gap, "quantity": b["quantity"],
                                  "buyer": b["account_id"], "seller": s["account_id"]})
                    used.add(s["line"])
                    break
    days = sorted({p["date"] for p in pairs})
    reporter.progress(f"{plural(len(pairs), 'offsetting pair')} on {plural(len(days), 'day')}", step=2)
    bought, sold = defaultdict(float), defaultdict(float)
    for r in rows:
        if r["symbol"] == symbol:
            (bought if r["side"].upper() == "BUY" else sold)[r["account_id"]] += r["quantity"]
    traded = sorted(set(bought) | set(sold))
    net = {a: bought[a] - sold[a] for a in traded}
    gross = {a: bought[a] + sold[a] for a in traded}
    # Round trip: every account both bought and sold, the larger direction at most ROUND_TRIP_RATIO × the smaller.
    flat = len(pairs) >= 2 and bool(traded) and all(
        min(bought[a], sold[a]) > 0 and max(bought[a], sold[a]) <= ROUND_TRIP_RATIO * min(bought[a], sold[a])
        for a in traded)
    # Two-way flow: every account in the pairs both bought from and sold to the others. One-way pairs move shares
    # from one account to the other each time (an average-price account passing fills to its client).
    buyers, sellers = {p["buyer"] for p in pairs}, {p["seller"] for p in pairs}
    two_way = bool(pairs) and buyers == sellers
    facts = {"trades": len(rows), "offsetting_pairs": len(pairs), "days_with_pairs": len(days),
             "two_way": two_way, "flows": sorted({f"{p['seller']}→{p['buyer']}" for p in pairs}),
             "dates": days, "median_seconds_apart": _median([p["seconds_apart"] for p in pairs]),
             "net_by_account": net, "traded_by_account": gross,
             "round_trip": flat, "window_start": since.isoformat()}
    citations = {"window": Citation(source=source, lines=tuple(r["line"] for r in rows[:50]),
                                    note=f"trades of {', '.join(accounts)} searched since {since}"
                                    + ("" if rows else ": none found"))}
    if pairs:
        citations["pairs"] = Citation(source=source, lines=tuple(sorted({x for p in pairs
                                                                        for x in (p["buy_line"], p["sell_line"])})),
                                      note=f"offsetting {symbol} pairs between the accounts")
    if pairs:
        summary = (f"{len(pairs)} offsetting {symbol} {noun(len(pairs), 'pair')} between these "
                   f"accounts on {plural(len(days), 'day')} since {since} (median "
                   f"{facts['median_seconds_apart']:.1f} s apart); net change by account "
                   + ", ".join(f"{a} {v:+,.0f}" for a, v in facts["net_by_account"].items()))
    else:
        summary = (f"No earlier offsetting {symbol} pairs between these accounts since {since} "
                   f"({plural(len(rows), 'trade')})")
    return Evidence(tool="related_accounts_history", title="Related-account history", summary=summary + ".",
                    facts=facts, citations=citations)


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock)


def _clock(day: str, clock: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock))


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
