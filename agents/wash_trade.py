"""Wash-trade specialist: trades with no change in beneficial ownership (MAR Art. 12(1)(a),
Annex I A(a)-(c); FINRA 6140(b); SEC 9(a)(1)).

Steps: who owns the accounts on each side; do the flagged trades offset each other and how
closely in time; have these accounts done it before; how much of the day's volume it made.
Market-making and hedge books of one firm are recognised exemptions.
"""

from __future__ import annotations

import re

from agents.alerts import WashTradeAlert, moment_label
from agents.evidence import Citation, Evidence
from agents.investigation import ALERT, EscalationGate, Guard, Rule, Specialist, ToolSpec, build_graph
from agents.tools import accounts, market

NAME = "wash_trade"
REPEAT_PAIRS = 3   # offsetting pairs between the accounts in the month (the same day counts) that make a pattern
MATCHED = "matched legs"  # WT-R3, WT-R4, WT-R5 describe one fact: the legs were matched to each other
VOLUME_SHARE_PCT = 5.0
HIGH_ANOMALY = 90


def _flagged_volume(alert: WashTradeAlert) -> int:
    """The flagged volume: the larger side's quantity (each share traded is bought once and sold once)."""
    return max(sum(t.quantity for t in alert.trades if t.side == side) for side in ("BUY", "SELL"))


def indicators(alert: WashTradeAlert) -> Evidence:
    """The alert's own figures: anomaly score, and the day's volume as the surveillance system saw it."""
    ind, meta = alert.indicators, alert.metadata
    stated = re.fullmatch(r"\s*([0-9.]+)\s*%?\s*", ind.volume_impact or "")
    share = (float(stated.group(1)) if stated else
             _flagged_volume(alert) / ind.daily_volume * 100 if ind.daily_volume else None)
    facts = {"anomaly_score": meta.anomaly_score, "daily_volume": ind.daily_volume,
             "volume_share_pct": round(share, 2) if share is not None else None,
             "flagged_volume": _flagged_volume(alert)}
    citations = {}
    if meta.anomaly_score is not None:
        citations["anomaly_score"] = Citation(source="alert", elements=("AlertMetadata/AnomalyScore",),
                                              note="the surveillance system's anomaly score")
    elements = tuple(e for e, v in (("WashTradeIndicators/DailyVolume", ind.daily_volume),
                                    ("WashTradeIndicators/VolumeImpact", ind.volume_impact)) if v is not None)
    if elements:
        citations["volume"] = Citation(source="alert", elements=elements,
                                       note="the day's volume and flagged share as the surveillance system saw them")
    summary = f"Anomaly score {meta.anomaly_score if meta.anomaly_score is not None else 'not given'}"
    if share is not None:
        summary += f"; flagged trades {share:.1f}% of the day's volume by the alert's figures"
    return Evidence(tool=ALERT, title="Surveillance indicators", summary=summary + ".", facts=facts,
                    citations=citations)


TOOLS = (
    ToolSpec("account_relationships", "Beneficial owners and linked accounts",
             lambda ds, a, r: accounts.relationships(ds, a.accounts, r), ("account_relationships",)),
    ToolSpec("trade_pattern", "Offsetting trades and timing",
             lambda ds, a, r: accounts.trade_pattern(a, r)),
    ToolSpec("related_accounts_history", "Repetition across the past month",
             lambda ds, a, r: accounts.related_history(ds, a.accounts, a.symbol, a.trades[0].trade_date, r),
             ("related_accounts_history",)),
    ToolSpec("volume_impact", "Share of the day's volume",
             lambda ds, a, r: market.volume_share(ds, a.symbol, a.trades[0].trade_date, _flagged_volume(a), r),
             ("market_data",)),
)


def _seconds(f: dict) -> float | None:
    return f.get("min_seconds_apart")


