"""Regenerate the case library, test_data/cases/, deterministically.

Each case is a directory holding ``alert.xml``, ``case.json`` (what it is modelled on, why, and
the determinations a compliance reviewer would accept) and the data files its tools read: a
DATA_DIR of its own. The cases live in scripts/cases/, each modelled on a public enforcement
action or on a typical false-positive pattern, named in its rationale: insider.py,
insider_controls.py, wash.py, spoofing.py were written with the rules; heldout_insider.py,
heldout_wash.py, heldout_spoofing.py and heldout_wording.py were written by an independent
reviewer as a held-out set (review of 2026-11-26), and heldout2_insider.py, heldout2_wash.py,
heldout2_spoofing.py and heldout2_wording.py by a second one (its review:
test_data/cases/REVIEW-heldout2.md); each was folded in after the rules were fixed on the
principles its review named, and their case.json names their set. ``smarts-analyzer evaluate``
runs them and reports the figures per set. Run from
the repository root: ``python scripts/make_cases.py [OUT]`` (default test_data/cases; the
library's BASELINE.json is kept). The output is byte-for-byte reproducible.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

from cases import (
    heldout2_insider,
    heldout2_spoofing,
    heldout2_wash,
    heldout2_wording,
    heldout_insider,
    heldout_spoofing,
    heldout_wash,
    heldout_wording,
    insider,
    insider_controls,
    spoofing,
    wash,
)

OUT = Path(__file__).resolve().parent.parent / "test_data" / "cases"
# (the modules of a set, the set's name in case.json; "" for the cases written with the library)
SETS = (((insider, insider_controls, wash, spoofing), ""),
        ((heldout_insider, heldout_wash, heldout_spoofing), "held-out 1"),
        ((heldout_wording,), "held-out 1 wording"),
        ((heldout2_insider, heldout2_wash, heldout2_spoofing), "held-out 2"),
        ((heldout2_wording,), "held-out 2 wording"))


def main(out: Path = OUT) -> None:
    write_library([replace(make(), origin=origin) for modules, origin in SETS for module in modules
                   for make in module.CASES], out)


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
                "acceptable": list(case.acceptable), **({"set": case.origin} if case.origin else {})}
        (target / "case.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    controls = sum(c.category == "control" for c in cases)
    print(f"{len(cases)} cases written to {out} ({controls} CLOSE-only controls, "
          f"{sum(c.category == 'enforcement' for c in cases)} modelled on enforcement actions)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
