"""What every specialist agent is made of, and the LangGraph graph built from it.

A specialist declares, in its own module, the ordered tools it runs (each a timeline step),
the offline rules that weigh their evidence, the guards that keep a strong cluster of red
flags from being closed, the tools without which no determination can be made, and how to
describe the case in prose and in a STOR. :func:`build_graph` turns that declaration into a
graph: one node per tool, in order, then the analyst node.

Besides the tools' evidence a case carries the alert's own indicators (the surveillance
system's anomaly score, estimated profit, volume figures) as evidence of tool ``alert``, cited
as alert elements: evidence from the system that raised the alert, never from its free-text
notes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from agents.chart_data import chart_for
from agents.data import TABLES, Dataset
from agents.decision import Decision, Finding, FindingKind
from agents.evidence import Citation, Evidence
from agents.progress import step

log = logging.getLogger(__name__)


def _merge(left: dict | None, right: dict | None) -> dict:
    return {**(left or {}), **(right or {})}


class InvestigationState(TypedDict, total=False):
    alert: Any
    evidence: Annotated[dict[str, Evidence], _merge]
    decision: Decision
    error: str
    route: str


ALERT = "alert"  # the evidence name of the alert's own indicators


@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    run: Callable  # (dataset, alert, reporter) -> Evidence
    sources: tuple[str, ...] = ()  # the data tables it reads (agents.data.TABLES), cited when it fails


class Facts(dict):
    """A rule's view of the evidence: its own tool's facts, and another tool's through :meth:`other`."""

    def __init__(self, own: dict, evidence: dict[str, Evidence]):
        super().__init__(own)
        self._evidence = evidence

    def other(self, tool: str) -> dict | None:
        """The facts of ``tool``, or None when it failed or did not run."""
        ev = self._evidence.get(tool)
        return ev.facts if ev is not None and ev.ok else None


@dataclass(frozen=True)
class Rule:
    """One documented test of the evidence. ``check`` returns the finding's detail when it fires.

    ``weight`` is the rule's full weight; ``weigh`` gives a smaller one where the README says the
    weight depends on the evidence (e.g. decays with distance). ``cite`` names citation keys of
    the rule's tool, or ``tool:key`` of another tool.
    """

    id: str
    kind: FindingKind
    weight: int
    tool: str
    title: str
    check: Callable[[Facts, Any], str | None]
    cite: tuple[str, ...] = ()
    critical: bool = False  # fires ESCALATE on its own (e.g. trading against an outright ban)
    weigh: Callable[[Facts, Any], int] | None = None
    # Rules whose findings this one explains when it fires (a documented plan explains the timing
    # flags): they stay on the card as context, with no weight, instead of being outweighed.
    explains: tuple[str, ...] = ()
    # Correlated indicators of one fact (e.g. matched legs: same quantity and price, seconds apart)
    # share a group: only the heaviest finding of a group counts (for mitigating factors the strongest),
    # the others are shown as context.
    group: str | None = None


@dataclass(frozen=True)
class Guard:
    """A strong cluster of red flags: while it stands, no analyst may close the case.

    It stands when every rule in ``requires`` fired and none of ``explained_by`` did (a
    mitigating factor that explains the cluster, e.g. a documented trading plan, rather than
    merely outweighing it). A rule explained by another has not "fired" for a guard; one counted
    once with a stronger finding of its group has (see :func:`established`).
    """

    id: str
    title: str
    requires: tuple[str, ...]
    explained_by: tuple[str, ...] = ()

    def stands(self, fired: set[str]) -> bool:
        return set(self.requires) <= fired and not fired & set(self.explained_by)

    @property
    def label(self) -> str:
        return f"{self.id} {self.title}"


@dataclass(frozen=True)
class EscalationGate:
    """What a STOR needs besides the score: one rule showing materiality or a pattern (``any_of``), or at least
    ``min_indicators`` independent indicators — each a family of rules describing one fact, counted once.

    Without it a case that reaches the escalation threshold goes to a human instead of to a STOR draft
    (MAR Art. 16(2), FCA SUP 15.10: reasonable grounds; a stack of correlated flags is not that).
    """

    any_of: tuple[str, ...]
    indicators: tuple[tuple[str, ...], ...] = ()
    min_indicators: int = 0

    def allows(self, fired: set[str]) -> bool:
        independent = sum(bool(fired & set(family)) for family in self.indicators)
        return bool(fired & set(self.any_of)) or (bool(self.indicators) and independent >= self.min_indicators)

    def describe(self) -> str:
        text = f"one of {', '.join(self.any_of)}"
        if self.indicators:
            text += (f", or {self.min_indicators} independent indicators among "
                     + ", ".join("/".join(family) for family in self.indicators))
        return text


