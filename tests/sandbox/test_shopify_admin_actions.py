"""The emulated store's own admin actions (sandbox/shopify/admin_actions.py, refunds.py): what they
change in the store, and that hostile input gets a 4xx, never a 5xx. That their webhooks reach the
app is tests/e2e/test_store_admin_webhooks.py."""

from __future__ import annotations

import re

import pytest

from tests.shopify_fixtures import SHOPIFY_SHOP, shopify_graphql

API = "/store/acme/admin/api"
ORDER = {"lines": [{"sku": "TEE-BLK-M", "quantity": 2}], "country": "DE", "email": "kunde@example.com",
         "locale": "de"}
FULFILL = """mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) {
  fulfillment { id } userErrors { message } } }"""


@pytest.fixture
def store(shopify_emulator, shopify_catalog):
    return shopify_emulator, shopify_catalog, shopify_emulator.wsgi_app.test_client()


def place(client, **changes):
    r = client.post(f"{API}/orders", json={**ORDER, **changes})
    assert r.status_code == 201, r.json
    return r.json


def available(emulator, catalog, location="berlin", name="available", sku_index=0):
    return emulator.inventory_quantity(SHOPIFY_SHOP, catalog["variants"][sku_index]["inventory_item_id"],
                                       catalog[location], name)


def test_test_order_is_a_paid_checkout_with_its_customer_country_and_language(store):
    emulator, catalog, client = store
    before = available(emulator, catalog)
    order = place(client, first_name="Lena", city="Köln", zip="50667")
    payload = emulator.order_payload(SHOPIFY_SHOP, order["id"])
    assert (payload["email"], payload["customer_locale"], payload["financial_status"]) == (
        "kunde@example.com", "de", "paid")
    address = payload["shipping_address"]
    assert (address["first_name"], address["last_name"], address["city"], address["zip"], address["country"]) == (
        "Lena", "Customer", "Köln", "50667", "Germany")
    assert [(li["sku"], li["quantity"]) for li in payload["line_items"]] == [("TEE-BLK-M", 2)]
    assert available(emulator, catalog) == before - 2  # committed at the location it was assigned to
    assert order["name"] == "#1002" and order["country"] == "DE" and order["locale"] == "de"


@pytest.mark.parametrize(("body", "status"), [
    ({**ORDER, "lines": []}, 400),
    ({**ORDER, "lines": [{"sku": "TEE-BLK-M", "quantity": 0}]}, 400),
    ({**ORDER, "lines": [{"sku": "TEE-BLK-M", "quantity": 101}]}, 400),
    ({**ORDER, "lines": [{"sku": "TEE-BLK-M", "quantity": True}]}, 400),
    ({**ORDER, "lines": [{"sku": "TEE-BLK-M", "quantity": "2"}]}, 400),
    ({**ORDER, "lines": [{"sku": "NOPE", "quantity": 1}]}, 400),
    ({**ORDER, "lines": [{"sku": "TEE-BLK-M", "quantity": 1}] * 2}, 400),
    ({**ORDER, "lines": [{"sku": "TEE-BLK-M", "quantity": 1}] * 21}, 400),
    ({**ORDER, "lines": ["TEE-BLK-M"]}, 400),
    ({**ORDER, "lines": [{"sku": "x" * 300, "quantity": 1}]}, 400),
    ({**ORDER, "country": "XX"}, 400),
    ({**ORDER, "country": "de"}, 400),
    ({**ORDER, "email": "not-an-email"}, 400),
    ({**ORDER, "email": "a@b.de\nBcc: x@y.z"}, 400),
    ({**ORDER, "email": "a" * 300 + "@example.com"}, 400),
    ({**ORDER, "locale": "german"}, 400),
    ({**ORDER, "first_name": "x" * 61}, 400),
    ({**ORDER, "city": "Berlin\x00"}, 400),
    ({**ORDER, "zip": 10115}, 400),
    ([ORDER], 400),
])
def test_bad_test_orders_are_refused(store, body, status):
    emulator, _catalog, client = store
    r = client.post(f"{API}/orders", json=body)
    assert r.status_code == status and "error" in r.json
    assert len(emulator.shop(SHOPIFY_SHOP).orders) == 1  # the seeded order only


def test_bodies_must_be_small_json_objects_for_a_known_store(store):
    emulator, _catalog, client = store
    assert client.post(f"{API}/orders", data={"lines": "x"}).status_code == 415  # a cross-site form post
    assert client.post(f"{API}/orders", data="{", content_type="application/json").status_code == 400
    big = {**ORDER, "note": "x" * 20_000}
    assert client.post(f"{API}/orders", json=big).status_code == 413
    assert client.post("/store/other/admin/api/orders", json=ORDER).status_code == 404
    assert client.post("/store/ACME/admin/api/orders", json=ORDER).status_code == 404
    assert client.get(f"{API}/orders").status_code == 405
    assert len(emulator.shop(SHOPIFY_SHOP).orders) == 1


