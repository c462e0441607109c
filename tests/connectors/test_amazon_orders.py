"""Order polling (Orders API v2026-01-01): cursor, paging, addresses only when needed, mapping."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from connectors.amazon import orders
from connectors.amazon.orders import CHANNEL_AFN, CHANNEL_MFN, OrdersCursor, order_status, poll_orders
from connectors.errors import PermanentError
from tests.amazon_fixtures import DE, FR, MODELS


def _seed(emulator):
    state, now = emulator.state, emulator.now()
    made = {}
    plan = [("unshipped-1", "MERCHANT", "UNSHIPPED"), ("unshipped-2", "MERCHANT", "UNSHIPPED"),
            ("partial", "MERCHANT", "PARTIALLY_SHIPPED"), ("pending", "MERCHANT", "PENDING"),
            ("preorder", "MERCHANT", "PENDING_AVAILABILITY"), ("shipped", "MERCHANT", "SHIPPED"),
            ("cancelled", "MERCHANT", "CANCELLED"), ("afn", "AMAZON", "SHIPPED"),
            ("afn-unfulfillable", "AMAZON", "UNFULFILLABLE")]
    for n, (name, by, status) in enumerate(plan):
        order = state.add_order([("NS-0001", 2), ("NS-0002", 1)], marketplace_id=DE, fulfilled_by=by, status=status,
                                created=now - timedelta(hours=5, minutes=n))
        order.updated = now - timedelta(hours=1, minutes=n)
        if status == "PARTIALLY_SHIPPED":
            order.items[0].shipped = 2
        made[name] = order
    elsewhere = state.add_order([("NS-0001", 1)], marketplace_id=FR, created=now - timedelta(hours=3))
    elsewhere.updated = now - timedelta(hours=1)
    return made


def _poll_all(client, emulator, cursor, **kwargs):
    found, pages = [], 0
    while True:
        page = poll_orders(client, cursor, now=emulator.now, **kwargs)
        found.extend(page.orders)
        cursor, pages = page.cursor, pages + 1
        if not page.has_more:
            return found, cursor, pages


def test_poll_pages_through_the_window_and_keeps_a_cursor(amazon_emulator_factory, amazon_client_factory):
    emulator = amazon_emulator_factory(orders=0)
    made = _seed(emulator)
    client = amazon_client_factory(emulator)
    found, cursor, pages = _poll_all(client, emulator, None, since=emulator.now() - timedelta(hours=2), page_size=4)
    assert pages == 3
    assert {o.external_id for o in found} == {o.order_id for o in made.values()}
    searches = emulator.exchanges_for("orders.searchOrders")
    first, second = dict(searches[0].query), dict(searches[1].query)
    assert "paginationToken" not in first and second["paginationToken"]
    assert {k: v for k, v in second.items() if k != "paginationToken"} == first  # all other parameters repeat
    assert first["includedData"] == "FULFILLMENT,PROCEEDS" and first["marketplaceIds"] == DE
    state = OrdersCursor.decode(cursor)
    assert state.token is None and state.before is None

    # Caught up: nothing new.
    again, cursor, _ = _poll_all(client, emulator, cursor)
    assert again == []

    # An update after the window shows up in the next poll, once it is two minutes old.
    emulator.state.set_order_status(made["pending"].order_id, "CANCELLED")
    emulator.advance(minutes=3)
    updated, cursor, _ = _poll_all(client, emulator, cursor)
    assert [(o.external_id, o.fulfillment_status) for o in updated] == [(made["pending"].order_id, "Canceled")]
    assert updated[0].cancelled_at == updated[0].updated_at and updated[0].financial_status == "voided"


def test_an_expired_pagination_token_restarts_the_window(amazon_emulator_factory, amazon_client_factory):
    emulator = amazon_emulator_factory(orders=0)
    made = _seed(emulator)
    client = amazon_client_factory(emulator)
    page = poll_orders(client, None, since=emulator.now() - timedelta(hours=2), page_size=4, now=emulator.now)
    assert page.has_more and OrdersCursor.decode(page.cursor).token
    emulator.advance(hours=25)  # the worker was down for a day: the token is dead
    found, _, _ = _poll_all(client, emulator, page.cursor, page_size=4)
    assert {o.external_id for o in found} == {o.order_id for o in made.values()}
    statuses = [e.status for e in emulator.exchanges_for("orders.searchOrders") if e.status != 403]  # token aged too
    assert statuses[:3] == [200, 400, 200]


def test_addresses_are_fetched_only_for_orders_we_ship(amazon_emulator_factory, amazon_client_factory):
    emulator = amazon_emulator_factory(orders=0)
    made = _seed(emulator)
    client = amazon_client_factory(emulator)
    found, _, _ = _poll_all(client, emulator, None, since=emulator.now() - timedelta(hours=2))
    by_id = {o.external_id: o for o in found}
    lookups = {e.path.rsplit("/", 1)[1] for e in emulator.exchanges_for("orders.getOrder")}
    assert lookups == {made[k].order_id for k in ("unshipped-1", "unshipped-2", "partial")}
    for exchange in emulator.exchanges_for("orders.getOrder"):
        assert dict(exchange.query)["includedData"] == "BUYER,RECIPIENT,FULFILLMENT,PROCEEDS"
    shipped_by_us = by_id[made["unshipped-1"].order_id]
    assert shipped_by_us.shipping_address.country_code == "DE" and shipped_by_us.shipping_country == "DE"
    assert shipped_by_us.shipping_address.name == made["unshipped-1"].buyer_name
    assert shipped_by_us.email == made["unshipped-1"].buyer_email and shipped_by_us.channel == CHANNEL_MFN
    for name in ("pending", "shipped", "afn", "cancelled"):
        order = by_id[made[name].order_id]
        assert order.shipping_address is None and order.email is None and order.customer is None
    assert by_id[made["afn"].order_id].channel == CHANNEL_AFN
    assert by_id[made["afn-unfulfillable"].order_id].fulfillment_status == "Unfulfillable"
    assert by_id[made["partial"].order_id].fulfillment_status == "PartiallyShipped"
    assert by_id[made["preorder"].order_id].fulfillment_status == "PendingAvailability"
    assert by_id[made["preorder"].order_id].financial_status == "pending"
    line = by_id[made["shipped"].order_id].lines[0]
    assert line.sku == "NS-0001" and line.quantity == 2 and isinstance(line.price, Decimal)
    total = by_id[made["shipped"].order_id].total_price
    assert total == sum(i.unit_price * i.quantity for i in made["shipped"].items)


def test_get_order_without_address(amazon_emulator, amazon_client):
    order = amazon_emulator.state.add_order([("NS-0003", 1)], marketplace_id=DE)
    data = orders.get_order(amazon_client, order.order_id, with_address=False)
    assert data.shipping_address is None and data.fulfillment_status == "Unshipped"
    assert orders.get_order(amazon_client, order.order_id).shipping_address is not None


def test_a_bad_record_is_logged_and_skipped(amazon_client):
    assert orders._complete(amazon_client, {"orderId": "123", "fulfillment": {"fulfillmentStatus": "SHIPPED"}},
                            True) is None


@pytest.mark.parametrize(("value", "expected"), [
    ("PENDING_AVAILABILITY", "PendingAvailability"), ("PENDING", "Pending"), ("UNSHIPPED", "Unshipped"),
    ("PARTIALLY_SHIPPED", "PartiallyShipped"), ("SHIPPED", "Shipped"), ("CANCELLED", "Canceled"),
    ("UNFULFILLABLE", "Unfulfillable"), ("InvoiceUnconfirmed", "InvoiceUnconfirmed"), ("Canceled", "Canceled"),
    ("PartiallyShipped", "PartiallyShipped"), (None, None)])
def test_statuses_of_both_apis(value, expected):
    assert order_status(value) == expected


def test_unknown_status_is_permanent():
    with pytest.raises(PermanentError):
        order_status("ON_THE_MOON")


def test_v0_orders_map_too():
    order = {"AmazonOrderId": "902-3159896-1390916", "PurchaseDate": "2026-01-20T19:49:35Z",
             "LastUpdateDate": "2026-01-21T19:49:35Z", "OrderStatus": "InvoiceUnconfirmed",
             "FulfillmentChannel": "MFN", "OrderTotal": {"CurrencyCode": "INR", "Amount": "200.00"},
             "BuyerInfo": {"BuyerEmail": "b@marketplace.amazon.in", "BuyerName": "Asha Rao"},
             "ShippingAddress": {"Name": "Asha Rao", "AddressLine1": "1 MG Road", "City": "Bengaluru",
                                 "StateOrRegion": "KA", "PostalCode": "560001", "CountryCode": "IN"}}
    items = [{"OrderItemId": "1", "SellerSKU": "NS-1", "ASIN": "B0X", "Title": "Mug", "QuantityOrdered": 2,
              "ItemPrice": {"CurrencyCode": "INR", "Amount": "200.00"}}]
    data = orders.order_from_v0(order, items)
    assert data.fulfillment_status == "InvoiceUnconfirmed" and data.shipping_country == "IN"
    assert data.lines[0].price == Decimal("100.00") and data.customer.first_name == "Asha"


def test_the_models_example_orders_map(amazon_models):
    model = json.loads((MODELS / "orders_2026-01-01.json").read_text())
    responses = model["paths"]["/orders/2026-01-01/orders"]["get"]["responses"]["200"]
    for case in responses["x-amzn-api-sandbox"]["static"]:
        for raw in case["response"]["orders"]:
            data = orders.order_from_payload(raw)
            assert data.external_id == raw["orderId"] and data.lines
            assert data.channel == (CHANNEL_AFN if raw["fulfillment"]["fulfilledBy"] == "AMAZON" else CHANNEL_MFN)
            assert data.shipping_country == raw["recipient"]["deliveryAddress"]["countryCode"]
    v0 = json.loads((MODELS / "ordersV0.json").read_text())["paths"]
    listed = v0["/orders/v0/orders"]["get"]["responses"]["200"]["x-amzn-api-sandbox"]["static"][0]["response"]
    items = v0["/orders/v0/orders/{orderId}/orderItems"]["get"]["responses"]["200"]["x-amzn-api-sandbox"]["static"]
    mapped = orders.order_from_v0(listed["payload"]["Orders"][0], items[0]["response"]["payload"]["OrderItems"])
    assert mapped.external_id == "902-1845936-5435065" and mapped.fulfillment_status == "Unshipped"
