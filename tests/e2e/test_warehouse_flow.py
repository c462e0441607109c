"""Order to doorstep against the emulators: Shopify order webhook -> allocation -> outbound order at
the right provider -> shipped -> Shopify fulfillment with tracking -> delivered. Also a split
order across two providers, a cancelled order releasing its stock, and forged warehouse webhooks.

Everything crosses real HTTP: the Shopify emulator delivers webhooks to our app served on a
loopback port, our jobs (real RQ workers in burst mode) call the WINIT and ShipBob emulators.
"""

from __future__ import annotations

import json
import time

import pytest
import requests
from sqlalchemy import select

from bench.common import free_port
from integration import create_app
from integration.extensions import db, queues
from integration.models import (
    Allocation,
    Order,
    OutboundOrder,
    Shipment,
    Shop,
    StockLevel,
    TrackingEventRow,
    Variant,
    Warehouse,
    WarehouseAccount,
)
from sandbox.server import serve
from sandbox.shopify.app_config import AppConfig
from tests.conftest import make_config
from tests.helpers import Drainer
from tests.shopify_fixtures import SHOPIFY_SHOP
from tests.winit_fixtures import winit_credentials

pytestmark = pytest.mark.e2e

BERLIN_ADDRESS = {"first_name": "Ada", "last_name": "Lovelace", "address1": "Unter den Linden 1", "city": "Berlin",
                  "zip": "10117", "country_code": "DE"}
DAY = 86400


class Stack:
    def __init__(self, app, shopify, winit, shipbob, worker, ids):
        self.app, self.shopify, self.winit, self.shipbob, self.worker = app, shopify, winit, shipbob, worker
        self.ids = ids

    def settle(self, rounds: int = 30) -> None:
        """Deliver every pending webhook and run every queued job, until nothing moves."""
        for _ in range(rounds):
            self.shopify.flush_webhooks()
            self.shipbob.flush_webhooks()
            ran = self.worker.run()
            if not ran and not any(q.count for q in queues.all()):
                time.sleep(0.05)
                self.shopify.flush_webhooks()
                if not any(q.count for q in queues.all()):
                    return
        raise AssertionError("the system did not settle")

    def poll(self) -> None:
        """What the cron's poll round does, for every open outbound order now."""
        from integration.orders.outbound import open_outbound_ids
        from jobs import warehousing

        for outbound_id in open_outbound_ids():
            warehousing.poll_outbound(outbound_id)
        self.settle()


def seed_world(shopify, winit_emulator, make_shipbob_emulator, app_url: str):
    """The shop of these tests, at Shopify and in our database (inside an app context): Berlin
    served by WINIT (MUG-BLUE), Venlo by ShipBob (LAMP). Returns the ids and the ShipBob emulator."""
    berlin = shopify.add_location(SHOPIFY_SHOP, "Berlin (WINIT)", "DE", city="Berlin", zip="10115")
    venlo = shopify.add_location(SHOPIFY_SHOP, "Venlo (ShipBob)", "NL", city="Venlo", zip="5928")
    variants = [
        {"sku": "MUG-BLUE", "title": "Blue", "price": "12.00", "quantities": {berlin: 100}},
        {"sku": "LAMP", "title": "Lamp", "price": "49.00", "quantities": {venlo: 30}},
    ]
    shopify.add_product(SHOPIFY_SHOP, "Homeware", variants)
    token = shopify.grant_token(SHOPIFY_SHOP, shopify.oauth.default_scopes)
    shop = Shop(domain=SHOPIFY_SHOP, access_token=token, status="installed")
    db.session.add(shop)
    db.session.flush()
    winit_account = WarehouseAccount(shop_id=shop.id, provider="winit", name="WINIT",
                                     credentials=json.dumps(winit_credentials()), endpoint=winit_emulator.url)
    db.session.add(winit_account)
    db.session.flush()
    shipbob = make_shipbob_emulator(app_webhook_url=f"{app_url}/webhooks/warehouse/{winit_account.id + 1}")
    shipbob.add_product("LAMP", name="Lamp")
    shipbob.set_stock(87, "LAMP", 30)
    shipbob_account = WarehouseAccount(
        shop_id=shop.id, provider="shipbob", name="ShipBob", endpoint=shipbob.url,
        credentials=json.dumps({"token": "pat-test-shipbob-0123456789", "channel_id": "100102",
                                "webhook_secret": shipbob.webhook_secret}))
    db.session.add(shipbob_account)
    db.session.flush()
    assert shipbob_account.id == winit_account.id + 1
    dewh = Warehouse(shop_id=shop.id, account_id=winit_account.id, code="DEWH", name="WINIT Berlin",
                     location_shopify_id=berlin, country_code="DE", region="EU",
                     transit_days={"DE": [1, 2], "*": [3, 6]})
    venlo_wh = Warehouse(shop_id=shop.id, account_id=shipbob_account.id, code="87", name="ShipBob Venlo",
                         location_shopify_id=venlo, country_code="NL", region="EU",
                         transit_days={"NL": [1, 2], "DE": [2, 3], "*": [3, 6]})
    db.session.add_all([dewh, venlo_wh])
    db.session.flush()
    for spec, warehouse, on_hand in ((variants[0], dewh, 100), (variants[1], venlo_wh, 30)):
        db.session.add(Variant(shop_id=shop.id, shopify_id=spec["id"], product_shopify_id="gid://shopify/Product/1",
                               inventory_item_id=spec["inventory_item_id"], sku=spec["sku"], title=spec["title"]))
        db.session.add(StockLevel(shop_id=shop.id, warehouse_id=warehouse.id, sku=spec["sku"], on_hand=on_hand))
    db.session.commit()
    ids = {"shop": shop.id, "dewh": dewh.id, "venlo": venlo_wh.id, "berlin": berlin, "venlo_loc": venlo,
           "shipbob_account": shipbob_account.id}
    return ids, shipbob


