"""A shop's stock as the stock page shows it (no tests here): three warehouses (DE mapped to a
Shopify location, FR not mapped, OLD switched off), SKUs that are plenty, low and out, a
connected Amazon account and the shop's buffers, plus snapshots and orders for the chart.

Expected numbers (safety 1, low-stock threshold 5, buffers Shopify 1, Amazon 2):

========  ==========================  ===============  =========  ======  =======
SKU       DE (on hand/reserved/in)    FR               available  state   Amazon
========  ==========================  ===============  =========  ======  =======
SKU-A     20 / 4 / 10 -> 15 (Shop 14) 3 / 0 / 0 -> 2   17         -       15
SKU-B     5 / 1 / 0 -> 3 (Shop 2)     -                3          low     1
SKU-C     -                           -                0          out     0
SKU-E     1 / 1 / 0 -> 0              -                0          out     0
========  ==========================  ===============  =========  ======  =======

OLD holds 50 of SKU-A; it does not sell, so they count nowhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from integration.extensions import db
from integration.models import (
    Allocation,
    Order,
    OrderLine,
    Shop,
    ShopSettings,
    StockDaily,
    StockLevel,
    Variant,
    Warehouse,
    WarehouseAccount,
)
from integration.models.amazon import AmazonAccount
from integration.stock.daily import today

LOCATION = "gid://shopify/Location/901"


@dataclass
class SeededStock:
    shop: Shop
    de: Warehouse
    fr: Warehouse
    old: Warehouse
    variants: dict[str, Variant]


def seed_stock(shop: Shop, *, location: str = LOCATION, amazon: bool = True) -> SeededStock:
    db.session.add(ShopSettings(shop_id=shop.id, safety_stock=1, low_stock_threshold=5,
                                channel_buffers={"shopify": 1, "amazon": 2}))
    account = WarehouseAccount(shop_id=shop.id, provider="winit", name="WINIT",
                               credentials=json.dumps({"app_key": "k", "token": "t"}))
    db.session.add(account)
    db.session.flush()
    de = Warehouse(shop_id=shop.id, account_id=account.id, code="DEWH", name="Berlin", country_code="DE",
                   location_shopify_id=location, priority=1)
    fr = Warehouse(shop_id=shop.id, account_id=account.id, code="FRWH", name="Lyon", country_code="FR", priority=2)
    old = Warehouse(shop_id=shop.id, account_id=account.id, code="OLDWH", name="Old", country_code="NL",
                    priority=3, active=False)
    db.session.add_all([de, fr, old])
    variants = {}
    for n, (sku, title) in enumerate([("SKU-A", "Blue mug"), ("SKU-B", "Red mug"), ("SKU-C", "Green mug"),
                                      ("SKU-E", "Plate"), ("SKU-GONE", "Deleted mug")]):
        variant = Variant(shop_id=shop.id, shopify_id=f"gid://shopify/ProductVariant/{shop.id}{n}",
                          product_shopify_id="gid://shopify/Product/1", sku=sku, title=title,
                          inventory_item_id=f"gid://shopify/InventoryItem/{shop.id}{n}",
                          deleted_at=datetime(2026, 1, 1, tzinfo=UTC) if sku == "SKU-GONE" else None)
        db.session.add(variant)
        variants[sku] = variant
    # The same SKU on a second variant: still one row on the page.
    db.session.add(Variant(shop_id=shop.id, shopify_id=f"gid://shopify/ProductVariant/{shop.id}99",
                           product_shopify_id="gid://shopify/Product/2", sku="SKU-A", title="Blue mug (set)"))
    db.session.flush()
    for warehouse, sku, on_hand, reserved, inbound in [
            (de, "SKU-A", 20, 4, 10), (fr, "SKU-A", 3, 0, 0), (old, "SKU-A", 50, 0, 0),
            (de, "SKU-B", 5, 1, 0), (de, "SKU-E", 1, 1, 0), (de, "SKU-GONE", 9, 0, 0)]:
        db.session.add(StockLevel(shop_id=shop.id, warehouse_id=warehouse.id, sku=sku, on_hand=on_hand,
                                  reserved=reserved, inbound=inbound))
    if amazon:
        db.session.add(AmazonAccount(shop_id=shop.id, name="EU", seller_id="A1", marketplaces=["A1PA6795UKMFR9"],
                                     lwa_client_id="c", lwa_client_secret="s", refresh_token="r"))
    db.session.commit()
    return SeededStock(shop, de, fr, old, variants)


def day_at(days_ago: int, hour: int = 12) -> datetime:
    return datetime.combine(today() - timedelta(days=days_ago), time(hour), UTC)


def seed_history(seeded: SeededStock) -> None:
    """SKU-A: DE closed at 30 ten days ago and at 25 three days ago (20 now); FR's last change was
    40 days ago, at 40 (3 now). Sold: 2 from DE and 1 from FR two days ago; a cancelled line of 5
    and a sale 40 days ago that do not count."""
    shop_id, de, fr = seeded.shop.id, seeded.de, seeded.fr
    for warehouse, days_ago, on_hand in [(de, 10, 30), (de, 3, 25), (fr, 40, 40)]:
        db.session.add(StockDaily(shop_id=shop_id, warehouse_id=warehouse.id, sku="SKU-A",
                                  day=today() - timedelta(days=days_ago), on_hand=on_hand, reserved=0, inbound=0))
    for n, (warehouse, days_ago, quantity, status) in enumerate([
            (de, 2, 2, "reserved"), (fr, 2, 1, "shipped"), (de, 1, 5, "cancelled"), (de, 40, 7, "shipped")]):
        order = Order(shop_id=shop_id, external_id=f"{shop_id}-{n}", name=f"#{1000 + n}",
                      external_created_at=day_at(days_ago))
        db.session.add(order)
        db.session.flush()
        line = OrderLine(order_id=order.id, external_id=f"line-{n}", sku="SKU-A", quantity=quantity)
        db.session.add(line)
        db.session.flush()
        db.session.add(Allocation(shop_id=shop_id, order_id=order.id, order_line_id=line.id,
                                  warehouse_id=warehouse.id, sku="SKU-A", quantity=quantity, status=status))
    db.session.commit()
