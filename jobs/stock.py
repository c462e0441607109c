"""Stock sync jobs: warehouse polling, the coalesced Shopify push, the nightly reconciliation.

Cron (``jobs/cron.py``)::

    cron.register(stock.poll_all_inventory, queue_name="sync", interval=60)
    cron.register(stock.reconcile_all, queue_name="low", cron="30 3 * * *")
"""

from __future__ import annotations

import functools
import time

import structlog
from sqlalchemy import select

from integration import job_catalog
from integration.extensions import db, queues
from integration.models import Shop, ShopStatus, WarehouseAccount
from integration.stock import sync as stock_sync
from jobs.runtime import job, retried_until_next_round

log = structlog.get_logger(__name__)

POLL_INTERVAL = 60  # seconds: the cron interval of poll_all_inventory (job id window)
RECONCILE_TIMEOUT = 4 * 3600  # a 100k-variant shop at 100 points/s needs minutes, not hours


def _window(seconds: int) -> int:
    return int(time.time() // seconds)


def _fresh_session(func):
    """A clean session per job. A SimpleWorker runs every job inside one long app context, where
    the scoped session (expire_on_commit=False) would hand out rows cached by earlier jobs (an
    account deactivated since, a rotated token) and a failed job's open transaction."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        db.session.remove()
        try:
            return func(*args, **kwargs)
        finally:
            db.session.remove()

    return wrapper


@job
@retried_until_next_round
@_fresh_session
def poll_inventory(account_id: int) -> dict | str:
    result = stock_sync.poll_inventory(account_id)
    if result.more:  # a backlog: continue at once rather than at the next cron tick
        queues.enqueue("sync", job_catalog.POLL_INVENTORY, account_id,
                       job_id=job_catalog.poll_inventory_more_id(account_id, int(time.time())), unique=True,
                       retry=job_catalog.POLL_RETRY)
    return {"status": result.status, "pages": result.pages, "records": result.records,
            "changed": result.changed, "rejected": result.rejected, "more": result.more}


@job
@_fresh_session
def poll_all_inventory() -> int:
    """Cron: one poll per active account per interval (the job id names the window, so a doubled
    cron tick enqueues nothing twice); also restarts pushes whose job was lost."""
    window = _window(POLL_INTERVAL)
    accounts = db.session.execute(
        select(WarehouseAccount.id, WarehouseAccount.shop_id)
        .join(Shop, Shop.id == WarehouseAccount.shop_id)
        .where(WarehouseAccount.active.is_(True), Shop.status == ShopStatus.INSTALLED)
        .order_by(WarehouseAccount.id)).all()
    db.session.commit()
    enqueued = 0
    for account_id, _shop_id in accounts:
        if queues.enqueue("sync", job_catalog.POLL_INVENTORY, account_id,
                          job_id=job_catalog.poll_inventory_id(account_id, window), unique=True,
                          retry=job_catalog.POLL_RETRY):
            enqueued += 1
    stock_sync.sweep_dirty(sorted({shop_id for _, shop_id in accounts}))
    return enqueued


@job
@_fresh_session
def push_shopify_stock(shop_id: int) -> dict:
    return stock_sync.push_shopify_stock(shop_id).as_dict()


@job
@_fresh_session
def reconcile_shop(shop_id: int) -> dict:
    return stock_sync.reconcile(shop_id).as_dict()


@job
@_fresh_session
def reconcile_all() -> int:
    """Cron (nightly): one reconciliation per installed shop with warehouses, once per day."""
    day = _window(86400)
    shop_ids = db.session.execute(
        select(Shop.id).distinct().join(WarehouseAccount, WarehouseAccount.shop_id == Shop.id)
        .where(Shop.status == ShopStatus.INSTALLED, WarehouseAccount.active.is_(True))
        .order_by(Shop.id)).scalars().all()
    db.session.commit()
    enqueued = 0
    for shop_id in shop_ids:
        if queues.enqueue("low", job_catalog.RECONCILE_SHOP, shop_id,
                          job_id=job_catalog.reconcile_stock_id(shop_id, day), unique=True,
                          job_timeout=RECONCILE_TIMEOUT):
            enqueued += 1
    return enqueued
