"""What the app keeps on this machine, under STATE_DIR (default ./var), readable by its account only.

* ``STATE_DIR`` itself, ``redis/`` (the embedded Redis) and ``record/`` (the SQLite record) are
  0700 directories; their files are 0600.
* ``secret_key`` — the session and CSRF signing key when SECRET_KEY is not set: generated once,
  0600, and read by every worker (and any later start) from here. It never goes into Redis: a
  key anyone with Redis access could read would let them forge sessions. Reading it needs no
  Redis either, so a worker boots while Redis is down.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path


def private_dir(path: Path, *, ours: bool = True) -> Path:
    """Create ``path`` 0700 (only this account reads what is inside). ``ours``: the directory is
    the app's own (STATE_DIR and what is in it, the embedded Redis's), so an existing one with
    wider permissions is narrowed too; a directory someone else chose for a database file is
    only created, never changed (it may be shared — think of /tmp)."""
    if not path.exists():
        for missing in [*reversed([p for p in path.parents if not p.exists()]), path]:
            missing.mkdir(mode=0o700, exist_ok=True)
            missing.chmod(0o700)  # mkdir's mode is filtered by the umask
    elif ours and stat.S_IMODE(path.stat().st_mode) != 0o700:
        mode = path.stat().st_mode
        if path.stat().st_uid == os.getuid() and not mode & stat.S_ISVTX:  # never a shared, sticky directory
            path.chmod(0o700)
    return path


def secret_key(state_dir: Path) -> str:
    """The key in ``state_dir/secret_key``, generated the first time. Concurrent first starts
    agree: the file appears whole (a hard link of a finished temporary file) or not at all."""
    path = private_dir(state_dir) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    temporary = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another process got there first: theirs stands
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path.read_text().strip()
