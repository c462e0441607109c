"""Cost-based throttling for the GraphQL Admin API, shared by every worker process via Redis.

Shopify limits each (app, shop) pair with a leaky bucket of query-cost points: a query runs only
if the bucket holds its ``requestedQueryCost``; the difference to ``actualQueryCost`` is refunded
afterwards; the bucket refills at ``restoreRate`` points per second up to ``maximumAvailable``.
Every response reports the bucket in ``extensions.cost.throttleStatus``.
https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits

We keep a mirror of that bucket per shop in Redis and *reserve* a query's estimated cost before
sending it. A reservation may drive the mirror negative: the caller then sleeps until the refill
covers the debt, so concurrent workers queue up in arrival order instead of racing into
``THROTTLED`` errors. After each response our accounting is corrected by the call's actual cost
and lowered to Shopify's ``currentlyAvailable`` minus the reservations still in flight (which
Shopify may not have seen yet); it is never raised above our own accounting, because answers can
arrive out of order, except by the points of calls that got no answer (a timeout, a 5xx), which
Shopify may or may not have charged. Reservations expire, so a worker killed mid-call cannot shrink the budget
for ever.

All arithmetic happens in Lua scripts (atomic, Redis server clock), so any number of processes on
any number of machines share one budget per shop.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    value_from_ast_untyped,
)

from connectors.errors import RetryableError

DEFAULT_MAXIMUM = 1000.0
"""Assumed bucket size until Shopify tells us (smallest bucket any plan has had)."""
DEFAULT_RESTORE_RATE = 50.0
"""Assumed refill rate until Shopify tells us (half of today's Standard plan: conservative)."""
RESERVATION_TTL = 120.0
"""Seconds after its wait ends that an unanswered reservation stops counting as in flight."""

_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local cost = tonumber(ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'max', 'avail', 'rate', 'ts')
local max = tonumber(s[1]) or tonumber(ARGV[4])
local rate = tonumber(s[3]) or tonumber(ARGV[5])
local avail = tonumber(s[2]) or max
local ts = tonumber(s[4]) or now
if now > ts then avail = math.min(max, avail + (now - ts) * rate) end
if cost > max then cost = max end
avail = avail - cost
local wait = 0
if avail < 0 then
  if rate > 0 then wait = -avail / rate else wait = 86400 end
end
redis.call('HSET', KEYS[1], 'max', tostring(max), 'avail', tostring(avail),
           'rate', tostring(rate), 'ts', tostring(now))
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], now + wait + tonumber(ARGV[3]), ARGV[2] .. '|' .. tostring(cost))
redis.call('EXPIRE', KEYS[1], 86400)
redis.call('EXPIRE', KEYS[2], math.ceil(wait + 2 * tonumber(ARGV[3])))
return {tostring(wait), tostring(cost)}
"""

_SETTLE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local s = redis.call('HMGET', KEYS[1], 'max', 'avail', 'rate', 'ts', 'doubt')
if ARGV[2] == 'drop' and s[1] then
  -- Unanswered: the points stay spent, but Shopify may not have charged them.
  redis.call('HINCRBYFLOAT', KEYS[1], 'doubt', ARGV[3])
elseif ARGV[2] == 'refund' then
  if s[1] and s[2] then
    local avail = math.min(tonumber(s[1]), tonumber(s[2]) + tonumber(ARGV[3]))
    redis.call('HSET', KEYS[1], 'avail', tostring(avail))
  end
elseif ARGV[2] == 'sync' then
  local max = tonumber(ARGV[3])
  local pending = 0
  for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    pending = pending + tonumber(string.match(member, '|([^|]+)$'))
  end
  local avail = math.min(max, tonumber(ARGV[4])) - pending
  if s[1] and s[2] then
    -- Our own accounting (refilled, corrected by the refund of this call) caps Shopify's
    -- figure: an answer computed before another call's may arrive after it, and must not
    -- give back points that call already spent.
    local model = tonumber(s[2])
    local elapsed = now - tonumber(s[4])
    if elapsed > 0 then model = math.min(tonumber(s[1]), model + elapsed * tonumber(s[3])) end
    model = math.min(max, model + tonumber(ARGV[6]))
    -- Points of unanswered calls come back when Shopify's figure shows it did not charge
    -- them; never more than those points, so a late answer cannot give back others.
    local doubt = tonumber(s[5]) or 0
    local back = math.max(0, math.min(avail - model, doubt))
    redis.call('HSET', KEYS[1], 'doubt', tostring(doubt - back))
    avail = math.min(avail, model + back)
  end
  redis.call('HSET', KEYS[1], 'max', tostring(max), 'avail', tostring(avail),
             'rate', ARGV[5], 'ts', tostring(now))
  redis.call('EXPIRE', KEYS[1], 86400)
end
return 1
"""


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float

    @classmethod
    def from_extensions(cls, extensions: Mapping[str, Any] | None) -> ThrottleStatus | None:
        try:
            status = extensions["cost"]["throttleStatus"]  # type: ignore[index]
            return cls(
                float(status["maximumAvailable"]),
                float(status["currentlyAvailable"]),
                float(status["restoreRate"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Reservation:
    shop: str
    member: str
    cost: float
    wait: float


@dataclass(frozen=True)
class BucketState:
    maximum: float
    available: float
    restore_rate: float
    in_flight: float


class CostThrottle:
    """A per-shop mirror of Shopify's cost bucket, in Redis."""

    def __init__(
        self,
        redis,
        *,
        prefix: str = "shopify:throttle",
        default_maximum: float = DEFAULT_MAXIMUM,
        default_restore_rate: float = DEFAULT_RESTORE_RATE,
        reservation_ttl: float = RESERVATION_TTL,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.default_maximum = default_maximum
        self.default_restore_rate = default_restore_rate
        self.reservation_ttl = reservation_ttl
        self.sleep = sleep
        self.clock = clock
        self._reserve = redis.register_script(_RESERVE)
        self._settle = redis.register_script(_SETTLE)

    # -- keys ------------------------------------------------------------------------------
    def _keys(self, shop: str) -> list[str]:
        # One hash tag per shop keeps both keys in one Redis Cluster slot.
        return [f"{self.prefix}:{{{shop}}}:bucket", f"{self.prefix}:{{{shop}}}:inflight"]

    @property
    def _cost_key(self) -> str:
        return f"{self.prefix}:query-cost"

    # -- costs -----------------------------------------------------------------------------
    def learned_cost(self, signature: str) -> float | None:
        value = self.redis.hget(self._cost_key, signature)
        return float(value) if value is not None else None

    def learn(self, signature: str, requested_cost: float) -> None:
        """Remember Shopify's ``requestedQueryCost`` for a document + cost-relevant variables."""
        self.redis.hset(self._cost_key, signature, repr(float(requested_cost)))

    def cost_for(self, document_name: str, document: DocumentNode, variables: Mapping | None):
        """(signature, cost to reserve): the learned cost if we have one, else a static estimate.

        The signature includes the static estimate, so the same document called with a larger
        ``first:`` learns its own cost.
        """
        estimate = estimate_cost(document, variables)
        signature = f"{document_name}:{estimate}"
        learned = self.learned_cost(signature)
        return signature, (learned if learned is not None else float(estimate))

    # -- bucket ----------------------------------------------------------------------------
    def reserve(self, shop: str, cost: float) -> Reservation:
        """Take ``cost`` points now; ``wait`` says how long to sleep before sending."""
        member = uuid.uuid4().hex
        wait, taken = self._reserve(
            keys=self._keys(shop),
            args=[
                repr(float(cost)),
                member,
                repr(self.reservation_ttl),
                repr(self.default_maximum),
                repr(self.default_restore_rate),
            ],
        )
        taken = _text(taken)
        return Reservation(shop, f"{member}|{taken}", float(taken), float(_text(wait)))

    def acquire(self, shop: str, cost: float, deadline: float | None = None) -> Reservation:
        """Reserve and sleep until the bucket covers it; past ``deadline`` give the points back
        and raise :class:`RetryableError` carrying the wait Shopify would have needed."""
        reservation = self.reserve(shop, cost)
        if reservation.wait > 0:
            if deadline is not None and self.clock() + reservation.wait > deadline:
                self.release(reservation)
                raise RetryableError(
                    f"cost budget exhausted for {shop}: {reservation.wait:.1f}s to wait",
                    retry_after=math.ceil(reservation.wait),
                    system="shopify",
                )
            self.sleep(reservation.wait)
        return reservation

    def release(self, reservation: Reservation) -> None:
        """The call was not sent: give its points back."""
        self._settle(
            keys=self._keys(reservation.shop),
            args=[reservation.member, "refund", repr(reservation.cost)],
        )

    def settle(
        self,
        reservation: Reservation,
        status: ThrottleStatus | None,
        *,
        actual_cost: float | None = None,
        charged: bool = True,
    ) -> None:
        """The call was answered.

        With Shopify's throttleStatus the mirror is resynchronised: our accounting is corrected
        by what the call really cost (``actual_cost``; nothing when ``charged`` is False, as for
        a THROTTLED answer) and lowered to Shopify's figure minus the calls still in flight.
        Without a status (timeout, 5xx) the points stay spent: Shopify may have charged them. They
        are held as doubtful, and the next answers' figures give back what Shopify did not charge.
        """
        if status is None:
            self._settle(keys=self._keys(reservation.shop), args=[reservation.member, "drop", repr(reservation.cost)])
            return
        if not charged:
            refund = reservation.cost
        elif actual_cost is not None:
            refund = reservation.cost - actual_cost  # negative when we under-reserved
        else:
            refund = 0.0
        self._sync(reservation.shop, status, reservation.member, refund)

    def observe(self, shop: str, status: ThrottleStatus) -> None:
        """Resynchronise the mirror from a throttleStatus seen outside a reservation."""
        self._sync(shop, status, "", 0.0)

    def _sync(self, shop: str, status: ThrottleStatus, member: str, refund: float) -> None:
        self._settle(
            keys=self._keys(shop),
            args=[
                member,
                "sync",
                repr(status.maximum_available),
                repr(status.currently_available),
                repr(status.restore_rate),
                repr(float(refund)),
            ],
        )

    def state(self, shop: str) -> BucketState | None:
        """The mirror as of now (refill applied), for diagnostics and tests."""
        bucket, inflight = self._keys(shop)
        raw = self.redis.hgetall(bucket)
        if not raw:
            return None
        values = {_text(k): float(_text(v)) for k, v in raw.items()}
        seconds, micros = self.redis.time()
        now = seconds + micros / 1_000_000
        available = min(values["max"], values["avail"] + max(0.0, now - values["ts"]) * values["rate"])
        pending = sum(float(_text(m).rsplit("|", 1)[1]) for m in self.redis.zrangebyscore(inflight, now, "+inf"))
        return BucketState(values["max"], available, values["rate"], pending)

    def reset(self, shop: str) -> None:
        self.redis.delete(*self._keys(shop))


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# -- static cost estimate --------------------------------------------------------------------
# Shopify's published rules: scalars and enums 0, objects 1, connections 2 + first x the node
# cost, mutations 10. Used only until the first response tells us the real requestedQueryCost.
MUTATION_COST = 10
_TRANSPARENT = {"edges", "node", "nodes"}


def estimate_cost(document: DocumentNode, variables: Mapping | None = None) -> int:
    variables = dict(variables or {})
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * len(operation.selection_set.selections) + _selection_cost(
            operation.selection_set, variables, fragments
        )
    return max(1, _selection_cost(operation.selection_set, variables, fragments))


def _argument(field: FieldNode, name: str, variables: Mapping) -> Any:
    for arg in field.arguments or ():
        if arg.name.value == name:
            return value_from_ast_untyped(arg.value, variables)
    return None


def _selection_cost(selection_set: SelectionSetNode | None, variables, fragments) -> int:
    if selection_set is None:
        return 0
    total = 0
    alternatives = [0]
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += _field_cost(selection, variables, fragments)
        elif isinstance(selection, InlineFragmentNode):
            alternatives.append(_selection_cost(selection.selection_set, variables, fragments))
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                alternatives.append(_selection_cost(fragment.selection_set, variables, fragments))
    # Fragments on different types of a union/interface: the most expensive one counts.
    return total + max(alternatives)


def _field_cost(field: FieldNode, variables, fragments) -> int:
    if field.selection_set is None:
        return 0
    inner = _selection_cost(field.selection_set, variables, fragments)
    if field.name.value in _TRANSPARENT and not field.arguments:
        return inner
    if field.name.value == "pageInfo":
        return 0
    size = _argument(field, "first", variables) or _argument(field, "last", variables)
    if isinstance(size, int):
        return 2 + size * (1 + inner)
    ids = _argument(field, "ids", variables)
    if isinstance(ids, list):
        return len(ids) * (1 + inner)
    return 1 + inner
