"""The orchestrator: triages an alert and hands it to the specialist for its type — in-process
by default, or over A2A to a remote specialist when its URL is configured (agents/remote.py).

:func:`investigate` is what runners call: it streams the orchestrator graph with
``stream_mode=["custom", "updates"]`` (subgraphs included) and yields, in order, each progress
event the tools emitted and finally the decision, or the reason no decision was possible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from agents import insider_dealing, spoofing, wash_trade
from agents.alerts import AlertKind
from agents.decision import Decision
from agents.investigation import InvestigationState, Specialist
from agents.progress import current_writer, step
from agents.remote import RemoteAgentError, investigate_remote

NAME = "orchestrator"
SPECIALISTS: dict[str, Any] = {
    AlertKind.INSIDER_DEALING: insider_dealing,
    AlertKind.WASH_TRADE: wash_trade,
    AlertKind.SPOOFING: spoofing,
}


class UnsupportedAlert(RuntimeError):
    pass


def specialist_for(kind: str) -> Specialist:
    return SPECIALISTS[kind].SPECIALIST


def _triage(state: InvestigationState, config: RunnableConfig) -> dict:
    alert = state["alert"]
    settings = (config or {}).get("configurable", {})
    delay = settings.get("step_delay", 0.0)
    try:
        with step(f"{NAME}.triage", "Triage and route the alert", agent=NAME, tool="router", total=2,
                  delay=delay) as reporter:
            kind = getattr(alert, "kind", None)
            reporter.progress(f"Alert {getattr(alert, 'alert_id', '?')}: {getattr(alert, 'alert_type', '?')}")
            if kind not in SPECIALISTS:
                raise UnsupportedAlert(
                    f"No specialist agent investigates alert type {getattr(alert, 'alert_type', kind)!r}; "
                    f"supported: {', '.join(k.label for k in SPECIALISTS)}.")
            specialist = specialist_for(kind)
            remote = settings.get("remote_agents", {}).get(str(kind))
            reporter.progress(f"Routed to the {specialist.label.lower()} agent" + (f" at {remote}" if remote else ""))
            reporter.summary = (f"{alert.alert_type} alert on {alert.symbol} ({alert.subject}) → "
                                f"{specialist.label.lower()} agent, "
                                + (f"remote over A2A at {remote}" if remote else f"{len(specialist.tools)} tools"))
            if not remote:  # triage, the specialist's tools, its analyst: the header's "step N of M"
                reporter.details["steps_total"] = 1 + len(specialist.tools) + 1
    except UnsupportedAlert as exc:
        return {"error": str(exc)}
    return {"route": REMOTE if remote else str(kind)}


def _remote(state: InvestigationState, config: RunnableConfig) -> dict:
    """Delegate to the remote specialist, relaying its steps into this run's timeline."""
    settings = (config or {}).get("configurable", {})
    alert = state["alert"]
    specialist = specialist_for(alert.kind)
    url = settings["remote_agents"][str(alert.kind)]
    writer, decision = current_writer(), None
    try:
        with step(f"{NAME}.delegate", f"Delegated to the remote {specialist.label.lower()} agent", agent=NAME,
                  tool="a2a") as reporter:
            reporter.progress(f"SendStreamingMessage to {url}")
            for item in investigate_remote(url, settings["raw"], settings.get("filename", "alert.xml"),
                                           token=settings.get("remote_token")):
                if isinstance(item, Decision):
                    decision = item
                else:
                    writer(item)
            reporter.summary = (f"{url} answered {decision.determination.value} "
                                f"(confidence {decision.confidence}, {decision.analyst})")
    except RemoteAgentError as exc:
        return {"error": f"The remote {specialist.label.lower()} agent failed: {exc}"}
    return {"decision": decision}


REMOTE = "remote"


def _route(state: InvestigationState) -> str:
    return END if state.get("error") else state["route"]


def _build():
    graph = StateGraph(InvestigationState)
    graph.add_node("triage", _triage)
    for kind, module in SPECIALISTS.items():
        graph.add_node(str(kind), module.GRAPH)
        graph.add_edge(str(kind), END)
    graph.add_node(REMOTE, _remote)
    graph.add_edge(REMOTE, END)
    graph.add_edge(START, "triage")
    graph.add_conditional_edges("triage", _route, [END, REMOTE, *(str(k) for k in SPECIALISTS)])
    return graph.compile(name=NAME)


GRAPH = _build()


@dataclass(frozen=True)
class Outcome:
    """The last thing :func:`investigate` yields: a decision, or why there is none."""

    decision: Decision | None
    error: str | None = None


def investigate(alert, *, dataset, analyst, step_delay: float = 0.0, remote_agents: dict[str, str] | None = None,
                remote_token: str | None = None, raw: bytes | None = None,
                filename: str = "alert.xml", watched: Callable[[], bool] | None = None,
                interruptible: Callable[[], AbstractContextManager] | None = None) -> Iterator[dict | Outcome]:
    """Run the orchestrator on one alert; yield progress events (dicts), then an :class:`Outcome`.

    ``remote_agents`` maps alert kinds to A2A endpoints of remote specialists; delegating needs
    the alert's ``raw`` bytes, which are what is sent. ``watched`` answers whether anyone
    follows the run live (see :func:`agents.progress.someone_watching`); ``interruptible`` is
    the scope each step runs in, so that a cancel reaches it (see :func:`agents.progress.interruptible`).
    """
    config = {"configurable": {"dataset": dataset, "analyst": analyst, "step_delay": step_delay,
                               "remote_agents": (remote_agents or {}) if raw is not None else {},
                               "remote_token": remote_token, "raw": raw, "filename": filename,
                               "watched": watched, "interruptible": interruptible},
              "recursion_limit": 50}
    decision, error = None, None
    for _namespace, mode, payload in GRAPH.stream({"alert": alert, "evidence": {}}, config,
                                                  stream_mode=["custom", "updates"], subgraphs=True):
        if mode == "custom":
            yield payload
            continue
        for update in payload.values():
            if not isinstance(update, dict):
                continue
            decision = update.get("decision", decision)
            error = update.get("error", error)
    if decision is None and error is None:
        error = "The investigation ended without a determination."
    yield Outcome(decision=decision, error=error)
