"""The model's rate limit shared by every worker of every instance, kept in Redis.

Each request is booked before it is sent, in one Lua script over the endpoint's hash (keys in
webapp/keys.py), using Redis's clock so that every instance counts alike. The algorithm is a
virtual schedule (GCRA without burst): for requests and for tokens the hash holds the time at
which the next booking may start; a booking starts at the later of now and both of those, and
moves them on by one request interval (60 s / LLM_REQUESTS_PER_MINUTE) and by its tokens' share
of a minute (tokens × 60 s / LLM_TOKENS_PER_MINUTE). The caller is told how long to wait, and
waits. Bookings are served in the order they are made, so a crowd of waiting runs neither
polls nor stampedes. At its turn, just before sending, the caller books once more on a second
schedule of requests actually sent (:meth:`SharedRateLimit.ready`): normally it is told to go at
once, but sleepers that a busy worker woke late, together, are spaced out again instead of
bursting into 429s. When the response reports its usage, the token schedule is corrected by the
difference from the estimate.

If Redis cannot be reached, a request goes out unbooked (logged): the model's own 429s and the
analyst's retries are then the only brake, which is better than failing the analysis.
"""

from __future__ import annotations

import hashlib
import logging

import redis

from agents.llm_limit import RateLimit, Unlimited
from webapp.keys import llm_limit_key

log = logging.getLogger(__name__)

# KEYS: the endpoint's hash. ARGV: ms per request (0: no limit), ms per token (0: no limit), tokens.
# Returns the ms to wait before sending.
_RESERVE = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local per_request, per_token, tokens = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local next_request = tonumber(redis.call('HGET', KEYS[1], 'r') or '0')
local next_tokens = tonumber(redis.call('HGET', KEYS[1], 't') or '0')
local start = now
if per_request > 0 then start = math.max(start, next_request) end
if per_token > 0 then start = math.max(start, next_tokens) end
if per_request > 0 then redis.call('HSET', KEYS[1], 'r', tostring(start + per_request)) end
if per_token > 0 then redis.call('HSET', KEYS[1], 't', tostring(start + per_token * tokens)) end
redis.call('PEXPIRE', KEYS[1], math.ceil(start - now) + 120000)
return math.ceil(start - now)
"""

# The same schedule for requests actually going out (field 's'): sleepers that wake late together
# (a busy worker) are spaced out again. KEYS: the endpoint's hash. ARGV: ms per request.
_READY = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local start = math.max(now, tonumber(redis.call('HGET', KEYS[1], 's') or '0'))
redis.call('HSET', KEYS[1], 's', tostring(start + tonumber(ARGV[1])))
return math.ceil(start - now)
"""

# KEYS: the endpoint's hash. ARGV: ms per token, token difference (used - reserved).
_SETTLE = """
if redis.call('HEXISTS', KEYS[1], 't') == 1 then
  redis.call('HINCRBYFLOAT', KEYS[1], 't', tonumber(ARGV[1]) * tonumber(ARGV[2]))
end
return 1
"""


class SharedRateLimit:
    """:class:`agents.llm_limit.RateLimit` over Redis, for one model endpoint."""

    def __init__(self, client: redis.Redis, endpoint: str, *, requests_per_minute: int, tokens_per_minute: int):
        self.key = llm_limit_key(hashlib.sha256(endpoint.encode()).hexdigest()[:16])
        self.per_request_ms = 60_000 / requests_per_minute if requests_per_minute > 0 else 0
        self.per_token_ms = 60_000 / tokens_per_minute if tokens_per_minute > 0 else 0
        self._reserve = client.register_script(_RESERVE)
        self._ready = client.register_script(_READY)
        self._settle = client.register_script(_SETTLE)

    def reserve(self, tokens: int) -> float:
        try:
            wait_ms = self._reserve(keys=[self.key], args=[self.per_request_ms, self.per_token_ms, max(0, tokens)])
        except redis.RedisError as exc:
            log.warning("model rate limit unavailable (%s); sending unbooked", exc)
            return 0.0
        return max(0, int(wait_ms)) / 1000

    def ready(self) -> float:
        if not self.per_request_ms:
            return 0.0
        try:
            return max(0, int(self._ready(keys=[self.key], args=[self.per_request_ms]))) / 1000
        except redis.RedisError as exc:
            log.warning("model rate limit unavailable (%s); sending unbooked", exc)
            return 0.0

    def settle(self, reserved: int, used: int) -> None:
        if not self.per_token_ms or used == reserved:
            return
        try:
            self._settle(keys=[self.key], args=[self.per_token_ms, used - reserved])
        except redis.RedisError as exc:
            log.warning("could not correct the model rate limit (%s)", exc)


def rate_limit_for(client: redis.Redis, settings) -> RateLimit:
    """The shared limit for the configured endpoint and model, or none when no limit is set."""
    if settings.llm_requests_per_minute <= 0 and settings.llm_tokens_per_minute <= 0:
        return Unlimited()
    endpoint = f"{settings.openai_base_url or 'https://api.openai.com/v1'}|{settings.openai_model}"
    return SharedRateLimit(client, endpoint, requests_per_minute=settings.llm_requests_per_minute,
                           tokens_per_minute=settings.llm_tokens_per_minute)
