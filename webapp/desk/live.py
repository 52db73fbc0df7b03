"""The desk, live: every change to a case reaches everyone viewing the case or the queue.

Publishing (:func:`publish`): after the record committed a change, the request that made it renders
the case as it now is — its queue row, its status panel, the counts per state — and logs and
publishes those parts in one Redis script (webapp/store.py ``desk_publish``). The parts are viewer-
independent and replace elements by id (``hx-swap-oob``), so replaying one is harmless. A viewer's
own actions are not among them: the case's part asks the page to reload them (``hx-trigger=load``,
as the signed-in viewer), and the page keeps what the viewer typed. The script refuses a version
older than one already published, so two changes racing to Redis cannot leave the older one on
screen.

Following (:func:`stream`), in the order webapp/feed.py gives its reasons for: admit the
stream under the worker's cap; subscribe (the worker's Hub follows the desk like a run whose id
is ``desk``, so publishing happens only while someone follows, and a broken subscription sends
RESYNC); only then read the log after the client's cursor (the later of ``?after=`` and
``Last-Event-ID``); then live, skipping entries already sent and re-reading the log on RESYNC.
Each stream sends only what its page shows: a case page its case's parts, a queue page the
counts and the rows it lists — an out-of-band swap without its target is an error in htmx — and,
for a change to a case the list does not show (a new case, or one on another page or filtered
out), a notice counting them, with a link that loads the list as it now is.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import random
import time
from collections.abc import Iterator

import gevent.queue
import redis
from flask import Response, current_app, render_template, request, stream_with_context

from webapp.feed import RESYNC, SHUTDOWN, HubUnavailable, TooManyStreams
from webapp.keys import DESK
from webapp.record import queue
from webapp.record.cases import CaseFile
from webapp.sse import frame, unavailable

log = logging.getLogger(__name__)


def parts_of(services, case: CaseFile) -> dict[str, str]:
    """The fragments that show ``case`` as it now is, each swapped out of band by id."""
    return {"row": render_template("desk/_row.html", row=case, oob=True),
            "case": render_template("desk/_case_status.html", case=case, oob=True,
                                    reason_codes=dict(services.settings.desk_reason_codes)),
            "counts": render_template("desk/_counts.html", counts=queue.counts(services.db), oob=True)}


def publish(services, case: CaseFile) -> None:
    """After the change committed: log and publish the case's parts. A Redis outage loses only the
    live update (the record has the change; pages read the record)."""
    try:
        services.store.desk_publish(case.alert_id, case.version, json.dumps(parts_of(services, case)))
    except redis.RedisError as exc:
        log.warning("case %s: its live update was not published (%s)", case.alert_id, exc)


def last_id(services) -> str:
    """Where a page rendered now starts following (a Redis outage is the app's 503, webapp/outage.py)."""
    return services.store.desk_last()


def _log_after(services, cursor: str) -> list[tuple[str, str, str]]:
    """Every logged change after ``cursor``, oldest first (the log holds about DESK_LOG_MAX)."""
    entries: list[tuple[str, str, str]] = []
    while batch := services.store.desk_after(cursor):
        entries += batch
        cursor = batch[-1][0]
    return entries


def _key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def cursor_of(raw_values) -> str:
    """The later of the given entry ids (malformed ones are ignored: the stream starts at its page)."""
    best = "0"
    for raw in raw_values:
        try:
            if raw and _key(raw) > _key(best):
                best = raw
        except ValueError:
            continue
    return best


def row_key(alert_id: str) -> str:
    """A short, fixed-length name for a case in a stream's URL (AlertIDs may be long or exotic, and
    a page lists fifty): 48 bits of BLAKE2s."""
    return hashlib.blake2s(alert_id.encode(), digest_size=6).hexdigest()


class View:
    """What one stream sends: the parts its page shows."""

    def __init__(self, case_id: str | None, rows: set[str]):
        self.case_id, self.rows = case_id, rows
        self.unlisted: set[str] = set()  # cases not in the list that changed since it was loaded

    def fragment(self, case_id: str, parts_json: str) -> str | None:
        parts = json.loads(parts_json)
        if self.case_id is not None:
            return parts["case"] if case_id == self.case_id else None
        if row_key(case_id) in self.rows:
            # Rows go inside <template>: after a <div>, the HTML parser would drop a bare <tr>.
            return parts["counts"] + f"<template>{parts['row']}</template>"
        self.unlisted.add(case_id)
        return parts["counts"] + render_template("desk/_news.html", unlisted=len(self.unlisted), oob=True)


def stream(services, view: View, cursor: str) -> Response:
    hub = services.hub_for_worker()
    try:
        slot = hub.admit("browser")
    except TooManyStreams:
        return unavailable("Too many live streams on this server; retry shortly.", 5)
    except HubUnavailable:
        return unavailable("This server is shutting down; retry shortly.", 2)
    held = contextlib.ExitStack()
    held.callback(slot.release)
    try:
        hub.ensure_ready()
        subscription = held.enter_context(hub.subscription(DESK))
        first = _log_after(services, cursor)
    except (HubUnavailable, redis.RedisError):
        held.close()
        return unavailable("The desk's live channel is unavailable; retry shortly.", 2)
    settings = services.settings
    until = time.monotonic() + settings.sse_max_lifetime * random.uniform(0.75, 1.0) \
        if settings.sse_max_lifetime > 0 else None  # noqa: S311 - jitter
    body = _frames(services, view, subscription, cursor, first, until, held)
    response = Response(stream_with_context(body), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    response.call_on_close(held.close)
    return response


def _frames(services, view: View, subscription, cursor: str, first, until, held) -> Iterator[str]:
    settings = services.settings
    yield f": desk\nretry: {settings.sse_retry_ms}\n\n"
    last = cursor

    def send(entries) -> Iterator[str]:
        nonlocal last
        for entry_id, case_id, parts in entries:
            if _key(entry_id) <= _key(last):
                continue
            last = entry_id
            html = view.fragment(case_id, parts)
            if html:
                yield frame(html.replace("\r", "&#13;"), event="desk", id=entry_id)

    try:
        yield from send(first)
        while True:
            timeout = settings.sse_heartbeat_interval if until is None else \
                min(settings.sse_heartbeat_interval, until - time.monotonic())
            if timeout <= 0:
                return  # its lifetime: ends without `close`, the browser reconnects with Last-Event-ID
            try:
                item = subscription.get(timeout=timeout)
            except gevent.queue.Empty:
                yield ": heartbeat\n\n"
                continue
            if item is SHUTDOWN:
                return
            if item is RESYNC:
                yield from send(_log_after(services, last))
                continue
            yield from send([(str(item.id), item.data["case"], item.data["parts"])])
    except redis.RedisError:
        return
    finally:
        held.close()


def request_view() -> View:
    rows = set(request.args.get("rows", "").split(".")[:500])
    return View(request.args.get("case") or None, rows)


def request_cursor() -> str:
    return cursor_of([request.args.get("after"), request.headers.get("Last-Event-ID")])


def services():
    return current_app.extensions["saa"]
