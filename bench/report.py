"""Write one benchmark's results into its own section of BENCHMARKS.md, leaving the others alone."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
# A benchmark drives the app harder than any user may: it runs without rate limits or a token budget.
UNLIMITED = {**{f"RATE_LIMIT_{action}": "1000000/minute" for action in ("UPLOAD", "UPLOAD_IP", "A2A_SEND",
                                                                         "A2A_SEND_IP", "SIGN_IN", "SIGN_IN_IP",
                                                                         "FALLBACK")},
             "LLM_DAILY_TOKEN_BUDGET": "0"}
HEADER = "# Benchmarks\n\nMeasured on the project's CI machine kind (2 cores, 24 GB). Each section is rewritten by " \
         "the command it names.\n"


def write_section(title: str, body: str) -> None:
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else HEADER
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = (f"<!-- section: {title} -->\n## {title}\n\n_Measured {stamp}._\n\n{body.strip()}\n"
             f"<!-- /section: {title} -->")
    pattern = re.compile(rf"<!-- section: {re.escape(title)} -->.*?<!-- /section: {re.escape(title)} -->", re.S)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS.write_text(text)
