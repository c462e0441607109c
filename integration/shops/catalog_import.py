"""The catalog import after install: locations by paged query, then every variant with its
inventory levels by one bulk operation, streamed into the database.

Resumable: the run records how many result objects it has stored (``lines_read``); a job that
dies half-way is retried and skips what is already stored. The bulk operation's completion
arrives by the ``bulk_operations/finish`` webhook, with a polling job as the fallback.
https://shopify.dev/docs/api/usage/bulk-operations/queries
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import select

from integration import job_catalog, signals
from integration.extensions import db, queues
from integration.models import ImportRun, ImportStatus, InventoryLevel, Location, Shop, ShopStatus, Variant
from integration.models.base import utcnow
from integration.models.upsert import insert
from integration.shops.shopify_client import store_for

log = structlog.get_logger(__name__)

BATCH = 500
POLL_EVERY = 30  # seconds between fallback checks of a running bulk operation
STUCK_AFTER = timedelta(hours=6)
ACTIVE = (ImportStatus.PENDING, ImportStatus.RUNNING, ImportStatus.PROCESSING)


def import_after_install(shop_id: int) -> None:
    """``shop_installed``: this installation's catalog import, enqueued once the install commits,
    whichever path installed it (code grant, the framed first load, or a first API call that
    exchanged its session token). One per installation: the job id names it, so a second signal
    for the same installation (racing first loads) enqueues nothing."""
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        return
    job_id = job_catalog.import_id(shop_id, f"install-{int(shop.installed_at.timestamp())}")
    signals.on_commit(db.session(), lambda: queues.enqueue("sync", job_catalog.START_IMPORT, shop_id,
                                                           unique=True, job_id=job_id))


def _active_run(shop_id: int) -> ImportRun | None:
    return db.session.execute(
        select(ImportRun)
        .where(ImportRun.shop_id == shop_id, ImportRun.status.in_(ACTIVE),
               ImportRun.started_at > utcnow() - STUCK_AFTER)
        .order_by(ImportRun.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def start_import(shop_id: int) -> int | None:
    """Import locations and submit the bulk export; returns the run id (None: shop not installed)."""
    shop = db.session.get(Shop, shop_id)
    if shop is None or shop.status != ShopStatus.INSTALLED:
        log.info("import.skipped", shop_id=shop_id)
        return None
    run = _active_run(shop_id)
    if run is not None and run.bulk_operation_id:
        return run.id  # already submitted (a retried job): nothing more to do
    if run is None:
        run = ImportRun(shop_id=shop_id, status=ImportStatus.PENDING)
        db.session.add(run)
        db.session.commit()
    store = store_for(shop)
    # Fetch first, write after: never hold a write transaction open across HTTP calls.
    run.locations = upsert_locations(shop_id, list(store.iter_locations()))
    db.session.commit()
    operation = store.run_variant_stock_export()
    run.bulk_operation_id = operation.id
    run.status = ImportStatus.RUNNING
    db.session.commit()
    queues.enqueue_in(POLL_EVERY, "sync", job_catalog.CHECK_IMPORT, run.id,
                      job_id=job_catalog.check_import_id(run.id, 0))
    log.info("import.submitted", shop=shop.domain, run_id=run.id, bulk_operation=operation.id)
    return run.id


def upsert_locations(shop_id: int, locations) -> int:
    count = 0
    for loc in locations:
        address = ", ".join(p for p in (loc.address1, loc.zip, loc.city) if p) or None
        values = {"name": loc.name[:255], "address": address, "country_code": loc.country_code,
                  "active": loc.is_active, "deleted_at": None}
        stmt = insert(Location).values(shop_id=shop_id, shopify_id=loc.id, **values)
        db.session.execute(stmt.on_conflict_do_update(index_elements=["shop_id", "shopify_id"], set_=values))
        count += 1
    return count


def finish_import(shop_id: int, bulk_operation_id: str) -> str:
    """Read a finished bulk operation's results into variants and inventory levels."""
    run = db.session.execute(
        select(ImportRun).where(ImportRun.shop_id == shop_id, ImportRun.bulk_operation_id == bulk_operation_id)
    ).scalar_one_or_none()
    if run is None or run.status in (ImportStatus.DONE, ImportStatus.FAILED):
        return run.status if run else "unknown"
    shop = db.session.get(Shop, shop_id)
    if shop is None or shop.status != ShopStatus.INSTALLED:
        return "uninstalled"
    store = store_for(shop)
    operation = store.get_bulk_operation(bulk_operation_id)
    if operation is None or not operation.finished:
        return "running"
    if operation.status != "COMPLETED":
        run.status = ImportStatus.FAILED
        run.error = f"bulk operation {operation.status} ({operation.error_code or 'no code'})"
        run.finished_at = utcnow()
        db.session.commit()
        log.error("import.bulk_failed", shop=shop.domain, run_id=run.id, error=run.error)
        return run.status

    run.status = ImportStatus.PROCESSING
    db.session.commit()
    variants, levels = [], []
    seen = 0
    for stock in (store.iter_variant_stock(operation.url) if operation.url else ()):
        seen += 1
        if seen <= run.lines_read:
            continue  # stored by an earlier attempt of this job
        variants.append(stock.variant)
        levels.extend(stock.levels)
        if len(variants) >= BATCH:
            _store(run, variants, levels, seen)
            variants, levels = [], []
    _store(run, variants, levels, seen)
    run.status = ImportStatus.DONE
    run.finished_at = utcnow()
    db.session.commit()
    log.info("import.done", shop=shop.domain, run_id=run.id, variants=run.variants, levels=run.inventory_levels)
    return run.status


