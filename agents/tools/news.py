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

Of the event's own matter, only **disclosure** makes the information public: a headline carried by
an official channel (the issuer's regulatory announcement service, its filings and press-release
wires, the exchange, the index provider for an index change — MAR Art. 17(1) and Implementing
Reg. 2016/1055 on the means of disclosure), or a report that the issuer confirmed or announced it,
or one worded as a completed act (agrees, declares, reports, warns …). A rumour or a report citing
unnamed sources (ESMA: a rumour is not disclosure; SEC v. Mayhew) is recorded apart: the market had
the story, unconfirmed. A headline that is neither — a third party's unattributed report of the
matter — is taken for an unconfirmed report, never for disclosure: the safe default, since a
scoop and a report of an announcement look alike and only the second makes the information
public. Every headline read is judged, and the reason is kept, so each finding can name the
headlines it rests on and those it set aside. Headlines and sources are matched normalised
(``agents.text.normalise``).
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta

from agents.data import TABLES, DataError, Dataset
from agents.evidence import Citation, Evidence
from agents.progress import StepReporter, records_inputs
from agents.text import normalise, plural

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
    (INDEX_CHANGE, r"\bindex\b|s&p\b|\bftse\b|russell \d|stoxx|\bmsci\b|midcap|smallcap|nasdaq-100|"
                   # the index families named without the word "index" (DAX, MDAX, CAC 40, AEX, IBEX 35 …) ...
                   r"\b(?:m|s|tec)?dax\b|\bcac\b|\baex\b|\bamx\b|\bibex\b|\bsmi\b|\bomx|\bnikkei\b|\btopix\b|"
                   r"hang seng|\bkospi\b|\bnifty\b|\bsensex\b|\bbel ?20\b|\bwig ?20\b|"
                   # ... and any name with a constituent count that a company joins or leaves ("joins the ASX 200")
                   r"\b(?:joins?|to join|added to|enters?|promoted to|relegated to|demoted to|removed from|"
                   r"deleted from|dropped from|exits?|to leave|leaves)\s+(?:the\s+)?"
                   r"(?-i:[A-Z][A-Za-z&/]*\s?\d{2,4})\b"),
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
    rf"|\b(?:results|earnings|update|statement|report|call|webcast|agm)\W{{1,3}}{_A_DATE}"     # results 30 July 2024
    r"|\bcalendar\b"                                                                        # financial calendar
    r"|\b(?:sets?|schedules?|fix(?:es)?|confirms?|announces?|changes?|moves?)\b.{0,40}\b(?:dates?|call|webcast|"
    r"timetable)\b"                                                                               # sets date for
    r"|results date|\bto report\b.*\bon\b|to announce .*\bon\b|will report|to present at|to attend|investor day|"
    r"capital markets day|conference\b|general meeting|\bagm\b|\bnotice\b|to hold\b|read-?out expected|"
    r"expected in (?:early|mid|late)\b", re.I)
_UNCONFIRMED = re.compile(r"said to\b|\bsources?\b|rumou?r|speculat|reportedly|people familiar|people close|"
                          r"\bmulls?\b|considering|exploring|\bweighs?\b|"
                          # the press's other forms for an unconfirmed story or an expectation
                          r"according to|ha(?:s|ve) learn|\blearnt\b|is understood|understood to|\bin (?:\w+ )?talks\b|"
                          r"\beyes\b|\beyeing\b|\bcould\b|\bmight\b|\blikely\b|expected to|\bset to\b|poised to|"
                          r"\bprepar(?:es|ing)\b|\bnears?\b|\bnearing\b|analysts? (?:say|said|expect|see)|\btipped\b|"
                          r"unconfirmed|(?:media|press) reports?|with knowledge|people (?:briefed|aware)|"
                          r"insiders? (?:say|said)|\bfamiliar with\b", re.I)
# Who says it. An official channel: the issuer's regulatory announcements, filings and press-release wires, the
# exchange, and an index provider for its index changes (MAR Art. 17(1); Implementing Reg. 2016/1055).
_OFFICIAL = re.compile(r"\brns\b|\bris\b|regulatory|\bcompany\b|\bissuer\b|investor relations|press release|"
                       r"business ?wire|pr ?newswire|globe ?newswire|accesswire|\bcision\b|\beqs\b|\bdgap\b|"
                       r"ad-? ?hoc|\bedgar\b|\bsec\b|\b[86]-k\b|stock exchange|\bexchange\b|\basx\b|\bsgx\b|"
                       r"\bhkex\b|\bjse\b|\bnzx\b|\btsx\b|tdnet|sedar|s&p dow jones|ftse russell|\bmsci\b|"
                       r"\bstoxx\b|deutsche b(?:ö|oe|o)rse|euronext|nasdaq|\bnyse\b|\blse\b|index provider", re.I)
