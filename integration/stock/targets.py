"""What each Shopify location should show, and what we know it shows.

The quantity of a variant at a warehouse's Shopify location is that warehouse's available:
``on_hand - reserved - safety_stock - channel buffer`` (never below 0; 0 where the warehouse has
none of it or does not sell). A SKU on several variants gets the same quantity on each of them.
The readers below take one chunk of SKUs or items at a time (the callers page).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, or_, select

from integration.extensions import db
from integration.models import (
    ChannelStock,
    InventoryLevel,
    Location,
    ShopSettings,
    StockLevel,
    Variant,
    Warehouse,
    WarehouseAccount,
)

CHANNEL = "shopify"


@dataclass(frozen=True)
class StockContext:
    """What a shop's targets depend on besides the ledger, loaded once per job."""

    shop_id: int
    safety: int
    buffer: int
    locations: dict[int, str]  # warehouse id -> Shopify location gid, for synced mapped warehouses
    live: frozenset[int]  # of those, the ones that sell (warehouse and account active)

    @classmethod
    def load(cls, shop_id: int, channel: str = CHANNEL) -> StockContext:
        settings = db.session.execute(select(ShopSettings).where(ShopSettings.shop_id == shop_id)).scalar_one_or_none()
        safety = max(0, settings.safety_stock or 0) if settings else 0
        buffer = max(0, int((settings.channel_buffers or {}).get(channel, 0) or 0)) if settings else 0
        rows = db.session.execute(
            select(Warehouse.id, Warehouse.location_shopify_id, Warehouse.active, WarehouseAccount.active)
            .join(WarehouseAccount, WarehouseAccount.id == Warehouse.account_id)
            # A location deactivated or deleted in Shopify takes no quantities (known from the
            # catalog import and locations webhooks; no row yet means not known to be gone).
            .outerjoin(Location, (Location.shop_id == Warehouse.shop_id)
                       & (Location.shopify_id == Warehouse.location_shopify_id))
            .where(Warehouse.shop_id == shop_id, Warehouse.location_shopify_id.is_not(None),
                   or_(Location.id.is_(None), Location.active.is_(True) & Location.deleted_at.is_(None)),
                   # A warehouse never synced has an empty ledger: pushing its zeros would wipe
                   # the location's stock before the first poll. It joins after its first count.
                   exists().where(StockLevel.warehouse_id == Warehouse.id))
        ).all()
        return cls(shop_id, safety, buffer, {r[0]: r[1] for r in rows},
                   frozenset(r[0] for r in rows if r[2] and r[3]))

    def available(self, on_hand: int, reserved: int) -> int:
        return max(0, on_hand - reserved - self.safety - self.buffer)


def targets_for(ctx: StockContext, skus: Sequence[str]) -> dict[str, dict[str, int]]:
    """sku -> {location gid: quantity} for every mapped location (0 where the warehouse has none,
    or does not sell)."""
    out = {sku: dict.fromkeys(ctx.locations.values(), 0) for sku in skus}
    if not skus or not ctx.locations:
        return out
    # By (warehouse, sku): the unique index. (With shop_id in the WHERE, SQLite's planner takes
    # the shop_id index and reads every row of the shop.)
    rows = db.session.execute(
        select(StockLevel.warehouse_id, StockLevel.sku, StockLevel.on_hand, StockLevel.reserved)
        .where(StockLevel.warehouse_id.in_(list(ctx.locations)), StockLevel.sku.in_(skus))
    ).all()
    for warehouse_id, sku, on_hand, reserved in rows:
        if warehouse_id in ctx.live:
            out[sku][ctx.locations[warehouse_id]] = ctx.available(on_hand, reserved)
    return out


def items_for(shop_id: int, skus: Sequence[str]) -> dict[str, list[str]]:
    """sku -> inventory item gids of the shop's live variants (a SKU may be on several)."""
    out: dict[str, list[str]] = {}
    if not skus:
        return out
    for sku, item in shop_variants(shop_id, skus):
        if item and item not in out.setdefault(sku, []):
            out[sku].append(item)
    return out


def shop_variants(shop_id: int, skus: Sequence[str]) -> list[tuple[str, str | None]]:
    """(sku, inventory item) of the shop's live variants with these SKUs. Looked up by SKU and
    filtered by shop here: with ``shop_id = ?`` in the WHERE, SQLite's planner prefers the shop_id
    index and reads every variant of the shop (a (shop_id, sku) index would serve both)."""
    if not skus:
        return []
    rows = db.session.execute(
        select(Variant.shop_id, Variant.sku, Variant.inventory_item_id)
        .where(Variant.sku.in_(skus), Variant.deleted_at.is_(None))
    ).all()
    return [(sku, item) for owner, sku, item in rows if owner == shop_id]


def channel_rows(shop_id: int, items: Sequence[str]) -> dict[tuple[str, str], tuple[int, datetime]]:
    """(item, location) -> (quantity we last set, when)."""
    if not items:
        return {}
    rows = db.session.execute(
        select(ChannelStock.item_id, ChannelStock.location_id, ChannelStock.quantity, ChannelStock.pushed_at)
        .where(ChannelStock.shop_id == shop_id, ChannelStock.channel == CHANNEL, ChannelStock.item_id.in_(items))
    ).all()
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def shopify_rows(shop_id: int, items: Sequence[str]) -> dict[tuple[str, str], tuple[int, datetime]]:
    """(item, location) -> (Shopify's available as last seen from webhooks/import, when stored)."""
    if not items:
        return {}
    rows = db.session.execute(
        select(InventoryLevel.inventory_item_id, InventoryLevel.location_shopify_id, InventoryLevel.available,
               InventoryLevel.updated_at)
        .where(InventoryLevel.shop_id == shop_id, InventoryLevel.inventory_item_id.in_(items))
    ).all()
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


@dataclass(frozen=True)
class Planned:
    sku: str
    item: str
    location: str
    quantity: int
    change_from: int
    baseline: str  # where change_from came from, and when: part of the idempotency key
