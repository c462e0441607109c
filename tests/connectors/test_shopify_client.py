"""ShopifyClient: error mapping, throttling and the operations, over real HTTP.

Failure modes the emulator cannot produce on demand (a hung socket, a bare 502, a 429 with
Retry-After) are played by a small scripted HTTP server started here (:class:`StubServer`);
everything else runs against the Shopify emulator (``shopify_emulator`` fixture).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connectors.call_record import CallRecord
from connectors.errors import AuthError, PermanentError, RetryableError
from connectors.shopify import mapping
from connectors.shopify import operations as ops
from connectors.shopify.client import ShopifyClient, excerpt, load_document
from connectors.shopify.throttle import CostThrottle, ThrottleStatus
from integration.domain.channels import MetafieldInput, ShopProfile, TrackingInfo, Variant

SHOP = "acme.myshopify.com"
TOKEN = "shpat_secret_token_value"


# -- a scripted HTTP server ------------------------------------------------------------------
@dataclass
class Reply:
    status: int = 200
    body: bytes | dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    chunks: list[bytes] | None = None
    """Streamed one by one (no Content-Length); after the first, wait for ``gate``."""
    gate: threading.Event | None = None
    sent: threading.Event | None = None
    """Set once every chunk has been written."""


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


class StubServer:
    """Answers each request with the next scripted :class:`Reply` and records what it got."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[Seen] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                stub.requests.append(Seen(self.command, self.path, dict(self.headers), body))
                reply = stub.replies.popleft() if stub.replies else Reply(500, b"no reply")
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.chunks is not None:
                    self._stream(reply)
                    return
                payload = reply.body
                if isinstance(payload, dict):
                    payload = json.dumps(payload).encode()
                payload = payload or b""
                try:
                    self.send_response(reply.status)
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _stream(self, reply):
                self.close_connection = True
                self.send_response(reply.status)
                self.send_header("Connection", "close")
                self.end_headers()
                for number, chunk in enumerate(reply.chunks):
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    if number == 0 and reply.gate is not None:
                        reply.gate.wait(5)
                if reply.sent is not None:
                    reply.sent.set()

            do_GET = _handle
            do_POST = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def reply(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def cost(requested=10, actual=5, available=990.0, maximum=1000.0, rate=50.0) -> dict:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": maximum,
                "currentlyAvailable": available,
                "restoreRate": rate,
            },
        }
    }


def ok(data: dict, **kwargs) -> Reply:
    return Reply(200, {"data": data, "extensions": cost(**kwargs)})


def throttled(requested=100, available=20.0, rate=50.0, status=200) -> Reply:
    return Reply(
        status,
        {
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": cost(requested=requested, actual=None, available=available, rate=rate),
        },
    )


LOCATIONS = {
    "locations": {
        "nodes": [{"id": "gid://shopify/Location/1", "name": "Berlin", "isActive": True}],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }
}


@pytest.fixture
def stub():
    server = StubServer()
    yield server
    server.close()


@pytest.fixture
def make_client(redis_conn):
    def make(endpoint, **kwargs):
        slept = kwargs.pop("slept", None)
        throttle = CostThrottle(redis_conn, sleep=slept.append if slept is not None else time.sleep)
        return ShopifyClient(SHOP, TOKEN, redis=redis_conn, endpoint=endpoint, throttle=throttle, **kwargs)

    return make


# -- transport and error mapping -------------------------------------------------------------
def test_posts_the_document_with_token_and_host_header(stub, make_client):
    stub.reply(ok(LOCATIONS))
    data = make_client(stub.url).execute("Locations", {"first": 10})
    assert data == LOCATIONS
    seen = stub.requests[0]
    assert seen.method == "POST"
    assert seen.path == "/admin/api/2026-07/graphql.json"
    assert seen.headers["X-Shopify-Access-Token"] == TOKEN
    assert seen.headers["Host"] == SHOP
    sent = seen.json()
    assert sent["variables"] == {"first": 10}
    assert sent["query"].lstrip().startswith("# Active locations")


def test_without_endpoint_it_targets_the_shop_itself(redis_conn):
    client = ShopifyClient(SHOP, TOKEN, redis=redis_conn)
    assert client.url == f"https://{SHOP}/admin/api/2026-07/graphql.json"
    assert TOKEN not in repr(client)


