"""The model's rate limit, as the LLM analyst sees it: book a request, wait its turn, report usage.

Model endpoints limit requests and tokens per minute, per organisation — shared by every worker
of every instance. The analyst books each request before sending it and waits the time it is
given, so that together the callers stay under the limit instead of finding it with a storm of
429s; when its turn comes it checks once more, so that requests woken late together still go out
one at a time. Where the bookings are kept is not the agents' business: the web app passes in an
implementation over Redis (webapp/llm_limit.py); without one, nothing is limited.
"""

from __future__ import annotations

from typing import Protocol


class RateLimit(Protocol):
    def reserve(self, tokens: int) -> float:
        """Book one request expected to use about ``tokens`` tokens; the seconds to wait before sending it."""

    def ready(self) -> float:
        """At the booked turn, just before sending: the seconds still to wait so that requests actually
        go out at most at the rate. Normally none; after this process was held up (a busy CPU wakes
        sleepers late, and together), enough to space them out again."""

    def settle(self, reserved: int, used: int) -> None:
        """Correct the booking once the response says how many tokens the request used."""


class Unlimited:
    """No limit configured: send at once."""

    def reserve(self, tokens: int) -> float:
        return 0.0

    def ready(self) -> float:
        return 0.0

    def settle(self, reserved: int, used: int) -> None:
        pass


def estimate_tokens(text: str, completion: int) -> int:
    """A request's tokens before it is sent: about four characters a token for the prompt, plus the
    expected completion. Corrected by :meth:`RateLimit.settle` when the usage is known."""
    return len(text) // 4 + completion
