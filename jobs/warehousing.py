"""Warehouse jobs: allocate, push, cancel, poll shipments and tracking, tell Shopify, SLA watch.

All take ids and re-read state; each is safe to run twice or to be killed half-way.
"""

from __future__ import annotations

from datetime import timedelta

from integration import job_catalog
from integration.extensions import db, queues
from integration.job_liveness import enqueue_unless_alive
from integration.models import Order, OutboundState, Shipment
from integration.orders import allocation, outbound, tracking
from integration.orders import fulfillment as shopify_fulfillment
from jobs.runtime import job, retried_until_next_round


@job
def sync_order(order_id: int) -> str:
    """An order was stored or changed: allocate it, or release it if it was cancelled."""
    order = db.session.get(Order, order_id)
    if order is None:
        return "gone"
    if order.cancelled_at is not None:
        for outbound_id in allocation.release_order(order_id):
            queues.enqueue("sync", job_catalog.CANCEL_OUTBOUND, outbound_id,
                           job_id=job_catalog.cancel_outbound_id(outbound_id), unique=True)
        return "released"
    return allocation.allocate_order(order_id).status


@job
def push_outbound(outbound_id: int) -> str:
    return outbound.push_outbound(outbound_id)


@job
def cancel_outbound(outbound_id: int) -> str:
    return outbound.cancel_outbound(outbound_id)


@job
@retried_until_next_round
def poll_outbound(outbound_id: int) -> str:
    status = outbound.poll_outbound(outbound_id)
    if status in (OutboundState.SHIPPED, OutboundState.DELIVERED):
        tracking.poll_tracking(outbound_id)
    return status


@job
def poll_open_outbounds() -> int:
    """Cron: providers that do not push shipments are asked about every open outbound order."""
    ids = outbound.open_outbound_ids()
    # One poll per outbound at a time: a round that overlaps a slow previous one (a backlog)
    # adds nothing for the outbounds whose poll is still waiting or running. On the low queue:
    # a round is hundreds of jobs at once, and the work of each order (push, fulfil, earn) must
    # not wait behind it; workers take low when sync is empty.
    enqueue_unless_alive("low", job_catalog.POLL_OUTBOUND,
                         [(job_catalog.poll_outbound_id(outbound_id), (outbound_id,)) for outbound_id in ids],
                         retry=job_catalog.POLL_RETRY)
    return len(ids)


@job
def sweep_warehouse_work(older_than_minutes: int = 10) -> int:
    """Cron: work whose job was lost (a commit followed by a failed enqueue, a worker killed
    between dequeue and start) is enqueued again. Each job re-reads state, so a duplicate of a
    job that was not lost after all does nothing; and one sweep job per item at a time, so a
    backlog older than ``older_than_minutes`` is not copied again by every sweep."""
    older_than = timedelta(minutes=older_than_minutes)
    swept = 0
    for func, ids, usual in (
        (job_catalog.SYNC_ORDER, allocation.unallocated_order_ids(older_than), ()),
        (job_catalog.PUSH_OUTBOUND, outbound.pending_outbound_ids(older_than), (job_catalog.push_outbound_id,)),
        (job_catalog.CREATE_FULFILLMENT, shopify_fulfillment.unfulfilled_shipment_ids(older_than),
         (job_catalog.fulfill_id,)),
        (job_catalog.PUSH_FULFILLMENT_EVENT, shopify_fulfillment.unsent_event_ids(older_than),
         (job_catalog.fulfillment_event_id, job_catalog.fulfillment_event_after_fulfillment_id)),
    ):
        # The job ids the flow itself uses (allocation, shipments, shopify_fulfillment): while
        # one of them is still waiting or running, the item is not lost.
        swept += enqueue_unless_alive(
            "sync", func, [(job_catalog.sweep_id(func, item_id), (item_id,)) for item_id in ids],
            also=lambda item_id, usual=usual: [job_id(item_id) for job_id in usual])
    return swept


@job
def check_sla() -> int:
    return outbound.check_sla()


@job
def create_fulfillment(shipment_id: int) -> str | None:
    """Tell the sales channel the parcel left: a Shopify fulfillment, or Amazon's confirmShipment."""
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is not None and db.session.get(Order, shipment.order_id).channel == "amazon":
        queues.enqueue("sync", job_catalog.CONFIRM_AMAZON_SHIPMENT, shipment_id,
                       job_id=job_catalog.amazon_confirm_id(shipment_id),
                       unique=True)
        return None
    return shopify_fulfillment.create_fulfillment(shipment_id)


@job
def push_fulfillment_event(row_id: int) -> str | None:
    return shopify_fulfillment.push_fulfillment_event(row_id)
