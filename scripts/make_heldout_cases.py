"""Regenerate the held-out case sets, test_data/cases_heldout/ and test_data/cases_heldout_wording/.

The held-out set is an independent check of the offline rules: cases written by a reviewer who
had not read the rules' code, modelled on public enforcement actions not in the main library and
on common false positives (scripts/cases/heldout_insider.py, heldout_wash.py,
heldout_spoofing.py), all within the README's documented conventions. The wording set
(heldout_wording.py) holds variants of held-out cases whose one changed text is realistic but
outside those conventions. Both are kept out of the main library and have no BASELINE.json:
their scores are measurements, not gates. Run from the repository root:
``python scripts/make_heldout_cases.py`` (both sets), then
``smarts-analyzer evaluate test_data/cases_heldout``. The output is byte-for-byte reproducible.
"""

from __future__ import annotations

from pathlib import Path

from cases import heldout_insider, heldout_spoofing, heldout_wash, heldout_wording
from make_cases import write_library

ROOT = Path(__file__).resolve().parent.parent / "test_data"
SETS = {"cases_heldout": (heldout_insider, heldout_wash, heldout_spoofing), "cases_heldout_wording": (heldout_wording,)}


def main(root: Path = ROOT) -> None:
    for directory, modules in SETS.items():
        write_library([make() for module in modules for make in module.CASES], root / directory)


if __name__ == "__main__":
    import sys

    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT)
