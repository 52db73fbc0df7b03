"""The case library's evaluation: run every case, compare with what a compliance reviewer accepts.

A surveillance desk is judged on two numbers: no genuine case closed, and most false positives
closed. The library (``test_data/cases/``, made by ``scripts/make_cases.py``) holds cases
modelled on public enforcement actions and on the ordinary false positives; each case is a
directory with ``alert.xml``, ``case.json`` (category, what it is modelled on, the acceptable
determinations) and its own data files. :func:`evaluate` runs each case through the same
orchestrator the app uses, with the analyst it is given, and :class:`Report` renders the
per-case table, the confusion matrix and one line of figures.

The figures, and what they mean:

* ``acceptable`` — cases whose determination is one the case accepts;
* ``enforcement_closed`` — enforcement-modelled cases that were CLOSED (must be 0);
* ``controls_closed`` — CLOSE-only controls (typical false positives) that were closed.

A case may name the set it came from (``set`` in case.json, e.g. a held-out review folded into
the library); the figures are then also given per set, so that a held-out set's score stays
visible after it joined the library.

A baseline file (JSON of the same figures) records what the library reached when it was
committed; :func:`regressions` names every figure that fell below it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agents.alerts import AlertError, parse_alert
from agents.data import Dataset
from agents.decision import Determination
from agents.orchestrator import Outcome, investigate
from agents.text import plural

CATEGORIES = ("enforcement", "control", "ambiguous")
ORDER = (Determination.ESCALATE.value, Determination.NEEDS_HUMAN_REVIEW.value, Determination.CLOSE.value)
SHORT = {"ESCALATE": "ESCALATE", "NEEDS_HUMAN_REVIEW": "REVIEW", "CLOSE": "CLOSE", None: "FAILED"}
BASELINE_NAME = "BASELINE.json"
LIBRARY_SET = "library"  # the set of a case whose case.json names none


class CaseError(ValueError):
    """A case directory is incomplete or its case.json is malformed."""


@dataclass(frozen=True)
class LibraryCase:
    name: str
    path: Path
    alert_kind: str
    category: str
    modelled_on: str
    rationale: str
    acceptable: tuple[str, ...]
    set: str = LIBRARY_SET

    @property
    def expected(self) -> str:
        """The preferred determination: the first acceptable one."""
        return self.acceptable[0]


@dataclass(frozen=True)
class Result:
    case: LibraryCase
    determination: str | None
    confidence: int | None = None
    score: int | None = None
    guard: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.determination in self.case.acceptable


def load_cases(directory: Path | str) -> list[LibraryCase]:
    """Every case under ``directory`` (one sub-directory each), by name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CaseError(f"{directory} is not a directory")
    cases = []
    for path in sorted(p for p in directory.iterdir() if p.is_dir()):
        meta_file = path / "case.json"
        if not meta_file.is_file() or not (path / "alert.xml").is_file():
            raise CaseError(f"{path.name}: a case needs alert.xml and case.json")
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            acceptable = tuple(meta["acceptable"])
            category = meta["category"]
            case = LibraryCase(name=path.name, path=path, alert_kind=meta.get("alert_kind", ""), category=category,
                               modelled_on=meta["modelled_on"], rationale=meta["rationale"], acceptable=acceptable,
                               set=str(meta.get("set") or LIBRARY_SET))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise CaseError(f"{path.name}/case.json: {exc.__class__.__name__}: {exc}") from None
        if category not in CATEGORIES:
            raise CaseError(f"{path.name}/case.json: category must be one of {', '.join(CATEGORIES)}")
        if not acceptable or any(a not in ORDER for a in acceptable):
            raise CaseError(f"{path.name}/case.json: acceptable must list determinations among {', '.join(ORDER)}")
        if category == "control" and acceptable != ("CLOSE",):
            raise CaseError(f"{path.name}/case.json: a control's only acceptable determination is CLOSE")
        if category == "enforcement" and "CLOSE" in acceptable:
            raise CaseError(f"{path.name}/case.json: an enforcement-modelled case can never accept CLOSE")
        cases.append(case)
    if not cases:
        raise CaseError(f"no cases in {directory}")
    return cases


