"""``smarts-analyzer``: serve the app, or analyse one alert file in the terminal.

``serve`` hands over to gunicorn with the gevent worker (the same config as the Procfile);
with REDIS_URL unset it runs an embedded Redis for the lifetime of the server.
``analyse`` runs the investigation in-process and prints the events and decision as JSON
lines, the third rendering of the event vocabulary (after HTML and A2A).
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
    print(f"Serving on http://{shown}:{args.port}", flush=True)
    os.execv(sys.executable, argv)


def analyse(args: argparse.Namespace) -> int:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smarts-analyzer", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run the web app with gunicorn + gevent")
    p_serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    p_serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p_serve.add_argument("--workers", type=int, default=None)
    p_serve.set_defaults(func=serve)
    p_analyse = sub.add_parser("analyse", help="investigate one alert file and print JSON lines")
    p_analyse.add_argument("file")
    p_analyse.add_argument("--offline", action="store_true", help="use the offline analyst even with an API key")
    p_analyse.set_defaults(func=analyse)
    args = parser.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
