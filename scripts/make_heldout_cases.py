"""Regenerate the held-out case set, test_data/cases_heldout/, deterministically.

The held-out set is an independent check of the offline rules: cases written by a reviewer who
had not read the rules' code, modelled on public enforcement actions not in the main library and
on common false positives (scripts/cases/heldout_insider.py, heldout_wash.py,
heldout_spoofing.py). It is deliberately kept out of the main library and has no BASELINE.json:
its score is a measurement, not a gate. Run from the repository root:
``python scripts/make_heldout_cases.py [OUT]`` (default test_data/cases_heldout), then
``smarts-analyzer evaluate test_data/cases_heldout``. The output is byte-for-byte reproducible.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cases import heldout_insider, heldout_spoofing, heldout_wash
from make_cases import write_library

OUT = Path(__file__).resolve().parent.parent / "test_data" / "cases_heldout"

if __name__ == "__main__":
    write_library([make() for module in (heldout_insider, heldout_wash, heldout_spoofing) for make in module.CASES],
                  Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
