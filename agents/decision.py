"""The determination an investigation ends with, as domain.md requires it.

A decision names its determination, a confidence, the findings (each citing the tool and
the data it rests on, weighed as red flag or mitigating factor), a rationale a compliance
officer could sign, which analyst produced it, a disposition reason when closing and a STOR
draft when escalating.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agents.evidence import Citation


class Determination(StrEnum):
    ESCALATE = "ESCALATE"
    CLOSE = "CLOSE"
    NEEDS_HUMAN_REVIEW = "NEEDS_HUMAN_REVIEW"

    @property
    def label(self) -> str:
        return {"ESCALATE": "Escalate", "CLOSE": "Close", "NEEDS_HUMAN_REVIEW": "Needs human review"}[self]


FindingKind = Literal["red_flag", "mitigating", "context", "data_gap"]


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: FindingKind
    title: str
    detail: str = ""
    tool: str
    citations: tuple[Citation, ...] = ()
    weight: int = 0               # points the offline rules gave it (0 from the LLM)
    rule: str | None = None       # offline rule id, e.g. "ID-R3"
    # A finding shown as context because it is one fact with a stronger one (that rule's id): the fact stands — for
    # the guards and what escalation needs — though the score counts it once.
    counted_with: str | None = None


class StorDraft(BaseModel):
    """Suspicious Transaction and Order Report draft (MAR Art. 16, Reg. 2016/957 Annex)."""

    reporting_firm: str
    instrument: str
    suspicion_type: str
    suspected_persons: list[str]
    transactions: list[str]
    isin: str | None = None         # where the alert or the data says
    venue: str | None = None
    currency: str | None = None
    accounts: list[str] = Field(default_factory=list)
    description: str
    evidence: list[str]
    confidentiality: str = (
        "CONFIDENTIAL - do not disclose this report or its existence to the person(s) concerned "
        "(MAR Art. 16(5) tipping-off prohibition)."
    )


class Thresholds(BaseModel):
    """The offline rules' scale: where a net score closes, needs review, or escalates."""

    model_config = ConfigDict(frozen=True)

    close_at: int        # net score at or below: CLOSE
    escalate_at: int     # net score at or above, with enough red flags: ESCALATE
    min_red_flags: int


class Decision(BaseModel):
    alert_id: str
    alert_kind: str
    determination: Determination
    confidence: int = Field(ge=0, le=100)
    summary: str
    rationale: str
    findings: list[Finding] = Field(default_factory=list)
    disposition_reason: str | None = None
    stor: StorDraft | None = None
    analyst: str
    analyst_note: str | None = None       # e.g. why the LLM analyst fell back
    score: int | None = None               # the offline rules' net score
    thresholds: Thresholds | None = None   # the scale the score is read against
    confidence_note: str | None = None     # what the confidence number means for this determination
    guard: str | None = None               # the guard that turned a CLOSE into a review, e.g. "ID-G1 …"

    def of_kind(self, kind: FindingKind) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    @property
    def red_flags(self) -> list[Finding]:
        return self.of_kind("red_flag")

    @property
    def mitigating_factors(self) -> list[Finding]:
        return self.of_kind("mitigating")

    @property
    def data_gaps(self) -> list[Finding]:
        return self.of_kind("data_gap")
