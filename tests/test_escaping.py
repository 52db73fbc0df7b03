"""Every user-supplied field of every alert kind, in every rendering, against the served app.

For each text the parser takes from an alert (every leaf element of a sample of each kind, with
the optional ones added, and the uploaded file's name) the alert carries a hostile value there:
``<script>MARKER</script>"'&``, each field its own marker. The fields the tools look evidence up by
(trader, account, symbol, order: hostile, they leave the investigation without history or market
data) get an alert each; all the other fields of a kind share one alert that still escalates as its
sample does, so its rows see every rendering (the STOR's too). Each alert is uploaded (in a zip, so
the batch pages render it too) and investigated to its end; then every rendering of it is read,
and each field's row checks its own marker:

* HTML — the analysis page, the live fragments replayed over SSE (run and batch streams), the
  report page, the citation pages and fragments of the alert's own elements, the cancel
  confirmation, the home page (the desk's queue), the batch page, the audit trail, the case page
  and the printable case file: every occurrence of the marker must sit inside the payload as
  HTML-escaped (or URL-encoded, in a link), never raw;
* JSON — the report, the batch report, the A2A task (artifacts) and the audit export: the payload
  round-trips exactly;
* plain text — the STOR draft, the audit export's CSV, the desk's CSV export and the text of the
  case file's PDF (a raw tag would not be printed): the payload itself, unchanged (or as a JSON
  string, where the text quotes JSON: the audit's details, the tools' arguments in the case file).

What the desk's users write (notes, rationales, review comments, reopen reasons, a STOR reference)
is checked the same way, in every rendering that shows it.

A value the parser refuses (a number, a date, a side ...) is refused with an error that names it:
that error, as a page, an htmx fragment, a batch's list of refused files, JSON for the CLI and a
JSON-RPC error for A2A, is checked the same way. A field shown nowhere would make its row vacuous,
so each accepted field must be shown (escaped or exact) in at least one rendering.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, quote_plus
from xml.etree import ElementTree
from xml.sax.saxutils import escape as xml_escape

import pytest
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import escape
from pypdf import PdfReader

from agents.alerts import AlertError, parse_alert
from tests.conftest import SAMPLES, Browser, terminal
from tests.test_e2e import read_stream

pytestmark = pytest.mark.e2e

BASES = {"insider": "insider_genuine_acme.xml", "wash": "wash_genuine_gldx.xml",
         "spoofing": "spoofing_genuine_flux.xml"}
# Optional elements the samples leave out, added so their values are injected too: (parent path, tag, text).
OPTIONAL = {
    "insider": [(".", "InvestigationNotes/Note", "Reviewed by L1."), ("SuspiciousActivity", "AccountID", "ACC-T001"),
                ("SuspiciousActivity", "ISIN", "GB00ACME0001"), ("SuspiciousActivity", "Venue", "XLON"),
                ("SuspiciousActivity", "Currency", "GBP")],
    "wash": [(".", "InvestigationNotes/Note", "Reviewed by L1."), ("FlaggedTrades/Trade", "ISIN", "GB00GLDX0001"),
             ("FlaggedTrades/Trade", "Currency", "GBP")],
    "spoofing": [(".", "InvestigationNotes/Note", "Reviewed by L1."), ("OrderActivity", "ISIN", "GB00FLUX0001"),
                 ("OrderActivity/Order", "AccountID", "T020"),
                 ("OrderActivity", "Currency", "GBP"), ("MarketContext", "Venue", "XLON")],
}


def hostile(marker: str) -> str:
    return f"<script>{marker}</script>\"'&"


@dataclass(frozen=True)
class Field:
    kind: str
    path: str       # where in the alert ("" for the uploaded file's name)
    accepted: bool  # the parser takes it; otherwise it refuses the file and says why

    @property
    def marker(self) -> str:
        return "xq" + re.sub(r"[^a-z0-9]", "", f"{self.kind}{self.path}".lower()) + "z"


def _tree(kind: str) -> ElementTree.Element:
    root = ElementTree.fromstring((SAMPLES / BASES[kind]).read_bytes())  # noqa: S314  (our own sample files)
    for parent_path, tag, text in OPTIONAL[kind]:
        parent = root.find(parent_path)
        for part in tag.split("/"):
            parent = ElementTree.SubElement(parent, part)
        parent.text = text
    return root


def _leaves(root: ElementTree.Element, prefix: str = ""):
    """Paths of the leaf elements, the first of repeated siblings only (Trade, Order, Regulation)."""
    seen = set()
    for child in root:
        if child.tag in seen:
            continue
        seen.add(child.tag)
        path = f"{prefix}{child.tag}"
        if len(child):
            yield from _leaves(child, path + "/")
        else:
            yield path


def alert_with(*fields: Field) -> bytes:
    """The fields' kind of sample with each field's text hostile (the file name, path "", is not in it)."""
    root = _tree(fields[0].kind)
    for field in fields:
        if field.path:
            root.find(field.path).text = hostile(field.marker)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def _fields() -> list[Field]:
    found = []
    for kind in BASES:
        found.append(Field(kind, "", True))
        for path in _leaves(_tree(kind)):
            probe = Field(kind, path, True)
            try:
                alert = parse_alert(alert_with(probe))
            except AlertError:
                found.append(Field(kind, path, False))
                continue
            assert probe.marker.lower() in alert.model_dump_json().lower(), f"{kind}: {path} is not read"
            found.append(probe)
    return found


FIELDS = _fields()


# Fields the parser reads (for the rules, or a STOR's context) that no rendering shows: their rows
# still check every rendering, and fail if one starts showing the field (then take it off this list).
NOT_SHOWN = {
    ("insider", "AnomalyIndicators/TemporalProximity"),
    ("wash", "AlertMetadata/ConfidenceLevel"),
    ("wash", "WashTradeIndicators/TimeDelta"),
    ("wash", "WashTradeIndicators/VolumeImpact"),
    ("wash", "MarketContext/MarketPhase"),
    ("wash", "RegulatoryFlags/Jurisdiction"),
    ("wash", "RegulatoryFlags/ApplicableRegulations/Regulation"),
    ("spoofing", "AlertMetadata/Severity"),
    ("spoofing", "AlertMetadata/ConfidenceLevel"),
    ("spoofing", "MarketContext/MarketPhase"),
    ("spoofing", "RegulatoryFlags/Jurisdiction"),
    ("spoofing", "RegulatoryFlags/ApplicableRegulations/Regulation"),
}


# ----------------------------------------------------------------------------- checks

def _forms(value: str) -> list[str]:
    """The payload as an HTML page may safely carry it: escaped as text or attribute, URL-encoded, or as
    a JSON string escaped for HTML (by Jinja, or by ``tojson``'s \\u003c escapes)."""
    quoted = json.dumps(value)[1:-1]
    in_urls = [quote(value, safe=safe) for safe in ("", "/", "/'", "!$'()*,/:;?@")] + [quote_plus(value)]
    in_paths = quote(value, safe="!$&'()*+,/:;=@")  # url_for's path converter leaves & and ' for Jinja to escape
    return [str(escape(value)), *in_urls, *(str(escape(url)) for url in in_urls), str(escape(in_paths)),
            str(escape(quoted)),
            htmlsafe_json_dumps(value)[1:-1], str(escape(xml_escape(value)))]  # the last: XML source, cited


def _variants(field: Field, *, in_json_text: bool = False) -> list[str]:
    """The value as the app holds it: upper-cased for symbols; quoted by repr() in error messages; as a
    JSON string where a text format carries JSON (the audit export's detail column)."""
    value = hostile(field.marker)
    variants = [value, value.upper(), repr(value)[1:-1], repr(value.upper())[1:-1]]
    if in_json_text:
        variants += [json.dumps(v, ensure_ascii=False)[1:-1] for v in (value, value.upper())]
    return variants


def _unexplained(text: str, marker: str, forms: list[str]) -> list[str]:
    """Occurrences of the marker (any case) not inside one of ``forms``, with their surroundings."""
    explained = [(m.start(), m.end()) for form in forms for m in re.finditer(re.escape(form), text)]
    return [text[max(0, m.start() - 40):m.end() + 40] for m in re.finditer(marker, text, re.I)
            if not any(start <= m.start() and m.end() <= end for start, end in explained)]


def html_ok(text: str, field: Field) -> bool:
    """Fails on a raw or mangled occurrence; True if the value is shown."""
    forms = [form for value in _variants(field) for form in _forms(value)]
    bad = _unexplained(text, field.marker, forms)
    assert not bad, f"unescaped in HTML: {bad[:3]}"
    return re.search(field.marker, text, re.I) is not None


def exact_ok(text: str, field: Field, *, in_json_text: bool = False) -> bool:
    """JSON strings and plain text carry the value itself: every occurrence of the marker is in it."""
    bad = _unexplained(text, field.marker, _variants(field, in_json_text=in_json_text))
    assert not bad, f"not carried exactly: {bad[:3]}"
    return re.search(field.marker, text, re.I) is not None


def json_ok(document, field: Field) -> bool:
    shown = False
    for text in _strings(document):
        shown |= exact_ok(text, field)
    return shown


def _strings(document):
    if isinstance(document, str):
        yield document
    elif isinstance(document, dict):
        for key, value in document.items():
            yield key
            yield from _strings(value)
    elif isinstance(document, list):
        for value in document:
            yield from _strings(value)


# ----------------------------------------------------------------------------- renderings

@pytest.fixture(scope="module")
def clients(live_server):
    analyst = Browser(live_server)
    auditor = live_server.client(role="auditor")
    yield analyst, auditor
    analyst.close()
    auditor.close()


def _zip(member: str, raw: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, raw)
    return buffer.getvalue()


# The fields the tools look evidence up by: each gets an alert of its own (see the module's docstring).
LOOKUP_KEYS = {
    ("insider", "Trader/TraderID"), ("insider", "SuspiciousActivity/Symbol"),
    ("wash", "FlaggedTrades/Trade/AccountID"), ("wash", "FlaggedTrades/Trade/CounterpartyAccount"),
    ("wash", "FlaggedTrades/Trade/Symbol"),
    ("spoofing", "Trader/TraderID"), ("spoofing", "OrderActivity/Symbol"), ("spoofing", "OrderActivity/Order/OrderID"),
}


def alert_of(field: Field) -> tuple[Field, ...]:
    """The fields hostile in the alert that carries ``field``'s value."""
    if (field.kind, field.path) in LOOKUP_KEYS:
        return (field,)
    return tuple(f for f in FIELDS if f.kind == field.kind and f.accepted and (f.kind, f.path) not in LOOKUP_KEYS)


_RENDERED: dict[tuple[Field, ...], dict[str, tuple[str, object]]] = {}  # an alert's fields -> its renderings


def renderings(live_server, clients, redis_client, field: Field) -> dict[str, tuple[str, object]]:
    """Upload the alert carrying the field (a zip of one) once and read every rendering: name -> (kind, body)."""
    fields = alert_of(field)
    if fields not in _RENDERED:
        _RENDERED[fields] = _render(live_server, clients, redis_client, fields)
    return _RENDERED[fields]


def _render(live_server, clients, redis_client, fields: tuple[Field, ...]) -> dict[str, tuple[str, object]]:
    analyst, auditor = clients
    since = datetime.fromtimestamp(time.time() - 2, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    named = next((hostile(field.marker) for field in fields if not field.path), "alert")
    raw = alert_with(*fields)
    uploaded = analyst.http.post("/analyses", data={"csrf_token": analyst.token}, files={
        "alert": (named + ".zip", _zip(named + ".xml", raw), "application/zip")})
    assert uploaded.status_code == 303, uploaded.text
    batch = uploaded.headers["location"].rsplit("/", 1)[1]
    http = analyst.http
    batch_report = http.get(f"/batches/{batch}.json").json()
    [run_id] = [item["run_id"] for item in batch_report["items"]]
    assert terminal(redis_client, run_id).type == "run_completed"
    report = http.get(f"/analyses/{run_id}.json").json()
    if len(fields) > 1:  # the shared alert: investigated as its sample is, or a new field changes it
        assert report["decision"]["determination"] == "ESCALATE", (
            f"{fields[0].kind}: the alert with every other field hostile no longer escalates; a field the tools "
            f"look evidence up by is missing from LOOKUP_KEYS: {report['decision']['rationale'][:300]}")
    got = {
        "page": ("html", http.get(f"/analyses/{run_id}").text),
        "report page": ("html", http.get(f"/analyses/{run_id}/report").text),
        "cancel confirmation": ("html", http.post(f"/analyses/{run_id}/cancel",
                                                  data={"csrf_token": analyst.token}).text),
        "home page": ("html", http.get("/").text),
        "batch page": ("html", http.get(f"/batches/{batch}").text),
        "report": ("json", report),
        "batch report": ("json", http.get(f"/batches/{batch}.json").json()),
        "audit trail": ("html", auditor.get("/audit", params={"case": report["run"]["alert_id"]}).text),
        "audit export (jsonl)": ("json", [json.loads(line) for line in auditor.get(
            "/audit/export", params={"format": "jsonl", "since": since}).text.splitlines()]),
        "audit export (csv)": ("cells", [cell for row in csv.reader(io.StringIO(auditor.get(
            "/audit/export", params={"format": "csv", "since": since}).text)) for cell in row]),
    }
    for n, event in enumerate(read_stream(live_server, run_id, after=0)):
        got[f"SSE fragment {n} ({event.event})"] = ("html", event.data)
    with live_server.client(timeout=30) as stream:
        body = stream.get(f"/batches/{batch}/events", params={"after": 0}).text
    got["batch SSE"] = ("html", body)
    stor = http.get(f"/analyses/{run_id}/stor.txt")
    if stor.status_code == 200:  # escalated alerts only
        got["STOR draft"] = ("text", stor.text)
    for i, finding in enumerate((report["decision"] or {}).get("findings", [])):
        for j, cited in enumerate(finding.get("citations", [])):
            if cited.get("source") == "alert":
                path = f"/analyses/{run_id}/findings/{i}/citations/{j}"
                got[f"citation {i}/{j}"] = ("html", http.get(path).text)
                got[f"citation {i}/{j} fragment"] = ("html", http.get(path, headers={"HX-Request": "true"}).text)
    with live_server.client() as a2a:
        task = a2a.post("/a2a", json={"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": run_id}},
                        headers={"A2A-Version": "1.0"}).json()
    assert "result" in task, task
    got["A2A task"] = ("json", task["result"])
    got.update(desk_renderings(http, report["run"]["alert_id"], run_id))
    return got


def desk_renderings(http, alert_id: str, run_id: str) -> dict[str, tuple[str, object]]:
    """The desk's renderings of one case: its page, the printable case file and its PDF, the CSV export."""
    case_page = http.get(f"/cases/{quote(alert_id, safe='')}")
    case_file = http.get(f"/analyses/{run_id}/case-file")
    pdf = http.get(f"/analyses/{run_id}/case-file.pdf")
    exported = http.get("/cases.csv")  # every case, whatever its state
    for name, response in (("case page", case_page), ("case file", case_file), ("PDF", pdf), ("CSV", exported)):
        assert response.status_code == 200, (name, response.status_code, response.text[:300])
    # Lines of the PDF's text join where the layout wrapped them (a long value wraps anywhere).
    printed = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages).replace("\n", "")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert any(run_id in row or alert_id in row for row in rows), "the case is not in the CSV export"
    return {"case page": ("html", case_page.text), "case file": ("html", case_file.text),
            "case file PDF": ("printed", printed), "desk CSV": ("cells", [cell for row in rows for cell in row])}


