"""Warehouse stock out to Shopify, pushing only what changed.

Targets come from :mod:`stock_targets`. ``channel_stock`` holds what we last set; only targets
that differ from it are sent, with ``inventorySetQuantities`` (compare-and-set from the last
quantity we know Shopify holds, idempotency key derived from the batch content, 250 quantities
per call).

Bursts are coalesced per shop: a change adds its SKUs to a Redis set and enqueues one push job
unless one is already pending (a flag the job clears before it takes the set), so a thousand
changes within a job's run become one or two jobs. Pushes of one shop are serialised by a Redis
lock held for each chunk's compute-and-push: a later computation (fresher ledger) is never
overwritten by an earlier one that was slower to reach Shopify.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, fields

import structlog
from redis.exceptions import LockError, RedisError

from connectors.errors import AuthError, PermanentError, RetryableError
from integration import job_catalog, signals
from integration.domain.batching import chunks
from integration.domain.channels import InventoryChange, InventorySetResult
from integration.domain.ports import SalesChannel
from integration.extensions import db, redis
from integration.models import ChannelStock, Shop, ShopStatus
from integration.models.base import utcnow
from integration.models.upsert import insert
from integration.shops.alerts import raise_alert
from integration.shops.shopify_client import store_for
from integration.stock.push_schedule import PushSchedule
from integration.stock.targets import (
    CHANNEL,
    Planned,
    StockContext,
    channel_rows,
    items_for,
    shopify_rows,
    targets_for,
)

log = structlog.get_logger(__name__)

BATCH = 250  # inventorySetQuantities accepts at most 250 quantities per call
SKU_CHUNK = 500  # SKUs computed and pushed per locked step (x locations = quantities)
SEND_CONCURRENCY = 2  # inventorySetQuantities calls in flight per job (the rate limit is shared)
PENDING_TTL = 120  # seconds; a lost push job stops blocking new ones after this
LOCK_TTL = 300  # seconds a crashed holder can keep the shop's push lock
LOCK_WAIT = 60  # seconds a push waits for the lock before retrying later


SCHEDULE = PushSchedule("nearstock:stock", job_catalog.PUSH_SHOPIFY_STOCK, job_catalog.push_stock_id, PENDING_TTL)
_key = SCHEDULE.key


# -- change notification and coalescing ---------------------------------------------------------


def ledger_changed(shop_id: int, skus: Iterable[str], *, push: bool = True) -> None:
    """Announce that the ledger of these SKUs changed, once the caller's transaction commits:
    their Shopify quantities are scheduled for a push (unless ``push=False``) and the
    ``warehouse_stock_changed`` signal is sent. Call it from every writer of on_hand/reserved."""
    skus = sorted({s for s in skus if s})
    if not skus:
        return
    signals.on_commit(db.session(), lambda: _after_commit(shop_id, skus, push))


def _after_commit(shop_id: int, skus: list[str], push: bool) -> None:
    # The ledger is committed whatever happens here; a failure only delays the push until the
    # next change or the nightly reconciliation, so it is logged, not raised into commit().
    if push:
        try:
            schedule_push(shop_id, skus)
        except RedisError as exc:
            log.error("stock.schedule_failed", shop_id=shop_id, skus=len(skus), error=repr(exc))
    try:
        signals.warehouse_stock_changed(shop_id, skus)
    except Exception:
        log.exception("stock.signal_receiver_failed", shop_id=shop_id, skus=len(skus))


def schedule_push(shop_id: int, skus: Sequence[str]) -> bool:
    """Mark ``skus`` dirty; enqueue a push job unless one is pending. True when enqueued."""
    return SCHEDULE.schedule(shop_id, skus)


def sweep_dirty(shop_ids: Iterable[int]) -> int:
    """Safety net (cron): shops with dirty SKUs and no pending job get one. Returns how many."""
    started = 0
    for shop_id in shop_ids:
        if redis.client.scard(_key("dirty", shop_id)) and schedule_push(shop_id, ()):
            started += 1
    return started


def dirty_skus(shop_id: int) -> set[str]:
    return {s.decode() for s in redis.client.smembers(_key("dirty", shop_id))}


@contextmanager
def shop_lock(shop_id: int, *, wait: float = LOCK_WAIT) -> Iterator[None]:
    lock = redis.client.lock(_key("push-lock", shop_id), timeout=LOCK_TTL, blocking_timeout=wait, sleep=0.01)
    if not lock.acquire():
        raise RetryableError(f"stock push of shop {shop_id} is busy", retry_after=5, system="nearstock",
                             operation="stock.push")
    try:
        yield
    finally:
        try:
            lock.release()
        except LockError:  # held past LOCK_TTL: someone else may own it now; nothing to undo
            log.warning("stock.lock_expired", shop_id=shop_id)


# -- pushing ------------------------------------------------------------------------------------


@dataclass
class PushStats:
    skus: int = 0
    unchanged: int = 0  # target equals what we last set
    recorded: int = 0  # Shopify already showed the target: channel_stock written, nothing sent
    pushed: int = 0  # quantities Shopify applied
    unapplied: int = 0  # still stale after the connector's re-reads: left to reconciliation
    refused: int = 0  # Shopify refused the quantity itself (item gone from the location): alerted
    not_stocked: int = 0  # item not known at that location in Shopify: nothing we can set
    calls: int = 0  # inventorySetQuantities requests made (the connector's re-reads not counted)

    def add(self, other: PushStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def plan_from_last_known(ctx: StockContext, skus: Sequence[str], stats: PushStats) -> tuple[list[Planned], list]:
    """The incremental plan: targets compared with what we last set. Returns (to push, to record
    without pushing as (sku, item, location, quantity))."""
    targets = targets_for(ctx, skus)
    items = items_for(ctx.shop_id, skus)
    all_items = [i for sku in skus for i in items.get(sku, ())]
    ours = channel_rows(ctx.shop_id, all_items)
    theirs = shopify_rows(ctx.shop_id, all_items)
    plan: list[Planned] = []
    record: list = []
    for sku in skus:
        for item in items.get(sku, ()):
            for location, target in targets[sku].items():
                key = (item, location)
                last, seen = ours.get(key), theirs.get(key)
                if last is not None and last[0] == target:
                    stats.unchanged += 1
                    continue
                # The freshest quantity we know Shopify holds: its webhook if newer than our push.
                if seen is not None and (last is None or seen[1] > last[1]):
                    baseline, source = seen[0], f"seen@{seen[1].isoformat()}"
                elif last is not None:
                    baseline, source = last[0], f"set@{last[1].isoformat()}"
                else:
                    stats.not_stocked += 1  # never seen at this location: setting it would fail
                    continue
                if baseline == target:
                    record.append((sku, item, location, target))
                else:
                    plan.append(Planned(sku, item, location, target, baseline, source))
    return plan, record


def batch_key(shop_id: int, batch: Sequence[Planned]) -> str:
    """Same batch content -> same key: a retried job replays its requests and Shopify applies
    them once. The baseline's stamp is part of the content, so a later identical transition
    (after someone else moved the quantity back) is a new request, not a replay."""
    content = json.dumps([[p.item, p.location, p.quantity, p.change_from, p.baseline] for p in batch])
    return f"nearstock-stock-{shop_id}-{hashlib.sha256(content.encode()).hexdigest()[:40]}"


def send(channel: SalesChannel, shop_id: int, planned: Sequence[Planned], stats: PushStats) -> None:
    """Push in batches of 250, ``SEND_CONCURRENCY`` calls in flight: while Shopify works on one
    batch, the previous one's result is recorded. Each batch's applied quantities are committed
    to channel_stock as its answer arrives (no transaction is held open across an HTTP call; the
    connection pool gives each sending thread its own connection for the call log). The shared
    Redis cost bucket keeps the calls within the shop's rate, however many are in flight."""
    db.session.commit()
    batches = list(chunks(planned, BATCH))
    if len(batches) <= 1 or SEND_CONCURRENCY <= 1:
        for batch in batches:
            _send_batch(channel, shop_id, batch, stats)
        return
    with ThreadPoolExecutor(SEND_CONCURRENCY, thread_name_prefix="stock-push") as pool:
        futures = [(batch, pool.submit(_set, channel, shop_id, batch)) for batch in batches]
        try:
            for batch, future in futures:
                stats.calls += 1
                try:
                    result = future.result()
                except AuthError:
                    raise
                except PermanentError as exc:
                    _split(channel, shop_id, batch, exc, stats)
                    continue
                _record(shop_id, batch, result, stats)
        except BaseException:
            for _, future in futures:
                future.cancel()  # the ones already sent finish; their CAS makes a retry safe
            raise


