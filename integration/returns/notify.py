"""The customer's after-sales notices (kinds, subjects and context keys: returns-overview.md; the
templates are integration/notices'). Each is enqueued in the caller's transaction; the outbox's
unique (subject, kind, recipient) holds it to one e-mail however often a step runs."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select

from integration.extensions import db
from integration.models import Order, OrderLine, Return, ReturnLine
from integration.notices.outbox import enqueue_notice

log = structlog.get_logger(__name__)


def return_items(return_id: int) -> list[dict]:
    """What the customer sends back: title, SKU and quantity of each line."""
    rows = db.session.execute(
        select(ReturnLine.sku, ReturnLine.quantity, OrderLine.name)
        .outerjoin(OrderLine, OrderLine.id == ReturnLine.order_line_id)
        .where(ReturnLine.return_id == return_id).order_by(ReturnLine.id)).all()
    return [{"title": name or sku or "", "sku": sku, "quantity": qty} for sku, qty, name in rows]


def order_items(order: Order, lines: list[list]) -> list[dict]:
    """[[sku, qty], ...] of an order as notice items (titles from the order's lines)."""
    names = {line.sku: line.name for line in order.lines if line.sku}
    return [{"title": names.get(sku) or sku, "sku": sku, "quantity": qty} for sku, qty in lines]


def to_customer(order: Order, kind: str, subject: str, context: dict[str, Any]) -> int | None:
    """Enqueue ``kind`` to the order's customer, in the order's language."""
    nid = enqueue_notice(order.shop_id, kind, subject, order.email or "", locale=order.locale, context=context)
    if nid:
        log.info("notice.created", kind=kind, subject=subject, notification_id=nid)
    return nid


def about_return(ret: Return, kind: str, extra: dict[str, Any] | None = None) -> int | None:
    order = db.session.get(Order, ret.order_id)
    context = {"return_id": ret.id, "order_id": order.id, "order_name": order.name or f"#{order.external_id}",
               "items": return_items(ret.id), **(extra or {})}
    return to_customer(order, kind, f"return:{ret.id}", context)
