"""A cancel is heard when it is sent, not at the run's next lease renewal.

The run's keeper reads the durable cancel flag when it starts and at each renewal (every third of
LEASE_TTL), and hears a cancel at once through its worker's subscription. Here the lease lasts
two minutes, so the next renewal is 40 s away while the whole run takes a few seconds: a run that
ends cancelled was stopped by the message (a keeper deaf to it lets the run complete). No timing
is asserted; bench/cancel_latency.py measures how fast.
"""

from __future__ import annotations

import pytest
import redis

from tests.conftest import SAMPLES, Browser, log_of, server_env, terminal, wait_for
from webapp.embedded_redis import EmbeddedRedis

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def long_lease(start_server, tmp_path_factory):
    """One worker, steps of 0.4 s, renewals every 40 s; a Redis of its own (its recovery sweep would
    hold other servers' orphaned runs for two minutes)."""
    with EmbeddedRedis(tmp_path_factory.mktemp("long-lease-redis"), persistent=False) as live:
        server = start_server(server_env(live.url, LEASE_TTL="120", DEMO_STEP_DELAY="0.4"), workers=1,
                              name="long-lease")
        client = redis.Redis.from_url(live.url)
        yield server, client
        client.close()
        server.stop()


def test_a_cancel_stops_the_run_long_before_its_next_lease_renewal(long_lease):
    server, client = long_lease
    session = Browser(server)
    response = session.upload((SAMPLES / "insider_genuine_acme.xml").read_bytes(), "insider_genuine_acme.xml")
    run_id = response.headers["location"].rsplit("/", 1)[1]
    wait_for(client, run_id, lambda e: e.type == "step_completed")  # the keeper's first check is behind it
    cancelled = session.http.post(f"/analyses/{run_id}/cancel", data={"csrf_token": session.token,
                                                                     "confirmed": "yes"})
    assert cancelled.status_code == 303
    assert terminal(client, run_id).type == "run_cancelled"
    assert not any(e.type == "decision" for e in log_of(client, run_id))
    session.close()
