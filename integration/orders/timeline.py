"""One order's whole story, read from the rows each step left behind, ordered by time: received,
routed (which warehouse, why), pushed (the warehouse's order number), shipped (carrier, tracking),
the carrier's events up to delivered or an exception, the notices sent to the customer (kind,
language, status), the loyalty points it earned, the rating the customer gave.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import or_, select

from integration.domain.warehousing import TrackingStatus
from integration.extensions import db
from integration.models import Allocation, Order, OutboundOrder, OutboundState, Shipment, TrackingEventRow, Warehouse
from integration.models.loyalty import LoyaltyEntry
from integration.models.notification import Notification, OrderFeedback
from integration.orders.order_list import describe, safe_url

# Steps that happen at the same instant keep the order the story is told in.
STEPS = ("received", "routed", "pushed", "push_failed", "shipped", "tracking", "exception", "delivered",
         "notice", "points", "feedback", "cancelled")
_EXCEPTIONS = (TrackingStatus.EXCEPTION.value, TrackingStatus.ATTEMPT_FAIL.value, TrackingStatus.EXPIRED.value)
MAX_ERROR = 500
_NEVER = datetime.min.replace(tzinfo=UTC)


def order_timeline(shop_id: int, order_id: int, now: datetime | None = None) -> dict | None:
    """The order (as the list shows it) and its events, or None when the shop has no such order."""
    order = db.session.execute(select(Order).where(Order.id == order_id, Order.shop_id == shop_id)).scalar_one_or_none()
    if order is None:
        return None
    [summary] = describe([order], now)
    warehouses = {w.id: w.name or w.code for w in db.session.execute(
        select(Warehouse).where(Warehouse.shop_id == shop_id)).scalars()}
    events = [_event(order.external_created_at or order.created_at, "received",
                     channel=order.channel, country=order.shipping_country)]
    events += _routed(order, warehouses)
    outbounds = db.session.execute(select(OutboundOrder).where(OutboundOrder.order_id == order.id)
                                   .order_by(OutboundOrder.id)).scalars().all()
    events += _pushed(outbounds, warehouses)
    shipments = db.session.execute(select(Shipment).where(Shipment.order_id == order.id)
                                   .order_by(Shipment.id)).scalars().all()
    events += _shipped(shipments, {o.id: o for o in outbounds}, warehouses)
    entries = db.session.execute(select(LoyaltyEntry).where(LoyaltyEntry.shop_id == shop_id,
                                                            LoyaltyEntry.order_id == order.id)
                                 .order_by(LoyaltyEntry.id)).scalars().all()
    events += [_event(e.created_at, "points", kind=e.kind, points=e.points, rule=e.rule,
                      local=bool((e.detail or {}).get("local"))) for e in entries]
    events += _notices(shop_id, [s.id for s in shipments], [e.id for e in entries])
    feedback = db.session.execute(select(OrderFeedback).where(OrderFeedback.shop_id == shop_id,
                                                              OrderFeedback.order_id == order.id)).scalar_one_or_none()
    if feedback is not None:
        events.append(_event(feedback.updated_at or feedback.created_at, "feedback", rating=feedback.rating,
                             comment=feedback.comment))
    if order.cancelled_at is not None:
        events.append(_event(order.cancelled_at, "cancelled"))
    events.sort(key=lambda e: (e["at"] or _NEVER, STEPS.index(e["step"])))
    for e in events:
        e["at"] = e["at"].isoformat() if e["at"] is not None else None
    return {"order": summary, "events": events}


def _event(at: datetime | None, step: str, **fields) -> dict:
    return {"at": at, "step": step, **fields}


def _routed(order: Order, warehouses: dict[int, str]) -> list[dict]:
    """One event per warehouse the order was routed to (and one for what was backordered)."""
    groups: dict[int | None, list[Allocation]] = defaultdict(list)
    for a in db.session.execute(select(Allocation).where(Allocation.order_id == order.id)
                                .order_by(Allocation.id)).scalars():
        groups[a.warehouse_id].append(a)
    events = []
    for warehouse_id, rows in groups.items():
        events.append(_event(order.allocated_at or rows[0].created_at, "routed",
                             warehouse=_warehouse(warehouse_id, warehouses), reason=rows[0].route_reason,
                             detail=rows[0].reason, lines=[{"sku": a.sku, "quantity": a.quantity} for a in rows]))
    return events


def _pushed(outbounds, warehouses: dict[int, str]) -> list[dict]:
    events = []
    for o in outbounds:
        warehouse = _warehouse(o.warehouse_id, warehouses)
        if o.pushed_at is not None:
            events.append(_event(o.pushed_at, "pushed", warehouse=warehouse, reference=o.reference,
                                 external_id=o.external_id, external_ids=o.external_ids or [],
                                 ship_by=o.sla_due_at.isoformat() if o.sla_due_at else None))
        if o.status == OutboundState.FAILED:
            events.append(_event(o.updated_at, "push_failed", warehouse=warehouse, reference=o.reference,
                                 error=(o.last_error or "")[:MAX_ERROR]))
    return events


def _shipped(shipments, outbounds: dict[int, OutboundOrder], warehouses: dict[int, str]) -> list[dict]:
    events = []
    tracking = defaultdict(list)
    if shipments:
        for row in db.session.execute(select(TrackingEventRow).where(
                TrackingEventRow.shipment_id.in_([s.id for s in shipments]))
                .order_by(TrackingEventRow.occurred_at, TrackingEventRow.id)).scalars():
            tracking[row.shipment_id].append(row)
    for s in shipments:
        outbound = outbounds.get(s.outbound_id)
        due = outbound.sla_due_at if outbound is not None else None
        shipped_at = s.shipped_at or s.created_at
        parcel = {"tracking_number": s.tracking_number, "carrier": s.carrier}
        events.append(_event(shipped_at, "shipped", **parcel, tracking_url=safe_url(s.tracking_url),
                             warehouse=_warehouse(outbound.warehouse_id if outbound else None, warehouses),
                             sla=None if due is None else ("late" if shipped_at > due else "on_time")))
        delivered = False
        for row in tracking[s.id]:
            step = ("delivered" if row.status == TrackingStatus.DELIVERED.value
                    else "exception" if row.status in _EXCEPTIONS else "tracking")
            delivered = delivered or step == "delivered"
            events.append(_event(row.occurred_at, step, **parcel, status=row.status, reason=row.reason,
                                 description=row.description, location=row.location))
        if s.delivered_at is not None and not delivered:  # the warehouse said so without a carrier event
            events.append(_event(s.delivered_at, "delivered", **parcel, status=TrackingStatus.DELIVERED.value,
                                 reason=None, description="", location=None))
    return events


def _notices(shop_id: int, shipment_ids: list[int], entry_ids: list[int]) -> list[dict]:
    """The customer notices about this order: its parcels' (``shipment:<id>``, ``shipment:<id>:…``)
    and its points' (``loyalty-entry:<id>``); see integration.notices.triggers."""
    subjects = [f"shipment:{i}" for i in shipment_ids] + [f"loyalty-entry:{i}" for i in entry_ids]
    if not subjects:
        return []
    matches = [Notification.subject.in_(subjects)]
    matches += [Notification.subject.like(f"shipment:{i}:%") for i in shipment_ids]
    rows = db.session.execute(select(Notification).where(Notification.shop_id == shop_id, or_(*matches))
                              .order_by(Notification.id)).scalars()
    return [_event(n.sent_at or n.created_at, "notice", kind=n.kind, language=n.locale, status=n.status,
                   attempts=n.attempts) for n in rows]


def _warehouse(warehouse_id: int | None, names: dict[int, str]) -> dict | None:
    return {"id": warehouse_id, "name": names.get(warehouse_id, "")} if warehouse_id is not None else None

