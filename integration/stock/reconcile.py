"""Nightly reconciliation of one shop: warehouses -> ledger, then ledger -> Shopify, healing drift.

1. A bulk export of every variant with its Shopify inventory levels is requested first, so Shopify
   builds it while we read the warehouses.
2. Ledger vs provider: every active warehouse's full inventory (``get_inventory(code)``, or the
   streaming ``iter_inventory`` where a provider has it), applied ``page_size`` records at a time
   like a poll. Rows the provider did not report at all (and that nothing newer touched) are set
   to 0: the warehouse no longer has them.
3. Channel vs Shopify: the export is streamed ``page_size`` variants at a time; for each one the
   target (from the ledger) is compared with Shopify's actual quantity and with ``channel_stock``
   (what we believe we set). Actual != target is pushed (compare-and-set from the actual);
   channel_stock != actual is recorded as drift and corrected.

Memory is bounded by ``page_size``: no step holds all variants or ledger rows (only a provider
without ``iter_inventory`` hands over one warehouse's records at once, see ``_inventory_pages``).
Each correction is logged (``stock.reconcile.*`` lines at INFO) and counted in the returned stats.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

import structlog
from sqlalchemy import or_, select, update

from connectors.errors import PermanentError, RetryableError
from integration.domain.batching import chunks
from integration.domain.channels import BulkOperation, VariantStock
from integration.domain.ports import SalesChannel, ShopifyStore
from integration.extensions import db
from integration.models import Shop, ShopStatus, StockLevel, Warehouse, WarehouseAccount
from integration.models.base import utcnow
from integration.shops.shopify_client import store_for
from integration.stock.daily import record_levels
from integration.stock.ledger import apply_stock
from integration.stock.push import PushStats, ledger_changed, record_channel_stock, send, shop_lock
from integration.stock.targets import Planned, StockContext, channel_rows, targets_for
from integration.warehouses.providers import provider_for

log = structlog.get_logger(__name__)

PAGE_SIZE = 500
BULK_TIMEOUT = 3600.0
BULK_INTERVAL = 2.0
TABLE = StockLevel.__table__


@dataclass
class ReconcileStats:
    accounts: int = 0
    provider_pages: int = 0
    provider_records: int = 0
    ledger_corrected: int = 0  # ledger rows created or changed by the warehouses' counts
    ledger_zeroed: int = 0  # rows the warehouse no longer reports: set to 0
    ledger_rejected: int = 0
    variants: int = 0  # variants read from the Shopify export
    pages: int = 0  # export pages processed
    max_page: int = 0  # the most variants held at once
    in_sync: int = 0
    channel_drift: int = 0  # channel_stock disagreed with Shopify's actual quantity
    recorded: int = 0  # channel_stock corrected without a push (Shopify already right)
    pushed: int = 0  # Shopify quantities corrected
    unapplied: int = 0
    refused: int = 0
    not_stocked: int = 0
    fresher: int = 0  # pushed after the export was taken: the export is older, skipped
    calls: int = 0
    ledger_seconds: float = 0.0
    shopify_seconds: float = 0.0

    def as_dict(self) -> dict:
        return {f.name: round(v, 3) if isinstance(v := getattr(self, f.name), float) else v for f in fields(self)}


def _verbose() -> bool:
    # One line per correction is what on-call wants at INFO; at WARNING, skip building 10^5 lines.
    return logging.getLogger(__name__).isEnabledFor(logging.INFO)


def reconcile(shop_id: int, *, page_size: int = PAGE_SIZE, bulk_interval: float = BULK_INTERVAL,
              bulk_timeout: float = BULK_TIMEOUT) -> ReconcileStats:
    stats = ReconcileStats()
    shop = db.session.get(Shop, shop_id)
    if shop is None or shop.status != ShopStatus.INSTALLED:
        log.info("stock.reconcile.skipped", shop_id=shop_id)
        return stats
    store = store_for(shop)
    snapshot_at = utcnow()
    export = store.run_variant_stock_export()

    started = time.perf_counter()
    accounts = db.session.execute(
        select(WarehouseAccount).where(WarehouseAccount.shop_id == shop_id, WarehouseAccount.active.is_(True))
        .order_by(WarehouseAccount.id)).scalars().all()
    for account in accounts:
        reconcile_ledger(account, page_size=page_size, stats=stats)
        stats.accounts += 1
    stats.ledger_seconds = time.perf_counter() - started

    started = time.perf_counter()
    operation = _wait_for_export(store, export.id, timeout=bulk_timeout, interval=bulk_interval)
    if operation.status != "COMPLETED":
        raise RetryableError(f"stock export {operation.status} ({operation.error_code or 'no code'})",
                             retry_after=300, system="shopify", operation="BulkVariantStock")
    ctx = StockContext.load(shop_id)
    db.session.commit()  # no transaction stays open while the export downloads
    if operation.url and ctx.locations:
        for page in chunks(store.iter_variant_stock(operation.url), page_size):
            reconcile_channel_page(ctx, store, page, snapshot_at, stats)
    stats.shopify_seconds = time.perf_counter() - started
    log.info("stock.reconciled", shop_id=shop_id, **stats.as_dict())
    return stats


def _wait_for_export(store: ShopifyStore, operation_id: str, *, timeout: float, interval: float) -> BulkOperation:
    """Poll the export until it finishes. A status poll that fails transiently (timeout, 5xx) is
    tried again within the deadline: the ledger pass is already done, and restarting the whole
    reconciliation for one lost status read would redo it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            operation = store.get_bulk_operation(operation_id)
        except RetryableError as exc:
            if time.monotonic() + interval > deadline:
                raise
            log.warning("stock.reconcile.export_poll_failed", bulk_operation=operation_id, error=str(exc))
            time.sleep(interval)
            continue
        if operation is None:
            raise PermanentError(f"unknown bulk operation {operation_id}", system="shopify")
        if operation.finished:
            return operation
        if time.monotonic() + interval > deadline:
            raise RetryableError(f"stock export {operation_id} still {operation.status}", retry_after=300,
                                 system="shopify", operation="BulkOperation")
        time.sleep(interval)


