"""Shared fixtures: a real Redis, real gunicorn + gevent servers, and helpers to drive them.

Sign-in is on everywhere, as in production. The session provisions one record database with
an account per role (tests.servers.provision); every server started here uses it, so:

* ``server.client()`` is authenticated (the analyst's API token; /metrics gets the metrics token),
  ``server.client(role="auditor")`` as another role, ``server.client(role=None)`` as a stranger;
* ``Browser(server)`` signs in through the login form (cookies + CSRF), as a person would;
* the Playwright ``page`` fixtures are signed in (as the analyst) before the test starts.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
import uuid
import warnings
from pathlib import Path

import httpx
import pytest
import redis
from playwright.sync_api import sync_playwright

from agents.events import Event
from tests.postgres import PostgresServer
from tests.servers import (
    CSRF,
    IDENTITY_VAR,
    REPO,
    RUNNING_FILE,
    STARTED,
    AppServer,
    Identity,
    provision,
    sign_in,
)
from webapp.embedded_redis import EmbeddedRedis
from webapp.keys import events_key, followers_key

TEST_DATA = REPO / "test_data"
SAMPLES = TEST_DATA / "alerts"
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", REPO / "tests" / "artifacts"))


def wait_for(client: redis.Redis, run_id: str, predicate, timeout: float = 30.0) -> Event:
    """The first event in the run's log matching ``predicate``, waiting for it with XREAD BLOCK."""
    last, deadline = "0-0", time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            reply = client.xread({events_key(run_id): last}, block=max(1, int(min(remaining, 1.0) * 1000)))
        except redis.ConnectionError:  # Redis is restarting in one test: reconnect
            time.sleep(0.05)
            continue
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                last = entry_id
                event = Event.from_json(fields[b"e"])
                if predicate(event):
                    return event
    raise AssertionError(f"no matching event in run {run_id} within {timeout}s")


def terminal(client, run_id, timeout=30.0) -> Event:
    return wait_for(client, run_id, lambda e: e.is_terminal, timeout)


def log_of(client: redis.Redis, run_id: str) -> list[Event]:
    return [Event.from_json(f[b"e"]) for _id, f in client.xrange(events_key(run_id))]


def asking_the_model(event: Event) -> bool:
    """The analyst step has put its question to the model (which a gated fake then holds)."""
    return event.type == "step_progress" and event.tool == "analyst"


def until_followed(client: redis.Redis, run_id: str, timeout: float = 10.0) -> None:
    """Wait until a stream follows the run (its worker has written the followers hash)."""
    deadline = time.monotonic() + timeout
    while not client.hlen(followers_key(run_id)):
        assert time.monotonic() < deadline, f"no stream followed run {run_id} within {timeout}s"
        time.sleep(0.01)  # polling a condition, with a deadline


CALL_STARTED = pytest.StashKey[float]()
SERVER_LOG_TAIL = 60


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    RUNNING_FILE[0] = str(item.path)  # servers its fixtures start belong to this file
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Note when each test's body begins: a failure then shows the logs its servers wrote meanwhile."""
    item.stash[CALL_STARTED] = time.time()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed served test carries the tail of each of its file's app server logs written during it: the server's side
    of a dropped connection or a 5xx (a worker killed, a traceback) is what explains such a failure, and
    the logs' temporary directories are gone by the time anyone reads the report."""
    report = yield
    started = item.stash.get(CALL_STARTED, None)
    if report.when == "call" and report.failed and started is not None:
        for server in STARTED:  # this file's servers (others may still log: their Redis is gone)
            with contextlib.suppress(OSError):
                if server.started_by == str(item.path) and server.log_path.stat().st_mtime >= started:
                    tail = server.log_text().splitlines()[-SERVER_LOG_TAIL:]
                    report.sections.append((f"server log {server.log_path.name} (last {len(tail)} lines)",
                                            "\n".join(tail)))
    return report


def pytest_collection_modifyitems(items):
    """A test served by a real gunicorn is end-to-end, whether or not its file says so — a browser
    test drives a served page; any test using a server fixture starts one — so that
    ``-m "not e2e"`` starts no server."""
    for item in items:
        served = "start_server" in getattr(item, "fixturenames", ())
        if (served or item.get_closest_marker("browser")) and not item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session", autouse=True)
