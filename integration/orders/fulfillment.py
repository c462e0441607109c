"""Shipments and tracking events, told to Shopify exactly once each.

Before creating anything the job re-reads Shopify (the order's fulfillments, the fulfillment's
events): a job that died after Shopify created the object but before we stored its id finds it
there instead of creating a second one.
"""

from __future__ import annotations

from collections import Counter

import structlog
from sqlalchemy import select

from connectors.errors import PermanentError, RetryableError
from integration import job_catalog
from integration.domain.channels import TrackingInfo
from integration.domain.ports import ShopifyStore
from integration.domain.warehousing import ExceptionReason, TrackingStatus
from integration.extensions import db
from integration.models import Order, OutboundOrder, Shipment, Shop, ShopStatus, TrackingEventRow, Warehouse
from integration.shops.alerts import raise_alert
from integration.shops.shop_settings import get_settings
from integration.shops.shopify_client import store_for

log = structlog.get_logger(__name__)

OPEN_FO = {"OPEN", "IN_PROGRESS"}

# Our taxonomy -> Shopify's FulfillmentEventStatus (2026-07). None: nothing to tell Shopify.
EVENT_STATUS = {
    TrackingStatus.PENDING: None,
    TrackingStatus.INFO_RECEIVED: "CONFIRMED",
    TrackingStatus.IN_TRANSIT: "IN_TRANSIT",
    TrackingStatus.OUT_FOR_DELIVERY: "OUT_FOR_DELIVERY",
    TrackingStatus.ATTEMPT_FAIL: "ATTEMPTED_DELIVERY",
    TrackingStatus.DELIVERED: "DELIVERED",
    TrackingStatus.AVAILABLE_FOR_PICKUP: "READY_FOR_PICKUP",
    TrackingStatus.EXPIRED: None,
}
EXCEPTION_STATUS = {
    ExceptionReason.CUSTOMS_DELAY: "DELAYED",
    ExceptionReason.DELIVERY_DELAY: "DELAYED",
    ExceptionReason.FAILED_ATTEMPT: "ATTEMPTED_DELIVERY",
    ExceptionReason.ADDRESS_PROBLEM: "FAILURE",
    ExceptionReason.LOST: "FAILURE",
    ExceptionReason.DAMAGED: "FAILURE",
    ExceptionReason.RETURNED_TO_SENDER: "FAILURE",
}


def shopify_event_status(status: str, reason: str | None) -> str | None:
    tracking = TrackingStatus(status)
    if tracking == TrackingStatus.EXCEPTION:
        return EXCEPTION_STATUS.get(ExceptionReason(reason), "FAILURE") if reason else "FAILURE"
    return EVENT_STATUS[tracking]


def create_fulfillment(shipment_id: int) -> str | None:
    session = db.session
    shipment = session.get(Shipment, shipment_id)
    if shipment is None or shipment.shopify_fulfillment_id:
        return shipment.shopify_fulfillment_id if shipment else None
    order = session.get(Order, shipment.order_id)
    shop = session.get(Shop, shipment.shop_id)
    if shop.status != ShopStatus.INSTALLED or order.channel != "shopify":
        return None
    outbound = session.get(OutboundOrder, shipment.outbound_id)
    warehouse = session.get(Warehouse, outbound.warehouse_id)
    store = store_for(shop)

    existing = store.find_fulfillment_by_tracking(order.external_id, shipment.tracking_number)
    if existing is None:
        line_items = _match_lines(store, order, warehouse, shipment)
        if not line_items:
            raise_alert(shop.id, "fulfillment_failed", f"shipment:{shipment.id}",
                        f"Order {order.name}: shipped from {warehouse.name or warehouse.code} "
                        f"(tracking {shipment.tracking_number}) but Shopify has no open fulfillment order lines for it")
            session.commit()
            raise PermanentError(f"no open fulfillment order lines for shipment {shipment.id}", system="shopify")
        notify = get_settings(shop.id).customer_notices_by == "shopify"
        existing = store.create_fulfillment(
            line_items,
            tracking=TrackingInfo(company=shipment.carrier, number=shipment.tracking_number, url=shipment.tracking_url),
            notify_customer=notify,
        )
    shipment.shopify_fulfillment_id = existing.id
    session.commit()
    log.info("shipment.fulfilled", shipment_id=shipment.id, fulfillment=existing.id)
    # Events recorded before the fulfillment existed were waiting for it.
    from integration.extensions import queues

    for row_id in session.execute(select(TrackingEventRow.id).where(
            TrackingEventRow.shipment_id == shipment.id, TrackingEventRow.shopify_event_id.is_(None))).scalars():
        queues.enqueue("sync", job_catalog.PUSH_FULFILLMENT_EVENT, row_id,
                       job_id=job_catalog.fulfillment_event_after_fulfillment_id(row_id), unique=True)
    return existing.id


