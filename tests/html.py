"""Just enough HTML handling for tests: pull out an element by id, normalise markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _ElementFinder(HTMLParser):
    def __init__(self, element_id: str):
        super().__init__(convert_charrefs=False)
        self.element_id = element_id
        self.depth = 0
        self.start: tuple[int, int] | None = None
        self.end: tuple[int, int] | None = None

    def handle_starttag(self, tag, attrs):
        if self.end:
            return
        if self.start is None and dict(attrs).get("id") == self.element_id:
            self.start = self.getpos()
            self.depth = 0 if tag in VOID else 1
            if tag in VOID:
                self.end = self.getpos()
        elif self.start is not None and tag not in VOID:
            self.depth += 1

    def handle_endtag(self, tag):
        if self.start is not None and not self.end and tag not in VOID:
            self.depth -= 1
            if self.depth == 0:
                self.end = self.getpos()


def element(markup: str, element_id: str) -> str | None:
    """The outer HTML of the first element with ``id=element_id``, or None."""
    finder = _ElementFinder(element_id)
    finder.feed(markup)
    if finder.start is None or finder.end is None:
        return None
    lines = markup.splitlines(keepends=True)
    offset = lambda pos: sum(len(line) for line in lines[: pos[0] - 1]) + pos[1]  # noqa: E731
    begin, end = offset(finder.start), offset(finder.end)
    return markup[begin: markup.index(">", end) + 1]


def normalise(fragment: str) -> str:
    """Drop the out-of-band marker and whitespace differences."""
    fragment = fragment.replace(' hx-swap-oob="true"', "")
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", fragment)).strip()