def _isolated_data_cache(tmp_path_factory):
    """Each test session indexes the data into its own cache directory."""
    os.environ["DATA_CACHE_DIR"] = str(tmp_path_factory.mktemp("data-cache"))


@pytest.fixture(scope="session", autouse=True)
def identity(tmp_path_factory) -> Identity:
    """The session's record (SQLite) with one account per role; every server and in-process app
    of the session uses it (DATABASE_URL), and nothing writes into the checkout's ./var."""
    home = tmp_path_factory.mktemp("record")
    os.environ["STATE_DIR"] = str(home / "state")
    provisioned = provision(f"sqlite:///{home / 'record' / 'analyzer.sqlite3'}")
    os.environ.update(provisioned.env())
    os.environ[IDENTITY_VAR] = provisioned.to_json()
    return provisioned


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the session (tests/postgres.py). Its directory is outside
    pytest's (which is 0700 to root), since under root the server runs as ``postgres``."""
    directory = Path(tempfile.mkdtemp(prefix="saa-pg-"))
    server = PostgresServer(directory).start()
    yield server
    server.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def record_url(request, tmp_path) -> str:
    """A fresh, migrated record database: an SQLite file, and a database on the real PostgreSQL."""
    from webapp.record import schema

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'record' / 'analyzer.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"t_{uuid.uuid4().hex[:16]}")
    schema.upgrade(url)
    return url


@pytest.fixture
def record_db(record_url):
    from webapp.record import Database

    db = Database(record_url)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    with EmbeddedRedis(tmp_path_factory.mktemp("redis"), persistent=False) as server:
        yield server


@pytest.fixture(scope="session")
def redis_url(redis_server) -> str:
    return redis_server.url


