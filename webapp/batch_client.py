"""``smarts-analyzer analyse DIR_OR_ZIP``: a batch submitted to a server, followed in the terminal.

It submits rather than analysing in-process, because a batch's guarantees live in the server:
its runs wait in the one work queue every instance shares (the per-instance cap holds), the
model's rate limit is shared with everything else calling the model (a CLI running its own
analyses would bring back the 429 storms the limit prevents), and the results are recorded
where colleagues see them — the batch page, the runs, and the cases they become — rather than
in one terminal. The CLI needs no model key and no data files either. (``analyse FILE`` stays
in-process: one alert, as JSON lines, for scripts and debugging.)

It is a client of the same upload form as a browser (session cookie and CSRF token, the alerts
as one zip), asking for JSON answers, and follows the batch's JSON report until it is done.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
POLL_INTERVAL = 0.5
OUTCOMES = (("ESCALATE", "Escalate"), ("CLOSE", "Close"), ("NEEDS_HUMAN_REVIEW", "Needs human review"),
            ("failed", "Failed"), ("cancelled", "Cancelled"))


def _zip_folder(folder: Path) -> bytes:
    """The folder's files, with their relative paths, as one zip (the server applies the limits)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(file, file.relative_to(folder).as_posix())
    return buffer.getvalue()


def analyse_batch(path: Path, *, server: str, token: str | None = None, console: Console | None = None) -> int:
    """Submit, follow, summarise. Exit status: 0 all decided, 1 some failed or cancelled, 2 refused."""
    console = console or Console(stderr=False)
    errors = Console(stderr=True)
    try:
        payload = _zip_folder(path) if path.is_dir() else path.read_bytes()
    except OSError as exc:
        errors.print(f"error: {path}: {exc.strerror or exc}")
        return 2
    name = f"{path.name}.zip" if path.is_dir() else path.name
    headers = {"Accept": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    try:
        with httpx.Client(base_url=server, timeout=120, headers=headers) as http:
            return _run(http, name, payload, console, errors)
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code in (401, 403):
            errors.print(f"error: {server} refused this client ({exc.response.status_code}): pass an analyst's API "
                         "token with --token or SMARTS_ANALYZER_TOKEN (`smarts-analyzer users token create`).")
            return 2
        errors.print(f"error: {server} answered {exc.response.status_code}.")
        return 2
    except httpx.HTTPError as exc:
        errors.print(f"error: could not reach {server}: {exc}. Start one with `smarts-analyzer serve`, or pass "
                     "--server.")
        return 2


def _run(http: httpx.Client, name: str, payload: bytes, console: Console, errors: Console) -> int:
    form = CSRF.search(http.get("/").raise_for_status().text)
    submitted = http.post("/analyses", data={"csrf_token": form.group(1) if form else ""},
                          files={"alert": (name, payload, "application/zip")})
    answer = submitted.json() if submitted.headers.get("content-type", "").startswith("application/json") else {}
    for refused in answer.get("refused", []):
        errors.print(f"refused: {refused['filename']}: {refused['reason']}", markup=False, highlight=False)
    if submitted.status_code != 201:
        errors.print(f"error: {answer.get('error') or f'the server answered HTTP {submitted.status_code}'}",
                     markup=False, highlight=False)
        return 2
    console.print(f"Batch of {answer['accepted']} alerts: {http.base_url.join(answer['url'])}", highlight=False,
                  soft_wrap=True)
    report = _follow(http, answer["report"], answer["accepted"], console)
    console.print(_summary(report))
    return 0 if all(report["counts"].get(state, 0) == 0 for state in ("failed", "cancelled")) else 1


def _follow(http: httpx.Client, report_url: str, total: int, console: Console) -> dict:
    columns = (TextColumn("[bold]Analysing"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("", total=total)
        while True:
            report = http.get(report_url, params={"items": "0"}).raise_for_status().json()
            counts = report["counts"]
            bar.update(task, completed=report["done"],
                       description=f"{counts.get('running', 0)} running, {counts.get('queued', 0)} queued")
            if report["finished"]:
                return report
            time.sleep(POLL_INTERVAL)  # a client following progress, not synchronisation


def _summary(report: dict) -> Table:
    table = Table(title=f"{report['label']}: {report['done']} of {report['total']} analysed")
    table.add_column("Outcome")
    table.add_column("Alerts", justify="right")
    for state, label in OUTCOMES:
        table.add_row(label, str(report["counts"].get(state, 0)))
    table.add_row("Refused files", str(len(report["refused"])))
    return table
