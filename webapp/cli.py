"""``smarts-analyzer``: serve the app, analyse alerts from the terminal, and administer the record.

``serve`` hands over to gunicorn with the gevent worker (the same config as the Procfile);
with REDIS_URL unset it runs an embedded Redis for the lifetime of the server.
``analyse FILE`` runs the investigation in-process and prints the events and decision as JSON
lines, the third rendering of the event vocabulary (after HTML and A2A).
``analyse DIR_OR_ZIP`` submits the alerts to a server as one batch, shows a progress bar while
they run and ends with a summary table (webapp/batch_client.py says why it goes to a server).
``evaluate`` runs the case library (agents/evaluation.py) and ends with one line of figures;
it exits 1 when an enforcement-modelled case is closed or a figure falls below the baseline.
``users``, ``audit`` and ``db`` work on the record with the server's own configuration (the
same environment: DATABASE_URL, or the SQLite file under STATE_DIR); what they change is
audited as ``cli:<operating-system user>``.
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


# ----------------------------------------------------------------------------- the record

def _database():
    """The server's record database, its schema brought up to date as the server would."""
    from webapp.config import Settings
    from webapp.record import Database, schema

    settings = Settings.from_env()
    if schema.pending(settings.database_url):
        if not settings.db_auto_upgrade:
            raise SystemExit("error: the record's schema is out of date: run `smarts-analyzer db upgrade` first")
        schema.upgrade(settings.database_url)
    return Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)


def _read_password(args: argparse.Namespace) -> str:
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"Password for {args.username}: ")
    if getpass.getpass("Repeat it: ") != first:
        raise SystemExit("error: the passwords differ")
    return first


def users_command(args: argparse.Namespace) -> int:
    from webapp.record import users
    from webapp.record.audit import Actor

    db, actor = _database(), Actor.cli()
    try:
        if args.action == "add":
            password = None if args.service else _read_password(args)
            users.add(db, actor, args.username, args.role, password, kind="service" if args.service else "person",
                      display_name=args.display_name or "")
            print(f"added {args.username} ({args.role}{', service account' if args.service else ''})")
        elif args.action == "list":
            print(f"{'USERNAME':<24} {'ROLE':<9} {'KIND':<8} {'STATE':<9} {'TOKENS'}")
            for account in users.accounts(db):
                state = "disabled" if not account.active else "locked" if account.locked_until else "active"
                live = ", ".join(f"{t.name} ({t.prefix}…)" for t in account.tokens if not t.revoked_at)
                kind = account.kind + ("/sso" if account.sso else "")
                print(f"{account.username:<24} {account.role:<9} {kind:<8} {state:<9} {live or '-'}")
        elif args.action in ("disable", "enable"):
            users.set_active(db, actor, args.username, args.action == "enable")
            print(f"{args.action}d {args.username}")
        elif args.token_action == "create":
            print(users.create_token(db, actor, args.username, args.name))  # the only time it is shown
        else:
            users.revoke_token(db, actor, args.username, args.name)
            print(f"revoked {args.username}'s token {args.name!r}", file=sys.stderr)
    except users.AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    return 0


def audit_command(args: argparse.Namespace) -> int:
    from webapp.record import audit
    from webapp.record.audit import Actor

    db = _database()
    try:
        if args.action == "verify":
            verdict = audit.verify(db)
            if not verdict.ok:
                print(f"audit trail BROKEN at entry {verdict.broken_id}: {verdict.problem} "
                      f"({verdict.checked} entries before it hold)", file=sys.stderr)
                return 1
            print(f"audit trail intact: {verdict.checked} entries; head entry {verdict.head_id} "
                  f"sha256 {verdict.head_hash}")
            return 0
        try:
            since = audit.parse_time(args.since) if args.since else None
            until = audit.parse_time(args.until) if args.until else None
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        audit.record(db, Actor.cli(), "audit.export", format=args.format, since=args.since, until=args.until)
        try:
            for line in audit.export_lines(audit.stream(db, since=since, until=until), args.format):
                sys.stdout.write(line)
            sys.stdout.flush()
        except BrokenPipeError:  # the reader stopped early (`| head`): stop quietly, as Unix tools do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        db.dispose()


def db_command(args: argparse.Namespace) -> int:
    from webapp.config import Settings
    from webapp.record import schema

    url = Settings.from_env().database_url
    if args.action == "upgrade":
        schema.upgrade(url)
        print("the record's schema is up to date")
    elif args.action == "downgrade":
        schema.downgrade(url, args.revision)
        print(f"the record's schema is at {schema.current(url) or 'nothing (empty)'}")
    elif args.action == "backup":
        try:
            schema.backup(url, args.file)
        except (ValueError, FileExistsError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"backed up the record to {args.file}")
    else:
        schema.revision(url, args.message)
    return 0


def _record_commands(sub) -> None:
    from webapp.roles import ROLES

    p_users = sub.add_parser("users", help="accounts and API tokens")
    users_sub = p_users.add_subparsers(dest="action", required=True)
    p_add = users_sub.add_parser("add", help="add an account")
    p_add.add_argument("username")
    p_add.add_argument("--role", required=True, choices=ROLES)
    p_add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p_add.add_argument("--service", action="store_true", help="a service account: API tokens only, no password")
    p_add.add_argument("--display-name", default="")
    users_sub.add_parser("list", help="list the accounts and their live tokens")
    for action in ("disable", "enable"):
        users_sub.add_parser(action, help=f"{action} an account").add_argument("username")
    p_token = users_sub.add_parser("token", help="API tokens")
    token_sub = p_token.add_subparsers(dest="token_action", required=True)
    for action, text in (("create", "create a token and print it once"), ("revoke", "revoke a token by name")):
        p = token_sub.add_parser(action, help=text)
        p.add_argument("username")
        p.add_argument("--name", required=True)
    p_users.set_defaults(func=users_command)

    p_audit = sub.add_parser("audit", help="the audit trail")
    audit_sub = p_audit.add_subparsers(dest="action", required=True)
    audit_sub.add_parser("verify", help="walk the hash chain; exit 1 naming the first broken entry")
    p_export = audit_sub.add_parser("export", help="stream the entries as CSV or JSON lines")
    p_export.add_argument("--since", help="from this UTC date/time (inclusive)")
    p_export.add_argument("--until", help="to this UTC date/time (exclusive)")
    p_export.add_argument("--format", required=True, choices=("csv", "jsonl"))
    p_audit.set_defaults(func=audit_command)

    p_db = sub.add_parser("db", help="the record's schema")
    db_sub = p_db.add_subparsers(dest="action", required=True)
    db_sub.add_parser("upgrade", help="apply the migrations (Alembic)")
    db_sub.add_parser("downgrade", help="roll the schema back to a revision (back the record up first)").add_argument(
        "revision", help="e.g. 0001_record, or -1 for the one before")
    db_sub.add_parser("backup", help="copy the SQLite record, consistently, while the server runs").add_argument(
        "file", help="a new file to write (0600)")
    p_rev = db_sub.add_parser("revision", help="developers: autogenerate a migration from the models")
    p_rev.add_argument("-m", "--message", required=True)
    p_db.set_defaults(func=db_command)


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
                           help="an analyst's API token for the server ($SMARTS_ANALYZER_TOKEN)")
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
    _record_commands(sub)
    args = parser.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
