"""The application factory.

Handlers hold no state between requests: live runs are in Redis, the record (cases, users,
audit trail) in the database, so any worker or instance can serve any request for any run.
Creating the app touches neither: a worker boots, answers /healthz and serves a clear 503 while
Redis is down (webapp/outage.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import redis
from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from agents.analyst_offline import OfflineAnalyst
from webapp.config import Settings
from webapp.paths import resource_dir
from webapp.redis_conn import connect
from webapp.state import secret_key
from webapp.store import RunStore

csrf = CSRFProtect()


@dataclass
class Services:
    """Per-process collaborators, kept in ``app.extensions["saa"]``."""

    settings: Settings
    redis: redis.Redis
    store: RunStore
    queue: object | None = None        # webapp.workqueue.WorkQueue
    db: object | None = None  # webapp.record.Database, bound by record.init_app
    hub: object | None = None
    dispatcher: object | None = None   # this worker's webapp.workqueue.Dispatcher
    extra: dict = field(default_factory=dict)

    def hub_for_worker(self):
        """This worker's event hub (created on first use, never one inherited across a fork)."""
        import os

        from webapp.feed import Hub

        if self.hub is None or self.hub.pid != os.getpid():
            self.hub = Hub(self.store, max_streams=self.settings.sse_max_concurrent)
        return self.hub

    def dispatcher_for_worker(self, app: Flask | None = None, workers: int = 1):
        """This worker's dispatcher, taking runs off the work queue (started on first use; gunicorn
        workers start theirs at boot, with the worker count that divides the instance's cap)."""
        import os

        from flask import current_app

        from webapp.workqueue import Dispatcher

        if self.dispatcher is None or self.dispatcher.pid != os.getpid():
            self.dispatcher = Dispatcher(app or current_app._get_current_object(), workers=workers).start()
        return self.dispatcher

    def make_analyst(self):
        """The LLM analyst when an API key is configured, else the offline rules analyst.

        One per process: analysts keep no per-case state, and building the LLM client
        (connection pool, TLS context) per run would cost more than many events.
        """
        if "analyst" not in self.extra:
            if self.settings.llm_enabled:
                from agents.analyst_llm import LLMAnalyst
                from webapp.llm_budget import TokenBudget
                from webapp.llm_limit import rate_limit_for

                limit = self.settings.llm_daily_token_budget
                self.extra["analyst"] = LLMAnalyst.from_settings(
                    self.settings, rate_limit=rate_limit_for(self.redis, self.settings),
                    budget=TokenBudget(self.redis, limit) if limit > 0 else None)
            else:
                self.extra["analyst"] = OfflineAnalyst(reporting_firm=self.settings.reporting_firm)
        return self.extra["analyst"]




def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set. Start the app with `smarts-analyzer serve`, which starts an "
                           "embedded Redis, or point REDIS_URL at a Redis server.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Flask(__name__, template_folder=str(resource_dir("templates")),
                static_folder=str(resource_dir("static")))
    client = connect(settings.redis_url, settings.redis_pool_size)  # one Redis (connects on first use), or a cluster
    app.config.update(
        SECRET_KEY=settings.secret_key or secret_key(settings.state_dir),
        # One alert, or a batch of them (several files or a zip), plus the multipart overhead.
        MAX_CONTENT_LENGTH=max(settings.max_alert_bytes, settings.batch_max_bytes) + 1024 * 1024,
        SSE_REDIS_URL=settings.redis_url,
        WTF_CSRF_TIME_LIMIT=settings.csrf_time_limit,
        SESSION_COOKIE_NAME="saa_session",  # not "session": other apps on the same host keep theirs
        # With TRUSTED_HOSTS set, requests for any other Host are refused (400): no DNS rebinding.
        TRUSTED_HOSTS=[*settings.trusted_hosts, "localhost", "127.0.0.1", "[::1]"] if settings.trusted_hosts else None,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
    )
    if settings.trusted_proxies:
        # Client address, scheme and host as the trusted proxies report them (audit IPs, Secure cookies).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies,
                                x_host=settings.trusted_proxies, x_port=settings.trusted_proxies)
    from webapp.workqueue import WorkQueue

    app.extensions["saa"] = Services(settings=settings, redis=client, store=RunStore(client, settings.run_ttl_seconds),
                                     queue=WorkQueue(client, instance=settings.instance_name,
                                                     cap=settings.max_runs_in_flight,
                                                     slot_ttl_ms=int(settings.lease_ttl * 1000)))

    from webapp import admin, analyses, audit_trail, auth, batch_pages, desk, health, limits, outage, record, templating
    from webapp.a2a import bp as a2a
    from webapp.sse import sse

    record.init_app(app)
    auth.init_app(app)  # its access hook runs before CSRF's, so strangers get the login page, not a CSRF error
    csrf.init_app(app)
    templating.init_app(app)
    limits.init_app(app, client, settings.redis_url)
    outage.init_app(app)
    csrf.exempt(a2a)  # JSON-RPC clients authenticate with bearer tokens, not browser sessions
    app.register_blueprint(a2a)
    app.register_blueprint(desk.bp)
    app.register_blueprint(analyses.bp)
    app.register_blueprint(batch_pages.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(sse)
    app.register_blueprint(admin.bp)
    app.register_blueprint(audit_trail.bp)
    # Done while the worker boots, not in the middle of serving: importing the LLM client on a worker's
    # first run, or compiling a template on its first page, would hold the worker's hub for 100 ms or more.
    app.extensions["saa"].make_analyst()
    for name in app.jinja_env.list_templates(filter_func=lambda name: name.endswith((".html", ".txt"))):
        app.jinja_env.get_template(name)
    return app