# -- ledger vs provider -------------------------------------------------------------------------


def reconcile_ledger(account: WarehouseAccount, *, page_size: int = PAGE_SIZE,
                     stats: ReconcileStats | None = None) -> ReconcileStats:
    """Apply each active warehouse's full inventory to the ledger, then zero what it no longer
    reports. (``inventory_changes(None)`` is not used: for some providers it starts from a recent
    date, not from the beginning, and would make absent SKUs look gone.)"""
    stats = stats or ReconcileStats()
    provider = provider_for(account)
    warehouses = db.session.execute(
        select(Warehouse).where(Warehouse.account_id == account.id, Warehouse.active.is_(True))
        .order_by(Warehouse.id)).scalars().all()
    db.session.commit()
    verbose = _verbose()
    for warehouse in warehouses:
        reported, oldest = 0, None
        rejected: set[tuple[str, str]] = set()
        for records, read_at in _inventory_pages(provider, warehouse.code, page_size):
            result = apply_stock(warehouse.id, records, as_of=read_at, push=False)
            stats.provider_pages += 1
            stats.provider_records += len(records)
            stats.ledger_corrected += len(result.moves)
            stats.ledger_rejected += len(result.rejected)
            rejected.update((r.warehouse_code, r.sku) for r in result.rejected)
            reported += sum(1 for r in records if r.warehouse_code == warehouse.code)
            if result.oldest_stamp is not None:
                oldest = min(oldest, result.oldest_stamp) if oldest else result.oldest_stamp
            if verbose:
                for code, sku, before, after in result.moves:
                    log.info("stock.reconcile.ledger_corrected", account_id=account.id, warehouse=code, sku=sku,
                             before=before, after=after)
        if not reported or oldest is None:
            # Nothing at all from a warehouse is far likelier an API problem than an empty shelf.
            log.warning("stock.reconcile.nothing_reported", account_id=account.id, warehouse=warehouse.code)
            continue
        stats.ledger_zeroed += _zero_unreported(warehouse, oldest, rejected, page_size, verbose)
    return stats


