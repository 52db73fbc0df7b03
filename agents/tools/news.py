"""News tool: what was public about the issuer before the trade, judged headline by headline.

A headline is public information that can explain a trade (MAR Art. 7(1)(a), Art. 17; ESMA
MAR guidelines on delayed disclosure; SEC v. Mayhew on rumours) only when it

* concerns the issuer: it names the symbol, or the issuer's name from the optional
  ``instruments.csv`` (sector and market chatter does not);
* is disclosure, not a scheduling notice ("to report results on …", "to present at …"),
  which says when, not what;
* is of the same nature as the event (M&A, results, financing, …), or its tone explains the
  direction of the trade (good news for a buy, bad news for a sell);
* was public before the trade: on an earlier day (the alert gives no time of trade, so news of
  the trade day itself cannot be placed before it), within ``LOOKBACK_DAYS`` — or
  ``INDEX_LOOKBACK_DAYS`` for index changes, which are announced one to five weeks ahead.

A report citing unnamed sources, or a rumour, is recorded apart: the market had the story, but
it was not confirmed. Every headline read is judged, and the reason is kept, so each finding
can name the headlines it rests on and those it set aside.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from agents.data import TABLES, DataError, Dataset
from agents.evidence import Citation, Evidence
from agents.progress import StepReporter, records_inputs
from agents.text import plural

LOOKBACK_DAYS = 14
INDEX_LOOKBACK_DAYS = 35
INDEX_CHANGE = "index change"

# The first nature whose pattern matches names a headline's (or an event's) nature.
NATURES = (
    (INDEX_CHANGE, r"\bindex\b|s&p\b|\bftse\b|russell \d|stoxx|\bmsci\b|midcap|smallcap|nasdaq-100"),
    ("M&A", r"m&a\b|acqui|merger|takeover|take-over|buyout|tender offer|\bbid\b|offer for|to buy\b|agreed deal|"
            r"sell itself|\bsale\b|strategic review|approach"),
    ("financing", r"placing|placement|share offering|equity raise|capital raise|rights issue|bookbuild|"
                  r"secondary offering|convertible|\bpipe\b|fundrais|equity issue|investment by|strategic investment"),
    ("regulatory or legal", r"\bfda\b|approv|reject|refus|complete response|clinical|\btrials?\b|endpoint|regulator|"
                            r"investigation|probe|lawsuit|\bfine[sd]?\b|sanction|breach|recall|licen[cs]e"),
    ("contract", r"contract|awarded|\bwins\b|order from"),
    ("customer", r"customer|client loss"),
    ("resources", r"resource estimate|reserves|drilling|production update"),
    ("dividend or buyback", r"dividend|buyback|repurchase"),
    ("management", r"chief executive|\bceo\b|\bcfo\b|resign|steps down|appoint"),
    ("results", r"result|earnings|profit|revenue|\bsales\b|guidance|trading update|warns|warning|outlook|forecast|"
                r"quarter|full-year|annual report"),
)
_SCHEDULING = re.compile(r"confirms? .*\bdates?\b|results date|\bto report\b.*\bon\b|to present at|to attend|"
                         r"investor day|capital markets day|conference\b|general meeting|\bagm\b|\bnotice\b|"
                         r"to hold\b|read-?out expected|expected in (early|mid|late)\b|to announce .*\bon\b|"
                         r"will report", re.I)
_UNCONFIRMED = re.compile(r"said to\b|\bsources?\b|rumou?r|speculat|reportedly|people familiar|people close|"
                          r"\bmulls?\b|considering|exploring|\bweighs?\b", re.I)
_POSITIVE = re.compile(r"\bbeat|record|\brais(e|es|ed|ing)\b|upgrade|approv|\bwins?\b|awarded|agrees? to acquire|"
                       r"to acquire|premium|takeover|\bbid\b|offer for|added to|to join|\bjoins?\b|inclusion|"
                       r"\brises?\b|rall(y|ies)|surge|jump|soar|strong|above|higher|doubles|boost", re.I)
_NEGATIVE = re.compile(r"\bmiss|warn|\bcuts?\b|downgrade|reject|refus|\bfails?\b|failure|probe|investigation|"
                       r"lawsuit|\bfine[sd]?\b|breach|recall|placing|placement|offering|dilut|deleted|deletion|"
                       r"removed from|to leave|slump|plunge|\bfalls?\b|\bdrops?\b|lower|below|\bloss|disappoint|"
                       r"weak|slide|pressure", re.I)
_SUFFIX = re.compile(r"\s+(plc|ltd|limited|inc|incorporated|corp|corporation|group|holdings|sa|ag|nv|llc|co)\.?$",
                     re.I)


def nature_of(text: str) -> str | None:
    return next((name for name, pattern in NATURES if re.search(pattern, text, re.I)), None)


def tone_of(text: str) -> str | None:
    """``positive`` or ``negative`` for the issuer's holders; None when neither or both."""
    good, bad = bool(_POSITIVE.search(text)), bool(_NEGATIVE.search(text))
    return "positive" if good and not bad else "negative" if bad and not good else None


