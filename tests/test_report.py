"""The JSON report: typed (numbers as numbers, ISO 8601 times), one decision, a schema version,
and a readable view of the same document."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from tests.conftest import Browser
from tests.test_e2e import read_stream, start_analysis
from webapp.report import SCHEMA_VERSION

pytestmark = pytest.mark.e2e
EPOCH = re.compile(r"^\d{9,10}(\.\d+)?$")


@pytest.fixture(scope="module")
def finished(live_server):
    session = Browser(live_server)
    run_id = start_analysis(session, "wash_genuine_gldx.xml")
    read_stream(live_server, run_id, after=0)
    session.close()
    return run_id


def _strings(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def test_the_json_report_is_typed_versioned_and_says_the_decision_once(live_server, finished):
    response = live_server.client().get(f"/analyses/{finished}.json")
    assert response.headers["content-type"] == "application/json"
    report = response.json()
    assert report["schema_version"] == SCHEMA_VERSION == 1
    run = report["run"]
    assert run["id"] == finished and run["status"] == "completed" and run["kind"] == "wash_trade"
    for name in ("created_at", "started_at", "finished_at"):
        assert run[name].endswith("Z") and datetime.fromisoformat(run[name]).utcoffset().total_seconds() == 0
    assert isinstance(run["elapsed_seconds"], float) and run["events"] == len(report["events"])
    decision = report["decision"]
    assert isinstance(decision["confidence"], int) and decision["determination"] == "ESCALATE"
    assert all(isinstance(e["seq"], int) and datetime.fromisoformat(e["time"]) for e in report["events"])
    assert [e["seq"] for e in report["events"]] == list(range(1, len(report["events"]) + 1))
    # The decision is the document's "decision"; its event in the log points there instead of repeating it.
    [event] = [e for e in report["events"] if e["type"] == "decision"]
    assert event["data"] == {"determination": "ESCALATE", "confidence": decision["confidence"], "see": "decision"}
    assert json.dumps(report).count('"rationale"') == 1
    assert not [s for s in _strings(report) if EPOCH.match(s)]  # no epoch seconds hiding in strings
    assert not [s for s in _strings(run) if re.fullmatch(r"-?\d+(\.\d+)?", s)]  # nor numbers as strings


def test_the_report_has_a_readable_view(live_server, finished):
    with live_server.client() as http:
        report = http.get(f"/analyses/{finished}.json").json()
        page = http.get(f"/analyses/{finished}/report")
        analysis = http.get(f"/analyses/{finished}").text
    assert page.status_code == 200 and "<html" in page.text
    assert f'href="/analyses/{finished}/report"' in analysis
    assert page.text.count('<td data-label="#" class="num">') == len(report["events"])
    assert f"schema version {SCHEMA_VERSION}" in page.text and "WT-2024-0612-001" in page.text
    assert report["events"][0]["time"] in page.text  # times as in the document (UTC)
