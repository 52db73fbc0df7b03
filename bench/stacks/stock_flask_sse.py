"""Stock flask-sse, unmodified: its blueprint at /stream?channel=..., under gunicorn + gevent.

    gunicorn -k gevent bench.stacks.stock_flask_sse:app   (REDIS_URL in the environment)
"""

from __future__ import annotations

import os

from flask import Flask
from flask_sse import sse

app = Flask(__name__)
app.config["REDIS_URL"] = os.environ["REDIS_URL"]
app.register_blueprint(sse, url_prefix="/stream")