def explains(tone: str | None, side: str) -> bool:
    return (tone == "positive" and side == "BUY") or (tone == "negative" and side == "SELL")


def issuer_names(ds: Dataset, symbol: str) -> list[str]:
    """The issuer's name (and its name without a corporate suffix), from the optional instruments file."""
    try:
        rows = ds.query("instruments", "SELECT issuer FROM rows WHERE symbol = ? ORDER BY line", (symbol,))
    except DataError:  # the file is optional: headlines are then matched on the symbol alone
        return []
    names = {r["issuer"] for r in rows if r["issuer"]}
    return sorted(names | {_SUFFIX.sub("", n) for n in names})


def _about(text: str, symbol: str, names: list[str]) -> bool:
    folded = text.casefold()
    return bool(re.search(rf"\b{re.escape(symbol)}\b", text)) or any(n.casefold() in folded for n in names)


def judge(row, symbol: str, names: list[str], event_nature: str | None, side: str, trade_date: date) -> dict:
    """One headline read before the trade: what kind of information it is for this trade, and why."""
    text, day = row["headline"], date.fromisoformat(row["ts"][:10])
    item = {"line": row["line"], "label": f"“{text}” ({row['source']}, {row['ts']})", "kind": "", "why": "",
            "tone": tone_of(text), "nature": nature_of(text)}
    age = (trade_date - day).days
    lookback = INDEX_LOOKBACK_DAYS if item["nature"] == INDEX_CHANGE else LOOKBACK_DAYS
    if age <= 0:
        item["kind"], item["why"] = "same_day", "published on the trade day: the order of news and trade is unknown"
    elif not _about(text, symbol, names):
        item["kind"], item["why"] = "not_issuer", f"does not name {symbol}" + (f" or {names[0]}" if names else "") \
            + ": sector or market chatter"
    elif _SCHEDULING.search(text):
        item["kind"], item["why"] = "scheduling", "a scheduling notice: it says when, not what"
    elif age > lookback:
        item["kind"] = "stale"
        item["why"] = f"{plural(age, 'day')} before the trade, beyond the {lookback}-day look-back"
    elif _UNCONFIRMED.search(text):
        same = event_nature is not None and item["nature"] == event_nature
        item["kind"] = "reported" if same else "rumour"
        item["why"] = "unconfirmed (rumour or unnamed sources), " + (
            f"on the event's matter ({event_nature})" if same else "on another matter than the event")
    elif event_nature is not None and item["nature"] == event_nature:
        item["kind"], item["why"] = "disclosed", f"public {event_nature} news about the issuer, the event's nature, " \
                                                 f"{plural(age, 'day')} before the trade"
    elif item["nature"] == INDEX_CHANGE:
        item["kind"], item["why"] = "index", f"an index change ({item['tone'] or 'direction unclear'}): public " \
                                             "information for index-tracking trades"
    elif explains(item["tone"], side):
        item["kind"], item["why"] = "direction", f"public {item['tone']} news about the issuer: explains a {side}, " \
                                                 f"{plural(age, 'day')} before the trade"
    else:
        item["kind"] = "unrelated"
        item["why"] = (f"{item['nature'] or 'general'} news, not the event's nature"
                       + (f" ({event_nature})" if event_nature else "") + f", and it does not explain a {side}")
    return item


