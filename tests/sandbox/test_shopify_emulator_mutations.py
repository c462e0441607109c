"""Mutations: inventorySetQuantities strictness, metafieldsSet, fulfillment, discount codes."""

from __future__ import annotations

import json

from tests.shopify_fixtures import SHOPIFY_SHOP, shopify_graphql

SET = """mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}"""
SET_WITHOUT_DIRECTIVE = """mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) { userErrors { field message code } }
}"""


def _input(catalog, quantity, change_from, **extra):
    entry = {"inventoryItemId": catalog["variants"][0]["inventory_item_id"],
             "locationId": catalog["lyon"], "quantity": quantity, **extra}
    if change_from != "omit":
        entry["changeFromQuantity"] = change_from
    return {"name": "available", "reason": "correction",
            "referenceDocumentUri": "gid://nearstock/StockSync/1", "quantities": [entry]}


def _lyon(emulator, catalog):
    return emulator.inventory_quantity(SHOPIFY_SHOP, catalog["variants"][0]["inventory_item_id"],
                                       catalog["lyon"])


def test_set_quantities_requires_the_idempotent_directive(shopify_emulator, shopify_catalog):
    body = shopify_graphql(shopify_emulator, shopify_catalog["token"], SET_WITHOUT_DIRECTIVE,
                           {"input": _input(shopify_catalog, 9, 4)}).json()
    assert body["data"] == {"inventorySetQuantities": None}
    error = body["errors"][0]
    assert error["message"] == ("The @idempotent directive is required for this mutation but "
                                "was not provided.")
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert error["path"] == ["inventorySetQuantities"]
    assert _lyon(shopify_emulator, shopify_catalog) == 4


def test_set_quantities_requires_change_from_quantity(shopify_emulator, shopify_catalog):
    body = shopify_graphql(shopify_emulator, shopify_catalog["token"], SET, {
        "input": _input(shopify_catalog, 9, "omit"), "key": "k-1"}).json()
    assert body["data"] == {"inventorySetQuantities": None}
    assert body["errors"][0]["message"] == ("InventoryQuantityInput must include the following "
                                            "argument: changeFromQuantity.")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_FIELD_ARGUMENTS"
    assert _lyon(shopify_emulator, shopify_catalog) == 4


def test_idempotent_on_the_operation_is_not_allowed(shopify_emulator, shopify_catalog):
    query = """mutation Set($input: InventorySetQuantitiesInput!) @idempotent(key: "k") {
      inventorySetQuantities(input: $input) { userErrors { code } } }"""
    body = shopify_graphql(shopify_emulator, shopify_catalog["token"], query,
                           {"input": _input(shopify_catalog, 9, 4)}).json()
    assert body["errors"][0]["message"] == ("'@idempotent' can't be applied to mutations "
                                            "(allowed: fields)")


def test_removed_compare_quantity_field_is_an_invalid_variable(shopify_emulator, shopify_catalog):
    body = shopify_graphql(shopify_emulator, shopify_catalog["token"], SET, {
        "input": _input(shopify_catalog, 9, 4, compareQuantity=4), "key": "k-2"}).json()
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INVALID_VARIABLE"
    assert error["extensions"]["problems"] == [{
        "path": ["quantities", 0, "compareQuantity"],
        "explanation": "Field is not defined on InventoryQuantityInput"}]


def test_stale_change_from_quantity_is_refused(shopify_emulator, shopify_catalog):
    body = shopify_graphql(shopify_emulator, shopify_catalog["token"], SET, {
        "input": _input(shopify_catalog, 9, 3), "key": "k-3"}).json()
    payload = body["data"]["inventorySetQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    assert payload["userErrors"] == [{
        "field": ["input", "quantities", "0", "changeFromQuantity"],
        "message": "The changeFromQuantity value does not match persisted value.",
        "code": "CHANGE_FROM_QUANTITY_STALE"}]
    assert _lyon(shopify_emulator, shopify_catalog) == 4