def _fund_cross(f: dict, a: WashTradeAlert) -> str | None:
    """Separately owned funds crossing at the day's market price (SEC Rule 17a-7; UCITS cross-trade policies)."""
    if not f.get("all_funds") or f.get("same_beneficial_owner") or f.get("linked_pairs") or f.get("missing_accounts"):
        return None
    day = f.other("volume_impact")
    if not day or not all(day["low"] <= t.price <= day["high"] for t in a.trades):
        return None
    return ("Funds with different beneficial owners ("
            + "; ".join(f"{acc}: {owner}" for acc, owner in f["owners"].items())
            + (f"; linked only by their manager: {', '.join(f['management_links'])}" if f.get("management_links")
               else "")
            + f") crossed within the day's range of {day['low']:,.2f}–{day['high']:,.2f}: beneficial ownership "
            "changed, at the market price.")


def _one_way_allowed(f) -> bool:
    """Whether one-way pairs can be a pattern: unless the record shows separately owned, unlinked accounts, a pair
    in either direction leaves the beneficial ownership where it was (one owner, or owners acting together)."""
    rel = f.other("account_relationships")
    return rel is None or bool(rel.get("same_beneficial_owner") or rel.get("linked_pairs"))


def _pattern(f) -> bool:
    """WT-R6's pattern, from the history tool's facts (``f`` is any rule's Facts): at least REPEAT_PAIRS offsetting
    pairs, going both ways between separately owned accounts (one-way pairs change ownership each time)."""
    hist = f.other("related_accounts_history") or {}
    return hist.get("offsetting_pairs", 0) >= REPEAT_PAIRS and (hist.get("two_way") or _one_way_allowed(f))


def _repeated(f) -> bool:
    """Whether the accounts matched repeatedly in the month (WT-R6's pattern), read from the history tool."""
    return _pattern(f)


def _pairs(f: dict, a: WashTradeAlert) -> str | None:
    if not _pattern(f):
        return None
    text = f"{f['offsetting_pairs']} offsetting pairs between these accounts since {f['window_start']}, on " \
           f"{', '.join(f['dates'])}"
    if not f.get("two_way"):
        text += (f", all one way ({', '.join(f.get('flows', []))}) — between one owner's accounts (or linked ones) a "
                 "transfer in either direction leaves the beneficial ownership where it was")
    rel = f.other("account_relationships") or {}
    if rel.get("exempt_book"):
        text += "; the accounts are exempt books, but a pattern is not what the exemption covers"
    return text + "."


def _exempt(f: dict, a: WashTradeAlert) -> str | None:
    """A firm's market-making and hedge books: an isolated self-match is bona fide (FINRA 5210 .02). A pattern never
    is what the exemption covers: one-way transfers between the books (risk moved from one to the other) still weigh
    but the guard WT-G2 keeps them from a close; flow going both ways — positions back where they began, volume
    without purpose — is not mitigated at all."""
    if not f.get("exempt_book"):
        return None
    books = "Accounts are " + ", ".join(f"{acc} {t}" for acc, t in f["relationship_types"].items()) + " of one firm"
    if not _pattern(f):
        return books + "."
    if (f.other("related_accounts_history") or {}).get("two_way"):
        return None
    return (books + "; their pairs go one way, a transfer between the books: it weighs, but a pattern is never closed "
            "on the exemption (WT-G2).")


def _no_pattern(f: dict, a: WashTradeAlert) -> str | None:
    if _pattern(f):
        return None
    if f.get("offsetting_pairs", 0) <= 1:
        return f"No other offsetting pairs between these accounts since {f['window_start']}."
    if not f.get("two_way") and not _one_way_allowed(f):  # one-way pairs are allocations only between strangers
        flows = ", ".join(f.get("flows", []))
        return (f"{f['offsetting_pairs']} pairs since {f['window_start']}, all one way ({flows}): "
                "between separately owned, unlinked accounts each moved the shares to the buyer — changes of "
                "ownership (allocations), not trades that go back and forth.")
    return None


