"""The desk's pages and forms through the Flask test client (the app in this process, a real
Redis, an SQLite record): the queue, the case page, every lifecycle form with and without htmx,
the refusals as fragments (403 four-eyes, 409 illegal or stale, 422 incomplete), escaping,
the CSV export, duplicates and the case file's PDF."""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import quote

import pytest
from pypdf import PdfReader

from agents.alerts import parse_alert
from tests.conftest import SAMPLES
from tests.servers import CSRF, Identity, provision
from webapp.app import create_app
from webapp.config import Settings
from webapp.keys import DESK_LOG
from webapp.record import audit, cases, runs
from webapp.record.audit import Actor

HX = {"HX-Request": "true"}


@pytest.fixture(scope="module")
def accounts(tmp_path_factory) -> Identity:
    return provision(f"sqlite:///{tmp_path_factory.mktemp('desk') / 'record' / 'r.sqlite3'}")


@pytest.fixture(scope="module")
def app(redis_url, accounts, tmp_path_factory):
    settings = Settings.from_env(redis_url=redis_url, database_url=accounts.database_url, secret_key="k",
                                 state_dir=tmp_path_factory.mktemp("state"), principal_cache_seconds=0)
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="module")
def db(app):
    return app.extensions["saa"].db


class User:
    """A signed-in browser session (test client) of one role."""

    def __init__(self, app, accounts: Identity, role: str):
        self.client = app.test_client()
        form = self.client.get("/login")
        response = self.client.post("/login", data={"csrf_token": CSRF.search(form.text).group(1),
                                                    "username": accounts.username(role),
                                                    "password": accounts.passwords[role]})
        assert response.status_code == 303
        self.name = accounts.username(role)

    def token(self, path: str = "/") -> str:
        return CSRF.search(self.client.get(path).text).group(1)

    def act(self, case_id: str, action: str, version: int | None = None, *, htmx: bool = False, **form):
        if version is None:
            version = cases.get(self.client.application.extensions["saa"].db, case_id).version
        return self.client.post(f"/cases/{quote(case_id)}/{action}", headers=HX if htmx else {},
                                data={"csrf_token": self.token(), "version": version, **form})


@pytest.fixture(scope="module")
def analyst(app, accounts):
    return User(app, accounts, "analyst")


@pytest.fixture(scope="module")
def reviewer(app, accounts):
    return User(app, accounts, "reviewer")


@pytest.fixture(scope="module")
def auditor(app, accounts):
    return User(app, accounts, "auditor")


@pytest.fixture(scope="module")
def admin(app, accounts):
    return User(app, accounts, "admin")


def new_case(db, alert_id: str, determination: str | None = "ESCALATE", sample: str = "insider_genuine_acme.xml"):
    """A case of ``alert_id`` (the sample's alert, renamed), its run finished with ``determination``."""
    raw = (SAMPLES / sample).read_bytes()
    old = parse_alert(raw).alert_id
    raw = raw.replace(old.encode(), alert_id.encode())
    alert = parse_alert(raw)
    run_id = re.sub(r"[^0-9a-f]", "0", alert_id.lower().encode().hex())[:32].ljust(32, "0")
    runs.record_start(db, Actor("test-analyst", "analyst"), [(run_id, alert, raw, sample)])
    if determination:
        from agents.events import Event, EventType

        decision = {"determination": determination, "confidence": 77, "summary": "Summary of the decision",
                    "rationale": "why", "findings": [], "analyst": "offline rules v1", "red_flags": [],
                    "mitigating_factors": []}
        events = [Event(run_id=run_id, seq=1, ts=1.7e9, type=EventType.RUN_STARTED, data={}),
                  Event(run_id=run_id, seq=2, ts=1.7e9 + 1, type=EventType.DECISION, data=decision),
                  Event(run_id=run_id, seq=3, ts=1.7e9 + 2, type=EventType.RUN_COMPLETED, data=decision)]
        runs.save_finished(db, run_id, {"alert_id": alert_id, "kind": str(alert.kind), "alert_type": alert.alert_type,
                                        "status": "completed", "subject": alert.subject, "symbol": alert.symbol},
                           events, raw)
    return alert_id, run_id


def test_the_queue_is_the_home_page_and_administrators_do_not_read_it(app, db, analyst, admin, auditor):
    new_case(db, "DESK-HOME-1")
    page = analyst.client.get("/")
    assert page.status_code == 200 and "Work queue" in page.text and "DESK-HOME-1" in page.text
    assert 'id="upload-form"' in page.text  # analysts upload from here
    assert 'id="upload-form"' not in auditor.client.get("/").text
    assert admin.client.get("/").status_code == 403
    assert admin.client.get("/cases.csv").status_code == 403
    assert admin.client.get("/cases/DESK-HOME-1").status_code == 403


