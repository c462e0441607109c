"""The mandatory compliance (privacy law) topics: ``customers/data_request`` and
``customers/redact`` -> :class:`PrivacyRequest`, ``shop/redact`` -> :class:`ShopRedact`. The shop
is named by its myshopify.com domain, checked strictly; its ids are numeric, so gids are built
from them. Field reading rules: :mod:`connectors.shopify.webhook_fields`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from connectors.shopify.webhook_fields import MAX_ID_DIGITS, Body, fail, gid_of
from integration.domain.orders import PrivacyRequest

MAX_ORDER_IDS = 5000
_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")

# https://shopify.dev/docs/apps/build/privacy-law-compliance: {shop_id, shop_domain, customer:
# {id, email, phone}, orders_requested | orders_to_redact, data_request: {id}}; shop/redact has
# only {shop_id, shop_domain}.


@dataclass(frozen=True)
class ShopRedact:
    shop_domain: str
    shop_id: str | None


def _shop_domain(body: Body) -> str:
    domain = body.required_code("shop_domain", 255)
    if not _DOMAIN.fullmatch(domain):
        raise fail(body.at("shop_domain"), "must be a myshopify.com domain")
    return domain


def parse_privacy_request(payload: Any, topic: str) -> PrivacyRequest:
    """``customers/data_request`` and ``customers/redact``."""
    body = Body(payload, topic)
    customer = body.child("customer") or Body({}, body.at("customer"))
    orders_key = "orders_requested" if topic == "customers/data_request" else "orders_to_redact"
    orders = body.items(orders_key, MAX_ORDER_IDS) or []
    data_request = body.child("data_request")
    request_id = data_request.integer("id", 1, 10**MAX_ID_DIGITS) if data_request else None
    request = PrivacyRequest(
        shop_domain=_shop_domain(body),
        customer_id=customer.optional_gid("Customer"),
        email=customer.code("email", 320),
        phone=customer.code("phone", 64),
        order_ids=tuple(gid_of(o, "Order", f"{body.at(orders_key)}[{i}]") for i, o in enumerate(orders)),
        request_id=None if request_id is None else str(request_id),
    )
    if request.customer_id is None and request.email is None and not request.order_ids:
        raise fail(body.at("customer"), "names no customer")
    return request


def parse_shop_redact(payload: Any) -> ShopRedact:
    body = Body(payload, "shop/redact")
    return ShopRedact(shop_domain=_shop_domain(body), shop_id=body.optional_gid("Shop", "shop_id"))
