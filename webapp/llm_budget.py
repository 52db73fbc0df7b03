"""A daily budget of model tokens, shared by every worker and instance through Redis.

With a model configured every analysis is a paid call, so the day's spend is capped
(LLM_DAILY_TOKEN_BUDGET; 0 turns the cap off). Before it calls the model, the LLM analyst
reserves what the call may cost — the prompt's size and an allowance for the answer — in one
atomic step that refuses a reservation past the budget; afterwards it settles the reservation
with the usage the endpoint reported. A call refused for the budget, or one whose budget cannot
be checked (Redis down), is not made: the decision is NEEDS_HUMAN_REVIEW with the reason and the
offline rules' findings, as for any model failure. The count is per UTC day and expires after two.
"""

from __future__ import annotations

from datetime import UTC, datetime

import redis
from prometheus_client import Counter

from webapp.keys import PREFIX

TOKENS_USED = Counter("saa_llm_tokens_total", "Model tokens used, as the endpoint reported them")
REFUSED = Counter("saa_llm_budget_refusals_total", "Model calls not made because the daily budget was spent")

# KEYS: the day's counter. ARGV: tokens to reserve, the budget. 1 if reserved, 0 if it would pass the budget.
_RESERVE = """
local used = redis.call('INCRBY', KEYS[1], ARGV[1])
if used == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], 172800) end
if used > tonumber(ARGV[2]) then
  redis.call('DECRBY', KEYS[1], ARGV[1])
  return 0
end
return 1
"""


def day_key(now: datetime | None = None) -> str:
    return f"{PREFIX}llm:tokens:{(now or datetime.now(UTC)).strftime('%Y-%m-%d')}"


class TokenBudget:
    def __init__(self, client: redis.Redis, limit: int):
        self.client = client
        self.limit = limit
        self._reserve = client.register_script(_RESERVE)

    def reserve(self, tokens: int) -> bool:
        """Set ``tokens`` aside from today's budget; False (nothing set aside) if it would pass it."""
        granted = bool(self._reserve(keys=[day_key()], args=[tokens, self.limit]))
        if not granted:
            REFUSED.inc()
        return granted

    def settle(self, reserved: int, used: int) -> None:
        """Replace a reservation by what the call used."""
        TOKENS_USED.inc(used)
        if used != reserved:
            self.client.incrby(day_key(), used - reserved)

    def describe(self) -> str:
        return f"{self.limit:,} tokens a day (LLM_DAILY_TOKEN_BUDGET)"
