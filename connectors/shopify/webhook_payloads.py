"""Shopify webhook bodies -> frozen dataclasses. Only this module reads the webhooks' field names.

Webhooks carry the REST representation (https://shopify.dev/docs/api/webhooks, topic samples):
numeric ``id`` plus ``admin_graphql_api_id``. Everything we store is a GraphQL gid, so rows match
what the GraphQL client returns; where a body has only numbers (``inventory_levels/update``,
``products/delete``, ``locations/delete``, the compliance topics) the gid is built from them.

The body is hostile input even with a valid HMAC (a bug upstream, a leaked secret): every field is
type-checked, identifiers and codes must fit their columns or the event is rejected with
:class:`PermanentError` (no retry), free text is cut to its column size. Error messages name the
field, never its value, because they are stored and may otherwise copy personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.errors import PermanentError
from connectors.shopify.types import BulkOperation, InventoryLevel
from integration.domain.orders import Address, Customer, FulfillmentData, OrderData, OrderLineData, PrivacyRequest

MAX_ID_DIGITS = 20  # Shopify ids are 64-bit integers
MAX_LINES = 5000
MAX_VARIANTS = 2048  # Shopify allows 2,000 variants per product
MAX_ORDER_IDS = 5000
MAX_MONEY = Decimal(10) ** 12  # Numeric(14, 2)
MAX_QUANTITY = 10**7
_GID = re.compile(r"gid://shopify/([A-Za-z]+)/([0-9]{1,20})")
_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")
SYSTEM = "shopify"


# -- the catalog side: webhook-only shapes --------------------------------------------------
# connectors.shopify.types.Location / Variant describe GraphQL results and require fields the REST
# webhook does not carry (fulfillsOnlineOrders, a non-null inventory item); these carry the
# webhook's own version stamp instead.


@dataclass(frozen=True)
class LocationUpdate:
    id: str
    name: str
    active: bool
    updated_at: datetime
    address1: str | None = None
    city: str | None = None
    zip: str | None = None
    country_code: str | None = None


@dataclass(frozen=True)
class ProductVariantUpdate:
    id: str
    title: str
    sku: str | None = None
    barcode: str | None = None
    inventory_item_id: str | None = None
    """Often null in product webhooks: keep what the catalog import stored."""


@dataclass(frozen=True)
class ProductUpdate:
    id: str
    title: str
    updated_at: datetime
    variants: tuple[ProductVariantUpdate, ...]
    """Full details for at most the first 100 variants (Shopify's limit in product webhooks)."""
    all_variant_ids: tuple[str, ...] | None
    """Every variant of the product (``variant_gids``), or None when the body cannot tell: then
    absent variants must not be taken for deleted."""


@dataclass(frozen=True)
class InventoryLevelUpdate:
    level: InventoryLevel
    updated_at: datetime


@dataclass(frozen=True)
class ShopRedact:
    shop_domain: str
    shop_id: str | None


# -- field readers ----------------------------------------------------------------------------


def _fail(path: str, problem: str) -> PermanentError:
    return PermanentError(f"webhook body: {path} {problem}", field=path, code="invalid_payload", system=SYSTEM)


def _gid_of(value: Any, kind: str, path: str) -> str:
    """``gid://shopify/<kind>/N`` from a gid string or a positive integer id."""
    if isinstance(value, str) and value.startswith("gid://"):
        match = _GID.fullmatch(value)
        if match is None or match.group(1) != kind:
            raise _fail(path, f"must be a {kind} gid")
        return value
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdigit() or len(text) > MAX_ID_DIGITS or int(text) <= 0:
        raise _fail(path, "must be a positive integer id")
    return f"gid://shopify/{kind}/{int(text)}"


def _code_of(value: Any, path: str, max_len: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _fail(path, "must be a string")
    if len(value.strip()) > max_len:
        raise _fail(path, f"is longer than {max_len} characters")
    return value.strip() or None


class _Body:
    """One JSON object of the body, read field by field; ``path`` names it in error messages."""

    def __init__(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise _fail(path, "must be a JSON object")
        self.obj, self.path = value, path

    def at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def child(self, key: str) -> _Body | None:
        value = self.obj.get(key)
        return None if value is None else _Body(value, self.at(key))

    def items(self, key: str, limit: int) -> list | None:
        value = self.obj.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            raise _fail(self.at(key), "must be a list")
        if len(value) > limit:
            raise _fail(self.at(key), f"has more than {limit} items")
        return value

    def code(self, key: str, max_len: int) -> str | None:
        """An identifier-like string (status, currency, email): too long means a wrong body."""
        return _code_of(self.obj.get(key), self.at(key), max_len)

    def required_code(self, key: str, max_len: int) -> str:
        value = self.code(key, max_len)
        if value is None:
            raise _fail(self.at(key), "is missing")
        return value

    def text(self, key: str, max_len: int) -> str | None:
        """Human text (names, titles, address lines): cut to the column rather than lose it."""
        value = self.obj.get(key)
        if value is not None and not isinstance(value, str):
            raise _fail(self.at(key), "must be a string")
        return (value or "").strip()[:max_len] or None

    def boolean(self, key: str, default: bool) -> bool:
        value = self.obj.get(key)
        if value is not None and not isinstance(value, bool):
            raise _fail(self.at(key), "must be a boolean")
        return default if value is None else value

    def integer(self, key: str, low: int, high: int) -> int | None:
        value = self.obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(self.at(key), "must be an integer")
        if not low <= value <= high:
            raise _fail(self.at(key), "is out of range")
        return value

    def money(self, key: str) -> Decimal | None:
        value = self.obj.get(key)
        if value is None or value == "":
            return None
        try:
            if isinstance(value, bool) or not isinstance(value, str | int | float) or len(str(value)) > 32:
                raise InvalidOperation
            amount = Decimal(str(value))
        except InvalidOperation:
            raise _fail(self.at(key), "must be a decimal string") from None
        if not amount.is_finite() or abs(amount) >= MAX_MONEY:
            raise _fail(self.at(key), "is out of range")
        return amount.quantize(Decimal("0.01"))

    def timestamp(self, key: str) -> datetime | None:
        value = self.obj.get(key)
        if value is None or value == "":
            return None
        try:
            if not isinstance(value, str) or len(value) > 40:
                raise ValueError
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _fail(self.at(key), "must be an ISO 8601 timestamp") from None
        # Shopify always sends an offset; a bare time is taken as UTC rather than local time.
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)

    def required_timestamp(self, key: str) -> datetime:
        value = self.timestamp(key)
        if value is None:
            raise _fail(self.at(key), "is missing")
        return value

    def gid(self, kind: str, id_key: str = "id") -> str:
        """The object's gid from ``admin_graphql_api_id`` and/or its numeric id (they must agree)."""
        value = self.optional_gid(kind, id_key)
        if value is None:
            raise _fail(self.at(id_key), "is missing")
        return value

    def optional_gid(self, kind: str, id_key: str = "id") -> str | None:
        number = self.obj.get(id_key)
        from_number = None if number is None else _gid_of(number, kind, self.at(id_key))
        gid = self.obj.get("admin_graphql_api_id") if id_key == "id" else None
        if gid is None:
            return from_number
        gid = _gid_of(gid, kind, self.at("admin_graphql_api_id"))
        if from_number is not None and from_number != gid:
            raise _fail(self.at("admin_graphql_api_id"), f"does not match {id_key}")
        return gid


# -- orders -------------------------------------------------------------------------------------


def _address(order: _Body, key: str) -> Address | None:
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


def _customer(order: _Body) -> Customer | None:
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


def _line(line: _Body) -> OrderLineData:
    quantity = line.integer("quantity", 0, MAX_QUANTITY)
    if quantity is None:
        raise _fail(line.at("quantity"), "is missing")
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
    order = _Body(payload, "order")
    raw_lines = order.items("line_items", MAX_LINES) or []
    lines = tuple(_line(_Body(raw, f"order.line_items[{i}]")) for i, raw in enumerate(raw_lines))
    if len({line.external_id for line in lines}) != len(lines):
        raise _fail("order.line_items", "repeats a line item id")
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
        raise _fail("order.cancelled_at", "is missing")
    return order


def parse_fulfillment(payload: Any) -> FulfillmentData:
    body = _Body(payload, "fulfillment")
    numbers, urls = [], []
    for key, max_len, found in (("tracking_number", 255, numbers), ("tracking_url", 2048, urls)):
        single = body.code(key, max_len)
        plural = [_code_of(v, f"{body.at(key)}s[{i}]", max_len) for i, v in enumerate(body.items(key + "s", 50) or [])]
        # The singular field is the first of the list; keep both, first, without repeats.
        for value in (single, *plural):
            if value and value not in found:
                found.append(value)
    return FulfillmentData(
        external_id=body.gid("Fulfillment"),
        updated_at=body.required_timestamp("updated_at"),
        order_external_id=body.optional_gid("Order", "order_id"),
        status=body.code("status", 32),
        shipment_status=body.code("shipment_status", 32),
        tracking_company=body.text("tracking_company", 255),
        tracking_numbers=tuple(numbers),
        tracking_urls=tuple(urls),
        name=body.text("name", 64),
        created_at=body.timestamp("created_at"),
    )


# -- catalog --------------------------------------------------------------------------------------


def parse_inventory_level(payload: Any) -> InventoryLevelUpdate:
    """``inventory_levels/update``: numeric item and location ids only (its admin_graphql_api_id is
    an InventoryLevel gid); ``available`` is null for an untracked item."""
    body = _Body(payload, "inventory_level")
    available = body.integer("available", -MAX_QUANTITY, MAX_QUANTITY)
    level = InventoryLevel(
        inventory_item_id=body.gid("InventoryItem", "inventory_item_id"),
        location_id=body.gid("Location", "location_id"),
        quantities=() if available is None else (("available", available),),
    )
    return InventoryLevelUpdate(level=level, updated_at=body.required_timestamp("updated_at"))


def parse_product(payload: Any) -> ProductUpdate:
    body = _Body(payload, "product")
    product_id = body.gid("Product")
    variants = []
    raw_variants = body.items("variants", MAX_VARIANTS)
    for i, raw in enumerate(raw_variants or []):
        v = _Body(raw, f"product.variants[{i}]")
        if v.optional_gid("Product", "product_id") not in (None, product_id):
            raise _fail(v.at("product_id"), "names another product")
        variants.append(
            ProductVariantUpdate(
                id=v.gid("ProductVariant"),
                title=v.text("title", 255) or "",
                sku=v.text("sku", 255),
                barcode=v.text("barcode", 255),
                inventory_item_id=v.optional_gid("InventoryItem", "inventory_item_id"),
            )
        )
    # Since 2024-04 the body details at most 100 variants and lists every one in variant_gids.
    # https://shopify.dev/docs/api/admin/migrate/new-product-model
    raw_gids = body.items("variant_gids", MAX_VARIANTS)
    all_ids: tuple[str, ...] | None = None
    if raw_gids is not None:
        all_ids = tuple(_Body(g, f"product.variant_gids[{i}]").gid("ProductVariant") for i, g in enumerate(raw_gids))
    elif raw_variants is not None and len(raw_variants) < 100:
        all_ids = tuple(v.id for v in variants)  # not truncated: the list is the whole product
    return ProductUpdate(
        id=product_id,
        title=body.text("title", 255) or "",
        updated_at=body.required_timestamp("updated_at"),
        variants=tuple(variants),
        all_variant_ids=all_ids,
    )


def parse_deleted_id(payload: Any, kind: str) -> str:
    """``products/delete`` and ``locations/delete`` carry only ``{"id": N}``."""
    return _Body(payload, kind.lower()).gid(kind)


def parse_location(payload: Any) -> LocationUpdate:
    body = _Body(payload, "location")
    return LocationUpdate(
        id=body.gid("Location"),
        name=body.text("name", 255) or "",
        active=body.boolean("active", True),
        updated_at=body.required_timestamp("updated_at"),
        address1=body.text("address1", 255),
        city=body.text("city", 255),
        zip=body.text("zip", 32),
        country_code=body.code("country_code", 2),
    )


def parse_app_uninstalled(payload: Any) -> str | None:
    """``app/uninstalled`` carries the shop resource; only its gid is of use (the tokens are dead)."""
    return _Body(payload, "shop").optional_gid("Shop")


def parse_bulk_operation_finish(payload: Any) -> BulkOperation:
    """``bulk_operations/finish``: ``{admin_graphql_api_id, status, error_code, type, created_at,
    completed_at}`` with lower-case status and code (``completed``); upper-cased here to the GraphQL
    enum values the rest of the connector uses."""
    body = _Body(payload, "bulk_operation")
    error_code = body.code("error_code", 64)
    return BulkOperation(
        id=_gid_of(body.obj.get("admin_graphql_api_id"), "BulkOperation", body.at("admin_graphql_api_id")),
        status=body.required_code("status", 32).upper(),
        error_code=error_code.upper() if error_code else None,
        created_at=body.timestamp("created_at"),
        completed_at=body.timestamp("completed_at"),
    )


# -- mandatory compliance topics --------------------------------------------------------------
# https://shopify.dev/docs/apps/build/privacy-law-compliance: {shop_id, shop_domain, customer:
# {id, email, phone}, orders_requested | orders_to_redact, data_request: {id}}; shop/redact has
# only {shop_id, shop_domain}.


def _shop_domain(body: _Body) -> str:
    domain = body.required_code("shop_domain", 255)
    if not _DOMAIN.fullmatch(domain):
        raise _fail(body.at("shop_domain"), "must be a myshopify.com domain")
    return domain


def parse_privacy_request(payload: Any, topic: str) -> PrivacyRequest:
    """``customers/data_request`` and ``customers/redact``."""
    body = _Body(payload, topic)
    customer = body.child("customer") or _Body({}, body.at("customer"))
    orders_key = "orders_requested" if topic == "customers/data_request" else "orders_to_redact"
    orders = body.items(orders_key, MAX_ORDER_IDS) or []
    data_request = body.child("data_request")
    request_id = data_request.integer("id", 1, 10**MAX_ID_DIGITS) if data_request else None
    request = PrivacyRequest(
        shop_domain=_shop_domain(body),
        customer_id=customer.optional_gid("Customer"),
        email=customer.code("email", 320),
        phone=customer.code("phone", 64),
        order_ids=tuple(_gid_of(o, "Order", f"{body.at(orders_key)}[{i}]") for i, o in enumerate(orders)),
        request_id=None if request_id is None else str(request_id),
    )
    if request.customer_id is None and request.email is None and not request.order_ids:
        raise _fail(body.at("customer"), "names no customer")
    return request


def parse_shop_redact(payload: Any) -> ShopRedact:
    body = _Body(payload, "shop/redact")
    return ShopRedact(shop_domain=_shop_domain(body), shop_id=body.optional_gid("Shop", "shop_id"))
