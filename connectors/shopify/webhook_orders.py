"""``orders/create``, ``orders/updated`` and ``orders/cancelled`` bodies -> :class:`OrderData`,
with its customer, addresses and line items. Every order topic carries the whole order; a
cancellation must say when it happened. Field reading rules: :mod:`connectors.shopify.webhook_fields`.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from connectors.shopify.webhook_fields import MAX_QUANTITY, Body, fail
from integration.domain.orders import Address, Customer, OrderData, OrderLineData

MAX_LINES = 5000


def _address(order: Body, key: str) -> Address | None:
    raw = order.child(key)
    if raw is None:
        return None
    texts = [f.name for f in fields(Address) if not f.name.endswith("_code")]  # codes are read strictly
    address = Address(
        **{name: raw.text(name, 255) for name in texts},
        province_code=raw.code("province_code", 16),
        country_code=raw.code("country_code", 2),
    )
    return address if address.as_dict() else None


def _customer(order: Body) -> Customer | None:
    raw = order.child("customer")
    if raw is None:
        return None
    return Customer(
        id=raw.optional_gid("Customer"),
        email=raw.code("email", 320),
        phone=raw.code("phone", 64),
        first_name=raw.text("first_name", 255),
        last_name=raw.text("last_name", 255),
    )


def _line(line: Body) -> OrderLineData:
    quantity = line.integer("quantity", 0, MAX_QUANTITY)
    if quantity is None:
        raise fail(line.at("quantity"), "is missing")
    return OrderLineData(
        external_id=line.gid("LineItem"),
        name=line.text("name", 500) or line.text("title", 500) or "",
        quantity=quantity,
        current_quantity=line.integer("current_quantity", 0, MAX_QUANTITY),
        variant_external_id=line.optional_gid("ProductVariant", "variant_id"),
        product_external_id=line.optional_gid("Product", "product_id"),
        sku=line.text("sku", 255),
        price=line.money("price"),
    )


def parse_order(payload: Any) -> OrderData:
    """``orders/create``, ``orders/updated`` and ``orders/cancelled`` all carry the whole order."""
    order = Body(payload, "order")
    raw_lines = order.items("line_items", MAX_LINES) or []
    lines = tuple(_line(Body(raw, f"order.line_items[{i}]")) for i, raw in enumerate(raw_lines))
    if len({line.external_id for line in lines}) != len(lines):
        raise fail("order.line_items", "repeats a line item id")
    return OrderData(
        external_id=order.gid("Order"),
        name=order.text("name", 64) or "",
        updated_at=order.required_timestamp("updated_at"),
        created_at=order.timestamp("created_at"),
        email=order.code("email", 320) or order.code("contact_email", 320),
        phone=order.code("phone", 64),
        customer=_customer(order),
        shipping_address=_address(order, "shipping_address"),
        billing_address=_address(order, "billing_address"),
        locale=order.code("customer_locale", 16),
        currency=order.code("currency", 3),
        total_price=order.money("total_price"),
        financial_status=order.code("financial_status", 32),
        fulfillment_status=order.code("fulfillment_status", 32),
        cancelled_at=order.timestamp("cancelled_at"),
        lines=lines,
    )


def parse_cancelled_order(payload: Any) -> OrderData:
    order = parse_order(payload)
    if order.cancelled_at is None:
        raise fail("order.cancelled_at", "is missing")
    return order