def test_filters_are_a_link_bad_values_fall_back_and_htmx_gets_only_the_rows(db, analyst):
    new_case(db, "DESK-FILTER-1", "CLOSE", "wash_false_positive_prsm.xml")
    page = analyst.client.get("/?state=bogus&type=wash_trade&determination=CLOSE&sort=nonsense&from=not-a-date")
    assert page.status_code == 200 and "DESK-FILTER-1" in page.text and "DESK-HOME-1" not in page.text
    assert 'value="wash_trade" selected' in page.text
    rows = analyst.client.get("/?q=DESK-FILTER-1", headers=HX)
    assert rows.status_code == 200 and rows.text.lstrip().startswith("<div id=\"queue-rows\">")
    assert "<html" not in rows.text and "HX-Request" in rows.headers.get("Vary", "")


def test_the_whole_lifecycle_through_the_forms_with_four_eyes(db, analyst, reviewer):
    case_id, _run = new_case(db, "DESK-FLOW-1", "NEEDS_HUMAN_REVIEW")
    assert analyst.act(case_id, "assign").status_code == 303
    page = analyst.client.get(f"/cases/{case_id}")
    assert 'data-action="propose"' in page.text and "overrides the AI" in page.text

    done = analyst.act(case_id, "propose", htmx=True, outcome="CLOSE", reason_code="public_information",
                       rationale="The results were announced the evening before.")
    assert done.status_code == 200 and "waiting for a reviewer" in done.text
    assert 'id="own-proposal"' in done.text and 'data-action="approve"' not in done.text

    refused = analyst.act(case_id, "approve", htmx=True)  # an analyst cannot approve at all
    assert refused.status_code == 403 and "role" in refused.text

    page = reviewer.client.get(f"/cases/{case_id}")
    assert 'data-action="approve"' in page.text and 'data-action="send-back"' not in page.text
    sent = reviewer.act(case_id, "send-back", htmx=True, comment="Cite the announcement's time.")
    assert sent.status_code == 200 and "Sent back" in sent.text and "Cite the announcement" in sent.text
    analyst.act(case_id, "propose", outcome="CLOSE", reason_code="public_information", rationale="At 17:45.")
    approved = reviewer.act(case_id, "approve", comment="Agreed.")
    assert approved.status_code == 303
    case = cases.get(db, case_id)
    assert (case.state, case.outcome) == ("closed", "CLOSE")
    assert [(r.reviewer, r.decision) for r in case.reviews] == [("test-reviewer", "sent_back"),
                                                                ("test-reviewer", "approved")]
    actions = [e.action for e in audit.page(db, case_id=case_id, limit=50)]
    assert {"case.assign", "case.propose", "case.send_back", "case.approve", "case.decide"} <= set(actions)


def test_a_reviewer_never_approves_their_own_proposal(db, reviewer):
    case_id, _ = new_case(db, "DESK-SELF-1")
    reviewer.act(case_id, "assign")
    reviewer.act(case_id, "propose", outcome="ESCALATE", reason_code="reasonable_suspicion", rationale="r")
    refused = reviewer.act(case_id, "approve", htmx=True)
    assert refused.status_code == 403 and "four-eyes" in refused.text
    page = reviewer.act(case_id, "approve")  # without JavaScript: the page, with the refusal
    assert page.status_code == 403 and "<html" in page.text and "four-eyes" in page.text
    assert cases.get(db, case_id).state == "proposed"


def test_a_case_is_handed_to_someone_who_works_cases_and_only_to_them(db, analyst, reviewer, accounts):
    case_id, _ = new_case(db, "DESK-HAND-1")
    page = reviewer.client.get(f"/cases/{case_id}")
    form = re.search(r'data-action="hand_over">(.*?)</form>', page.text, re.S).group(1)
    offered = re.findall(r'<option value="([^"]+)">', form)
    assert "test-analyst" in offered and "test-reviewer" not in offered  # not oneself: "Assign to me" does that
    assert accounts.username("admin") not in offered and accounts.username("auditor") not in offered
    handed = reviewer.act(case_id, "assign", htmx=True, assignee="test-analyst")
    assert handed.status_code == 200 and "Assigned." in handed.text
    assert cases.get(db, case_id).assignee == "test-analyst"
    after = reviewer.client.get(f"/cases/{case_id}").text
    assert 'data-action="hand_over"' not in after  # the only other person who works cases has it already
    refused = reviewer.act(case_id, "assign", htmx=True, assignee=accounts.username("auditor"))
    assert refused.status_code == 422 and "not an active account that works cases" in refused.text
    assert cases.get(db, case_id).assignee == "test-analyst"


