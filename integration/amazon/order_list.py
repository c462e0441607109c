"""The shop's imported Amazon orders for the admin: marketplace, account, and where each order's
shipment confirmations to Amazon stand.

The state is computed in SQL (so the list can be filtered on it and paginated on the server):

* ``fulfilled_by_amazon``: an AFN order, which Amazon ships itself; nothing to confirm.
* ``cancelled``: cancelled before anything shipped.
* ``unshipped``: merchant-fulfilled, no parcel shipped yet.
* ``failed``: a parcel's ``confirmShipment`` was refused (its error is shown).
* ``pending``: parcels shipped, not all confirmed to Amazon yet.
* ``confirmed``: every parcel confirmed.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, case, exists, func, select

from integration.domain.channels import CHANNEL_AFN
from integration.models import Order, Shipment
from integration.models.amazon import AmazonAccount, AmazonOrder, AmazonShipmentConfirmation

STATES = ("fulfilled_by_amazon", "cancelled", "unshipped", "failed", "pending", "confirmed")


def _state_columns():
    shipments = (select(func.count()).select_from(Shipment).where(Shipment.order_id == Order.id)
                 .correlate(Order).scalar_subquery())
    confirmed = (select(func.count()).select_from(AmazonShipmentConfirmation)
                 .where(AmazonShipmentConfirmation.order_id == Order.id,
                        AmazonShipmentConfirmation.confirmed_at.is_not(None))
                 .correlate(Order).scalar_subquery())
    refused = and_(AmazonShipmentConfirmation.order_id == Order.id,
                   AmazonShipmentConfirmation.confirmed_at.is_(None), AmazonShipmentConfirmation.error.is_not(None))
    last_error = (select(AmazonShipmentConfirmation.error).where(refused)
                  .order_by(AmazonShipmentConfirmation.created_at.desc()).limit(1)
                  .correlate(Order).scalar_subquery())
    state = case(
        (Order.channel == CHANNEL_AFN, "fulfilled_by_amazon"),
        (and_(Order.cancelled_at.is_not(None), shipments == 0), "cancelled"),
        (shipments == 0, "unshipped"),
        (exists().where(refused).correlate(Order), "failed"),
        (confirmed >= shipments, "confirmed"),
        else_="pending",
    )
    return shipments, confirmed, last_error, state


def orders_query(shop_id: int, state: str | None = None) -> Select:
    """The shop's Amazon orders, newest first, optionally only those in ``state`` (one of
    :data:`STATES`, checked by the caller)."""
    shipments, confirmed, last_error, state_expr = _state_columns()
    query = (
        select(Order.id, Order.name, Order.external_id, Order.channel, Order.shipping_country, Order.currency,
               Order.total_price, Order.external_created_at, Order.created_at, Order.cancelled_at,
               AmazonOrder.marketplace_id, AmazonAccount.id.label("account_id"),
               AmazonAccount.name.label("account_name"), shipments.label("shipments"),
               confirmed.label("confirmed"), last_error.label("confirmation_error"), state_expr.label("state"))
        .join(AmazonOrder, AmazonOrder.order_id == Order.id)
        .join(AmazonAccount, AmazonAccount.id == AmazonOrder.account_id)
        .where(Order.shop_id == shop_id, AmazonAccount.shop_id == shop_id)
        .order_by(Order.id.desc())
    )
    if state is not None:
        query = query.where(state_expr == state)
    return query


def order_json(row) -> dict:
    m = row._mapping
    created = m["external_created_at"] or m["created_at"]
    return {
        "id": m["id"], "name": m["name"], "amazon_order_id": m["external_id"],
        "fulfillment": "amazon" if m["channel"] == CHANNEL_AFN else "merchant",
        "marketplace_id": m["marketplace_id"], "account": {"id": m["account_id"], "name": m["account_name"]},
        "country": m["shipping_country"], "currency": m["currency"],
        "total": None if m["total_price"] is None else str(m["total_price"]),
        "created_at": created.isoformat() if created else None,
        "shipments": m["shipments"], "confirmed": m["confirmed"], "state": m["state"],
        "confirmation_error": (m["confirmation_error"] or "")[:500] or None,
    }
