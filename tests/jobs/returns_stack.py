"""The after-sales world of the returns flow tests, against the emulators over real HTTP: the
Shopify emulator delivers its webhooks to our app served on a loopback port, our jobs (RQ burst
workers) call it and the WINIT emulator (a US warehouse first by the merchant's priority, and a
DE one), notices go to a loopback SMTP server (the test module imports the ``smtp_server``
fixture). A German customer's order is placed at Shopify, shipped from DE and delivered, as the
order flow does it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bench.common import free_port
from integration import create_app
from integration.extensions import db, queues
from integration.models import (
    Order,
    OutboundOrder,
    Return,
    ReturnRulesRow,
    Shipment,
    Shop,
    StockLevel,
    Variant,
    Warehouse,
    WarehouseAccount,
)
from integration.models.notification import Notification
from integration.notices.mailer import close_mailer
from sandbox.server import serve
from sandbox.shopify.app_config import AppConfig
from tests.conftest import make_config
from tests.helpers import Drainer
from tests.shopify_fixtures import SHOPIFY_SHOP
from tests.winit_fixtures import winit_credentials

BERLIN = {"first_name": "Ada", "last_name": "Lovelace", "address1": "Unter den Linden 1", "city": "Berlin",
          "zip": "10117", "country_code": "DE"}
EMAIL = "ada@example.com"
HOUR, DAY = 3600, 86400


@dataclass
class ReturnsStack:
    app: object
    shopify: object
    winit: object
    smtp: object
    worker: Drainer
    ids: dict

    def settle(self, rounds: int = 40) -> None:
        """Deliver every pending webhook and run every queued job (due retries too) until nothing moves."""
        for _ in range(rounds):
            self.shopify.flush_webhooks()
            ran = self.worker.run()
            if not ran and not any(q.count for q in queues.all()):
                time.sleep(0.05)
                self.shopify.flush_webhooks()
                if not any(q.count for q in queues.all()):
                    return
        raise AssertionError("the system did not settle")

    def poll_outbounds(self) -> None:
        """The cron's poll round of open outbound orders, now."""
        from integration.orders.outbound import open_outbound_ids
        from jobs import warehousing

        for outbound_id in open_outbound_ids():
            warehousing.poll_outbound(outbound_id)
        self.settle()

    def follow_returns(self) -> None:
        """The cron's returns round (every open RMA read again), then everything it started."""
        from jobs.returns import follow_returns

        follow_returns()
        self.settle()

    def place_order(self, sku: str = "MUG-BLUE", quantity: int = 2) -> tuple[str, int]:
        """A German customer's order at Shopify, imported and pushed to a warehouse."""
        gid = self.shopify.add_order(SHOPIFY_SHOP, line_items=[{"sku": sku, "quantity": quantity}],
                                     shipping_address=BERLIN, email=EMAIL, locale="de")
        self.settle()
        return gid, db.session.execute(select(Order.id).where(Order.external_id == gid)).scalar_one()

    def ship(self, order_id: int) -> Shipment:
        """The order's parcel leaves its warehouse (and Shopify's fulfillment is made)."""
        self.winit.sim.advance(3 * HOUR)
        self.poll_outbounds()
        db.session.expire_all()
        return db.session.execute(select(Shipment).join(OutboundOrder, OutboundOrder.id == Shipment.outbound_id)
                                  .where(Shipment.order_id == order_id, OutboundOrder.purpose == "")).scalar_one()

    def deliver(self) -> None:
        self.winit.sim.advance(5 * DAY)
        self.poll_outbounds()


def on_hand(warehouse_id: int, sku: str) -> int:
    db.session.expire_all()
    return db.session.execute(select(StockLevel.on_hand).where(StockLevel.warehouse_id == warehouse_id,
                                                               StockLevel.sku == sku)).scalar_one()


def the_return(return_id: int | None = None) -> Return:
    db.session.expire_all()
    query = select(Return) if return_id is None else select(Return).where(Return.id == return_id)
    return db.session.execute(query).scalar_one()