def _inventory_pages(provider, warehouse_code: str, page_size: int) -> Iterator[tuple[Sequence, datetime]]:
    """One warehouse's full inventory in pages of at most ``page_size`` records. Providers that
    offer ``iter_inventory(warehouse_code, page_size)`` (proposed port extension) stream it; with
    ``get_inventory`` the provider's answer for one warehouse is held once, then applied in pages."""
    read_at = utcnow()
    streaming = getattr(provider, "iter_inventory", None)
    pages = streaming(warehouse_code, page_size) if streaming else chunks(provider.get_inventory(warehouse_code),
                                                                          page_size)
    for page in pages:
        for part in chunks(page, page_size):
            yield part, read_at
        read_at = utcnow()


def _zero_unreported(warehouse: Warehouse, oldest: datetime, rejected: set, page_size: int, verbose: bool) -> int:
    """Rows with stock whose count is older than every record of this pass were not reported."""
    zeroed, last_id = 0, 0
    stale = or_(TABLE.c.on_hand_as_of.is_(None), TABLE.c.on_hand_as_of < oldest)
    stamp = utcnow()
    while True:
        rows = db.session.execute(
            select(TABLE.c.id, TABLE.c.sku, TABLE.c.on_hand)
            .where(TABLE.c.warehouse_id == warehouse.id, TABLE.c.on_hand > 0, TABLE.c.id > last_id, stale)
            .order_by(TABLE.c.id).limit(page_size)).all()
        if not rows:
            return zeroed
        last_id = rows[-1].id
        rows = [r for r in rows if (warehouse.code, r.sku) not in rejected]
        if rows:
            done = db.session.execute(
                update(TABLE).where(TABLE.c.id.in_([r.id for r in rows]), stale)
                .values(on_hand=0, on_hand_as_of=stamp).returning(TABLE.c.sku)).scalars().all()
            zeroed += len(done)
            if verbose:
                before = {r.sku: r.on_hand for r in rows}
                for sku in done:
                    log.info("stock.reconcile.ledger_zeroed", warehouse=warehouse.code, sku=sku, before=before[sku])
            record_levels((warehouse.id, sku) for sku in done)
            ledger_changed(warehouse.shop_id, done, push=False)
        db.session.commit()


# -- channel vs Shopify -------------------------------------------------------------------------


def reconcile_channel_page(ctx: StockContext, channel: SalesChannel, page: Sequence[VariantStock],
                           snapshot_at: datetime, stats: ReconcileStats) -> None:
    """Compare one page of the export with the targets and with channel_stock; heal both."""
    stats.pages += 1
    stats.variants += len(page)
    stats.max_page = max(stats.max_page, len(page))
    variants = [(vs.variant.sku, vs.variant.inventory_item_id,
                 {lv.location_id: lv.available for lv in vs.levels if lv.available is not None})
                for vs in page if vs.variant.sku and vs.variant.inventory_item_id]
    skus = sorted({v[0] for v in variants})
    verbose = _verbose()
    push = PushStats()
    with shop_lock(ctx.shop_id):
        targets = targets_for(ctx, skus)
        ours = channel_rows(ctx.shop_id, [v[1] for v in variants])
        plan: list[Planned] = []
        record: list[tuple[str, str, str, int]] = []
        baseline = f"export@{snapshot_at.isoformat()}"
        for sku, item, levels in variants:
            for location, target in targets[sku].items():
                actual = levels.get(location)
                if actual is None:
                    stats.not_stocked += 1
                    continue
                last = ours.get((item, location))
                if last is not None and last[1] > snapshot_at:
                    stats.fresher += 1
                    continue
                drift = last is not None and last[0] != actual
                if drift:
                    stats.channel_drift += 1
                    if verbose:
                        log.info("stock.reconcile.channel_drift", sku=sku, item=item, location=location,
                                 recorded=last[0], actual=actual, target=target)
                if actual != target:
                    plan.append(Planned(sku, item, location, target, actual, baseline))
                    if verbose:
                        log.info("stock.reconcile.shopify_corrected", sku=sku, item=item, location=location,
                                 actual=actual, target=target)
                elif last is None or drift:
                    record.append((sku, item, location, actual))
                else:
                    stats.in_sync += 1
        record_channel_stock(ctx.shop_id, record)
        stats.recorded += len(record)
        send(channel, ctx.shop_id, plan, push)
    stats.pushed += push.pushed
    stats.unapplied += push.unapplied
    stats.refused += push.refused
    stats.calls += push.calls