@dataclass(frozen=True)
class Specialist:
    name: str
    label: str
    tools: tuple[ToolSpec, ...]
    rules: tuple[Rule, ...]
    key_tools: frozenset[str]
    describe: Callable[[Any, dict[str, Evidence]], str]
    stor_fields: Callable[[Any, dict[str, Evidence]], dict]
    suspicion: str
    regulations: tuple[str, ...] = ()
    guards: tuple[Guard, ...] = ()
    alert_indicators: Callable[[Any], Evidence] | None = None  # the alert's own indicators as evidence
    # What escalation needs besides the score (materiality, a pattern, or independent indicators); without
    # it a case that reaches the escalation threshold goes to a human instead of to a STOR draft.
    escalation: EscalationGate | None = None
    extra: dict = field(default_factory=dict)

    def step_id(self, tool: str) -> str:
        return f"{self.name}.{tool}"


@dataclass(frozen=True)
class Case:
    """Everything an analyst weighs: the alert, its specialist and the evidence gathered."""

    alert: Any
    specialist: Specialist
    evidence: dict[str, Evidence]

    @property
    def all_evidence(self) -> dict[str, Evidence]:
        """The tools' evidence and, under ``alert``, the alert's own indicators."""
        if self.specialist.alert_indicators is None:
            return self.evidence
        return {**self.evidence, ALERT: self.specialist.alert_indicators(self.alert)}

    def findings_from_rules(self) -> list[Finding]:
        """Apply the specialist's rules to the evidence; gaps become data-gap findings citing what was searched."""
        evidence = self.all_evidence
        findings: list[Finding] = []
        for tool in self.specialist.tools:
            findings += _gaps(tool, evidence.get(tool.name))
        for rule in self.specialist.rules:
            ev = evidence.get(rule.tool)
            if ev is None or not ev.ok:
                continue
            facts = Facts(ev.facts, evidence)
            detail = rule.check(facts, self.alert)
            if detail:
                weight = rule.weigh(facts, self.alert) if rule.weigh else rule.weight
                findings.append(Finding(kind=rule.kind, title=rule.title, detail=detail, tool=rule.tool,
                                        citations=_citations(rule, evidence), weight=weight, rule=rule.id))
        return _count_once(_explain(findings, self.specialist.rules), self.specialist.rules)

    def standing_guards(self, findings: list[Finding]) -> list[Guard]:
        """The guards whose cluster of red flags stands, unexplained, in these findings."""
        return [g for g in self.specialist.guards if g.stands(established(findings))]

    def escalation_allowed(self, findings: list[Finding]) -> bool:
        """Whether the findings show what escalation needs (materiality, a pattern, independent indicators)."""
        gate = self.specialist.escalation
        return gate is None or gate.allows(established(findings))

    @property
    def missing_key_evidence(self) -> list[str]:
        return [t.title for t in self.specialist.tools
                if t.name in self.specialist.key_tools
                and not (self.evidence.get(t.name) and self.evidence[t.name].ok)]


def counted(findings: list[Finding]) -> set[str]:
    """The ids of the rules whose findings count: fired, and neither explained nor counted with another."""
    return {f.rule for f in findings if f.rule and f.kind in ("red_flag", "mitigating")}


def established(findings: list[Finding]) -> set[str]:
    """The ids of the rules whose facts stand: fired and not explained. A finding counted once with a stronger one
    still stands (an exit counted with the size it shares is still an exit); an explained one does not."""
    return counted(findings) | {f.rule for f in findings if f.rule and f.counted_with}


def _as_context(finding: Finding, why: str, counted_with: str | None = None) -> Finding:
    return finding.model_copy(update={"kind": "context", "weight": 0, "detail": f"{finding.detail} {why}",
                                      "counted_with": counted_with})


def _explain(findings: list[Finding], rules: tuple[Rule, ...]) -> list[Finding]:
    """Findings explained by a mitigating rule that fired become context: explained, not outweighed."""
    explained: dict[str, Rule] = {}
    fired = {f.rule for f in findings}
    for rule in rules:
        if rule.id in fired:
            explained.update({rid: rule for rid in rule.explains if rid not in explained})
    return [_as_context(f, f"Explained by {explained[f.rule].id} ({explained[f.rule].title.lower()}): not counted.")
            if f.rule in explained and f.kind == "red_flag" else f for f in findings]


