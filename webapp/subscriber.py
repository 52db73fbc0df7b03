"""A worker's pub/sub connections, subscribed to exactly the channels its streams need.

A worker subscribes to the channel of each run one of its streams follows, and to the control
channel of each run it executes, adding and removing channels as streams come and go — never a
pattern, which would bring it every event of every followed run, whoever watches it. So an
event reaches only the workers that serve it, and the load per worker stays flat as workers
and instances are added.

One connection per Redis server: on a single Redis, one; on a Redis Cluster, one per shard
master that holds a channel we need (sharded pub/sub: a shard channel lives on the master of its
hash slot). Commands are pipelined on it as they arrive — a connect storm of 2,000 streams a
second costs a few writes, not 2,000 round trips — and a channel counts as subscribed only once
Redis has confirmed the *latest* subscribe sent for it, so that a caller that waited for it may
rely on every later publish reaching it.

What can break a subscription, and what then happens: the connection drops (Redis restarts,
a node dies), Redis unsubscribes us itself (a cluster slot moved, a failover demoted the
master), or a subscribe is refused with MOVED (our map of the cluster is stale, and the node
serves another shard; a map that predates a failover sends it to the demoted master, now the
shard's replica, which accepts it — Redis serves shard channels on replicas, and the master's
publishes reach them — so the subscription holds where it is). In every case
the channels are subscribed again — on the right node, after re-reading the cluster's slots —
and once Redis confirms each, ``resubscribed`` is called with it: whoever uses the channel must
assume messages were missed meanwhile (the hub re-reads the log).
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections import deque
from collections.abc import Callable

import gevent
import gevent.event
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

PING_INTERVAL = 5.0      # a connection says nothing for this long: probe it
DEAD_AFTER = 3           # ... and one silent for this many intervals is dead
MAX_BACKOFF = 5.0
SUBSCRIBE, UNSUBSCRIBE = "S", "U"
MESSAGES = (b"message", b"smessage")
SUBSCRIBED = (b"subscribe", b"ssubscribe")
UNSUBSCRIBED = (b"unsubscribe", b"sunsubscribe")


class Link:
    """One pub/sub connection to one Redis server, holding the channels assigned to it."""

    def __init__(self, owner: Subscriber, address: str, make_connection: Callable[[], redis.Connection]):
        self.owner = owner
        self.address = address
        self.make_connection = make_connection
        self.channels: set[bytes] = set()       # what this link should be subscribed to
        self.connected = gevent.event.Event()
        self.closed = False
        self._reset()
        self._wake = gevent.event.Event()
        self._greenlet = gevent.spawn(self._run)

    def _reset(self) -> None:
        self._last_sent: dict[bytes, str] = {}  # the latest command sent per channel, on this connection
        self._unacked: dict[bytes, int] = {}    # subscribes sent and not yet confirmed
        self._replies: deque[tuple[str, bytes]] = deque()  # what each pending reply answers, in order
        self._dirty: set[bytes] = set(self.channels)

    def want(self, channel: bytes) -> None:
        self.channels.add(channel)
        self._mark(channel)

    def drop(self, channel: bytes) -> None:
        self.channels.discard(channel)
        self._mark(channel)

    def forget(self, channel: bytes) -> None:
        """Redis has dropped the channel here (refused, or its slot moved): send nothing for it."""
        self.channels.discard(channel)
        self._dirty.discard(channel)
        self._last_sent.pop(channel, None)
        self._unacked.pop(channel, None)

    def close(self) -> None:
        self.closed = True
        self._greenlet.kill(block=False)

    def _mark(self, channel: bytes) -> None:
        self._dirty.add(channel)
        self._wake.set()

    # ------------------------------------------------------------------ connection
    def _run(self) -> None:
        backoff, reader = 0.1, gevent.getcurrent()
        while not self.closed:
            conn = self.make_connection()
            writer = None
            try:
                conn.connect()
                self._reset()
                self.connected.set()
                backoff = 0.1
                writer = gevent.spawn(self._write, conn)
                writer.link_exception(lambda g: reader.kill(redis.ConnectionError(f"write failed: {g.exception}"),
                                                            block=False))
                self._read(conn)
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                log.warning("pub/sub connection to %s lost (%s); reconnecting in %.1fs", self.address, exc, backoff)
            except Exception:  # never let the link die: its streams would wait forever
                log.exception("pub/sub connection to %s failed; reconnecting in %.1fs", self.address, backoff)
            finally:
                self.connected.clear()
                if writer is not None:
                    writer.kill(block=False)
                with contextlib.suppress(Exception):  # closing a broken connection may fail again
                    conn.disconnect()
            if self.closed:
                return
            self.owner._link_failed(self)
            gevent.sleep(backoff * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not security
            backoff = min(backoff * 2, MAX_BACKOFF)

    def _write(self, conn: redis.Connection) -> None:
        """Send what changed since the last write in one go; probe a quiet connection."""
        while True:
            woken = self._wake.wait(PING_INTERVAL)
            self._wake.clear()
            commands = []
            for channel in self._dirty:
                wanted, sent = channel in self.channels, self._last_sent.get(channel)
                if wanted and sent != SUBSCRIBE:
                    commands.append((self.owner.subscribe_command, channel))
                    self._replies.append((SUBSCRIBE, channel))
                    self._unacked[channel] = self._unacked.get(channel, 0) + 1
                    self._last_sent[channel] = SUBSCRIBE
                elif not wanted and sent == SUBSCRIBE:
                    commands.append((self.owner.unsubscribe_command, channel))
                    self._replies.append((UNSUBSCRIBE, channel))
                    self._last_sent[channel] = UNSUBSCRIBE
            self._dirty.clear()
            if not woken:
                commands.append(("PING",))
            if commands:
                conn.send_packed_command(conn.pack_commands(commands), check_health=False)

    def _read(self, conn: redis.Connection) -> None:
        while True:
            try:
                reply = conn.read_response(disconnect_on_error=False)
            except redis.ResponseError as exc:  # a refused (s)subscribe: MOVED, CLUSTERDOWN...
                kind, channel = self._replies.popleft()
                if kind == SUBSCRIBE:
                    self._acknowledge(channel, confirmed=False)
                    self.forget(channel)
                    self.owner._refused(self, channel, exc)
                continue
            if not isinstance(reply, list):
                continue  # PONG while subscribed to nothing
            kind = reply[0]
            if kind in MESSAGES:
                self.owner.deliver(reply[1], reply[2])
            elif kind in SUBSCRIBED:
                if self._replies:
                    self._replies.popleft()
                self._acknowledge(reply[1], confirmed=True)
            elif kind in UNSUBSCRIBED:
                if self._replies and self._replies[0] == (UNSUBSCRIBE, reply[1]):
                    self._replies.popleft()
                elif self._last_sent.get(reply[1]) == SUBSCRIBE:
                    # Redis dropped it by itself: its slot moved to another shard (failover, resharding).
                    self.forget(reply[1])
                    self.owner._refused(self, reply[1], None)

    def _acknowledge(self, channel: bytes, *, confirmed: bool) -> None:
        left = self._unacked.get(channel, 1) - 1
        if left:
            self._unacked[channel] = left
            return
        self._unacked.pop(channel, None)
        if confirmed and self._last_sent.get(channel) == SUBSCRIBE:
            self.owner._confirmed(self, channel)


class Subscriber:
    """Subscriptions to individual channels over one connection per Redis server (see the module
    docstring). ``deliver(channel, data)`` gets every message; ``resubscribed(channel)`` is called
    when a channel that had been subscribed is subscribed again after a break."""

    def __init__(self, client, *, sharded: bool, deliver: Callable[[bytes, bytes], None],
                 resubscribed: Callable[[bytes], None], clock: Callable[[], int] = lambda: 0):
        self.client = client
        self.cluster = hasattr(client, "nodes_manager")
        self.subscribe_command = "SSUBSCRIBE" if sharded else "SUBSCRIBE"
        self.unsubscribe_command = "SUNSUBSCRIBE" if sharded else "UNSUBSCRIBE"
        self.deliver = deliver
        self.resubscribed = resubscribed
        self.clock = clock  # stamps each confirmation (see wait)
        self._links: dict[str, Link] = {}
        self._wanted: set[bytes] = set()
        self._where: dict[bytes, Link] = {}   # the link each wanted channel is assigned to, if any yet
        self._ok: dict[bytes, int] = {}       # confirmed by Redis, when (by the clock)
        self._broken: set[bytes] = set()      # confirmed once, then lost: report when confirmed again
        self._waiters: dict[bytes, list[gevent.event.AsyncResult]] = {}
        self._remap = gevent.event.Event()
        self._remapper: gevent.Greenlet | None = None
        if not self.cluster:
            self._link("default")

    # ------------------------------------------------------------------ public
    def add(self, channel: bytes) -> None:
        if channel in self._wanted:
            return
        self._wanted.add(channel)
        self._assign(channel, self._address(channel))

    def remove(self, channel: bytes) -> None:
        self._wanted.discard(channel)
        self._ok.pop(channel, None)
        self._broken.discard(channel)
        link = self._where.pop(channel, None)
        if link is not None:
            link.drop(channel)

    def wait(self, channel: bytes, timeout: float) -> int | None:
        """When (by the clock) Redis confirmed the channel's subscription, waiting up to ``timeout``
        seconds for it; None if it did not."""
        if channel in self._ok:
            return self._ok[channel]
        waiter = gevent.event.AsyncResult()
        self._waiters.setdefault(channel, []).append(waiter)
        try:
            return waiter.wait(timeout)
        finally:
            waiters = self._waiters.get(channel, [])
            if waiter in waiters:
                waiters.remove(waiter)
                if not waiters:
                    del self._waiters[channel]

    def mark_broken(self, channel: bytes) -> None:
        """Report ``resubscribed`` once the channel is confirmed (its user stopped waiting for it)."""
        if channel in self._wanted and channel not in self._ok:
            self._broken.add(channel)

    def wait_connected(self, timeout: float) -> bool:
        """Whether the connections that hold (or, on one Redis, will hold) our channels are up."""
        links = [link for link in self._links.values() if link.channels or not self.cluster]
        if all(link.connected.is_set() for link in links):
            return True  # the usual case, without a timer
        with gevent.Timeout(timeout, False):
            for link in links:
                link.connected.wait()
            return True
        return False

    def close(self) -> None:
        for link in self._links.values():
            link.close()
        if self._remapper is not None:
            self._remapper.kill(block=False)

    @property
    def subscribed(self) -> set[bytes]:
        return set(self._ok)

    # ------------------------------------------------------------------ from the links
    def _confirmed(self, link: Link, channel: bytes) -> None:
        if self._where.get(channel) is not link:
            return  # moved elsewhere meanwhile
        self._ok[channel] = confirmed = self.clock()
        for waiter in self._waiters.pop(channel, ()):
            waiter.set(confirmed)
        if channel in self._broken:
            self._broken.discard(channel)
            self.resubscribed(channel)

    def _link_failed(self, link: Link) -> None:
        """The link's connection broke: its channels must be confirmed again; on a cluster the node
        may be gone for good (a failover), so the slots are read again."""
        for channel in link.channels:
            self._lose(channel)
        if self.cluster:
            self._schedule_remap()

    def _refused(self, link: Link, channel: bytes, error: Exception | None) -> None:
        """Redis refused (MOVED, CLUSTERDOWN) or dropped (its slot moved away) a subscription."""
        if error is not None and not isinstance(error, redis.exceptions.MovedError | redis.exceptions.ClusterDownError):
            log.warning("subscribing to %r on %s failed: %s", channel, link.address, error)
        self._lose(channel)
        if self._where.get(channel) is link:
            del self._where[channel]  # wanted, on no link until the slots are read again
        self._schedule_remap()

    def _lose(self, channel: bytes) -> None:
        if self._ok.pop(channel, None) is not None:
            self._broken.add(channel)

    # ------------------------------------------------------------------ routing
    def _address(self, channel: bytes) -> str:
        if not self.cluster:
            return "default"
        return self.client.nodes_manager.get_node_from_slot(self.client.keyslot(channel)).name

    def _assign(self, channel: bytes, address: str) -> None:
        link = self._links.get(address) or self._link(address)
        self._where[channel] = link
        link.want(channel)

    def _link(self, address: str) -> Link:
        link = self._links[address] = Link(self, address, self._connection_factory(address))
        return link

    def _connection_factory(self, address: str) -> Callable[[], redis.Connection]:
        """Connections like the client's own, but RESP2 (plain pub/sub replies), without redis-py's
        health checks and retries (this module does both), and timing out when silent too long."""
        if self.cluster:
            node = self.client.get_node(node_name=address)
            pool, where = node.redis_connection.connection_pool, {"host": node.host, "port": node.port}
        else:
            pool, where = self.client.connection_pool, {}
        kwargs = {k: v for k, v in pool.connection_kwargs.items()
                  if k not in ("redis_connect_func", "health_check_interval", "socket_timeout", "protocol", "retry")
                  and "maint_notifications" not in k}  # RESP3-only features of the cluster client
        kwargs.update(where, protocol=2, health_check_interval=0, socket_timeout=PING_INTERVAL * DEAD_AFTER,
                      retry=Retry(NoBackoff(), 0))
        return lambda: pool.connection_class(**kwargs)

    def _schedule_remap(self) -> None:
        self._remap.set()
        if self._remapper is None or self._remapper.dead:
            self._remapper = gevent.spawn(self._remap_forever)

    def _remap_forever(self) -> None:
        """Read the cluster's slots again and move each channel to its slot's master; again, every
        little while, as long as a connection holding channels is down (a failover in progress)."""
        pause = 0.1
        while True:
            self._remap.wait()
            gevent.sleep(pause * random.uniform(0.5, 1.0))  # noqa: S311 - jitter; lets a failover settle
            self._remap.clear()
            try:
                if self.cluster:
                    self.client.nodes_manager.initialize()
                for channel in tuple(self._wanted):
                    address, current = self._address(channel), self._where.get(channel)
                    if current is not None and current.address == address:
                        continue
                    if current is not None:
                        current.drop(channel)
                        self._lose(channel)
                    self._assign(channel, address)
                for address, link in tuple(self._links.items()):
                    if self.cluster and not link.channels:
                        link.close()  # a demoted or departed master: nothing of ours is there now
                        del self._links[address]
                settled = all(link.connected.wait(1.0) for link in tuple(self._links.values()))
                pause = 0.1 if settled else min(pause * 2, 1.0)
            except Exception as exc:  # RedisClusterException is no RedisError
                log.warning("could not read the cluster's slots (%s); retrying", exc)
                settled, pause = False, min(pause * 2, MAX_BACKOFF)
            if not settled:
                self._remap.set()
