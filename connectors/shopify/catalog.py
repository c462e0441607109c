"""Locations, products/variants/inventory items by id, and metafields."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from connectors.shopify import mapping
from connectors.shopify.client import ShopifyClient
from integration.domain.batching import chunks
from integration.domain.channels import Location, Metafield, MetafieldInput, Variant

PAGE_SIZE = 100
NODES_BATCH = 100
"""Ids per ``nodes(ids:)`` call: Shopify accepts 250, but cost grows with each id."""
ITEMS_BATCH = 25
VARIANTS_PER_ITEM = 5
METAFIELDS_PER_CALL = 25
"""``metafieldsSet`` accepts at most 25 metafields per call."""


def iter_locations(
    client: ShopifyClient, *, include_inactive: bool = False, page_size: int = PAGE_SIZE
) -> Iterator[Location]:
    """Every location, page by page (cursor pagination)."""
    after = None
    while True:
        data = client.execute(
            "Locations",
            {"first": page_size, "after": after, "includeInactive": include_inactive},
        )
        connection = data["locations"]
        for node in mapping.nodes(connection):
            yield mapping.location(node)
        has_next, after = mapping.page_info(connection)
        if not has_next:
            return


def get_variants(client: ShopifyClient, variant_ids: Iterable[str]) -> list[Variant]:
    """Variants by id; unknown ids are left out."""
    found: list[Variant] = []
    for batch in chunks(_unique(variant_ids), NODES_BATCH):
        data = client.execute("VariantsByIds", {"ids": list(batch)})
        found.extend(mapping.variant(node) for node in data["nodes"] if node and node.get("id"))
    return found


def get_variants_by_inventory_items(client: ShopifyClient, inventory_item_ids: Iterable[str]) -> list[Variant]:
    """The variant(s) each inventory item stocks; unknown ids are left out."""
    found: list[Variant] = []
    for batch in chunks(_unique(inventory_item_ids), ITEMS_BATCH):
        data = client.execute("InventoryItemsByIds", {"ids": list(batch), "variantsFirst": VARIANTS_PER_ITEM})
        for item in data["nodes"]:
            if not item or not item.get("id"):
                continue
            for node in mapping.nodes(item.get("variants")):
                found.append(mapping.variant(node, inventory_item_id=item["id"]))
    return found


def iter_variants(client: ShopifyClient, query: str | None = None, *, page_size: int = PAGE_SIZE) -> Iterator[Variant]:
    """Variants matching a Shopify search query (``"sku:ABC-1"``), or all of them. For whole
    catalogs prefer the bulk export (:func:`connectors.shopify.bulk.run_variant_stock_export`)."""
    after = None
    while True:
        data = client.execute("ProductVariants", {"first": page_size, "after": after, "query": query})
        connection = data["productVariants"]
        for node in mapping.nodes(connection):
            yield mapping.variant(node)
        has_next, after = mapping.page_info(connection)
        if not has_next:
            return


def get_product_variants(client: ShopifyClient, product_id: str, *, page_size: int = PAGE_SIZE) -> list[Variant]:
    """All variants of one product; empty when the product does not exist."""
    found: list[Variant] = []
    after = None
    while True:
        data = client.execute("ProductVariantsOfProduct", {"id": product_id, "first": page_size, "after": after})
        product = data.get("product")
        if not product:
            return found
        connection = product["variants"]
        found.extend(mapping.variant(node, product=product) for node in mapping.nodes(connection))
        has_next, after = mapping.page_info(connection)
        if not has_next:
            return found


def set_metafields(client: ShopifyClient, metafields: Sequence[MetafieldInput]) -> list[Metafield]:
    """``metafieldsSet`` in chunks of 25. Each chunk is atomic on Shopify's side; a failing chunk
    raises :class:`PermanentError` after the earlier chunks were applied (setting a metafield is
    idempotent, so the caller can simply retry the whole list)."""
    written: list[Metafield] = []
    for chunk in chunks(metafields, METAFIELDS_PER_CALL):
        payload = []
        for m in chunk:
            item = {"ownerId": m.owner_id, "key": m.key, "value": m.value}
            if m.namespace is not None:
                item["namespace"] = m.namespace
            if m.type is not None:
                item["type"] = m.type
            if m.compare_digest is not None:
                item["compareDigest"] = m.compare_digest
            payload.append(item)
        data = client.execute("MetafieldsSet", {"metafields": payload})
        written.extend(mapping.metafield(n) for n in data["metafieldsSet"]["metafields"] or [])
    return written


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))
