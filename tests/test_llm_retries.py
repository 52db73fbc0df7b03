"""The LLM analyst's retry policy, as the README states it: 429, 5xx, timeouts and connection
errors are retried with exponential backoff, a short Retry-After is honoured, client errors are
not retried, and the attempts are bounded. Timings are checked as lower bounds (the policy
waited at least this long), never as performance targets."""

from __future__ import annotations

import itertools
import socket

import pytest

from agents.alerts import parse_alert
from agents.analyst_llm import LLMAnalyst
from agents.data import dataset
from agents.orchestrator import Outcome, investigate
from tests.conftest import SAMPLES, TEST_DATA
from tests.fake_openai import Decide, Fail, FakeOpenAI


@pytest.fixture(scope="module")
def fake():
    server = FakeOpenAI().start()
    yield server
    server.stop()


def decide(analyst) -> object:
    alert = parse_alert((SAMPLES / "insider_genuine_acme.xml").read_bytes())
    for item in investigate(alert, dataset=dataset(TEST_DATA), analyst=analyst, watched=lambda: False):
        if isinstance(item, Outcome):
            return item.decision
    raise AssertionError("no outcome")


def analyst_for(url: str, attempts: int) -> LLMAnalyst:
    return LLMAnalyst("fake", api_key="k", base_url=url, timeout=5, max_attempts=attempts)


def gaps(fake, since: int) -> list[float]:
    times = fake.arrivals[since:]
    return [b - a for a, b in itertools.pairwise(times)]


@pytest.mark.parametrize("status", [500, 502, 503, 529])
def test_server_errors_are_retried(fake, status):
    fake.script.clear()
    start = len(fake.requests)
    fake.push(Fail(status, retry_after=0), Decide(determination="ESCALATE"))
    decision = decide(analyst_for(fake.url, 3))
    assert decision.analyst == "fake" and decision.determination == "ESCALATE"
    assert len(fake.requests) - start == 2


def test_a_short_retry_after_is_honoured(fake):
    fake.script.clear()
    start = len(fake.requests)
    fake.push(Fail(429, retry_after=0.6), Decide())
    decide(analyst_for(fake.url, 2))
    [gap] = gaps(fake, start)
    assert gap >= 0.6  # the server asked for 0.6 s; the exponential default would be 0.5 s


def test_without_retry_after_the_backoff_grows(fake):
    fake.script.clear()
    start = len(fake.requests)
    fake.push(Fail(503, retry_after=None), Fail(503, retry_after=None), Decide())
    decide(analyst_for(fake.url, 3))
    first, second = gaps(fake, start)
    assert first >= 0.5 and second >= 1.0 and second > first  # exponential: 0.5 s, then 1 s


def test_attempts_are_bounded_and_the_case_goes_to_a_human(fake):
    fake.script.clear()
    start = len(fake.requests)
    fake.push(*(Fail(503, retry_after=0) for _ in range(5)))
    decision = decide(analyst_for(fake.url, 3))
    assert len(fake.requests) - start == 3
    assert decision.determination == "NEEDS_HUMAN_REVIEW" and decision.confidence == 0
    assert "HTTP 503 after 3 attempts" in decision.analyst_note
    fake.script.clear()


def test_a_connection_refused_is_retried_then_reported():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    decision = decide(analyst_for(f"http://127.0.0.1:{port}/v1", 2))
    assert decision.determination == "NEEDS_HUMAN_REVIEW"
    assert "could not connect after 2 attempts" in decision.analyst_note