def test_only_the_proposer_withdraws_a_proposal_before_review_and_it_stays_on_record(db, analyst, reviewer):
    case_id, _ = new_case(db, "DESK-WITHDRAW-1")
    analyst.act(case_id, "assign")
    analyst.act(case_id, "propose", outcome="ESCALATE", reason_code="reasonable_suspicion",
                rationale="Wrong trade date.")
    page = reviewer.client.get(f"/cases/{case_id}")
    assert 'data-action="withdraw"' not in page.text  # a reviewer sends back instead
    refused = reviewer.act(case_id, "withdraw", htmx=True)
    assert refused.status_code == 403 and "Only test-analyst" in refused.text
    assert cases.get(db, case_id).state == "proposed"

    assert 'data-action="withdraw"' in analyst.client.get(f"/cases/{case_id}").text
    done = analyst.act(case_id, "withdraw", htmx=True)
    assert done.status_code == 200 and "Proposal withdrawn" in done.text
    case = cases.get(db, case_id)
    assert (case.state, case.assignee) == ("in_progress", "test-analyst")
    [entry] = [e for e in audit.page(db, case_id=case_id, limit=50) if e.action == "case.withdraw"]
    assert entry.actor == "test-analyst" and entry.detail["rationale"] == "Wrong trade date."
    assert analyst.act(case_id, "withdraw", htmx=True).status_code == 409  # nothing left to withdraw


def test_a_stale_form_gets_a_409_showing_the_new_state_and_nothing_changes(db, analyst, reviewer):
    case_id, _ = new_case(db, "DESK-STALE-1")
    seen = cases.get(db, case_id).version
    reviewer.act(case_id, "assign", seen)
    late = analyst.act(case_id, "assign", seen, htmx=True)
    assert late.status_code == 409
    assert "Someone changed this case" in late.text and "test-reviewer" in late.text
    assert 'data-state="in_progress"' in late.text
    assert cases.get(db, case_id).assignee == "test-reviewer"


def _field(html: str, field_id: str) -> str:
    return re.search(rf'<(?:textarea|input|select)[^>]* id="{field_id}"[^>]*>', html).group(0)


def test_an_answer_empties_only_the_form_just_sent_and_a_refusal_keeps_it(db, analyst):
    """The page keeps a field's typed text when the field comes back with hx-preserve (a reload after a
    colleague's change always); the form whose action was done comes back without it, empty."""
    case_id, _ = new_case(db, "DESK-KEEP-1")
    analyst.act(case_id, "assign")
    reloaded = analyst.client.get(f"/cases/{quote(case_id)}/actions").text
    assert all("hx-preserve" in _field(reloaded, f) for f in ("note-text", "rationale", "reason-code", "outcome-close"))
    done = analyst.act(case_id, "note", htmx=True, text="First.")
    assert done.status_code == 200 and 'id="case-actions"' in done.text and 'hx-swap-oob="true"' in done.text
    assert "hx-preserve" not in _field(done.text, "note-text")
    assert "hx-preserve" in _field(done.text, "rationale") and "hx-preserve" in _field(done.text, "outcome-escalate")
    refused = analyst.act(case_id, "note", htmx=True, text="   ")
    assert refused.status_code == 422 and "hx-preserve" in _field(refused.text, "note-text")  # nothing was recorded


def test_an_illegal_transition_is_refused_with_a_clear_message(db, analyst):
    case_id, _ = new_case(db, "DESK-ILLEGAL-1")
    refused = analyst.act(case_id, "reopen", htmx=True, reason="why not")
    assert refused.status_code == 409 and "Reopen" in refused.text and "is New" in refused.text
    missing = analyst.act(case_id, "assign", htmx=True, version="x")
    assert missing.status_code == 422


def test_notes_are_escaped_and_an_auditor_reads_but_cannot_write(db, analyst, auditor):
    case_id, _ = new_case(db, "DESK-NOTE-1")
    analyst.act(case_id, "note", text='<script>alert("x")</script> & more')
    page = auditor.client.get(f"/cases/{case_id}")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more" in page.text
    assert "<script>alert" not in page.text and 'data-action="note"' not in page.text
    assert auditor.act(case_id, "note", text="hi").status_code == 403


