"""The emulator's Returns API: shapes, strict userErrors, scopes, refunds and returns/* webhooks."""

from __future__ import annotations

import json

import pytest
import requests

from sandbox.shopify.app_config import AppConfig, Subscription
from tests.sandbox.test_shopify_emulator_webhooks_bulk import receiver  # noqa: F401 - the fixture
from tests.shopify_fixtures import SHOPIFY_SHOP, seed_shopify_catalog, shopify_graphql

FULFILL = """mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) {
  fulfillment { id } userErrors { message } } }"""
FOS = """query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { id } } } }"""
RETURNABLE = """query($id: ID!) { returnableFulfillments(orderId: $id, first: 10) { nodes {
  id fulfillment { id } returnableFulfillmentLineItems(first: 10) { nodes {
    quantity fulfillmentLineItem { id quantity lineItem { id sku } } } } } } }"""
REASONS = """query($handles: [String!]) { returnReasonDefinitions(handles: $handles, first: 20) {
  nodes { id handle name deleted } } }"""
RETURN_FIELDS = """
fragment R on Return { id name status closedAt requestApprovedAt totalQuantity decline { reason note }
  order { id }
  returnLineItems(first: 10) { nodes { id quantity processedQuantity processableQuantity
    refundableQuantity refundedQuantity customerNote returnReasonNote
    returnReasonDefinition { handle }
    ... on ReturnLineItem { fulfillmentLineItem { id lineItem { sku } } } } }
  reverseFulfillmentOrders(first: 5) { nodes { id status lineItems(first: 10) { nodes { id totalQuantity } } } }
  refunds(first: 5) { nodes { id note totalRefundedSet { presentmentMoney { amount currencyCode } } } } }"""
REQUEST = """mutation($input: ReturnRequestInput!) { returnRequest(input: $input) {
  return { ...R } userErrors { field message code } } }""" + RETURN_FIELDS
APPROVE = """mutation($id: ID!) { returnApproveRequest(input: {id: $id}) {
  return { ...R } userErrors { field message code } } }""" + RETURN_FIELDS
DECLINE = """mutation($id: ID!, $reason: ReturnDeclineReason!, $note: String) {
  returnDeclineRequest(input: {id: $id, declineReason: $reason, declineNote: $note}) {
    return { ...R } userErrors { field message code } } }""" + RETURN_FIELDS
PROCESS = """mutation($input: ReturnProcessInput!) { returnProcess(input: $input) {
  return { ...R } userErrors { field message code } } }""" + RETURN_FIELDS
GET = """query($id: ID!) { return(id: $id) { ...R } }""" + RETURN_FIELDS
OUTCOME = """query($id: ID!, $lines: [SuggestedOutcomeReturnLineItemInput!]!) { return(id: $id) {
  suggestedFinancialOutcome(returnLineItems: $lines, exchangeLineItems: []) { financialTransfer {
    ... on RefundReturnOutcome { amount { presentmentMoney { amount currencyCode } }
      suggestedTransactions { parentTransaction { id kind }
        amountSet { presentmentMoney { amount currencyCode } } } } } } } }"""
DELIVERY = """mutation($rfo: ID!, $lines: [ReverseDeliveryLineItemInput!]!, $tracking: ReverseDeliveryTrackingInput,
  $label: ReverseDeliveryLabelInput) {
  reverseDeliveryCreateWithShipping(reverseFulfillmentOrderId: $rfo, reverseDeliveryLineItems: $lines,
    trackingInput: $tracking, labelInput: $label, notifyCustomer: false) {
    reverseDelivery { id deliverable { ... on ReverseDeliveryShippingDeliverable {
      tracking { number url } label { publicFileUrl } } } }
    userErrors { field message code } } }"""


def gql(emulator, token, query, variables=None, shop=SHOPIFY_SHOP) -> dict:
    body = shopify_graphql(emulator, token, query, variables, shop=shop).json()
    assert "errors" not in body, body
    return body["data"]


def ship(emulator, token: str, order: str) -> str:
    """Fulfils every fulfillment order of ``order`` (the units the customer then has)."""
    for fo in gql(emulator, token, FOS, {"id": order})["order"]["fulfillmentOrders"]["nodes"]:
        result = gql(emulator, token, FULFILL, {"f": {"lineItemsByFulfillmentOrder": [
            {"fulfillmentOrderId": fo["id"]}]}})["fulfillmentCreate"]
        assert result["userErrors"] == []
    return result["fulfillment"]["id"]


