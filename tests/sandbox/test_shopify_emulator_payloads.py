"""The webhooks the emulator sends on its own carry Shopify's REST-shaped resources: every body is
read without error by the app's strict parsers (connectors.shopify.webhook_*), the values
read equal the emulator's state, and ``updated_at`` moves strictly forward on every change."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
from flask import Flask

from connectors.shopify.webhook_catalog import parse_inventory_level, parse_product
from connectors.shopify.webhook_fulfillments import parse_fulfillment
from connectors.shopify.webhook_orders import parse_cancelled_order, parse_order
from integration.domain.orders import Address, Customer
from sandbox.server import serve
from sandbox.shopify.app_config import AppConfig, Subscription
from sandbox.shopify.emulator import API_VERSION
from tests.shopify_fixtures import SHOPIFY_SHOP, seed_shopify_catalog, shopify_graphql

TOPICS = ("orders/create", "orders/updated", "orders/cancelled", "fulfillments/create",
          "fulfillments/update", "inventory_levels/update", "products/update")
SHIPPING = {"first_name": "Ada", "last_name": "Lovelace", "company": "Analytical Engines",
            "address1": "Unter den Linden 1", "address2": "3. OG", "city": "Berlin", "province": "Berlin",
            "province_code": "BE", "zip": "10117", "country": "Germany", "country_code": "DE",
            "phone": "+49 30 1234567"}
BILLING = {"firstName": "Charles", "lastName": "Babbage", "address1": "1 Dorset Street",
           "city": "London", "zip": "W1U 4EG", "country": "United Kingdom", "countryCodeV2": "GB"}
ORDER = """query($id: ID!) { order(id: $id) { id name updatedAt createdAt cancelledAt
  displayFulfillmentStatus lineItems(first: 10) { nodes { id sku quantity currentQuantity
  variant { id } product { id } } } } }"""
FULFILL = """mutation($fulfillment: FulfillmentInput!) { fulfillmentCreate(fulfillment: $fulfillment) {
  fulfillment { id name updatedAt } userErrors { field message } } }"""
TRACKING = """mutation($id: ID!, $t: FulfillmentTrackingInput!) {
  fulfillmentTrackingInfoUpdate(fulfillmentId: $id, trackingInfoInput: $t) { userErrors { message } } }"""
EVENT = """mutation($e: FulfillmentEventInput!) { fulfillmentEventCreate(fulfillmentEvent: $e) {
  userErrors { message } } }"""
SET = """mutation($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) { userErrors { code } } }"""
METAFIELDS = """mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) {
  userErrors { code } } }"""


def app_config(*topics: str) -> AppConfig:
    """The app declares ``topics`` (only) in its shopify.app.toml."""
    return AppConfig(API_VERSION, (Subscription(frozenset(topics), "/webhooks/shopify"),))


@pytest.fixture
def sink():
    """An app endpoint that accepts everything; the bodies are read from the emulator's log."""
    app = Flask("sink")
    app.post("/webhooks/shopify")(lambda: ("", 200))
    server = serve(app)
    yield server.url
    server.shutdown()


@pytest.fixture
def emulator(make_shopify_emulator, sink):
    return make_shopify_emulator(app_url=sink, app_config=app_config(*TOPICS))


@pytest.fixture
def catalog(emulator):
    return seed_shopify_catalog(emulator)


class Bodies:
    """Each ``take`` returns the bodies delivered since the last one, by topic."""

    def __init__(self, emulator) -> None:
        self.emulator, self.seen = emulator, 0

    def take(self) -> dict[str, list[dict]]:
        assert self.emulator.flush_webhooks(timeout=10)
        deliveries = self.emulator.webhook_deliveries
        new, self.seen = deliveries[self.seen:], len(deliveries)
        out: dict[str, list[dict]] = {}
        for delivery in new:
            assert delivery["status_code"] == 200
            out.setdefault(delivery["topic"], []).append(json.loads(delivery["body"]))
        return out


def graphql(emulator, catalog, query, variables):
    body = shopify_graphql(emulator, catalog["token"], query, variables).json()
    assert "errors" not in body, body
    return body["data"]


def order_state(emulator, catalog, order_id):
    return graphql(emulator, catalog, ORDER, {"id": order_id})["order"]


def stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def new_order(emulator, catalog, **extra):
    return emulator.add_order(SHOPIFY_SHOP, line_items=[
        {"sku": "TEE-BLK-M", "quantity": 3, "location_id": catalog["berlin"], "price": "24.50"},
        {"sku": "TEE-BLK-M", "quantity": 1, "location_id": catalog["lyon"]},
    ], shipping_address=SHIPPING, email="ada@example.com", locale="de", **extra)


