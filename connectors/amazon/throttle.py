"""Per-operation rate limits for the SP-API, shared by every worker through Redis.

The SP-API limits each (selling partner, application) pair with one token bucket *per operation*:
``rate`` tokens per second up to ``burst``; a request without a token is answered 429 with
``{"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested
resource.", "details": ""}]}``. Usage plans: https://developer-docs.amazon.com/sp-api/docs/usage-plans-and-rate-limits

* :data:`USAGE_PLANS` holds the default rate and burst each model publishes in its "Usage Plan"
  table (selling-partner-api-models, the files named in the comments; a test compares them when the
  models are present). Throughput-heavy sellers may get more: every response (2xx, 400, 404, and
  the emulator's 429s) may carry ``x-amzn-RateLimit-Limit`` with the rate actually applied, which
  we adopt (:meth:`OperationThrottle.observe`) and share through Redis with the other workers.
* We keep a little below Amazon's bucket (``SAFETY`` of the rate, one token less burst): tokens
  are taken in Redis before the request leaves, and network jitter can bunch arrivals at Amazon.
* A 429 anyway (another application instance, a lowered plan) empties our bucket so every worker
  backs off, then :meth:`OperationThrottle.run` waits ``1/rate`` (with growing backoff and jitter)
  and retries; when the wait would pass ``max_wait`` (``searchOrders`` refills one token every
  3 minutes) it raises :class:`RetryableError` with ``retry_after`` so RQ retries the job later
  instead of parking a worker.

Why not the library's ``@throttle_retry``: ``sp_api.util.throttle_retry`` catches
``SellingApiRequestThrottledException`` around a *call*. Stacked outside ``@load_all_pages`` (the
order in the library's README examples) it wraps a generator function: calling it only creates the
generator, so a 429 raised while iterating page N escapes unretried -- and the generator is finished
after raising, so paging cannot resume (an FBA inventory ``nextToken`` is dead 30 s later anyway).
Its retry state is a closure shared by every call and thread, and it sleeps 5 s x 1.3^n blind to
other processes. Our retry therefore lives here, around each single request, and the pagers in
:mod:`connectors.amazon.orders` and :mod:`connectors.warehouses.fba` loop around that.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

from connectors.errors import RetryableError
from connectors.ratelimit import TokenBucket

T = TypeVar("T")

SAFETY = 0.9
"""Share of Amazon's rate we use: the bucket in Redis refills 10 % slower than Amazon's."""

# operation key -> (requests per second, burst), from each model's "Usage Plan" table.
USAGE_PLANS: dict[str, tuple[float, float]] = {
    # orders-api-model/orders_2026-01-01.json
    "orders.searchOrders": (0.0056, 20),
    "orders.getOrder": (0.5, 30),
    # orders-api-model/ordersV0.json (confirmShipment has no 2026-01-01 equivalent)
    "ordersV0.getOrders": (0.0167, 20),
    "ordersV0.getOrder": (0.5, 30),
    "ordersV0.getOrderItems": (0.5, 30),
    "ordersV0.getOrderAddress": (0.5, 30),
    "ordersV0.confirmShipment": (2, 10),
    # listings-items-api-model/listingsItems_2021-08-01.json
    "listings.patchListingsItem": (5, 5),
    "listings.getListingsItem": (5, 10),
    # feeds-api-model/feeds_2021-06-30.json
    "feeds.createFeedDocument": (0.5, 15),
    "feeds.createFeed": (0.0083, 15),
    "feeds.getFeed": (2, 15),
    "feeds.getFeedDocument": (0.0222, 10),
    # fba-inventory-api-model/fbaInventory.json
    "fbaInventory.getInventorySummaries": (2, 2),
    # fulfillment-outbound-api-model/fulfillmentOutbound_2020-07-01.json
    "fbaOutbound.createFulfillmentOrder": (2, 30),
    "fbaOutbound.getFulfillmentOrder": (2, 30),
    "fbaOutbound.cancelFulfillmentOrder": (2, 30),
    "fbaOutbound.getPackageTrackingDetails": (2, 30),
    # tokens-api-model/tokens_2021-03-01.json
    "tokens.createRestrictedDataToken": (1, 10),
}
DEFAULT_PLAN = (0.5, 5.0)
"""For an operation missing from the table: slower than any we call often."""

_DRAIN = """
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], 'tokens', 0, 'ts', tonumber(t[1]) + tonumber(t[2]) / 1000000)
return 1
"""


class QuotaExceededError(RetryableError):
    """Amazon answered 429 ``QuotaExceeded`` for this operation."""

    def __init__(self, message: str, *, headers: Mapping[str, str] | None = None, operation: str = "") -> None:
        super().__init__(message, system="amazon", operation=operation)
        self.headers = dict(headers or {})


def announced_rate(headers: Mapping[str, str] | None) -> float | None:
    """The ``x-amzn-RateLimit-Limit`` value (requests per second), if present and sane."""
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == "x-amzn-ratelimit-limit":
            try:
                rate = float(value)
            except (TypeError, ValueError):
                return None
            return rate if rate > 0 else None
    return None


class OperationThrottle:
    """Token buckets in Redis, one per operation of one (selling partner, application) pair.

    ``account_key`` names the pair (and region): every client of the same seller account shares
    the buckets, whichever marketplace or process it serves.
    """

    def __init__(self, redis, account_key: str, *, plans: Mapping[str, tuple[float, float]] | None = None,
                 max_wait: float = 60.0, max_attempts: int = 6, sleep: Callable[[float], None] = time.sleep) -> None:
        self.redis = redis
        self.account_key = account_key
        self.plans = dict(USAGE_PLANS if plans is None else plans)
        self.max_wait = max_wait
        self.max_attempts = max_attempts
        self.sleep = sleep
        self._buckets: dict[str, TokenBucket] = {}
        self._announced_key = f"nearstock:amazon:announced:{account_key}"
        self._drain = redis.register_script(_DRAIN)

    def _key(self, operation: str) -> str:
        return f"nearstock:ratelimit:amazon:{self.account_key}:{operation}"

    def plan(self, operation: str) -> tuple[float, float]:
        return self.plans.get(operation, DEFAULT_PLAN)

    def bucket(self, operation: str) -> TokenBucket:
        bucket = self._buckets.get(operation)
        if bucket is None:
            rate, burst = self.plan(operation)
            shared = self.redis.hget(self._announced_key, operation)
            if shared is not None:
                rate = float(shared)
            bucket = TokenBucket(self.redis, self._key(operation), rate=rate * SAFETY, burst=max(1.0, burst - 1))
            self._buckets[operation] = bucket
        return bucket

    def observe(self, operation: str, headers: Mapping[str, str] | None) -> None:
        """Adopt the rate Amazon says it applied (``x-amzn-RateLimit-Limit``) for this operation."""
        rate = announced_rate(headers)
        if rate is None:
            return
        bucket = self.bucket(operation)
        if abs(bucket.rate - rate * SAFETY) > 1e-9:
            bucket.set_rate(rate * SAFETY)
            self.redis.hset(self._announced_key, operation, repr(rate))
            self.redis.expire(self._announced_key, 7 * 86400)

    def drain(self, operation: str) -> None:
        """Empty the shared bucket: Amazon's is empty, so every worker should wait for a refill."""
        self._drain(keys=[self.bucket(operation).key])

    def run(self, operation: str, send: Callable[[], T], *, max_wait: float | None = None) -> T:
        """Take a token, ``send``; on :class:`QuotaExceededError` wait and retry within ``max_wait``."""
        budget = self.max_wait if max_wait is None else max_wait
        waited = 0.0
        bucket = self.bucket(operation)
        for attempt in range(self.max_attempts):
            started = time.monotonic()
            bucket.take(max_wait=max(0.0, budget - waited), sleep=self.sleep)
            waited += time.monotonic() - started
            try:
                reply = send()
            except QuotaExceededError as exc:
                self.observe(operation, exc.headers)
                self.drain(operation)
                delay = max(1.0 / bucket.rate, 0.25 * 2 ** attempt) * (1 + random.random() * 0.25)  # noqa: S311
                if waited + delay > budget or attempt == self.max_attempts - 1:
                    raise RetryableError(f"{operation}: QuotaExceeded", retry_after=round(delay, 3),
                                         system="amazon", operation=operation) from exc
                self.sleep(delay)
                waited += delay
                continue
            self.observe(operation, getattr(reply, "headers", None))
            return reply
        raise AssertionError("unreachable")  # pragma: no cover