def _match_lines(store: ShopifyStore, order: Order, warehouse: Warehouse,
                 shipment: Shipment) -> dict[str, list[tuple[str, int]]]:
    """Fulfillment order lines for the shipped SKUs: the warehouse's location first, then any."""
    need = Counter()
    for sku, qty in shipment.lines or []:
        need[sku] += int(qty)
    if not need:  # the warehouse gave no per-package lines: the whole outbound shipped
        from integration.models import Allocation

        for a in db.session.execute(select(Allocation).where(Allocation.outbound_id == shipment.outbound_id)).scalars():
            need[a.sku] += a.quantity
    fos = [fo for fo in store.get_fulfillment_orders(order.external_id) if fo.status in OPEN_FO]
    fos.sort(key=lambda fo: fo.location_id != warehouse.location_shopify_id)
    picked: dict[str, list[tuple[str, int]]] = {}
    for fo in fos:
        for line in fo.lines:
            want = need.get(line.sku or "", 0)
            take = min(want, line.remaining_quantity)
            if take > 0:
                picked.setdefault(fo.id, []).append((line.id, take))
                need[line.sku] -= take
    return picked


def push_fulfillment_event(row_id: int) -> str | None:
    session = db.session
    row = session.get(TrackingEventRow, row_id)
    if row is None or row.shopify_event_id:
        return row.shopify_event_id if row else None
    status = shopify_event_status(row.status, row.reason)
    shipment = session.get(Shipment, row.shipment_id)
    if session.get(Order, shipment.order_id).channel != "shopify":
        status = None  # Amazon tracks its own orders' parcels from the confirmed tracking number
    if status is None:
        row.shopify_event_id = "-"  # nothing Shopify can show for this one
        session.commit()
        return None
    if not shipment.shopify_fulfillment_id:
        # create_fulfillment re-enqueues waiting events when it is done; retry covers a lost one.
        raise RetryableError("fulfillment not created yet", retry_after=30)
    shop = session.get(Shop, row.shop_id)
    if shop.status != ShopStatus.INSTALLED:
        return None
    store = store_for(shop)
    for event in store.get_fulfillment_events(shipment.shopify_fulfillment_id):
        if event.status == status and event.happened_at == row.occurred_at:
            row.shopify_event_id = event.id  # created by an earlier attempt that died
            session.commit()
            return event.id
    created = store.create_fulfillment_event(
        shipment.shopify_fulfillment_id, status, happened_at=row.occurred_at,
        message=row.description[:255] or None,
    )
    row.shopify_event_id = created.id
    session.commit()
    return created.id


def unfulfilled_shipment_ids(older_than, limit: int = 1000) -> list[int]:
    """Shipments whose fulfillment job may have been lost (sweeper)."""
    from integration.models.base import utcnow

    return list(db.session.execute(
        select(Shipment.id)
        .where(Shipment.shopify_fulfillment_id.is_(None), Shipment.created_at < utcnow() - older_than)
        .order_by(Shipment.id).limit(limit)
    ).scalars())


def unsent_event_ids(older_than, limit: int = 1000) -> list[int]:
    """Tracking events not yet told to Shopify whose job may have been lost (sweeper)."""
    from integration.models.base import utcnow

    return list(db.session.execute(
        select(TrackingEventRow.id).where(TrackingEventRow.shopify_event_id.is_(None),
                                          TrackingEventRow.created_at < utcnow() - older_than)
        .order_by(TrackingEventRow.id).limit(limit)
    ).scalars())
