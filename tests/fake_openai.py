"""A local OpenAI-compatible chat-completions server: the project's only stand-in, for the LLM.

Real HTTP on 127.0.0.1, so the app's real langchain-openai client, httpx and retry policy are
exercised. Replies are scripted per request (:meth:`FakeOpenAI.push`); unscripted requests get
a plausible, valid determination derived from the prompt (the offline rules' result it
states and the evidence ids it lists), which is what benchmarks need. A thread per
connection serves hundreds of concurrent requests. Answers report their usage (about four
characters a token), streamed ones too when the client asks for it.

With a rate limit (``requests_per_second``) it behaves like a provider's: a token bucket
holding one second's worth of requests, refilled continuously; a request beyond it is answered
429 with a Retry-After, and counted (``GET /stats``).

    python -m tests.fake_openai --port 8400 --delay 2 --rps 20     # standalone, e.g. for bench/
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CITE = re.compile(r"\[cite: ([a-z_]+:[a-z_]+)\]")
OFFLINE = re.compile(r"offline rules reach: (ESCALATE|CLOSE|NEEDS_HUMAN_REVIEW)")
# The alert's own text, marked as untrusted data (agents/llm_prompt.py): the fake reads the prompt as a
# model that respects the markers would, taking its cues only from outside them.
ALERT_DATA = re.compile(r'<alert-data trust="untrusted">.*?</alert-data>', re.S)


@dataclass
class Decide:
    """Stream ``prose`` as text, then call the tool with a decision (fields default from the prompt)."""

    determination: str | None = None
    confidence: int = 82
    prose: str = "Weighing the evidence: the trade timing, the trader's baseline and public news. "
    citations: list[str] | None = None      # None: the first three evidence ids in the prompt
    extra_citations: list[str] = field(default_factory=list)   # e.g. ids that do not exist
    args_override: dict | None = None       # replace the tool arguments wholesale (invalid output tests)
    gate: threading.Event | None = None     # hold the tool call until the test sets it


@dataclass
class Fail:
    status: int = 429
    retry_after: float | None = 0.05
    gate: threading.Event | None = None     # hold the failure until the test sets it


@dataclass
class Hang:
    """Answer only after ``seconds`` (longer than the client's timeout)."""

    seconds: float


@dataclass
class Garbage:
    text: str = "Sure! ¯\\_(ツ)_/¯ the trade looks fine i guess"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def handle_error(self, request, client_address) -> None:
        """A client that timed out and hung up is expected here, not an error worth a traceback."""


class FakeOpenAI:
    def __init__(self, delay: float = 0.0, port: int = 0, requests_per_second: float = 0.0):
        self.delay = delay
        self.script: deque = deque()
        self.requests: list[dict] = []
        self.arrivals: list[float] = []  # time.monotonic() of each request, for retry timing
        self.requests_per_second = requests_per_second
        self.rate_limited = 0            # requests answered 429 by the rate limit
        self.first_at = self.last_at = None  # wall-clock time of the first and the last request answered
        self._bucket, self._filled_at = requests_per_second, time.monotonic()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def push(self, *replies) -> None:
        with self._lock:
            self.script.extend(replies)

    def admit(self) -> float:
        """0 when the rate limit lets a request through now, else the seconds until it would."""
        if not self.requests_per_second:
            return 0.0
        with self._lock:
            now = time.monotonic()
            self._bucket = min(self.requests_per_second,
                               self._bucket + (now - self._filled_at) * self.requests_per_second)
            self._filled_at = now
            if self._bucket >= 1:
                self._bucket -= 1
                return 0.0
            self.rate_limited += 1
            return (1 - self._bucket) / self.requests_per_second

    def stats(self) -> dict:
        with self._lock:
            return {"requests": len(self.requests), "rate_limited": self.rate_limited,
                    "first_at": self.first_at, "last_at": self.last_at}

    def next_reply(self, request: dict):
        with self._lock:
            self.requests.append(request)
            self.arrivals.append(time.monotonic())
            self.last_at = time.time()
            self.first_at = self.first_at or self.last_at
            return self.script.popleft() if self.script else Decide()


def _prompt(request: dict) -> str:
    """The prompt's text outside the alert-data markers."""
    text = "\n".join(m.get("content") or "" for m in request.get("messages", []) if isinstance(m.get("content"), str))
    return ALERT_DATA.sub("", text)


def _usage(request: dict, written: str) -> dict:
    """Token usage as an endpoint reports it (about four characters a token), for the whole prompt."""
    text = "\n".join(m.get("content") or "" for m in request.get("messages", []) if isinstance(m.get("content"), str))
    prompt, completion = len(text) // 4, len(written) // 4
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _decision_args(reply: Decide, request: dict) -> dict:
    if reply.args_override is not None:
        return reply.args_override
    prompt = _prompt(request)
    determination = reply.determination or (OFFLINE.search(prompt).group(1) if OFFLINE.search(prompt)
                                            else "NEEDS_HUMAN_REVIEW")
    cites = reply.citations if reply.citations is not None else CITE.findall(prompt)[:3]
    kind = {"ESCALATE": "red_flag", "CLOSE": "mitigating"}.get(determination, "context")
    findings = [{"kind": kind, "title": f"Evidence from {c.split(':')[0].replace('_', ' ')}",
                 "detail": f"See {c}.", "tool": c.split(":")[0], "citations": [c]} for c in cites]
    if reply.extra_citations and findings:
        findings[0]["citations"] += reply.extra_citations
    return {"determination": determination, "confidence": reply.confidence,
            "summary": f"Model view: {determination.replace('_', ' ').lower()}.",
            "rationale": "The evidence was weighed as cited.\n\nThe offline rules were considered.",
            "findings": findings,
            "disposition_reason": "False positive: explained by the mitigating evidence."
            if determination == "CLOSE" else None}


def _handler(fake: FakeOpenAI):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real endpoints do; streams are chunked
        disable_nagle_algorithm = True  # headers and body go out as separate writes

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            if self.path != "/stats":
                self.send_error(404)
                return
            self._json(200, fake.stats())

        def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            if not self.path.endswith("/chat/completions"):
                self.send_error(404)
                return
            request = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            retry_after = fake.admit()
            if retry_after:
                self._json(429, {"error": {"message": "Rate limit reached for requests", "type": "requests",
                                           "code": "rate_limit_exceeded"}},
                           {"retry-after": f"{retry_after:.3f}"})
                return
            reply = fake.next_reply(request)
            if fake.delay:
                time.sleep(fake.delay)
            if isinstance(reply, Hang):
                time.sleep(reply.seconds)
                reply = Decide()
            if isinstance(reply, Fail):
                if reply.gate:
                    reply.gate.wait()
                body = json.dumps({"error": {"message": "scripted failure", "type": "rate_limit_error"}}).encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                if reply.retry_after is not None:
                    self.send_header("retry-after", str(reply.retry_after))
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            tool = (request.get("tools") or [{}])[0].get("function", {}).get("name", "SubmitDetermination")
            model = request.get("model", "fake-model")
            if request.get("stream"):
                self._stream(reply, request, tool, model)
            else:
                self._complete(reply, request, tool, model)

        def _complete(self, reply, request, tool, model) -> None:
            message = {"role": "assistant", "content": reply.text if isinstance(reply, Garbage) else reply.prose}
            finish = "stop"
            if isinstance(reply, Decide):
                if reply.gate:
                    reply.gate.wait()
                message["tool_calls"] = [{"id": "call_1", "type": "function", "function": {
                    "name": tool, "arguments": json.dumps(_decision_args(reply, request))}}]
                finish = "tool_calls"
            written = (message["content"] or "") + "".join(c["function"]["arguments"]
                                                           for c in message.get("tool_calls", []))
            body = json.dumps({"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                               "model": model, "choices": [{"index": 0, "message": message,
                                                            "finish_reason": finish}],
                               "usage": _usage(request, written)}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _stream(self, reply, request, tool, model) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()

            def send(data: bytes) -> None:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

            def chunk(delta: dict, finish: str | None = None) -> None:
                payload = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                           "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                send(f"data: {json.dumps(payload)}\n\n".encode())

            chunk({"role": "assistant", "content": ""})
            text = reply.text if isinstance(reply, Garbage) else reply.prose
            for i in range(0, len(text), 12):
                chunk({"content": text[i:i + 12]})
            finish, arguments = "stop", ""
            if isinstance(reply, Decide):
                if reply.gate:
                    reply.gate.wait()
                arguments = json.dumps(_decision_args(reply, request))
                chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                       "function": {"name": tool, "arguments": ""}}]})
                for i in range(0, len(arguments), 64):
                    chunk({"tool_calls": [{"index": 0, "function": {"arguments": arguments[i:i + 64]}}]})
                finish = "tool_calls"
            chunk({}, finish)
            if (request.get("stream_options") or {}).get("include_usage"):
                written = text + arguments
                usage = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                         "model": model, "choices": [], "usage": _usage(request, written)}
                send(f"data: {json.dumps(usage)}\n\n".encode())
            send(b"data: [DONE]\n\n")
            send(b"")  # the last chunk

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a fake OpenAI-compatible endpoint.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before every reply")
    parser.add_argument("--rps", type=float, default=0.0, help="requests per second allowed; beyond: 429")
    args = parser.parse_args()
    fake = FakeOpenAI(delay=args.delay, port=args.port, requests_per_second=args.rps).start()
    print(fake.url, flush=True)
    fake._thread.join()


if __name__ == "__main__":
    main()
