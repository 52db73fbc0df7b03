"""Real servers for tests: an embedded Redis and gunicorn + gevent instances of the app.

Gunicorn gets a socket the test has already bound and put in listen mode (``--bind fd://N``),
so the first request simply waits in the kernel's accept queue until a worker is up: no
polling, no sleeps.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


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

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AppServer:
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
        env = {**os.environ, "ACCESS_LOG": "", **self.env}
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(argv, cwd=REPO, env=env, pass_fds=(fd,), stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True,
                                        preexec_fn=self.preexec_fn)
        listener.close()  # gunicorn holds its own copy of the descriptor
        return self

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=kwargs.pop("timeout", 30), **kwargs)

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if self.process and self.process.poll() is None:
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
