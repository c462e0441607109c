"""Outbound orders at the warehouse: push, cancel, watch the SLA, poll for shipment.

Every step is safe to run twice or to die half-way: the warehouse keys the outbound order by our
``reference`` (a retried push gets the order it already created), state moves forward only, and
the attempt is counted before the call so a crash still leaves a trace.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import select

from connectors.errors import PermanentError, RetryableError
from integration import signals
from integration.domain.orders import Address
from integration.domain.warehousing import Line, Outbound, OutboundRequest, OutboundStatus
from integration.extensions import db
from integration.models import (
    Allocation,
    AllocationStatus,
    Order,
    OutboundOrder,
    OutboundState,
    Shop,
    ShopStatus,
    Warehouse,
)
from integration.models.base import utcnow
from integration.orders.allocation import release_outbound
from integration.shops.alerts import raise_alert
from integration.warehouses.providers import provider_for_warehouse

log = structlog.get_logger(__name__)

ADDRESS_FIELDS = set(Address.__dataclass_fields__)


def _lines(outbound_id: int) -> tuple[Line, ...]:
    totals: dict[str, int] = {}
    for a in db.session.execute(select(Allocation).where(
            Allocation.outbound_id == outbound_id,
            Allocation.status.in_((AllocationStatus.RESERVED, AllocationStatus.SHIPPED)))).scalars():
        totals[a.sku] = totals.get(a.sku, 0) + a.quantity
    return tuple(Line(sku, qty) for sku, qty in sorted(totals.items()))


def push_outbound(outbound_id: int) -> str:
    session = db.session
    outbound = session.get(OutboundOrder, outbound_id)
    if outbound is None or outbound.status != OutboundState.PENDING:
        return outbound.status if outbound else "gone"
    order = session.get(Order, outbound.order_id)
    shop = session.get(Shop, outbound.shop_id)
    if order.cancelled_at is not None or shop.status != ShopStatus.INSTALLED:
        release_outbound(outbound_id)
        return OutboundState.CANCELLED
    warehouse = session.get(Warehouse, outbound.warehouse_id)
    address = order.shipping_address or {}
    if not address.get("address1") or not address.get("country_code"):
        return _fail(outbound, order, "the order has no complete shipping address")
    request = OutboundRequest(
        reference=outbound.reference,
        warehouse_code=warehouse.code,
        ship_to=Address(**{k: v for k, v in address.items() if k in ADDRESS_FIELDS}),
        lines=_lines(outbound_id),
        email=order.email,
        order_name=order.name or None,
    )
    outbound.attempts += 1
    session.commit()
    try:
        result = provider_for_warehouse(warehouse).create_outbound(request)
    except PermanentError as exc:
        return _fail(outbound, order, str(exc))
    except RetryableError as exc:
        outbound.last_error = str(exc)[:2000]
        session.commit()
        raise
    outbound.status = OutboundState.PUSHED
    outbound.external_id = result.external_id
    outbound.external_ids = list(result.external_ids) if len(result.external_ids) > 1 else None
    outbound.warehouse_status = result.status.value
    outbound.pushed_at = utcnow()
    outbound.sla_due_at = outbound.pushed_at + timedelta(hours=warehouse.handling_hours)
    outbound.last_error = None
    session.commit()
    log.info("outbound.pushed", outbound_id=outbound_id, reference=outbound.reference, external_id=result.external_id)
    if result.status in (OutboundStatus.SHIPPED, OutboundStatus.DELIVERED):
        from integration.orders.shipments import record_outbound_state

        record_outbound_state(outbound_id, result)
    return outbound.status


def _fail(outbound: OutboundOrder, order: Order, why: str) -> str:
    outbound.status = OutboundState.FAILED
    outbound.last_error = why[:2000]
    raise_alert(outbound.shop_id, "outbound_failed", f"outbound:{outbound.id}",
                f"Order {order.name or order.external_id} could not be sent to the warehouse: {why}")
    db.session.commit()
    log.error("outbound.failed", outbound_id=outbound.id, error=why)
    return outbound.status


def cancel_outbound(outbound_id: int) -> str:
    """Cancel at the warehouse, then release the reservation; if it already shipped, say so."""
    session = db.session
    outbound = session.get(OutboundOrder, outbound_id)
    if outbound is None or outbound.status != OutboundState.PUSHED:
        return outbound.status if outbound else "gone"
    warehouse = session.get(Warehouse, outbound.warehouse_id)
    try:
        result = provider_for_warehouse(warehouse).cancel_outbound(outbound.reference)
    except PermanentError as exc:
        # Typically "already shipped": the parcel is on its way; the merchant must know.
        order = session.get(Order, outbound.order_id)
        raise_alert(outbound.shop_id, "cancel_failed", f"outbound:{outbound.id}",
                    f"Order {order.name or order.external_id} was cancelled but the warehouse refused: {exc}")
        session.commit()
        return "cancel_refused"
    if result.status == OutboundStatus.CANCELLED:
        release_outbound(outbound_id)
        return OutboundState.CANCELLED
    from integration.orders.shipments import record_outbound_state

    record_outbound_state(outbound_id, result)
    return outbound.status


def poll_outbound(outbound_id: int) -> str:
    """For providers that do not push shipments: ask for the outbound's state."""
    outbound = db.session.get(OutboundOrder, outbound_id)
    if outbound is None or outbound.status not in (OutboundState.PUSHED, OutboundState.SHIPPED):
        return outbound.status if outbound else "gone"
    warehouse = db.session.get(Warehouse, outbound.warehouse_id)
    result: Outbound = provider_for_warehouse(warehouse).get_outbound(outbound.reference)
    from integration.orders.shipments import record_outbound_state

    record_outbound_state(outbound_id, result)
    return db.session.get(OutboundOrder, outbound_id).status