def test_orders_create_is_the_whole_order(emulator, catalog):
    bodies = Bodies(emulator)
    order_id = new_order(emulator, catalog, billing_address=BILLING, phone="+49 170 000",
                         customer={"first_name": "Augusta Ada", "phone": "+49 171 111"})
    sent = bodies.take()
    assert len(sent["orders/create"]) == 1
    body = sent["orders/create"][0]
    assert body == emulator.order_payload(SHOPIFY_SHOP, order_id)  # the helper shows what is sent
    order = parse_order(body)
    state = order_state(emulator, catalog, order_id)

    assert order.external_id == order_id and order.name == state["name"] == "#1002"
    assert order.updated_at == stamp(state["updatedAt"]) and order.created_at == stamp(state["createdAt"])
    assert body["updated_at"].endswith(("+01:00", "+02:00"))  # the shop's zone, as REST sends it
    assert (order.email, order.phone, order.locale, order.currency) == ("ada@example.com", "+49 170 000", "de",
                                                                       "EUR")
    assert order.customer == Customer(id=order.customer.id, email="ada@example.com", phone="+49 171 111",
                                      first_name="Augusta Ada", last_name="Lovelace")
    assert order.customer.id.startswith("gid://shopify/Customer/")
    assert order.shipping_address == Address(**SHIPPING, name="Ada Lovelace")
    assert order.billing_address == Address(first_name="Charles", last_name="Babbage", name="Charles Babbage",
                                            address1="1 Dorset Street", city="London", zip="W1U 4EG",
                                            country="United Kingdom", country_code="GB")
    assert (order.financial_status, order.fulfillment_status, order.cancelled_at) == ("paid", None, None)
    assert order.total_price == Decimal("98.50")  # 3 x 24.50 + 1 x 25.00

    lines = state["lineItems"]["nodes"]
    assert [line.external_id for line in order.lines] == [line["id"] for line in lines]
    for parsed, line in zip(order.lines, lines, strict=True):
        assert (parsed.sku, parsed.quantity, parsed.current_quantity) == (line["sku"], line["quantity"],
                                                                         line["currentQuantity"])
        assert parsed.variant_external_id == line["variant"]["id"] == catalog["variants"][0]["id"]
        assert parsed.product_external_id == line["product"]["id"] == catalog["product"]
        assert parsed.name == "Organic Tee - Black / M"
    assert [line.price for line in order.lines] == [Decimal("24.50"), Decimal("25.00")]
    assert [li["fulfillable_quantity"] for li in body["line_items"]] == [3, 1]

    # The stock it committed, one inventory_levels/update per level.
    item = catalog["variants"][0]["inventory_item_id"]
    levels = {parse_inventory_level(b).level.location_id: parse_inventory_level(b)
              for b in sent["inventory_levels/update"]}
    assert set(levels) == {catalog["berlin"], catalog["lyon"]}
    for location, update in levels.items():
        assert update.level.inventory_item_id == item
        assert update.level.available == emulator.inventory_quantity(SHOPIFY_SHOP, item, location)
    assert levels[catalog["berlin"]].level.available == 5 and levels[catalog["lyon"]].level.available == 3


