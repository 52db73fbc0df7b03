"""The case library and `smarts-analyzer evaluate`: the figures hold their baseline, and the command's contract."""

from __future__ import annotations

import filecmp
import json
import re
import shutil
import subprocess
import sys
from collections import Counter

import pytest

from agents.alerts import parse_alert
from agents.analyst_offline import OfflineAnalyst
from agents.data import Dataset
from agents.evaluation import BASELINE_NAME, CaseError, load_cases, write_benchmarks_section
from agents.orchestrator import Outcome, investigate
from tests.servers import REPO
from tests.test_agents import assert_citation_resolves
from webapp import cli

LIBRARY = REPO / "test_data" / "cases"
FIGURES = re.compile(r"^evaluate \(offline rules v1\): (\d+)/(\d+) acceptable \(([\d.]+)%\); enforcement-modelled "
                     r"closed (\d+)/(\d+); CLOSE-only controls closed (\d+)/(\d+) \(([\d.]+)%\)$")


def test_evaluate_runs_the_library_and_holds_the_recorded_baseline():
    done = subprocess.run([sys.executable, "-m", "webapp.cli", "evaluate", "--offline"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert lines[0].startswith("case ") and "Confusion matrix" in done.stdout
    figures = FIGURES.match(lines[-1])
    assert figures, lines[-1]
    ok, total, pct, closed, _enforcement, _controls_closed, _controls, controls_pct = figures.groups()
    baseline = json.loads((LIBRARY / BASELINE_NAME).read_text())
    assert int(closed) == 0
    assert int(total) >= baseline["cases"] >= 40
    assert float(pct) >= baseline["acceptable_pct"] >= 90.0
    assert float(controls_pct) >= baseline["controls_closed_pct"] >= 80.0
    assert int(ok) == sum(line.endswith(" yes") or " yes  " in line for line in lines[1:int(total) + 1])


def test_the_library_has_every_kind_of_case_and_a_third_of_controls():
    cases = load_cases(LIBRARY)
    assert len(cases) >= 40
    assert {c.alert_kind for c in cases} == {"insider_dealing", "wash_trade", "spoofing"}
    controls = [c for c in cases if c.category == "control"]
    assert len(controls) * 3 >= len(cases) and all(c.acceptable == ("CLOSE",) for c in controls)
    enforcement = [c for c in cases if c.category == "enforcement"]
    assert all("CLOSE" not in c.acceptable for c in enforcement)
    # each names its model: an action (a party "v." another, "In re", an FCA/DOJ/CFTC/SEC notice) or a pattern
    assert all(re.search(r"\bv\.|In re|Final Notice|FINRA|SEC|CFTC|DOJ|FCA", c.modelled_on) for c in enforcement)
    assert all(c.modelled_on.startswith("Typical") for c in controls)


def test_the_held_out_sets_are_folded_into_the_library_under_their_names():
    """Each held-out set keeps its name in case.json, so its figures stay visible per set after it joined."""
    sets = Counter(c.set for c in load_cases(LIBRARY))
    assert sets["library"] == 50 and sets["held-out 1"] == 22 and sets["held-out 1 wording"] == 4
    assert sets["held-out 2"] == 24 and sets["held-out 2 wording"] == 9
    names = {c.name for c in load_cases(LIBRARY) if c.set == "held-out 2 wording"}
    assert all(n.startswith("wording2_") for n in names)


def test_the_library_is_what_the_generator_makes(tmp_path):
    subprocess.run([sys.executable, str(REPO / "scripts" / "make_cases.py"), str(tmp_path)], check=True,
                   capture_output=True, timeout=120)
    committed = sorted(p.name for p in LIBRARY.iterdir() if p.is_dir())
    assert sorted(p.name for p in tmp_path.iterdir()) == committed
    for name in committed:
        compare = filecmp.dircmp(tmp_path / name, LIBRARY / name)
        assert not (compare.diff_files or compare.left_only or compare.right_only), name


@pytest.mark.parametrize("case", load_cases(LIBRARY), ids=lambda c: c.name)
def test_every_finding_of_every_case_cites_its_source(case):
    alert = parse_alert((case.path / "alert.xml").read_bytes())
    ds = Dataset(case.path)
    try:
        outcome = next(i for i in investigate(alert, dataset=ds, analyst=OfflineAnalyst()) if isinstance(i, Outcome))
    finally:
        ds.close()
    assert outcome.decision.findings
    for finding in outcome.decision.findings:
        assert finding.citations, (finding.rule, finding.title)
        for citation in finding.citations:
            assert_citation_resolves(citation, alert, case.path)


def _library(tmp_path, *names: str, **meta) -> str:
    for name in names:
        shutil.copytree(LIBRARY / name, tmp_path / name)
        if meta:
            path = tmp_path / name / "case.json"
            path.write_text(json.dumps({**json.loads(path.read_text()), **meta}))
    return str(tmp_path)


def test_a_closed_enforcement_case_fails_the_run(tmp_path, capsys):
    # A control the rules close, relabelled as modelled on enforcement: evaluate must fail loudly.
    directory = _library(tmp_path, "wash_unrelated_institutions_exchange", category="enforcement",
                         acceptable=["ESCALATE"])
    assert cli.main(["evaluate", directory, "--offline"]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert "FAIL: 1 enforcement-modelled case closed (must be 0)" in out
    assert out[-1].endswith("enforcement-modelled closed 1/1; CLOSE-only controls closed 0/0 (0.0%)")


def test_figures_below_the_baseline_fail_the_run(tmp_path, capsys):
    directory = _library(tmp_path, "spoofing_single_bid_cancel_after_sale", acceptable=["ESCALATE"])
    (tmp_path / BASELINE_NAME).write_text(json.dumps({"acceptable_pct": 90.0}))
    assert cli.main(["evaluate", directory, "--offline"]) == 1
    assert "FAIL: acceptable_pct 0.0 is below the baseline's 90.0" in capsys.readouterr().out


@pytest.mark.parametrize(("meta", "error"), [
    ({"category": "control", "acceptable": ["NEEDS_HUMAN_REVIEW"]}, "a control's only acceptable determination is "
                                                                    "CLOSE"),
    ({"category": "enforcement", "acceptable": ["CLOSE"]}, "can never accept CLOSE"),
    ({"acceptable": ["MAYBE"]}, "acceptable must list determinations"),
])
def test_a_malformed_case_is_refused_with_the_reason(tmp_path, capsys, meta, error):
    directory = _library(tmp_path, "wash_spouses_linked_once", **meta)
    with pytest.raises(CaseError, match=error):
        load_cases(directory)
    assert cli.main(["evaluate", directory, "--offline"]) == 2
    assert error in capsys.readouterr().err


def test_the_benchmarks_table_is_written_into_its_own_section(tmp_path, capsys):
    target = tmp_path / "BENCHMARKS.md"
    target.write_text("# Benchmarks\n\n<!-- section: Other -->\n## Other\nkeep\n<!-- /section: Other -->\n")
    directory = _library(tmp_path / "lib", "wash_spouses_linked_once", "spoofing_agency_vwap_repricing")
    before = tmp_path / "before.json"
    before.write_text(json.dumps({"results": {"wash_spouses_linked_once": "CLOSE"}}))
    for _ in range(2):
        assert cli.main(["evaluate", directory, "--offline", "--benchmarks", str(target), "--before",
                         str(before)]) == 0
    text = target.read_text()
    assert text.count("<!-- section: Case library -->") == 1 and "keep" in text
    assert ("| `wash_spouses_linked_once` | ambiguous | linked household accounts trading against each other once "
            "(FINRA Rule 6140(b); MAR Annex I A(a)) | REVIEW | CLOSE | REVIEW 60 | yes |") in text
    capsys.readouterr()


def test_the_figures_are_given_per_set_when_the_library_holds_several(tmp_path, capsys):
    """A held-out set folded into the library stays visible: its case.json names the set, evaluate reports it."""
    directory = _library(tmp_path / "lib", "wash_spouses_linked_once", "spoofing_agency_vwap_repricing")
    _library(tmp_path / "lib", "heldout_wash_internaliser_retail_match")
    assert json.loads((tmp_path / "lib" / "heldout_wash_internaliser_retail_match" / "case.json").read_text())[
        "set"] == "held-out 1"
    before = tmp_path / "before.json"
    before.write_text(json.dumps({"results": {"heldout_wash_internaliser_retail_match": "ESCALATE"}}))
    target = tmp_path / "BENCHMARKS.md"
    assert cli.main(["evaluate", directory, "--offline", "--benchmarks", str(target), "--before", str(before),
                     "--before-label", "the old rules"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert ("set library: 2/2 acceptable (100.0%); enforcement-modelled closed 0/0; CLOSE-only controls closed 1/1 "
            "(100.0%)") in out
    assert "set held-out 1: 1/1 acceptable (100.0%); enforcement-modelled closed 0/0; CLOSE-only controls closed 1/1 " \
           "(100.0%)" in out
    assert out[-1].startswith("evaluate (offline rules v1): 3/3 acceptable")
    text = target.read_text()
    assert "*Before*: the old rules (`--before`), on the same cases." in text
    assert ("| held-out 1 | 0/1 acceptable (0.0%); enforcement-modelled closed 0/0; CLOSE-only controls closed 0/1 "
            "(0.0%) | 1/1 acceptable (100.0%)") in text


def test_write_benchmarks_section_creates_the_file(tmp_path):
    write_benchmarks_section(tmp_path / "B.md", "body")
    assert "## Case library" in (tmp_path / "B.md").read_text()
