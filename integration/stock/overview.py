"""The stock page's numbers: per SKU x warehouse on hand, reserved, inbound and what may be sold,
per channel, with low-stock and out-of-stock flags.

The list is paged by SKU (a page is up to ``limit`` SKUs with all their warehouses): one query
picks the page's SKUs from the shop's live variants (:func:`sku_query`, in SKU order, through the
(shop_id, sku) index), one batched query reads their ledger rows (:func:`describe`, through the
(warehouse_id, sku) unique index). Filters that depend on stock (only low, only out) are a HAVING
on the same SKU query, so pages stay pages whatever the filter.

What may be sold, as the channels are told (:mod:`integration.stock.targets`,
:mod:`integration.stock.amazon_quantities`): a warehouse's ``available`` is on hand - reserved -
safety stock (never below 0); Shopify's is that minus the Shopify buffer, at the warehouse's mapped
location; Amazon's is one number per SKU (the sum over selling warehouses, FBA excluded, minus the
Amazon buffer). A SKU is out of stock when its selling warehouses have nothing available, low when
they have at most the shop's low-stock threshold (the storefront's rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, and_, case, exists, func, literal, select

from integration.extensions import db
from integration.models import StockLevel, Variant, Warehouse, WarehouseAccount
from integration.models.amazon import AmazonAccount
from integration.shops.shop_settings import get_settings
from integration.stock.amazon_quantities import mfn_quantity, sells_on_amazon
from integration.stock.targets import StockContext

FILTERS = ("low", "out")
MAX_QUERY = 100


@dataclass(frozen=True)
class WarehouseInfo:
    id: int
    code: str
    name: str
    country_code: str
    provider: str
    selling: bool  # warehouse and account active: its stock counts
    amazon: bool  # its stock goes to Amazon (selling, not FBA)

    def as_json(self) -> dict:
        return {"id": self.id, "code": self.code, "name": self.name or self.code,
                "country_code": self.country_code or None, "provider": self.provider, "selling": self.selling}


@dataclass(frozen=True)
class StockView:
    """What the rows depend on besides the ledger, loaded once per request."""

    shop_id: int
    threshold: int
    safety: int
    amazon_buffer: int
    amazon: bool  # the shop has an active Amazon account
    shopify: StockContext
    warehouses: tuple[WarehouseInfo, ...]  # the ones shown (all, or the filtered one)

    @classmethod
    def load(cls, shop_id: int, warehouse_id: int | None = None) -> StockView:
        settings = get_settings(shop_id)
        shopify = StockContext.load(shop_id)
        rows = db.session.execute(
            select(Warehouse.id, Warehouse.code, Warehouse.name, Warehouse.country_code, Warehouse.active,
                   WarehouseAccount.provider, WarehouseAccount.active)
            .join(WarehouseAccount, WarehouseAccount.id == Warehouse.account_id)
            .where(Warehouse.shop_id == shop_id)
            .where(Warehouse.id == warehouse_id if warehouse_id is not None else literal(True))
            .order_by(Warehouse.priority, Warehouse.name, Warehouse.id)).all()
        warehouses = tuple(WarehouseInfo(r[0], r[1], r[2], r[3], r[5], bool(r[4] and r[6]),
                                         sells_on_amazon(r[5], bool(r[4]), bool(r[6]))) for r in rows)
        amazon = bool(db.session.execute(select(exists().where(
            AmazonAccount.shop_id == shop_id, AmazonAccount.active.is_(True)))).scalar())
        buffer = max(0, int((settings.channel_buffers or {}).get("amazon", 0) or 0))
        return cls(shop_id, max(0, settings.low_stock_threshold or 0), shopify.safety, buffer, amazon, shopify,
                   warehouses)

    @property
    def selling_ids(self) -> list[int]:
        return [w.id for w in self.warehouses if w.selling]

    def available(self, on_hand: int, reserved: int) -> int:
        return max(0, on_hand - reserved - self.safety)

    def flags(self, available: int) -> dict:
        return {"out": available == 0, "low": 0 < available <= self.threshold}


def sku_query(view: StockView, *, only: str | None = None, q: str | None = None,
              warehouse_id: int | None = None) -> Select:
    """The shop's SKUs in order, one row each (sku, title, variant_id), filtered."""
    stmt = (select(Variant.sku, func.min(Variant.title).label("title"), func.min(Variant.id).label("variant_id"))
            .where(Variant.shop_id == view.shop_id, Variant.deleted_at.is_(None), Variant.sku.is_not(None),
                   Variant.sku != "")
            .group_by(Variant.sku).order_by(Variant.sku))
    if q:
        needle = q.lower()
        stmt = stmt.where(func.lower(Variant.sku).contains(needle, autoescape=True)
                          | func.lower(Variant.title).contains(needle, autoescape=True))
    if warehouse_id is not None:  # the SKUs this warehouse holds (has a ledger row for)
        stmt = stmt.where(exists().where(StockLevel.warehouse_id == warehouse_id, StockLevel.sku == Variant.sku))
    if only in FILTERS:
        free = StockLevel.on_hand - StockLevel.reserved - view.safety
        totals = (select(StockLevel.sku, func.sum(case((free > 0, free), else_=0)).label("available"))
                  .where(StockLevel.warehouse_id.in_(view.selling_ids or [0]))
                  .group_by(StockLevel.sku).subquery())
        stmt = stmt.outerjoin(totals, totals.c.sku == Variant.sku)
        total = func.coalesce(func.max(totals.c.available), 0)
        stmt = stmt.having(total == 0 if only == "out" else and_(total > 0, total <= view.threshold))
    return stmt


def describe(view: StockView, rows: Sequence) -> list[dict]:
    """The page's SKU rows (from :func:`sku_query`) with their numbers per warehouse."""
    skus = [r.sku for r in rows]
    shown = {w.id: w for w in view.warehouses}
    levels: dict[str, list] = {sku: [] for sku in skus}
    if skus and shown:
        for level in db.session.execute(
                select(StockLevel.warehouse_id, StockLevel.sku, StockLevel.on_hand, StockLevel.reserved,
                       StockLevel.inbound, StockLevel.inbound_eta)
                .where(StockLevel.warehouse_id.in_(list(shown)), StockLevel.sku.in_(skus))):
            levels[level.sku].append(level)
    order = {w.id: i for i, w in enumerate(view.warehouses)}
    out = []
    for row in rows:
        cells, total, amazon_counts = [], 0, []
        for level in sorted(levels[row.sku], key=lambda lv: order[lv.warehouse_id]):
            warehouse = shown[level.warehouse_id]
            available = view.available(level.on_hand, level.reserved) if warehouse.selling else 0
            total += available
            if warehouse.amazon:
                amazon_counts.append((level.on_hand, level.reserved))
            mapped = level.warehouse_id in view.shopify.locations
            cells.append({
                "warehouse_id": level.warehouse_id, "on_hand": level.on_hand, "reserved": level.reserved,
                "inbound": level.inbound, "inbound_eta": level.inbound_eta.isoformat() if level.inbound_eta else None,
                "available": available, **view.flags(available),
                "shopify": (view.shopify.available(level.on_hand, level.reserved)
                            if level.warehouse_id in view.shopify.live else 0) if mapped else None,
            })
        channels = {"shopify": sum(c["shopify"] for c in cells if c["shopify"] is not None)}
        if view.amazon:
            channels["amazon"] = mfn_quantity(amazon_counts, view.safety, view.amazon_buffer)
        out.append({"sku": row.sku, "title": row.title, "variant_id": row.variant_id, "available": total,
                    **view.flags(total), "channels": channels, "warehouses": cells})
    return out
