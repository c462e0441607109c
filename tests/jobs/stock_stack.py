"""A shop wired to the Shopify emulator for the stock sync tests: two Shopify locations (Berlin,
Lyon), each the location of one warehouse (DEWH, FRWH) of one provider account, ``SKUS``
variants stocked at both (5 each at Shopify, mirrored in ``inventory_levels`` as the catalog
import would leave them), and an app whose Shopify endpoint is the emulator."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from integration import create_app
from integration.domain.warehousing import Capability, StockPage, StockRecord
from integration.extensions import db
from integration.models import (
    ChannelStock,
    InventoryLevel,
    Shop,
    ShopSettings,
    StockLevel,
    Variant,
    Warehouse,
    WarehouseAccount,
)
from tests.conftest import _KEY, API_KEY, API_SECRET, make_config
from tests.helpers import Drainer
from tests.shopify_fixtures import SHOPIFY_SHOP

SKUS = [f"SKU-{i}" for i in range(6)]
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@dataclass
class StockStack:
    app: object
    emulator: object
    shop: Shop
    account: WarehouseAccount
    de: Warehouse
    fr: Warehouse
    berlin: str
    lyon: str
    items: dict[str, str]  # sku -> inventory item gid
    worker: Drainer
    env: dict = field(default_factory=dict)

    def shopify(self, sku: str, location: str) -> int:
        return self.emulator.inventory_quantity(SHOPIFY_SHOP, self.items[sku], location)

    def set_shopify(self, sku: str, location: str, quantity: int) -> None:
        """Someone else (the merchant, another app) changes Shopify behind our back."""
        with self.emulator.lock:
            shop = self.emulator.shop(SHOPIFY_SHOP)
            level = shop.get(self.items[sku], "InventoryItem")["_levels"][location]
            shop.change_quantity(level, "available", quantity - level["_q"]["available"])

    def ledger(self, warehouse: Warehouse, sku: str) -> StockLevel | None:
        db.session.expire_all()
        return db.session.execute(select(StockLevel).where(StockLevel.warehouse_id == warehouse.id,
                                                           StockLevel.sku == sku)).scalar_one_or_none()

    def pushed(self, sku: str, location: str) -> int | None:
        db.session.expire_all()
        return db.session.execute(select(ChannelStock.quantity).where(
            ChannelStock.item_id == self.items[sku], ChannelStock.location_id == location)).scalar_one_or_none()

    def mutations(self) -> int:
        return self.emulator.mutation_count(SHOPIFY_SHOP, "inventorySetQuantities")


def record(sku: str, code: str, on_hand: int, *, as_of: datetime | None = None, inbound: int = 0) -> StockRecord:
    return StockRecord(sku=sku, warehouse_code=code, on_hand=on_hand, available=on_hand, inbound=inbound, as_of=as_of)


def worker_env(tmp_path, database_url: str, redis_url: str, **extra) -> dict[str, str]:
    """The environment of a separate worker process seeing the same database, Redis and keys."""
    return {"NEARSTOCK_ENV": "testing", "NEARSTOCK_INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": database_url, "REDIS_URL": redis_url, "NEARSTOCK_ENCRYPTION_KEY": _KEY,
            "SECRET_KEY": "test-secret-key-with-enough-entropy-0123456789", "SHOPIFY_API_KEY": API_KEY,
            "SHOPIFY_API_SECRET": API_SECRET, "LOG_LEVEL": "WARNING", "LOG_FORMAT": "console", **extra}


@pytest.fixture(name="stack")
def stack_fixture(tmp_path, database_url, redis_url, redis_conn, make_shopify_emulator):
    emulator = make_shopify_emulator()
    berlin = emulator.add_location(SHOPIFY_SHOP, "Berlin", "DE", city="Berlin")
    lyon = emulator.add_location(SHOPIFY_SHOP, "Lyon", "FR", city="Lyon")
    specs = [{"sku": sku, "title": sku, "quantities": {berlin: 5, lyon: 5}} for sku in SKUS]
    product = emulator.add_product(SHOPIFY_SHOP, "Thing", specs)
    token = emulator.grant_token(SHOPIFY_SHOP, emulator.oauth.default_scopes)
    env = {"SHOPIFY_ENDPOINT": emulator.url}
    app = create_app(make_config(tmp_path, database_url, redis_url, **env))
    with app.app_context():
        shop = Shop(domain=SHOPIFY_SHOP, access_token=token, status="installed")
        db.session.add(shop)
        db.session.flush()
        for spec in specs:
            db.session.add(Variant(shop_id=shop.id, shopify_id=spec["id"], product_shopify_id=product,
                                   inventory_item_id=spec["inventory_item_id"], sku=spec["sku"], title=spec["sku"]))
            for location in (berlin, lyon):
                db.session.add(InventoryLevel(shop_id=shop.id, inventory_item_id=spec["inventory_item_id"],
                                              location_shopify_id=location, available=5, external_updated_at=T0))
        account = WarehouseAccount(shop_id=shop.id, provider="winit", name="WINIT",
                                   credentials=json.dumps({"app_key": "k", "token": "t"}))
        db.session.add(account)
        db.session.flush()
        de = Warehouse(shop_id=shop.id, account_id=account.id, code="DEWH", country_code="DE",
                       location_shopify_id=berlin)
        fr = Warehouse(shop_id=shop.id, account_id=account.id, code="FRWH", country_code="FR",
                       location_shopify_id=lyon)
        db.session.add_all([de, fr, ShopSettings(shop_id=shop.id, safety_stock=0, channel_buffers={})])
        db.session.commit()
        yield StockStack(app, emulator, shop, account, de, fr, berlin, lyon,
                         {s["sku"]: s["inventory_item_id"] for s in specs}, Drainer(app),
                         worker_env(tmp_path, database_url, redis_url, **env))
        db.session.remove()
    db.engine.dispose()


class FakeProvider:
    """A provider at the port, over an in-memory warehouse: ``stock[(code, sku)] = on_hand``.
    ``inventory_changes`` pages through a change log (``changed``) with an integer cursor."""

    name = "fake"
    capabilities = frozenset({Capability.INVENTORY_CURSOR})

    def __init__(self, codes=("DEWH", "FRWH"), page_size: int = 2) -> None:
        self.codes = codes
        self.stock: dict[tuple[str, str], int] = {}
        self.log: list[tuple[str, str]] = []
        self.page_size = page_size
        self.calls: list[tuple] = []
        self.clock = T0

    def set(self, code: str, sku: str, on_hand: int) -> None:
        self.stock[(code, sku)] = on_hand
        self.log.append((code, sku))

    def tick(self, seconds: int = 60) -> datetime:
        self.clock += timedelta(seconds=seconds)
        return self.clock

    def _record(self, code: str, sku: str) -> StockRecord:
        return record(sku, code, self.stock[(code, sku)], as_of=self.clock)

    def get_inventory(self, warehouse_code=None, skus=None) -> list[StockRecord]:
        self.calls.append(("get_inventory", warehouse_code, None if skus is None else len(skus)))
        return [self._record(c, s) for (c, s) in sorted(self.stock)
                if (warehouse_code is None or c == warehouse_code) and (skus is None or s in skus)]

    def inventory_changes(self, cursor):
        self.calls.append(("inventory_changes", cursor))
        start = int(cursor or 0)
        part = self.log[start:start + self.page_size]
        end = start + len(part)
        return StockPage(tuple(self._record(c, s) for c, s in part), str(end), has_more=end < len(self.log))
