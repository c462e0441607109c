"""The admin's list of recent outbound orders (what was pushed to which warehouse, and where it
stands), newest first, each with its order's name, its warehouse's name and whether it is overdue:
still open after the warehouse's shipping promise (``sla_due_at``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from integration.extensions import db
from integration.models import Order, OutboundOrder, OutboundState, Warehouse
from integration.models.base import utcnow
from integration.warehouses.setup_validation import InvalidError

OUTBOUND_STATUSES = (OutboundState.PENDING, OutboundState.PUSHED, OutboundState.SHIPPED, OutboundState.DELIVERED,
                     OutboundState.CANCELLED, OutboundState.FAILED)
OPEN_STATUSES = (OutboundState.PENDING, OutboundState.PUSHED)


@dataclass(frozen=True)
class OutboundView:
    outbound: OutboundOrder
    order_name: str
    warehouse_name: str
    overdue: bool


def recent_outbound(shop_id: int, status: str | None = None, limit: int = 50) -> list[OutboundView]:
    """Newest first; ``status`` is one of OUTBOUND_STATUSES, or "open" (not shipped yet)."""
    query = (select(OutboundOrder, Order.name, Order.external_id, Warehouse.name, Warehouse.code)
             .join(Order, Order.id == OutboundOrder.order_id)
             .join(Warehouse, Warehouse.id == OutboundOrder.warehouse_id)
             .where(OutboundOrder.shop_id == shop_id).order_by(OutboundOrder.id.desc()).limit(limit))
    if status == "open":
        query = query.where(OutboundOrder.status.in_(OPEN_STATUSES))
    elif status is not None:
        if status not in OUTBOUND_STATUSES:
            raise InvalidError("status", f"must be open or one of {', '.join(OUTBOUND_STATUSES)}")
        query = query.where(OutboundOrder.status == status)
    now = utcnow()
    return [OutboundView(o, name or external_id, wname or code,
                         o.status in OPEN_STATUSES and o.sla_due_at is not None and o.sla_due_at < now)
            for o, name, external_id, wname, code in db.session.execute(query).all()]
