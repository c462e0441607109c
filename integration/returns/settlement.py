"""An inspected return is settled: refunded in Shopify, or processed without a refund and its
exchange sent from the same local warehouse.

``process_return`` is keyed by the return (exactly once at Shopify, even when our record of the
answer was lost), and the replacement parcel is recorded once per return; the notices go once.
"""

from __future__ import annotations

from decimal import Decimal

import structlog
from sqlalchemy import select

from integration.extensions import db
from integration.models import Order, OrderLine, Return, ReturnLine, ReturnState, Shop, ShopStatus
from integration.models.base import utcnow
from integration.returns import notify
from integration.returns.replacements import send_replacement
from integration.returns.timeline import record_event
from integration.shops.alerts import raise_alert
from integration.shops.shopify_client import store_for

log = structlog.get_logger(__name__)


def process_key(return_id: int) -> str:
    return f"nearstock-return-{return_id}"


def settle(return_id: int) -> str:
    ret = db.session.get(Return, return_id)
    if ret is None or ret.status != ReturnState.INSPECTED:
        return ret.status if ret else "gone"
    shop = db.session.get(Shop, ret.shop_id)
    if shop.status != ShopStatus.INSTALLED:
        return "shop_not_installed"
    order = db.session.get(Order, ret.order_id)
    lines = db.session.execute(select(ReturnLine).where(ReturnLine.return_id == ret.id)
                               .order_by(ReturnLine.id)).scalars().all()
    received = [ln for ln in lines if ln.received > 0]
    refund = ret.kind == "refund"
    if not received:  # inspected with nothing of ours in the parcel: the merchant looks at it
        raise_alert(ret.shop_id, "return_empty", f"return:{ret.id}",
                    f"The return of order {order.name or order.external_id} reached the warehouse without its items",
                    {"return_id": ret.id})
    elif ret.processed_at is None:
        # Only what reached the warehouse is refunded (or exchanged).
        processed = store_for(shop).process_return(
            ret.shopify_return_id, [(ln.shopify_line_id, ln.received) for ln in received],
            refund=refund, key=process_key(ret.id))
        ret.processed_at, ret.refund_id = utcnow(), processed.refund_id
        if refund:
            ret.refund_amount = _value(received)
        record_event(ret.id, "processed", {"refund_id": processed.refund_id})
        db.session.commit()
    if refund:
        if received:
            notify.about_return(ret, "refund_processed", {
                "amount": str(ret.refund_amount), "currency": order.currency,
                "items": notify.return_items(ret.id)})
    elif ret.outbound_id is None and received:
        outbound_id = send_replacement(
            order, ret.warehouse_id, [(ln.order_line_id, ln.exchange_sku or ln.sku, ln.received) for ln in received],
            purpose=f"return:{ret.id}", tag=f"R{ret.id}")
        ret = db.session.get(Return, return_id)
        if outbound_id is None:
            raise_alert(ret.shop_id, "exchange_short", f"return:{ret.id}",
                        f"The exchange for order {order.name or order.external_id} waits for stock at its warehouse",
                        {"return_id": ret.id})
            ret.last_error = "the exchange's items are not in stock at the return's warehouse"
            db.session.commit()
            return "waiting_for_stock"
        ret.outbound_id = outbound_id
    ret.status, ret.closed_at, ret.last_error = ReturnState.CLOSED, utcnow(), None
    record_event(ret.id, "closed", {"kind": ret.kind, "outbound_id": ret.outbound_id})
    db.session.commit()
    log.info("return.closed", return_id=ret.id, kind=ret.kind, refund=str(ret.refund_amount))
    return ret.status


def _value(lines: list[ReturnLine]) -> Decimal:
    """What the returned units cost the customer (their order lines' unit prices)."""
    prices = dict(db.session.execute(select(OrderLine.id, OrderLine.price).where(
        OrderLine.id.in_([ln.order_line_id for ln in lines if ln.order_line_id]))).all())
    return sum((prices.get(ln.order_line_id) or Decimal(0)) * ln.received for ln in lines) or Decimal("0.00")
