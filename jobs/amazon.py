"""Amazon channel jobs: import orders, push MFN quantities, confirm shipments, erase buyer PII.

All take ids and re-read state; each is safe to run twice.
"""

from __future__ import annotations

import time
from datetime import timedelta

from integration import job_catalog
from integration.amazon import channel as amazon_channel
from integration.extensions import queues
from integration.job_liveness import enqueue_unless_alive
from integration.models.base import utcnow
from integration.stock import amazon_quantities
from jobs.runtime import job, retried_until_next_round

IMPORT_ROUND = 300  # seconds: import jobs are deduplicated within a round


@job
@retried_until_next_round
def import_orders(account_id: int) -> dict | str:
    return amazon_channel.import_orders(account_id).as_dict()


@job
def import_all() -> int:
    """Cron: one import job per active account and round."""
    ids = amazon_channel.active_account_ids()
    window = int(time.time() // IMPORT_ROUND)
    for account_id in ids:
        queues.enqueue("sync", job_catalog.IMPORT_AMAZON_ORDERS, account_id,
                       job_id=job_catalog.amazon_orders_id(account_id, window), unique=True,
                       retry=job_catalog.POLL_RETRY)
    return len(ids)


@job
def push_quantities(shop_id: int, full: bool = False) -> dict:
    """The shop's dirty SKUs (or, with ``full``, every known SKU) to Amazon, changed values only."""
    if full:
        return amazon_quantities.push_quantities(shop_id).as_dict()
    skus = amazon_quantities.take_dirty(shop_id)
    if not skus:
        return {}
    try:
        return amazon_quantities.push_quantities(shop_id, skus).as_dict()
    except Exception:
        amazon_quantities.put_back(shop_id, skus)  # the retry (or the next change) pushes them
        raise


@job
def push_all_quantities() -> int:
    """Cron (nightly): a full compare-and-push per shop with an Amazon account heals drift."""
    from sqlalchemy import select

    from integration.extensions import db
    from integration.models.amazon import AmazonAccount

    shop_ids = sorted(set(db.session.execute(select(AmazonAccount.shop_id).where(
        AmazonAccount.active.is_(True))).scalars().all()))
    db.session.commit()
    for shop_id in shop_ids:
        queues.enqueue("sync", job_catalog.PUSH_AMAZON_QUANTITIES, shop_id, True,
                       job_id=job_catalog.amazon_push_full_id(shop_id, f"{utcnow():%Y%m%d}"), unique=True)
    return len(shop_ids)


@job
def confirm_shipment(shipment_id: int) -> str:
    return amazon_channel.confirm_amazon_shipment(shipment_id)


@job
def confirm_pending(older_than_minutes: int = 0) -> int:
    """Cron safety net: shipments of MFN orders not yet confirmed on Amazon get a job."""
    ids = amazon_channel.unconfirmed_shipment_ids(utcnow() - timedelta(minutes=older_than_minutes))
    # A finished job under the same id (it found the account disconnected) is replaced; a queued,
    # retrying or running one is left alone.
    enqueue_unless_alive("sync", job_catalog.CONFIRM_AMAZON_SHIPMENT,
                         [(job_catalog.amazon_confirm_id(shipment_id), (shipment_id,)) for shipment_id in ids])
    return len(ids)


@job
def erase_addresses() -> int:
    return amazon_channel.erase_addresses()
