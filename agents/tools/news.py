"""News tool: what was public about the issuer before the trade, judged headline by headline.

A headline is public information that can explain a trade (MAR Art. 7(1)(a), Art. 17; ESMA
MAR guidelines on delayed disclosure; SEC v. Mayhew on rumours) only when it

* concerns the issuer: it names the symbol, or the issuer's name from the optional
  ``instruments.csv`` (sector and market chatter does not);
* is disclosure, not a scheduling notice: a headline that names a future disclosure with its
  date ("to release … earnings on August 22", "due August 22", "sets date for …") says when,
  not what;
* is of the same nature as the event (M&A, results, financing, …), or its tone explains the
  direction of the trade (good news for a buy, bad news for a sell) — a report of the share
  price's own move ("shares rise") is not information about the issuer;
* was public before the trade. Information is public from its publication: a headline is read
  at its timestamp, in the exchange's local time. The alert gives no time of trade, so the
  trade may have come at the open (``SESSION_OPEN``, or the instrument's ``session_open`` in
  the optional instruments.csv): a headline of the trade day stamped before the open was
  public for the whole session; one stamped from the open on cannot be
  placed before the trade. Older headlines count within ``LOOKBACK_DAYS`` — or
  ``INDEX_LOOKBACK_DAYS`` for index changes, which are announced one to five weeks ahead.

A report citing unnamed sources, or a rumour, is recorded apart: the market had the story, but
it was not confirmed. Every headline read is judged, and the reason is kept, so each finding
can name the headlines it rests on and those it set aside.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta

from agents.data import TABLES, DataError, Dataset
from agents.evidence import Citation, Evidence
from agents.progress import StepReporter, records_inputs
from agents.text import plural

LOOKBACK_DAYS = 14
INDEX_LOOKBACK_DAYS = 35
INDEX_CHANGE = "index change"
# The earliest opening of the cash equity sessions covered (London 08:00, Frankfurt and Paris 09:00 CET,
# New York 09:30 ET, each local): a headline stamped earlier on the trade day preceded the session's first trade.
# instruments.csv may give an instrument's own opening (session_open, in the news timestamps' time).
SESSION_OPEN = time(8, 0)

# An event's nature is the first in this list whose pattern matches its type and description. A headline's nature
# is the one whose words come first in it — its subject: "half-year profit beats forecasts, raises interim dividend"
# is results news, "chief executive resigns ahead of results" is management news.
NATURES = (
    (INDEX_CHANGE, r"\bindex\b|s&p\b|\bftse\b|russell \d|stoxx|\bmsci\b|midcap|smallcap|nasdaq-100"),
    ("M&A", r"m&a\b|acqui|merger|takeover|take-over|buyout|tender offer|\bbid\b|offer for|to buy\b|agreed deal|"
            r"sell itself|\bsale\b|strategic review|approach|"
            # UK Takeover Code announcements: "Statement re possible offer" (Rule 2.4), "Rule 2.7 announcement" …
            r"\b(possible|firm|recommended|final|improved|revised|hostile|unsolicited|cash|all-share|share)\s+offer\b|"
            r"\boffer period\b|\brule 2\.\d\b|\bform 8\b|scheme of arrangement"),
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
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_A_DATE = (rf"(?:{_MONTH}\s+\d{{1,2}}\b|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}|(?:mon|tues|wednes|thurs|fri)day\b|"
           r"\d{4}-\d{2}-\d{2})")
_WHEN = rf"(?:\b(?:on|for|by)\s+{_A_DATE}|\bnext (?:week|month)\b|\btomorrow\b|\blater (?:today|this week)\b)"
_ANNOUNCING = r"(?:report|release|publish|issue|announce|post|present|hold|host|update|unveil|reveal)"
# A scheduling notice names a future disclosure and its date; it says when, not what.
_SCHEDULING = re.compile(
    rf"\b(?:to|will|set to|due to|plans? to)\s+(?:\w+\s+)?{_ANNOUNCING}\b.*{_WHEN}"  # to release … on August 22
    rf"|\b(?:due|scheduled|slated|expected)\s+(?:on\s+|for\s+)?{_A_DATE}"                       # due August 22
    rf"|\b(?:results|earnings|announcement|update|statement|report|call|webcast)\s+(?:on|for)\s+{_A_DATE}"
    r"|\b(?:sets?|schedules?|fix(?:es)?|confirms?|announces?|changes?|moves?)\b.{0,40}\b(?:dates?|call|webcast|"
    r"timetable)\b"                                                                               # sets date for
    r"|results date|\bto report\b.*\bon\b|to announce .*\bon\b|will report|to present at|to attend|investor day|"
    r"capital markets day|conference\b|general meeting|\bagm\b|\bnotice\b|to hold\b|read-?out expected|"
    r"expected in (?:early|mid|late)\b", re.I)
_UNCONFIRMED = re.compile(r"said to\b|\bsources?\b|rumou?r|speculat|reportedly|people familiar|people close|"
                          r"\bmulls?\b|considering|exploring|\bweighs?\b", re.I)
_POSITIVE = re.compile(r"\bbeat|record|\brais(e|es|ed|ing)\b|upgrade|approv|\bwins?\b|awarded|agrees? to acquire|"
                       r"to acquire|premium|takeover|\bbid\b|offer for|added to|to join|\bjoins?\b|inclusion|"
                       r"strong|above|higher|doubles|boost", re.I)
_NEGATIVE = re.compile(r"\bmiss|warn|\bcuts?\b|downgrade|reject|refus|\bfails?\b|failure|probe|investigation|"
                       r"lawsuit|\bfine[sd]?\b|breach|recall|placing|placement|offering|dilut|deleted|deletion|"
                       r"removed from|to leave|lower|below|\bloss|disappoint|weak|pressure", re.I)
# The share price's own move: a report of it is not information about the issuer that explains a trade.
_PRICE_UP = re.compile(r"\brises?\b|\brose\b|rall(y|ies|ied)|surge|jump|soar|climb|\bgains?\b|\bup \d", re.I)
_PRICE_DOWN = re.compile(r"slump|plunge|\bfalls?\b|\bfell\b|\bdrops?\b|slide|slid\b|\bsinks?\b|tumble|"
                         r"\bdown \d", re.I)
_SUFFIX = re.compile(r"\s+(plc|ltd|limited|inc|incorporated|corp|corporation|group|holdings|sa|ag|nv|llc|co)\.?$",
                     re.I)


def nature_of(text: str) -> str | None:
    """An event's nature: the first in NATURES whose words its text contains."""
    return next((name for name, pattern in NATURES if re.search(pattern, text, re.I)), None)


