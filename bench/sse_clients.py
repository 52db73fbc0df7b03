"""SSE client processes for bench/sse_fanout.py: raw sockets in one asyncio loop per process.

Each process opens its share of the streams (at most ``in_flight`` connects at a time), then
reads them until told to report. Per stream it counts the events received (``id:`` lines);
per event it measures publish→receipt latency from the ``data-sent`` time the publisher put in
the fragment (the same clock: one machine), into a histogram of 0.1 ms buckets. What it sends
back is small whatever the number of events: counts per stream, the histogram, the failures.
"""

from __future__ import annotations

import asyncio
import re
import resource
import time
from array import array

BUCKET_MS = 0.1
BUCKETS = 100_000  # 0.1 ms steps up to 10 s; later arrivals go in the last bucket
SENT = re.compile(rb'data-sent=\\?"([0-9.]+)')


class Streams:
    def __init__(self, port: int, paths: list[str], headers: str = ""):
        self.port = port
        self.paths = paths
        self.headers = headers  # e.g. "Authorization: Bearer …\r\n": this app's streams need a signed-in user
        self.counts = array("I", [0] * len(paths))
        self.answered = bytearray(len(paths))   # got "200" (our stack and the seed's answer at once)
        self.open = bytearray(len(paths))       # the connection is up (until the end or a failure)
        self.failed: dict[str, int] = {}
        self.latency = array("I", [0] * BUCKETS)
        self.tasks: list[asyncio.Task] = []

    def _fail(self, why: str) -> None:
        self.failed[why] = self.failed.get(why, 0) + 1

    async def _one(self, index: int, slots: asyncio.Semaphore, sent: asyncio.Event) -> None:
        try:
            async with slots:
                reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), 60)
                writer.write(f"GET {self.paths[index]} HTTP/1.1\r\nHost: bench\r\n"
                             f"Accept: text/event-stream\r\n{self.headers}\r\n".encode())
                await writer.drain()
        except (TimeoutError, OSError) as exc:
            self._fail(type(exc).__name__)
            return
        finally:
            sent.set()
        self.open[index] = 1
        try:
            status = await reader.readline()
            if not status.startswith(b"HTTP/1.1 200 "):
                self._fail(status.decode(errors="replace").strip()[:40] or "closed before answering")
                return
            self.answered[index] = 1
            while line := await reader.readline():
                if line.startswith(b"id:"):
                    self.counts[index] += 1
                elif b"data-sent" in line:
                    found = SENT.search(line)
                    if found:
                        ms = (time.time() - float(found.group(1))) * 1000
                        self.latency[min(BUCKETS - 1, max(0, int(ms / BUCKET_MS)))] += 1
            self._fail("closed by the server")
        except OSError as exc:
            self._fail(type(exc).__name__)
        finally:
            self.open[index] = 0

    async def connect(self, in_flight: int, wait_answers: bool) -> dict:
        """Open every stream; return once each request is sent and, with ``wait_answers`` (stacks that
        answer before their first event), once each is answered or failed."""
        started = time.monotonic()
        slots = asyncio.Semaphore(in_flight)
        sent = [asyncio.Event() for _ in self.paths]
        self.tasks = [asyncio.create_task(self._one(i, slots, sent[i])) for i in range(len(self.paths))]
        await asyncio.gather(*(e.wait() for e in sent))
        sent_s = time.monotonic() - started
        deadline = started + (120 if wait_answers else 0)
        while time.monotonic() < deadline and sum(self.answered) + sum(self.failed.values()) < len(self.paths):
            await asyncio.sleep(0.01)
        answered_s = time.monotonic() - started
        return {"sent_s": sent_s, "answered_s": answered_s, "answered": sum(self.answered)}

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def serve(conn, port: int, paths: list[str], in_flight: int, headers: str = "") -> None:
    """A client process, driven by commands on ``conn``: ("ping",), ("connect", wait_answers), ("reset",)
    (zero the counts), ("report",), ("stop",)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # one descriptor per stream
    loop = asyncio.new_event_loop()
    streams = Streams(port, paths, headers)

    async def main():
        commands: asyncio.Queue = asyncio.Queue()
        loop.add_reader(conn.fileno(), lambda: commands.put_nowait(conn.recv()))
        while True:
            command = await commands.get()
            if command[0] == "ping":
                conn.send("pong")
            elif command[0] == "connect":
                conn.send(await streams.connect(in_flight, wait_answers=command[1]))
            elif command[0] == "reset":
                streams.latency = array("I", [0] * BUCKETS)
                streams.counts = array("I", [0] * len(paths))
                conn.send("ok")
            elif command[0] == "report":
                conn.send({"counts": streams.counts.tobytes(), "open": bytes(streams.open),
                           "latency": streams.latency.tobytes(), "failed": dict(streams.failed)})
            elif command[0] == "stop":
                await streams.close()
                conn.send("stopped")
                return

    loop.run_until_complete(main())
    loop.close()
