"""Shopify JSON -> the domain dataclasses of :mod:`integration.domain.channels`.

Only this module and the operation modules read Shopify's field names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from integration.domain.channels import (
    BulkOperation,
    DiscountCode,
    Fulfillment,
    FulfillmentEvent,
    FulfillmentOrder,
    FulfillmentOrderLine,
    InventoryLevel,
    Location,
    Metafield,
    ShopProfile,
    TrackingInfo,
    Variant,
)

Node = Mapping[str, Any]
MAX_SHOP_NAME = 255
CURRENCY = re.compile(r"^[A-Z]{3}$")
# One plain address (it becomes a To: header), bounded like the column that keeps it.
OWNER_EMAIL = re.compile(r"[^@\s<>,;\"]{1,64}@[^@\s<>,;\"]{1,255}")


def parse_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime: pass an aware (UTC) datetime")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _id(node: Node | None) -> str | None:
    return node.get("id") if node else None


def nodes(connection: Node | None) -> list[Node]:
    """The nodes of a connection, whether it was selected with ``nodes`` or ``edges``."""
    if not connection:
        return []
    if connection.get("nodes") is not None:
        return [n for n in connection["nodes"] if n]
    return [e["node"] for e in connection.get("edges") or [] if e and e.get("node")]


def page_info(connection: Node | None) -> tuple[bool, str | None]:
    info = (connection or {}).get("pageInfo") or {}
    return bool(info.get("hasNextPage")), info.get("endCursor")


def location(node: Node) -> Location:
    address = node.get("address") or {}
    return Location(
        id=node["id"],
        name=node.get("name") or "",
        is_active=bool(node.get("isActive", True)),
        fulfills_online_orders=bool(node.get("fulfillsOnlineOrders", False)),
        ships_inventory=bool(node.get("shipsInventory", False)),
        address1=address.get("address1"),
        city=address.get("city"),
        zip=address.get("zip"),
        province_code=address.get("provinceCode"),
        country_code=address.get("countryCode"),
    )


def variant(node: Node, product: Node | None = None, inventory_item_id: str | None = None) -> Variant:
    product = product or node.get("product") or {}
    return Variant(
        product_id=product.get("id") or "",
        variant_id=node["id"],
        sku=node.get("sku") or None,
        barcode=node.get("barcode") or None,
        inventory_item_id=inventory_item_id or _id(node.get("inventoryItem")) or "",
        title=node.get("title") or "",
        product_title=product.get("title"),
    )


def inventory_level(item_id: str, node: Node, location_id: str | None = None) -> InventoryLevel:
    return InventoryLevel(
        inventory_item_id=item_id,
        location_id=location_id or _id(node.get("location")) or "",
        quantities=quantities(node.get("quantities") or []),
        is_active=bool(node.get("isActive", True)),
    )


def quantities(items: Iterable[Node]) -> tuple[tuple[str, int], ...]:
    return tuple((q["name"], int(q["quantity"])) for q in items if q)


def fulfillment_order_line(node: Node) -> FulfillmentOrderLine:
    return FulfillmentOrderLine(
        id=node["id"],
        sku=node.get("sku") or None,
        inventory_item_id=node.get("inventoryItemId"),
        variant_id=_id(node.get("variant")),
        total_quantity=int(node.get("totalQuantity") or 0),
        remaining_quantity=int(node.get("remainingQuantity") or 0),
        line_item_id=_id(node.get("lineItem")),
    )


def fulfillment_order(
    node: Node, lines: Iterable[FulfillmentOrderLine], order_id: str | None = None
) -> FulfillmentOrder:
    assigned = node.get("assignedLocation") or {}
    return FulfillmentOrder(
        id=node["id"],
        order_id=node.get("orderId") or order_id or "",
        status=node.get("status") or "",
        request_status=node.get("requestStatus"),
        location_id=_id(assigned.get("location")),
        location_name=assigned.get("name"),
        lines=tuple(lines),
    )


def fulfillment(node: Node) -> Fulfillment:
    return Fulfillment(
        id=node["id"],
        status=node.get("status") or "",
        name=node.get("name"),
        created_at=parse_datetime(node.get("createdAt")),
        tracking=tuple(
            TrackingInfo(t.get("company"), t.get("number"), t.get("url")) for t in node.get("trackingInfo") or []
        ),
    )


def fulfillment_event(node: Node) -> FulfillmentEvent:
    return FulfillmentEvent(
        id=node["id"],
        status=node.get("status") or "",
        happened_at=parse_datetime(node.get("happenedAt")),
        message=node.get("message"),
    )


_DISCOUNT_KINDS = {"DiscountCodeBasic": "basic", "DiscountCodeFreeShipping": "free_shipping"}


def discount_code(node: Node, code: str, kind: str | None = None) -> DiscountCode:
    discount = node.get("codeDiscount") or {}
    codes = nodes(discount.get("codes"))
    return DiscountCode(
        id=node["id"],
        code=codes[0]["code"] if codes else code,
        title=discount.get("title") or "",
        kind=_DISCOUNT_KINDS.get(discount.get("__typename") or "", kind or "unknown"),
        starts_at=parse_datetime(discount.get("startsAt")),
        ends_at=parse_datetime(discount.get("endsAt")),
        usage_limit=discount.get("usageLimit"),
        applies_once_per_customer=bool(discount.get("appliesOncePerCustomer", True)),
        status=discount.get("status"),
        usage_count=discount.get("asyncUsageCount"),
    )


def shop_profile(node: Node) -> ShopProfile:
    # Shown in e-mail headers and pages: one line, bounded like the column that keeps it.
    name = " ".join(str(node.get("name") or "").split())[:MAX_SHOP_NAME]
    currency = node.get("currencyCode")
    email = node.get("email")
    return ShopProfile(name=name, currency=currency if isinstance(currency, str) and CURRENCY.match(currency) else None,
                       email=email if isinstance(email, str) and OWNER_EMAIL.fullmatch(email) else None)


def bulk_operation(node: Node) -> BulkOperation:
    file_size = node.get("fileSize")
    return BulkOperation(
        id=node["id"],
        status=node.get("status") or "",
        error_code=node.get("errorCode"),
        object_count=int(node.get("objectCount") or 0),
        root_object_count=int(node.get("rootObjectCount") or 0),
        url=node.get("url"),
        partial_data_url=node.get("partialDataUrl"),
        file_size=int(file_size) if file_size not in (None, "") else None,
        created_at=parse_datetime(node.get("createdAt")),
        completed_at=parse_datetime(node.get("completedAt")),
    )


def metafield(node: Node) -> Metafield:
    return Metafield(
        id=node["id"],
        namespace=node.get("namespace") or "",
        key=node.get("key") or "",
        value=node.get("value"),
        type=node.get("type"),
    )