@records_inputs
def timeline(ds: Dataset, symbol: str, trade_date: date, side: str, event, reporter: StepReporter) -> Evidence:
    """The symbol's news before the trade, judged; and the first issuer news after it."""
    source = TABLES["news"].path
    event_date = event.event_date if event else None
    event_nature = nature_of(f"{event.event_type} {event.description or ''}") if event else None
    start = trade_date - timedelta(days=INDEX_LOOKBACK_DAYS)
    end = max(event_date or trade_date, trade_date) + timedelta(days=1)
    reporter.progress(f"Reading {symbol} news from {start} to {end}", total=2)
    rows = ds.query("news", "SELECT * FROM rows WHERE symbol = ? AND ts >= ? AND ts < ? ORDER BY ts",
                    (symbol, start.isoformat(), end.isoformat()))
    covered = bool(rows) or bool(ds.query("news", "SELECT line FROM rows WHERE symbol = ? LIMIT 1", (symbol,)))
    names = issuer_names(ds, symbol)
    judged = [judge(r, symbol, names, event_nature, side, trade_date) for r in rows
              if r["ts"][:10] <= trade_date.isoformat()]
    later = [r for r in rows if r["ts"][:10] > trade_date.isoformat()
             and _about(r["headline"], symbol, names) and not _SCHEDULING.search(r["headline"])]

    def of(*kinds: str) -> list[dict]:
        return [j for j in judged if j["kind"] in kinds]

    disclosed, direction, reported = of("disclosed"), of("direction"), of("reported")
    index_changes = [j for j in judged if j["nature"] == INDEX_CHANGE and j["kind"] in ("index", "disclosed")]
    reporter.progress(f"{plural(len(judged), 'headline')} judged; {len(disclosed) + len(direction)} public and "
                      "relevant before the trade", step=2)
    facts = {
        "items": len(rows), "coverage": covered, "event_nature": event_nature, "issuer_names": names,
        "judged": [{"headline": j["label"], "judged": j["kind"], "why": j["why"]} for j in judged],
        "disclosed_before": [f"{j['label']}: {j['why']}" for j in disclosed],
        "direction_before": [f"{j['label']}: {j['why']}" for j in direction],
        "reported_before": [f"{j['label']}: {j['why']}" for j in reported],
        "index_changes": [{"headline": j["label"], "tone": j["tone"]} for j in index_changes],
        "set_aside": [f"{j['label']}: {j['why']}" for j in judged
                      if j["kind"] not in ("disclosed", "direction", "reported", "index")],
        "news_silence": covered and not (disclosed or direction or reported),
        "first_after": f"“{later[0]['headline']}” ({later[0]['source']}, {later[0]['ts']})" if later else None,
    }
    citations = {"window": Citation(source=source, lines=tuple(r["line"] for r in rows),
                                    note=f"{symbol} news searched from {start} to {end}"
                                    + ("" if rows else ": none found"))}
    for key, items, note in (("disclosed", disclosed, "public news of the event's nature before the trade"),
                             ("direction", direction, "public news explaining the trade's direction"),
                             ("reported", reported, "unconfirmed reports of the event's matter"),
                             ("index_changes", index_changes, "index changes announced before the trade")):
        if items:
            citations[key] = Citation(source=source, lines=tuple(j["line"] for j in items), note=note)
    if later:
        citations["after"] = Citation(source=source, lines=tuple(r["line"] for r in later), note="issuer news after "
                                                                                                 "the trade")
    gaps = {} if covered else {"window": f"{source} has no {symbol} news at all: the feed does not cover it, so "
                                         "silence cannot be read as nothing being public"}
    if disclosed:
        summary = f"Public before the trade: {facts['disclosed_before'][0]}"
    elif direction or reported:
        summary = "Public before the trade: " + (facts["direction_before"] or facts["reported_before"])[0]
    elif covered:
        summary = (f"No public {event_nature or 'issuer'} news about {symbol} before the trade "
                   f"({plural(len(judged), 'headline')} judged)")
        if facts["first_after"]:
            summary += f"; first after it: {facts['first_after']}"
    else:
        summary = f"No {symbol} news at all in {source}"
    return Evidence(tool="news", title="News timeline", summary=summary + ".", facts=facts, citations=citations,
                    gaps=gaps)