def returnable_lines(emulator, token, order) -> list[dict]:
    data = gql(emulator, token, RETURNABLE, {"id": order})["returnableFulfillments"]["nodes"]
    return [n for f in data for n in f["returnableFulfillmentLineItems"]["nodes"]]


def reason_id(emulator, token, handle: str) -> str:
    return gql(emulator, token, REASONS, {"handles": [handle]})["returnReasonDefinitions"]["nodes"][0]["id"]


def request(emulator, token, order, fli, quantity, handle="defective", **extra) -> dict:
    return gql(emulator, token, REQUEST, {"input": {"orderId": order, "returnLineItems": [{
        "fulfillmentLineItemId": fli, "quantity": quantity,
        "returnReasonDefinitionId": reason_id(emulator, token, handle), **extra}]}})["returnRequest"]


@pytest.fixture
def shipped(shopify_emulator):
    catalog = seed_shopify_catalog(shopify_emulator)
    ship(shopify_emulator, catalog["token"], catalog["order"])
    [line] = returnable_lines(shopify_emulator, catalog["token"], catalog["order"])
    return {**catalog, "fli": line["fulfillmentLineItem"]["id"]}


def test_nothing_is_returnable_before_shipping(shopify_emulator, shopify_catalog):
    assert returnable_lines(shopify_emulator, shopify_catalog["token"], shopify_catalog["order"]) == []


def test_request_approve_process_with_refund(shopify_emulator, shipped):
    em, token, order = shopify_emulator, shipped["token"], shipped["order"]
    [line] = returnable_lines(em, token, order)
    assert line["quantity"] == 2 and line["fulfillmentLineItem"]["lineItem"]["sku"] == "TEE-BLK-M"
    requested = request(em, token, order, shipped["fli"], 1, customerNote="Seam open")
    assert requested["userErrors"] == []
    ret = requested["return"]
    assert ret["status"] == "REQUESTED" and ret["name"].endswith("-R1") and ret["order"]["id"] == order
    [rli] = ret["returnLineItems"]["nodes"]
    assert (rli["quantity"], rli["processableQuantity"], rli["customerNote"]) == (1, 0, "Seam open")
    assert rli["returnReasonDefinition"]["handle"] == "defective"
    assert returnable_lines(em, token, order)[0]["quantity"] == 1  # the requested unit is held

    opened = gql(em, token, APPROVE, {"id": ret["id"]})["returnApproveRequest"]
    assert opened["userErrors"] == [] and opened["return"]["status"] == "OPEN"
    assert opened["return"]["requestApprovedAt"]
    [rfo] = opened["return"]["reverseFulfillmentOrders"]["nodes"]
    assert rfo["status"] == "OPEN" and rfo["lineItems"]["nodes"][0]["totalQuantity"] == 1

    outcome = gql(em, token, OUTCOME, {"id": ret["id"], "lines": [{"id": rli["id"], "quantity": 1}]})
    transfer = outcome["return"]["suggestedFinancialOutcome"]["financialTransfer"]
    assert transfer["amount"]["presentmentMoney"] == {"amount": "25.00", "currencyCode": "EUR"}
    [suggested] = transfer["suggestedTransactions"]
    assert suggested["parentTransaction"]["kind"] == "SALE"
    processed = gql(em, token, PROCESS, {"input": {
        "returnId": ret["id"], "note": "key-1", "returnLineItems": [{"id": rli["id"], "quantity": 1}],
        "financialTransfer": {"issueRefund": {"orderTransactions": [{
            "parentId": suggested["parentTransaction"]["id"],
            "transactionAmount": {"amount": "25.00", "currencyCode": "EUR"}}]}}}})["returnProcess"]
    assert processed["userErrors"] == []
    done = processed["return"]
    assert done["status"] == "CLOSED" and done["closedAt"]
    assert done["returnLineItems"]["nodes"][0]["processedQuantity"] == 1
    assert done["returnLineItems"]["nodes"][0]["refundedQuantity"] == 1
    [refund] = done["refunds"]["nodes"]
    assert refund["note"] == "key-1"
    assert refund["totalRefundedSet"]["presentmentMoney"] == {"amount": "25.00", "currencyCode": "EUR"}
    assert done["reverseFulfillmentOrders"]["nodes"][0]["status"] == "CLOSED"
    assert em.order_payload(SHOPIFY_SHOP, order)["financial_status"] == "partially_refunded"


