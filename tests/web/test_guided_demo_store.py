"""The guided demo store of the start page, against the running emulators (the Shopify emulator's
demo store, served app, the warehouse emulators' demo accounts): what it sets up through the app's
services, that the past orders it places reach the app as Shopify's webhooks and are routed to the
warehouse in the customer's country, and that pressing it again changes nothing more."""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from bench.common import free_port
from integration import create_app
from integration.extensions import db
from integration.loyalty.program import load_rules
from integration.models import ImportRun, ImportStatus, Order, OutboundOrder, Shop, Warehouse, WarehouseAccount
from sandbox.server import serve
from sandbox.shopify.__main__ import DEMO_SHOP, seed_demo
from sandbox.shopify.admin_frame import admin_url
from sandbox.shopify.app_config import AppConfig
from sandbox.warehouses.demo import WarehouseSandbox
from tests.conftest import make_config
from tests.helpers import Drainer


@pytest.fixture
def demo(tmp_path, database_url, redis_url, redis_conn, make_shopify_emulator):
    warehouses = WarehouseSandbox(clock_speed=0).start()
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    emulator = make_shopify_emulator(app_url=app_url, app_config=AppConfig.load())
    seed_demo(emulator)
    sandbox = {"shop": DEMO_SHOP, "admin_url": admin_url(emulator, DEMO_SHOP), "storefront_url": ""}
    app = create_app(make_config(tmp_path, database_url, redis_url, NEARSTOCK_ENV="development", APP_URL=app_url,
                                 SHOPIFY_ENDPOINT=emulator.url, SHOPIFY_SANDBOX=json.dumps(sandbox),
                                 WAREHOUSE_SANDBOX=json.dumps(warehouses.settings())))
    server = serve(app, port=port)
    with app.app_context():
        yield app, emulator, warehouses, Drainer(app)
        db.session.remove()
    server.shutdown()
    warehouses.stop()
    db.engine.dispose()


def settle(emulator, worker, until, timeout: float = 20):
    """Deliver the emulator's webhooks and run the app's jobs until ``until()`` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        emulator.flush_webhooks()
        worker.run()
        db.session.expire_all()
        if until():
            return
        time.sleep(0.2)
    raise AssertionError("not settled in time")


def install(app, emulator, worker) -> Shop:
    """The merchant approves the app in the store's admin; its framed first load installs it."""
    emulator.admin.install(DEMO_SHOP)
    launch = urlsplit(emulator.admin.launch_url(DEMO_SHOP, "", {}))
    assert app.test_client().get(f"{launch.path}?{launch.query}").status_code == 302
    shop = db.session.execute(select(Shop).where(Shop.domain == DEMO_SHOP)).scalar_one()
    settle(emulator, worker, lambda: db.session.execute(select(ImportRun.status).where(
        ImportRun.shop_id == shop.id)).scalar() == ImportStatus.DONE)
    return shop


def routed(shop_id: int) -> dict[str, str]:
    """Each order's shipping country -> the country of the warehouse it was pushed to."""
    rows = db.session.execute(
        select(Order.shipping_country, Warehouse.country_code).join(OutboundOrder, OutboundOrder.order_id == Order.id)
        .join(Warehouse, Warehouse.id == OutboundOrder.warehouse_id).where(Order.shop_id == shop_id)).all()
    return dict(rows)


def count(model, shop_id: int) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(model.shop_id == shop_id)).scalar()


def test_the_guided_demo_store_is_set_up_through_the_apps_services_once(demo):
    app, emulator, warehouses, worker = demo
    client = app.test_client()
    assert client.post("/start/demo-store", json={}).status_code == 409  # not installed yet
    shop = install(app, emulator, worker)

    r = client.post("/start/demo-store", json={})
    assert r.status_code == 200, r.json
    done = r.json["demo"]
    assert done["accounts"] == {"winit": "connected", "shipbob": "connected"} and done["loyalty"] == "switched on"
    assert {(m["warehouse"], m["location"]) for m in done["mapped"]} == {
        ("DE0001", "Berlin warehouse"), ("FR0001", "Paris warehouse"), ("10", "Los Angeles warehouse")}
    assert [o["placed"] for o in done["orders"]] == [True, True, True]

    # Connected as the merchant connects (credentials checked by the emulators, warehouses imported),
    # mapped with transit times; the second US centre has no free US location and stays unmapped.
    accounts = db.session.execute(select(WarehouseAccount).where(WarehouseAccount.shop_id == shop.id)).scalars().all()
    assert sorted(a.provider for a in accounts) == ["shipbob", "winit"] and all(a.endpoint is None for a in accounts)
    by_code = {w.code: w for w in db.session.execute(select(Warehouse).where(Warehouse.shop_id == shop.id)).scalars()}
    assert by_code["DE0001"].transit_days == {"DE": [1, 2], "*": [4, 8]}
    assert by_code["22"].location_shopify_id is None
    rules = load_rules(shop.id)
    assert rules.enabled and rules.local_multiplier == 2

    # The past orders reach the app as the store's webhooks and ship from the customer's country.
    settle(emulator, worker, lambda: len(routed(shop.id)) == 3)
    assert routed(shop.id) == {"DE": "DE", "FR": "FR", "US": "US"}
    parcels = {order.warehouse for vendor in warehouses.vendors.values() for order in vendor.sim.orders.values()}
    assert parcels == {"DE0001", "FR0001", "10"}

    # Pressed again: nothing more.
    with emulator.lock:
        store_orders = len(emulator.shop(DEMO_SHOP).orders)
    before = (count(WarehouseAccount, shop.id), count(Order, shop.id), count(OutboundOrder, shop.id))
    again = client.post("/start/demo-store", json={})
    assert again.status_code == 200
    assert again.json["demo"] == {"accounts": {"winit": "already connected", "shipbob": "already connected"},
                                  "mapped": [], "loyalty": "already on",
                                  "orders": [{**o, "placed": False} for o in done["orders"]]}
    settle(emulator, worker, lambda: True)
    with emulator.lock:
        assert len(emulator.shop(DEMO_SHOP).orders) == store_orders
    assert (count(WarehouseAccount, shop.id), count(Order, shop.id), count(OutboundOrder, shop.id)) == before
    assert "Set up ✓" in client.get("/start").get_data(as_text=True)


def test_a_past_order_the_store_refused_is_placed_at_the_next_press(demo):
    app, emulator, _warehouses, worker = demo
    client = app.test_client()
    install(app, emulator, worker)
    emulator.stop()  # the store's admin is gone: the first past order fails, nothing is claimed
    r = client.post("/start/demo-store", json={})
    assert r.status_code == 502 and "did not take a past order" in r.json["error"]["message"]
    emulator.start("127.0.0.1", urlsplit(emulator.url).port)
    r = client.post("/start/demo-store", json={})
    assert r.status_code == 200, r.json
    assert r.json["demo"]["accounts"] == {"winit": "already connected", "shipbob": "already connected"}
    assert [o["placed"] for o in r.json["demo"]["orders"]] == [True, True, True]
