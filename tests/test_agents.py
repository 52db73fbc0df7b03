"""Investigations with the offline analyst: determinations, citations, and data failures."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from agents.alerts import parse_alert
from agents.analyst_offline import OfflineAnalyst
from agents.data import Dataset, dataset
from agents.decision import Decision
from agents.orchestrator import Outcome, investigate, specialist_for
from tests.conftest import SAMPLES, TEST_DATA
from tests.expected_determinations import EXPECTED


def run(alert, data_dir: Path = TEST_DATA) -> tuple[list[dict], Outcome]:
    events, outcome = [], None
    for item in investigate(alert, dataset=dataset(data_dir), analyst=OfflineAnalyst("Test Firm plc")):
        if isinstance(item, Outcome):
            outcome = item
        else:
            events.append(item)
    return events, outcome


def decide(name: str, data_dir: Path = TEST_DATA) -> tuple[object, list[dict], Decision]:
    alert = parse_alert((SAMPLES / name).read_bytes())
    events, outcome = run(alert, data_dir)
    assert outcome.error is None, outcome.error
    return alert, events, outcome.decision


def test_every_sample_has_an_expected_determination():
    assert {p.name for p in SAMPLES.glob("*.xml")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_reaches_expected_determination(name):
    _alert, _events, decision = decide(name)
    assert decision.determination.value == EXPECTED[name][0], decision.rationale
    assert decision.analyst == "offline rules v1"
    assert 0 <= decision.confidence <= 100
    if decision.determination == "ESCALATE":
        stor = decision.stor
        assert stor and stor.reporting_firm == "Test Firm plc"
        assert stor.instrument and stor.suspected_persons and stor.transactions and stor.evidence
        assert "tipping-off" in stor.confidentiality
        assert decision.red_flags
    else:
        assert decision.stor is None
    if decision.determination == "CLOSE":
        assert decision.disposition_reason.startswith("False positive")
        assert decision.mitigating_factors
    if decision.determination == "NEEDS_HUMAN_REVIEW":
        assert decision.data_gaps or (decision.red_flags and decision.mitigating_factors)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_steps_run_in_the_specialists_order_and_each_one_finishes(name):
    alert, events, _decision = decide(name)
    started = [e["step_id"] for e in events if e["type"] == "step_started"]
    finished = [e["step_id"] for e in events if e["type"] in ("step_completed", "step_failed")]
    specialist = specialist_for(alert.kind)
    assert started == ["orchestrator.triage", *(specialist.step_id(t.name) for t in specialist.tools),
                       specialist.step_id("analyst")]
    assert finished == started
    for e in events:
        if e["type"] == "step_progress":
            assert e["data"]["step"] <= e["data"]["total"]


# ----------------------------------------------------------------------------- citations

def _csv_row(path: Path, line: int) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert 1 < line <= len(lines), f"{path.name} has no data line {line}"
    header = lines[0].split(",")
    return dict(zip(header, lines[line - 1].split(","), strict=False))


def _news_symbol(path: Path, line: int) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    for text in reversed(lines[:line]):
        if m := re.match(r"^=+\s*(\S+) News Timeline", text):
            return m.group(1)
    raise AssertionError(f"line {line} of {path.name} is in no symbol block")


def _subject_ids(alert) -> set[str]:
    return {alert.trader.trader_id} if hasattr(alert, "trader") else set(alert.accounts)


# The alert's own indicators that findings cite, and where the parsed alert keeps each.
ALERT_ELEMENTS = {
    "AnomalyIndicators/AnomalyScore": lambda a: a.anomaly.anomaly_score,
    "AnomalyIndicators/EstimatedProfit": lambda a: a.anomaly.estimated_profit,
    "SuspiciousActivity/TradeDate": lambda a: a.activity.trade_date,
    "RelatedEvent/EventDate": lambda a: a.related_event.event_date,
    "AlertMetadata/AnomalyScore": lambda a: a.metadata.anomaly_score,
    "WashTradeIndicators/DailyVolume": lambda a: a.indicators.daily_volume,
    "WashTradeIndicators/VolumeImpact": lambda a: a.indicators.volume_impact,
}


def assert_citation_resolves(citation, alert, data_dir: Path = TEST_DATA) -> None:
    symbol = alert.symbol
    if citation.source == "alert":
        for element in citation.elements:
            if m := re.search(r"Trade\[@sequence=(\d+)\]", element):
                assert int(m.group(1)) in {t.sequence for t in alert.trades}
            elif m := re.search(r"Order\[OrderID=([^\]]+)\]", element):
                assert m.group(1) in {o.order_id for o in alert.orders}
            else:
                assert element in ALERT_ELEMENTS, f"unexpected alert element {element}"
                assert ALERT_ELEMENTS[element](alert) is not None, f"{element} is not in the alert"
        return
    path = data_dir / citation.source
    # an empty search says what it searched, a failed one what it could not search
    assert citation.lines or "none found" in citation.note or "could not be searched" in citation.note, citation
    if not path.is_file():
        assert "could not be searched" in citation.note, citation
        return
    for line in citation.lines:
        if citation.source == "market_news.txt":
            assert _news_symbol(path, line) == symbol
            continue
        row = _csv_row(path, line)
        if citation.source in ("market_data.csv", "peer_trades.csv"):
            assert row["symbol"] == symbol, (citation, row)
        elif citation.source in ("trader_history.csv", "trader_profiles.csv", "spoofing/order_history.csv"):
            assert row["trader_id"] in _subject_ids(alert), (citation, row)
        elif citation.source.startswith("wash_trade/"):
            assert row["account_id"] in alert.accounts, (citation, row)
        else:
            raise AssertionError(f"unknown source {citation.source}")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_finding_cites_real_data(name):
    alert, _events, decision = decide(name)
    cited = 0
    for finding in decision.findings:
        assert finding.tool
        for citation in finding.citations:
            assert_citation_resolves(citation, alert)
            cited += 1
    evidence_findings = [f for f in decision.findings if f.kind in ("red_flag", "mitigating")]
    assert evidence_findings
    assert all(f.citations for f in decision.findings), [f.rule for f in decision.findings if not f.citations]
    assert cited >= len(evidence_findings)


def test_numbers_in_a_finding_match_the_cited_rows():
    _alert, _events, decision = decide("insider_genuine_acme.xml")
    gain = next(f for f in decision.findings if f.rule == "ID-R9")
    trade_day, reference = gain.citations[:2]
    close = float(_csv_row(TEST_DATA / reference.source, reference.lines[0])["close"])
    assert f"{(close - 52.30) * 40_000:,.0f}" in gain.detail
    assert _csv_row(TEST_DATA / trade_day.source, trade_day.lines[0])["date"] == "2024-03-13"


# ----------------------------------------------------------------------------- failures

@dataclass
class UnroutableAlert:
    alert_id: str = "X-1"
    alert_type: str = "Marking the Close"
    kind: str = "marking_the_close"
    symbol: str = "ACME"
    subject: str = "T001"


def test_unknown_alert_type_is_a_failed_step_not_a_crash():
    events, outcome = run(UnroutableAlert())
    assert outcome.decision is None
    assert "No specialist agent investigates alert type 'Marking the Close'" in outcome.error
    assert [e["type"] for e in events][-1] == "step_failed"


@pytest.fixture
def data_copy(tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(TEST_DATA, target, ignore=shutil.ignore_patterns("alerts"))
    return target


def _failed_steps(events) -> dict[str, str]:
    return {e["step_id"]: e["data"]["error"] for e in events if e["type"] == "step_failed"}


def test_missing_data_file_fails_its_step_and_the_case_needs_review(data_copy):
    (data_copy / "trader_history.csv").unlink()
    _alert, events, decision = decide("insider_genuine_acme.xml", data_copy)
    failed = _failed_steps(events)
    assert list(failed) == ["insider_dealing.trader_history"]
    assert "trader_history.csv not found in the data directory" in failed["insider_dealing.trader_history"]
    assert decision.determination == "NEEDS_HUMAN_REVIEW"
    assert any("Trading history" in g.title for g in decision.data_gaps)


def test_malformed_value_names_file_line_and_column(data_copy):
    path = data_copy / "market_data.csv"
    lines = path.read_text().splitlines()
    lines[5] = lines[5].replace(lines[5].split(",")[5], "n/a", 1)
    path.write_text("\n".join(lines) + "\n")
    _alert, events, decision = decide("wash_genuine_gldx.xml", data_copy)
    error = _failed_steps(events)["wash_trade.volume_impact"]
    assert "market_data.csv line 6: column close has invalid value 'n/a'" in error
    assert decision.determination == "ESCALATE"  # volume impact is not key evidence for a wash trade


def test_missing_column_is_reported(data_copy):
    path = data_copy / "trader_profiles.csv"
    path.write_text(path.read_text().replace("access_level,", "", 1))
    _alert, events, decision = decide("spoofing_genuine_flux.xml", data_copy)
    assert "trader_profiles.csv is missing a column: access_level" in \
        _failed_steps(events)["spoofing.trader_profile"]
    assert decision.determination == "NEEDS_HUMAN_REVIEW"


def test_malformed_news_line_is_reported(data_copy):
    path = data_copy / "market_news.txt"
    path.write_text(path.read_text().replace("2024-03-04 14:30 - ", "yesterday afternoon "))
    _alert, events, _decision = decide("insider_genuine_acme.xml", data_copy)
    assert "market_news.txt line 3: expected" in _failed_steps(events)["insider_dealing.news"]


def test_lookups_search_an_index_never_scan():
    ds = Dataset(TEST_DATA)
    plans = {
        "trader_history": "SELECT COUNT(*) FROM rows WHERE trader_id = ? AND date >= ? AND date < ?",
        "market_data": "SELECT * FROM rows WHERE symbol = ? AND date >= ? AND date <= ?",
        "related_accounts_history": "SELECT * FROM rows WHERE account_id IN (?) AND trade_date >= ?",
        "order_history": "SELECT * FROM rows WHERE trader_id = ? AND date >= ?",
    }
    for table, sql in plans.items():
        params = (1,) * sql.count("?")
        plan = " ".join(str(tuple(r)) for r in ds.query(table, f"EXPLAIN QUERY PLAN {sql}", params))
        assert "SEARCH rows USING" in plan and "SCAN" not in plan, (table, plan)


def test_data_is_indexed_once_and_shared(data_copy):
    first = Dataset(data_copy)
    cache = first.prepare("trader_history")
    built_at = cache.stat().st_mtime_ns
    second = Dataset(data_copy)  # another worker process would do the same
    assert second.prepare("trader_history") == cache
    assert cache.stat().st_mtime_ns == built_at
    (data_copy / "trader_history.csv").write_text((data_copy / "trader_history.csv").read_text() +
                                                  "T001,2024-03-01,QRTZ,BUY,100,70.0,Technology\n")
    assert Dataset(data_copy).prepare("trader_history") != cache  # a changed file is re-indexed
