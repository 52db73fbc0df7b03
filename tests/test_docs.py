"""The README documents the offline rules as the code applies them."""

from __future__ import annotations

import re

from agents.orchestrator import SPECIALISTS
from tests.servers import REPO

README = (REPO / "README.md").read_text()


def test_every_offline_rule_is_documented_with_its_weight():
    documented = {m.group(1): (int(m.group(2).replace("−", "-")), bool(m.group(3)))
                  for m in re.finditer(r"^\| ([A-Z]{2}-[RM]\d+) \| ([+−-]\d+)(, critical)? \|", README, re.M)}
    in_code = {rule.id: (rule.weight, rule.critical)
               for module in SPECIALISTS.values() for rule in module.SPECIALIST.rules}
    assert documented == in_code
