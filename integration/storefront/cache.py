"""Redis side of the storefront status: what the app proxy answers from, without the database.

Keys (shop-scoped ones carry the domain, so ``shop/redact`` deletes them with the shop; see
:func:`integration.shops.installation.redis_key`):

``nearstock:shop:<domain>:sf:v:<variant>`` (hash)
    One field per market and language, ``DE:de``, plus ``DE:_`` for the shop's default language;
    ``*`` is every other country. Each value is the finished JSON body of ``GET /proxy/stock``.
    A variant of another shop is simply not there: the key is built from the signed ``shop``.
``nearstock:shop:<domain>:sf:installed``
    The shop id when the shop has the app installed, ``0`` when not; a short TTL bounds how long
    an uninstall takes to be noticed (:func:`forget_shop` makes it immediate).
``nearstock:shop:<domain>:sf:rl:<what>:<window>``
    Fixed-window rate-limit counters of the back-in-stock form (per IP, per e-mail hash).
``nearstock:sf:{<shop_id>}:dirty`` / ``:pending`` / ``:seq`` / ``:lock`` / ``:warm:<minute>``
    The coalescing of status refreshes: SKUs (``s:<sku>``) and variants (``v:<id>``) waiting for
    the shop's next refresh job, the flag that one is queued, the job sequence, the job lock, the
    budget of cache misses that may trigger a refresh (so random ids cannot flood the queue).
``nearstock:sf:{<shop_id>}:all-pending`` / ``:all-seq``
    The same for refreshes of every variant after a settings or wording change.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence

import structlog

from integration import job_catalog
from integration.extensions import queues, redis
from integration.shops.installation import redis_key

log = structlog.get_logger(__name__)

INSTALLED_TTL = 300  # seconds an installed shop is trusted without asking the database
NOT_INSTALLED_TTL = 30
COALESCE_SECONDS = 1.0  # a burst of stock changes within this becomes one refresh job
PENDING_TTL = 120  # a lost refresh job stops blocking new ones after this
WARM_PER_MINUTE = 120  # cache misses per shop and minute that may ask for a refresh
MISSING = object()


def status_key(domain: str, variant_id: str) -> str:
    return redis_key(domain, "sf", "v", variant_id)


def installed_key(domain: str) -> str:
    return redis_key(domain, "sf", "installed")


def _shop_key(shop_id: int, kind: str) -> str:
    return f"nearstock:sf:{{{shop_id}}}:{kind}"  # one hash tag per shop: one cluster slot


def status_fields(market: str, locale: str) -> list[str]:
    """The fields to try, best first: the market in the shopper's language, the rest of the world
    in it, then both in the shop's default language."""
    fields = []
    if locale:
        fields += [f"{market}:{locale}", f"*:{locale}"]
    return [*fields, f"{market}:_", "*:_"]


# -- the hot path ---------------------------------------------------------------------------------


def lookup(domain: str, extra: Sequence[tuple[str, list[str]]] = ()) -> tuple[object, list]:
    """One round trip: the installed-shop entry and, for each ``(key, fields)`` of ``extra``, an
    HMGET. Returns (shop id | 0 | MISSING, [list of values per extra])."""
    pipe = redis.client.pipeline(transaction=False)
    pipe.get(installed_key(domain))
    for key, fields in extra:
        pipe.hmget(key, fields)
    raw, *rest = pipe.execute()
    if raw is None:
        return MISSING, rest
    return int(raw), rest


def remember_installed(domain: str, shop_id: int | None) -> None:
    if shop_id:
        redis.client.set(installed_key(domain), shop_id, ex=INSTALLED_TTL)
    else:
        redis.client.set(installed_key(domain), 0, ex=NOT_INSTALLED_TTL)


def forget_shop(domain: str) -> None:
    """Call on app/uninstalled: the proxy stops answering for the shop at once."""
    redis.client.delete(installed_key(domain))


# -- writing the status bodies ---------------------------------------------------------------------


def write_statuses(domain: str, bodies: Mapping[str, Mapping[str, bytes]]) -> None:
    """Replace each variant's hash (``{variant id: {field: body}}``) atomically: a reader sees the
    old fields or the new ones, never a mix or an empty hash."""
    if not bodies:
        return
    with redis.client.pipeline(transaction=True) as pipe:
        for variant_id, fields in bodies.items():
            key = status_key(domain, variant_id)
            pipe.delete(key)
            if fields:
                pipe.hset(key, mapping=dict(fields))
        pipe.execute()


