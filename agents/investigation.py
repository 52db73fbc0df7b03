"""What every specialist agent is made of, and the LangGraph graph built from it.

A specialist declares, in its own module, the ordered tools it runs (each a timeline step),
the offline rules that weigh their evidence, the tools without which no determination can be
made, and how to describe the case in prose and in a STOR. :func:`build_graph` turns that
declaration into a graph: one node per tool, in order, then the analyst node.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from agents.data import Dataset
from agents.decision import Decision, Finding, FindingKind
from agents.evidence import Evidence
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


@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    run: Callable  # (dataset, alert, reporter) -> Evidence


@dataclass(frozen=True)
class Rule:
    """One documented test of the evidence. ``check`` returns the finding's detail when it fires."""

    id: str
    kind: FindingKind
    weight: int
    tool: str
    title: str
    check: Callable[[dict, Any], str | None]
    cite: tuple[str, ...] = ()
    critical: bool = False  # fires ESCALATE on its own (e.g. trading against an outright ban)


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
    extra: dict = field(default_factory=dict)

    def step_id(self, tool: str) -> str:
        return f"{self.name}.{tool}"


@dataclass(frozen=True)
class Case:
    """Everything an analyst weighs: the alert, its specialist and the evidence gathered."""

    alert: Any
    specialist: Specialist
    evidence: dict[str, Evidence]

    def findings_from_rules(self) -> list[Finding]:
        """Apply the specialist's rules to the evidence; gaps become data-gap findings."""
        findings: list[Finding] = []
        for tool in self.specialist.tools:
            ev = self.evidence.get(tool.name)
            if ev is None or not ev.ok:
                findings.append(Finding(
                    kind="data_gap", title=f"{tool.title} not available", tool=tool.name,
                    detail=(ev.error or ev.summary) if ev else "the step did not run",
                    weight=0, rule="GAP"))
        for rule in self.specialist.rules:
            ev = self.evidence.get(rule.tool)
            if ev is None or not ev.ok:
                continue
            detail = rule.check(ev.facts, self.alert)
            if detail:
                citations = tuple(c for key in rule.cite for c in ev.cite(key))
                findings.append(Finding(kind=rule.kind, title=rule.title, detail=detail, tool=rule.tool,
                                        citations=citations, weight=rule.weight, rule=rule.id))
        return findings

    @property
    def missing_key_evidence(self) -> list[str]:
        return [t.title for t in self.specialist.tools
                if t.name in self.specialist.key_tools
                and not (self.evidence.get(t.name) and self.evidence[t.name].ok)]


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