def run_case(case: LibraryCase, analyst) -> Result:
    """Investigate one case with its own data directory."""
    try:
        alert = parse_alert((case.path / "alert.xml").read_bytes())
    except AlertError as exc:
        return Result(case, None, error=f"alert.xml: {exc.message}")
    ds = Dataset(case.path)
    try:
        outcome = next(item for item in investigate(alert, dataset=ds, analyst=analyst) if isinstance(item, Outcome))
    finally:
        ds.close()
    if outcome.decision is None:
        return Result(case, None, error=outcome.error)
    d = outcome.decision
    return Result(case, d.determination.value, d.confidence, d.score, d.guard)


def evaluate(directory: Path | str, analyst) -> Report:
    return Report([run_case(case, analyst) for case in load_cases(directory)], analyst=analyst.name)


@dataclass
class Report:
    results: list[Result]
    analyst: str

    @property
    def figures(self) -> dict[str, float | int]:
        return _figures(self.results)

    @property
    def sets(self) -> dict[str, dict[str, float | int]]:
        """The figures of each set, in the order the sets first appear; empty when the library is one set."""
        names = _set_names(self.results)
        if len(names) < 2:
            return {}
        return {name: _figures([r for r in self.results if r.case.set == name]) for name in names}

    def figure_line(self) -> str:
        return f"evaluate ({self.analyst}): {_describe(self.figures)}"

    def set_lines(self) -> list[str]:
        return [f"set {name}: {_describe(f)}" for name, f in self.sets.items()]

    def confusion(self) -> dict[str, Counter]:
        """Rows: the preferred (expected) determination; columns: what the analyst decided."""
        matrix: dict[str, Counter] = {e: Counter() for e in ORDER}
        for r in self.results:
            matrix[r.case.expected][SHORT[r.determination]] += 1
        return matrix

    def table(self) -> str:
        width = max(len(r.case.name) for r in self.results)
        lines = [f"{'case':<{width}}  {'category':<11}  {'acceptable':<17}  {'determination':<13}  conf  score  ok"]
        for r in self.results:
            acceptable = "/".join(SHORT[a] for a in r.case.acceptable)
            score = f"{r.score:+d}" if r.score is not None else "—"
            conf = r.confidence if r.confidence is not None else "—"
            lines.append(f"{r.case.name:<{width}}  {r.case.category:<11}  {acceptable:<17}  "
                         f"{SHORT[r.determination]:<13}  {conf!s:>4}  {score:>5}  {'yes' if r.ok else 'NO'}"
                         + (f"  ({r.error})" if r.error else "") + (f"  [guard {r.guard}]" if r.guard else ""))
        lines += ["", "Confusion matrix (rows: preferred determination; columns: determination made)",
                  f"{'':<16}" + "".join(f"{SHORT[c]:>10}" for c in (*ORDER, None))]
        for expected, row in self.confusion().items():
            n = sum(row.values())
            lines.append(f"{SHORT[expected] + f' ({n})':<16}"
                         + "".join(f"{row[SHORT[c]]:>10}" for c in (*ORDER, None)))
        if self.sets:
            lines += ["", "By set (the set a case.json names; 'library' when none)", *self.set_lines()]
        return "\n".join(lines)

    def markdown(self, before: dict[str, str] | None = None, before_label: str | None = None) -> str:
        """The BENCHMARKS.md section: the figures, the confusion matrix and the per-case table."""
        f = self.figures
        lines = [f"`smarts-analyzer evaluate` on the case library ({plural(f['cases'], 'case')} in `test_data/cases/`, "
                 f"generated by `scripts/make_cases.py`), analyst *{self.analyst}*.", "",
                 f"**{self.figure_line()}**", ""]
        if before:
            lines += [f"*Before*: {before_label or 'an earlier run'} (`--before`), on the same cases.", "",
                      "| set | before | now |", "|---|---|---|"]
            lines += [f"| {name} | {_describe(_figures(rs, before))} | {_describe(_figures(rs))} |"
                      for name, rs in self._by_set()] + [""]
        elif self.sets:
            lines += ["| set | figures |", "|---|---|"]
            lines += [f"| {name} | {_describe(figures)} |" for name, figures in self.sets.items()] + [""]
        lines += ["| preferred \\ made | ESCALATE | REVIEW | CLOSE | FAILED |", "|---|---:|---:|---:|---:|"]
        for expected, row in self.confusion().items():
            lines.append(f"| {SHORT[expected]} ({sum(row.values())}) | "
                         + " | ".join(str(row[SHORT[c]]) for c in (*ORDER, None)) + " |")
        head = "| case | category | modelled on | acceptable |" + (" before |" if before else "") + " made | ok |"
        lines += ["", head, "|---|---|---|---|" + ("---|" if before else "") + "---|---|"]
        for r in self.results:
            model = r.case.modelled_on  # "Action (year): what it did" or "Typical false positive: the pattern"
            modelled = (model.split(": ", 1)[-1] if model.startswith("Typical") else model.split(":")[0])
            modelled = _shorten(modelled.replace("|", "/"), 110)
            cells = [f"`{r.case.name}`", r.case.category, modelled,
                     " / ".join(SHORT[a] for a in r.case.acceptable)]
            if before:
                cells.append(SHORT.get(before.get(r.case.name), "—"))
            cells += [SHORT[r.determination] + (f" {r.confidence}" if r.confidence is not None else ""),
                      "yes" if r.ok else "**no**"]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"analyst": self.analyst, "figures": self.figures, "sets": self.sets,
                "results": {r.case.name: r.determination for r in self.results}}

    def _by_set(self) -> list[tuple[str, list[Result]]]:
        names = _set_names(self.results)
        parts = [(name, [r for r in self.results if r.case.set == name]) for name in names]
        return [("all", self.results), *parts] if len(parts) > 1 else [("all", self.results)]


