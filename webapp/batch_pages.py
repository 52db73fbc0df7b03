"""The batch page: live counts (queued, running, done by determination, failed, cancelled) and a
row per alert linking to its analysis, plus the files the upload refused and why.

Live updates use the same mechanism as an analysis page — an SSE stream of out-of-band fragments
that replace elements by id (the counts, one row per changed alert), so replaying them is
harmless — but a different feed. A batch's state is its runs' states (webapp/batches.py), and
following every run's events would make every event of the batch be published and rendered. So
the stream re-reads the runs that have not ended every REFRESH_INTERVAL, which costs one
pipelined read, and sends only what changed. The stream's cursor is a time: the page passes the
moment it was rendered (``?after=``), each frame's id is the moment it was read (so a reconnect
sends it back as ``Last-Event-ID``), and the first frame carries every row updated since then,
less CLOCK_SKEW for the clocks of other instances.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import gevent
import redis
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_sse import Message

from webapp import batches
from webapp.batches import Batch, Item

bp = Blueprint("batches", __name__)

REFRESH_INTERVAL = 0.5  # seconds between reads of the runs that have not ended, while someone watches
CLOSE_FRAME = "event: close\ndata: end\n\n"
CLOCK_SKEW = 2.0  # seconds: rows updated this long before the cursor are sent again on connect


def _services():
    return current_app.extensions["saa"]


def _load(batch_id: str) -> Batch:
    batch = batches.get(_services(), batch_id)
    if batch is None:
        abort(404, description="There is no such batch.")
    return batch


@bp.get("/batches/<batch_id>")
def show(batch_id: str):
    batch = _load(batch_id)
    rendered_at = time.time()
    items = batches.items(_services(), batches.run_ids(_services(), batch.id))
    return render_template("batch.html", batch=batch, items=items, progress=batches.progress(items),
                           rendered_at=f"{rendered_at:.3f}")


@bp.get("/batches/<batch_id>.json")
def report(batch_id: str):
    """The batch as JSON, for the CLI and scripts: its record, counts and every item's state
    (``?items=0``: the counts only)."""
    batch = _load(batch_id)
    items = batches.items(_services(), batches.run_ids(_services(), batch.id))
    progress = batches.progress(items)
    if request.args.get("items") == "0":
        items = []
    return jsonify(
        id=batch.id, label=batch.label, source=batch.source, created_at=batch.created_at,
        url=url_for("batches.show", batch_id=batch.id), total=progress.total, done=progress.done,
        finished=progress.finished, counts=progress.counts,
        refused=[{"filename": r.filename, "reason": r.reason} for r in batch.refused],
        items=[{"run_id": i.run_id, "filename": i.filename, "alert_id": i.alert_id, "alert_type": i.alert_type,
                "state": i.state, "status": i.status, "determination": i.determination or None,
                "confidence": int(i.confidence) if i.confidence else None,
                "url": url_for("analyses.show", run_id=i.run_id)} for i in items])


def _cursor() -> float:
    """The later of ``?after=`` (when the page was rendered) and ``Last-Event-ID`` (the last frame read)."""
    cursor = 0.0
    for raw in (request.args.get("after"), request.headers.get("Last-Event-ID")):
        if raw in (None, ""):
            continue
        try:
            cursor = max(cursor, float(raw))
        except ValueError:
            abort(400, description="The cursor must be a time in seconds.")
    return cursor


@bp.get("/batches/<batch_id>/events")
def events(batch_id: str):
    batch = _load(batch_id)
    settings = _services().settings
    body = _frames(_services(), batch, _cursor(), settings.sse_heartbeat_interval, settings.sse_retry_ms)
    response = Response(stream_with_context(body), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _fragment(batch: Batch, known: dict[str, Item], changed: list[Item]) -> str:
    env = current_app.jinja_env
    parts = [env.get_template("fragments/_batch_progress.html").render(
        batch=batch, progress=batches.progress(known), oob=True)]
    row = env.get_template("fragments/_batch_item.html")
    # Each row in a <template> of its own: after the counts' <div>, the HTML parser would drop a
    # bare <tr>, and htmx swaps out-of-band elements found inside templates.
    parts += [f"<template>{row.render(item=item, oob=True)}</template>" for item in changed]
    return "".join(parts)


def _frames(services, batch: Batch, cursor: float, heartbeat: float, retry_ms: int) -> Iterator[str]:
    yield f": batch {batch.id}\nretry: {retry_ms}\n\n"
    try:
        yield from _updates(services, batch, cursor, heartbeat)
    except redis.RedisError:
        return  # Redis restarting: end without `close`, so the browser reconnects with Last-Event-ID


def _updates(services, batch: Batch, cursor: float, heartbeat: float) -> Iterator[str]:
    read_at = time.time()
    current = batches.items(services, batches.run_ids(services, batch.id))
    known = {item.run_id: item for item in current}
    changed = [item for item in current if item.updated_at >= cursor - CLOCK_SKEW]
    yield str(Message(_fragment(batch, known, changed), type="batch", id=f"{read_at:.3f}"))
    last_sent = time.monotonic()
    while not batches.progress(known).finished:
        gevent.sleep(REFRESH_INTERVAL)
        read_at = time.time()
        changed = batches.refresh(services, known)
        if changed:
            yield str(Message(_fragment(batch, known, changed), type="batch", id=f"{read_at:.3f}"))
            last_sent = time.monotonic()
        elif time.monotonic() - last_sent >= heartbeat:
            yield ": heartbeat\n\n"
            last_sent = time.monotonic()
    yield CLOSE_FRAME
