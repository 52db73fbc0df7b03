"""What one alert may cost, bounded when it is parsed (the limits are in the README, "Alerts").

An alert's fields are copied into every event, page, report and stream of its run: an 800 KB name
once made a 19 MB JSON report and a 30 MB SSE replay. So each field's text has a length limit
(identifiers and names short, descriptions and notes longer), repeated elements a count limit,
and the document a nesting depth and an element count, checked while the parser builds the tree:
a 100,000-deep document is refused at its eleventh level, before anything walks it.
"""

from __future__ import annotations

from xml.etree.ElementTree import TreeBuilder

# The limits on one alert (README, "Alerts"). SMARTS exports are four levels deep and a few hundred
# elements long; these leave room for unknown extra elements and long order lists.
MAX_DEPTH = 10
MAX_ELEMENTS = 10_000
MAX_FIELD = 200                 # characters in any field not listed below (ids, names, types, numbers)
LONG_FIELDS = {"EventDescription": 2_000, "Description": 2_000, "Note": 2_000, "RuleViolated": 500}
MAX_REPEATED = {"Trade": 500, "Order": 2_000, "Note": 50, "Regulation": 50}
MAX_CONTEXT_FIELDS = 50         # MarketContext children


class LimitExceeded(ValueError):
    """The document passed a limit; agents.alerts turns it into its AlertError (422)."""


class BoundedTreeBuilder(TreeBuilder):
    """Builds the tree, refusing a document deeper or larger than the limits as soon as it gets there."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.elements = 0

    def start(self, tag, attrs):
        self.depth += 1
        self.elements += 1
        if self.depth > MAX_DEPTH:
            raise LimitExceeded(f"The alert nests elements more than {MAX_DEPTH} levels deep (SMARTS exports: four).")
        if self.elements > MAX_ELEMENTS:
            raise LimitExceeded(f"The alert has more than {MAX_ELEMENTS:,} elements, the limit for one alert.")
        return super().start(tag, attrs)

    def end(self, tag):
        self.depth -= 1
        return super().end(tag)