def _set(channel: SalesChannel, shop_id: int, batch: Sequence[Planned]) -> InventorySetResult:
    changes = [InventoryChange(p.item, p.location, p.quantity, p.change_from) for p in batch]
    return channel.set_quantities(changes, key=batch_key(shop_id, batch))


def _send_batch(channel: SalesChannel, shop_id: int, batch: Sequence[Planned], stats: PushStats) -> None:
    stats.calls += 1
    try:
        result = _set(channel, shop_id, batch)
    except AuthError:
        raise
    except PermanentError as exc:
        _split(channel, shop_id, batch, exc, stats)
        return
    _record(shop_id, batch, result, stats)


def _split(channel: SalesChannel, shop_id: int, batch: Sequence[Planned], exc: PermanentError,
           stats: PushStats) -> None:
    """Shopify refuses a whole call for one bad quantity (an item deleted or no longer stocked at
    the location): halve the batch until the bad one is alone, so it cannot hold back the
    others, nor every later push of the shop."""
    if len(batch) == 1:
        _refused(shop_id, batch[0], exc, stats)
        return
    middle = len(batch) // 2
    _send_batch(channel, shop_id, batch[:middle], stats)
    _send_batch(channel, shop_id, batch[middle:], stats)


def _record(shop_id: int, batch: Sequence[Planned], result, stats: PushStats) -> None:
    applied = {(c.inventory_item_id, c.location_id) for c in result.applied}
    record_channel_stock(shop_id, [(p.sku, p.item, p.location, p.quantity)
                                   for p in batch if (p.item, p.location) in applied])
    db.session.commit()
    stats.pushed += len(applied)
    if result.unapplied:
        stats.unapplied += len(result.unapplied)
        log.warning("stock.push_unapplied", shop_id=shop_id, count=len(result.unapplied),
                    sample=[(c.inventory_item_id, c.location_id, c.quantity) for c in result.unapplied[:5]])


