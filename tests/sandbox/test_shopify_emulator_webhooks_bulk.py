"""Webhook deliveries (headers, signature, retries) and bulk operations (JSONL, __parentId)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import Counter

import pytest
import requests
from flask import Flask, request

from sandbox.server import serve
from tests.shopify_fixtures import SHOPIFY_API_SECRET, SHOPIFY_SHOP, shopify_graphql


class Receiver:
    """A tiny webhook endpoint that fails the first ``fail_first`` attempts of each webhook id."""

    def __init__(self, fail_first: int = 0, delay_first: float = 0.0) -> None:
        self.fail_first = fail_first
        self.delay_first = delay_first
        self.received: list[dict] = []
        self.seen: Counter = Counter()
        self.lock = threading.Lock()
        app = Flask("receiver")

        @app.post("/<path:path>")
        def hook(path):
            webhook_id = request.headers.get("X-Shopify-Webhook-Id")
            with self.lock:
                self.seen[webhook_id] += 1
                attempt = self.seen[webhook_id]
                self.received.append({"path": "/" + path, "headers": dict(request.headers),
                                      "body": request.get_data(), "attempt": attempt})
            if attempt == 1 and self.delay_first:
                time.sleep(self.delay_first)
            if attempt <= self.fail_first:
                return "boom", 500
            return "", 200

        self.server = serve(app)
        self.url = self.server.url


@pytest.fixture
def receiver():
    made = []

    def make(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for r in made:
        r.server.shutdown()


def _signature(body: bytes) -> str:
    return base64.b64encode(hmac.new(SHOPIFY_API_SECRET.encode(), body, hashlib.sha256).digest()
                            ).decode()


def test_webhook_is_signed_and_retried_until_accepted(make_shopify_emulator, receiver):
    sink = receiver(fail_first=2)
    emulator = make_shopify_emulator(app_url=sink.url)
    payload = {"id": 820982911946154508, "name": "#1001", "email": "ada@example.com"}
    webhook_id = emulator.send_webhook(SHOPIFY_SHOP, "orders/create", payload)
    assert emulator.flush_webhooks(timeout=10)

    assert [r["attempt"] for r in sink.received] == [1, 2, 3]
    last = sink.received[-1]
    assert last["path"] == "/webhooks/shopify"
    headers = last["headers"]
    assert headers["X-Shopify-Topic"] == "orders/create"
    assert headers["X-Shopify-Shop-Domain"] == SHOPIFY_SHOP
    assert headers["X-Shopify-Webhook-Id"] == webhook_id
    assert headers["X-Shopify-Api-Version"] == "2026-07"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Shopify-Event-Id"] and headers["X-Shopify-Triggered-At"].endswith("Z")
    assert hmac.compare_digest(headers["X-Shopify-Hmac-Sha256"], _signature(last["body"]))
    assert json.loads(last["body"]) == payload
    assert {r["headers"]["X-Shopify-Webhook-Id"] for r in sink.received} == {webhook_id}
    assert [(a[2], a[3]) for a in emulator.webhook_attempts] == [(500, 1), (500, 2), (200, 3)]


def test_retries_stop_after_eight_attempts_and_timeouts_count(make_shopify_emulator, receiver):
    always = receiver(fail_first=99)
    emulator = make_shopify_emulator(app_url=always.url, webhook_retry_base=0.002)
    emulator.send_webhook(SHOPIFY_SHOP, "app/uninstalled", {"id": 1})
    assert emulator.flush_webhooks(timeout=10)
    assert len(always.received) == 8

    slow = receiver(delay_first=0.6)
    emulator.app_url = slow.url
    emulator.dispatcher.timeout = 0.2
    emulator.send_webhook(SHOPIFY_SHOP, "orders/create", {"id": 2})
    assert emulator.flush_webhooks(timeout=10)
    statuses = [a[2] for a in emulator.webhook_attempts if a[1] == "orders/create"]
    assert statuses == [None, 200]


def test_duplicates_and_shuffled_batches(make_shopify_emulator, receiver):
    sink = receiver()
    emulator = make_shopify_emulator(app_url=sink.url)
    webhook_id = emulator.send_webhook(SHOPIFY_SHOP, "orders/create", {"id": 1}, duplicate=True)
    items = [(SHOPIFY_SHOP, "orders/updated", {"id": i}) for i in range(10)]
    ids = emulator.send_webhooks(items, shuffle=True)
    assert emulator.flush_webhooks(timeout=10)
    assert [r["headers"]["X-Shopify-Webhook-Id"] for r in sink.received].count(webhook_id) == 2
    assert len(set(ids)) == 10
    delivered = [json.loads(r["body"])["id"] for r in sink.received
                 if r["headers"]["X-Shopify-Topic"] == "orders/updated"]
    assert sorted(delivered) == list(range(10))


SUBSCRIBE = """mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic uri format } userErrors { field message }
  }
}"""


def test_subscriptions_receive_mutation_webhooks(shopify_emulator, shopify_catalog, receiver):
    sink = receiver()
    token = shopify_catalog["token"]
    created = shopify_graphql(shopify_emulator, token, SUBSCRIBE, {
        "topic": "INVENTORY_LEVELS_UPDATE", "sub": {"uri": sink.url + "/hooks/inventory",
                                                    "format": "JSON"}}).json()
    sub = created["data"]["webhookSubscriptionCreate"]
    assert sub["userErrors"] == [] and sub["webhookSubscription"]["format"] == "JSON"
    again = shopify_graphql(shopify_emulator, token, SUBSCRIBE, {
        "topic": "INVENTORY_LEVELS_UPDATE", "sub": {"uri": sink.url + "/hooks/inventory"}}).json()
    assert again["data"]["webhookSubscriptionCreate"]["userErrors"] == [{
        "field": ["webhookSubscription", "uri"],
        "message": "Address for this topic has already been taken"}]
    remote_http = shopify_graphql(shopify_emulator, token, SUBSCRIBE, {
        "topic": "ORDERS_CREATE", "sub": {"callbackUrl": "http://example.com/hooks"}}).json()
    assert remote_http["data"]["webhookSubscriptionCreate"]["userErrors"]
    assert [s["topic"] for s in shopify_emulator.webhook_subscriptions(SHOPIFY_SHOP)] == [
        "INVENTORY_LEVELS_UPDATE"]

    item = shopify_catalog["variants"][0]["inventory_item_id"]
    shopify_graphql(shopify_emulator, token, """mutation($input: InventorySetQuantitiesInput!) {
      inventorySetQuantities(input: $input) @idempotent(key: "hook-1") { userErrors { code } } }""",
                    {"input": {"name": "available", "reason": "correction", "quantities": [{
                        "inventoryItemId": item, "locationId": shopify_catalog["lyon"],
                        "quantity": 7, "changeFromQuantity": 4}]}})
    assert shopify_emulator.flush_webhooks(timeout=10)
    assert len(sink.received) == 1
    delivery = sink.received[0]
    assert delivery["path"] == "/hooks/inventory"
    assert delivery["headers"]["X-Shopify-Topic"] == "inventory_levels/update"
    body = json.loads(delivery["body"])
    assert body["available"] == 7
    assert body["inventory_item_id"] == int(item.rsplit("/", 1)[1])
    assert body["admin_graphql_api_id"].startswith("gid://shopify/InventoryLevel/")


BULK = """mutation($q: String!) { bulkOperationRunQuery(query: $q) {
  bulkOperation { id status } userErrors { field message code } } }"""
PRODUCTS = """{ products { edges { node { id title
  variants { edges { node { id sku inventoryItem { id } } } } } } } }"""


def test_bulk_query_writes_jsonl_with_parent_ids(shopify_emulator, shopify_catalog, receiver):
    sink = receiver()
    token = shopify_catalog["token"]
    shopify_graphql(shopify_emulator, token, SUBSCRIBE, {
        "topic": "BULK_OPERATIONS_FINISH", "sub": {"uri": sink.url + "/hooks/bulk"}})
    started = shopify_graphql(shopify_emulator, token, BULK, {"q": PRODUCTS}).json()
    op = started["data"]["bulkOperationRunQuery"]
    assert op["userErrors"] == [] and op["bulkOperation"]["status"] in ("CREATED", "RUNNING")

    deadline = time.monotonic() + 5
    while True:
        current = shopify_graphql(shopify_emulator, token, """{ currentBulkOperation {
          id status objectCount rootObjectCount url } }""").json()["data"]["currentBulkOperation"]
        if current["status"] == "COMPLETED" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert current["status"] == "COMPLETED"
    assert current["objectCount"] == "3" and current["rootObjectCount"] == "1"
    lines = [json.loads(line) for line in requests.get(current["url"], timeout=5).text.splitlines()]
    product, *variants = lines
    assert product == {"id": shopify_catalog["product"], "title": "Organic Tee"}
    assert [v["sku"] for v in variants] == ["TEE-BLK-M", "TEE-WHT-M"]
    assert all(v["__parentId"] == product["id"] for v in variants)
    assert variants[0]["inventoryItem"] == {"id": shopify_catalog["variants"][0][
        "inventory_item_id"]}

    assert shopify_emulator.flush_webhooks(timeout=10)
    finish = json.loads(sink.received[0]["body"])
    assert sink.received[0]["headers"]["X-Shopify-Topic"] == "bulk_operations/finish"
    assert finish["admin_graphql_api_id"] == current["id"] and finish["status"] == "completed"
    by_node = shopify_graphql(shopify_emulator, token, """query($id: ID!) { node(id: $id) {
      ... on BulkOperation { status url } } }""", {"id": current["id"]}).json()
    assert by_node["data"]["node"]["url"] == current["url"]


@pytest.mark.parametrize("query, message", [
    ("{ shop { name } }", "at least one connection"),
    ('{ node(id: "gid://shopify/Product/1") { id } }', "top level `node`"),
    ("{ products { edges { node { title variants { edges { node { id } } } } } } }", "'id'"),
    ("{ products { edges { node { nope } } } }", "Invalid bulk query"),
])
def test_bulk_query_shape_is_checked(shopify_emulator, shopify_catalog, query, message):
    body = shopify_graphql(shopify_emulator, shopify_catalog["token"], BULK, {"q": query}).json()
    errors = body["data"]["bulkOperationRunQuery"]["userErrors"]
    assert errors and errors[0]["code"] == "INVALID" and message in errors[0]["message"]