def test_a_change_is_logged_for_the_live_pages_once_per_version(app, db, analyst, redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    case_id, _ = new_case(db, "DESK-LIVE-1")
    before = client.xlen(DESK_LOG)
    analyst.act(case_id, "assign")
    entries = client.xrevrange(DESK_LOG, count=1)
    assert client.xlen(DESK_LOG) == before + 1
    parts = entries[0][1][b"parts"].decode()
    assert "DESK-LIVE-1" in parts and "hx-swap-oob" in parts and 'hx-trigger=\\"load\\"' in parts
    store = app.extensions["saa"].store
    assert store.desk_publish(case_id, 1, "{}") is None  # an older version never goes out after a newer one


def test_a_queue_page_hears_of_cases_it_does_not_list_as_a_counted_notice(app, db, analyst):
    from webapp.desk.live import View, parts_of, row_key

    page = analyst.client.get("/")
    assert re.search(r'<p id="queue-news"[^>]*hidden', page.text)  # the notice's place, empty until news comes
    listed, _ = new_case(db, "DESK-NEWS-LISTED")
    with app.test_request_context("/"):
        services = app.extensions["saa"]
        parts = {case_id: json.dumps(parts_of(services, cases.get(db, case_id)))
                 for case_id in (listed, new_case(db, "DESK-NEWS-1")[0], new_case(db, "DESK-NEWS-2")[0])}
        view = View(None, {row_key(listed)})
        shown = view.fragment(listed, parts[listed])
        assert "DESK-NEWS-LISTED" in shown and "queue-news" not in shown  # a listed case: its row
        first = view.fragment("DESK-NEWS-1", parts["DESK-NEWS-1"])
        assert 'id="queue-news"' in first and "1 case not in this list" in first and "hidden" not in first
        assert "DESK-NEWS-1" not in first  # the unlisted row itself is not sent (it has no place here)
        assert "1 case not" in view.fragment("DESK-NEWS-1", parts["DESK-NEWS-1"])  # the same case again: still one
        assert "2 cases not in this list" in view.fragment("DESK-NEWS-2", parts["DESK-NEWS-2"])
        assert view.fragment(listed, parts[listed]).count("queue-news") == 0
        case_view = View(listed, set())
        assert case_view.fragment("DESK-NEWS-2", parts["DESK-NEWS-2"]) is None  # a case page hears only its case


def test_the_csv_has_the_queues_rows_and_cannot_smuggle_a_formula(db, analyst):
    new_case(db, "=HYPERLINK(1)", "ESCALATE")
    new_case(db, "DESK-CSV-2", "ESCALATE")  # two rows at least, whichever tests ran before
    page = analyst.client.get("/?determination=ESCALATE&sort=date")
    export = analyst.client.get("/cases.csv?determination=ESCALATE&sort=date")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    shown = re.findall(r'class="queue-row"[^>]*>\s*<td data-label="Alert"><a [^>]*href="[^"]+">([^<]+)</a>', page.text)
    exported = [r["alert_id"].removeprefix("'") for r in rows]
    assert len(shown) >= 2 and exported[:len(shown)] == shown  # the page's rows, in its order
    assert "'=HYPERLINK(1)" in [r["alert_id"] for r in rows]  # quoted: a spreadsheet shows it, never runs it
    assert all(r["ai_determination"] == "ESCALATE" for r in rows)


def test_uploading_an_alert_that_has_a_case_opens_the_case(db, analyst):
    case_id, _ = new_case(db, "DESK-DUP-1")
    raw = (SAMPLES / "insider_genuine_acme.xml").read_bytes()
    raw = raw.replace(parse_alert(raw).alert_id.encode(), case_id.encode())
    response = analyst.client.post("/analyses", data={"csrf_token": analyst.token(),
                                                      "alert": (io.BytesIO(raw), "dup.xml")})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/cases/{case_id}?duplicate=1")
    assert len(cases.get(db, case_id).runs) == 1  # nothing started
    page = analyst.client.get(response.headers["Location"])
    assert "already has a case" in page.text and 'id="reinvestigate-form"' in page.text


def test_the_case_file_prints_and_downloads_as_a_pdf_with_everything(db, analyst, reviewer):
    case_id, run_id = new_case(db, "DESK-PDF-1")
    analyst.act(case_id, "assign")
    analyst.act(case_id, "propose", outcome="ESCALATE", reason_code="reasonable_suspicion",
                rationale="Bought the day before the takeover.")
    reviewer.act(case_id, "approve", comment="Agreed, file it.")
    analyst.act(case_id, "note", text="Called the desk head.")
    printable = analyst.client.get(f"/analyses/{run_id}/case-file")
    assert printable.status_code == 200 and "Case file" in printable.text and "Agreed, file it." in printable.text
    assert 'data-action=' not in printable.text  # no forms on paper
    pdf = analyst.client.get(f"/analyses/{run_id}/case-file.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.data))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    for expected in ("DESK-PDF-1", "Summary of the decision", "Bought the day before the takeover.",
                     "Agreed, file it.", "Called the desk head.", "Approved a disposition", "Escalated"):
        assert expected in text, expected
    assert 1 <= len(reader.pages) <= 20
