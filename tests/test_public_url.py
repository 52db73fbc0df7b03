"""PUBLIC_URL: the URL clients reach the server at (behind a proxy) is the one every absolute URL
the app hands out uses — each agent card's URLs, the sign-on redirect — and the origin the A2A
endpoints take as their own; a request's Host header never replaces it. In this process (the
Flask test client), with a Redis of the session and a record of its own."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.servers import Identity, provision
from tests.test_oidc import CLIENT_ID, CLIENT_SECRET, provider  # noqa: F401  (the provider fixture)
from webapp.a2a.agents import ORCHESTRATOR, SPECIALISTS
from webapp.app import create_app
from webapp.config import Settings

PUBLIC = "https://analyzer.example.com/surveillance"
AGENTS = [ORCHESTRATOR, *SPECIALISTS.values()]


@pytest.fixture(scope="module")
def accounts(tmp_path_factory) -> Identity:
    return provision(f"sqlite:///{tmp_path_factory.mktemp('public-url') / 'record' / 'r.sqlite3'}")


def make_app(redis_url, accounts, tmp_path, **overrides):
    settings = Settings.from_env(redis_url=redis_url, database_url=accounts.database_url, secret_key="k",
                                 state_dir=tmp_path / "state", **overrides)
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


def card_path(agent) -> str:
    return "/.well-known/agent-card.json" if agent.slug is None else f"/a2a/{agent.slug}/.well-known/agent-card.json"


def urls_in(value) -> list[str]:
    if isinstance(value, dict):
        return [url for item in value.values() for url in urls_in(item)]
    if isinstance(value, list):
        return [url for item in value for url in urls_in(item)]
    return [value] if isinstance(value, str) and "://" in value else []


@pytest.mark.parametrize("agent", AGENTS, ids=lambda agent: agent.slug or "orchestrator")
def test_every_url_of_every_agent_card_is_public_urls_whatever_the_host(agent, redis_url, accounts, tmp_path):
    public = make_app(redis_url, accounts, tmp_path, public_url=PUBLIC + "/").test_client()
    card = public.get(card_path(agent), headers={"Host": "internal-node-7:8000"})
    assert card.status_code == 200
    urls = urls_in(card.json)
    assert len(urls) >= 3 and all(url.startswith(PUBLIC + "/") for url in urls), urls
    assert [i["url"] for i in card.json["supportedInterfaces"]] == [PUBLIC + agent.path]
    # Without it the host asked for is not trusted, so there is no URL to give: refused.
    reflected = make_app(redis_url, accounts, tmp_path).test_client()
    assert reflected.get(card_path(agent), headers={"Host": "internal-node-7:8000"}).status_code == 400


def test_the_a2a_endpoints_take_public_urls_origin_as_their_own(redis_url, accounts, tmp_path):
    call = {"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "0" * 32}}
    headers = {"A2A-Version": "1.0", "Authorization": f"Bearer {accounts.tokens['analyst']}",
               "Host": "internal-node-7:8000"}
    public = make_app(redis_url, accounts, tmp_path, public_url=PUBLIC).test_client()
    same_site = public.post("/a2a", json=call, headers={**headers, "Origin": "https://analyzer.example.com"})
    assert same_site.status_code == 200 and same_site.json["error"]["code"] == -32001  # let in: no such task
    other = public.post("/a2a", json=call, headers={**headers, "Origin": "https://elsewhere.example.com"})
    assert other.status_code == 403 and "Cross-site" in other.json["error"]["message"]
    without = make_app(redis_url, accounts, tmp_path).test_client()
    refused = without.post("/a2a", json=call, headers={**headers, "Origin": "https://analyzer.example.com"})
    assert refused.status_code == 403


def test_the_sign_on_redirect_comes_back_to_public_url(redis_url, accounts, tmp_path, provider,  # noqa: F811
                                                        monkeypatch):
    from webapp.auth import SSO, oauth

    sso = {"oidc_issuer_url": provider, "oidc_client_id": CLIENT_ID, "oidc_client_secret": CLIENT_SECRET}
    for public_url, expected in ((PUBLIC, PUBLIC), (None, "http://internal-node-7:8000")):
        # Authlib keeps one client per name per process (a served worker makes one app): forget one an
        # earlier app of this process made, for a provider that may be gone.
        monkeypatch.delitem(oauth._clients, SSO, raising=False)
        app = make_app(redis_url, accounts, tmp_path, public_url=public_url, **sso)
        started = app.test_client().get("/login/sso", headers={"Host": "internal-node-7:8000"})
        assert started.status_code == 302 and started.headers["Location"].startswith(provider)
        query = parse_qs(urlsplit(started.headers["Location"]).query)
        assert query["redirect_uri"] == [f"{expected}/login/sso/callback"]