def test_set_applies_once_and_replays_for_the_same_key(shopify_emulator, shopify_catalog):
    variables = {"input": _input(shopify_catalog, 9, 4), "key": "k-4"}
    first = shopify_graphql(shopify_emulator, shopify_catalog["token"], SET, variables).json()
    group = first["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]
    assert {(c["name"], c["delta"], c["quantityAfterChange"]) for c in group["changes"]} == {
        ("available", 5, 9), ("on_hand", 5, 9)}
    assert _lyon(shopify_emulator, shopify_catalog) == 9

    replay = shopify_graphql(shopify_emulator, shopify_catalog["token"], SET, variables).json()
    assert replay == {**first, "extensions": replay["extensions"]}
    assert _lyon(shopify_emulator, shopify_catalog) == 9

    other = shopify_graphql(shopify_emulator, shopify_catalog["token"], SET, {
        "input": _input(shopify_catalog, 1, 9), "key": "k-4"}).json()
    assert other["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == \
        "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    assert shopify_emulator.mutation_count(SHOPIFY_SHOP, "inventorySetQuantities") == 3

    skip_cas = shopify_graphql(shopify_emulator, shopify_catalog["token"], SET, {
        "input": _input(shopify_catalog, 2, None), "key": "k-5"}).json()
    assert skip_cas["data"]["inventorySetQuantities"]["userErrors"] == []
    assert _lyon(shopify_emulator, shopify_catalog) == 2


def test_set_refuses_more_than_250_quantities(shopify_emulator, shopify_catalog):
    data = _input(shopify_catalog, 1, None)
    data["quantities"] = data["quantities"] * 251
    body = shopify_graphql(shopify_emulator, shopify_catalog["token"], SET,
                           {"input": data, "key": "k-6"}).json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert body["errors"][0]["message"] == ("The input array size of 251 is greater than the "
                                            "maximum allowed of 250.")


def test_set_validates_items_locations_and_reasons(shopify_emulator, shopify_catalog):
    data = _input(shopify_catalog, 1, None)
    data["reason"] = "because"
    data["quantities"].append({"inventoryItemId": shopify_catalog["variants"][1][
        "inventory_item_id"], "locationId": shopify_catalog["lyon"], "quantity": 1,
        "changeFromQuantity": None})
    errors = shopify_graphql(shopify_emulator, shopify_catalog["token"], SET, {
        "input": data, "key": "k-7"}).json()["data"]["inventorySetQuantities"]["userErrors"]
    assert {e["code"] for e in errors} == {"INVALID_REASON", "ITEM_NOT_STOCKED_AT_LOCATION"}


METAFIELDS = """mutation Set($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id namespace key value type compareDigest }
    userErrors { field message code elementIndex }
  }
}"""


def test_metafields_set_limits_and_types(shopify_emulator, shopify_catalog):
    owner = shopify_catalog["product"]

    def mf(i, value="3", type_="number_integer"):
        return {"ownerId": owner, "namespace": "nearstock", "key": f"stock_{i}",
                "value": value, "type": type_}

    too_many = shopify_graphql(shopify_emulator, shopify_catalog["token"], METAFIELDS,
                               {"metafields": [mf(i) for i in range(26)]}).json()
    assert too_many["data"]["metafieldsSet"]["userErrors"] == [{
        "field": ["metafields"], "message": "Exceeded the maximum metafields input limit of 25.",
        "code": "LESS_THAN_OR_EQUAL_TO", "elementIndex": None}]

    bad = shopify_graphql(shopify_emulator, shopify_catalog["token"], METAFIELDS, {
        "metafields": [mf(1), mf(2, value="three")]}).json()["data"]["metafieldsSet"]
    assert bad["userErrors"][0]["code"] == "INVALID_VALUE"
    assert bad["userErrors"][0]["elementIndex"] == 1
    assert shopify_emulator.metafields(SHOPIFY_SHOP, owner) == []  # atomic

    status = json.dumps({"DE": "in_stock", "FR": "low"})
    ok = shopify_graphql(shopify_emulator, shopify_catalog["token"], METAFIELDS, {
        "metafields": [mf(i) for i in range(24)] + [mf("status", status, "json")]}).json()
    assert ok["data"]["metafieldsSet"]["userErrors"] == []
    assert len(shopify_emulator.metafields(SHOPIFY_SHOP, owner)) == 25
    digest = ok["data"]["metafieldsSet"]["metafields"][0]["compareDigest"]
    shopify_graphql(shopify_emulator, shopify_catalog["token"], METAFIELDS,
                    {"metafields": [mf(0, "4")]})
    stale = shopify_graphql(shopify_emulator, shopify_catalog["token"], METAFIELDS, {
        "metafields": [{**mf(0, "5"), "compareDigest": digest}]}).json()
    assert stale["data"]["metafieldsSet"]["userErrors"][0]["code"] == "STALE_OBJECT"
    read = shopify_graphql(shopify_emulator, shopify_catalog["token"], """query($id: ID!) {
      product(id: $id) { metafield(namespace: "nearstock", key: "stock_status") { jsonValue } } }
    """, {"id": owner}).json()
    assert read["data"]["product"]["metafield"]["jsonValue"] == {"DE": "in_stock", "FR": "low"}


ORDER = """query($id: ID!) { order(id: $id) { name displayFulfillmentStatus
  fulfillmentOrders(first: 5) { nodes { id status assignedLocation { location { id } }
    lineItems(first: 10) { nodes { id sku remainingQuantity } } } } } }"""
FULFILL = """mutation($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id name status trackingInfo(first: 5) { company number url } }
    userErrors { field message }
  }
}"""


def test_fulfillment_create_update_and_events(shopify_emulator, shopify_catalog):
    token = shopify_catalog["token"]
    order = shopify_graphql(shopify_emulator, token, ORDER, {"id": shopify_catalog["order"]}
                            ).json()["data"]["order"]
    fo = order["fulfillmentOrders"]["nodes"][0]
    assert fo["assignedLocation"]["location"]["id"] == shopify_catalog["berlin"]
    line = fo["lineItems"]["nodes"][0]
    fulfillment = {"lineItemsByFulfillmentOrder": [{
        "fulfillmentOrderId": fo["id"],
        "fulfillmentOrderLineItems": [{"id": line["id"], "quantity": 2}]}],
        "trackingInfo": {"company": "DHL Express", "number": "JD0001",
                         "url": "https://www.dhl.com/track?id=JD0001"},
        "notifyCustomer": True}
    created = shopify_graphql(shopify_emulator, token, FULFILL, {"fulfillment": fulfillment}
                              ).json()["data"]["fulfillmentCreate"]
    assert created["userErrors"] == []
    assert created["fulfillment"]["name"] == "#1001.1"
    assert created["fulfillment"]["trackingInfo"] == [{
        "company": "DHL Express", "number": "JD0001", "url": "https://www.dhl.com/track?id=JD0001"}]
    recorded = shopify_emulator.fulfillments(SHOPIFY_SHOP)
    assert len(recorded) == 1 and recorded[0]["notify_customer"] is True
    item = shopify_catalog["variants"][0]["inventory_item_id"]
    assert shopify_emulator.inventory_quantity(SHOPIFY_SHOP, item, shopify_catalog["berlin"],
                                               "committed") == 0
    assert shopify_emulator.inventory_quantity(SHOPIFY_SHOP, item, shopify_catalog["berlin"],
                                               "on_hand") == 8

    again = shopify_graphql(shopify_emulator, token, FULFILL, {"fulfillment": fulfillment}
                            ).json()["data"]["fulfillmentCreate"]
    assert again["fulfillment"] is None and "unfulfillable" in again["userErrors"][0]["message"]
    status = shopify_graphql(shopify_emulator, token, ORDER, {"id": shopify_catalog["order"]}
                             ).json()["data"]["order"]
    assert status["displayFulfillmentStatus"] == "FULFILLED"
    assert status["fulfillmentOrders"]["nodes"][0]["status"] == "CLOSED"

    fulfillment_id = created["fulfillment"]["id"]
    updated = shopify_graphql(shopify_emulator, token, """mutation($id: ID!, $t: FulfillmentTrackingInput!) {
      fulfillmentTrackingInfoUpdate(fulfillmentId: $id, trackingInfoInput: $t) {
        fulfillment { trackingInfo { number } } userErrors { message } } }""", {
        "id": fulfillment_id, "t": {"company": "DHL Express", "number": "JD0002"}}).json()
    assert updated["data"]["fulfillmentTrackingInfoUpdate"]["fulfillment"]["trackingInfo"] == [
        {"number": "JD0002"}]

    event = shopify_graphql(shopify_emulator, token, """mutation($e: FulfillmentEventInput!) {
      fulfillmentEventCreate(fulfillmentEvent: $e) { fulfillmentEvent { id status }
        userErrors { field message } } }""", {"e": {
        "fulfillmentId": fulfillment_id, "status": "DELAYED", "message": "Held at customs",
        "happenedAt": "2026-07-02T08:00:00Z"}}).json()["data"]["fulfillmentEventCreate"]
    assert event["userErrors"] == [] and event["fulfillmentEvent"]["status"] == "DELAYED"
    assert [(e["status"], e["message"]) for e in shopify_emulator.fulfillment_events(
        SHOPIFY_SHOP)] == [("DELAYED", "Held at customs")]
    bad_status = shopify_graphql(shopify_emulator, token, """mutation($e: FulfillmentEventInput!) {
      fulfillmentEventCreate(fulfillmentEvent: $e) { userErrors { message } } }""", {"e": {
        "fulfillmentId": fulfillment_id, "status": "LOST"}}).json()
    assert bad_status["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"


DISCOUNT = """mutation($d: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $d) {
    codeDiscountNode { id codeDiscount { ... on DiscountCodeBasic { title status
      codes(first: 1) { nodes { code } } } } }
    userErrors { field message code extraInfo }
  }
}"""


def test_discount_codes_are_unique_per_shop(shopify_emulator, shopify_catalog):
    token = shopify_catalog["token"]
    basic = {"title": "Gold member 10%", "code": "GOLD-ADA-10", "startsAt": "2026-01-01T00:00:00Z",
             "endsAt": "2027-01-01T00:00:00Z", "usageLimit": 1, "appliesOncePerCustomer": True,
             "context": {"all": "ALL"},
             "customerGets": {"value": {"percentage": 0.1}, "items": {"all": True}}}
    created = shopify_graphql(shopify_emulator, token, DISCOUNT, {"d": basic}
                              ).json()["data"]["discountCodeBasicCreate"]
    assert created["userErrors"] == []
    assert created["codeDiscountNode"]["codeDiscount"]["codes"]["nodes"] == [{"code": "GOLD-ADA-10"}]
    assert created["codeDiscountNode"]["codeDiscount"]["status"] == "ACTIVE"

    taken = shopify_graphql(shopify_emulator, token, DISCOUNT, {"d": {**basic, "code": "gold-ada-10"}}
                            ).json()["data"]["discountCodeBasicCreate"]
    assert taken["userErrors"] == [{"field": ["basicCodeDiscount", "code"],
                                    "message": "Code must be unique. Please try a different code.",
                                    "code": "TAKEN", "extraInfo": None}]

    free = shopify_graphql(shopify_emulator, token, """mutation($d: DiscountCodeFreeShippingInput!) {
      discountCodeFreeShippingCreate(freeShippingCodeDiscount: $d) {
        codeDiscountNode { id } userErrors { field code } } }""", {"d": {
        "title": "Member day", "code": "SHIPFREE-0702", "startsAt": "2026-07-02T00:00:00Z",
        "endsAt": "2026-07-03T00:00:00Z", "context": {"all": "ALL"},
        "destination": {"all": True}}}).json()["data"]["discountCodeFreeShippingCreate"]
    assert free["userErrors"] == []
    codes = {d["code"]: d for d in shopify_emulator.discount_codes(SHOPIFY_SHOP)}
    assert set(codes) == {"GOLD-ADA-10", "SHIPFREE-0702"}
    assert codes["GOLD-ADA-10"]["usageLimit"] == 1 and codes["SHIPFREE-0702"]["kind"] == \
        "free_shipping"
    found = shopify_graphql(shopify_emulator, token, """{ codeDiscountNodeByCode(code: "SHIPFREE-0702")
      { id } }""").json()
    assert found["data"]["codeDiscountNodeByCode"]["id"] == free["codeDiscountNode"]["id"]


def test_a_lost_response_is_safe_to_retry_with_the_same_key(shopify_emulator, shopify_catalog):
    variables = {"input": _input(shopify_catalog, 6, 4), "key": "k-lost"}
    shopify_emulator.set_fault_rate(1.0, kinds=("lost",))
    lost = shopify_graphql(shopify_emulator, shopify_catalog["token"], SET, variables)
    assert lost.status_code == 502
    assert _lyon(shopify_emulator, shopify_catalog) == 6  # it ran; only the answer was lost
    shopify_emulator.set_fault_rate(0.0)
    retry = shopify_graphql(shopify_emulator, shopify_catalog["token"], SET, variables).json()
    assert retry["data"]["inventorySetQuantities"]["userErrors"] == []
    assert _lyon(shopify_emulator, shopify_catalog) == 6
