"""The fold behind the timeline: what a step shows once its run was cancelled, the header's
"step N of M", a step's inputs and raw result, and the live clock's classes."""

from __future__ import annotations

import re
import time

from agents.events import Event, EventType
from webapp.templating import live_clock
from webapp.timeline import fold

RUN = "a" * 32


def _events(*specs) -> list[Event]:
    return [Event(run_id=RUN, seq=i, ts=1000.0 + i, type=EventType(t), step_id=s, agent=s and s.split(".")[0],
                  tool=s and s.split(".")[1], data=d) for i, (t, s, d) in enumerate(specs, 1)]


STEPS = (
    ("run_started", None, {"analyst": "offline rules v1"}),
    ("step_started", "orchestrator.triage", {"title": "Triage"}),
    ("step_completed", "orchestrator.triage", {"summary": "routed", "steps_total": 7}),
    ("step_started", "insider_dealing.trader_profile", {"title": "Profile"}),
    ("step_completed", "insider_dealing.trader_profile",
     {"summary": "found", "inputs": {"trader_id": "T001"}, "result": {"ok": True, "facts": {"role": "Analyst"}}}),
    ("step_started", "insider_dealing.trader_history", {"title": "History"}),
)


def test_the_step_running_when_the_run_is_cancelled_shows_cancelled_not_failed():
    view = fold(RUN, _events(*STEPS, ("run_cancelled", None, {"reason": "Cancelled by an analyst."})))
    assert view.status == "cancelled"
    assert view.steps["insider_dealing.trader_history"].status == "cancelled"
    assert view.steps["insider_dealing.trader_history"].error == ""
    assert [s.status for s in view.steps.values()] == ["done", "done", "cancelled"]
    failed = fold(RUN, _events(*STEPS, ("run_failed", None, {"error": "boom"})))
    assert failed.steps["insider_dealing.trader_history"].status == "failed"  # a failure still says so


def test_step_n_of_m_once_triage_has_chosen_the_specialist():
    assert fold(RUN, _events(*STEPS[:2])).steps_total is None
    view = fold(RUN, _events(*STEPS))
    assert (view.step_number, view.steps_total) == (3, 7)


def test_a_completed_step_keeps_its_inputs_and_raw_result_and_a_rerun_forgets_them():
    view = fold(RUN, _events(*STEPS))
    profile = view.steps["insider_dealing.trader_profile"]
    assert profile.inputs == {"trader_id": "T001"} and profile.result["facts"] == {"role": "Analyst"}
    again = fold(RUN, _events(*STEPS, ("run_resumed", None, {}), ("step_started", "insider_dealing.trader_profile",
                                                                    {"title": "Profile"})))
    rerun = again.steps["insider_dealing.trader_profile"]
    assert rerun.status == "running" and rerun.inputs is None and rerun.result is None and rerun.attempts == 2


def test_the_live_clock_carries_the_elapsed_seconds_as_one_class_per_digit():
    html = str(live_clock(time.time() - 1234.4))
    digits = dict(re.findall(r"clock--d(\d)-(\d)", html))
    assert digits == {"0": "4", "1": "3", "2": "2", "3": "1"} and "clock--live" in html
    assert "20 min 34 s" in html  # the server's text, for screen readers and old browsers
    assert re.findall(r"clock--d\d-\d", str(live_clock(time.time() - 7.2))) == ["clock--d0-7"]
    assert "clock--live" not in str(live_clock(time.time() - 50_000))  # past the four digits: no counting
