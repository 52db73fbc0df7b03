"""How a graph node tells the timeline what it is doing.

Nodes wrap their work in :func:`step`; it reports start, progress, completion (with a
summary and the measured duration) or failure through LangGraph's ``get_stream_writer()``,
so the runner sees the same events whether the node runs in the orchestrator or a subgraph.
Outside a LangGraph run (unit tests calling a tool directly) the writer is a no-op.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date, datetime
from datetime import time as clock
from typing import Any

from agents.events import EventType

log = logging.getLogger(__name__)

Writer = Callable[[dict[str, Any]], None]


def current_writer() -> Writer:
    try:
        from langgraph.config import get_stream_writer

        return get_stream_writer()
    except RuntimeError:  # called outside a runnable context
        return lambda _event: None


def _configurable() -> dict[str, Any] | None:
    """The running graph's ``configurable`` settings, or None outside a LangGraph run."""
    try:
        from langgraph.config import get_config

        return get_config().get("configurable", {})
    except RuntimeError:  # called outside a runnable context
        return None


def someone_watching() -> bool:
    """Whether anyone follows the run live at this moment, for work that only serves a live
    audience (streaming the model's text as it is written). The runner passes the question in
    the graph's config as ``watched``; outside a run, or without it, the answer is yes."""
    watched = (_configurable() or {}).get("watched")
    return True if watched is None else bool(watched())


def interruptible() -> AbstractContextManager:
    """The runner's scope around one step, entered in whichever thread or greenlet LangGraph runs
    the step in (configurable ``interruptible``). A cancel must stop the step that is working, not
    only the caller streaming the graph: LangGraph waits for running nodes before it lets an
    exception out of ``stream()``, so a step blocked on the network would otherwise hold the
    cancel until it finished. Outside a run, nothing."""
    scope = (_configurable() or {}).get("interruptible")
    return scope() if scope is not None else nullcontext()


def progress_event(event_type: EventType, *, step_id: str | None = None, agent: str | None = None,
                   tool: str | None = None, **data: Any) -> dict[str, Any]:
    return {"type": str(event_type), "step_id": step_id, "agent": agent, "tool": tool, "data": data}


def emit(event_type: EventType, **fields: Any) -> None:
    """Send one progress event to whoever is streaming the graph."""
    current_writer()(progress_event(event_type, **fields))


class StepReporter:
    """Handed to the body of a ``with step(...)`` block."""

    def __init__(self, step_id: str, agent: str, tool: str | None, total: int | None):
        self.step_id = step_id
        self.agent = agent
        self.tool = tool
        self.total = total
        self.summary = ""
        # What the step's completion records besides its summary: the tool's inputs, its raw
        # result, the data of its chart. Logged with the event, so the page can show them.
        self.details: dict[str, Any] = {}
        self._done = 0

    def progress(self, message: str, *, step: int | None = None, total: int | None = None) -> None:
        """Report one unit of progress; ``step`` defaults to the next one."""
        self._done = step if step is not None else self._done + 1
        if total is not None:
            self.total = total
        emit(EventType.STEP_PROGRESS, step_id=self.step_id, agent=self.agent, tool=self.tool,
             step=self._done, total=self.total, message=message)


class NullReporter:
    """A reporter for work done inside another step, whose progress is not shown separately."""

    def __init__(self) -> None:
        self.details: dict[str, Any] = {}

    def progress(self, *args: Any, **kwargs: Any) -> None:
        pass


_NOT_INPUTS = frozenset({"ds", "reporter"})


def records_inputs(tool: Callable) -> Callable:
    """Decorate a tool so that its step records what it was asked (every argument but the dataset
    and the reporter), shown with the step's raw result."""
    signature = inspect.signature(tool)

    @functools.wraps(tool)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        reporter = bound.arguments.get("reporter")
        if reporter is not None and hasattr(reporter, "details"):
            reporter.details["inputs"] = {name: plain(value) for name, value in bound.arguments.items()
                                          if name not in _NOT_INPUTS}
        return tool(*args, **kwargs)

    return wrapper


def plain(value: Any) -> Any:
    """A value as JSON can carry it: dates as ISO 8601, an alert as what identifies it."""
    if isinstance(value, datetime | date | clock):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if hasattr(value, "alert_id") and hasattr(value, "kind"):  # the alert itself: its id, not a copy
        return f"alert {value.alert_id} ({value.alert_type})"
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


@contextmanager
def step(step_id: str, title: str, *, agent: str, tool: str | None = None,
         total: int | None = None, delay: float = 0.0) -> Iterator[StepReporter]:
    """Report a step's life: started, then completed with ``reporter.summary``, or failed.

    The exception is re-raised after the failure is reported; the caller decides whether a
    failed step ends the investigation or becomes a documented data gap.
    ``delay`` paces steps for demonstrations (DEMO_STEP_DELAY); it is zero in production.
    """
    reporter = StepReporter(step_id, agent, tool, total)
    with interruptible():
        started = time.perf_counter()
        emit(EventType.STEP_STARTED, step_id=step_id, agent=agent, tool=tool, title=title, total=total)
        try:
            if delay:
                time.sleep(delay)  # cooperative under gevent's monkey patching
            yield reporter
        except Exception as exc:
            emit(EventType.STEP_FAILED, step_id=step_id, agent=agent, tool=tool,
                 error=str(exc) or exc.__class__.__name__, duration_ms=_ms_since(started),
                 **{k: v for k, v in reporter.details.items() if k == "inputs"})
            raise
        emit(EventType.STEP_COMPLETED, step_id=step_id, agent=agent, tool=tool,
             summary=reporter.summary, duration_ms=_ms_since(started), **reporter.details)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
