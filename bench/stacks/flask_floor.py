"""The floor under any Flask stream: a bare route that answers at once with one comment and holds
the connection, no sign-in, no Redis, no subscription — what gunicorn + gevent + Flask cost per
stream open before the app does anything (bench/sse_fanout.py's reference line).

    gunicorn -k gevent bench.stacks.flask_floor:app
"""

from __future__ import annotations

import gevent
from flask import Flask, Response

app = Flask(__name__)


@app.route("/floor/<run_id>")
def hold(run_id: str) -> Response:
    def body():
        yield f": run {run_id}\n\n"
        while True:
            gevent.sleep(15)
            yield ": heartbeat\n\n"

    return Response(body(), mimetype="text/event-stream")
