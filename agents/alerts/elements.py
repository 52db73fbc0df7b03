"""Reading an alert's XML one element at a time: every value within its limit, converted or
refused with an :class:`AlertError` that names the element's exact path — what an analyst needs
to find the problem in a file of hundreds of elements."""

from __future__ import annotations

import math
from datetime import date, datetime, time
from xml.etree.ElementTree import Element

from agents.alerts.limits import LONG_FIELDS, MAX_CONTEXT_FIELDS, MAX_FIELD, MAX_REPEATED


class AlertError(ValueError):
    """A file that cannot become an alert. ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message = message
        self.status = status


def strip_namespaces(root: Element) -> None:
    """Element names are matched without their namespace: exports differ in declaring one."""
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith("{"):
            el.tag = el.tag.split("}", 1)[1]


class Node:
    """An element plus its path, so every error names exactly where the problem is."""

    def __init__(self, el: Element, path: str):
        self.el = el
        self.path = path

    def child(self, name: str, *, required: bool = True) -> Node | None:
        found = self.el.find(name)
        if found is None:
            if required:
                raise AlertError(f"Missing required element {self.path}/{name}.")
            return None
        return Node(found, f"{self.path}/{name}")

    def children(self, name: str) -> list[Node]:
        found = self.el.findall(name)
        limit = MAX_REPEATED.get(name)
        if limit is not None and len(found) > limit:
            raise AlertError(f"{self.path} has {len(found):,} <{name}> elements; the limit is {limit:,}.")
        return [Node(el, f"{self.path}/{name}[{i}]") for i, el in enumerate(found, 1)]

    def value(self) -> str:
        """The element's text, stripped, within its length limit."""
        value = (self.el.text or "").strip()
        tag = self.path.rsplit("/", 1)[-1].split("[", 1)[0]
        limit = LONG_FIELDS.get(tag, MAX_FIELD)
        if len(value) > limit:
            raise AlertError(f"Element {self.path} is {len(value):,} characters long; the limit is {limit:,}.")
        return value

    def text(self, name: str, *, required: bool = True) -> str | None:
        node = self.child(name, required=required)
        if node is None:
            return None
        value = node.value()
        if not value:
            if required:
                raise AlertError(f"Element {node.path} is empty.")
            return None
        return value

    def convert(self, name, parse, expected: str, *, required: bool = True):
        raw = self.text(name, required=required)
        if raw is None:
            return None
        try:
            return parse(raw)
        except (ValueError, TypeError):
            raise AlertError(f"Element {self.path}/{name} must be {expected}, got {raw!r}.") from None

    def number(self, name, *, required=True) -> float | None:
        return self.convert(name, _finite, "a number", required=required)

    def whole(self, name, *, required=True) -> int | None:
        return self.convert(name, _whole, "a whole number", required=required)

    def day(self, name, *, required=True) -> date | None:
        return self.convert(name, lambda s: date.fromisoformat(s[:10]), "a date (YYYY-MM-DD)",
                            required=required)

    def moment(self, name, *, required=True) -> datetime | None:
        return self.convert(name, datetime.fromisoformat, "an ISO 8601 timestamp", required=required)

    def clock(self, name, *, required=True) -> time | None:
        return self.convert(name, time.fromisoformat, "a time (HH:MM:SS[.fff])", required=required)

    def flag(self, name) -> bool | None:
        return self.convert(name, _boolean, "true or false", required=False)

    def side(self, name) -> str:
        return self.convert(name, _side, "BUY or SELL")

    def fields(self) -> dict[str, str]:
        leaves = [c for c in self.el if isinstance(c.tag, str) and len(c) == 0]
        if len(leaves) > MAX_CONTEXT_FIELDS:
            raise AlertError(f"{self.path} has {len(leaves)} fields; the limit is {MAX_CONTEXT_FIELDS}.")
        return {c.tag: Node(c, f"{self.path}/{c.tag}").value() for c in leaves}


def _finite(s: str) -> float:
    value = float(s.replace(",", ""))
    if not math.isfinite(value):  # "nan", "inf", "1e999"
        raise ValueError(s)
    return value


def _whole(s: str) -> int:
    value = _finite(s)
    if not value.is_integer():
        raise ValueError(s)
    return int(value)


def _boolean(s: str) -> bool:
    folded = s.strip().casefold()
    if folded in ("true", "yes", "y", "1"):
        return True
    if folded in ("false", "no", "n", "0"):
        return False
    raise ValueError(s)


def _side(s: str) -> str:
    folded = s.strip().upper()
    aliases = {"B": "BUY", "BUY": "BUY", "S": "SELL", "SELL": "SELL", "SHORT SELL": "SELL", "SS": "SELL"}
    if folded not in aliases:
        raise ValueError(s)
    return aliases[folded]
