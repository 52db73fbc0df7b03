"""The timeline: a run's events folded into what the page shows, and rendered as HTML.

The same fold serves the full page (all events so far) and each live fragment (the state
right after one event). Every fragment only *replaces* elements with stable ids, out of
band: the header on every event, the whole step list when a step appears, one step when it
changes, the decision card when it arrives. Replace-only fragments make replay harmless:
applying any suffix of the log again, in order, leaves the page exactly as it was.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from flask import current_app

from agents.events import STEP_EVENTS, Event, EventType
from webapp.charts import DRAWS_ON

STATUS_BY_EVENT = {
    EventType.RUN_STARTED: "running",
    EventType.RUN_RESUMED: "running",
    EventType.RUN_COMPLETED: "completed",
    EventType.RUN_FAILED: "failed",
    EventType.RUN_CANCELLED: "cancelled",
}


@dataclass
class StepView:
    step_id: str
    title: str
    agent: str | None
    tool: str | None
    started_at: float
    status: str = "running"
    step: int | None = None
    total: int | None = None
    message: str = ""
    summary: str = ""
    error: str = ""
    duration_ms: float | None = None
    attempts: int = 1
    analyst_text: str = ""
    inputs: dict | None = None   # what the tool was asked
    result: dict | None = None   # what it returned, raw
    chart: dict | None = None    # the data its chart is drawn from

    @property
    def dom_id(self) -> str:
        return "step-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.step_id)

    @property
    def percent(self) -> int | None:
        if self.status == "done":
            return 100
        if self.step is not None and self.total:
            return max(0, min(100, round(100 * self.step / self.total)))
        return None


@dataclass
class RunView:
    run_id: str
    status: str = "queued"
    started_at: float | None = None
    ended_at: float | None = None
    last_ts: float | None = None
    last_seq: int = 0
    steps: dict[str, StepView] = field(default_factory=dict)
    decision: dict | None = None
    error: str = ""
    notices: list[str] = field(default_factory=list)
    analyst: str = ""
    steps_total: int | None = None  # known once triage has chosen the specialist
    drawn_at: float | None = None   # the moment a fragment shows (its event's); None for a page: now

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed", "cancelled")

    @property
    def step_number(self) -> int:
        """Which step the run is at: the steps begun so far (a step run again after a resume counts once)."""
        return len(self.steps)

    def running_for(self) -> float | None:
        """Seconds since the run started, as of now: where the header's live clock starts counting."""
        if self.started_at is None:
            return None
        return max(0.0, time.time() - self.started_at)

    @property
    def elapsed(self) -> float | None:
        if self.started_at is None:
            return None
        return max(0.0, (self.ended_at or self.last_ts or self.started_at) - self.started_at)

    def apply(self, ev: Event) -> None:
        """Fold one event into the view. Applying the same event twice changes nothing."""
        if ev.seq <= self.last_seq:
            return
        self.last_seq, self.last_ts = ev.seq, ev.ts
        if ev.type in STATUS_BY_EVENT:
            self.status = STATUS_BY_EVENT[ev.type]
        if ev.type is EventType.RUN_STARTED:
            self.started_at = self.started_at or ev.ts
            self.analyst = ev.data.get("analyst", self.analyst)
        elif ev.type is EventType.RUN_RESUMED:
            self.notices.append(ev.data.get("message") or "Resumed by another worker.")
        elif ev.type in STEP_EVENTS:
            self._apply_step(ev)
        elif ev.type is EventType.ANALYST_TOKEN and ev.step_id in self.steps:
            self.steps[ev.step_id].analyst_text += ev.data.get("text", "")
        elif ev.type is EventType.DECISION:
            self.decision = ev.data
        if ev.is_terminal:
            self.ended_at = ev.ts
            if ev.type is EventType.RUN_FAILED:
                self.error = ev.data.get("error", "The analysis failed.")
            elif ev.type is EventType.RUN_CANCELLED:
                self.error = ev.data.get("reason", "Cancelled.")
            ended_as = {EventType.RUN_COMPLETED: "done", EventType.RUN_CANCELLED: "cancelled"}.get(ev.type, "failed")
            for step in self.steps.values():  # a step cannot outlive its run
                if step.status == "running":
                    step.status = ended_as

    def _apply_step(self, ev: Event) -> None:
        step = self.steps.get(ev.step_id)
        if ev.type is EventType.STEP_STARTED:
            if step is None:
                self.steps[ev.step_id] = StepView(ev.step_id, ev.data.get("title") or ev.step_id, ev.agent,
                                                  ev.tool, ev.ts, total=ev.data.get("total"))
            else:  # the step runs again after a resume: same element, fresh state
                step.status, step.error, step.summary, step.message = "running", "", "", ""
                step.step, step.total, step.duration_ms, step.analyst_text = None, ev.data.get("total"), None, ""
                step.inputs = step.result = step.chart = None
                step.started_at = ev.ts
                step.attempts += 1
            return
        if step is None:
            return
        if ev.type is EventType.STEP_PROGRESS:
            step.step, step.total = ev.data.get("step"), ev.data.get("total") or step.total
            step.message = ev.data.get("message", "")
        elif ev.type is EventType.STEP_COMPLETED:
            step.status, step.summary = "done", ev.data.get("summary", "")
            step.duration_ms = ev.data.get("duration_ms")
            step.inputs, step.result, step.chart = ev.data.get("inputs"), ev.data.get("result"), ev.data.get("chart")
            self.steps_total = ev.data.get("steps_total", self.steps_total)
        elif ev.type is EventType.STEP_FAILED:
            step.status, step.error = "failed", ev.data.get("error", "failed")
            step.duration_ms, step.inputs = ev.data.get("duration_ms"), ev.data.get("inputs")


def fold(run_id: str, events: list[Event]) -> RunView:
    view = RunView(run_id)
    for ev in events:
        view.apply(ev)
    return view


def _render(name: str, **context) -> str:
    # The Jinja environment directly, not flask.render_template: fragments need no request,
    # session or context processors, and this runs for every event of every run.
    return current_app.jinja_env.get_template(name).render(**context)


def render_fragment(view: RunView, ev: Event, run) -> str:
    """The out-of-band fragment that brings a page from the state before ``ev`` to ``view``.

    Drawn as of the event's time, not the rendering's: replaying an event renders the same fragment."""
    view.drawn_at = ev.ts
    parts = [_render("fragments/_run_header.html", view=view, run=run, oob=True)]
    if ev.type in (EventType.STEP_STARTED, EventType.RUN_RESUMED) or ev.is_terminal:
        parts.append(_render("fragments/_timeline.html", view=view, oob=True))
    elif ev.type in STEP_EVENTS or ev.type is EventType.ANALYST_TOKEN:
        step = view.steps.get(ev.step_id)
        if step is not None:
            parts.append(_render("fragments/_step.html", step=step, steps=view.steps, drawn_at=ev.ts, oob=True))
            drawn_on = DRAWS_ON.get(step.tool) if ev.type is EventType.STEP_COMPLETED else None
            sibling = view.steps.get(f"{step.agent}.{drawn_on}") if drawn_on else None
            if sibling is not None:  # its chart shows this step's result too: draw it again
                parts.append(_render("fragments/_step.html", step=sibling, steps=view.steps, drawn_at=ev.ts,
                                     oob=True))
    if ev.type is EventType.DECISION or ev.is_terminal:
        parts.append(_render("fragments/_decision.html", view=view, run=run, oob=True))
    return "".join(parts)