def test_an_exchange_is_processed_without_money(shopify_emulator, shipped):
    em, token = shopify_emulator, shipped["token"]
    ret = request(em, token, shipped["order"], shipped["fli"], 2)["return"]
    gql(em, token, APPROVE, {"id": ret["id"]})
    rli = ret["returnLineItems"]["nodes"][0]["id"]
    first = gql(em, token, PROCESS, {"input": {"returnId": ret["id"], "returnLineItems": [
        {"id": rli, "quantity": 1}]}})["returnProcess"]
    assert first["userErrors"] == [] and first["return"]["status"] == "OPEN"
    assert first["return"]["refunds"]["nodes"] == []
    over = gql(em, token, PROCESS, {"input": {"returnId": ret["id"], "returnLineItems": [
        {"id": rli, "quantity": 2}]}})["returnProcess"]
    assert over == {"return": None, "userErrors": [{
        "field": ["input", "returnLineItems", "0", "quantity"],
        "message": "Quantity exceeds the processable quantity.", "code": "LESS_THAN_OR_EQUAL_TO"}]}
    assert em.order_payload(SHOPIFY_SHOP, shipped["order"])["financial_status"] == "paid"


def test_wrong_states_and_ids_answer_user_errors(shopify_emulator, shipped):
    em, token, order, fli = shopify_emulator, shipped["token"], shipped["order"], shipped["fli"]
    too_many = request(em, token, order, fli, 3)
    assert too_many == {"return": None, "userErrors": [{
        "field": ["input", "returnLineItems", "0", "quantity"],
        "message": "Quantity is not available for return.", "code": "INVALID"}]}
    unknown = request(em, token, order, "gid://shopify/FulfillmentLineItem/999999", 1)
    assert unknown["userErrors"][0]["code"] == "NOT_FOUND"
    assert request(em, token, order, fli, 0)["userErrors"][0]["code"] == "GREATER_THAN"
    no_reason = gql(em, token, REQUEST, {"input": {"orderId": order, "returnLineItems": [
        {"fulfillmentLineItemId": fli, "quantity": 1}]}})["returnRequest"]
    assert no_reason["userErrors"][0]["code"] == "BLANK"

    ret = request(em, token, order, fli, 1)["return"]
    declined = gql(em, token, DECLINE, {"id": ret["id"], "reason": "FINAL_SALE", "note": "Sale item"})
    assert declined["returnDeclineRequest"]["return"]["decline"] == {"reason": "FINAL_SALE", "note": "Sale item"}
    again = gql(em, token, APPROVE, {"id": ret["id"]})["returnApproveRequest"]
    assert again["return"] is None
    assert again["userErrors"][0]["code"] == "INVALID_STATE"
    assert again["userErrors"][0]["field"] == ["input", "id"]
    assert gql(em, token, GET, {"id": ret["id"]})["return"]["status"] == "DECLINED"
    not_open = gql(em, token, PROCESS, {"input": {"returnId": ret["id"], "returnLineItems": [
        {"id": ret["returnLineItems"]["nodes"][0]["id"], "quantity": 1}]}})["returnProcess"]
    assert not_open["userErrors"][0]["code"] == "INVALID_STATE"
    assert returnable_lines(em, token, order)[0]["quantity"] == 2  # a declined return frees its units
    missing = gql(em, token, APPROVE, {"id": "gid://shopify/Return/424242"})["returnApproveRequest"]
    assert missing["userErrors"] == [{"field": ["input", "id"], "message": "Return does not exist.",
                                      "code": "NOT_FOUND"}]


