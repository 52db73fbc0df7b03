"""Regenerate the case library, test_data/cases/, deterministically.

Each case is a directory holding ``alert.xml``, ``case.json`` (what it is modelled on, why, and
the determinations a compliance reviewer would accept) and the data files its tools read: a
DATA_DIR of its own. The cases live in scripts/cases/ (insider.py, insider_controls.py, wash.py, spoofing.py), each
modelled on a public enforcement action or on a typical false-positive pattern, named in its
rationale. ``smarts-analyzer evaluate`` runs them. Run from the repository root:
``python scripts/make_cases.py [OUT]`` (default test_data/cases; the library's BASELINE.json is
kept). The output is byte-for-byte reproducible.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from cases import insider, insider_controls, spoofing, wash

OUT = Path(__file__).resolve().parent.parent / "test_data" / "cases"


def main(out: Path = OUT) -> None:
    write_library([make() for module in (insider, insider_controls, wash, spoofing) for make in module.CASES], out)


def write_library(cases: list, out: Path) -> None:
    """Write ``cases`` under ``out``, one directory each, replacing the case directories already there."""
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    for stale in (p for p in out.glob("*") if p.is_dir()):
        shutil.rmtree(stale)
    for case in cases:
        target = out / case.name
        target.mkdir(parents=True)
        case.world.write(target)
        (target / "alert.xml").write_text(case.alert, encoding="utf-8")
        meta = {"name": case.name, "alert_kind": case.kind, "category": case.category,
                "modelled_on": case.modelled_on, "rationale": case.rationale,
                "acceptable": list(case.acceptable)}
        (target / "case.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    controls = sum(c.category == "control" for c in cases)
    print(f"{len(cases)} cases written to {out} ({controls} CLOSE-only controls, "
          f"{sum(c.category == 'enforcement' for c in cases)} modelled on enforcement actions)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