def test_fulfillment_webhooks_follow_create_tracking_and_events(emulator, catalog):
    bodies = Bodies(emulator)
    order_id = catalog["order"]
    # Seeded before the app was installed: its orders/create went nowhere; the order as it is now.
    created_at = parse_order(emulator.order_payload(SHOPIFY_SHOP, order_id)).updated_at
    fo = graphql(emulator, catalog, """query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) {
      nodes { id lineItems(first: 5) { nodes { id } } } } } }""", {"id": order_id}
                 )["order"]["fulfillmentOrders"]["nodes"][0]
    done = graphql(emulator, catalog, FULFILL, {"fulfillment": {
        "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": [
            {"id": fo["lineItems"]["nodes"][0]["id"], "quantity": 1}]}],
        "trackingInfo": {"company": "DHL Express", "numbers": ["JD01", "JD02"],
                         "urls": ["https://dhl.example/JD01", "https://dhl.example/JD02"]}}})["fulfillmentCreate"]
    assert done["userErrors"] == []
    fulfillment_id = done["fulfillment"]["id"]
    sent = bodies.take()
    shipped = parse_fulfillment(sent["fulfillments/create"][0])
    assert (shipped.external_id, shipped.order_external_id, shipped.name) == (fulfillment_id, order_id, "#1001.1")
    assert (shipped.status, shipped.shipment_status, shipped.tracking_company) == ("success", None, "DHL Express")
    assert shipped.tracking_numbers == ("JD01", "JD02")
    assert shipped.tracking_urls == ("https://dhl.example/JD01", "https://dhl.example/JD02")
    assert shipped.updated_at == stamp(done["fulfillment"]["updatedAt"])
    assert [(li["quantity"], li["sku"]) for li in sent["fulfillments/create"][0]["line_items"]] == [(1, "TEE-BLK-M")]
    # One of the two units shipped: the order is partially fulfilled, and newer.
    order = parse_order(sent["orders/updated"][0])
    assert order.fulfillment_status == "partial" and order.updated_at > created_at
    assert sent["orders/updated"][0]["line_items"][0]["fulfillable_quantity"] == 1
    assert order_state(emulator, catalog, order_id)["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"

    graphql(emulator, catalog, TRACKING, {"id": fulfillment_id, "t": {"company": "UPS", "number": "1Z999"}})
    retracked = parse_fulfillment(bodies.take()["fulfillments/update"][0])
    assert (retracked.tracking_company, retracked.tracking_numbers) == ("UPS", ("1Z999",))
    assert retracked.updated_at > shipped.updated_at

    stamps = [retracked.updated_at]
    for status in ("IN_TRANSIT", "DELIVERED"):
        graphql(emulator, catalog, EVENT, {"e": {"fulfillmentId": fulfillment_id, "status": status}})
        sent = bodies.take()
        moved = parse_fulfillment(sent["fulfillments/update"][0])
        assert moved.shipment_status == status.lower() and moved.tracking_numbers == ("1Z999",)
        stamps.append(moved.updated_at)
    assert stamps == sorted(set(stamps))  # strictly increasing


def test_cancel_order_restocks_and_sends_the_cancelled_order(emulator, catalog):
    bodies = Bodies(emulator)
    order_id = new_order(emulator, catalog)
    placed = parse_order(bodies.take()["orders/create"][0])
    item = catalog["variants"][0]["inventory_item_id"]
    assert emulator.inventory_quantity(SHOPIFY_SHOP, item, catalog["berlin"], "committed") == 5

    emulator.cancel_order(SHOPIFY_SHOP, order_id, reason="inventory")
    sent = bodies.take()
    cancelled = parse_cancelled_order(sent["orders/cancelled"][0])
    updated = parse_order(sent["orders/updated"][0])
    state = order_state(emulator, catalog, order_id)
    assert cancelled == updated
    assert cancelled.cancelled_at == stamp(state["cancelledAt"]) == cancelled.updated_at
    assert cancelled.updated_at > placed.updated_at
    assert sent["orders/cancelled"][0]["cancel_reason"] == "inventory"
    assert (cancelled.financial_status, cancelled.fulfillment_status) == ("refunded", "restocked")
    assert [line.current_quantity for line in cancelled.lines] == [0, 0]
    assert [line.quantity for line in cancelled.lines] == [3, 1]
    assert state["displayFulfillmentStatus"] == "RESTOCKED"

    # Only the seeded order's 2 units stay committed at Berlin; Lyon gets its unit back.
    assert emulator.inventory_quantity(SHOPIFY_SHOP, item, catalog["berlin"], "committed") == 2
    assert emulator.inventory_quantity(SHOPIFY_SHOP, item, catalog["berlin"]) == 8
    assert emulator.inventory_quantity(SHOPIFY_SHOP, item, catalog["lyon"]) == 4
    levels = {u.level.location_id: u.level.available for u in map(parse_inventory_level,
                                                                   sent["inventory_levels/update"])}
    assert levels == {catalog["berlin"]: 8, catalog["lyon"]: 4}
    with pytest.raises(ValueError, match="already cancelled"):
        emulator.cancel_order(SHOPIFY_SHOP, order_id)
    with pytest.raises(ValueError, match="cancel reason"):
        emulator.cancel_order(SHOPIFY_SHOP, catalog["order"], reason="bored")


def test_update_order_sends_newer_copies(emulator, catalog):
    bodies = Bodies(emulator)
    order_id = catalog["order"]
    assert bodies.take() == {}  # seeded before the app was installed: no orders/create
    stamps = [parse_order(emulator.order_payload(SHOPIFY_SHOP, order_id)).updated_at]
    # Deliveries may arrive in any order (as from Shopify): read each change's copy on its own.
    for change in ({"email": "ada@lovelace.example", "tags": ["vip"]},
                   {"shipping_address": {**SHIPPING, "zip": "10178"}},
                   {"current_quantities": {"TEE-BLK-M": 1}}):
        emulator.update_order(SHOPIFY_SHOP, order_id, **change)
        sent = bodies.take()
        [body] = sent["orders/updated"]
        stamps.append(parse_order(body).updated_at)
    assert stamps == sorted(set(stamps))  # three changes within a second, three newer stamps
    last = parse_order(body)
    assert last.updated_at == stamp(order_state(emulator, catalog, order_id)["updatedAt"])
    assert last.email == "ada@lovelace.example" and body["tags"] == "vip"
    assert last.shipping_address.zip == "10178"
    assert (last.lines[0].quantity, last.lines[0].current_quantity, last.lines[0].open_quantity) == (2, 1, 1)
    # The removed unit went back to Berlin's available stock.
    item = catalog["variants"][0]["inventory_item_id"]
    assert parse_inventory_level(sent["inventory_levels/update"][0]).level.available == 9
    assert emulator.inventory_quantity(SHOPIFY_SHOP, item, catalog["berlin"]) == 9
    with pytest.raises(TypeError, match="colour"):
        emulator.update_order(SHOPIFY_SHOP, order_id, colour="red")

    # A hand-sent copy (send_webhook) is the same body.
    emulator.send_webhook(SHOPIFY_SHOP, "orders/updated", emulator.order_payload(SHOPIFY_SHOP, order_id))
    assert parse_order(bodies.take()["orders/updated"][0]) == last


def test_inventory_set_quantities_sends_newer_levels(emulator, catalog):
    bodies = Bodies(emulator)
    bodies.take()
    item = catalog["variants"][0]["inventory_item_id"]
    stamps = []
    for i, (quantity, before) in enumerate([(7, 4), (9, 7), (1, 9)]):
        data = graphql(emulator, catalog, SET, {"key": f"k-{i}", "input": {
            "name": "available", "reason": "correction", "quantities": [{
                "inventoryItemId": item, "locationId": catalog["lyon"], "quantity": quantity,
                "changeFromQuantity": before}]}})
        assert data["inventorySetQuantities"]["userErrors"] == []
        [body] = bodies.take()["inventory_levels/update"]
        update = parse_inventory_level(body)
        assert (update.level.inventory_item_id, update.level.location_id) == (item, catalog["lyon"])
        assert update.level.available == quantity == emulator.inventory_quantity(SHOPIFY_SHOP, item,
                                                                                 catalog["lyon"])
        assert body["admin_graphql_api_id"].startswith("gid://shopify/InventoryLevel/")
        stamps.append(update.updated_at)
    assert stamps == sorted(set(stamps))


def test_product_changes_send_products_update(emulator, catalog):
    bodies = Bodies(emulator)
    bodies.take()
    product_id = catalog["product"]
    emulator.update_product(SHOPIFY_SHOP, product_id, title="Organic Tee 2",
                            variants={"TEE-WHT-M": {"sku": "TEE-WHT-M2", "barcode": "4006381333948"}})
    [body] = bodies.take()["products/update"]
    product = parse_product(body)
    assert (product.id, product.title) == (product_id, "Organic Tee 2")
    assert [(v.id, v.sku, v.barcode, v.inventory_item_id) for v in product.variants] == [
        (v["id"], sku, barcode, v["inventory_item_id"])
        for v, sku, barcode in zip(catalog["variants"], ("TEE-BLK-M", "TEE-WHT-M2"),
                                   ("4006381333931", "4006381333948"), strict=True)]
    assert product.all_variant_ids == tuple(v["id"] for v in catalog["variants"])
    assert body == emulator.product_payload(SHOPIFY_SHOP, product_id)

    # Its metafields are part of it (one products/update per request and product).
    data = graphql(emulator, catalog, METAFIELDS, {"m": [
        {"ownerId": product_id, "namespace": "nearstock", "key": k, "type": "single_line_text_field",
         "value": "x"} for k in ("badge", "eta")]})
    assert data["metafieldsSet"]["userErrors"] == []
    [again] = bodies.take()["products/update"]
    assert parse_product(again).updated_at > product.updated_at


def test_only_app_topics_reach_the_app_without_subscriptions(make_shopify_emulator, sink):
    emulator = make_shopify_emulator(app_url=sink, app_config=app_config("orders/cancelled"))
    catalog = seed_shopify_catalog(emulator)
    bodies = Bodies(emulator)
    assert bodies.take() == {}  # orders/create and inventory_levels/update are not declared
    emulator.cancel_order(SHOPIFY_SHOP, catalog["order"])
    sent = bodies.take()
    assert list(sent) == ["orders/cancelled"]
    assert parse_cancelled_order(sent["orders/cancelled"][0]).external_id == catalog["order"]