@pytest.fixture
def stack(tmp_path, database_url, redis_url, redis_conn, make_shopify_emulator, winit_emulator, make_shipbob_emulator):
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    shopify = make_shopify_emulator(app_url=app_url, app_config=AppConfig.load())  # shopify.app.toml
    app = create_app(make_config(tmp_path, database_url, redis_url, APP_URL=app_url, SHOPIFY_ENDPOINT=shopify.url))
    server = serve(app, port=port)
    with app.app_context():
        ids, shipbob = seed_world(shopify, winit_emulator, make_shipbob_emulator, app_url)
        yield Stack(app, shopify, winit_emulator, shipbob, Drainer(app), ids)
        db.session.remove()
    server.shutdown()


def outbounds():
    db.session.expire_all()
    return db.session.execute(select(OutboundOrder).order_by(OutboundOrder.id)).scalars().all()


def reserved(warehouse_id, sku):
    db.session.expire_all()
    return db.session.execute(select(StockLevel.reserved).where(StockLevel.warehouse_id == warehouse_id,
                                                                StockLevel.sku == sku)).scalar_one()


def test_shopify_order_ships_from_local_warehouse_and_is_fulfilled_with_tracking(stack):
    order_gid = stack.shopify.add_order(SHOPIFY_SHOP, line_items=[{"sku": "MUG-BLUE", "quantity": 2}],
                                        shipping_address=BERLIN_ADDRESS, email="ada@example.com", locale="de")
    stack.settle()
    [outbound] = outbounds()
    assert outbound.status == "pushed" and outbound.warehouse_id == stack.ids["dewh"]
    assert reserved(stack.ids["dewh"], "MUG-BLUE") == 2
    sim_order = stack.winit.sim.orders[outbound.reference]
    assert sim_order.lines == [("MUG-BLUE", 2)] and sim_order.address["city"] == "Berlin"

    stack.winit.sim.advance(3 * 3600)  # picked and shipped
    stack.poll()
    [shipment] = db.session.execute(select(Shipment)).scalars().all()
    shipment_id = shipment.id
    assert shipment.tracking_number == sim_order.tracking_number
    [fulfillment] = stack.shopify.fulfillments(SHOPIFY_SHOP)
    assert fulfillment["orderId"] == order_gid if "orderId" in fulfillment else True
    numbers = json.dumps(fulfillment)
    assert sim_order.tracking_number in numbers
    assert reserved(stack.ids["dewh"], "MUG-BLUE") == 0  # consumed, not released

    stack.winit.sim.advance(5 * DAY)  # carrier events through to delivery
    stack.poll()
    stack.poll()  # a second poll reports the same events: nothing new
    db.session.expire_all()
    shipment = db.session.get(Shipment, shipment_id)
    assert shipment.status == "Delivered" and shipment.delivered_at
    statuses = [e["status"] for e in stack.shopify.fulfillment_events(SHOPIFY_SHOP)]
    assert "DELIVERED" in statuses and statuses.count("DELIVERED") == 1
    rows = db.session.execute(select(TrackingEventRow)).scalars().all()
    assert len(rows) == len({(r.status, r.occurred_at) for r in rows})
    assert len(stack.shopify.fulfillments(SHOPIFY_SHOP)) == 1  # still exactly one fulfillment


