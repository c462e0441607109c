"""Storefront stock status jobs: the coalesced refresh per shop, and the nightly full refresh.

Cron (``jobs/cron.py``)::

    cron.register(storefront.refresh_all_shops, queue_name="low", cron="45 3 * * *")
    cron.register(storefront.sweep_dirty, queue_name="low", interval=300)
"""

from __future__ import annotations

import time

from integration import job_catalog
from integration.shops import installation
from integration.storefront import cache
from integration.storefront import status as storefront
from jobs.runtime import job


@job
def refresh_statuses(shop_id: int) -> dict:
    """The shop's dirty SKUs and variants, recomputed and published (Redis, metafields, restock
    e-mails). Enqueued by :func:`integration.storefront.cache.mark_dirty`."""
    return storefront.refresh_statuses(shop_id).as_dict()


@job
def refresh_shop(shop_id: int) -> int:
    """Every live variant of the shop, queued for the next refresh (settings, texts, nightly)."""
    cache.release_full_refresh(shop_id)  # an edit from now on queues another run
    storefront.refresh_all_later(shop_id)
    return shop_id



@job
def refresh_all_shops() -> int:
    """Cron (nightly): rewrites every status. Heals a lost Redis, a missed signal, and moves
    delivery dates and pre-order dates along with the calendar."""
    from integration.extensions import queues

    day = int(time.time() // 86400)
    enqueued = 0
    for shop_id in installation.installed_shop_ids():
        if queues.enqueue("low", job_catalog.REFRESH_SHOP, shop_id, job_id=job_catalog.refresh_shop_id(shop_id, day),
                          unique=True):
            enqueued += 1
    return enqueued


@job
def sweep_dirty() -> int:
    """Cron: shops with queued SKUs and no pending job (the job was lost) get one."""
    started = 0
    for shop_id in installation.installed_shop_ids():
        if cache.has_dirty(shop_id) and cache.mark_dirty(shop_id):
            started += 1
    return started
