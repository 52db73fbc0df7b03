"""In-process checks of what guards the app without Redis: the factory, the generated secret key,
and unexpected failures answered as pages or JSON-RPC errors, never bare 500s."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.servers import Identity
from webapp import create_app
from webapp.a2a import methods
from webapp.a2a.guard import depth_exceeds
from webapp.config import Settings
from webapp.outage import STORE_DOWN
from webapp.state import secret_key as generated_secret_key


def signed_in(role: str = "analyst") -> dict[str, str]:
    """An API token of the session's account with ``role`` (tokens work for pages too)."""
    return {"Authorization": f"Bearer {Identity.current().tokens[role]}"}


@pytest.fixture
def app_without_redis(tmp_path):
    """The app pointed at a Redis that is not there, with no SECRET_KEY."""
    settings = Settings.from_env(redis_url=f"unix://{tmp_path}/no-redis.sock", secret_key=None,
                                 state_dir=tmp_path / "state")
    return create_app(settings)


def test_the_app_is_created_without_redis_and_says_clearly_that_it_is_missing(app_without_redis, tmp_path):
    client = app_without_redis.test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json == {"status": "unavailable", "redis": "unreachable"}
    page = client.get("/", headers=signed_in())
    assert page.status_code == 503 and STORE_DOWN.split(":")[0] in page.text and str(tmp_path) not in page.text
    assert page.headers["Retry-After"] and page.headers["Refresh"]


def test_the_generated_secret_key_is_private_and_shared_by_every_worker(tmp_path):
    with ThreadPoolExecutor(8) as pool:  # workers starting together
        keys = set(pool.map(lambda _i: generated_secret_key(tmp_path / "state"), range(8)))
    [key] = keys
    assert len(key) == 64
    path = tmp_path / "state" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text().strip() == key
    assert generated_secret_key(tmp_path / "state") == key  # and the same after a restart


def test_an_unexpected_failure_in_a2a_is_a_json_rpc_internal_error(app_without_redis, monkeypatch):
    def broken(_call):
        raise RuntimeError("a bug")

    monkeypatch.setitem(methods.HANDLERS, "GetTask", broken)
    response = app_without_redis.test_client().post(
        "/a2a", json={"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "x"}},
        headers={"A2A-Version": "1.0", **signed_in()})
    assert response.status_code == 500 and response.json["error"]["code"] == -32603
    assert "a bug" not in response.text  # logged, not shown


def test_an_unexpected_failure_in_a_page_is_the_error_page(app_without_redis, monkeypatch):
    from webapp import analyses

    monkeypatch.setattr(analyses, "sample_alerts", lambda: 1 / 0)  # a bug in the home page
    response = app_without_redis.test_client().get("/analyses", headers=signed_in())
    assert response.status_code == 500 and "Something went wrong on our side" in response.text
    assert "ZeroDivisionError" not in response.text


@pytest.mark.parametrize(("value", "deeper"), [
    ({"a": [1, {"b": 2}]}, False),
    ([[[[1]]]], False),
    ([[[[[1]]]]], True),
    ({"a": {"b": {"c": {"d": {"e": 1}}}}}, True),
    ("[[[[[[", False),  # a string is not nesting
])
def test_depth_is_measured_without_recursion(value, deeper):
    assert depth_exceeds(value, 4) is deeper
    assert depth_exceeds(_nested(100_000), 32)  # deeper than Python's recursion limit


def _nested(levels: int):
    value: list = []
    for _ in range(levels):
        value = [value]
    return value