@pytest.fixture
def redis_client(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


# The suite uploads hundreds of alerts from one address: only the rate-limit tests use real limits.
GENEROUS_LIMITS = {f"RATE_LIMIT_{action}": "100000/minute" for action in
                   ("UPLOAD", "UPLOAD_IP", "A2A_SEND", "A2A_SEND_IP", "SIGN_IN", "SIGN_IN_IP", "FALLBACK")}


def server_env(redis_url: str, **extra: str) -> dict[str, str]:
    env = {"REDIS_URL": redis_url, "DATA_DIR": str(TEST_DATA), "SECRET_KEY": "test-secret",
           "SSE_HEARTBEAT_INTERVAL": "1", "OPENAI_API_KEY": "", "DATA_CACHE_DIR": os.environ["DATA_CACHE_DIR"],
           **GENEROUS_LIMITS}
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def start_server(tmp_path_factory, identity):
    """Start app servers on demand; all are stopped at the end of the session."""
    started: list[AppServer] = []

    def start(env: dict[str, str], workers: int = 2, name: str = "app", record: Identity | None = None,
              **options) -> AppServer:
        """``record``: another record database (with its accounts) than the session's."""
        log = tmp_path_factory.mktemp("logs") / f"{name}.log"
        server = AppServer(env=env, log_path=log, workers=workers, identity=record or identity, **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.terminate()
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def live_server(start_server, redis_url) -> AppServer:
    """gunicorn + gevent, two workers, the offline analyst, no pacing."""
    return start_server(server_env(redis_url), name="live")


@pytest.fixture(scope="session")
def paced_server(start_server, redis_url) -> AppServer:
    """Like live_server, with DEMO_STEP_DELAY so a person (or browser) can watch steps arrive."""
    return start_server(server_env(redis_url, DEMO_STEP_DELAY="0.25"), name="paced")


_SIGNED_IN: dict[tuple, dict[str, str]] = {}  # (record, secret key, role) -> the session's cookies


class Browser:
    """An HTTP session as a browser holds it: signed in through the login form (as ``role``),
    cookies plus the page's CSRF token. Like a browser's tabs, Browsers of one role share the
    session the first of them signed in with (for servers sharing a record and a secret key):
    signing in costs a password hash, which would otherwise add to every test that makes one."""

    def __init__(self, server: AppServer, role: str = "analyst"):
        self.http = server.client(follow_redirects=False, role=None)  # the session cookie is its credential
        key = (server.identity.database_url, server.env.get("SECRET_KEY"), role)
        page = None
        if key in _SIGNED_IN:
            self.http.cookies.update(_SIGNED_IN[key])
            home = self.http.get("/login")  # signed in: sent to the role's home page
            if home.status_code == 302:
                page = self.http.get(home.headers["location"])
        if page is None or page.status_code != 200:
            self.http.cookies.clear()
            page = sign_in(self.http, server.identity, role)
            _SIGNED_IN[key] = dict(self.http.cookies)
        self.token = CSRF.search(page.text).group(1)

    def upload(self, content: bytes, filename: str = "alert.xml", *, htmx: bool = False) -> httpx.Response:
        headers = {"HX-Request": "true"} if htmx else {}
        # "reinvestigate": the suite uploads the same sample alerts again and again, each a new analysis
        # (without it, an alert whose case exists opens the case instead: tests/test_desk.py).
        return self.http.post("/analyses", data={"csrf_token": self.token, "reinvestigate": "1"},
                              files={"alert": (filename, content, "application/xml")}, headers=headers)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def browser_session(live_server):
    session = Browser(live_server)
    yield session
    session.close()


# ----------------------------------------------------------------------------- browser

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Flags for a root, offline, headless machine: no sandbox, no background calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
ANALYSIS_URL = re.compile(r"/analyses/[0-9a-f]{32}$")


class SessionBrowser:
    """The test process's Chromium, launched again if it has exited between two tests.

    A test whose browser dies under it fails (its page, its context are gone); the next tests should
    not all fail with it: one Chromium crash on a loaded machine (seeded run 2132708662) turned into 25
    errors in every later browser test of that process. A relaunch is said in the output."""

    def __init__(self, playwright):
        self.playwright = playwright
        self.browser = self._launch()

    def _launch(self):
        return self.playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

    def new_context(self, **options):
        if not self.browser.is_connected():
            warnings.warn("Chromium had exited between tests; launched it again", stacklevel=2)
            self.browser = self._launch()
        return self.browser.new_context(**options)

    def close(self) -> None:
        if self.browser.is_connected():
            self.browser.close()


@pytest.fixture(scope="session")
def chromium():
    with sync_playwright() as playwright:
        browser = SessionBrowser(playwright)
        yield browser
        browser.close()


class PageProblems(list):
    """Everything that went wrong in a page: uncaught errors, console errors, failed requests and
    error responses. A browser test fails on any of them, except a response a test provokes on
    purpose and declares with :meth:`allow` (a refused upload answers 422 with the form)."""

    def __init__(self) -> None:
        super().__init__()
        self.allowed: list[tuple[int, re.Pattern]] = []
        self.tolerated: list[re.Pattern] = []

    def allow(self, status: int, url: str) -> None:
        """Expect responses with ``status`` from URLs matching the regular expression ``url``."""
        self.allowed.append((status, re.compile(url)))

    def tolerate(self, problem: str) -> None:
        """Expect problems matching the regular expression ``problem`` (a test that breaks a stream)."""
        self.tolerated.append(re.compile(problem))

    def append(self, problem: str) -> None:
        if not any(pattern.search(problem) for pattern in self.tolerated):
            super().append(problem)

    def expected(self, status: int, url: str) -> bool:
        return any(status == allowed and pattern.search(url) for allowed, pattern in self.allowed)

    def on_console(self, msg) -> None:
        if msg.type != "error":
            return
        # The browser's own note on an error response is judged with the response itself.
        if "the server responded with a status of" in msg.text:
            status = int(re.search(r"status of (\d+)", msg.text)[1])
            if self.expected(status, msg.location.get("url", "")):
                return
        self.append(f"console: {msg.text}")

    def on_response(self, response) -> None:
        if response.status >= 400 and not self.expected(response.status, response.url):
            self.append(f"{response.status} from {response.request.method} {response.url}")

    def on_request_failed(self, request) -> None:
        # Leaving a page aborts its live stream: that is how an EventSource ends on navigation.
        # So does moving on before the browser's background fetch of the icon has finished.
        if request.failure == "net::ERR_ABORTED" and request.url.split("?")[0].endswith(("/events", "/favicon.svg")):
            return
        self.append(f"request failed: {request.method} {request.url}: {request.failure}")


@pytest.fixture
def page_errors():
    return PageProblems()


def _page(chromium, page_errors, **context_options):
    options = {"viewport": {"width": 1280, "height": 900}, **context_options}
    context = chromium.new_context(**options)
    page = context.new_page()
    page.on("pageerror", lambda exc: page_errors.append(f"uncaught: {exc}"))
    page.on("console", page_errors.on_console)
    page.on("response", page_errors.on_response)
    page.on("requestfailed", page_errors.on_request_failed)
    return context, page


def _close(context, page_errors) -> None:
    context.close()
    assert list(page_errors) == [], f"the page had problems: {list(page_errors)}"


def sign_in_browser(context, server: AppServer, role: str = "analyst") -> None:
    """Sign a browser context in through the login form. Its cookie is for the host, so it holds
    for every test server on 127.0.0.1 (they share the record and the secret key)."""
    form = context.request.get(f"{server.url}/login")
    response = context.request.post(f"{server.url}/login", max_redirects=0, form={
        "csrf_token": CSRF.search(form.text()).group(1), "username": server.identity.username(role),
        "password": server.identity.passwords[role]})
    assert response.status == 303, f"sign-in as {role} failed: {response.status}"


@pytest.fixture
def page(chromium, page_errors, live_server):
    context, page = _page(chromium, page_errors)
    sign_in_browser(context, live_server)
    yield page
    _close(context, page_errors)


@pytest.fixture
def open_page(chromium, page_errors, live_server):
    """Pages on demand (``open_page(viewport=..., java_script_enabled=False)``), checked like ``page``
    and signed in like it."""
    contexts = []

    def open_(**options):
        context, page = _page(chromium, page_errors, **options)
        sign_in_browser(context, live_server)
        contexts.append(context)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert list(page_errors) == [], f"the pages had problems: {list(page_errors)}"


def axe_source() -> str:
    """axe-core, as scripts/test.sh installs it from npm (tests only; never served to users)."""
    version = re.search(r"^AXE_VERSION=(\S+)$", (REPO / "scripts" / "test.sh").read_text(), re.M)[1]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    directory = Path(os.environ.get("AXE_CORE_DIR") or cache / "smarts-analyzer" / f"axe-core-{version}")
    path = directory / "node_modules" / "axe-core" / "axe.min.js"
    assert path.is_file(), f"axe-core {version} is not installed at {path}: run scripts/test.sh"
    return path.read_text()


def axe_violations(page, source: str) -> list[dict]:
    """Serious and critical axe-core violations in the page as it is now (WCAG 2.x A and AA rules).

    axe is evaluated through the DevTools protocol, which the page's Content-Security-Policy does
    not govern: the page under test keeps its own strict policy."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations'],
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}}))
        .violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                               nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}))""")
    return [v for v in found if v["impact"] in ("serious", "critical")]


@pytest.fixture
def phone(chromium, page_errors, live_server):
    """A page the size of a phone (390 × 844 CSS px, touch, mobile viewport), signed in."""
    context, page = _page(chromium, page_errors, viewport={"width": 390, "height": 844}, is_mobile=True,
                          has_touch=True, device_scale_factor=2)
    sign_in_browser(context, live_server)
    yield page
    _close(context, page_errors)


@pytest.fixture
def page_without_js(chromium, page_errors, live_server):
    context, page = _page(chromium, page_errors, java_script_enabled=False)
    sign_in_browser(context, live_server)
    yield page
    _close(context, page_errors)


@pytest.fixture
def anonymous_page(chromium, page_errors):
    """A browser nobody has signed in with."""
    context, page = _page(chromium, page_errors)
    yield page
    _close(context, page_errors)


def upload_in_browser(page, base_url: str, alert) -> None:
    """Upload a file through the home page's form, as an analyst would."""
    page.goto(base_url + "/")
    page.set_input_files("#alert-file", str(alert))
    page.check("#reinvestigate")  # a new analysis even when the alert's case exists (the suite repeats samples)
    page.click("#upload-form button[type=submit]")


def snapshot(page) -> dict[str, object]:
    """What an analyst sees: the text of the header, the steps and the decision."""
    return {
        "header": page.locator("#run-header").inner_text(),
        "steps": page.locator("#timeline .step").evaluate_all(
            "els => els.map(e => [e.id, e.className.split(' ').filter(c => c.startsWith('step')).join(' '),"
            " e.innerText])"),
        "decision": page.locator("#decision").inner_text(),
    }