@pytest.mark.parametrize("status", [401, 403])
def test_refused_token_is_an_auth_error(stub, make_client, status):
    stub.reply(Reply(status, {"errors": "[API] Invalid API key or access token"}))
    with pytest.raises(AuthError):
        make_client(stub.url).execute("Locations", {"first": 10})


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retryable(stub, make_client, status):
    stub.reply(Reply(status, b"<html>bad gateway</html>"))
    with pytest.raises(RetryableError):
        make_client(stub.url).execute("Locations", {"first": 10})


def test_a_hung_server_times_out_as_retryable(stub, make_client):
    stub.reply(*[Reply(200, {"data": {}}, delay=1.0)] * 3)
    slept: list[float] = []
    started = time.monotonic()
    with pytest.raises(RetryableError):
        make_client(stub.url, timeout=(1.0, 0.2), slept=slept).execute("Locations", {"first": 10})
    assert time.monotonic() - started < 1.0  # three reads of 0.2 s each, none waited for
    assert len(stub.requests) == 3 and slept == [0.5, 1.0]  # a read is retried twice inside the call


def test_a_failed_read_is_retried_inside_the_call_a_failed_write_is_not(stub, make_client):
    slept: list[float] = []
    stub.reply(Reply(502, b"<html>bad gateway</html>"), ok(LOCATIONS))
    assert make_client(stub.url, slept=slept).execute("Locations", {"first": 10}) == LOCATIONS
    assert len(stub.requests) == 2 and slept == [0.5]
    # A mutation may have run before the 502: back to the job, which re-reads state first.
    stub.reply(Reply(502, b"<html>bad gateway</html>"))
    with pytest.raises(RetryableError):
        make_client(stub.url, slept=slept).execute("FulfillmentEventCreate", {
            "fulfillmentEvent": {"fulfillmentId": "gid://shopify/Fulfillment/1", "status": "IN_TRANSIT"}})
    assert len(stub.requests) == 3
    # A 429 did not run: even a mutation is repeated after Shopify's Retry-After.
    stub.reply(Reply(429, b"Too Many Requests", headers={"Retry-After": "1"}), Reply(502, b"x"))
    with pytest.raises(RetryableError):
        make_client(stub.url, slept=slept).execute("FulfillmentEventCreate", {
            "fulfillmentEvent": {"fulfillmentId": "gid://shopify/Fulfillment/1", "status": "IN_TRANSIT"}})
    assert len(stub.requests) == 5 and slept[-1] == 1.0


def test_a_closed_port_is_retryable(make_client):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(RetryableError):
        make_client(f"http://127.0.0.1:{port}").execute("Locations", {"first": 10})


def test_http_429_carries_retry_after(stub, make_client):
    stub.reply(Reply(429, b"Too Many Requests", headers={"Retry-After": "7"}))
    with pytest.raises(RetryableError) as caught:
        make_client(stub.url).execute("Locations", {"first": 10})
    assert caught.value.retry_after == 7


def test_a_refused_429_costs_no_points_and_a_5xx_is_held_as_doubtful(stub, make_client):
    client = make_client(stub.url, slept=[])
    client.throttle.observe(SHOP, ThrottleStatus(1000.0, 1000.0, 0.001))
    stub.reply(*[Reply(429, b"Too Many Requests", headers={"Retry-After": "1"})] * 3)
    with pytest.raises(RetryableError):
        client.execute("Locations", {"first": 10})
    assert client.throttle.state(SHOP).available == pytest.approx(1000, abs=0.5)  # given back
    stub.reply(*[Reply(502, b"<html>bad gateway</html>")] * 3)
    with pytest.raises(RetryableError):
        client.execute("Locations", {"first": 10})
    assert client.throttle.state(SHOP).available < 1000  # Shopify may have run it


def test_graphql_errors_are_permanent(stub, make_client):
    stub.reply(
        Reply(200, {"errors": [{"message": "Field 'bogus' doesn't exist", "extensions": {"code": "undefinedField"}}]})
    )
    with pytest.raises(PermanentError) as caught:
        make_client(stub.url).execute("Locations", {"first": 10})
    assert caught.value.code == "undefinedField"
    assert not isinstance(caught.value, AuthError)


