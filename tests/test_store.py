"""The run store's promises about expiry (webapp/store.py), against a real Redis: with
RUN_TTL_SECONDS, a run's keys and its batch's keys expire counted from the run's end."""

from __future__ import annotations

import pytest
import redis

from agents.alerts import parse_alert
from tests.conftest import SAMPLES
from webapp.embedded_redis import EmbeddedRedis
from webapp.keys import alert_key, batch_key, batch_runs_key, run_key
from webapp.store import RunStore

TTL = 600


@pytest.fixture
def store(tmp_path):
    with EmbeddedRedis(tmp_path / "redis", persistent=False) as server:
        client = redis.Redis.from_url(server.url)
        yield RunStore(client, ttl_seconds=TTL)
        client.close()


def test_a_batch_outlives_its_creation_ttl_while_its_runs_end(store):
    raw = (SAMPLES / "wash_genuine_gldx.xml").read_bytes()
    first, later = (store.create(parse_alert(raw), raw, filename="a.xml") for _ in range(2))
    batch_keys = (batch_key("b1"), batch_runs_key("b1"))
    store.redis.hset(batch_keys[0], mapping={"id": "b1", "label": "long batch"})
    store.redis.rpush(batch_keys[1], first.id, later.id)
    for run in (first, later):
        store.update(run.id, batch_id="b1")
    for key in batch_keys:
        store.redis.expire(key, 5)  # the TTL set at creation, nearly run out: the batch has been going a while
    assert [store.redis.pttl(key) for key in (run_key(first.id), alert_key(first.id))] == [-1, -1]

    store.retire(first.id)
    assert all(TTL - 5 < store.redis.ttl(key) <= TTL for key in batch_keys)  # counted from this run's end
    assert all(TTL - 5 < store.redis.ttl(key) <= TTL for key in (run_key(first.id), alert_key(first.id)))
    assert store.redis.pttl(run_key(later.id)) == -1  # a run still going keeps its keys


def test_a_run_outside_a_batch_touches_no_batch_key(store):
    raw = (SAMPLES / "wash_genuine_gldx.xml").read_bytes()
    run = store.create(parse_alert(raw), raw, filename="a.xml")
    store.retire(run.id)
    assert 0 < store.redis.ttl(run_key(run.id)) <= TTL
    assert not store.redis.keys("saa:batch:*")