def check(got: dict[str, tuple[str, object]], field: Field) -> set[str]:
    """Check every rendering; the names of those that show the value."""
    shown = set()
    for name, (kind, body) in got.items():
        try:
            if kind == "html":
                visible = html_ok(body, field)
            elif kind == "json":
                visible = json_ok(body, field)
            elif kind == "cells":
                visible = any([exact_ok(cell, field, in_json_text=True) for cell in body])
            elif kind == "printed":  # the case file prints the tools' arguments as JSON, too
                visible = exact_ok(body, field, in_json_text=True)
            else:
                visible = exact_ok(body, field)
        except AssertionError as exc:
            raise AssertionError(f"{field.kind} {field.path or 'filename'} in the {name}: {exc}") from None
        if visible:
            shown.add(name)
    return shown


@pytest.mark.parametrize("field", [f for f in FIELDS if f.accepted], ids=lambda f: f"{f.kind}:{f.path or 'filename'}")
def test_an_accepted_field_is_escaped_in_html_and_exact_in_json_and_text(field, live_server, clients, redis_client):
    shown = check(renderings(live_server, clients, redis_client, field), field)
    if (field.kind, field.path) in NOT_SHOWN:
        assert not shown, f"{field.kind} {field.path} is shown now ({sorted(shown)}): take it off NOT_SHOWN"
    else:
        assert shown, f"{field.kind} {field.path or 'filename'} is shown nowhere: this row tests nothing"


