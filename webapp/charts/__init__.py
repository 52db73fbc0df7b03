"""Charts of a step's evidence, drawn on the server as inline SVG.

A tool records the rows its chart is drawn from in its step's completion event (``chart``), so
the page drawn from the log, a replayed fragment and a reload all draw the same chart, and the
record shows what was drawn. This package turns that data into geometry (plain numbers and
labels); the templates in ``templates/charts/`` write the SVG, styled by app.css — no inline
style or script, which the Content-Security-Policy would refuse.

Why no charting library: matplotlib's and pygal's SVG carry ``<style>`` elements and ``style``
attributes (pygal also scripts), which a strict ``style-src 'self'`` blocks in an inline SVG;
matplotlib also brings numpy and tens of milliseconds of CPU per figure on a gevent worker.
Four small chart shapes fit in a few hundred lines of geometry and templates.

A chart may draw on a sibling step's data: the price chart marks the headlines the news step
found. :data:`DRAWS_ON` says which, so the timeline redraws that chart when the sibling ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DRAWS_ON = {"news": "market_data"}  # tool whose result a sibling step's chart also shows -> that sibling


@dataclass
class Chart:
    """What a chart template needs: its size, its text alternative and its shapes."""

    template: str
    dom_id: str
    width: int
    height: int
    title: str
    desc: str
    parts: dict[str, Any] = field(default_factory=dict)
    caption: str = ""
    notes: list[str] = field(default_factory=list)  # a list under the chart (e.g. the numbered headlines)


def chart_for(step, steps: dict) -> Chart | None:
    """The chart of one step of the timeline, or None when its tool draws none (or drew nothing)."""
    from webapp.charts import orders, ownership, pairs, price  # the chart kinds, imported once needed

    data = step.chart
    if not data:
        return None
    builders = {"price_volume": price.build, "wash_pairs": pairs.build, "pair_history": pairs.build_history,
                "ownership": ownership.build, "order_book": orders.build}
    builder = builders.get(data.get("kind"))
    if builder is None:
        return None
    siblings = {s.tool: s.chart for s in steps.values() if s.agent == step.agent and s.chart}
    return builder(data, f"chart-{step.dom_id}", siblings)