def test_internal_server_error_in_a_200_is_retryable(stub, make_client):
    stub.reply(Reply(200, {"errors": [{"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}))
    with pytest.raises(RetryableError):
        make_client(stub.url).execute("Locations", {"first": 10})


def test_user_errors_become_permanent_errors_with_field_and_code(stub, make_client):
    payload = {
        "inventorySetQuantities": {
            "inventoryAdjustmentGroup": None,
            "userErrors": [
                {"field": ["input", "reason"], "message": "The specified reason is invalid.", "code": "INVALID_REASON"}
            ],
        }
    }
    stub.reply(ok(payload), ok(payload))
    client = make_client(stub.url)
    variables = {"input": {}, "idempotencyKey": "k"}
    with pytest.raises(PermanentError) as caught:
        client.execute("InventorySetQuantities", variables)
    assert caught.value.field == ["input", "reason"]
    assert caught.value.code == "INVALID_REASON"
    assert "reason is invalid" in caught.value.message
    # A caller that handles the code gets the payload back instead.
    data = client.execute("InventorySetQuantities", variables, handled_codes={"INVALID_REASON"})
    assert data["inventorySetQuantities"]["userErrors"][0]["code"] == "INVALID_REASON"


def test_throttled_answers_are_waited_out_inside_the_client(stub, make_client):
    slept: list[float] = []
    stub.reply(throttled(requested=100, available=20, rate=50), ok(LOCATIONS, requested=100))
    data = make_client(stub.url, slept=slept).execute("Locations", {"first": 10})
    assert data == LOCATIONS
    assert len(stub.requests) == 2
    assert sum(slept) == pytest.approx(80 / 50, abs=0.1)  # (requested - available) / rate


def test_throttled_with_http_429_is_handled_the_same_way(stub, make_client):
    slept: list[float] = []
    stub.reply(throttled(status=429, requested=60, available=50, rate=10), ok(LOCATIONS))
    assert make_client(stub.url, slept=slept).execute("Locations", {"first": 10}) == LOCATIONS
    assert sum(slept) == pytest.approx(1.0, abs=0.1)


def test_throttling_beyond_max_wait_is_retryable_with_the_needed_wait(stub, make_client):
    slept: list[float] = []
    stub.reply(throttled(requested=500, available=0, rate=10))
    with pytest.raises(RetryableError) as caught:
        make_client(stub.url, slept=slept, max_wait=5).execute("Locations", {"first": 10})
    assert caught.value.retry_after == 50
    assert slept == []
    assert len(stub.requests) == 1


def test_on_call_gets_a_record_per_http_call_without_secrets(stub, make_client):
    records: list[CallRecord] = []
    stub.reply(throttled(requested=30, available=0, rate=1000), ok(LOCATIONS, actual=7))
    client = make_client(stub.url, on_call=records.append)
    client.execute("Locations", {"first": 10})
    assert [r.status for r in records] == [200, 200]
    assert records[0].throttled and records[0].error == "THROTTLED"
    assert records[1].cost == 7 and records[1].error is None
    assert all(r.shop == SHOP and r.operation == "Locations" for r in records)
    assert all(TOKEN not in r.request_excerpt + r.response_excerpt for r in records)


def test_on_call_records_failures_too(stub, make_client):
    records: list[CallRecord] = []
    stub.reply(Reply(503, b"down"))
    with pytest.raises(RetryableError):
        make_client(stub.url, on_call=records.append).execute("Locations", {"first": 10})
    assert records[0].status == 503 and "503" in records[0].error
    assert records[0].response_excerpt == "down"


def test_a_failing_log_writer_does_not_fail_the_call(stub, make_client):
    def broken(_record):
        raise RuntimeError("database down")

    stub.reply(ok(LOCATIONS))
    assert make_client(stub.url, on_call=broken).execute("Locations", {"first": 10})


def test_excerpts_redact_credentials():
    text = excerpt({"access_token": "x", "nested": [{"client_secret": "y", "ok": 1}]})
    assert "x" not in text.replace("redacted", "") and '"ok":1' in text


def test_unknown_document_names_are_refused(make_client, stub):
    with pytest.raises(ValueError):
        make_client(stub.url).execute("../secrets")


# -- against the emulator --------------------------------------------------------------------
ALL_SCOPES = (
    "read_products,write_products,read_inventory,write_inventory,read_locations,read_orders,"
    "write_orders,read_merchant_managed_fulfillment_orders,"
    "write_merchant_managed_fulfillment_orders,read_fulfillments,write_fulfillments,"
    "read_discounts,write_discounts"
)
ADDRESS = {
    "first_name": "Ada",
    "last_name": "L",
    "address1": "Str. 1",
    "city": "Berlin",
    "zip": "10115",
    "country_code": "DE",
}


@pytest.fixture
def shop(shopify_emulator, redis_conn):
    """The emulator seeded with two locations and a two-variant product, and a client for it."""
    emulator = shopify_emulator
    berlin = emulator.add_location(SHOP, "Berlin", "DE", city="Berlin")
    paris = emulator.add_location(SHOP, "Paris", "FR", city="Paris")
    variants = [
        {"sku": "TEE-S", "barcode": "4000001", "price": "20.00", "quantities": {berlin: 5, paris: 2}},
        {"sku": "TEE-M", "price": "20.00", "quantities": {berlin: 7}},
    ]
    product = emulator.add_product(SHOP, "Tee", variants)
    token = emulator.grant_token(SHOP, ALL_SCOPES)

    class Seeded:
        pass

    seeded = Seeded()
    seeded.emulator, seeded.berlin, seeded.paris = emulator, berlin, paris
    seeded.product, seeded.variants, seeded.token = product, variants, token
    seeded.records = []
    seeded.client = ShopifyClient(SHOP, token, redis=redis_conn, endpoint=emulator.url, on_call=seeded.records.append)
    return seeded


def mutations(emulator, name):
    return emulator.mutation_count(SHOP, name)


def test_locations_are_paginated(shop):
    shop.emulator.add_location(SHOP, "Madrid", "ES")
    found = list(ops.iter_locations(shop.client, page_size=2))
    assert sorted(loc.name for loc in found) == ["Berlin", "Madrid", "Paris"]  # sorted by NAME
    assert found[0].country_code == "DE" and found[0].city == "Berlin"
    assert [r.operation for r in shop.records] == ["Locations", "Locations"]


def test_variants_by_id_by_inventory_item_by_search_and_by_product(shop):
    s, m = shop.variants
    by_id = ops.get_variants(shop.client, [m["id"], s["id"], "gid://shopify/ProductVariant/9"])
    assert {v.sku for v in by_id} == {"TEE-S", "TEE-M"}
    small = next(v for v in by_id if v.sku == "TEE-S")
    assert small == Variant(shop.product, s["id"], "TEE-S", "4000001", s["inventory_item_id"], small.title, "Tee")
    by_item = ops.get_variants_by_inventory_items(shop.client, [m["inventory_item_id"]])
    assert [v.variant_id for v in by_item] == [m["id"]]
    assert [v.sku for v in ops.iter_variants(shop.client, "sku:TEE-M")] == ["TEE-M"]
    assert len(ops.get_product_variants(shop.client, shop.product)) == 2


def test_inventory_levels_for_items_and_locations(shop):
    s, m = shop.variants
    levels = ops.get_inventory_levels(
        shop.client, [s["inventory_item_id"], m["inventory_item_id"]], [shop.berlin, shop.paris]
    )
    found = {(lv.inventory_item_id, lv.location_id): lv.available for lv in levels}
    assert found == {
        (s["inventory_item_id"], shop.berlin): 5,
        (m["inventory_item_id"], shop.berlin): 7,
        (s["inventory_item_id"], shop.paris): 2,
    }
    assert all(lv.on_hand == lv.available for lv in levels)


def test_set_inventory_compare_and_swap_applies(shop):
    s, m = shop.variants
    result = ops.set_inventory(
        shop.client,
        "available",
        "correction",
        [(s["inventory_item_id"], shop.berlin, 11, 5), (m["inventory_item_id"], shop.berlin, 0, 7)],
        "push-1",
    )
    assert not result.unapplied and len(result.applied) == 2
    assert shop.emulator.inventory_quantity(SHOP, s["inventory_item_id"], shop.berlin) == 11
    assert shop.emulator.inventory_quantity(SHOP, m["inventory_item_id"], shop.berlin) == 0
    sent = next(r for r in shop.records if r.operation == "InventorySetQuantities")
    assert '"changeFromQuantity":5' in sent.request_excerpt


def test_set_inventory_with_the_same_key_is_not_applied_twice(shop):
    s, _ = shop.variants
    change = [(s["inventory_item_id"], shop.berlin, 9, 5)]
    first = ops.set_inventory(shop.client, "available", "correction", change, "push-2")
    again = ops.set_inventory(shop.client, "available", "correction", change, "push-2")
    assert again.adjustment_group_ids == first.adjustment_group_ids  # replayed by Shopify
    assert shop.emulator.inventory_quantity(SHOP, s["inventory_item_id"], shop.berlin) == 9


def test_set_inventory_rereads_and_retries_stale_items(shop):
    s, m = shop.variants
    # Someone sold one TEE-S in Berlin after we read 5: our changeFromQuantity is stale.
    shop.emulator.add_order(
        SHOP,
        line_items=[{"sku": "TEE-S", "quantity": 1, "location_id": shop.berlin}],
        shipping_address=ADDRESS,
        email="a@example.com",
    )
    result = ops.set_inventory(
        shop.client,
        "available",
        "correction",
        [(s["inventory_item_id"], shop.berlin, 20, 5), (m["inventory_item_id"], shop.berlin, 8, 7)],
        "push-3",
    )
    assert not result.unapplied
    assert {(c.inventory_item_id, c.change_from) for c in result.applied} == {
        (s["inventory_item_id"], 4),
        (m["inventory_item_id"], 7),
    }
    assert shop.emulator.inventory_quantity(SHOP, s["inventory_item_id"], shop.berlin) == 20
    assert shop.emulator.inventory_quantity(SHOP, m["inventory_item_id"], shop.berlin) == 8
    operations = [r.operation for r in shop.records]
    assert operations == ["InventorySetQuantities", "InventoryLevelsAtLocation", "InventorySetQuantities"]


def test_set_inventory_gives_up_on_items_that_keep_changing(shop, redis_conn):
    s, _ = shop.variants

    def sell_after_each_read(record):
        if record.operation == "InventoryLevelsAtLocation":
            shop.emulator.add_order(
                SHOP,
                line_items=[{"sku": "TEE-S", "quantity": 1, "location_id": shop.berlin}],
                shipping_address=ADDRESS,
                email="a@example.com",
            )

    client = ShopifyClient(SHOP, shop.token, redis=redis_conn, endpoint=shop.emulator.url, on_call=sell_after_each_read)
    result = ops.set_inventory(
        client, "available", "correction", [(s["inventory_item_id"], shop.berlin, 30, 4)], "push-4", max_attempts=3
    )
    assert result.applied == ()
    assert [c.inventory_item_id for c in result.unapplied] == [s["inventory_item_id"]]
    assert mutations(shop.emulator, "inventorySetQuantities") == 3
    assert shop.emulator.inventory_quantity(SHOP, s["inventory_item_id"], shop.berlin) == 5 - 2


def test_set_inventory_sends_at_most_250_quantities_per_call(shop):
    variants = [{"sku": f"BULK-{i}", "quantities": {shop.berlin: 1}} for i in range(260)]
    shop.emulator.add_product(SHOP, "Many", variants)
    changes = [(v["inventory_item_id"], shop.berlin, 3, 1) for v in variants]
    result = ops.set_inventory(shop.client, "available", "correction", changes, "push-5")
    assert len(result.applied) == 260 and len(result.adjustment_group_ids) == 2
    assert mutations(shop.emulator, "inventorySetQuantities") == 2
    assert shop.emulator.inventory_quantity(SHOP, variants[-1]["inventory_item_id"], shop.berlin) == 3


def test_set_inventory_invalid_reason_is_permanent(shop):
    s, _ = shop.variants
    with pytest.raises(PermanentError) as caught:
        ops.set_inventory(
            shop.client, "available", "because", [(s["inventory_item_id"], shop.berlin, 1, None)], "push-6"
        )
    assert caught.value.code == "INVALID_REASON"


def test_metafields_are_set_25_at_a_time(shop):
    inputs = [
        MetafieldInput(shop.product, f"key_{i}", str(i), "single_line_text_field", "nearstock") for i in range(30)
    ]
    written = ops.set_metafields(shop.client, inputs)
    assert len(written) == 30
    assert mutations(shop.emulator, "metafieldsSet") == 2
    assert len(shop.emulator.metafields(SHOP, shop.product)) == 30


def test_fulfillment_with_tracking_update_and_events(shop):
    order = shop.emulator.add_order(
        SHOP,
        line_items=[
            {"sku": "TEE-S", "quantity": 2, "location_id": shop.berlin},
            {"sku": "TEE-S", "quantity": 1, "location_id": shop.paris},
        ],
        shipping_address=ADDRESS,
        email="a@example.com",
    )
    orders = ops.get_fulfillment_orders(shop.client, order)
    assert {fo.location_id for fo in orders} == {shop.berlin, shop.paris}
    berlin = next(fo for fo in orders if fo.location_id == shop.berlin)
    assert berlin.status == "OPEN" and berlin.lines[0].remaining_quantity == 2
    assert berlin.lines[0].sku == "TEE-S" and berlin.order_id == order

    fulfillment = ops.create_fulfillment(
        shop.client,
        {berlin.id: [(berlin.lines[0].id, 2)]},
        tracking=TrackingInfo("DHL", "JJD000123", "https://www.dhl.de/track?n=JJD000123"),
        notify_customer=True,
    )
    assert fulfillment.tracking == (TrackingInfo("DHL", "JJD000123", "https://www.dhl.de/track?n=JJD000123"),)
    assert shop.emulator.fulfillments(SHOP)[0]["notify_customer"] is True
    updated = ops.update_tracking(
        shop.client, fulfillment.id, TrackingInfo("DHL", "JJD000456", None), notify_customer=True
    )
    assert updated.tracking[0].number == "JJD000456"
    event = ops.create_fulfillment_event(
        shop.client, fulfillment.id, "IN_TRANSIT", message="Left the hub", city="Berlin", country="DE"
    )
    assert event.status == "IN_TRANSIT" and event.happened_at is not None

    logged = shop.emulator.fulfillments(SHOP)[0]
    assert logged["notify_customer"] is True
    assert logged["tracking"][0]["number"] == "JJD000456"
    assert logged["events"] == ["IN_TRANSIT"]
    again = ops.get_fulfillment_orders(shop.client, order)
    assert next(fo for fo in again if fo.id == berlin.id).lines[0].remaining_quantity == 0
    with pytest.raises(ValueError):
        ops.create_fulfillment_event(shop.client, fulfillment.id, "ARRIVED_SOMEWHERE")


def test_discount_codes_are_customer_scoped_single_use_and_expire(shop):
    starts = datetime(2030, 1, 1, tzinfo=UTC)
    customer = "gid://shopify/Customer/42"
    basic = ops.create_basic_discount_code(
        shop.client,
        code="NS-BDAY-42",
        title="Birthday gift",
        customer_id=customer,
        starts_at=starts,
        ends_at=starts + timedelta(days=14),
        percentage=0.15,
    )
    assert basic.kind == "basic" and basic.code == "NS-BDAY-42" and basic.usage_limit == 1
    assert basic.ends_at == starts + timedelta(days=14)
    shipping = ops.create_free_shipping_code(
        shop.client,
        code="NS-SHIP-42",
        title="Member day",
        customer_id=customer,
        starts_at=starts,
        ends_at=starts + timedelta(days=1),
    )
    assert shipping.kind == "free_shipping"
    described = {d["code"]: d for d in shop.emulator.discount_codes(SHOP)}
    assert described["NS-BDAY-42"]["context"] == {"customers": {"add": [customer]}}
    assert described["NS-BDAY-42"]["appliesOncePerCustomer"] is True
    # Creating the same code again (a retry after a lost answer) returns the existing one.
    again = ops.create_basic_discount_code(
        shop.client,
        code="NS-BDAY-42",
        title="Birthday gift",
        customer_id=customer,
        starts_at=starts,
        ends_at=starts + timedelta(days=14),
        percentage=0.15,
    )
    assert again.id == basic.id
    with pytest.raises(ValueError):
        ops.create_basic_discount_code(
            shop.client, code="X", title="X", customer_id=customer, starts_at=starts, ends_at=None
        )


def test_shop_profile_is_one_bounded_line_and_a_checked_currency(shop):
    profile = ops.get_shop_profile(shop.client)
    assert (profile.name, profile.currency) == ("Acme", "EUR")
    shop.emulator.update_shop(SHOP, name="  Acme\n<b>Outdoor</b>  " + "x" * 400, currency="CHF")
    profile = ops.get_shop_profile(shop.client)
    # One line, as long as the column (the templates escape it).
    assert profile.name.startswith("Acme <b>Outdoor</b> xxx") and len(profile.name) == 255
    assert profile.currency == "CHF"
    assert profile.email == f"owner@{SHOP}"
    assert mapping.shop_profile({"name": None, "currencyCode": "eur"}) == ShopProfile(name="", currency=None)
    for bad in ("a@b.c, evil@x.y", "x\r\nBcc: evil@x.y", "no-at-sign", 42, "a@b@c"):
        assert mapping.shop_profile({"name": "A", "email": bad}).email is None, bad


def test_bulk_export_streams_variants_with_their_levels(shop):
    operation = ops.run_variant_stock_export(shop.client)
    assert operation.status in ("CREATED", "RUNNING")
    done = ops.wait_for_bulk_operation(shop.client, operation.id, timeout=10, interval=0.1)
    assert done.status == "COMPLETED" and done.url
    rows = {row.variant.sku: row for row in ops.iter_variant_stock(done.url)}
    assert set(rows) == {"TEE-S", "TEE-M"}
    assert {(lv.location_id, lv.available) for lv in rows["TEE-S"].levels} == {(shop.berlin, 5), (shop.paris, 2)}
    assert rows["TEE-M"].variant.product_id == shop.product


def test_a_throttled_shop_makes_workers_wait_instead_of_getting_throttled(
    make_shopify_emulator, redis_url
):
    """Three workers (own Redis connection and client each) share a 40-point bucket restoring
    150 points/s; each call costs 9 points. They wait in the shared Redis bucket: Shopify
    never has to answer THROTTLED."""
    import redis as redis_lib

    emulator = make_shopify_emulator(bucket_size=40, restore_rate=150)
    berlin = emulator.add_location(SHOP, "Berlin", "DE")
    variants = [{"sku": f"T-{i}", "quantities": {berlin: 1}} for i in range(3)]
    emulator.add_product(SHOP, "Tee", variants)
    token = emulator.grant_token(SHOP, ALL_SCOPES)
    ids = [v["id"] for v in variants]
    redis_lib.Redis.from_url(redis_url).flushdb()
    errors: list[Exception] = []

    def worker():
        conn = redis_lib.Redis.from_url(redis_url)
        client = ShopifyClient(SHOP, token, redis=conn, endpoint=emulator.url)
        try:
            for _ in range(8):
                assert len(ops.get_variants(client, ids)) == 3
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert emulator.throttled_count(SHOP) == 0
    # 24 calls x 9 points through a 40-point bucket at 150/s cannot take less than ~1.2 s.
    assert time.monotonic() - started >= (24 * 9 - 40) / 150 * 0.9


def test_emulator_faults_map_to_retryable_errors(shop):
    shop.emulator.set_fault_rate(1.0, ["500"])
    with pytest.raises(RetryableError):
        list(ops.iter_locations(shop.client))
    shop.emulator.set_fault_rate(1.0, ["429"])
    with pytest.raises(RetryableError) as caught:
        list(ops.iter_locations(shop.client))
    assert caught.value.retry_after == 2.0
    shop.emulator.set_fault_rate(0.0)
    assert list(ops.iter_locations(shop.client))


def test_an_unknown_token_is_an_auth_error(shop, redis_conn):
    client = ShopifyClient(SHOP, "shpat_revoked", redis=redis_conn, endpoint=shop.emulator.url)
    with pytest.raises(AuthError):
        list(ops.iter_locations(client))


# -- bulk JSONL streaming ---------------------------------------------------------------------
def jsonl(*rows: dict) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def test_bulk_results_group_children_and_grandchildren(stub):
    stub.reply(
        Reply(
            200,
            jsonl(
                {"id": "gid://shopify/ProductVariant/1", "sku": "A"},
                {"location": {"id": "L1"}, "__parentId": "gid://shopify/ProductVariant/1"},
                {"location": {"id": "L2"}, "__parentId": "gid://shopify/ProductVariant/1"},
                {"id": "gid://shopify/ProductVariant/2", "sku": "B"},
                {"id": "gid://shopify/Metafield/9", "__parentId": "gid://shopify/ProductVariant/2"},
                {"id": "gid://shopify/X/10", "__parentId": "gid://shopify/Metafield/9"},
            ),
        )
    )
    first, second = ops.iter_bulk_results(f"{stub.url}/bulk/1.jsonl")
    assert first.id == "gid://shopify/ProductVariant/1"
    assert [c.data["location"]["id"] for c in first.children] == ["L1", "L2"]
    assert all("__parentId" not in c.data for c in first.children)
    assert second.data["sku"] == "B"
    assert [c.id for c in second.children] == ["gid://shopify/Metafield/9"]
    assert [g.id for g in second.children[0].children] == ["gid://shopify/X/10"]
    assert "X-Shopify-Access-Token" not in stub.requests[0].headers


def test_bulk_results_come_out_while_the_file_is_still_downloading(stub):
    """The server sends ~1 MB, then holds the rest of the file until the test lets it go: the
    first groups must come out before that (the reader streams; it never needs the whole
    file)."""
    gate, sent_tail = threading.Event(), threading.Event()

    def groups(start, count):
        return b"".join(
            jsonl(
                {"id": f"gid://shopify/ProductVariant/{n}", "title": "x" * 200},
                {"location": {"id": "L1"}, "__parentId": f"gid://shopify/ProductVariant/{n}"},
            )
            for n in range(start, start + count)
        )

    stub.reply(Reply(200, chunks=[groups(0, 4000), groups(4000, 10)], gate=gate, sent=sent_tail))
    results = ops.iter_bulk_results(f"{stub.url}/bulk/9.jsonl")
    first = next(results)
    assert first.id == "gid://shopify/ProductVariant/0" and len(first.children) == 1
    assert not sent_tail.is_set()
    gate.set()
    assert sum(1 for _ in results) == 4009


def test_ungrouped_bulk_output_is_refused_not_misassembled(stub):
    stub.reply(
        Reply(
            200,
            jsonl(
                {"id": "P1"},
                {"id": "P2"},
                {"id": "C1", "__parentId": "P1"},
            ),
        )
    )
    results = ops.iter_bulk_results(f"{stub.url}/bulk/2.jsonl")
    with pytest.raises(PermanentError, match="groupObjects"):
        list(results)


@pytest.mark.parametrize(("status", "error"), [(403, PermanentError), (404, PermanentError), (503, RetryableError)])
def test_bulk_download_failures(stub, status, error):
    stub.reply(Reply(status, b"<Error><Code>AccessDenied</Code></Error>"))
    with pytest.raises(error):
        list(ops.iter_bulk_results(f"{stub.url}/bulk/3.jsonl"))


def test_throttled_by_spending_outside_our_bucket_waits_once_and_succeeds(
    make_shopify_emulator, redis_conn
):
    """Another app process spends the shop's budget behind our back: Shopify answers
    THROTTLED once, the client waits what the bucket needs and the retry succeeds."""
    from tests.shopify_fixtures import shopify_graphql

    emulator = make_shopify_emulator(bucket_size=100, restore_rate=25)
    variants = [{"sku": f"T-{i}"} for i in range(3)]
    emulator.add_product(SHOP, "Tee", variants)
    token = emulator.grant_token(SHOP, ALL_SCOPES)
    ids = [v["id"] for v in variants]
    query = load_document("VariantsByIds").text
    while emulator.throttle_status(SHOP)["currentlyAvailable"] >= 9:
        shopify_graphql(emulator, token, query, {"ids": ids})
    client = ShopifyClient(SHOP, token, redis=redis_conn, endpoint=emulator.url)
    started = time.monotonic()
    assert len(ops.get_variants(client, ids)) == 3
    assert emulator.throttled_count(SHOP) == 1
    assert time.monotonic() - started >= 0.1