def test_cancel_restocks_and_refunds_once(store):
    emulator, catalog, client = store
    before = available(emulator, catalog)
    order = place(client)
    r = client.post(f"{API}/orders/{order['legacy_id']}/cancel", json={"reason": "inventory"})
    assert r.status_code == 200 and r.json["cancelled"] and r.json["financial_status"] == "refunded"
    assert available(emulator, catalog) == before
    assert emulator.order_payload(SHOPIFY_SHOP, order["id"])["cancel_reason"] == "inventory"
    again = client.post(f"{API}/orders/{order['legacy_id']}/cancel", json={})
    assert again.status_code == 409 and "already cancelled" in again.json["error"]
    assert client.post(f"{API}/orders/{order['legacy_id']}/cancel", json={"reason": "boredom"}).status_code == 400
    assert client.post(f"{API}/orders/999999/cancel", json={}).status_code == 404
    # A variant's id is not an order's.
    variant = catalog["variants"][0]["id"].rsplit("/", 1)[1]
    assert client.post(f"{API}/orders/{variant}/cancel", json={}).status_code == 404


def test_refund_of_unshipped_units_releases_them_and_is_recorded_on_the_order(store):
    emulator, catalog, client = store
    before = available(emulator, catalog)
    order = place(client, lines=[{"sku": "TEE-BLK-M", "quantity": 3}])
    line = order["lines"][0]["legacy_id"]
    r = client.post(f"{API}/orders/{order['legacy_id']}/refund", json={"lines": [{"line_item_id": line, "quantity": 1}],
                                                                        "note": "one too many"})
    assert r.status_code == 201 and r.json["amount"] == "25.00"
    assert r.json["order"]["financial_status"] == "partially_refunded"
    assert available(emulator, catalog) == before - 2
    payload = emulator.order_payload(SHOPIFY_SHOP, order["id"])
    [refund] = payload["refunds"]
    assert refund["note"] == "one too many" and refund["transactions"][0]["amount"] == "25.00"
    assert [(i["quantity"], i["restock_type"], i["line_item_id"]) for i in refund["refund_line_items"]] == [
        (1, "cancel", line)]
    assert payload["line_items"][0]["current_quantity"] == 2

    over = client.post(f"{API}/orders/{order['legacy_id']}/refund", json={"lines": [{"line_item_id": line,
                                                                                      "quantity": 3}]})
    assert over.status_code == 409 and "2 unit(s) can be refunded" in over.json["error"]
    rest = client.post(f"{API}/orders/{order['legacy_id']}/refund", json={})  # everything left
    assert rest.status_code == 201 and rest.json["amount"] == "50.00"
    assert rest.json["order"]["financial_status"] == "refunded" and available(emulator, catalog) == before
    assert client.post(f"{API}/orders/{order['legacy_id']}/refund", json={}).status_code == 409


def test_refund_of_shipped_units_restocks_them_where_they_shipped_from_only_when_asked(store):
    emulator, catalog, client = store
    order = place(client, lines=[{"sku": "TEE-BLK-M", "quantity": 2}])
    s = emulator.shop(SHOPIFY_SHOP)
    fo = s.nodes[order["id"]]["_fulfillment_orders"][0]
    shipped = shopify_graphql(emulator, catalog["token"], FULFILL, {"f": {"lineItemsByFulfillmentOrder": [
        {"fulfillmentOrderId": fo}]}}).json()["data"]["fulfillmentCreate"]
    assert shipped["userErrors"] == []
    on_shelf = available(emulator, catalog)
    line = order["lines"][0]["legacy_id"]
    url = f"{API}/orders/{order['legacy_id']}/refund"
    kept = client.post(url, json={"lines": [{"line_item_id": line, "quantity": 1}], "restock": False})
    back = client.post(url, json={"lines": [{"line_item_id": f"gid://shopify/LineItem/{line}", "quantity": 1}]})
    assert (kept.status_code, back.status_code) == (201, 201)
    assert available(emulator, catalog) == on_shelf + 1  # only the restocked return
    refunds = emulator.order_payload(SHOPIFY_SHOP, order["id"])["refunds"]
    assert [i["restock_type"] for r in refunds for i in r["refund_line_items"]] == ["no_restock", "return"]
    assert refunds[1]["refund_line_items"][0]["location_id"] == int(catalog["berlin"].rsplit("/", 1)[1])


@pytest.mark.parametrize("body", [
    {"lines": []}, {"lines": [{"line_item_id": 1, "quantity": 0}]}, {"lines": [{"line_item_id": "x", "quantity": 1}]},
    {"lines": [{"line_item_id": "gid://shopify/Order/1", "quantity": 1}]}, {"lines": "all"}, {"restock": "yes"},
    {"note": 5},
])
def test_bad_refunds_are_refused(store, body):
    emulator, _catalog, client = store
    order = place(client)
    r = client.post(f"{API}/orders/{order['legacy_id']}/refund", json=body)
    assert r.status_code == 400, r.json
    assert emulator.order_payload(SHOPIFY_SHOP, order["id"])["refunds"] == []


