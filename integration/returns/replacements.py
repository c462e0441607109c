"""Replacement parcels (an exchange's new item, a reship of a lost or damaged parcel) leave the
same local warehouse through the order machinery (integration/orders: reserved, pushed, followed
like the order's own outbound orders), once per exchange or reship; when one ships, the customer
gets ``replacement_shipped`` with its carrier, tracking and delivery estimate."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select

from integration.extensions import db
from integration.models import Order, OrderLine, OutboundOrder, Shipment, Warehouse
from integration.notices.triggers import shipment_context
from integration.orders.allocation import allocate_replacement
from integration.returns import notify

log = structlog.get_logger(__name__)


def send_replacement(order: Order, warehouse_id: int, lines: list[tuple[int | None, str, int]], *, purpose: str,
                     tag: str) -> int | None:
    """Reserve and send ``lines`` ((order line id or None, sku, quantity)) from ``warehouse_id``;
    the outbound order's id (the same one on a repeat), or None when the stock is not there."""
    fallback = db.session.execute(select(OrderLine.id).where(OrderLine.order_id == order.id)
                                  .order_by(OrderLine.id).limit(1)).scalar()
    wanted = [(line_id or fallback, sku, qty) for line_id, sku, qty in lines if sku and qty > 0]
    return allocate_replacement(order.id, warehouse_id, wanted, purpose=purpose, tag=tag)


def on_replacement_shipped(shipment_id: int, purpose: str, **_: Any) -> int | None:
    """Receiver of ``replacement_shipped``: the customer's notice, in the shipment's transaction."""
    shipment = db.session.get(Shipment, shipment_id)
    order = db.session.get(Order, shipment.order_id) if shipment else None
    if order is None or order.cancelled_at is not None:
        return None
    outbound = db.session.get(OutboundOrder, shipment.outbound_id)
    warehouse = db.session.get(Warehouse, outbound.warehouse_id)
    context = shipment_context(shipment, order, warehouse)
    context.update(items=notify.order_items(order, shipment.lines or []), tracking_url=shipment.tracking_url)
    if context.get("estimate_from"):
        context["estimate"] = {"from": context["estimate_from"], "to": context["estimate_to"]}
    return notify.to_customer(order, "replacement_shipped", purpose, context)
