"""Fixtures and helpers shared by the storefront tests (no tests here).

``sf``: a shop wired to the Shopify emulator with one product of three variants and two
warehouses: DEWH in Germany (Shopify location Berlin) and USWH in the United States (Los
Angeles). The app's Shopify endpoint is the emulator, so metafields are really written there.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from connectors.shopify.signatures import proxy_signature
from integration import create_app
from integration.extensions import db
from integration.models import Shop, ShopSettings, StockLevel, Variant, Warehouse, WarehouseAccount
from tests.conftest import API_SECRET, make_config
from tests.helpers import Drainer
from tests.shopify_fixtures import SHOPIFY_SHOP

SKUS = ("HOODIE-S", "HOODIE-M", "HOODIE-L")
DE_TRANSIT = {"DE": [1, 3], "*": [5, 10]}
US_TRANSIT = {"US": [2, 4], "*": [6, 12]}


@dataclass
class StorefrontStack:
    app: object
    emulator: object
    shop: Shop
    de: Warehouse
    us: Warehouse
    product: str
    variants: dict[str, str]  # sku -> variant gid
    worker: Drainer
    config: object = None
    extra: dict = field(default_factory=dict)

    def number(self, sku: str) -> str:
        return self.variants[sku].rsplit("/", 1)[1]

    def set_stock(self, warehouse: Warehouse, sku: str, on_hand: int, *, reserved: int = 0, inbound: int = 0,
                  inbound_eta=None, announce: bool = True) -> None:
        """Write the ledger like the stock engine does, and announce it (after the commit)."""
        from integration.stock import sync

        # The stock engine's announcement (named stock_changed in earlier revisions).
        announce_change = getattr(sync, "ledger_changed", None) or sync.stock_changed
        level = db.session.execute(select(StockLevel).where(StockLevel.warehouse_id == warehouse.id,
                                                            StockLevel.sku == sku)).scalar_one_or_none()
        if level is None:
            level = StockLevel(shop_id=self.shop.id, warehouse_id=warehouse.id, sku=sku)
            db.session.add(level)
        level.on_hand, level.reserved, level.inbound, level.inbound_eta = on_hand, reserved, inbound, inbound_eta
        if announce:
            announce_change(self.shop.id, [sku], push=False)
        db.session.commit()

    def metafield(self, sku: str) -> dict | None:
        for m in self.emulator.metafields(SHOPIFY_SHOP, self.variants[sku]):
            if m["namespace"].endswith("--nearstock") and m["key"] == "status":
                return json.loads(m["value"])
        return None

    def metafield_writes(self) -> int:
        return self.emulator.mutation_count(SHOPIFY_SHOP, "metafieldsSet")


def signed(params: dict, *, shop: str = SHOPIFY_SHOP, secret: str = API_SECRET, timestamp: int | None = None) -> dict:
    """The query Shopify's app proxy would send for ``params``."""
    query = {"shop": shop, "logged_in_customer_id": "", "path_prefix": "/apps/nearstock",
             "timestamp": str(int(time.time()) if timestamp is None else timestamp), **params}
    query["signature"] = proxy_signature(query, secret)
    return query


def proxy_get(client, path: str, params: dict | None = None, **kw):
    return client.get(path, query_string=signed(params or {}, **kw))


def proxy_post(client, path: str, body: dict, params: dict | None = None, *, headers=None, **kw):
    return client.post(path, query_string=signed(params or {}, **kw), json=body, headers=headers or {})


def build_stack(tmp_path, database_url, redis_url, emulator, **env) -> tuple:
    berlin = emulator.add_location(SHOPIFY_SHOP, "Berlin", "DE", city="Berlin")
    la = emulator.add_location(SHOPIFY_SHOP, "Los Angeles", "US", city="Los Angeles")
    specs = [{"sku": sku, "title": sku.split("-")[1], "price": "79.00", "quantities": {berlin: 0, la: 0}}
             for sku in SKUS]
    product = emulator.add_product(SHOPIFY_SHOP, "Merino Hoodie", specs)
    token = emulator.grant_token(SHOPIFY_SHOP, emulator.oauth.default_scopes)
    config = make_config(tmp_path, database_url, redis_url, SHOPIFY_ENDPOINT=emulator.url, **env)
    app = create_app(config)
    return app, config, berlin, la, specs, product, token


def seed(app, emulator, berlin, la, specs, product, token, config) -> StorefrontStack:
    shop = Shop(domain=SHOPIFY_SHOP, access_token=token, status="installed", name="Acme", primary_locale="en")
    db.session.add(shop)
    db.session.flush()
    for spec in specs:
        db.session.add(Variant(shop_id=shop.id, shopify_id=spec["id"], product_shopify_id=product,
                               inventory_item_id=spec["inventory_item_id"], sku=spec["sku"],
                               title=f"Merino Hoodie - {spec['title']}"))
    account = WarehouseAccount(shop_id=shop.id, provider="winit", name="WINIT",
                               credentials=json.dumps({"app_key": "k", "token": "t"}))
    db.session.add(account)
    db.session.flush()
    de = Warehouse(shop_id=shop.id, account_id=account.id, code="DEWH", country_code="DE", location_shopify_id=berlin,
                   handling_hours=24, transit_days=DE_TRANSIT, priority=100)
    us = Warehouse(shop_id=shop.id, account_id=account.id, code="USWH", country_code="US", location_shopify_id=la,
                   handling_hours=24, transit_days=US_TRANSIT, priority=100)
    db.session.add_all([de, us, ShopSettings(shop_id=shop.id, safety_stock=0, channel_buffers={},
                                             low_stock_threshold=5)])
    db.session.flush()
    for sku in SKUS:  # a warehouse joins the storefront after its first count
        db.session.add_all([StockLevel(shop_id=shop.id, warehouse_id=de.id, sku=sku, on_hand=0),
                            StockLevel(shop_id=shop.id, warehouse_id=us.id, sku=sku, on_hand=0)])
    db.session.commit()
    return StorefrontStack(app, emulator, shop, de, us, product, {s["sku"]: s["id"] for s in specs}, Drainer(app),
                           config)


@pytest.fixture(name="sf")
def storefront_stack(tmp_path, database_url, redis_url, redis_conn, make_shopify_emulator):
    emulator = make_shopify_emulator()
    app, config, *rest = build_stack(tmp_path, database_url, redis_url, emulator)
    app.config["TESTING"] = True
    with app.app_context():
        stack = seed(app, emulator, *rest, config)
        yield stack
        db.session.remove()
    db.engine.dispose()
