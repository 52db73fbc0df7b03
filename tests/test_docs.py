"""The README documents the offline rules and guards as the code applies them."""

from __future__ import annotations

import re

from agents.orchestrator import SPECIALISTS
from tests.servers import REPO

README = (REPO / "README.md").read_text()


def test_every_offline_rule_is_documented_with_its_weight():
    """Weight, and the qualifiers: critical, graded, the rules it explains, the group it counts once in."""
    documented = {}
    for m in re.finditer(r"^\| ([A-Z]{2}-[RM]\d+) \| ([+−-]\d+)((?:, [^|]+)?) \|", README, re.M):
        qualifiers = m.group(3)
        group = re.search(r"group \*(.+?)\*", qualifiers)
        documented[m.group(1)] = (int(m.group(2).replace("−", "-")), ", critical" in qualifiers,
                                  ", graded" in qualifiers, tuple(re.findall(r"[A-Z]{2}-R\d+", qualifiers)),
                                  group.group(1) if group else None)
    in_code = {rule.id: (rule.weight, rule.critical, rule.weigh is not None, rule.explains, rule.group)
               for module in SPECIALISTS.values() for rule in module.SPECIALIST.rules}
    assert documented == in_code


def test_every_guard_is_documented_with_its_cluster_and_explanations():
    documented = {m.group(1): (m.group(2), tuple(re.findall(r"[A-Z]{2}-[RM]\d+", m.group(3))),
                               tuple(re.findall(r"[A-Z]{2}-[RM]\d+", m.group(4))))
                  for m in re.finditer(r"^\| ([A-Z]{2}-G\d+) (.+?) \| (.+?) \| (.+?) \|$", README, re.M)}
    in_code = {g.id: (g.title, g.requires, g.explained_by)
               for module in SPECIALISTS.values() for g in module.SPECIALIST.guards}
    assert documented == in_code
