"""Inbound shipments followed at the warehouse until received (no provider pushes inbound status
to us: WINIT and Goodcang push nothing, ShipBob's WRO webhooks are not subscribed), and
withdrawn on request where the provider allows it.

State only moves forward (created -> in_transit -> received, or cancelled). When a shipment
leaves the warehouse's inbound count (received, cancelled) its SKUs' stock is read again at once,
so the ledger gains the arrived units and drops the inbound in one step, as the stock sync would.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import select, update

from connectors.errors import PermanentError
from integration.domain.warehousing import InboundShipment, InboundStatus
from integration.extensions import db
from integration.models import InboundShipmentRow, Warehouse
from integration.models.base import utcnow
from integration.shops.alerts import raise_alert
from integration.stock.ledger import apply_stock
from integration.warehouses.providers import provider_for_warehouse

log = structlog.get_logger(__name__)

ORDER = {"pending": 0, "created": 1, "in_transit": 2, "received": 3, "cancelled": 3, "failed": 3}
TRACKED = ("created", "in_transit")


def poll_inbound(inbound_id: int) -> str:
    inbound = db.session.get(InboundShipmentRow, inbound_id, populate_existing=True)
    if inbound is None or inbound.status not in TRACKED:
        return inbound.status if inbound else "gone"
    warehouse = db.session.get(Warehouse, inbound.warehouse_id)
    result = provider_for_warehouse(warehouse).get_inbound(inbound.reference, inbound.external_id or "")
    return record_state(inbound_id, result)


def cancel_inbound(inbound_id: int) -> str:
    inbound = db.session.get(InboundShipmentRow, inbound_id, populate_existing=True)
    if inbound is None or inbound.status != "created":
        return inbound.status if inbound else "gone"
    warehouse = db.session.get(Warehouse, inbound.warehouse_id)
    try:
        result = provider_for_warehouse(warehouse).cancel_inbound(inbound.reference, inbound.external_id or "")
    except PermanentError as exc:  # typically: the warehouse has started receiving it
        raise_alert(inbound.shop_id, "inbound_cancel_refused", f"inbound:{inbound.id}",
                    f"Inbound shipment {inbound.reference} was not cancelled: the warehouse refused ({exc})",
                    {"inbound_id": inbound.id, "reference": inbound.reference})
        db.session.commit()
        return "cancel_refused"
    return record_state(inbound_id, result)


def record_state(inbound_id: int, result: InboundShipment) -> str:
    """Move the shipment to what the warehouse says, never backwards; a shipment leaving the
    warehouse's inbound count has its SKUs' stock read again."""
    inbound = db.session.get(InboundShipmentRow, inbound_id)
    new = InboundStatus(result.status).value
    if ORDER[new] <= ORDER[inbound.status] and new != inbound.status:
        return inbound.status
    if new == inbound.status:
        return new
    values = {"status": new, "updated_at": utcnow()}
    if new == "received":
        values["received_at"] = utcnow()
    moved = db.session.execute(update(InboundShipmentRow).where(
        InboundShipmentRow.id == inbound_id, InboundShipmentRow.status == inbound.status).values(**values)).rowcount
    db.session.commit()
    db.session.expire(inbound)  # written by the statement above (the session keeps objects past commit)
    log.info("inbound.state", inbound_id=inbound_id, status=new, moved=bool(moved))
    if moved and new in ("received", "cancelled"):
        refresh_stock(inbound_id)
    return db.session.get(InboundShipmentRow, inbound_id).status


def refresh_stock(inbound_id: int) -> None:
    """Read the shipment's SKUs at its warehouse and store them through the ledger (which no
    longer adds this shipment to the reported inbound)."""
    inbound = db.session.get(InboundShipmentRow, inbound_id)
    warehouse = db.session.get(Warehouse, inbound.warehouse_id)
    skus = sorted({str(sku) for sku, _ in inbound.lines})
    records = provider_for_warehouse(warehouse).get_inventory(warehouse.code, skus)
    apply_stock(warehouse.id, [r for r in records if r.sku in skus and r.warehouse_code == warehouse.code],
                as_of=utcnow())


def open_inbound_ids(limit: int = 1000) -> list[int]:
    return list(db.session.execute(
        select(InboundShipmentRow.id).where(InboundShipmentRow.status.in_(TRACKED))
        .order_by(InboundShipmentRow.id).limit(limit)).scalars())


def pending_inbound_ids(older_than: timedelta, limit: int = 1000) -> list[int]:
    """Pending shipments whose create job may have been lost (the cron sends them again)."""
    return list(db.session.execute(
        select(InboundShipmentRow.id).where(InboundShipmentRow.status == "pending",
                                            InboundShipmentRow.created_at < utcnow() - older_than)
        .order_by(InboundShipmentRow.id).limit(limit)).scalars())