def _unrelated(f: dict, a: WashTradeAlert) -> str | None:
    """Different recorded owners and no link: weak evidence of independence (the absence of a recorded link is not
    proof of none), so it stands only while the accounts' trading does not contradict it — no repeated pairs."""
    if not f.get("owners") or f.get("same_beneficial_owner") or f.get("linked_pairs") or f.get("management_links") \
            or f.get("missing_accounts"):
        return None
    if _repeated(f):
        return None
    return "; ".join(f"{acc}: {owner}" for acc, owner in f["owners"].items()) + \
        "; no repeated pairs between them contradict the record."


RULES = (
    Rule("WT-R1", "red_flag", 35, "account_relationships", "Same beneficial owner on both sides",
         lambda f, a: ("; ".join(f"{acc}: {owner}" for acc, owner in f["owners"].items()) + "."
                       if f.get("same_beneficial_owner") else None),
         cite=("owners",)),
    Rule("WT-R2", "red_flag", 25, "account_relationships", "Accounts are linked",
         lambda f, a: (f"Linked accounts: {', '.join(f['linked_pairs'])}."
                       if f.get("linked_pairs") and not f.get("same_beneficial_owner") else None),
         cite=("owners",)),
    Rule("WT-R3", "red_flag", 15, "trade_pattern", "Offsetting trades at the same quantity and price",
         lambda f, a: (f"Buy and sell legs match in quantity and price ({f['flagged_quantity']:,} shares flagged)."
                       if f.get("offsetting") and f.get("same_price") else None), cite=("trades",), group=MATCHED),
    Rule("WT-R4", "red_flag", 15, "trade_pattern", "Legs executed within a second",
         lambda f, a: (f"The legs were {_seconds(f) * 1000:,.0f} ms apart, consistent with pre-arrangement."
                       if _seconds(f) is not None and _seconds(f) < 1 else None), cite=("trades",), group=MATCHED),
    Rule("WT-R5", "red_flag", 8, "trade_pattern", "Legs executed within a minute",
         lambda f, a: (f"The legs were {_seconds(f):.1f} s apart."
                       if _seconds(f) is not None and 1 <= _seconds(f) <= 60 else None), cite=("trades",),
         group=MATCHED),
    Rule("WT-R6", "red_flag", 15, "related_accounts_history", "Repeated between the same accounts", _pairs,
         cite=("pairs",)),
    Rule("WT-R7", "red_flag", 10, "volume_impact", "Material share of the day's volume",
         lambda f, a: (f"{f['volume_share_pct']:.1f}% of the {f['daily_volume']:,.0f} shares traded that day."
                       if (f.get("volume_share_pct") or 0) >= VOLUME_SHARE_PCT else None), cite=("day",)),
    Rule("WT-R8", "red_flag", 5, "related_accounts_history", "Positions went round trip",
         lambda f, a: ("Each account both bought and sold, the larger direction at most "
                       f"{accounts.ROUND_TRIP_RATIO:.0f}× the smaller, over {f['offsetting_pairs']} offsetting pairs "
                       "(net change of what it traded: "
                       + ", ".join(f"{acc} {net:+,.0f} of {f['traded_by_account'][acc]:,.0f}"
                                   for acc, net in f["net_by_account"].items()) + ")."
                       if f.get("round_trip") else None), cite=("pairs", "window")),
    Rule("WT-M1", "mitigating", -40, "account_relationships", "Exempt market-making or hedge books", _exempt,
         cite=("owners",)),
    Rule("WT-M2", "mitigating", -20, "account_relationships", "Unrelated owners, no links on record", _unrelated,
         cite=("owners", "related_accounts_history:window")),
    Rule("WT-M3", "mitigating", -10, "trade_pattern", "Legs far apart in time",
         lambda f, a: (f"The legs were {_seconds(f) / 60:.0f} minutes apart."
                       if _seconds(f) is not None and _seconds(f) > 300 else None), cite=("trades",)),
    Rule("WT-M4", "mitigating", -10, "related_accounts_history", "No earlier pattern", _no_pattern,
         cite=("window", "pairs")),
    Rule("WT-R9", "red_flag", 10, ALERT, "Material share of the day's volume (the alert's figures)",
         lambda f, a: (f"By the alert's own figures the flagged trades were {f['volume_share_pct']:.1f}% of the "
                       f"day's volume; the market data has no row for the day to check it."
                       if (f.get("volume_share_pct") or 0) >= VOLUME_SHARE_PCT and f.other("volume_impact") is None
                       else None), cite=("volume",)),
    Rule("WT-R10", "red_flag", 5, ALERT, "Highly anomalous for the surveillance system",
         lambda f, a: (f"Anomaly score {f['anomaly_score']:.0f} (≥ {HIGH_ANOMALY})."
                       if (f.get("anomaly_score") or 0) >= HIGH_ANOMALY else None), cite=("anomaly_score",)),
    Rule("WT-M5", "mitigating", -5, "trade_pattern", "Legs at different prices",
         lambda f, a: "The buy and sell legs were priced differently." if f.get("offsetting") and not
         f.get("same_price") else None, cite=("trades",)),
    Rule("WT-M6", "mitigating", -30, "account_relationships", "Cross between separately owned funds at the market "
         "price", _fund_cross, cite=("owners", "volume_impact:day")),
)

