"""Real servers for tests: an embedded Redis and gunicorn + gevent instances of the app.

Gunicorn gets a socket the test has already bound and put in listen mode (``--bind fd://N``),
so the first request simply waits in the kernel's accept queue until a worker is up: no
polling, no sleeps.

Sign-in is always on. :func:`provision` makes a record database with one account per role
(a password and an API token each) and a metrics token; a server started with that
:class:`Identity` uses the database, and its :meth:`AppServer.client` sends the analyst's
token (the metrics token for /metrics), so a test that just needs "a client" has one.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ROLES = ("analyst", "reviewer", "admin", "auditor")
IDENTITY_VAR = "SAA_TEST_IDENTITY"


@dataclass(frozen=True)
class Identity:
    """Accounts in a record database: ``test-<role>`` with a password and an API token each."""

    database_url: str
    passwords: dict[str, str]
    tokens: dict[str, str]
    metrics_token: str

    @staticmethod
    def username(role: str) -> str:
        return f"test-{role}"

    def env(self) -> dict[str, str]:
        """What a server needs to use this record (and to let the metrics token in)."""
        return {"DATABASE_URL": self.database_url, "METRICS_TOKEN": self.metrics_token}

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, raw: str) -> Identity:
        return cls(**json.loads(raw))

    @classmethod
    def current(cls) -> Identity:
        """The test session's identity (conftest provisions it and puts it in the environment)."""
        return cls.from_json(os.environ[IDENTITY_VAR])


def provision(database_url: str) -> Identity:
    """Migrate ``database_url`` and create one account per role, with a token each."""
    from webapp.record import Database, schema, users
    from webapp.record.audit import Actor

    schema.upgrade(database_url)
    db = Database(database_url)
    passwords, tokens = {}, {}
    try:
        for role in ROLES:
            passwords[role] = secrets.token_urlsafe(16)
            users.add(db, Actor.cli(), Identity.username(role), role, passwords[role])
            tokens[role] = users.create_token(db, Actor.cli(), Identity.username(role), "tests")
    finally:
        db.dispose()
    return Identity(database_url, passwords, tokens, secrets.token_urlsafe(24))


class ServerAuth(httpx.Auth):
    """A role's API token on every request, except /metrics, which gets the metrics token."""

    def __init__(self, identity: Identity, role: str):
        self.identity, self.role = identity, role

    def auth_flow(self, request: httpx.Request):
        if "Authorization" not in request.headers:  # a test that sends its own credential keeps it
            token = self.identity.metrics_token if request.url.path == "/metrics" else self.identity.tokens[self.role]
            request.headers["Authorization"] = f"Bearer {token}"
        yield request


def sign_in(http: httpx.Client, identity: Identity, role: str = "analyst") -> httpx.Response:
    """Sign in through the login form, as a person would; returns the page it lands on."""
    form = http.get("/login")
    form.raise_for_status()
    response = http.post("/login", data={"csrf_token": CSRF.search(form.text).group(1),
                                         "username": identity.username(role), "password": identity.passwords[role]})
    assert response.status_code == 303, f"sign-in as {role} failed: {response.status_code} {response.text[:300]}"
    landing = http.get(response.headers["location"])
    landing.raise_for_status()
    return landing


PR_SET_PDEATHSIG = 1  # prctl(2)


def _ends_with(parent: int, then=None):
    """A child's pre-exec hook: SIGTERM when ``parent`` (the test process) dies, however it dies.

    Servers start in a session of their own (a Ctrl-C must not reach them twice), so without this a
    test run killed with SIGKILL (a CI timeout) leaves its gunicorn instances running, retrying a
    Redis that has gone, for as long as the machine is up.
    """
    def hook():
        if sys.platform.startswith("linux"):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
            if os.getppid() != parent:  # the test process died before the hook ran
                os._exit(1)
        if then is not None:
            then()
    return hook


STARTED: list[AppServer] = []  # every server this test process started, for the logs of a failed test
RUNNING_FILE = [""]  # the test file being set up or run in this process


@dataclass
class AppServer:
    """One gunicorn instance (master + gevent workers) serving the app."""

    env: dict[str, str]
    log_path: Path
    workers: int = 2
    process: subprocess.Popen | None = None
    port: int = 0
    extra_args: list[str] = field(default_factory=list)
    backlog: int = 1024
    preexec_fn: object = None  # run in the child before gunicorn starts (e.g. to lower a limit)
    identity: Identity | None = None
    started_by: str = ""  # the test file that started it
    _terminating: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AppServer:
        STARTED.append(self)
        self._terminating = False
        self.started_by = RUNNING_FILE[0]  # a failed test shows the logs of its own file's servers
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(self.backlog)
        listener.set_inheritable(True)
        self.port = listener.getsockname()[1]
        fd = listener.fileno()
        argv = [sys.executable, "-m", "gunicorn", "--config", "python:webapp.gunicorn_conf",
                "--bind", f"fd://{fd}", "--workers", str(self.workers),
                "--graceful-timeout", "5", *self.extra_args, "webapp.wsgi:app"]
        if self.identity is None and "DATABASE_URL" not in self.env:
            # Sign-in is always on: a server started without accounts (a benchmark's) gets a record
            # of its own with one account per role, beside its log.
            self.identity = provision(f"sqlite:///{self.log_path.parent / (self.log_path.stem + '-record')}"
                                      "/analyzer.sqlite3")
        env = {**os.environ, "ACCESS_LOG": "", **(self.identity.env() if self.identity else {}), **self.env}
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(argv, cwd=REPO, env=env, pass_fds=(fd,), stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True,
                                        preexec_fn=_ends_with(os.getpid(), self.preexec_fn))
        listener.close()  # gunicorn holds its own copy of the descriptor
        return self

    def client(self, *, role: str | None = "analyst", **kwargs) -> httpx.Client:
        """An HTTP client for this server, authenticated with ``role``'s API token (None: anonymous)."""
        if self.identity is not None and role is not None:
            kwargs.setdefault("auth", ServerAuth(self.identity, role))
        return httpx.Client(base_url=self.url, timeout=kwargs.pop("timeout", 30), **kwargs)

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def terminate(self) -> None:
        """Ask it to stop without waiting: stopping one takes about a second (gunicorn's master sees
        its workers exit on a one-second tick), so a session ending with twenty signals them all first."""
        if self.process and self.process.poll() is None and not self._terminating:
            self.process.send_signal(signal.SIGTERM)
            self._terminating = True

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if self.process and self.process.poll() is None:
            if not (sig == signal.SIGTERM and self._terminating):
                self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")