def test_refunds_are_checked_against_the_processed_units(shopify_emulator, shipped):
    em, token = shopify_emulator, shipped["token"]
    ret = request(em, token, shipped["order"], shipped["fli"], 1)["return"]
    gql(em, token, APPROVE, {"id": ret["id"]})
    rli = ret["returnLineItems"]["nodes"][0]["id"]
    outcome = gql(em, token, OUTCOME, {"id": ret["id"], "lines": [{"id": rli, "quantity": 1}]})
    parent = outcome["return"]["suggestedFinancialOutcome"]["financialTransfer"][
        "suggestedTransactions"][0]["parentTransaction"]["id"]

    def process(amount, currency="EUR", parent_id=parent):
        return gql(em, token, PROCESS, {"input": {"returnId": ret["id"], "returnLineItems": [
            {"id": rli, "quantity": 1}], "financialTransfer": {"issueRefund": {"orderTransactions": [
                {"parentId": parent_id, "transactionAmount": {"amount": amount, "currencyCode": currency}}]}}}}
                   )["returnProcess"]["userErrors"]

    assert process("25.01")[0]["code"] == "LESS_THAN_OR_EQUAL_TO"
    assert process("25.00", "USD")[0]["code"] == "INVALID"
    assert process("0")[0]["code"] == "GREATER_THAN"
    assert process("25.00", parent_id="gid://shopify/OrderTransaction/1")[0]["code"] == "NOT_FOUND"
    assert gql(em, token, GET, {"id": ret["id"]})["return"]["refunds"]["nodes"] == []
    assert process("20.00") == []


def test_another_shops_return_is_not_found(shopify_emulator, shipped):
    em = shopify_emulator
    ret = request(em, shipped["token"], shipped["order"], shipped["fli"], 1)["return"]
    other = "other-shop.myshopify.com"
    em.add_shop(other)
    other_token = em.grant_token(other, em.oauth.default_scopes)
    assert gql(em, other_token, GET, {"id": ret["id"]}, shop=other)["return"] is None
    answer = gql(em, other_token, APPROVE, {"id": ret["id"]}, shop=other)["returnApproveRequest"]
    assert answer["userErrors"][0]["code"] == "NOT_FOUND"
    body = shopify_graphql(em, other_token, RETURNABLE, {"id": shipped["order"]}, shop=other).json()
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert gql(em, shipped["token"], GET, {"id": ret["id"]})["return"]["status"] == "REQUESTED"


def test_returns_need_their_access_scopes(shopify_emulator, shipped):
    read_only = shopify_emulator.grant_token(SHOPIFY_SHOP, "read_orders,read_returns")
    body = shopify_graphql(shopify_emulator, read_only, APPROVE, {"id": "gid://shopify/Return/1"}).json()
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert "write_returns" in body["errors"][0]["message"]
    none = shopify_emulator.grant_token(SHOPIFY_SHOP, "read_orders")
    body = shopify_graphql(shopify_emulator, none, RETURNABLE, {"id": shipped["order"]}).json()
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"


def test_reverse_delivery_with_tracking_and_label(shopify_emulator, shipped):
    em, token = shopify_emulator, shipped["token"]
    ret = request(em, token, shipped["order"], shipped["fli"], 2)["return"]
    requested_rfos = ret["reverseFulfillmentOrders"]["nodes"]
    assert requested_rfos == []  # made on approval
    rfo = gql(em, token, APPROVE, {"id": ret["id"]})["returnApproveRequest"]["return"][
        "reverseFulfillmentOrders"]["nodes"][0]
    made = gql(em, token, DELIVERY, {"rfo": rfo["id"], "lines": [], "tracking": {
        "number": "RT123", "url": "https://track.example/RT123"},
        "label": {"fileUrl": "https://labels.example/RT123.pdf"}})["reverseDeliveryCreateWithShipping"]
    assert made["userErrors"] == []
    assert made["reverseDelivery"]["deliverable"] == {
        "tracking": {"number": "RT123", "url": "https://track.example/RT123"},
        "label": {"publicFileUrl": "https://labels.example/RT123.pdf"}}
    line = rfo["lineItems"]["nodes"][0]["id"]
    over = gql(em, token, DELIVERY, {"rfo": rfo["id"], "lines": [{
        "reverseFulfillmentOrderLineItemId": line, "quantity": 1}]})["reverseDeliveryCreateWithShipping"]
    assert over["userErrors"][0]["code"] == "INVALID"  # both units are already on their way
    unknown = gql(em, token, DELIVERY, {"rfo": "gid://shopify/ReverseFulfillmentOrder/1", "lines": []})
    assert unknown["reverseDeliveryCreateWithShipping"]["userErrors"][0]["code"] == "NOT_FOUND"


