"""Runs on a real Redis Cluster (3 masters, a replica each): upload, watch, replay, cancel, a
worker killed mid-run, and the run's shard failing over to its replica mid-run.

A run's keys and channels share one hash slot (hash tags), so its scripts and transactions
touch one shard; its events go out with sharded pub/sub, so they travel only within that
shard, to the workers subscribed to that run.
"""

from __future__ import annotations

import os
import signal
import threading

import pytest
import redis
from httpx_sse import connect_sse

from tests.conftest import Browser, log_of, server_env, terminal, until_followed, wait_for
from tests.redis_cluster import LocalCluster
from tests.test_batches import NAMES, submit, until_finished, zipped
from tests.test_e2e import read_stream, start_analysis
from tests.test_streams import FAST_RECOVERY, assert_gap_free, owner_pid
from webapp.keys import alert_key, channel, events_key, followers_key, lease_key, run_key

pytestmark = pytest.mark.e2e

PACED = {**FAST_RECOVERY, "DEMO_STEP_DELAY": "0.15"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    started = LocalCluster(tmp_path_factory.mktemp("cluster")).start()
    yield started
    started.stop()


@pytest.fixture
def crds(cluster):
    client = redis.RedisCluster.from_url(f"redis://127.0.0.1:{cluster.ports[0]}")
    yield client
    client.close()


@pytest.fixture(scope="module")
def cluster_server(start_server, cluster):
    return start_server(server_env(cluster.url, INSTANCE_NAME="clustered", **PACED), name="cluster")


def test_a_run_lives_in_one_slot_and_is_watched_through_its_shard(cluster, cluster_server, crds):
    session = Browser(cluster_server)
    run_id = start_analysis(session, "wash_genuine_gldx.xml")
    until_stream = threading.Event()
    received = []

    def watch():
        with cluster_server.client(timeout=30) as http, connect_sse(http, "GET", f"/analyses/{run_id}/events",
                                                                    params={"after": 0}) as source:
            for event in source.iter_sse():
                if event.data:
                    received.append(event)
                    until_stream.set()

    watcher = threading.Thread(target=watch)
    watcher.start()
    until_followed(crds, run_id)
    # The followers entry is written before the shard confirms the subscription; the stream's first
    # event is read only after it (seed 999645089 asked the shard in between and heard of no subscriber).
    assert until_stream.wait(timeout=30), "the stream sent no event"
    keys = [run_key(run_id), alert_key(run_id), events_key(run_id), followers_key(run_id), lease_key(run_id)]
    assert len({crds.keyslot(k) for k in [*keys, channel(run_id)]}) == 1
    # The worker serving the stream subscribed to the run's channel on the shard that owns it, once,
    # and nowhere else: no pattern, no other shard. On its master — or on its replica, when that
    # worker's map of the cluster predates a failover: Redis serves a shard's subscriptions on its
    # replicas too, and the master's publishes reach them (seeds 999645089 and 757892190, each right
    # after the failover test, found it there).
    home = cluster.master_of(run_key(run_id))
    shard = {home, cluster.replica_of(home)}
    subscribers = {}
    for port in cluster.live_ports():
        node = cluster.node(port)
        assert node.execute_command("PUBSUB", "NUMPAT") == 0
        subscribers[port] = node.execute_command("PUBSUB", "SHARDNUMSUB", channel(run_id))[1]
    assert sum(subscribers[p] for p in shard) == 1, subscribers
    assert not any(subscribers[p] for p in subscribers if p not in shard), subscribers
    watcher.join(timeout=60)
    assert not watcher.is_alive()
    events = log_of(crds, run_id)
    assert_gap_free(events)
    assert [int(e.id) for e in received if e.event != "close"] == [e.seq for e in events]
    assert received[-1].event == "close"
    # Replay from the middle, as a browser reconnecting with Last-Event-ID would.
    middle = events[len(events) // 2].seq
    rest = read_stream(cluster_server, run_id, last_event_id=middle)
    assert [int(e.id) for e in rest[:-1]] == [e.seq for e in events if e.seq > middle]
    page = cluster_server.client().get(f"/analyses/{run_id}").text
    assert "verdict verdict--escalate" in page


def test_a_batch_on_a_cluster(cluster_server, crds):
    """A batch's runs, its record and their queue entries span slots: written in order, all run."""
    response = submit(Browser(cluster_server), [("three.zip", zipped(NAMES[:3]))])
    assert response.status_code == 201, response.text
    done = until_finished(crds, cluster_server, response.json()["batch_id"])
    assert done["done"] == 3 and done["counts"].get("failed", 0) == 0
    for item in done["items"]:
        assert_gap_free(log_of(crds, item["run_id"]))


def test_cancel_on_a_cluster(cluster_server, crds):
    session = Browser(cluster_server)
    run_id = start_analysis(session, "insider_false_positive_nova.xml")
    wait_for(crds, run_id, lambda e: e.type == "step_started")
    response = session.http.post(f"/analyses/{run_id}/cancel", data={"csrf_token": session.token, "confirmed": "yes"})
    assert response.status_code == 303
    assert terminal(crds, run_id).type == "run_cancelled"
    events = log_of(crds, run_id)
    assert_gap_free(events)
    assert not any(e.type == "decision" for e in events)


def test_a_worker_killed_mid_run_on_a_cluster_is_resumed(cluster_server, crds):
    session = Browser(cluster_server)
    run_id = start_analysis(session, "insider_genuine_acme.xml")
    wait_for(crds, run_id, lambda e: e.step_id == "insider_dealing.trader_history")
    victim = owner_pid(crds, run_id)
    os.kill(victim, signal.SIGKILL)
    assert terminal(crds, run_id).type == "run_completed"
    events = log_of(crds, run_id)
    assert_gap_free(events)
    assert len([e for e in events if e.type == "run_resumed"]) == 1


def test_the_shard_fails_over_mid_run_and_nothing_is_lost(cluster, cluster_server, crds):
    """The master holding the run fails over to its replica (CLUSTER FAILOVER, as before maintenance)
    while the run writes events and a browser follows it: the run completes, the log has every event
    once, and the stream — resubscribed on the new master — delivers all of them in order."""
    session = Browser(cluster_server)
    run_id = start_analysis(session, "spoofing_genuine_flux.xml")
    received, failed_over = [], threading.Event()
    with cluster_server.client(timeout=60) as http, connect_sse(http, "GET", f"/analyses/{run_id}/events",
                                                                params={"after": 0}) as source:
        for event in source.iter_sse():
            if not event.data:
                continue
            received.append(event)
            if event.event == "step_started" and not failed_over.is_set():
                failed_over.set()
                old = cluster.master_of(run_key(run_id))
                new = cluster.failover(old)
                assert cluster.master_of(run_key(run_id)) == new != old
    assert failed_over.is_set()
    events = log_of(crds, run_id)
    assert_gap_free(events)
    assert events[-1].type == "run_completed"
    assert received[-1].event == "close"
    assert [int(e.id) for e in received[:-1]] == [e.seq for e in events]


def test_the_shards_master_dies_mid_run_and_its_replica_takes_over(cluster, cluster_server, crds):
    """kill -9 of the master holding the run: the cluster promotes its replica (after
    cluster-node-timeout), the run rides the outage out and completes, and the stream — whose
    subscription died with the master — is subscribed again on the new master and re-reads the log."""
    session = Browser(cluster_server)
    run_id = start_analysis(session, "wash_genuine_gldx.xml")
    received, killed = [], None
    try:
        with cluster_server.client(timeout=90) as http, connect_sse(http, "GET", f"/analyses/{run_id}/events",
                                                                    params={"after": 0}) as source:
            for event in source.iter_sse():
                if not event.data:
                    continue
                received.append(event)
                if event.event == "step_started" and killed is None:
                    killed = cluster.master_of(run_key(run_id))
                    replica = cluster.replica_of(killed)
                    cluster.kill(killed)
                    cluster.wait_promoted(replica)
        assert killed is not None
        events = log_of(crds, run_id)
        assert_gap_free(events)
        assert events[-1].type == "run_completed"
        assert received[-1].event == "close"
        assert [int(e.id) for e in received[:-1]] == [e.seq for e in events]
    finally:
        if killed is not None:
            cluster.restart(killed)  # back as a replica, for the tests that follow