def open_outbound_ids(limit: int = 1000) -> list[int]:
    return list(db.session.execute(
        select(OutboundOrder.id).where(OutboundOrder.status.in_((OutboundState.PUSHED, OutboundState.SHIPPED)))
        .order_by(OutboundOrder.id).limit(limit)
    ).scalars())


def pending_outbound_ids(older_than: timedelta, limit: int = 1000) -> list[int]:
    """Pending outbound orders whose push job may have been lost (sweeper)."""
    return list(db.session.execute(
        select(OutboundOrder.id).where(OutboundOrder.status == OutboundState.PENDING,
                                       OutboundOrder.created_at < utcnow() - older_than)
        .order_by(OutboundOrder.id).limit(limit)
    ).scalars())


def check_sla(now=None) -> int:
    """Alert the merchant once per outbound order not shipped within the warehouse's handling time,
    and announce it (``ship_by_missed``: the customer's delay notice, see integration/wiring.py)."""
    now = now or utcnow()
    late = db.session.execute(
        select(OutboundOrder).where(OutboundOrder.status == OutboundState.PUSHED,
                                    OutboundOrder.sla_due_at < now, OutboundOrder.sla_alerted_at.is_(None))
        .limit(1000)
    ).scalars().all()
    for outbound in late:
        order = db.session.get(Order, outbound.order_id)
        warehouse = db.session.get(Warehouse, outbound.warehouse_id)
        hours = round((now - outbound.pushed_at).total_seconds() / 3600, 1)
        raise_alert(outbound.shop_id, "sla_breached", f"outbound:{outbound.id}",
                    f"Order {order.name or order.external_id} has not shipped from {warehouse.name or warehouse.code} "
                    f"{hours} h after it was sent (promise: {warehouse.handling_hours} h)",
                    {"outbound_id": outbound.id, "reference": outbound.reference})
        signals.ship_by_missed(outbound.id, now)
        outbound.sla_alerted_at = now
    db.session.commit()
    return len(late)
