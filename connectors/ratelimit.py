"""A token bucket in Redis, shared by every process that calls the same vendor account.

Vendors publish limits per account (ShipBob: 150 requests/minute; Amazon: rate + burst per
operation). Each process asks the bucket before a call and sleeps until a token is free, so N
workers on M machines together never exceed the published rate. The script is atomic (Lua), and
uses Redis's clock so machines with skewed clocks agree.
"""

from __future__ import annotations

import time

from connectors.errors import RetryableError

_TAKE = """
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + (now - ts) * rate)
local wait = 0
if tokens >= want then
  tokens = tokens - want
else
  wait = (want - tokens) / rate
end
redis.call('HSET', key, 'tokens', tokens, 'ts', now)
redis.call('EXPIRE', key, math.ceil(burst / rate) + 60)
return tostring(wait)
"""


class TokenBucket:
    def __init__(self, redis, key: str, *, rate: float, burst: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.redis = redis
        self.key = key
        self.rate = rate
        self.burst = burst
        self._script = redis.register_script(_TAKE)

    def try_take(self, tokens: float = 1.0) -> float:
        """Take ``tokens`` now if available (returns 0), else return the seconds to wait."""
        return float(self._script(keys=[self.key], args=[self.rate, self.burst, tokens]))

    def take(self, tokens: float = 1.0, *, max_wait: float = 60.0, sleep=time.sleep) -> None:
        """Block until ``tokens`` are taken; RetryableError if that would take over ``max_wait``."""
        waited = 0.0
        while True:
            wait = self.try_take(tokens)
            if wait <= 0:
                return
            if waited + wait > max_wait:
                raise RetryableError(f"rate limit {self.key} busy", retry_after=wait)
            sleep(wait)
            waited += wait

    def set_rate(self, rate: float, burst: float | None = None) -> None:
        """Adopt a vendor-announced limit (e.g. x-amzn-RateLimit-Limit)."""
        self.rate = rate
        if burst is not None:
            self.burst = burst
