"""Orders in, from any sales channel: stored if newer than the copy we hold, then announced.

Shopify's order webhooks (integration/inbox/shopify_handlers.py) and Amazon's order import
(integration/amazon/channel.py) both store through :func:`store_order`; ``order_changed`` then
starts allocation (integration/wiring.py). Writes are "newer only" on the order's ``updated_at``
(:mod:`integration.models.upsert`), so a duplicate or late older copy changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import delete, select, update

from integration import signals
from integration.domain.orders import OrderData
from integration.extensions import db
from integration.models import Fulfillment, Order, OrderLine
from integration.models.upsert import upsert, upsert_if_newer

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class StoredOrder:
    order_id: int
    applied: bool
    """False: the stored copy was as new or newer, nothing changed."""
    redacted: bool
    """The customer asked to be forgotten: the order keeps no personal data, whatever arrives."""


def store_order(shop_id: int, order: OrderData) -> StoredOrder:
    """Insert or update an order and its lines if this copy is newer than the stored one; any
    channel's import can use it. Sends ``order_changed`` when something was stored."""
    values = {
        "name": order.name,
        "customer_external_id": order.customer.id if order.customer else None,
        "email": order.contact_email,
        "phone": order.contact_phone,
        "customer_name": (order.customer_name or "")[:255] or None,
        "shipping_address": order.shipping_address.as_dict() if order.shipping_address else None,
        "billing_address": order.billing_address.as_dict() if order.billing_address else None,
        "shipping_country": order.shipping_country,
        "locale": order.locale,
        "currency": order.currency,
        "total_price": order.total_price,
        "financial_status": order.financial_status,
        "fulfillment_status": order.fulfillment_status,
        "cancelled_at": order.cancelled_at,
        "external_created_at": order.created_at,
    }
    key = {"shop_id": shop_id, "channel": order.channel, "external_id": order.external_id}
    result = upsert_if_newer(Order, key, values, order.updated_at)
    order_id, redacted_at = db.session.execute(select(Order.id, Order.redacted_at).where(
        Order.shop_id == shop_id, Order.channel == order.channel, Order.external_id == order.external_id)).one()
    if redacted_at is not None and result.applied:
        # Erased on the customer's request: a newer copy updates the order, never its personal data.
        db.session.execute(update(Order.__table__).where(Order.id == order_id).values(
            dict.fromkeys(Order.__pii__)))
    if not result.applied:
        log.info("order.stale_copy_ignored", order=order.external_id, updated_at=order.updated_at.isoformat())
        return StoredOrder(order_id, False, redacted_at is not None)
    for line in order.lines:
        upsert(OrderLine, {"order_id": order_id, "external_id": line.external_id}, {
            "variant_external_id": line.variant_external_id,
            "sku": line.sku,
            "name": line.name,
            # What is still to ship: units removed by an order edit or refund are not routed.
            "quantity": line.open_quantity,
            "price": line.price,
        })
    if order.lines:  # a body without line_items (filtered webhook) says nothing about them
        db.session.execute(delete(OrderLine.__table__).where(
            OrderLine.order_id == order_id, OrderLine.external_id.not_in([line.external_id for line in order.lines])))
    # Fulfillments that overtook their order's creation are linked now.
    db.session.execute(update(Fulfillment.__table__).where(
        Fulfillment.shop_id == shop_id, Fulfillment.order_external_id == order.external_id,
        Fulfillment.order_id.is_(None)).values(order_id=order_id))
    log.info("order.stored", order=order.external_id, order_id=order_id, created=result.created)
    signals.order_changed(order_id)
    return StoredOrder(order_id, True, redacted_at is not None)
