"""The rows a finding cites, read back from the data so that an analyst can check them.

A request names a citation by its place in the run's own decision (finding i, citation j), never
by a path: only what the run cited can be shown. Even so, the cited source must be one of the
files the tools read (agents.data.TABLES) and, once symlinks are resolved, lie inside DATA_DIR;
anything else is refused as if it did not exist. Citations of the alert itself show the cited
elements of the alert the run stored.

Files are read line by line only up to the last cited line, in an OS thread so that a large
file does not hold up the worker's other greenlets.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element, indent, tostring

import defusedxml.ElementTree as SafeET

from agents.data import TABLES, in_os_thread

MAX_ROWS = 200  # rows shown for one citation; the rest are counted
_NEWS_HEADER = re.compile(r"^=+\s*\S+\s+News Timeline\s*=+$")
_NEWS_LINE = re.compile(r"^(?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2})\s+-\s+(?P<source>[^:]+):\s*(?P<headline>.+)$")
_CITABLE = {t.path: t for t in TABLES.values()}

# The columns each tool's findings rest on, marked in the rows shown (a citation may name its own).
READS = {
    "trader_profile": ("role", "department", "access_level", "restrictions"),
    "trader_history": ("symbol", "qty", "sector"),
    "market_data": ("date", "close", "volume", "vix"),
    "volume_impact": ("date", "volume"),
    "news": ("ts", "headline"),
    "peer_trades": ("trader_id", "side", "qty"),
    "account_relationships": ("beneficial_owner_id", "beneficial_owner_name", "relationship_type", "linked_accounts"),
    "related_accounts_history": ("account_id", "trade_time", "side", "quantity", "price"),
    "order_history": ("timestamp", "action"),
}


class NotCitable(LookupError):
    """No such citation, or one whose source may not be shown."""


@dataclass
class Row:
    line: int
    cells: list[tuple[str, bool]]  # (text, whether the finding reads this cell)


@dataclass
class CitedRows:
    source: str
    note: str
    header: list[tuple[str, bool]] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    context: list[str] = field(default_factory=list)  # e.g. the news block a headline belongs to
    elements: list[tuple[str, str]] = field(default_factory=list)  # (path, XML) for citations of the alert
    not_shown: int = 0    # cited lines beyond MAX_ROWS
    missing: list[int] = field(default_factory=list)  # cited lines the file no longer has


def lookup(decision: dict | None, finding: int, index: int) -> dict:
    """The ``index``-th citation of the ``finding``-th finding of a decision."""
    findings = (decision or {}).get("findings") or []
    if not 0 <= finding < len(findings):
        raise NotCitable(finding)
    cited = findings[finding].get("citations") or []
    if not 0 <= index < len(cited):
        raise NotCitable(index)
    return cited[index]


def read(data_dir: Path, citation: dict, tool: str = "") -> CitedRows:
    """The cited lines of a data file, with its header and the cells ``tool``'s finding reads marked."""
    source = citation.get("source", "")
    table = _CITABLE.get(source)  # a name from the fixed list, before it is ever used as a path
    if table is None:
        raise NotCitable(source)
    root = Path(data_dir).resolve()
    path = (root / table.path).resolve()
    if not path.is_relative_to(root) or not path.is_file():  # e.g. a symlink out of DATA_DIR
        raise NotCitable(source)
    lines = sorted({int(n) for n in citation.get("lines") or () if int(n) > 0})
    if not lines:
        raise NotCitable(source)
    result = CitedRows(source=source, note=citation.get("note", ""), not_shown=max(0, len(lines) - MAX_ROWS))
    wanted = set(lines[:MAX_ROWS])
    used = set(citation.get("columns") or READS.get(tool, ()))
    reader = _read_news if table.reader == "news" else _read_csv
    in_os_thread(lambda: reader(path, wanted, used, result))
    result.missing = sorted(wanted - {r.line for r in result.rows})
    return result


def _read_csv(path: Path, wanted: set[int], used: set[str], result: CitedRows) -> None:
    last = max(wanted)
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader, [])]
        result.header = [(h, h in used) for h in header]
        for row in reader:
            if reader.line_num in wanted:
                result.rows.append(Row(reader.line_num, [(cell, i < len(header) and header[i] in used)
                                                         for i, cell in enumerate(row)]))
            if reader.line_num >= last:
                break


def _read_news(path: Path, wanted: set[int], used: set[str], result: CitedRows) -> None:
    last, block = max(wanted), None
    columns = ("ts", "source", "headline")
    result.header = [(c, c in used) for c in columns]
    with path.open(encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, 1):
            text = line.strip()
            if _NEWS_HEADER.match(text):
                block = text
            elif number in wanted:
                if block and block not in result.context:
                    result.context.append(block)
                item = _NEWS_LINE.match(text)
                cells = [item[c] for c in columns] if item else [text, "", ""]
                result.rows.append(Row(number, [(cell, c in used) for cell, c in zip(cells, columns, strict=True)]))
            if number >= last:
                break


_PREDICATE = re.compile(r"\[(@?[A-Za-z_][\w.-]*)=([^\]'\"]*)\]")
_STEP = r"[A-Za-z_][\w.-]*(?:\[@?[A-Za-z_][\w.-]*=[^\]'\"]*\])?"
_ELEMENT_PATH = re.compile(rf"{_STEP}(?:/{_STEP})*")  # Trade[@sequence=1] steps, nothing more of XPath


def alert_elements(raw: bytes | None, citation: dict) -> CitedRows:
    """The alert elements a citation names (``FlaggedTrades/Trade[@sequence=1]``), from the stored alert."""
    if not raw or citation.get("source") != "alert":
        raise NotCitable("alert")
    root = SafeET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    for el in root.iter():  # the parser kept namespaces; the cited paths do not use them
        if isinstance(el.tag, str) and el.tag.startswith("{"):
            el.tag = el.tag.split("}", 1)[1]
    result = CitedRows(source="alert", note=citation.get("note", ""))
    for path in (citation.get("elements") or ())[:MAX_ROWS]:
        found = root.find(_PREDICATE.sub(r"[\1='\2']", path)) if _ELEMENT_PATH.fullmatch(path) else None
        result.elements.append((path, _xml(found) if found is not None else "(not in the alert)"))
    return result


def _xml(element: Element) -> str:
    element.tail = None
    indent(element)
    return tostring(element, encoding="unicode")