GUARDS = (
    # Exempt books of one firm explain a self-match (FINRA 5210 .02: bona fide self-trades of a firm) ...
    Guard("WT-G1", "same beneficial owner on both sides", requires=("WT-R1",), explained_by=("WT-M1",)),
    # ... when it is isolated: a pattern of self-trades is not what the exemption covers.
    Guard("WT-G2", "same beneficial owner on both sides, repeatedly", requires=("WT-R1", "WT-R6")),
)


def describe(alert: WashTradeAlert, evidence: dict[str, Evidence]) -> str:
    days = sorted({t.trade_date for t in alert.trades})
    legs = "; ".join(f"#{t.sequence} {t.account_id} {t.side} {t.quantity:,} {t.symbol} @ {t.price:,.2f}"
                     + (f" on {t.trade_date}" if len(days) > 1 else "")  # legs on several days: each says its own
                     + (f" at {t.trade_time.isoformat(timespec='milliseconds')}" if t.trade_time else "")
                     for t in alert.trades)
    when = f"On {days[0]}" if len(days) == 1 else f"From {days[0]} to {days[-1]}"
    return f"{when} the flagged accounts traded {alert.symbol}: {legs}."


def stor_fields(alert: WashTradeAlert, evidence: dict[str, Evidence]) -> dict:
    rel = evidence.get("account_relationships")
    owners = rel.facts.get("owners", {}) if rel and rel.ok else {}
    persons = [f"Account {acc}" + (f" ({t.account_name})" if t.account_name else "")
               + (f", beneficial owner {owners[acc]}" if acc in owners else "")
               for acc, t in {t.account_id: t for t in alert.trades}.items()]
    listing, ccy = alert.listing, f" {alert.listing.currency}" if alert.listing.currency else ""
    return {
        "instrument": alert.symbol, "isin": listing.isin, "venue": listing.venue, "currency": listing.currency,
        "accounts": alert.accounts,
        "suspected_persons": persons,
        "transactions": [f"{moment_label(t.trade_date, t.trade_time)} {t.account_id} {t.side} {t.quantity:,} "
                         f"{t.symbol} @ {t.price:,.2f}{ccy} order {t.order_id or 'n/a'} vs "
                         f"{t.counterparty_account or 'n/a'}" for t in alert.trades],
    }


SPECIALIST = Specialist(
    name=NAME, label="Wash trade", tools=TOOLS, rules=RULES,
    key_tools=frozenset({"account_relationships", "trade_pattern"}),
    describe=describe, stor_fields=stor_fields,
    suspicion="Market manipulation: wash trades giving false or misleading signals (MAR Art. 12(1)(a))",
    regulations=("EU MAR Art. 12(1)(a), Annex I A", "FINRA Rule 6140(b)", "Exchange Act §9(a)(1)"),
    guards=GUARDS, alert_indicators=indicators,
    escalation=EscalationGate(any_of=("WT-R6", "WT-R7", "WT-R9")),  # a pattern, or a material share of the day's volume
)
GRAPH = build_graph(SPECIALIST)
