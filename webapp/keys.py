"""Where the app's state lives in Redis: every key and channel name, made in one place.

Layout (all keys under ``saa:``):

* ``run:{<id>}``          hash — status, alert summary, timestamps, determination, last seq
* ``run:{<id>}:alert``    the uploaded alert bytes, so any worker can (re)run the analysis
* ``run:{<id>}:events``   stream — the durable, ordered log; entry ID ``<seq>-0``, so the SSE id,
                          the stream ID and the event's ``seq`` are one number
* ``runs``                sorted set of run ids by creation time (the runs index)
* ``runs:active``         set of runs not yet ended, what crash recovery looks at
* ``run:{<id>}:lease``    the owner token of the worker running it, with a TTL it keeps renewing
* ``run:{<id>}:followers`` hash — per worker process, how many of its streams follow the run;
                          events are published only while it is not empty (see webapp/feed.py)

Channels: ``analysis:{<id>}`` carries the run's events (only while followed), and
``analysis:{<id>}:control`` messages for the run's owner (a cancel), always.

The work queue (webapp/workqueue.py), under one hash tag because its scripts use them together:

* ``{queue}:waiting``   sorted set — runs waiting for a slot, by ticket (FIFO across instances)
* ``{queue}:ticket``    counter — the last ticket handed out
* ``{queue}:slots``     sorted set — every run holding a slot, by the slot's deadline (ms, Redis clock)
* ``{queue}:slots:<instance>`` the same, for one instance: its count is what the cap limits

Batches (webapp/batches.py) and the model's shared rate limit (webapp/llm_limit.py):

* ``batch:<id>``        hash — label, source, created_at, accepted count, refused files (JSON)
* ``batch:<id>:runs``   list — the batch's run ids in upload order (the batch → runs linkage)
* ``batches``           sorted set of batch ids by creation time
* ``llm:<endpoint>``    hash — the rate limiter's theoretical arrival times for one model endpoint

The desk (webapp/desk/live.py): every change to a case is published once, after the record
committed it, as the fragments that show the case as it now is:

* ``desk:{desk}:log``       stream — the desk's recent changes (case, version, rendered parts),
                            trimmed to about DESK_LOG_MAX entries; its entry ids are the desk
                            streams' SSE ids, so a reconnecting page misses nothing
* ``desk:{desk}:versions``  hash — the newest version published per case: an older version
                            arriving late (two changes racing) is not published over a newer one
* channel ``analysis:{desk}`` carries the same entries while a worker follows the desk (the
  feed's Hub follows it like a run whose id is ``desk``: the same followers hash and resync)

The braces are Redis Cluster hash tags: a run's keys and channels share one hash slot, so every
script and transaction on a run touches one slot (webapp/store.py).
"""

from __future__ import annotations

PREFIX = "saa:"
RUNS_INDEX = f"{PREFIX}runs"
ACTIVE_RUNS = f"{PREFIX}runs:active"


def run_key(run_id: str) -> str:
    return f"{PREFIX}run:{{{run_id}}}"


def events_key(run_id: str) -> str:
    return f"{PREFIX}run:{{{run_id}}}:events"


def lease_key(run_id: str) -> str:
    return f"{PREFIX}run:{{{run_id}}}:lease"


def followers_key(run_id: str) -> str:
    return f"{PREFIX}run:{{{run_id}}}:followers"


def alert_key(run_id: str) -> str:
    return f"{PREFIX}run:{{{run_id}}}:alert"


def queue_key(part: str, instance: str | None = None) -> str:
    """``waiting``, ``ticket``, ``slots`` or (with ``instance``) ``slots:<instance>``: one hash tag."""
    return f"{PREFIX}{{queue}}:{part}" + (f":{instance}" if instance else "")


def batch_key(batch_id: str) -> str:
    return f"{PREFIX}batch:{batch_id}"


def batch_runs_key(batch_id: str) -> str:
    return f"{PREFIX}batch:{batch_id}:runs"


BATCHES_INDEX = f"{PREFIX}batches"


def llm_limit_key(endpoint: str) -> str:
    return f"{PREFIX}llm:{endpoint}"


DESK = "desk"  # the desk's channel and followers are a run's, for this pseudo-run id
DESK_LOG = f"{PREFIX}desk:{{{DESK}}}:log"
DESK_VERSIONS = f"{PREFIX}desk:{{{DESK}}}:versions"
DESK_LOG_MAX = 10_000


def channel(run_id: str) -> str:
    """The flask-sse channel a run's events are published on."""
    return f"analysis:{{{run_id}}}"


def control_channel(run_id: str) -> str:
    """The channel of messages for the run's owner: only the worker running it subscribes."""
    return f"analysis:{{{run_id}}}:control"


def channel_run(name: bytes | str) -> tuple[str, bool]:
    """The run a channel belongs to, and whether it is the run's control channel."""
    name = name.decode() if isinstance(name, bytes) else name
    run_id = name[name.index("{") + 1:name.index("}")]
    return run_id, name.endswith(":control")


def is_run_id(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)
