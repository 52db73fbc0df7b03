"""The A2A agents this server exposes: the orchestrator and one per specialist."""

from __future__ import annotations

from dataclasses import dataclass

from agents.alerts import AlertKind

INPUT_MODES = ("application/xml", "text/xml", "text/plain")
OUTPUT_MODES = ("application/json", "text/plain")


@dataclass(frozen=True)
class A2AAgent:
    slug: str | None               # None: the orchestrator, at the root
    name: str
    description: str
    kinds: frozenset[AlertKind]    # alert types it accepts
    skill: str
    tags: tuple[str, ...]
    examples: tuple[str, ...]

    @property
    def path(self) -> str:
        return "/a2a" if self.slug is None else f"/a2a/{self.slug}"


ORCHESTRATOR = A2AAgent(
    None, "SMARTS Alert Analyzer",
    "Investigates trade-surveillance alerts exported by SMARTS (insider dealing, wash trades, spoofing/layering): "
    "routes each alert to its specialist agent, gathers the evidence from the firm's data and returns a "
    "determination — ESCALATE, CLOSE or NEEDS_HUMAN_REVIEW — with confidence, cited findings, a rationale, and a "
    "STOR draft when escalating.",
    frozenset(AlertKind), "investigate-alert", ("market-abuse", "surveillance", "compliance", "MAR"),
    ("Investigate this SMARTS alert (attach the XML export).",))

SPECIALISTS = {
    "insider-dealing": A2AAgent(
        "insider-dealing", "Insider dealing investigator",
        "Investigates insider-dealing alerts (<SMARTSAlert>, e.g. Pre-Announcement Trading): trader access and "
        "restrictions, trading baseline, price move and profit at the event, public news, peer trading.",
        frozenset({AlertKind.INSIDER_DEALING}), "investigate-insider-dealing",
        ("insider-dealing", "MAR Art. 14", "pre-announcement-trading"), ("Investigate this pre-announcement alert.",)),
    "wash-trade": A2AAgent(
        "wash-trade", "Wash trade investigator",
        "Investigates wash-trade alerts (<SmartsAlert> WashTrade): beneficial ownership and linked accounts, "
        "offsetting legs and timing, repetition, volume impact, market-making exemptions.",
        frozenset({AlertKind.WASH_TRADE}), "investigate-wash-trade", ("wash-trade", "MAR Art. 12", "FINRA 6140"),
        ("Investigate this wash trade alert.",)),
    "spoofing": A2AAgent(
        "spoofing", "Spoofing and layering investigator",
        "Investigates spoofing/layering alerts (<SmartsAlert> Spoofing or Layering with OrderActivity): layers "
        "placed and cancelled, executions on the other side, cancellation habits, market-maker role.",
        frozenset({AlertKind.SPOOFING}), "investigate-spoofing", ("spoofing", "layering", "MAR Annex I A(f)"),
        ("Investigate this layering alert.",)),
}


def agent_for(slug: str | None) -> A2AAgent | None:
    return ORCHESTRATOR if slug is None else SPECIALISTS.get(slug)
