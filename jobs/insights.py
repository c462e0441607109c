"""Insights jobs: a shop's computation (incremental after changes, or every series nightly).

Cron (``jobs/cron.py``)::

    cron.register(insights.compute_all_shops, queue_name="low", cron="15 4 * * *")
    cron.register(insights.sweep_dirty, queue_name="low", interval=900)
"""

from __future__ import annotations

import time

from sqlalchemy import select

from integration import job_catalog
from integration.extensions import db, queues
from integration.insights import dirty
from integration.insights.compute import compute_insights as compute
from integration.models import InsightSeries, Shop, ShopStatus
from integration.shops import installation
from jobs.runtime import job


@job
def compute_insights(shop_id: int, only_dirty: bool = True) -> dict:
    """The shop's dirty series (after the Redis SKUs are flushed into them), or all of them."""
    shop = db.session.get(Shop, shop_id)
    if shop is None or shop.status != ShopStatus.INSTALLED:
        return {"skipped": "not_installed"}
    if only_dirty:
        dirty.flush(shop_id)
    return compute(shop_id, only_dirty).as_dict()



@job
def compute_all_shops() -> int:
    """Cron (nightly): every series of every installed shop, once a day (the calendar moved on:
    yesterday's closing counts, late cancellations, lost marks)."""
    day = int(time.time() // 86400)
    return sum(1 for shop_id in installation.installed_shop_ids() if queues.enqueue(
        "low", job_catalog.COMPUTE_INSIGHTS, shop_id, False, job_id=job_catalog.compute_all_insights_id(shop_id, day),
        unique=True, job_timeout=3600))


@job
def sweep_dirty() -> int:
    """Cron: shops with dirty series and no pending run (a lost job) get one."""
    shop_ids = db.session.execute(select(InsightSeries.shop_id).where(InsightSeries.dirty.is_(True))
                                  .distinct()).scalars().all()
    db.session.commit()
    return sum(1 for shop_id in shop_ids if dirty.schedule(shop_id))
