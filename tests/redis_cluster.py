"""A real Redis Cluster for tests: 3 masters with a replica each, on this machine.

Debian's ``redis-server`` (7 or later, which has sharded pub/sub) in cluster mode, six processes
on free TCP ports, joined with ``redis-cli --cluster create``; the tests wait until the cluster
says it is healthy and every replica is in sync.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_ports(count: int) -> list[int]:
    """Ports free for a node and for its cluster bus (the port + 10000)."""
    ports: list[int] = []
    while len(ports) < count:
        port = random.randrange(20_000, 30_000)
        if port not in ports and _free(port) and _free(port + 10_000):
            ports.append(port)
    return ports


@dataclass
class LocalCluster:
    directory: Path
    masters: int = 3
    replicas: int = 1
    node_timeout_ms: int = 2000
    ports: list[int] = field(default_factory=list)
    processes: dict[int, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in self.ports[:self.masters])

    def node(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)

    def start(self, timeout: float = 60.0) -> LocalCluster:
        binary = shutil.which("redis-server")
        cli = shutil.which("redis-cli")
        if not binary or not cli:
            raise RuntimeError("redis-server and redis-cli (Debian package redis-server) are needed for cluster tests")
        self.ports = _free_ports(self.masters * (1 + self.replicas))
        for port in self.ports:
            self._start_node(binary, port)
        for port in self.ports:
            self._wait(lambda p=port: self.node(p).ping(), timeout, f"node {port} to start")
        subprocess.run([cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports),
                        "--cluster-replicas", str(self.replicas), "--cluster-yes"],
                       check=True, capture_output=True, timeout=timeout)
        self.wait_healthy(timeout)
        return self

    def _start_node(self, binary: str, port: int) -> None:
        workdir = self.directory / str(port)
        workdir.mkdir(parents=True, exist_ok=True)
        config = "\n".join([
            f"port {port}", "bind 127.0.0.1", "protected-mode no", "daemonize no", f"dir {workdir}",
            "cluster-enabled yes", "cluster-config-file nodes.conf", f"cluster-node-timeout {self.node_timeout_ms}",
            "appendonly no", 'save ""', "loglevel warning", f"logfile {workdir / 'redis.log'}",
        ]) + "\n"
        (workdir / "redis.conf").write_text(config)
        self.processes[port] = subprocess.Popen([binary, str(workdir / "redis.conf")], stdin=subprocess.DEVNULL,
                                                start_new_session=True)

    def _wait(self, check, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while True:  # bounded wait for processes outside the test to reach a state
            try:
                if check():
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}")
            time.sleep(0.05)

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Every live node sees the cluster as ok and knows no failed node; every replica is in sync."""
        def healthy() -> bool:
            for port in self.live_ports():
                node = self.node(port)
                if node.cluster("info")["cluster_state"] != "ok":
                    return False
                if any("fail" in n["flags"] for n in node.cluster("nodes").values()):
                    return False
                info = node.info("replication")
                if info["role"] == "slave" and info.get("master_link_status") != "up":
                    return False
            return len(self.master_ports()) == self.masters
        self._wait(healthy, timeout, "the cluster to be healthy")

    def live_ports(self) -> list[int]:
        return [p for p, proc in self.processes.items() if proc.poll() is None]

    def master_ports(self) -> list[int]:
        return [p for p in self.live_ports() if self.node(p).info("replication")["role"] == "master"]

    def master_of(self, key: str) -> int:
        """The port of the master serving ``key``'s slot now."""
        asked = self.master_ports()[0]
        return self._owner(asked, self.node(asked).cluster("keyslot", key))

    def replica_of(self, master_port: int) -> int:
        info = self.node(master_port).info("replication")
        return int(info["slave0"]["port"])

    def failover(self, master_port: int, timeout: float = 30.0) -> int:
        """A manual failover: the master's replica takes over once it has all the master's writes
        (CLUSTER FAILOVER, as an operator does before maintenance). Returns the new master's port."""
        replica = self.replica_of(master_port)
        self.node(replica).cluster("failover")
        self._wait(lambda: self.node(replica).info("replication")["role"] == "master", timeout,
                   f"{replica} to take over from {master_port}")
        self._wait(lambda: self.node(master_port).info("replication")["role"] == "slave", timeout,
                   f"{master_port} to follow {replica}")  # every node then agrees on who serves the slots
        self.wait_healthy(timeout)
        # The other masters learn of the promotion by gossip, a moment later: until they do, one of
        # them still routes the slots to the old master (seeded run 2048816333 asked one too soon).
        slot = self._first_slot_of(replica)
        self._wait(lambda: all(self._owner(port, slot) == replica for port in self.live_ports()), timeout,
                   f"every node to route {replica}'s slots to it")
        return replica

    def _first_slot_of(self, master_port: int) -> int:
        return next(start for start, _end, master, *_ in self.node(master_port).cluster("slots")
                    if int(master[1]) == master_port)

    def _owner(self, asked_port: int, slot: int) -> int:
        """The master that node ``asked_port`` routes ``slot`` to."""
        for start, end, master, *_replicas in self.node(asked_port).cluster("slots"):
            if start <= slot <= end:
                return int(master[1])
        raise RuntimeError(f"node {asked_port} routes slot {slot} nowhere")

    def kill(self, port: int) -> None:
        """SIGKILL one node, as a crash would."""
        self.processes[port].kill()
        self.processes[port].wait()

    def restart(self, port: int, timeout: float = 60.0) -> None:
        """Start a stopped node again: it rejoins the cluster from its nodes.conf (a former master as
        a replica of whoever took over)."""
        self._start_node(shutil.which("redis-server"), port)
        self._wait(lambda: self.node(port).ping(), timeout, f"node {port} to start")
        self.wait_healthy(timeout)

    def wait_promoted(self, replica: int, timeout: float = 60.0) -> None:
        self._wait(lambda: self.node(replica).info("replication")["role"] == "master", timeout,
                   f"{replica} to be promoted")

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