def _store(run: ImportRun, variants, levels, seen: int) -> None:
    if variants:
        rows = [
            {"shop_id": run.shop_id, "shopify_id": v.variant_id, "product_shopify_id": v.product_id,
             "inventory_item_id": v.inventory_item_id, "sku": v.sku, "barcode": v.barcode,
             "title": (f"{v.product_title} - {v.title}" if v.product_title else v.title)[:500], "deleted_at": None}
            for v in variants
        ]
        stmt = insert(Variant).values(rows)
        db.session.execute(stmt.on_conflict_do_update(
            index_elements=["shop_id", "shopify_id"],
            set_={k: stmt.excluded[k] for k in ("product_shopify_id", "inventory_item_id", "sku", "barcode",
                                                  "title", "deleted_at")},
        ))
    level_rows = [
        {"shop_id": run.shop_id, "inventory_item_id": lv.inventory_item_id, "location_shopify_id": lv.location_id,
         "available": lv.available or 0}
        for lv in levels if lv.location_id
    ]
    if level_rows:
        stmt = insert(InventoryLevel).values(level_rows)
        db.session.execute(stmt.on_conflict_do_update(
            index_elements=["shop_id", "inventory_item_id", "location_shopify_id"],
            set_={"available": stmt.excluded.available},
        ))
    run.variants += len(variants)
    run.inventory_levels += len(level_rows)
    run.lines_read = seen
    db.session.commit()


def check_import(run_id: int, attempt: int = 0) -> str:
    """Fallback for a lost bulk_operations/finish webhook: poll until the run is finished."""
    run = db.session.get(ImportRun, run_id)
    if run is None or run.status not in ACTIVE or not run.bulk_operation_id:
        return run.status if run else "gone"
    status = finish_import(run.shop_id, run.bulk_operation_id)
    if status == "running" and run.started_at > utcnow() - STUCK_AFTER:
        queues.enqueue_in(POLL_EVERY, "sync", job_catalog.CHECK_IMPORT, run_id, attempt + 1,
                          job_id=job_catalog.check_import_id(run_id, attempt + 1))
    return status
