"""Wash trades: who owns the accounts — the flagged accounts in a row, their beneficial owners
above them, and the links between accounts below. An account with no ownership record is drawn
dashed: a gap, not evidence either way."""

from __future__ import annotations

from webapp.charts import Chart
from webapp.charts.scale import shorten

WIDTH = 440
OWNER_Y, ACCOUNT_Y = 26, 128
BOX_W, BOX_H = 150, 44
OWNER_W = 230


def _spread(count: int, box: float = BOX_W) -> list[float]:
    """Centres of ``count`` boxes spread evenly across the chart."""
    step = min(WIDTH / max(count, 1), box + 36)
    start = WIDTH / 2 - step * (count - 1) / 2
    return [round(start + i * step, 2) for i in range(count)]


def build(data: dict, dom_id: str, siblings: dict) -> Chart:
    records = {a["account_id"]: a for a in data["accounts"]}
    accounts = list(records) + [a for a in data.get("missing", []) if a not in records]
    box = min(BOX_W, WIDTH / max(len(accounts), 1) - 12)
    at = dict(zip(accounts, _spread(len(accounts), box), strict=True))
    owners: dict[str, dict] = {}
    for a in records.values():
        owners.setdefault(a["owner_id"], {"id": a["owner_id"], "name": a["owner_name"], "accounts": []})
        owners[a["owner_id"]]["accounts"].append(a["account_id"])
    owner_box = min(OWNER_W, WIDTH / max(len(owners), 1) - 12)
    owner_at = dict(zip(owners, _spread(len(owners), owner_box), strict=True))
    chars, owner_chars = max(8, int(box / 7.4)), max(8, int(owner_box / 7.4))
    parts = {
        "box": {"w": round(box, 2), "h": BOX_H, "owner_w": round(owner_box, 2)},
        "owners": [{"x": owner_at[o["id"]], "y": OWNER_Y, "name": shorten(o["name"], owner_chars),
                    "sub": f"owner {o['id']}", "shared": len(o["accounts"]) > 1} for o in owners.values()],
        "accounts": [{"x": at[a], "y": ACCOUNT_Y, "name": shorten(a, chars), "missing": a not in records,
                      "sub": shorten((records[a]["relationship_type"] or "—").replace("_", " "), chars)
                      if a in records else "no ownership record"} for a in accounts],
        "owns": [{"x1": at[a], "y1": ACCOUNT_Y, "x2": owner_at[r["owner_id"]], "y2": OWNER_Y + BOX_H}
                 for a, r in records.items()],
        "links": _links(records, at),
    }
    height = int(max((link["ly"] for link in parts["links"]), default=ACCOUNT_Y + BOX_H) + 16)
    return Chart("charts/_ownership.html", dom_id, WIDTH, height,
                 title="Beneficial owners of the flagged accounts and the links between them",
                 desc=_describe(records, owners, parts["links"], data.get("missing", [])), parts=parts)


def _links(records: dict, at: dict) -> list[dict]:
    """Each link between two flagged accounts once, as an arc under them."""
    pairs = sorted({tuple(sorted((a, b))) for a, r in records.items() for b in r["linked_accounts"] if b in at
                    and b != a})
    bottom = ACCOUNT_Y + BOX_H
    links = []
    for i, (a, b) in enumerate(pairs):
        depth = bottom + 30 + 14 * i
        links.append({"a": a, "b": b, "path": f"M {at[a]} {bottom} C {at[a]} {depth + 20}, {at[b]} {depth + 20}, "
                                              f"{at[b]} {bottom}", "lx": round((at[a] + at[b]) / 2, 2),
                      "ly": depth + 26, "label": "linked"})
    return links


def _describe(records: dict, owners: dict, links: list[dict], missing: list[str]) -> str:
    text = []
    for o in owners.values():
        held = o["accounts"]
        text.append(f"{o['name']} ({o['id']}) is the beneficial owner of {', '.join(held)}"
                    + (" — the same owner on more than one account." if len(held) > 1 else "."))
    if links:
        text.append("Linked accounts: " + ", ".join(f"{link['a']} and {link['b']}" for link in links) + ".")
    outside = sorted({b for r in records.values() for b in r["linked_accounts"] if b not in records and b not in
                      missing})
    if outside:
        text.append(f"Also linked to accounts outside the alert: {', '.join(outside)}.")
    if missing:
        text.append(f"No ownership record for {', '.join(missing)}.")
    return " ".join(text) or "No ownership records for the flagged accounts."
