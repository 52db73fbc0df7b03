"""What the benchmarks read of the processes they start, from /proc: CPU time, memory, a server's
worker processes, the kernel's listen-queue overflows; and a listening socket handed to a server."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used, to the nanosecond: the scheduler's run time of each of its threads
    (/proc/<pid>/task/*/schedstat). /proc/<pid>/stat counts 10 ms ticks, coarser than a smoke run's whole
    cost (40 stream opens of a bare Flask route measured 0). 0 once it is gone."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return 0.0
    total_ns = 0
    for thread in threads:
        try:
            total_ns += int(Path(f"/proc/{pid}/task/{thread}/schedstat").read_text().split()[0])
        except FileNotFoundError:  # the thread ended between the listing and the read
            continue
    return total_ns / 1e9


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def worker_pids(process, workers: int, timeout: float = 60) -> list[int]:
    """The server's worker processes (gunicorn's or uvicorn's children), once all have started."""
    deadline = time.monotonic() + timeout
    while True:
        pids = [p for p in children(process.pid) if "resource_tracker" not in _cmdline(p)]
        if len(pids) >= workers or (workers == 1 and not pids) or time.monotonic() > deadline:
            return pids or [process.pid]
        time.sleep(0.1)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return ""


def listen_overflows() -> int:
    """The kernel's count of connections dropped because a listen queue was full (machine-wide)."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            return int(dict(zip(names.split(), values.split(), strict=True)).get("ListenOverflows", 0))
    return 0


def settle(pids: list[int], window: float = 0.5, busy: float = 0.05, limit: float = 120.0) -> float:
    """Wait until the workers are idle (under ``busy`` of a core each over ``window``): a stream is
    counted connected before the server has subscribed it and read its log."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = sum(cpu_seconds(p) for p in pids)
        time.sleep(window)
        if sum(cpu_seconds(p) for p in pids) - before < busy * window * len(pids):
            break
    return time.monotonic() - started


class Listener:
    """A bound, listening socket handed to the server process (no readiness polling)."""

    def __init__(self, backlog: int):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.sock.set_inheritable(True)
        self.port = self.sock.getsockname()[1]
