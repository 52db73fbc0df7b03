"""A real PostgreSQL server for the record's tests: Debian's binaries (scripts/test.sh installs
the ``postgresql`` package), a cluster made with initdb in a temporary directory, listening only
on a Unix socket there, started and stopped with pg_ctl.

PostgreSQL refuses to run as root; under root (CI) the cluster belongs to the ``postgres``
system account the package creates, and the socket directory is opened to it.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import psycopg


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL is not installed: the tests need Debian's postgresql package "
                       "(scripts/test.sh installs it).")


class PostgresServer:
    PORT = 5432  # only names the socket file; nothing listens on TCP

    def __init__(self, directory: Path):
        self.directory = directory
        self.data = directory / "data"
        self.bin = _binaries()
        self.as_root = os.geteuid() == 0

    def _run(self, *argv: str) -> None:
        command = ["runuser", "-u", "postgres", "--", *argv] if self.as_root else list(argv)
        subprocess.run(command, check=True, capture_output=True, text=True, cwd="/")

    def start(self) -> PostgresServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync")
        options = (f"-k {self.directory} -c listen_addresses='' -p {self.PORT} -c fsync=off "
                   "-c max_connections=200 -c shared_buffers=32MB")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.directory / "log"),
                  "-w", "start")
        return self

    def stop(self) -> None:
        if self.data.exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.directory}&port={self.PORT}"

    def create_database(self, name: str) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        with psycopg.connect(host=str(self.directory), port=self.PORT, user="postgres", dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
