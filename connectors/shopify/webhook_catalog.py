"""The catalog topics: ``products/update``, ``products/delete``,
``inventory_levels/update``, ``locations/create|update`` and ``locations/delete``, read into
webhook-only dataclasses that carry the body's own version stamp (``updated_at``). Field reading
rules: :mod:`connectors.shopify.webhook_fields`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.shopify.webhook_fields import MAX_QUANTITY, Body, fail
from integration.domain.channels import InventoryLevel

MAX_VARIANTS = 2048  # Shopify allows 2,000 variants per product


# integration.domain.channels.Location / Variant describe GraphQL results and require fields the REST
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


def parse_inventory_level(payload: Any) -> InventoryLevelUpdate:
    """``inventory_levels/update``: numeric item and location ids only (its admin_graphql_api_id is
    an InventoryLevel gid); ``available`` is null for an untracked item."""
    body = Body(payload, "inventory_level")
    available = body.integer("available", -MAX_QUANTITY, MAX_QUANTITY)
    level = InventoryLevel(
        inventory_item_id=body.gid("InventoryItem", "inventory_item_id"),
        location_id=body.gid("Location", "location_id"),
        quantities=() if available is None else (("available", available),),
    )
    return InventoryLevelUpdate(level=level, updated_at=body.required_timestamp("updated_at"))


def parse_product(payload: Any) -> ProductUpdate:
    body = Body(payload, "product")
    product_id = body.gid("Product")
    variants = []
    raw_variants = body.items("variants", MAX_VARIANTS)
    for i, raw in enumerate(raw_variants or []):
        v = Body(raw, f"product.variants[{i}]")
        if v.optional_gid("Product", "product_id") not in (None, product_id):
            raise fail(v.at("product_id"), "names another product")
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
        all_ids = tuple(Body(g, f"product.variant_gids[{i}]").gid("ProductVariant") for i, g in enumerate(raw_gids))
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
    return Body(payload, kind.lower()).gid(kind)


def parse_location(payload: Any) -> LocationUpdate:
    body = Body(payload, "location")
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
