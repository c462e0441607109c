"""Each of the store admin's actions (the local admin's test order, cancel, refund, stock change)
reaches the app as the signed webhook Shopify sends for it: accepted into the inbox (a bad
signature would be refused with 401) and handled by the app's jobs. Over real HTTP both ways: the
app installed from the local admin (token exchange), the emulator delivering to the topics of
shopify.app.toml."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select

from integration.extensions import db
from integration.models import InventoryLevel, Order, Shop
from integration.models.loyalty import LoyaltyRefund
from tests.admin_frame_stack import framed  # noqa: F401 - the "framed" fixture
from tests.shopify_fixtures import SHOPIFY_SHOP

pytestmark = pytest.mark.e2e


@pytest.fixture
def store(framed):  # noqa: F811 - the fixture imported above
    framed.emulator.admin.install(SHOPIFY_SHOP)  # the merchant approved it in the admin…
    first_load = requests.get(framed.emulator.admin.launch_url(SHOPIFY_SHOP, "", {}), allow_redirects=False,
                              timeout=10)  # …which then framed the app
    assert first_load.status_code == 302, first_load.text
    assert db.session.execute(select(Shop)).scalar_one().access_token
    return framed


def act(stack, path: str, body: dict, status: int) -> dict:
    r = requests.post(stack.store_api(path), json=body, timeout=10)
    assert r.status_code == status, r.text
    return r.json()


def delivered_ok(stack) -> None:
    """Every delivery went to the app's /webhooks/shopify, signed, and was accepted the first time."""
    deliveries = stack.emulator.webhook_deliveries
    assert deliveries and {d["url"] for d in deliveries} == {f"{stack.app_url}/webhooks/shopify"}
    assert all(d["status_code"] == 200 and d["attempt"] == 1 and d["headers"]["X-Shopify-Hmac-Sha256"]
               for d in deliveries), [(d["topic"], d["status_code"]) for d in deliveries]


def test_placed_order_arrives_as_orders_create_and_is_imported(store):
    order = act(store, "orders", {"lines": [{"sku": "TEE-BLK-M", "quantity": 2}], "country": "DE",
                                  "email": "kunde@example.com", "locale": "de"}, 201)
    [event] = store.inbox("orders/create")
    assert json.loads(event.body)["admin_graphql_api_id"] == order["id"]
    assert store.inbox("inventory_levels/update")  # the stock it committed
    delivered_ok(store)
    store.worker.run()
    stored = db.session.execute(select(Order).where(Order.external_id == order["id"])).scalar_one()
    assert (stored.name, stored.email, stored.locale, stored.shipping_country) == (
        "#1001", "kunde@example.com", "de", "DE")
    assert [(line.sku, line.quantity) for line in stored.lines] == [("TEE-BLK-M", 2)]


def test_cancelled_order_arrives_as_orders_cancelled(store):
    order = act(store, "orders", {"lines": [{"sku": "TEE-BLK-M", "quantity": 1}], "country": "FR",
                                  "email": "client@example.com", "locale": "fr"}, 201)
    act(store, f"orders/{order['legacy_id']}/cancel", {"reason": "customer"}, 200)
    [event] = store.inbox("orders/cancelled")
    assert json.loads(event.body)["cancel_reason"] == "customer"
    delivered_ok(store)
    store.worker.run()
    stored = db.session.execute(select(Order).where(Order.external_id == order["id"])).scalar_one()
    assert stored.cancelled_at is not None


def test_refund_arrives_as_refunds_create_and_is_recorded(store):
    order = act(store, "orders", {"lines": [{"sku": "TEE-BLK-M", "quantity": 3}], "country": "DE",
                                  "email": "kunde@example.com", "locale": "de"}, 201)
    line = order["lines"][0]["legacy_id"]
    refund = act(store, f"orders/{order['legacy_id']}/refund", {"lines": [{"line_item_id": line, "quantity": 2}]},
                 201)
    [event] = store.inbox("refunds/create")
    body = json.loads(event.body)
    assert (body["admin_graphql_api_id"], body["order_id"]) == (refund["id"], order["legacy_id"])
    assert [u["current_quantity"] for e in store.inbox("orders/updated")
            for u in json.loads(e.body)["line_items"]][-1] == 1
    delivered_ok(store)
    store.worker.run()
    recorded = db.session.execute(select(LoyaltyRefund)).scalar_one()
    assert (recorded.external_id, recorded.lines) == (refund["id"], [["TEE-BLK-M", 2]])
    assert recorded.amount == Decimal("0.00")  # it names its lines: no amount refunded by hand


def test_stock_change_arrives_as_inventory_levels_update(store):
    act(store, "inventory", {"sku": "TEE-WHT-M", "location_id": store.lyon, "available": 9}, 200)
    [event] = store.inbox("inventory_levels/update")
    body = json.loads(event.body)
    assert body["available"] == 9 and body["location_id"] == int(store.lyon.rsplit("/", 1)[1])
    delivered_ok(store)
    store.worker.run()
    level = db.session.execute(select(InventoryLevel).where(InventoryLevel.location_shopify_id == store.lyon,
                                                            InventoryLevel.available == 9)).scalar_one()
    assert level.inventory_item_id == store.emulator.find_variant(SHOPIFY_SHOP, "TEE-WHT-M")["inventory_item_id"]
