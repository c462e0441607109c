"""Merchant-fulfilled (MFN) quantities out to Amazon, only the changed ones.

The MFN quantity of a SKU is what our own warehouses can sell: the sum over active warehouses of
active accounts, FBA excluded (Amazon counts its own stock), of ``on_hand - reserved - safety``,
minus the shop's ``amazon`` channel buffer, never below 0. ``channel_stock`` (channel
``amazon``, item = SKU, location = ``<account id>:<marketplace id>``) holds what we last set;
only differing values are sent: up to ``FEED_THRESHOLD`` SKUs one ``patchListingsItem`` each,
more as a ``JSON_LISTINGS_FEED`` whose processing report is read for per-SKU errors. A SKU
Amazon refused keeps its old baseline, so the next push tries it again.

Changes arrive through the stock engine's ``warehouse_stock_changed`` signal
(:func:`on_stock_changed`): SKUs are collected in a Redis set per shop and one push job runs for
a burst of changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields

import structlog
from redis.exceptions import LockError, RedisError
from sqlalchemy import select

from connectors.errors import RetryableError
from integration import job_catalog
from integration.amazon.sp_api_client import seller_for
from integration.domain.batching import chunks
from integration.domain.channels import InventoryChange
from integration.domain.ports import AmazonSeller
from integration.extensions import db, redis
from integration.models import ChannelStock, ShopSettings, StockLevel, Warehouse, WarehouseAccount
from integration.models.amazon import AmazonAccount
from integration.models.base import utcnow
from integration.models.upsert import insert
from integration.stock.push_schedule import PushSchedule

log = structlog.get_logger(__name__)

CHANNEL = "amazon"
FBA_PROVIDER = "fba"
FEED_THRESHOLD = 50  # more changed SKUs than this in one marketplace go as a feed
SQL_CHUNK = 500
PENDING_TTL = 120
LOCK_TTL = 1800
LOCK_WAIT = 60
NO_ACCOUNT_TTL = 3600  # seconds a shop without Amazon account is skipped by the receiver


@dataclass
class PushStats:
    skus: int = 0
    changed: int = 0
    patched: int = 0
    fed: int = 0
    feeds: int = 0
    refused: int = 0

    def add(self, other: PushStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


SCHEDULE = PushSchedule("nearstock:amazon", job_catalog.PUSH_AMAZON_QUANTITIES, job_catalog.amazon_push_id, PENDING_TTL)
_key = SCHEDULE.key


def location(account_id: int, marketplace_id: str) -> str:
    return f"{account_id}:{marketplace_id}"


def mfn_quantity(counts: Iterable[tuple[int, int]], safety: int, buffer: int) -> int:
    """The MFN quantity from the (on_hand, reserved) of one SKU at each selling warehouse."""
    return max(0, sum(max(0, on_hand - reserved - safety) for on_hand, reserved in counts) - buffer)


def sells_on_amazon(provider: str, warehouse_active: bool, account_active: bool) -> bool:
    return warehouse_active and account_active and provider != FBA_PROVIDER


def mfn_quantities(shop_id: int, skus: Sequence[str]) -> dict[str, int]:
    """sku -> MFN quantity from the ledger (0 for a SKU no selling warehouse holds)."""
    settings = db.session.execute(select(ShopSettings).where(ShopSettings.shop_id == shop_id)).scalar_one_or_none()
    safety = max(0, settings.safety_stock or 0) if settings else 0
    buffer = max(0, int((settings.channel_buffers or {}).get(CHANNEL, 0) or 0)) if settings else 0
    counts: dict[str, list[tuple[int, int]]] = {sku: [] for sku in skus}
    for part in chunks(skus, SQL_CHUNK):
        rows = db.session.execute(
            select(StockLevel.sku, StockLevel.on_hand, StockLevel.reserved)
            .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
            .join(WarehouseAccount, WarehouseAccount.id == Warehouse.account_id)
            .where(Warehouse.shop_id == shop_id, Warehouse.active.is_(True), WarehouseAccount.active.is_(True),
                   WarehouseAccount.provider != FBA_PROVIDER, StockLevel.sku.in_(part))
        ).all()
        for sku, on_hand, reserved in rows:
            counts[sku].append((on_hand, reserved))
    return {sku: mfn_quantity(pairs, safety, buffer) for sku, pairs in counts.items()}


def known_skus(shop_id: int) -> list[str]:
    """Every SKU our warehouses hold or that we ever pushed to Amazon (the full push)."""
    ledger = db.session.execute(
        select(StockLevel.sku).distinct().join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .join(WarehouseAccount, WarehouseAccount.id == Warehouse.account_id)
        .where(Warehouse.shop_id == shop_id, WarehouseAccount.provider != FBA_PROVIDER)).scalars().all()
    pushed = db.session.execute(select(ChannelStock.sku).distinct().where(
        ChannelStock.shop_id == shop_id, ChannelStock.channel == CHANNEL)).scalars().all()
    return sorted({s for s in (*ledger, *pushed) if s})


def last_pushed(shop_id: int, where: str, skus: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in chunks(skus, SQL_CHUNK):
        out.update(db.session.execute(
            select(ChannelStock.item_id, ChannelStock.quantity).where(
                ChannelStock.shop_id == shop_id, ChannelStock.channel == CHANNEL, ChannelStock.location_id == where,
                ChannelStock.item_id.in_(part))).all())
    return out


def record_pushed(shop_id: int, where: str, quantities: dict[str, int]) -> None:
    if not quantities:
        return
    now = utcnow()
    stmt = insert(ChannelStock)
    stmt = stmt.on_conflict_do_update(
        index_elements=["shop_id", "channel", "item_id", "location_id"],
        set_={"quantity": stmt.excluded.quantity, "pushed_at": stmt.excluded.pushed_at})
    db.session.execute(stmt, [{"shop_id": shop_id, "channel": CHANNEL, "item_id": sku, "location_id": where,
                               "sku": sku, "quantity": quantity, "pushed_at": now}
                              for sku, quantity in quantities.items()])


def push_quantities(shop_id: int, skus: Sequence[str] | None = None, *, sleep: Callable[[float], None] = time.sleep,
                    poll_every: float = 30.0, feed_timeout: float = 900.0) -> PushStats:
    """Push the changed MFN quantities of ``skus`` (default: every known SKU) to every active
    Amazon account and marketplace of the shop."""
    total = PushStats()
    accounts = db.session.execute(select(AmazonAccount).where(
        AmazonAccount.shop_id == shop_id, AmazonAccount.active.is_(True)).order_by(AmazonAccount.id)).scalars().all()
    if not accounts:
        db.session.commit()
        redis.client.set(_key("no-account", shop_id), "1", ex=NO_ACCOUNT_TTL)
        return total
    wanted = sorted(set(skus)) if skus is not None else known_skus(shop_id)
    total.skus = len(wanted)
    if not wanted:
        return total
    lock = redis.client.lock(_key("push-lock", shop_id), timeout=LOCK_TTL, blocking_timeout=LOCK_WAIT)
    if not lock.acquire():
        raise RetryableError(f"shop {shop_id}: another Amazon quantity push is running", retry_after=30)
    try:
        targets = mfn_quantities(shop_id, wanted)
        for account in accounts:
            for marketplace_id in account.marketplaces or []:
                where = location(account.id, marketplace_id)
                last = last_pushed(shop_id, where, wanted)
                changed = {sku: q for sku, q in targets.items() if last.get(sku) != q}
                db.session.commit()  # no transaction held open across HTTP calls
                if not changed:
                    continue
                total.changed += len(changed)
                seller = seller_for(account, marketplace_id)
                if len(changed) <= FEED_THRESHOLD:
                    applied = _patch(seller, marketplace_id, where, changed, total)
                else:
                    applied = _feed(seller, changed, total, sleep=sleep, poll_every=poll_every, timeout=feed_timeout)
                record_pushed(shop_id, where, applied)
                db.session.commit()
    finally:
        try:
            lock.release()
        except LockError:  # expired while we worked: nothing to release
            log.warning("amazon.push_lock_expired", shop_id=shop_id)
    log.info("amazon.quantities_pushed", shop_id=shop_id, **total.as_dict())
    return total


def _patch(seller: AmazonSeller, marketplace_id: str, where: str, changed: dict[str, int],
           stats: PushStats) -> dict[str, int]:
    result = seller.set_quantities(
        [InventoryChange(sku, marketplace_id, quantity, None) for sku, quantity in changed.items()], key=where)
    stats.patched += len(result.applied)
    stats.refused += len(result.unapplied)
    return {change.inventory_item_id: change.quantity for change in result.applied}


def _feed(seller: AmazonSeller, changed: dict[str, int], stats: PushStats, *, sleep, poll_every: float,
          timeout: float) -> dict[str, int]:
    applied = {}
    for submission in seller.submit_quantity_feeds(changed):
        stats.feeds += 1
        result = seller.wait_for_feed(submission, timeout=timeout, poll_every=poll_every, sleep=sleep)
        if result.status != "DONE" or result.feed_issues:
            stats.refused += len(submission.skus)
            log.error("amazon.feed_failed", feed_id=submission.feed_id, status=result.status,
                      issues=[f"{i.code}: {i.message}" for i in result.feed_issues][:20])
            continue
        for sku, issues in result.errors.items():
            log.warning("amazon.quantity_refused", sku=sku, feed_id=submission.feed_id,
                        issues=[f"{i.code}: {i.message}" for i in issues])
        for sku in submission.skus:
            if sku in result.errors:
                stats.refused += 1
            else:
                applied[sku] = changed[sku]
                stats.fed += 1
    return applied


# -- change notification ------------------------------------------------------------------------


def on_stock_changed(shop_id: int, skus: Iterable[str], **_: object) -> None:
    """Receiver of ``warehouse_stock_changed``. It runs in the session's after-commit hook, where no
    SQL may be emitted: Redis only. Shops known to have no Amazon account are skipped (flag set
    by the push job, expiring, so an account added later is picked up)."""
    skus = sorted({s for s in skus if s})
    if not skus:
        return
    try:
        if redis.client.exists(_key("no-account", shop_id)):
            return
        schedule_push(shop_id, skus)
    except RedisError as exc:  # a later change or the nightly full push heals it
        log.error("amazon.schedule_failed", shop_id=shop_id, error=repr(exc))


def schedule_push(shop_id: int, skus: Sequence[str]) -> bool:
    return SCHEDULE.schedule(shop_id, skus)


def take_dirty(shop_id: int) -> list[str]:
    """Clear the pending flag, then take the dirty set (a change after the flag clears enqueues anew)."""
    client = redis.client
    client.delete(_key("pending", shop_id))
    with client.pipeline() as pipe:
        pipe.smembers(_key("dirty", shop_id))
        pipe.delete(_key("dirty", shop_id))
        members, _ = pipe.execute()
    return sorted(m.decode() if isinstance(m, bytes) else m for m in members)


def put_back(shop_id: int, skus: Sequence[str]) -> None:
    if skus:
        redis.client.sadd(_key("dirty", shop_id), *skus)
