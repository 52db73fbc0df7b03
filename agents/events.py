"""The one event vocabulary of an analysis run.

Agents emit these through LangGraph's stream writer; the web runner stamps them with run id,
sequence number and time, appends them to the run's log and renders them three ways (HTML
fragment, A2A stream response, JSON). Keeping the vocabulary here, below both, means the
agents never import the web layer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    RUN_STARTED = "run_started"
    RUN_RESUMED = "run_resumed"
    STEP_STARTED = "step_started"
    STEP_PROGRESS = "step_progress"
    STEP_COMPLETED = "step_completed"
    STEP_FAILED = "step_failed"
    ANALYST_TOKEN = "analyst_token"
    DECISION = "decision"
    RUN_COMPLETED = "run_completed"
    RUN_FAILED = "run_failed"
    RUN_CANCELLED = "run_cancelled"


TERMINAL_EVENTS = frozenset({EventType.RUN_COMPLETED, EventType.RUN_FAILED, EventType.RUN_CANCELLED})
STEP_EVENTS = frozenset(
    {EventType.STEP_STARTED, EventType.STEP_PROGRESS, EventType.STEP_COMPLETED, EventType.STEP_FAILED}
)


@dataclass(frozen=True)
class Event:
    """One entry of a run's log. ``seq`` starts at 1 and is the SSE id."""

    run_id: str
    seq: int
    ts: float
    type: EventType
    step_id: str | None = None
    agent: str | None = None
    tool: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def is_terminal(self) -> bool:
        return self.type in TERMINAL_EVENTS

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copy of ``data`` is the costliest part of an emit.
        return {"run_id": self.run_id, "seq": self.seq, "ts": self.ts, "type": str(self.type),
                "step_id": self.step_id, "agent": self.agent, "tool": self.tool, "data": self.data}

    def to_json(self) -> str:
        """Compact JSON, computed once per event (it is written to the log and published)."""
        cached = self.__dict__.get("_json")
        if cached is None:
            cached = json.dumps(self.to_dict(), separators=(",", ":"), default=str)
            object.__setattr__(self, "_json", cached)
        return cached

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Event:
        return cls(
            run_id=d["run_id"],
            seq=int(d["seq"]),
            ts=float(d["ts"]),
            type=EventType(d["type"]),
            step_id=d.get("step_id"),
            agent=d.get("agent"),
            tool=d.get("tool"),
            data=d.get("data") or {},
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> Event:
        return cls.from_dict(json.loads(raw))