def test_refund_of_another_orders_line_item_is_refused(store):
    emulator, _catalog, client = store
    first, second = place(client), place(client)
    r = client.post(f"{API}/orders/{second['legacy_id']}/refund", json={"lines": [
        {"line_item_id": first["lines"][0]["legacy_id"], "quantity": 1}]})
    assert r.status_code == 404
    assert emulator.order_payload(SHOPIFY_SHOP, second["id"])["financial_status"] == "paid"


def test_stock_change_sets_available_and_can_stock_a_new_location(store):
    emulator, catalog, client = store
    r = client.post(f"{API}/inventory", json={"sku": "TEE-BLK-M", "location_id": catalog["berlin"], "available": 42})
    assert r.status_code == 200 and r.json["available"] == 42
    assert available(emulator, catalog) == 42
    assert available(emulator, catalog, name="on_hand") == 42 + available(emulator, catalog, name="committed")
    numeric = int(catalog["lyon"].rsplit("/", 1)[1])
    r = client.post(f"{API}/inventory", json={"sku": "TEE-WHT-M", "location_id": numeric, "available": 5})
    assert r.status_code == 200
    assert available(emulator, catalog, location="lyon", sku_index=1) == 5  # was not stocked at Lyon


@pytest.mark.parametrize(("body", "status"), [
    ({"sku": "TEE-BLK-M", "location_id": "LOC", "available": 3}, 400),
    ({"sku": "TEE-BLK-M", "available": 3}, 400),
    ({"sku": "TEE-BLK-M", "location": "LOC", "available": -1}, 400),
    ({"sku": "TEE-BLK-M", "location": "LOC", "available": 1_000_001}, 400),
    ({"sku": "TEE-BLK-M", "location": "LOC", "available": 2.5}, 400),
    ({"sku": "NOPE", "location": "LOC", "available": 1}, 400),
    ({"sku": "TEE-BLK-M", "location_id": "gid://shopify/Location/999999", "available": 1}, 404),
    ({"sku": "TEE-BLK-M", "location_id": "gid://shopify/Product/1", "available": 1}, 400),
])
def test_bad_stock_changes_are_refused(store, body, status):
    emulator, catalog, client = store
    if body.pop("location", None):
        body["location_id"] = catalog["berlin"]
    before = available(emulator, catalog)
    r = client.post(f"{API}/inventory", json=body)
    assert r.status_code == status, r.json
    assert available(emulator, catalog) == before


def test_stock_at_an_inactive_location_is_refused(store):
    emulator, catalog, client = store
    emulator.shop(SHOPIFY_SHOP).nodes[catalog["lyon"]]["isActive"] = False
    r = client.post(f"{API}/inventory", json={"sku": "TEE-BLK-M", "location_id": catalog["lyon"], "available": 1})
    assert r.status_code == 409


def test_after_a_restart_the_demo_catalog_keeps_its_ids_and_new_orders_take_new_ones(make_shopify_emulator):
    """The app's database outlives make run's emulator: the restarted emulator seeds the same demo
    catalog ids, and numbers the orders of the new run so none repeats one of the last run."""
    import time

    from sandbox.shopify.__main__ import DEMO_SHOP, number_new_objects_by_start_time, seed_demo

    def run():
        emulator = make_shopify_emulator()
        seeded = seed_demo(emulator)
        number_new_objects_by_start_time(emulator)
        client = emulator.wsgi_app.test_client()
        r = client.post("/store/nearstock-demo/admin/api/orders", json={**ORDER, "lines": [
            {"sku": "HOODIE-S", "quantity": 1}]})
        assert r.status_code == 201, r.json
        return seeded["locations"], emulator.find_variant(DEMO_SHOP, "HOODIE-S")["id"], r.json

    locations, variant, order = run()
    time.sleep(0.01)
    again_locations, again_variant, again_order = run()
    assert (again_locations, again_variant) == (locations, variant)
    assert again_order["id"] != order["id"]
    assert {line["id"] for line in again_order["lines"]}.isdisjoint(line["id"] for line in order["lines"])
    assert order["legacy_id"] >= 10**12  # 13 digits, like Shopify's ids


def test_the_order_page_shows_each_fulfillment_with_its_tracking(store):
    emulator, catalog, client = store
    order = place(client)
    fo = emulator.shop(SHOPIFY_SHOP).nodes[order["id"]]["_fulfillment_orders"][0]
    shipped = shopify_graphql(emulator, catalog["token"], FULFILL, {"f": {
        "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo}],
        "trackingInfo": {"company": "DHL", "number": "JD014600003828"}}}).json()["data"]["fulfillmentCreate"]
    assert shipped["userErrors"] == []
    html = client.get("/store/acme/orders").get_data(as_text=True)
    assert re.search(r'class="fulfillment muted">#\d+\.1 from Berlin · DHL JD014600003828</div>', html), html