def _figures(results: list[Result], made: dict[str, str | None] | None = None) -> dict[str, float | int]:
    """The figures of ``results``; with ``made``, of those determinations (case name -> determination) instead."""
    made = made if made is not None else {r.case.name: r.determination for r in results}
    total = len(results)
    ok = sum(made.get(r.case.name) in r.case.acceptable for r in results)
    enforcement = [r for r in results if r.case.category == "enforcement"]
    controls = [r for r in results if r.case.category == "control"]
    closed = sum(made.get(r.case.name) == "CLOSE" for r in controls)
    return {
        "cases": total, "acceptable": ok, "acceptable_pct": _pct(ok, total),
        "enforcement": len(enforcement),
        "enforcement_closed": sum(made.get(r.case.name) == "CLOSE" for r in enforcement),
        "controls": len(controls), "controls_closed": closed, "controls_closed_pct": _pct(closed, len(controls)),
    }


def _set_names(results: list[Result]) -> list[str]:
    """The sets of the results: the library's own first, then the others by name (held-out 1, held-out 1 wording …)."""
    return sorted({r.case.set for r in results}, key=lambda n: (n != LIBRARY_SET, n))


def _describe(f: dict) -> str:
    return (f"{f['acceptable']}/{f['cases']} acceptable ({f['acceptable_pct']:.1f}%); "
            f"enforcement-modelled closed {f['enforcement_closed']}/{f['enforcement']}; "
            f"CLOSE-only controls closed {f['controls_closed']}/{f['controls']} ({f['controls_closed_pct']:.1f}%)")


def regressions(figures: dict, baseline: dict) -> list[str]:
    """Every figure that is worse than the baseline's (and any enforcement-modelled case closed)."""
    problems = []
    if figures["enforcement_closed"]:
        problems.append(f"{plural(figures['enforcement_closed'], 'enforcement-modelled case')} closed (must be 0)")
    for key in ("acceptable_pct", "controls_closed_pct"):
        if key in baseline and figures[key] < baseline[key]:
            problems.append(f"{key} {figures[key]:.1f} is below the baseline's {baseline[key]:.1f}")
    if figures["cases"] < baseline.get("cases", 0):
        problems.append(f"{plural(figures['cases'], 'case')} where the baseline had {baseline['cases']}")
    return problems


def write_benchmarks_section(path: Path, body: str, title: str = "Case library") -> None:
    """Write ``body`` into its own section of BENCHMARKS.md (the format bench/report.py uses)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = (f"<!-- section: {title} -->\n## {title}\n\n_Measured {stamp}._\n\n{body.strip()}\n"
             f"<!-- /section: {title} -->")
    pattern = re.compile(rf"<!-- section: {re.escape(title)} -->.*?<!-- /section: {re.escape(title)} -->", re.S)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rsplit(" ", 1)[0] + " …"


def _pct(part: int, whole: int) -> float:
    return round(part / whole * 100, 1) if whole else 0.0
