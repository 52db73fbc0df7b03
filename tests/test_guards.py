"""Guards against silent closes, the confidence formulas, and the card that explains both."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import jinja2
import pytest

from agents.analyst_offline import OfflineAnalyst
from agents.investigation import Guard
from agents.orchestrator import SPECIALISTS
from agents.progress import NullReporter
from agents.text import noun, plural
from tests.rules_support import TRADE_DAY, case_of, insider_alert
from webapp.paths import resource_dir

# Timing (+20) + nothing public (+10) + a material gain (+15), outweighed by a crowd (-15), usual size
# (-15) and a volatile market (-5): net +10, at the closing threshold.
OUTWEIGHED = {"news": {"news_silence": True},
              "market_data": {"favourable_move": True, "material_move": True, "move_pct": 8.0,
                              "profit_or_loss_avoided": 80_000.0, "high_vix": True, "vix": 31.0},
              "peer_trades": {"peers_same_side": 3},
              "trader_history": {"size_ratio": 1.0, "symbol_trades": 5}}
PLAN = {"trader_profile": {"plan": {"text": "10b5-1 plan", "adopted": "2023-06-01", "side": None,
                                    "names_symbol": True}},
        "trader_history": {**OUTWEIGHED["trader_history"],
                           "same_size_trades": [{"date": "2023-09-01", "qty": 10_000, "line": 2},
                                                {"date": "2023-12-01", "qty": 10_000, "line": 3}]}}


def decide(overrides: dict, **alert):
    return OfflineAnalyst().decide(case_of("insider", insider_alert(**alert), overrides), NullReporter())


def test_a_strong_cluster_outweighed_is_not_closed_but_reviewed_naming_the_guard():
    decision = decide(OUTWEIGHED, event_date=TRADE_DAY + timedelta(days=3))
    assert decision.score == 10
    assert decision.determination == "NEEDS_HUMAN_REVIEW" and decision.disposition_reason is None
    assert decision.guard == ("ID-G1 traded in the event's run-up, before any disclosure, with a material gain or "
                              "loss avoided")
    assert decision.confidence == 70 and decision.confidence_note.startswith("70: closing was refused because guard "
                                                                             "ID-G1")
    assert f"guard {decision.guard} stands" in decision.rationale


def test_a_cluster_explained_by_a_documented_plan_may_close():
    decision = decide({**OUTWEIGHED, **PLAN}, event_date=TRADE_DAY + timedelta(days=3))
    assert decision.determination == "CLOSE" and decision.guard is None
    # the timing, silence and gain are explained (context, no weight); the crowd, usual size, VIX and the plan count
    assert decision.score == -15 - 15 - 5 - 20 and decision.confidence == 95
    assert {f.rule for f in decision.of_kind("context")} == {"ID-R4", "ID-R5", "ID-R9"}
    assert "Not counted (explained, or one fact with another finding)" in decision.rationale
    html = _card(decision)
    assert "findings--context" in html and "Explained by ID-M8 (the trade follows a documented trading plan)" in html


def test_a_close_without_a_cluster_is_a_close():
    # no material gain: timing +20 and nothing disclosed +10, outweighed by the crowd, usual size and VIX: -5
    decision = decide({**OUTWEIGHED, "market_data": {**OUTWEIGHED["market_data"], "material_move": False}},
                      event_date=TRADE_DAY + timedelta(days=3))
    assert decision.determination == "CLOSE" and decision.score == -5 and decision.guard is None
    assert decision.confidence == 77 and decision.thresholds.close_at == 10


def test_only_the_issuers_disclosure_explains_the_timing_cluster():
    """ID-G1 stands on timing and a material gain until the issuer disclosed the matter before the trade (ID-M1): a
    rumour (ID-M7) or news of another kind (ID-M6) subtract their weight but never dismantle it."""
    base = {**OUTWEIGHED, "news": {"news_silence": False}}
    for news in ({"reported_before": ["“Bigco eyes Acme” (Bloomberg): unconfirmed"]},
                 {"direction_before": ["“Acme wins contract” (RNS): positive"]}):
        decision = decide({**base, "news": {**base["news"], **news}}, event_date=TRADE_DAY + timedelta(days=3))
        assert decision.score <= 10 and decision.determination == "NEEDS_HUMAN_REVIEW", news
        assert decision.guard.startswith("ID-G1"), news
    disclosed = decide({**base, "news": {**base["news"], "disclosed_before": ["“Bigco to acquire Acme” (RNS)"]}},
                       event_date=TRADE_DAY + timedelta(days=3))
    assert disclosed.determination == "CLOSE" and disclosed.guard is None


def _wash(overrides):
    from tests.rules_support import wash_alert

    return OfflineAnalyst().decide(case_of("wash", wash_alert(), overrides), NullReporter())


EXEMPT = {"account_relationships": {"same_beneficial_owner": True, "exempt_book": True, "linked_pairs": [],
                                    "relationship_types": {"A": "market_maker", "B": "hedge_book"}}}


def test_exempt_books_explain_an_isolated_self_match_but_not_a_pattern():
    """FINRA 5210 .02: a firm's self-trades between its market-making and hedging books are bona fide when isolated;
    a pattern of them is not what the exemption covers."""
    isolated = _wash({**EXEMPT, "related_accounts_history": {"offsetting_pairs": 1}})
    assert isolated.determination == "CLOSE" and isolated.guard is None
    pattern = {**EXEMPT, "related_accounts_history": {"offsetting_pairs": 3}}
    repeated = _wash(pattern)
    assert repeated.determination == "NEEDS_HUMAN_REVIEW" and "WT-M1" not in {f.rule for f in repeated.findings}
    from tests.rules_support import wash_alert

    case = case_of("wash", wash_alert(), pattern)
    assert [g.id for g in case.standing_guards(case.findings_from_rules())] == ["WT-G1", "WT-G2"]


def test_guard_stands_only_when_complete_and_unexplained():
    guard = Guard("X-G1", "test", requires=("R1", "R2"), explained_by=("M1",))
    assert guard.stands({"R1", "R2"}) and guard.stands({"R1", "R2", "M2"})
    assert not guard.stands({"R1"}) and not guard.stands({"R1", "R2", "M1"})


def test_every_guard_is_made_of_the_specialists_red_flags_and_explained_by_its_mitigations():
    for module in SPECIALISTS.values():
        kinds = {r.id: r.kind for r in module.SPECIALIST.rules}
        for guard in module.SPECIALIST.guards:
            assert all(kinds[r] == "red_flag" for r in guard.requires), guard
            assert all(kinds[r] == "mitigating" for r in guard.explained_by), guard


@pytest.mark.parametrize(("overrides", "determination", "confidence", "note"), [
    # conflicting: +20 timing +10 silence +15 gain -15 crowd: 30, one mitigating factor -> 55 + 5
    ({**OUTWEIGHED, "trader_history": {}, "market_data": {**OUTWEIGHED["market_data"], "high_vix": False}},
     "NEEDS_HUMAN_REVIEW", 60, "55 + 5 per pair of conflicting signals"),
    # escalate: 20 + 10 + 15 + 15 (access) + 10 (first trade) = 70 -> 50 + 35
    ({**OUTWEIGHED, "peer_trades": {}, "market_data": {**OUTWEIGHED["market_data"], "high_vix": False},
      "trader_profile": {"inside_information_access": True}, "trader_history": {"first_time_symbol": True}},
     "ESCALATE", 85, "50 + half the net score"),
])
def test_confidence_formulas(overrides, determination, confidence, note):
    decision = decide(overrides, event_date=TRADE_DAY + timedelta(days=3))
    assert (decision.determination, decision.confidence) == (determination, confidence)
    assert note in decision.confidence_note


def test_missing_key_evidence_reviews_and_says_so():
    case = case_of("insider", insider_alert(), failed=("news",))
    decision = OfflineAnalyst().decide(case, NullReporter())
    assert decision.determination == "NEEDS_HUMAN_REVIEW" and decision.confidence == 80
    gap = next(f for f in decision.data_gaps if f.tool == "news")
    assert gap.citations and gap.citations[0].source == "market_news.txt"
    assert "could not be searched" in gap.citations[0].note


def _card(decision) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(resource_dir("templates")), autoescape=True)
    env.globals["url_for"] = lambda endpoint, **values: f"/{endpoint}"  # the card links citations to their rows
    view = SimpleNamespace(decision=decision.model_dump(mode="json"), status="completed")
    return env.get_template("fragments/_decision.html").render(view=view, run=SimpleNamespace(id="r" * 32), oob=False)


def test_the_card_shows_the_score_against_the_thresholds_the_guard_and_what_confidence_means():
    html = _card(decide(OUTWEIGHED, event_date=TRADE_DAY + timedelta(days=3)))
    assert "Net score <strong>+10</strong> against the rules' thresholds" in html
    assert "close at ≤ 10 · review from 11 to 49 · escalate at ≥ 50 with at least 3 red flags" in html
    assert "in the closing band" in html
    assert "<strong>Guard ID-G1 traded in the event&#39;s run-up" in html
    assert "What the confidence means: 70: closing was refused" in html


def test_counted_nouns():
    assert [plural(n, "order") for n in (0, 1, 2, 1_500)] == ["0 orders", "1 order", "2 orders", "1,500 orders"]
    assert noun(1, "day") == "day" and plural(3, "price level") == "3 price levels"
    assert plural(2, "analysis", "analyses") == "2 analyses"
