"""``refunds/create``: a refund takes back the points of what it refunded.

https://shopify.dev/docs/api/webhooks?reference=toml#list-of-topics-refunds/create
The body is the REST Refund: ``id``, ``order_id``, ``created_at``/``processed_at``,
``refund_line_items[]`` (``quantity``, ``line_item_id``, ``line_item.sku``, ``subtotal``) and
``transactions[]`` (``kind`` refund, ``status`` success, ``amount``). A refund that names lines takes
back those units' points; one that names none (an amount refunded by hand) takes back its share of
the order total, minus what it refunds of shipping. Each refund is stored once under its id, so a
redelivery changes nothing; the order's reversals are then reconciled in the handler's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import structlog
from sqlalchemy import select

from connectors.errors import PermanentError
from integration.extensions import db
from integration.inbox.shopify_handlers import installed_shop
from integration.loyalty.earning import reconcile_order
from integration.models import Order, OrderLine, Shop, WebhookEvent, upsert
from integration.models.base import utcnow
from integration.models.loyalty import LoyaltyRefund

log = structlog.get_logger(__name__)

MAX_LINES = 1000


@dataclass(frozen=True)
class RefundData:
    external_id: str
    order_external_id: str
    refunded_at: datetime
    lines: tuple[tuple[str | None, str | None, int], ...]  # (sku, line item gid, quantity)
    amount: Decimal  # refunded without naming lines, shipping excluded


def _fail(where: str, message: str) -> PermanentError:
    return PermanentError(f"refund.{where} {message}", system="shopify", operation="refunds/create")


def _id(body: dict, key: str) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise _fail(key, "is not a numeric id")
    return int(value)


def _money(value: Any, where: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _fail(where, "is not an amount") from None
    if not number.is_finite():
        raise _fail(where, "is not an amount")
    return number


def _shop_money(body: dict, key: str) -> Decimal:
    value = body.get(key)
    if isinstance(value, dict):  # a *_set: {"shop_money": {"amount": "1.00"}}
        value = (value.get("shop_money") or {}).get("amount")
    return _money(value, key) if value is not None else Decimal(0)


def parse_refund(payload: Any) -> RefundData:
    if not isinstance(payload, dict):
        raise _fail("body", "is not an object")
    refund_id, order_id = _id(payload, "id"), _id(payload, "order_id")
    stamp = payload.get("processed_at") or payload.get("created_at")
    try:
        refunded_at = datetime.fromisoformat(str(stamp).replace("Z", "+00:00")) if stamp else utcnow()
    except ValueError:
        raise _fail("created_at", "is not a timestamp") from None
    if refunded_at.tzinfo is None:
        raise _fail("created_at", "has no offset")
    raw_lines = payload.get("refund_line_items") or []
    if not isinstance(raw_lines, list) or len(raw_lines) > MAX_LINES:
        raise _fail("refund_line_items", "is not a list")
    lines = []
    for i, raw in enumerate(raw_lines):
        if not isinstance(raw, dict):
            raise _fail(f"refund_line_items[{i}]", "is not an object")
        quantity = raw.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise _fail(f"refund_line_items[{i}].quantity", "is not a count")
        item = raw.get("line_item") if isinstance(raw.get("line_item"), dict) else {}
        sku = item.get("sku") if isinstance(item.get("sku"), str) and item.get("sku") else None
        line_id = raw.get("line_item_id") or item.get("id")
        gid = f"gid://shopify/LineItem/{line_id}" if str(line_id or "").isdigit() else None
        if quantity:
            lines.append((sku, gid, quantity))
    amount = Decimal(0)
    if not lines:
        for t in payload.get("transactions") or []:
            if isinstance(t, dict) and t.get("kind") == "refund" and t.get("status") in ("success", None):
                amount += _money(t.get("amount", 0), "transactions.amount")
        for s in payload.get("refund_shipping_lines") or []:
            if isinstance(s, dict):
                amount -= _shop_money(s, "subtotal_amount_set")
        for adj in payload.get("order_adjustments") or []:
            if isinstance(adj, dict) and adj.get("kind") == "shipping_refund":
                amount -= abs(_money(adj.get("amount", 0), "order_adjustments.amount"))
    return RefundData(external_id=f"gid://shopify/Refund/{refund_id}",
                      order_external_id=f"gid://shopify/Order/{order_id}", refunded_at=refunded_at,
                      lines=tuple(lines), amount=max(Decimal(0), amount).quantize(Decimal("0.01")))


def record_refund(shop_id: int, refund: RefundData) -> bool:
    """Store the refund once and reconcile its order's points (no commit). False: seen before."""
    order = db.session.execute(select(Order).where(
        Order.shop_id == shop_id, Order.channel == "shopify", Order.external_id == refund.order_external_id,
    )).scalar_one_or_none()
    skus = {}
    if order is not None:
        skus = {line.external_id: line.sku for line in db.session.execute(
            select(OrderLine).where(OrderLine.order_id == order.id)).scalars()}
    lines = [[sku or skus.get(gid or ""), quantity] for sku, gid, quantity in refund.lines]
    stored = db.session.execute(
        upsert.insert(LoyaltyRefund).values(
            shop_id=shop_id, external_id=refund.external_id, order_external_id=refund.order_external_id,
            lines=[line for line in lines if line[0]], amount=refund.amount, refunded_at=refund.refunded_at,
            created_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["shop_id", "external_id"]).returning(LoyaltyRefund.id)
    ).scalar()
    if stored is None:
        return False
    if order is not None:
        reversed_points = reconcile_order(order.id)
        log.info("loyalty.refund_recorded", shop_id=shop_id, order_id=order.id, refund=refund.external_id,
                 reversed=reversed_points)
    return True


@installed_shop
def refund_created(shop: Shop, event: WebhookEvent, payload: Any) -> None:
    record_refund(shop.id, parse_refund(payload))
