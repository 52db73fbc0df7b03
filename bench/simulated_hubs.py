"""Simulated workers for bench/fanout_scaling.py: H hubs in one gevent process.

    python -m bench.simulated_hubs REDIS_URL HUBS RUNS_PER_HUB per-run|pattern

Each ``per-run`` hub is a real :class:`webapp.feed.Hub` with its own Redis client and subscriber
connection, following RUNS_PER_HUB runs of its own; each ``pattern`` one holds ``PSUBSCRIBE
analysis:*``, as every worker did before. Prints {"ready": [run ids]} once subscribed, counts
the messages each receives from the line "go" on stdin (answered "counting") to the line "stop",
then prints the counts.
"""

from gevent import monkey

monkey.patch_all()  # first, as in a gunicorn worker

import json  # noqa: E402
import sys  # noqa: E402
import uuid  # noqa: E402

import gevent  # noqa: E402
import gevent.socket  # noqa: E402
import redis  # noqa: E402

from webapp.feed import Hub  # noqa: E402
from webapp.store import RunStore  # noqa: E402


def main(url: str, hubs: int, runs_per_hub: int, mode: str) -> None:
    counts = [0] * hubs
    runs = [[uuid.uuid4().hex for _ in range(runs_per_hub)] for _ in range(hubs)]
    subscribed = []

    def follow(h: int, hub: Hub, run_id: str) -> None:
        with hub.subscription(run_id) as queue:  # confirmed by Redis, followers written
            subscribed.append(run_id)
            while True:
                if getattr(queue.get(), "id", None) is not None:
                    counts[h] += 1

    def pattern(h: int) -> None:
        pubsub = redis.Redis.from_url(url).pubsub()
        pubsub.psubscribe("analysis:*")
        assert pubsub.get_message(timeout=10)["type"] == "psubscribe"
        subscribed.append(h)
        for message in pubsub.listen():
            if message["type"] == "pmessage":
                counts[h] += 1

    greenlets = []
    for h in range(hubs):
        if mode == "per-run":
            hub = Hub(RunStore(redis.Redis.from_url(url, max_connections=20)))
            greenlets += [gevent.spawn(follow, h, hub, run_id) for run_id in runs[h]]
        else:
            greenlets.append(gevent.spawn(pattern, h))
    expected = hubs * runs_per_hub if mode == "per-run" else hubs
    with gevent.Timeout(60):
        while len(subscribed) < expected:
            gevent.sleep(0.01)
    print(json.dumps({"ready": [r for hub_runs in runs for r in hub_runs]}), flush=True)
    for command in ("go", "stop"):
        gevent.socket.wait_read(sys.stdin.fileno())  # stdin is not cooperative: wait without blocking
        assert sys.stdin.readline().strip() == command
        if command == "go":
            counts[:] = [0] * hubs
            print("counting", flush=True)  # the publisher starts only now
    print(json.dumps(counts), flush=True)
    gevent.killall(greenlets, block=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
