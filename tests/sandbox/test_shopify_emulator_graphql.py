"""The GraphQL endpoint: routing, validation, queries, cost, throttling and faults."""

from __future__ import annotations

import time

import requests

from tests.shopify_fixtures import SHOPIFY_SHOP, seed_shopify_catalog, shopify_graphql

VARIANTS = """query Variants($first: Int!, $after: String, $q: String) {
  productVariants(first: $first, after: $after, query: $q) {
    edges { cursor node { id sku barcode inventoryQuantity inventoryItem { id }
                          product { title } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def test_unknown_api_version_is_404(shopify_emulator, shopify_catalog):
    response = shopify_graphql(shopify_emulator, shopify_catalog["token"], "{ shop { name } }",
                               version="2023-01")
    assert response.status_code == 404


def test_unknown_shop_is_404(shopify_emulator, shopify_catalog):
    response = shopify_graphql(shopify_emulator, shopify_catalog["token"], "{ shop { name } }",
                               shop="nobody.myshopify.com")
    assert response.status_code == 404


def test_malformed_and_oversized_bodies_are_400(shopify_emulator, shopify_catalog):
    url = f"{shopify_emulator.url}/admin/api/2026-07/graphql.json"
    headers = {"Host": SHOPIFY_SHOP, "X-Shopify-Access-Token": shopify_catalog["token"],
               "Content-Type": "application/json"}
    assert requests.post(url, data=b"{not json", headers=headers, timeout=5).status_code == 400
    assert requests.post(url, json={"variables": {}}, headers=headers, timeout=5
                         ).status_code == 400
    big = {"query": "{ shop { name } }", "pad": "x" * (shopify_emulator.max_body_bytes + 1)}
    assert requests.post(url, json=big, headers=headers, timeout=5).status_code == 400


def test_unknown_fields_and_arguments_are_rejected_like_shopify(shopify_emulator, shopify_catalog):
    token = shopify_catalog["token"]
    body = shopify_graphql(shopify_emulator, token, "{ shop { name planName } }").json()
    assert "data" not in body
    assert body["errors"][0]["message"] == "Field 'planName' doesn't exist on type 'Shop'"
    assert body["errors"][0]["extensions"] == {"code": "undefinedField", "typeName": "Shop",
                                               "fieldName": "planName"}
    body = shopify_graphql(shopify_emulator, token, "{ shop { name(x: 1) } }").json()
    assert body["errors"][0]["extensions"]["code"] == "argumentNotAccepted"
    body = shopify_graphql(shopify_emulator, token, "{ inventoryItem { id } }").json()
    assert body["errors"][0]["extensions"]["code"] == "missingRequiredArguments"
    body = shopify_graphql(shopify_emulator, token, "{ shop { name }").json()
    assert "Syntax Error" in body["errors"][0]["message"]


def test_connections_need_first_or_last(shopify_emulator, shopify_catalog):
    body = shopify_graphql(shopify_emulator, shopify_catalog["token"],
                           "{ locations { nodes { id } } }").json()
    assert body["errors"][0]["message"] == "you must provide one of first or last"
    assert body["data"] is None


def test_variants_pages_and_search(shopify_emulator, shopify_catalog):
    token = shopify_catalog["token"]
    first = shopify_graphql(shopify_emulator, token, VARIANTS, {"first": 1}).json()
    page = first["data"]["productVariants"]
    assert page["pageInfo"]["hasNextPage"] is True
    node = page["edges"][0]["node"]
    assert node["sku"] == "TEE-BLK-M" and node["inventoryQuantity"] == 12  # 14 minus 2 ordered
    assert node["inventoryItem"]["id"] == shopify_catalog["variants"][0]["inventory_item_id"]
    second = shopify_graphql(shopify_emulator, token, VARIANTS, {
        "first": 5, "after": page["pageInfo"]["endCursor"]}).json()["data"]["productVariants"]
    assert [e["node"]["sku"] for e in second["edges"]] == ["TEE-WHT-M"]
    assert second["pageInfo"]["hasNextPage"] is False
    found = shopify_graphql(shopify_emulator, token, VARIANTS, {"first": 5, "q": "sku:TEE-WHT-M"})
    assert [e["node"]["sku"] for e in found.json()["data"]["productVariants"]["edges"]] == [
        "TEE-WHT-M"]


def test_node_nodes_location_and_levels(shopify_emulator, shopify_catalog):
    variant = shopify_catalog["variants"][0]
    query = """query($ids: [ID!]!, $item: ID!) {
      nodes(ids: $ids) { id ... on ProductVariant { sku } ... on Location { name isActive } }
      inventoryItem(id: $item) { inventoryLevels(first: 5) { nodes {
        location { name } quantities(names: ["available", "committed", "on_hand"]) {
          name quantity } } } }
    }"""
    body = shopify_graphql(shopify_emulator, shopify_catalog["token"], query, {
        "ids": [variant["id"], shopify_catalog["berlin"], "gid://shopify/Product/999999"],
        "item": variant["inventory_item_id"]}).json()
    assert "errors" not in body
    nodes = body["data"]["nodes"]
    assert nodes[0]["sku"] == "TEE-BLK-M" and nodes[1]["name"] == "Berlin" and nodes[2] is None
    levels = body["data"]["inventoryItem"]["inventoryLevels"]["nodes"]
    berlin = next(lv for lv in levels if lv["location"]["name"] == "Berlin")
    assert {q["name"]: q["quantity"] for q in berlin["quantities"]} == {
        "available": 8, "committed": 2, "on_hand": 10}


def test_cost_is_reported_per_shopify_rules(shopify_emulator, shopify_catalog):
    body = shopify_graphql(shopify_emulator, shopify_catalog["token"], VARIANTS, {"first": 10})
    cost = body.json()["extensions"]["cost"]
    # connection 2 + 10 x (variant 1 + inventoryItem 1 + product 1)
    assert cost["requestedQueryCost"] == 32
    assert cost["actualQueryCost"] == 2 + 2 * 3
    status = cost["throttleStatus"]
    assert status["maximumAvailable"] == 2000.0 and status["restoreRate"] == 100.0
    assert 1960 <= status["currentlyAvailable"] <= 2000


def test_single_query_over_1000_is_refused(shopify_emulator, shopify_catalog):
    query = "{ products(first: 250) { nodes { variants(first: 250) { nodes { id } } } } }"
    body = shopify_graphql(shopify_emulator, shopify_catalog["token"], query).json()
    error = body["errors"][0]
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert error["extensions"]["maxCost"] == 1000
    assert error["message"].startswith(f"Query cost is {error['extensions']['cost']}, which "
                                       "exceeds the single query max cost limit (1000).")


def test_throttled_under_a_tiny_restore_rate(make_shopify_emulator):
    emulator = make_shopify_emulator(bucket_size=10, restore_rate=0.5)
    catalog = seed_shopify_catalog(emulator)
    query = "{ shop { name } locations(first: 2) { nodes { id } } }"  # costs 5, all returned
    for _ in range(2):
        assert "errors" not in shopify_graphql(emulator, catalog["token"], query).json()
    throttled = shopify_graphql(emulator, catalog["token"], query).json()
    assert throttled["errors"] == [{"message": "Throttled", "extensions": {
        "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}]
    cost = throttled["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 5 and cost["actualQueryCost"] is None
    assert cost["throttleStatus"]["currentlyAvailable"] < 5
    assert emulator.throttled_count(SHOPIFY_SHOP) == 1
    emulator.set_restore_rate(SHOPIFY_SHOP, 1000)
    time.sleep(0.1)
    assert "errors" not in shopify_graphql(emulator, catalog["token"], query).json()


def test_missing_scope_is_access_denied(shopify_emulator, shopify_catalog):
    token = shopify_emulator.grant_token(SHOPIFY_SHOP, "read_products")
    body = shopify_graphql(shopify_emulator, token, "{ locations(first: 1) { nodes { id } } }")
    error = body.json()["errors"][0]
    assert error["extensions"]["code"] == "ACCESS_DENIED"
    assert error["message"] == ("Access denied for locations field. Required access: "
                                "`read_locations` access scope.")


def test_faults_are_injected_at_the_configured_rate(make_shopify_emulator):
    emulator = make_shopify_emulator(fault_rate=1.0, fault_kinds=("429",))
    token = emulator.grant_token(SHOPIFY_SHOP, "read_products")
    response = shopify_graphql(emulator, token, "{ shop { name } }")
    assert response.status_code == 429 and response.headers["Retry-After"] == "2.0"
    emulator.set_fault_rate(1.0, kinds=("500",))
    assert shopify_graphql(emulator, token, "{ shop { name } }").status_code in (500, 502, 503)
    emulator.slow_seconds = 0.3
    emulator.set_fault_rate(1.0, kinds=("slow",))
    started = time.monotonic()
    assert shopify_graphql(emulator, token, "{ shop { name } }").status_code == 200
    assert time.monotonic() - started >= 0.3
    emulator.set_fault_rate(0.0)
    assert shopify_graphql(emulator, token, "{ shop { name } }").status_code == 200
    assert [c["status"] for c in emulator.calls if c.get("fault")][:2][0] == 429


def test_calls_are_recorded(shopify_emulator, shopify_catalog):
    shopify_graphql(shopify_emulator, shopify_catalog["token"], "query ShopName { shop { name } }")
    call = shopify_emulator.calls[-1]
    assert call["shop"] == SHOPIFY_SHOP and call["operation"] == "ShopName"
    assert call["status"] == 200 and call["throttled"] is False and call["cost"] == 1
