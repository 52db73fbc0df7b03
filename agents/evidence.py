"""What a tool found, and where in the data it found it.

Every fact an investigation relies on carries a :class:`Citation` back to its source: a data
file and the line numbers of the rows read, or an element of the alert itself. That is what
lets an analyst (or a regulator) check a finding against the data.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Citation(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str                      # data file relative to DATA_DIR, or "alert"
    lines: tuple[int, ...] = ()      # 1-based line numbers in the source file
    elements: tuple[str, ...] = ()   # alert element paths, when source == "alert"
    note: str = ""                   # what the cited rows show

    def label(self) -> str:
        if self.lines:
            shown = ", ".join(str(n) for n in self.lines[:8])
            more = f" (+{len(self.lines) - 8} more)" if len(self.lines) > 8 else ""
            return f"{self.source} line{'s' if len(self.lines) > 1 else ''} {shown}{more}"
        if self.elements:
            return f"alert {', '.join(self.elements)}"
        return self.source


class Evidence(BaseModel):
    """The result of one tool: a summary, named metrics and their citations."""

    tool: str
    title: str
    ok: bool = True
    summary: str = ""
    facts: dict[str, Any] = Field(default_factory=dict)
    citations: dict[str, Citation] = Field(default_factory=dict)  # keyed by the fact they support
    error: str | None = None
    # Data the tool looked for and did not find, though it could still work: citation key -> what is
    # missing. Each becomes a data-gap finding citing what was searched (never a red flag).
    gaps: dict[str, str] = Field(default_factory=dict)

    def cite(self, key: str) -> tuple[Citation, ...]:
        citation = self.citations.get(key)
        return (citation,) if citation else ()

    @classmethod
    def failed(cls, tool: str, title: str, error: str) -> Evidence:
        return cls(tool=tool, title=title, ok=False, summary=f"Not available: {error}", error=error)