@pytest.mark.parametrize("field", [f for f in FIELDS if not f.accepted], ids=lambda f: f"{f.kind}:{f.path}")
def test_a_refused_field_is_escaped_in_every_error_that_quotes_it(field, live_server, clients):
    analyst, _auditor = clients
    raw = alert_with(field)
    http, token = analyst.http, analyst.token

    def upload(name, content, kind, **headers):
        return http.post("/analyses", data={"csrf_token": token}, files={"alert": (name, content, kind)},
                         headers=headers)

    page = upload("alert.xml", raw, "application/xml")
    fragment = upload("alert.xml", raw, "application/xml", **{"HX-Request": "true"})
    listed = upload("alerts.zip", _zip("alert.xml", raw), "application/zip")
    as_json = upload("alert.xml", raw, "application/xml", Accept="application/json")
    assert {r.status_code for r in (page, fragment, listed)} == {422}, (page.status_code, listed.status_code)
    with live_server.client() as a2a:
        message = {"messageId": "m", "role": "ROLE_USER", "parts": [{"text": raw.decode()}]}
        error = a2a.post("/a2a", json={"jsonrpc": "2.0", "id": 1, "method": "SendMessage",
                                       "params": {"message": message}}, headers={"A2A-Version": "1.0"}).json()
    assert "error" in error, error
    got = {"page": ("html", page.text), "fragment": ("html", fragment.text), "batch refusal": ("html", listed.text),
           "A2A error": ("json", error["error"])}
    if as_json.headers["content-type"].startswith("application/json"):
        got["JSON for the CLI"] = ("json", as_json.json())
    shown = check(got, field)
    assert "page" in shown, f"the error for {field.path} does not name the value it refused"


