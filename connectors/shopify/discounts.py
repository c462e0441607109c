"""Customer-scoped, single-use discount codes (loyalty rewards and member perks).

Each code is limited to one customer through ``context.customers.add`` (``customerSelection`` is
deprecated in 2026-07), may be redeemed once (``usageLimit: 1``, ``appliesOncePerCustomer``) and
expires at ``endsAt``.
https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/discountCodeBasicCreate
https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/discountCodeFreeShippingCreate

Creating a code is not idempotent at Shopify, but codes are unique per shop: if a retry finds
the code ``TAKEN``, the existing code is looked up and returned.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from connectors.errors import PermanentError
from connectors.shopify import mapping
from connectors.shopify.client import ShopifyClient
from integration.domain.channels import DiscountCode

TAKEN = "TAKEN"


def create_basic_discount_code(
    client: ShopifyClient,
    *,
    code: str,
    title: str,
    customer_id: str,
    starts_at: datetime,
    ends_at: datetime | None,
    percentage: float | None = None,
    amount: Decimal | str | None = None,
    minimum_subtotal: Decimal | str | None = None,
    usage_limit: int = 1,
    combines_with_shipping: bool = True,
) -> DiscountCode:
    """A percentage (``0.1`` = 10 %) or fixed ``amount`` off the whole order, for one customer."""
    if (percentage is None) == (amount is None):
        raise ValueError("give exactly one of percentage or amount")
    if percentage is not None and not 0 < percentage <= 1:
        raise ValueError("percentage is a fraction between 0 and 1")
    value = (
        {"percentage": float(percentage)}
        if percentage is not None
        else {"discountAmount": {"amount": str(amount), "appliesOnEachItem": False}}
    )
    discount = _common(code, title, customer_id, starts_at, ends_at, usage_limit, minimum_subtotal)
    discount["customerGets"] = {"value": value, "items": {"all": True}}
    discount["combinesWith"] = {"shippingDiscounts": combines_with_shipping}
    data = client.execute("DiscountCodeBasicCreate", {"basicCodeDiscount": discount}, handled_codes={TAKEN})
    return _result(client, data["discountCodeBasicCreate"], code, "basic")


def create_free_shipping_code(
    client: ShopifyClient,
    *,
    code: str,
    title: str,
    customer_id: str,
    starts_at: datetime,
    ends_at: datetime | None,
    minimum_subtotal: Decimal | str | None = None,
    maximum_shipping_price: Decimal | str | None = None,
    usage_limit: int = 1,
) -> DiscountCode:
    """Free shipping to any destination, for one customer."""
    discount = _common(code, title, customer_id, starts_at, ends_at, usage_limit, minimum_subtotal)
    discount["destination"] = {"all": True}
    if maximum_shipping_price is not None:
        discount["maximumShippingPrice"] = str(maximum_shipping_price)
    data = client.execute(
        "DiscountCodeFreeShippingCreate",
        {"freeShippingCodeDiscount": discount},
        handled_codes={TAKEN},
    )
    return _result(client, data["discountCodeFreeShippingCreate"], code, "free_shipping")


def get_discount_code(client: ShopifyClient, code: str) -> DiscountCode | None:
    node = client.execute("DiscountCodeByCode", {"code": code}).get("codeDiscountNodeByCode")
    return mapping.discount_code(node, code) if node else None


def _common(code, title, customer_id, starts_at, ends_at, usage_limit, minimum_subtotal) -> dict:
    discount = {
        "code": code,
        "title": title,
        "startsAt": mapping.format_datetime(starts_at),
        "endsAt": mapping.format_datetime(ends_at),
        "context": {"customers": {"add": [customer_id]}},
        "usageLimit": usage_limit,
        "appliesOncePerCustomer": True,
    }
    if minimum_subtotal is not None:
        discount["minimumRequirement"] = {"subtotal": {"greaterThanOrEqualToSubtotal": str(minimum_subtotal)}}
    return discount


def _result(client: ShopifyClient, payload: dict, code: str, kind: str) -> DiscountCode:
    if payload.get("codeDiscountNode"):
        return mapping.discount_code(payload["codeDiscountNode"], code, kind)
    # Every user error was TAKEN (the client raised on anything else): a previous attempt whose
    # answer was lost may have created it.
    existing = get_discount_code(client, code)
    if existing is None or existing.kind != kind:
        raise PermanentError(f"discount code {code!r} is taken", field=["code"], code=TAKEN, system="shopify")
    return existing
