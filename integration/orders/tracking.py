"""Carrier tracking for shipped outbound orders, pulled from the warehouse provider."""

from __future__ import annotations

from sqlalchemy import select

from integration.extensions import db
from integration.models import OutboundOrder, OutboundState, Shipment, Warehouse
from integration.orders.shipments import record_tracking
from integration.warehouses.providers import provider_for_warehouse


def poll_tracking(outbound_id: int) -> int:
    """Fetch the outbound's carrier events and record them per parcel; returns new event count."""
    outbound = db.session.get(OutboundOrder, outbound_id)
    if outbound is None or outbound.status not in (OutboundState.SHIPPED, OutboundState.DELIVERED):
        return 0
    shipments = db.session.execute(select(Shipment).where(Shipment.outbound_id == outbound_id)).scalars().all()
    if not shipments:
        return 0
    warehouse = db.session.get(Warehouse, outbound.warehouse_id)
    events = provider_for_warehouse(warehouse).tracking_events(outbound.reference)
    by_number = {s.tracking_number: s for s in shipments}
    grouped: dict[int, list] = {}
    for event in events:
        # Events name their parcel; a single-parcel outbound takes the ones that don't.
        shipment = by_number.get(event.tracking_number) or (shipments[0] if len(shipments) == 1 else None)
        if shipment is not None:
            grouped.setdefault(shipment.id, []).append(event)
    return sum(len(record_tracking(shipment_id, evs)) for shipment_id, evs in grouped.items())

