"""Shipments back: a warehouse's "shipped" becomes a Shopify fulfillment with tracking, once;
carrier events become our normalised tracking events and Shopify fulfillment events, once each.

Reported twice (webhook and poll, or a redelivery) or out of order, an event changes nothing
beyond the first: shipments are unique per (outbound, tracking number), tracking events per
(shipment, status, time), reservations are consumed by flipping each allocation once, and a
shipment's status only moves to a later event.
"""

from __future__ import annotations

import structlog
from sqlalchemy import select, update

from integration import job_catalog, signals
from integration.domain.warehousing import Outbound, OutboundStatus, TrackingEvent, TrackingStatus
from integration.extensions import db, queues
from integration.models import (
    Allocation,
    AllocationStatus,
    Order,
    OutboundOrder,
    OutboundState,
    Shipment,
    StockLevel,
    TrackingEventRow,
)
from integration.models.base import utcnow
from integration.models.upsert import insert
from integration.stock.daily import record_levels
from integration.stock.push import ledger_changed

log = structlog.get_logger(__name__)




def record_outbound_state(outbound_id: int, result: Outbound) -> list[int]:
    """Apply the warehouse's view of an outbound order; returns ids of new shipments."""
    session = db.session
    outbound = session.get(OutboundOrder, outbound_id)
    if outbound is None or outbound.status in (OutboundState.CANCELLED, OutboundState.FAILED):
        return []
    outbound.warehouse_status = result.status.value
    if len(result.external_ids) > 1 and outbound.external_ids != list(result.external_ids):
        outbound.external_ids = list(result.external_ids)  # the warehouse split it after we pushed
    new_ids: list[int] = []
    for package in result.packages:
        if not package.tracking_number:
            continue
        inserted = session.execute(
            insert(Shipment).values(
                shop_id=outbound.shop_id, order_id=outbound.order_id, outbound_id=outbound.id,
                tracking_number=package.tracking_number[:128], carrier=package.carrier,
                tracking_url=package.tracking_url, lines=[[ln.sku, ln.quantity] for ln in package.lines],
                shipped_at=package.shipped_at or utcnow(), status=TrackingStatus.INFO_RECEIVED.value,
                created_at=utcnow(),
            ).on_conflict_do_nothing(index_elements=["outbound_id", "tracking_number"]).returning(Shipment.id)
        ).scalar()
        if inserted:
            new_ids.append(inserted)
            if outbound.purpose:  # a replacement: its own notice; the order's fulfillment is done
                signals.replacement_shipped(inserted, outbound.purpose)
            else:
                signals.send(signals.SHIPMENT_CREATED, shipment_id=inserted)
    if result.status in (OutboundStatus.SHIPPED, OutboundStatus.DELIVERED) and outbound.status == OutboundState.PUSHED:
        _consume(outbound)
        outbound.status = OutboundState.SHIPPED
        outbound.shipped_at = min((p.shipped_at for p in result.packages if p.shipped_at), default=utcnow())
    if result.status == OutboundStatus.DELIVERED and outbound.status == OutboundState.SHIPPED:
        outbound.status = OutboundState.DELIVERED
    session.commit()
    # A replacement parcel is none of the Shopify order's fulfillment orders: it is not fulfilled.
    for shipment_id in () if outbound.purpose else new_ids:
        queues.enqueue("sync", job_catalog.CREATE_FULFILLMENT, shipment_id, job_id=job_catalog.fulfill_id(shipment_id),
                       unique=True)
    if new_ids:
        log.info("shipment.recorded", outbound_id=outbound_id, shipments=new_ids)
    return new_ids


def _consume(outbound: OutboundOrder) -> None:
    """The parcel left: its units leave both our reservation and the shelf count, exactly once."""
    now = utcnow()
    allocations = db.session.execute(
        select(Allocation).where(Allocation.outbound_id == outbound.id, Allocation.status == AllocationStatus.RESERVED)
    ).scalars().all()
    if allocations:
        ledger_changed(outbound.shop_id, {a.sku for a in allocations})
    for a in sorted(allocations, key=lambda a: a.sku):
        flipped = db.session.execute(
            update(Allocation).where(Allocation.id == a.id, Allocation.status == AllocationStatus.RESERVED)
            .values(status=AllocationStatus.SHIPPED)
        ).rowcount
        if flipped:
            db.session.execute(
                update(StockLevel).where(StockLevel.warehouse_id == a.warehouse_id, StockLevel.sku == a.sku)
                .values(reserved=StockLevel.reserved - a.quantity,
                        on_hand=_floor_zero(StockLevel.on_hand - a.quantity), on_hand_as_of=now)
            )
    record_levels((a.warehouse_id, a.sku) for a in allocations)


def _floor_zero(expr):
    from sqlalchemy import case

    return case((expr < 0, 0), else_=expr)


def record_tracking(shipment_id: int, events: list[TrackingEvent]) -> list[int]:
    """Store new carrier events; advance the shipment's status to the latest; push each new event
    to Shopify (job) and announce the change. Returns the new event row ids."""
    session = db.session
    shipment = session.get(Shipment, shipment_id)
    if shipment is None:
        return []
    new_rows: list[int] = []
    for event in sorted(events, key=lambda e: e.occurred_at):
        row_id = session.execute(
            insert(TrackingEventRow).values(
                shop_id=shipment.shop_id, shipment_id=shipment.id, status=event.status.value,
                reason=event.reason.value if event.reason else None, occurred_at=event.occurred_at,
                description=event.description[:2000], location=(event.location or None),
                raw_code=event.raw_code, created_at=utcnow(),
            ).on_conflict_do_nothing(index_elements=["shipment_id", "status", "occurred_at"])
            .returning(TrackingEventRow.id)
        ).scalar()
        if row_id:
            new_rows.append(row_id)
    latest = max(events, key=lambda e: e.occurred_at, default=None)
    changed = False
    if latest is not None and (shipment.status_at is None or latest.occurred_at > shipment.status_at):
        changed = (shipment.status, shipment.status_reason) != (latest.status.value,
                                                                 latest.reason.value if latest.reason else None)
        shipment.status = latest.status.value
        shipment.status_reason = latest.reason.value if latest.reason else None
        shipment.status_at = latest.occurred_at
        if latest.status == TrackingStatus.DELIVERED:
            shipment.delivered_at = latest.occurred_at
    if changed:
        # Receivers (customer notices, loyalty) write in this same transaction.
        signals.shipment_tracking_changed(shipment.id, shipment.status, shipment.status_reason)
    session.commit()
    # Read again after the commit: a Shopify event waits for the parcel's fulfillment, and
    # create_fulfillment sends the waiting ones when it is done. Of the two, whichever commits
    # last sees the other's work, so every event is enqueued at least once and none is enqueued
    # only to fail "fulfillment not created yet" and wait for its retry.
    if new_rows and (shipment.shopify_fulfillment_id or session.get(Order, shipment.order_id).channel != "shopify"):
        for row_id in new_rows:
            queues.enqueue("sync", job_catalog.PUSH_FULFILLMENT_EVENT, row_id,
                           job_id=job_catalog.fulfillment_event_id(row_id), unique=True)
    return new_rows