def test_split_order_ships_from_two_providers(stack):
    lines = [{"sku": "MUG-BLUE", "quantity": 1}, {"sku": "LAMP", "quantity": 1}]
    stack.shopify.add_order(SHOPIFY_SHOP, line_items=lines, shipping_address=BERLIN_ADDRESS, email="ada@example.com")
    stack.settle()
    pushed = outbounds()
    assert {o.warehouse_id for o in pushed} == {stack.ids["dewh"], stack.ids["venlo"]}
    assert all(o.status == "pushed" for o in pushed)
    lamp = next(o for o in pushed if o.warehouse_id == stack.ids["venlo"])
    assert lamp.external_id  # created at ShipBob
    stack.winit.sim.advance(3 * 3600)
    stack.shipbob.advance(3 * 3600)  # ShipBob pushes order.shipped to our webhook
    stack.settle()
    stack.poll()
    assert len(stack.shopify.fulfillments(SHOPIFY_SHOP)) == 2
    assert len(db.session.execute(select(Shipment)).scalars().all()) == 2


def test_cancelled_order_releases_its_stock(stack):
    order_gid = stack.shopify.add_order(SHOPIFY_SHOP, line_items=[{"sku": "MUG-BLUE", "quantity": 3}],
                                        shipping_address=BERLIN_ADDRESS, email="ada@example.com")
    stack.settle()
    assert reserved(stack.ids["dewh"], "MUG-BLUE") == 3
    [outbound] = outbounds()
    stack.shopify.cancel_order(SHOPIFY_SHOP, order_gid)
    stack.settle()
    assert reserved(stack.ids["dewh"], "MUG-BLUE") == 0
    db.session.expire_all()
    assert db.session.get(OutboundOrder, outbound.id).status == "cancelled"
    assert stack.winit.sim.orders[outbound.reference].status == "cancelled"
    assert all(a.status == "cancelled" for a in db.session.execute(select(Allocation)).scalars())
    assert db.session.execute(select(Order)).scalar_one().cancelled_at is not None


def test_forged_warehouse_webhook_is_refused(stack):
    url = f"{stack.app.config['NEARSTOCK'].app_url}/webhooks/warehouse/{stack.ids['shipbob_account']}"
    body = json.dumps({"id": 1, "reference_id": "NS00000001W2"}).encode()
    r = requests.post(url, data=body, headers={"webhook-id": "msg_1", "webhook-timestamp": str(int(time.time())),
                                               "webhook-signature": "v1,Zm9yZ2Vk", "x-webhook-topic": "order.shipped",
                                               "Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_signature"
    r = requests.post(url.rsplit("/", 1)[0] + "/99999", data=body, timeout=10)
    assert r.status_code == 404


def test_mcf_order_ships_from_fba_and_its_tracking_reaches_shopify(stack, amazon_emulator):
    """Amazon FBA as a warehouse: a Shopify order routed to Multi-Channel Fulfillment."""
    from tests.amazon_fixtures import CLIENT_ID, CLIENT_SECRET, DE, REFRESH_TOKEN, SELLER_ID

    shop_id = stack.ids["shop"]
    account = WarehouseAccount(shop_id=shop_id, provider="fba", name="Amazon FBA", endpoint=amazon_emulator.url,
                               credentials=json.dumps({
                                   "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                   "refresh_token": REFRESH_TOKEN, "selling_partner_id": SELLER_ID,
                                   "marketplace_ids": DE, "lwa_token_url": amazon_emulator.token_url}))
    db.session.add(account)
    db.session.flush()
    fba = Warehouse(shop_id=shop_id, account_id=account.id, code=DE, name="FBA Germany", country_code="DE",
                    region="EU", priority=1, transit_days={"DE": [1, 2]})
    db.session.add(fba)
    db.session.flush()
    db.session.add(StockLevel(shop_id=shop_id, warehouse_id=fba.id, sku="MUG-BLUE", on_hand=10))
    db.session.commit()
    amazon_emulator.state.set_fba_stock("MUG-BLUE", 10, marketplace_id=DE, reserved=0)

    stack.shopify.add_order(SHOPIFY_SHOP, line_items=[{"sku": "MUG-BLUE", "quantity": 2}],
                            shipping_address=BERLIN_ADDRESS, email="ada@example.com")
    stack.settle()
    [outbound] = outbounds()
    assert outbound.warehouse_id == fba.id and outbound.status == "pushed"  # merchant priority 1 wins
    assert outbound.reference in amazon_emulator.state.mcf  # sellerFulfillmentOrderId = our reference

    amazon_emulator.advance(hours=5)  # Amazon picks and ships
    stack.poll()
    [shipment] = db.session.execute(select(Shipment)).scalars().all()
    assert shipment.tracking_number.startswith("TBA")
    [fulfillment] = stack.shopify.fulfillments(SHOPIFY_SHOP)
    assert shipment.tracking_number in json.dumps(fulfillment)

    amazon_emulator.advance(hours=45)  # carrier events through to delivery
    stack.poll()
    statuses = [e["status"] for e in stack.shopify.fulfillment_events(SHOPIFY_SHOP)]
    assert "IN_TRANSIT" in statuses and statuses.count("DELIVERED") == 1