# A report of the issuer's own word ...
_CONFIRMS = re.compile(r"\bconfirm(?:s|ed|ation)?\b|\bannounce[sd]?\b|\bannouncement\b|\bstatement\b|"
                       r"\bsaid in a (?:statement|filing|release)\b|\bfiling\b", re.I)
# ... or of a completed act: disclosure as the wires report it once it is made.
_COMPLETED = re.compile(r"\bagree[sd]?\b|\bsign(?:s|ed)?\b|\bdeclare[sd]?\b|\bcomplete[sd]?\b|"
                        r"\bmakes? (?:an? )?(?:agreed|recommended|firm|formal|final|improved|cash|all-share|hostile|"
                        r"unsolicited) (?:bid|offer)\b|\breport(?:s|ed)\b|\bposts?\b|\bposted\b|\bwarns?\b|"
                        r"\bwarned\b|\bcuts?\b|\braise[sd]?\b|\blowers?\b|\bbeats?\b|\bmiss(?:es|ed)?\b|\bwins?\b|"
                        r"\bawarded\b|\blaunch(?:es|ed)?\b|\bprice[sd]\b|\bplaces?\b|\bfile[sd]\b|\bresigns?\b|"
                        r"\bappoints?\b|\bapprove[sd]\b|\brejects?\b|\bfined\b|\bto be (?:added|deleted|removed|"
                        r"included)\b|\bto join\b|\bto leave\b", re.I)
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
    text = normalise(text)
    folded = text.casefold()
    return bool(re.search(rf"\b{re.escape(symbol)}\b", text)) or any(normalise(n).casefold() in folded for n in names)


_SAID_BY = {"official": "published through an official channel (the issuer's announcement service, filing or wire, "
                        "the exchange or the index provider)",
            "confirmed": "a report of the issuer's confirmed disclosure",
            "unconfirmed": "unconfirmed (a rumour, unnamed sources or an expectation)",
            "unattributed": "neither from an official channel nor worded as a confirmed disclosure: taken for an "
                            "unconfirmed report, never for disclosure (the safe default)"}


def attribution_of(text: str, source: str) -> str:
    """Who vouches for a headline: ``official`` (an official channel), ``unconfirmed`` (rumour, unnamed sources,
    expectation), ``confirmed`` (a report of the issuer's confirmation or of a completed act), else
    ``unattributed``. Doubt goes to the safe side: rumour words outweigh confirmation words."""
    if _OFFICIAL.search(source):
        return "official"
    if _UNCONFIRMED.search(text):
        return "unconfirmed"
    if _CONFIRMS.search(text) or _COMPLETED.search(text):
        return "confirmed"
    return "unattributed"


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
    text, day = normalise(row["headline"]), date.fromisoformat(row["ts"][:10])
    item = {"line": row["line"], "label": f"“{row['headline']}” ({row['source']}, {row['ts']})", "kind": "", "why": "",
            "tone": tone_of(text), "nature": subject_of(text), "pre_open": False,
            "attribution": attribution_of(text, normalise(row["source"]))}
    same = event_nature is not None and item["nature"] == event_nature
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
    elif same and item["attribution"] in ("official", "confirmed"):
        item["kind"], item["why"] = "disclosed", (f"{_SAID_BY[item['attribution']]}: {event_nature} news about the "
                                                  f"issuer, the event's nature, {when}")
    elif same:
        item["kind"] = "reported"
        item["why"] = f"{_SAID_BY[item['attribution']]}, on the event's matter ({event_nature})"
    elif item["attribution"] == "unconfirmed":
        item["kind"], item["why"] = "rumour", f"{_SAID_BY['unconfirmed']}, on another matter than the event"
    elif item["nature"] == INDEX_CHANGE and item["attribution"] in ("official", "confirmed"):
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
    event_nature = nature_of(normalise(f"{event.event_type} {event.description or ''}")) if event else None
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
             and _about(r["headline"], symbol, names) and not _SCHEDULING.search(normalise(r["headline"]))]

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
        # nothing public at all: no disclosure, no report of the matter, no news explaining the direction (each of
        # those is weighed by its own rule, once; none of them but disclosure dismantles a guard)
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
