"""Connecting to Redis: one server, or a Redis Cluster.

``REDIS_URL`` names one server (``redis://``, ``rediss://``, ``unix://``) or, with
``redis+cluster://host:port[,host:port...]`` (``rediss+cluster://`` for TLS), seed nodes of a
cluster from which the client discovers the rest. Either way each process gets one client whose
pools are sized explicitly and block (greenlets wait for a connection instead of failing when
all are busy; redis-py's default pool would stall a busy worker at 100).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import redis
from redis.cluster import ClusterNode, RedisCluster
from redis.driver_info import DriverInfo
from redis.exceptions import ClusterDownError, RedisClusterException, SlotNotCoveredError, TryAgainError

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
# Shared by every connection: otherwise redis-py reads its own package metadata for each new one
# (~1 ms, in the middle of a connect storm while the pool grows).
DRIVER = DriverInfo()


def connect(url: str, pool_size: int) -> redis.Redis | RedisCluster:
    """The process's client for ``url`` (see the module docstring): ``pool_size`` connections per
    process, per node on a cluster."""
    scheme, _, rest = url.partition("://")
    if scheme not in CLUSTER_SCHEMES:
        pool = redis.BlockingConnectionPool.from_url(url, max_connections=pool_size, timeout=10,
                                                     health_check_interval=30, driver_info=DRIVER)
        return redis.Redis(connection_pool=pool)
    parts = urlsplit(f"{CLUSTER_SCHEMES[scheme]}://{rest}")
    credentials, _, hosts = parts.netloc.rpartition("@")
    seeds = [ClusterNode(*_host_port(h)) for h in hosts.split(",") if h]
    first = f"{credentials}@{hosts.split(',')[0]}" if credentials else hosts.split(",")[0]
    return _Cluster.from_url(urlunsplit(parts._replace(netloc=first)), startup_nodes=seeds,
                                 connection_pool_class=redis.BlockingConnectionPool, max_connections=pool_size,
                                 timeout=10, health_check_interval=30, driver_info=DRIVER)


class _Cluster(RedisCluster):
    """A RedisCluster whose outages are ConnectionErrors, as they are for one Redis — no node can be
    reached, a slot has no master, the cluster is down while a failover elects one — so that every
    path riding out an outage (the runner, the keeper, recovery) treats both alike."""

    def execute_command(self, *args, **kwargs):
        try:
            return super().execute_command(*args, **kwargs)
        except (ClusterDownError, TryAgainError, SlotNotCoveredError) as exc:
            raise redis.ConnectionError(str(exc)) from exc
        except RedisClusterException as exc:
            if isinstance(exc.__cause__, redis.ConnectionError | redis.TimeoutError):
                raise redis.ConnectionError(str(exc)) from exc
            raise


def _host_port(hostport: str) -> tuple[str, int]:
    host, _, port = hostport.rpartition(":")
    return (host, int(port)) if host else (hostport, 6379)


def is_cluster(client) -> bool:
    return isinstance(client, RedisCluster)