# ----------------------------------------------------------------------------- what the desk writes

DESK_TEXTS = ("note", "rationale", "send-back comment", "approval comment", "STOR reference", "reopen reason")


@dataclass(frozen=True)
class DeskText:
    name: str

    @property
    def marker(self) -> str:
        return "xqdesk" + re.sub(r"[^a-z]", "", self.name) + "z"

    @property
    def kind(self) -> str:  # for the failure messages of check()
        return "desk"

    @property
    def path(self) -> str:
        return self.name


def test_what_the_desk_writes_is_escaped_in_every_rendering(live_server, clients, redis_client):
    """A case taken through the whole lifecycle with a hostile value in each text a desk user writes;
    then every rendering of the case is read (each text must be shown in at least one)."""
    analyst, auditor = clients
    reviewer = Browser(live_server, role="reviewer")
    since = datetime.fromtimestamp(time.time() - 2, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    uploaded = analyst.upload((SAMPLES / "insider_genuine_acme.xml").read_bytes())
    assert uploaded.status_code == 303, uploaded.text
    run_id = uploaded.headers["location"].rsplit("/", 1)[1]
    assert terminal(redis_client, run_id).type == "run_completed"
    alert_id = analyst.http.get(f"/analyses/{run_id}.json").json()["run"]["alert_id"]
    texts = {name: hostile(DeskText(name).marker) for name in DESK_TEXTS}
    case_path = f"/cases/{quote(alert_id, safe='')}"

    def act(who: Browser, action: str, **form) -> None:
        version = re.search(r'name="version" value="(\d+)"', who.http.get(case_path).text).group(1)
        done = who.http.post(f"{case_path}/{action}", data={"csrf_token": who.token, "version": version, **form})
        assert done.status_code == 303, (action, done.status_code, done.text[:500])

    try:
        act(analyst, "assign")
        act(analyst, "note", text=texts["note"])
        act(analyst, "propose", outcome="ESCALATE", reason_code="reasonable_suspicion", rationale="first")
        act(reviewer, "send-back", comment=texts["send-back comment"])
        act(analyst, "propose", outcome="ESCALATE", reason_code="reasonable_suspicion", rationale=texts["rationale"])
        act(reviewer, "approve", comment=texts["approval comment"])
        act(analyst, "submit-stor", reference=texts["STOR reference"], submitted_on="2026-11-20")
        act(analyst, "reopen", reason=texts["reopen reason"])
    finally:
        reviewer.close()
    got = desk_renderings(analyst.http, alert_id, run_id)
    got["home page"] = ("html", analyst.http.get("/").text)
    got["audit trail"] = ("html", auditor.get("/audit", params={"case": alert_id}).text)
    got["audit export (jsonl)"] = ("json", [json.loads(line) for line in auditor.get(
        "/audit/export", params={"format": "jsonl", "since": since}).text.splitlines()])
    got["audit export (csv)"] = ("cells", [cell for row in csv.reader(io.StringIO(auditor.get(
        "/audit/export", params={"format": "csv", "since": since}).text)) for cell in row])
    everywhere = {"case page", "case file", "case file PDF", "audit trail", "audit export (jsonl)",
                  "audit export (csv)"}
    for name in DESK_TEXTS:
        shown = check(got, DeskText(name))
        assert shown == everywhere, (name, sorted(shown))