def _count_once(findings: list[Finding], rules: tuple[Rule, ...]) -> list[Finding]:
    """In each group of correlated findings only the strongest counts (the heaviest red flag, the most negative
    mitigating factor); the others become context."""
    groups = {r.id: r.group for r in rules if r.group}
    explaining = {r.id for r in rules if r.explains}

    def strength(f: Finding) -> tuple[int, bool]:  # ties go to the finding that explains others: the specific one
        return abs(f.weight), f.rule in explaining

    strongest: dict[str, Finding] = {}
    for f in findings:
        group = groups.get(f.rule or "")
        if group and f.kind in ("red_flag", "mitigating") and (
                group not in strongest or strength(f) > strength(strongest[group])):
            strongest[group] = f
    return [_as_context(f, f"One fact with {strongest[groups[f.rule]].rule} ({groups[f.rule]}): counted once.",
                        counted_with=strongest[groups[f.rule]].rule)
            if f.kind in ("red_flag", "mitigating") and groups.get(f.rule or "") and strongest[groups[f.rule]] is not f
            else f for f in findings]


def _citations(rule: Rule, evidence: dict[str, Evidence]) -> tuple[Citation, ...]:
    found = []
    for key in rule.cite:
        tool, _, name = key.rpartition(":")
        ev = evidence.get(tool or rule.tool)
        if ev is not None:
            found += ev.cite(name)
    return tuple(found)


def _gaps(tool: ToolSpec, ev: Evidence | None) -> list[Finding]:
    """Data-gap findings for one tool: it failed or found nothing, or it worked around missing data."""
    if ev is None or not ev.ok:
        reason = (ev.error or ev.summary) if ev else "the step did not run"
        cited = ev.cite("searched") if ev else ()
        if not cited:  # the tool could not even search: cite the files it needed
            cited = tuple(Citation(source=TABLES[t].path, note=f"could not be searched: {reason}")
                          for t in tool.sources)
        return [Finding(kind="data_gap", title=f"{tool.title} not available", tool=tool.name, detail=reason,
                        citations=cited, weight=0, rule="GAP")]
    return [Finding(kind="data_gap", title=f"Gap in {tool.title.lower()}", tool=tool.name, detail=what,
                    citations=ev.cite(key), weight=0, rule="GAP") for key, what in ev.gaps.items()]


def _settings(config: RunnableConfig) -> dict:
    return (config or {}).get("configurable", {})


def tool_node(specialist: Specialist, tool: ToolSpec) -> Callable:
    """A graph node that runs one tool as a timeline step; failures become evidence gaps."""

    def node(state: InvestigationState, config: RunnableConfig) -> dict:
        settings = _settings(config)
        dataset: Dataset = settings["dataset"]
        try:
            with step(specialist.step_id(tool.name), tool.title, agent=specialist.name, tool=tool.name,
                      delay=settings.get("step_delay", 0.0)) as reporter:
                evidence = tool.run(dataset, state["alert"], reporter)
                reporter.summary = evidence.summary
                reporter.details["result"] = evidence.model_dump(mode="json", exclude={"summary"})
                chart = chart_for(tool.name, dataset, state["alert"], evidence)
                if chart:
                    reporter.details["chart"] = chart
        except Exception as exc:  # a failed step is a documented gap, never a hung or crashed run
            log.warning("tool %s failed: %s", tool.name, exc, exc_info=not isinstance(exc, RuntimeError))
            evidence = Evidence.failed(tool.name, tool.title, str(exc) or exc.__class__.__name__)
        return {"evidence": {tool.name: evidence}}

    node.__name__ = tool.name
    return node


def analyst_node(specialist: Specialist) -> Callable:
    def node(state: InvestigationState, config: RunnableConfig) -> dict:
        settings = _settings(config)
        analyst = settings["analyst"]
        case = Case(alert=state["alert"], specialist=specialist, evidence=state.get("evidence", {}))
        with step(specialist.step_id("analyst"), f"Determination by {analyst.name}", agent=specialist.name,
                  tool="analyst", delay=settings.get("step_delay", 0.0)) as reporter:
            decision = analyst.decide(case, reporter)
            reporter.summary = f"{decision.determination.value} with confidence {decision.confidence}"
        return {"decision": decision}

    return node


def build_graph(specialist: Specialist):
    """Compile the specialist's graph: its tools in order, then the analyst."""
    graph = StateGraph(InvestigationState)
    previous = START
    for tool in specialist.tools:
        graph.add_node(tool.name, tool_node(specialist, tool))
        graph.add_edge(previous, tool.name)
        previous = tool.name
    graph.add_node("analyst", analyst_node(specialist))
    graph.add_edge(previous, "analyst")
    graph.add_edge("analyst", END)
    return graph.compile(name=specialist.name)