def test_webhooks_carry_the_real_shapes(make_shopify_emulator, receiver):  # noqa: F811
    sink = receiver()
    topics = frozenset({"returns/request", "returns/approve", "returns/process", "returns/close"})
    em = make_shopify_emulator(app_url=sink.url, app_config=AppConfig(
        "2026-07", (Subscription(topics, "/webhooks/shopify"),)))
    catalog = seed_shopify_catalog(em)
    token = catalog["token"]
    ship(em, token, catalog["order"])
    fli = returnable_lines(em, token, catalog["order"])[0]["fulfillmentLineItem"]["id"]
    ret = request(em, token, catalog["order"], fli, 1, handle="size-too-small")["return"]
    gql(em, token, APPROVE, {"id": ret["id"]})
    gql(em, token, PROCESS, {"input": {"returnId": ret["id"], "returnLineItems": [
        {"id": ret["returnLineItems"]["nodes"][0]["id"], "quantity": 1}]}})
    assert em.flush_webhooks(timeout=10)
    bodies = {r["headers"]["X-Shopify-Topic"]: json.loads(r["body"]) for r in sink.received}
    assert set(bodies) == {"returns/request", "returns/approve", "returns/process", "returns/close"}
    requested = bodies["returns/request"]
    assert requested["admin_graphql_api_id"] == ret["id"] and requested["status"] == "requested"
    assert requested["order"]["admin_graphql_api_id"] == catalog["order"]
    assert requested["total_return_line_items"] == 1 and requested["exchange_line_items"] == []
    [line] = requested["return_line_items"]
    assert line["fulfillment_line_item"]["admin_graphql_api_id"] == fli
    assert line["fulfillment_line_item"]["line_item"]["admin_graphql_api_id"].startswith("gid://shopify/LineItem/")
    assert (line["quantity"], line["return_reason"], line["return_reason_note"]) == (1, "size_too_small", "")
    assert bodies["returns/approve"]["status"] == "open"
    assert bodies["returns/close"] == {"id": requested["id"], "admin_graphql_api_id": ret["id"],
                                       "order_id": requested["order"]["id"], "status": "closed"}


def test_a_customer_requests_a_return_from_their_account(make_shopify_emulator, receiver):  # noqa: F811
    sink = receiver()
    config = AppConfig("2026-07", (Subscription(frozenset({"returns/request"}), "/webhooks/shopify"),))
    em = make_shopify_emulator(app_url=sink.url, app_config=config)
    catalog = seed_shopify_catalog(em)
    ship(em, catalog["token"], catalog["order"])
    number = int(catalog["order"].rsplit("/", 1)[1])
    url = f"{em.url}/store/acme/account/orders/{number}/returns"
    line = {"sku": "TEE-BLK-M", "quantity": 1, "reason": "defective", "note": "Seam open"}
    assert requests.post(url, json={"email": "eve@example.com", "lines": [line]}, timeout=5).status_code == 403
    assert requests.post(url, json={"email": "ada@example.com", "lines": [{**line, "reason": "meh"}]},
                         timeout=5).status_code == 422
    assert requests.post(url, json={"email": "ada@example.com", "lines": [{**line, "quantity": 3}]},
                         timeout=5).status_code == 422
    assert requests.post(url, data="email=ada@example.com", timeout=5).status_code == 415
    made = requests.post(url, json={"email": "ADA@example.com", "lines": [line]}, timeout=5)
    assert made.status_code == 201
    return_id = made.json()["return_id"]
    ret = gql(em, catalog["token"], GET, {"id": return_id})["return"]
    assert ret["status"] == "REQUESTED"
    assert ret["returnLineItems"]["nodes"][0]["customerNote"] == "Seam open"
    assert em.flush_webhooks(timeout=10)
    assert [r["headers"]["X-Shopify-Topic"] for r in sink.received
            if r["headers"]["X-Shopify-Topic"].startswith("returns/")] == ["returns/request"]