def _refused(shop_id: int, planned: Planned, exc: PermanentError, stats: PushStats) -> None:
    stats.refused += 1
    log.error("stock.push_refused", shop_id=shop_id, sku=planned.sku, item=planned.item, location=planned.location,
              quantity=planned.quantity, code=exc.code, error=exc.message)
    raise_alert(shop_id, "stock_push_refused", f"{planned.item}@{planned.location}"[:128],
                f"Shopify refused the stock of {planned.sku} at a location: {exc.message}",
                {"sku": planned.sku, "item": planned.item, "location": planned.location, "code": exc.code})
    db.session.commit()


def record_channel_stock(shop_id: int, rows: Sequence[tuple[str, str, str, int]]) -> None:
    """Upsert what Shopify now holds because of us: (sku, item, location, quantity)."""
    if not rows:
        return
    now = utcnow()
    # One statement executed for many parameter sets: compiled once and cached, unlike a
    # multi-row VALUES whose SQL differs with every row count.
    stmt = insert(ChannelStock)
    stmt = stmt.on_conflict_do_update(
        index_elements=["shop_id", "channel", "item_id", "location_id"],
        set_={"quantity": stmt.excluded.quantity, "sku": stmt.excluded.sku, "pushed_at": stmt.excluded.pushed_at},
    )
    db.session.execute(stmt, [
        {"shop_id": shop_id, "channel": CHANNEL, "item_id": item, "location_id": location, "sku": sku,
         "quantity": quantity, "pushed_at": now}
        for sku, item, location, quantity in rows
    ])


def push_skus(ctx: StockContext, channel: SalesChannel, skus: Sequence[str]) -> PushStats:
    """Compute, compare and push one chunk of SKUs under the shop's push lock."""
    stats = PushStats(skus=len(skus))
    with shop_lock(ctx.shop_id):
        plan, record = plan_from_last_known(ctx, skus, stats)
        record_channel_stock(ctx.shop_id, record)
        stats.recorded += len(record)
        send(channel, ctx.shop_id, plan, stats)
    return stats


def push_shopify_stock(shop_id: int, skus: Sequence[str] | None = None) -> PushStats:
    """Push the Shopify quantities of ``skus`` (default: the shop's dirty set) that changed."""
    total = PushStats()
    shop = db.session.get(Shop, shop_id)
    if shop is None or shop.status != ShopStatus.INSTALLED:
        redis.client.delete(_key("dirty", shop_id), _key("pending", shop_id))
        log.info("stock.push_skipped", shop_id=shop_id, reason="not installed")
        return total
    ctx = StockContext.load(shop_id)
    store = store_for(shop)
    if skus is not None:
        for chunk in chunks(sorted(set(skus)), SKU_CHUNK):
            total.add(push_skus(ctx, store, chunk))
    else:
        # Clear the flag before taking SKUs: a change marked after this point enqueues a new
        # job; one marked before it is in the set we are about to take.
        redis.client.delete(_key("pending", shop_id))
        while popped := redis.client.spop(_key("dirty", shop_id), SKU_CHUNK):
            chunk = sorted(s.decode() for s in popped)
            try:
                total.add(push_skus(ctx, store, chunk))
            except BaseException:
                redis.client.sadd(_key("dirty", shop_id), *chunk)  # the retry takes them again
                db.session.rollback()
                raise
    log.info("stock.pushed", shop_id=shop_id, **total.as_dict())
    return total
