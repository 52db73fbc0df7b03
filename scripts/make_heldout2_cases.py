"""Generate held-out set 2 (issue 10's second independent review) apart from the case library.

The set was written by a reviewer who had not read the rules' code, on enforcement actions and
false positives the library does not use (scripts/cases/heldout2_*.py), and committed before it
was first evaluated. It is written to its own directories, never into test_data/cases/, so that
the library's figures and BASELINE.json are untouched and the set stays held out:

* test_data/cases_heldout2/ — the cases within the documented conventions ("set": "held-out 2");
* test_data/cases_heldout2_wording/ — variants in realistic wording slightly outside them
  ("set": "held-out 2 wording").

Run from the repository root: ``python scripts/make_heldout2_cases.py [OUT [OUT_WORDING]]``; then
``smarts-analyzer evaluate test_data/cases_heldout2`` (no BASELINE.json there: measured, not gated).
The output is byte-for-byte reproducible.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from cases import heldout2_insider, heldout2_spoofing, heldout2_wash, heldout2_wording
from make_cases import write_library

ROOT = Path(__file__).resolve().parent.parent / "test_data"
SETS = (((heldout2_insider, heldout2_wash, heldout2_spoofing), "held-out 2", ROOT / "cases_heldout2"),
        ((heldout2_wording,), "held-out 2 wording", ROOT / "cases_heldout2_wording"))


def main(outs: list[Path]) -> None:
    for (modules, origin, default), out in zip(SETS, outs + [None] * (len(SETS) - len(outs)), strict=True):
        target = out or default
        target.mkdir(parents=True, exist_ok=True)
        write_library([replace(make(), origin=origin) for module in modules for make in module.CASES], target)


if __name__ == "__main__":
    main([Path(a) for a in sys.argv[1:3]])