def delete_statuses(domain: str, variant_ids: Iterable[str]) -> int:
    keys = [status_key(domain, v) for v in variant_ids]
    return redis.client.delete(*keys) if keys else 0


# -- coalescing refreshes ---------------------------------------------------------------------------


def mark_dirty(shop_id: int, skus: Iterable[str] = (), variant_ids: Iterable[str] = ()) -> bool:
    """Queue these SKUs / variants for the shop's next refresh; enqueue that refresh (after
    ``COALESCE_SECONDS``) unless one is pending. True when a job was enqueued."""
    members = [f"s:{s}" for s in skus if s] + [f"v:{v}" for v in variant_ids if v]
    client = redis.client
    with client.pipeline(transaction=False) as pipe:
        if members:
            pipe.sadd(_shop_key(shop_id, "dirty"), *members)
        pipe.set(_shop_key(shop_id, "pending"), "1", nx=True, ex=PENDING_TTL)
        claimed = pipe.execute()[-1]
    if not claimed:
        return False
    seq = client.incr(_shop_key(shop_id, "seq"))
    queues.enqueue_in(COALESCE_SECONDS, "sync", job_catalog.REFRESH_STATUSES, shop_id,
                      job_id=job_catalog.refresh_statuses_id(shop_id, seq))
    return True


def claim_full_refresh(shop_id: int) -> int | None:
    """A settings or wording change wants every variant refreshed: the sequence number of a new
    refresh job to enqueue, or None when one is queued and not started yet (it will read this
    change). The job calls :func:`release_full_refresh` first, so a change made while it runs gets
    a job of its own."""
    if not redis.client.set(_shop_key(shop_id, "all-pending"), "1", nx=True, ex=PENDING_TTL):
        return None
    return redis.client.incr(_shop_key(shop_id, "all-seq"))


def release_full_refresh(shop_id: int) -> None:
    redis.client.delete(_shop_key(shop_id, "all-pending"))


def clear_pending(shop_id: int) -> None:
    redis.client.delete(_shop_key(shop_id, "pending"))


def take_dirty(shop_id: int, count: int) -> tuple[list[str], list[str]]:
    """Pop up to ``count`` entries: (skus, variant ids)."""
    popped = redis.client.spop(_shop_key(shop_id, "dirty"), count) or []
    skus, variants = [], []
    for raw in popped:
        kind, _, value = raw.decode().partition(":")
        (skus if kind == "s" else variants).append(value)
    return sorted(skus), sorted(variants)


def put_back(shop_id: int, skus: Sequence[str], variant_ids: Sequence[str] = ()) -> None:
    members = [f"s:{s}" for s in skus] + [f"v:{v}" for v in variant_ids]
    if members:
        redis.client.sadd(_shop_key(shop_id, "dirty"), *members)


def drop_dirty(shop_id: int) -> None:
    redis.client.delete(_shop_key(shop_id, "dirty"), _shop_key(shop_id, "pending"))


def has_dirty(shop_id: int) -> bool:
    return bool(redis.client.scard(_shop_key(shop_id, "dirty")))


def shop_lock(shop_id: int, *, timeout: int = 300, wait: float = 60):
    return redis.client.lock(_shop_key(shop_id, "lock"), timeout=timeout, blocking_timeout=wait, sleep=0.01)


def warm_on_miss(shop_id: int, variant_id: str) -> bool:
    """A proxy request found no status for a variant: ask for a refresh of it, within the shop's
    budget (ids are chosen by shoppers, and most unknown ones are not the shop's)."""
    key = _shop_key(shop_id, f"warm:{int(time.time() // 60)}")
    with redis.client.pipeline(transaction=False) as pipe:
        pipe.incr(key)
        pipe.expire(key, 120)
        used = pipe.execute()[0]
    if used > WARM_PER_MINUTE:
        return False
    return mark_dirty(shop_id, variant_ids=[variant_id]) or True


# -- rate limits --------------------------------------------------------------------------------------


def hit(domain: str, what: str, limit: int, window: int) -> int:
    """Count one attempt in a fixed window; 0 when allowed, else seconds until the window ends."""
    now = int(time.time())
    slot = now // window
    key = redis_key(domain, "sf", "rl", what, str(slot))
    with redis.client.pipeline(transaction=False) as pipe:
        pipe.incr(key)
        pipe.expire(key, window + 5)
        count = pipe.execute()[0]
    if count > limit:
        return max(1, (slot + 1) * window - now)
    return 0
