"""``smarts-analyzer``: serve the app, or analyse alerts from the terminal.

``serve`` hands over to gunicorn with the gevent worker (the same config as the Procfile);
with REDIS_URL unset it runs an embedded Redis for the lifetime of the server.
``analyse FILE`` runs the investigation in-process and prints the events and decision as JSON
lines, the third rendering of the event vocabulary (after HTML and A2A).
``analyse DIR_OR_ZIP`` submits the alerts to a server as one batch, shows a progress bar while
they run and ends with a summary table (webapp/batch_client.py says why it goes to a server).
``evaluate`` runs the case library (agents/evaluation.py) and ends with one line of figures;
it exits 1 when an enforcement-modelled case is closed or a figure falls below the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def serve(args: argparse.Namespace) -> None:
    argv = [sys.executable, "-m", "gunicorn", "--config", "python:webapp.gunicorn_conf",
            "--bind", f"{args.host}:{args.port}"]
    if args.workers:
        argv += ["--workers", str(args.workers)]
    argv.append("webapp.wsgi:app")
    shown = "localhost" if args.host in ("0.0.0.0", "127.0.0.1") else args.host  # noqa: S104
    # Not "serving" yet: the workers take seconds to boot (scripts/serve.sh says when the app answers).
    print(f"Starting gunicorn on http://{shown}:{args.port}", flush=True)
    os.execv(sys.executable, argv)


def analyse(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if path.is_dir() or path.suffix.lower() == ".zip":
        from webapp.batch_client import analyse_batch

        return analyse_batch(path, server=args.server, token=args.token)
    from agents.alerts import AlertError, parse_alert
    from agents.analyst_offline import OfflineAnalyst
    from agents.data import dataset
    from agents.orchestrator import Outcome, investigate
    from webapp.config import Settings

    settings = Settings.from_env()
    try:
        alert = parse_alert(Path(args.file).read_bytes())
    except (AlertError, OSError) as exc:
        print(f"error: {args.file}: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    if settings.llm_enabled and not args.offline:
        from agents.analyst_llm import LLMAnalyst

        analyst = LLMAnalyst.from_settings(settings)
    else:
        analyst = OfflineAnalyst(reporting_firm=settings.reporting_firm)
    for seq, item in enumerate(investigate(alert, dataset=dataset(settings.data_dir), analyst=analyst), 1):
        if isinstance(item, Outcome):
            record = {"seq": seq, "ts": time.time(), "type": "decision" if item.decision else "run_failed",
                      "data": item.decision.model_dump(mode="json") if item.decision else {"error": item.error}}
            print(json.dumps(record))
            return 0 if item.decision else 1
        print(json.dumps({"seq": seq, "ts": time.time(), **item}))
    return 1


def evaluate(args: argparse.Namespace) -> int:
    from agents.analyst_offline import OfflineAnalyst
    from agents.evaluation import BASELINE_NAME, CaseError, regressions, write_benchmarks_section
    from agents.evaluation import evaluate as run_library
    from webapp.config import Settings
    from webapp.paths import resource_dir

    settings = Settings.from_env()
    directory = Path(args.directory) if args.directory else resource_dir("test_data") / "cases"
    if settings.llm_enabled and not args.offline:
        from agents.analyst_llm import LLMAnalyst

        analyst = LLMAnalyst.from_settings(settings)
    else:
        analyst = OfflineAnalyst(reporting_firm=settings.reporting_firm)
    try:
        report = run_library(directory, analyst)
    except CaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.table())
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_json(), indent=2) + "\n")
    if args.benchmarks:
        before = json.loads(Path(args.before).read_text())["results"] if args.before else None
        write_benchmarks_section(Path(args.benchmarks), report.markdown(before, args.before_label))
    baseline_file = Path(args.baseline) if args.baseline else directory / BASELINE_NAME
    baseline = json.loads(baseline_file.read_text()) if baseline_file.is_file() else {}
    problems = regressions(report.figures, baseline)
    for problem in problems:
        print(f"FAIL: {problem}")
    print(report.figure_line())
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smarts-analyzer", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run the web app with gunicorn + gevent")
    p_serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    p_serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p_serve.add_argument("--workers", type=int, default=None)
    p_serve.set_defaults(func=serve)
    p_analyse = sub.add_parser("analyse", help="investigate one alert file (JSON lines), or a folder or .zip of "
                                                "alerts as a batch on a server (progress bar, summary table)")
    p_analyse.add_argument("file", metavar="FILE_DIR_OR_ZIP")
    p_analyse.add_argument("--offline", action="store_true", help="use the offline analyst even with an API key")
    p_analyse.add_argument("--server", default=os.environ.get("SMARTS_ANALYZER_URL", "http://localhost:8000"),
                           help="the server a folder or zip is submitted to (default: $SMARTS_ANALYZER_URL or "
                                "http://localhost:8000)")
    p_analyse.add_argument("--token", default=os.environ.get("SMARTS_ANALYZER_TOKEN"),
                           help="bearer token for the server, if it requires one ($SMARTS_ANALYZER_TOKEN)")
    p_analyse.set_defaults(func=analyse)
    p_eval = sub.add_parser("evaluate", help="run the case library and print the table, the confusion matrix and "
                                             "one line of figures")
    p_eval.add_argument("directory", nargs="?", help="the case library (default: test_data/cases)")
    p_eval.add_argument("--offline", action="store_true", help="use the offline analyst even with an API key")
    p_eval.add_argument("--baseline", help="figures to hold (default: BASELINE.json in the library)")
    p_eval.add_argument("--json", help="also write the figures and each case's determination to this file")
    p_eval.add_argument("--benchmarks", help="write the table into this BENCHMARKS.md, section 'Case library'")
    p_eval.add_argument("--before", help="a --json file of an earlier run, shown as the table's 'before' column")
    p_eval.add_argument("--before-label", help="what the earlier run was (e.g. 'the rules at commit a24a465')")
    p_eval.set_defaults(func=evaluate)
    args = parser.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
