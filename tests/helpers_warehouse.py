"""Builders for warehouse-side test data (real rows, no fakes)."""

from __future__ import annotations

import json

from integration.extensions import db
from integration.models import Order, OrderLine, Shop, StockLevel, Variant, Warehouse, WarehouseAccount


def make_shop(domain: str = "acme.myshopify.com", token: str = "shpat_test") -> Shop:
    shop = Shop(domain=domain, access_token=token, status="installed")
    db.session.add(shop)
    db.session.commit()
    return shop


def make_account(shop: Shop, provider: str = "winit", credentials: dict | None = None, endpoint: str | None = None):
    account = WarehouseAccount(shop_id=shop.id, provider=provider, name=provider,
                               credentials=json.dumps(credentials or {"app_key": "k", "token": "t"}), endpoint=endpoint)
    db.session.add(account)
    db.session.commit()
    return account


def make_warehouse(shop: Shop, account, code: str, country: str, *, location: str | None = None, **kw) -> Warehouse:
    w = Warehouse(shop_id=shop.id, account_id=account.id, code=code, name=kw.pop("name", code), country_code=country,
                  location_shopify_id=location, transit_days=kw.pop("transit_days", {country: [1, 3], "*": [4, 8]}),
                  **kw)
    db.session.add(w)
    db.session.commit()
    return w


def set_stock(shop: Shop, warehouse: Warehouse, sku: str, on_hand: int, reserved: int = 0) -> StockLevel:
    level = StockLevel(shop_id=shop.id, warehouse_id=warehouse.id, sku=sku, on_hand=on_hand, reserved=reserved)
    db.session.add(level)
    if not db.session.query(Variant).filter_by(shop_id=shop.id, sku=sku).first():
        db.session.add(Variant(shop_id=shop.id, shopify_id=f"gid://shopify/ProductVariant/{sku}",
                               product_shopify_id="gid://shopify/Product/1", sku=sku,
                               inventory_item_id=f"gid://shopify/InventoryItem/{sku}"))
    db.session.commit()
    return level


def make_order(shop: Shop, external_id: str, lines: list[tuple[str, int]], *, country: str = "DE",
               channel: str = "shopify", email: str = "buyer@example.com") -> Order:
    order = Order(shop_id=shop.id, channel=channel, external_id=external_id, name=f"#{external_id[-6:]}",
                  email=email, shipping_country=country, currency="EUR",
                  shipping_address={"name": "Ada Buyer", "address1": "Hauptstr. 1", "city": "Berlin", "zip": "10115",
                                    "country_code": country})
    db.session.add(order)
    db.session.flush()
    for i, (sku, qty) in enumerate(lines):
        db.session.add(OrderLine(order_id=order.id, external_id=f"{external_id}-{i}", sku=sku, quantity=qty,
                                 name=sku))
    db.session.commit()
    return order
