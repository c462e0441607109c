"""Test-sale gate jobs: the daily evaluation of every shop's open gates.

Cron (``jobs/cron.py``)::

    cron.register(gates.evaluate_all_gates, queue_name="low", cron="20 4 * * *")
"""

from __future__ import annotations

import time

from integration import job_catalog
from integration.insights import gates
from jobs.runtime import job


@job
def evaluate_shop_gates(shop_id: int) -> int:
    """One shop's open gates (a couple of ShopifyQL reads): recomputed and overwritten, so a
    retried or doubled run leaves the same rows."""
    return gates.evaluate_shop(shop_id)


@job
def evaluate_all_gates() -> int:
    """Cron (daily): one job per shop with open gates, unique per shop and day."""
    from integration.extensions import queues

    day = int(time.time() // 86400)
    enqueued = 0
    for shop_id in gates.shops_with_open_gates():
        if queues.enqueue("low", job_catalog.EVALUATE_GATES, shop_id,
                          job_id=job_catalog.evaluate_gates_id(shop_id, day), unique=True):
            enqueued += 1
    return enqueued