def subject_of(text: str) -> str | None:
    """A headline's nature: the one whose words appear first in it (ties go to the earlier in NATURES)."""
    found = [(m.start(), i, name) for i, (name, pattern) in enumerate(NATURES)
             if (m := re.search(pattern, text, re.I))]
    return min(found)[2] if found else None


def _tone(good: bool, bad: bool) -> str | None:
    return "positive" if good and not bad else "negative" if bad and not good else None


def tone_of(text: str) -> str | None:
    """``positive`` or ``negative`` news for the issuer's holders; None when neither or both. Words that only
    report the share price's move do not count (see :func:`price_move_of`)."""
    return _tone(bool(_POSITIVE.search(text)), bool(_NEGATIVE.search(text)))


def price_move_of(text: str) -> str | None:
    """``positive`` or ``negative`` when the headline reports the share price's move."""
    return _tone(bool(_PRICE_UP.search(text)), bool(_PRICE_DOWN.search(text)))


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


def session_open(ds: Dataset, symbol: str) -> time:
    """When the symbol's session opens: instruments.csv's session_open, else SESSION_OPEN."""
    try:
        rows = ds.query("instruments", "SELECT session_open FROM rows WHERE symbol = ? AND session_open IS NOT NULL "
                                       "ORDER BY line", (symbol,))
    except DataError:  # the file is optional
        return SESSION_OPEN
    return time.fromisoformat(rows[-1]["session_open"]) if rows else SESSION_OPEN


def judge(row, symbol: str, names: list[str], event_nature: str | None, side: str, trade_date: date,
          opens: time = SESSION_OPEN) -> dict:
    """One headline read before the trade: what kind of information it is for this trade, and why."""
    text, day = row["headline"], date.fromisoformat(row["ts"][:10])
    item = {"line": row["line"], "label": f"“{text}” ({row['source']}, {row['ts']})", "kind": "", "why": "",
            "tone": tone_of(text), "nature": subject_of(text), "pre_open": False}
    age = (trade_date - day).days
    lookback = INDEX_LOOKBACK_DAYS if item["nature"] == INDEX_CHANGE else LOOKBACK_DAYS
    when = f"{plural(age, 'day')} before the trade"
    if age == 0 and time.fromisoformat(row["ts"][11:16]) < opens:
        item["pre_open"] = True
        when = f"published before the session opened ({opens:%H:%M}) on the trade day"
    if age < 0 or (age == 0 and not item["pre_open"]):
        item["kind"], item["why"] = "same_day", (f"published on the trade day once the session had opened "
                                                 f"({opens:%H:%M}); the alert gives no time of trade, so it "
                                                 "cannot be placed before the trade")
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
                                                 f"{when}"
    elif item["nature"] == INDEX_CHANGE:
        item["kind"], item["why"] = "index", f"an index change ({item['tone'] or 'direction unclear'}): public " \
                                             "information for index-tracking trades"
    elif explains(item["tone"], side):
        item["kind"], item["why"] = "direction", f"public {item['tone']} news about the issuer: explains a {side}, " \
                                                 f"{when}"
    elif item["tone"] is None and price_move_of(text):
        item["kind"], item["why"] = "price_move", ("reports the share price's own move: not information about the "
                                                   "issuer that explains a trade")
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
    opens = session_open(ds, symbol)
    judged = [judge(r, symbol, names, event_nature, side, trade_date, opens) for r in rows
              if r["ts"][:10] <= trade_date.isoformat()]
    # The event itself was announced before the session of the trade opened: the trade came after it.
    event_first = event_date == trade_date and any(j["kind"] == "disclosed" and j["pre_open"] for j in judged)
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
        "event_public_before_trade": event_first,
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