def notices(subject: str) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.execute(select(Notification).where(Notification.subject == subject)
                                   .order_by(Notification.id)).scalars())


def seed(shopify, winit, *, auto_approve: bool) -> dict:
    berlin = shopify.add_location(SHOPIFY_SHOP, "Berlin (WINIT)", "DE", city="Berlin", zip="10115")
    ontario = shopify.add_location(SHOPIFY_SHOP, "Ontario (WINIT)", "US", city="Ontario", zip="91761")
    specs = [{"sku": "MUG-BLUE", "title": "Blue", "price": "12.50", "quantities": {berlin: 100, ontario: 40}},
             {"sku": "MUG-RED", "title": "Red", "price": "12.50", "quantities": {berlin: 50}}]
    shopify.add_product(SHOPIFY_SHOP, "Mug", specs)
    token = shopify.grant_token(SHOPIFY_SHOP, shopify.oauth.default_scopes)
    shop = Shop(domain=SHOPIFY_SHOP, access_token=token, status="installed")
    db.session.add(shop)
    db.session.flush()
    account = WarehouseAccount(shop_id=shop.id, provider="winit", name="WINIT",
                               credentials=json.dumps(winit_credentials()), endpoint=winit.url)
    db.session.add(account)
    db.session.flush()
    # The US warehouse comes first by the merchant's priority: a German return must still go to DE.
    us = Warehouse(shop_id=shop.id, account_id=account.id, code="USWC", name="WINIT Ontario", country_code="US",
                   region="NA", priority=1, location_shopify_id=ontario, transit_days={"US": [2, 4], "*": [6, 12]})
    de = Warehouse(shop_id=shop.id, account_id=account.id, code="DEWH", name="WINIT Berlin", country_code="DE",
                   region="EU", location_shopify_id=berlin, transit_days={"DE": [1, 2], "*": [3, 6]})
    db.session.add_all([us, de])
    db.session.flush()
    for spec in specs:
        db.session.add(Variant(shop_id=shop.id, shopify_id=spec["id"], product_shopify_id="gid://shopify/Product/1",
                               inventory_item_id=spec["inventory_item_id"], sku=spec["sku"], title=spec["title"]))
    for warehouse, sku in ((de, "MUG-BLUE"), (us, "MUG-BLUE"), (de, "MUG-RED")):
        db.session.add(StockLevel(shop_id=shop.id, warehouse_id=warehouse.id, sku=sku,
                                  on_hand=winit.sim._stock_of(warehouse.code, sku).on_hand))
    db.session.add(ReturnRulesRow(shop_id=shop.id, window_days=30, accepted_reasons=[], non_returnable_skus=[],
                                  auto_approve=auto_approve, reship_when_lost=True))
    db.session.commit()
    return {"shop": shop.id, "de": de.id, "us": us.id, "berlin": berlin, "ontario": ontario,
            "items": {s["sku"]: s["inventory_item_id"] for s in specs}}


@pytest.fixture
def make_stack(tmp_path, database_url, redis_url, redis_conn, make_shopify_emulator, winit_emulator, smtp_server):
    started = []

    def make(*, auto_approve: bool = True) -> ReturnsStack:
        port = free_port()
        app_url = f"http://127.0.0.1:{port}"
        shopify = make_shopify_emulator(app_url=app_url, app_config=AppConfig.load())  # shopify.app.toml
        app = create_app(make_config(tmp_path, database_url, redis_url, APP_URL=app_url,
                                     SHOPIFY_ENDPOINT=shopify.url, SMTP_URL=smtp_server.url))
        server = serve(app, port=port)
        context = app.app_context()
        context.push()
        started.append((server, context))
        ids = seed(shopify, winit_emulator, auto_approve=auto_approve)
        return ReturnsStack(app, shopify, winit_emulator, smtp_server, Drainer(app), ids)

    yield make
    for server, context in started:
        close_mailer()
        db.session.remove()
        context.pop()
        server.shutdown()
