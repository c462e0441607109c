"""ShopifyChannel's returns against the emulator: round trips, retries after lost answers."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from connectors.errors import PermanentError, RetryableError
from connectors.http import make_session
from connectors.shopify.channel import ShopifyChannel
from connectors.shopify.client import ShopifyClient
from integration.domain.channels import ReturnLineInput
from tests.sandbox.test_shopify_emulator_returns import ship
from tests.shopify_fixtures import SHOPIFY_SHOP


class LosingSession(requests.Session):
    """Sends every request; the answer of the first ``operation`` call is lost on the way back."""

    def __init__(self, operation: str) -> None:
        super().__init__()
        self.operation = operation
        self.lost = 0

    def post(self, url, **kwargs):
        response = make_session().post(url, **kwargs)
        if f" {self.operation}(" in kwargs["json"]["query"] and not self.lost:
            self.lost += 1
            raise requests.ConnectionError("connection reset after the request was sent")
        return response


@pytest.fixture
def shop(shopify_emulator, shopify_catalog, redis_conn):
    ship(shopify_emulator, shopify_catalog["token"], shopify_catalog["order"])

    def channel(session=None) -> ShopifyChannel:
        return ShopifyChannel(ShopifyClient(SHOPIFY_SHOP, shopify_catalog["token"], redis=redis_conn,
                                            endpoint=shopify_emulator.url, session=session))
    return {**shopify_catalog, "emulator": shopify_emulator, "channel": channel}


def _requested(shop, quantity=1, reason="defective"):
    store = shop["channel"]()
    [line] = store.get_returnable_lines(shop["order"])
    return store, line, store.request_return(shop["order"], [ReturnLineInput(
        line.fulfillment_line_item_id, quantity, reason, customer_note="Seam open")])


def test_request_approve_deliver_and_refund(shop):
    store, line, requested = _requested(shop)
    assert (line.sku, line.quantity) == ("TEE-BLK-M", 2) and line.line_item_id.startswith("gid://shopify/LineItem/")
    assert requested.status == "REQUESTED" and requested.order_id == shop["order"]
    [rline] = requested.lines
    assert (rline.sku, rline.quantity, rline.reason, rline.customer_note) == ("TEE-BLK-M", 1, "defective", "Seam open")
    assert store.get_returnable_lines(shop["order"])[0].quantity == 1

    opened = store.approve_return(requested.id)
    assert opened.status == "OPEN" and len(opened.reverse_fulfillment_order_ids) == 1
    assert store.approve_return(requested.id) == opened  # approving again answers it as it is
    rfo = opened.reverse_fulfillment_order_ids[0]
    delivery = store.create_reverse_delivery(rfo, tracking_number="RT1", tracking_url="https://t.example/RT1",
                                             label_url=None)
    assert store.create_reverse_delivery(rfo, tracking_number="RT1", tracking_url="https://t.example/RT1",
                                         label_url=None) == delivery

    processed = store.process_return(requested.id, [(rline.id, 1)], refund=True, key="return-1")
    assert processed.status == "CLOSED" and processed.refund_id.startswith("gid://shopify/Refund/")
    assert (processed.amount, processed.currency) == (Decimal("25.00"), "EUR")
    assert store.get_return(requested.id).status == "CLOSED"
    assert store.process_return(requested.id, [(rline.id, 1)], refund=True, key="return-1") == processed


def test_process_return_refunds_once_when_the_answer_is_lost(shop):
    store, _line, requested = _requested(shop, quantity=2)
    store.approve_return(requested.id)
    rline = requested.lines[0]
    losing = shop["channel"](LosingSession("returnProcess"))
    with pytest.raises(RetryableError):
        losing.process_return(requested.id, [(rline.id, 2)], refund=True, key="return-7")
    retried = losing.process_return(requested.id, [(rline.id, 2)], refund=True, key="return-7")
    assert retried.amount == Decimal("50.00") and retried.status == "CLOSED"
    payload = shop["emulator"].order_payload(SHOPIFY_SHOP, shop["order"])
    assert len(payload["refunds"]) == 1 and payload["financial_status"] == "refunded"
    assert payload["refunds"][0]["admin_graphql_api_id"] == retried.refund_id


def test_an_exchange_processes_without_money_once(shop):
    store, _line, requested = _requested(shop, quantity=2, reason="size-too-small")
    store.approve_return(requested.id)
    rline = requested.lines[0]
    losing = shop["channel"](LosingSession("returnProcess"))
    with pytest.raises(RetryableError):
        losing.process_return(requested.id, [(rline.id, 2)], refund=False, key="exchange-1")
    again = losing.process_return(requested.id, [(rline.id, 2)], refund=False, key="exchange-1")
    assert again.refund_id is None and again.status == "CLOSED"
    assert shop["emulator"].order_payload(SHOPIFY_SHOP, shop["order"])["refunds"] == []


def test_a_request_retried_after_a_lost_answer_finds_its_return(shop):
    losing = shop["channel"](LosingSession("returnRequest"))
    [line] = losing.get_returnable_lines(shop["order"])
    wanted = [ReturnLineInput(line.fulfillment_line_item_id, 2, "unwanted")]
    with pytest.raises(RetryableError):
        losing.request_return(shop["order"], wanted)
    found = losing.request_return(shop["order"], wanted)
    assert found.status == "REQUESTED" and found.lines[0].quantity == 2
    assert losing.get_returnable_lines(shop["order"]) == []


def test_declines_and_refusals(shop):
    store, _line, requested = _requested(shop)
    declined = store.decline_return(requested.id, "FINAL_SALE", "Sale items are final")
    assert declined.status == "DECLINED"
    assert store.decline_return(requested.id, "FINAL_SALE") == declined
    with pytest.raises(PermanentError) as refused:
        store.approve_return(requested.id)
    assert refused.value.code == "INVALID_STATE"
    with pytest.raises(ValueError):
        store.decline_return(requested.id, "BECAUSE")
    [line] = store.get_returnable_lines(shop["order"])
    with pytest.raises(PermanentError) as unknown:
        store.request_return(shop["order"], [ReturnLineInput(line.fulfillment_line_item_id, 1, "no-such-reason")])
    assert unknown.value.code == "unknown_reason"
    with pytest.raises(PermanentError) as too_many:
        store.request_return(shop["order"], [ReturnLineInput(line.fulfillment_line_item_id, 5, "defective")])
    assert too_many.value.code == "INVALID"
    with pytest.raises(PermanentError):
        store.get_return("gid://shopify/Return/424242")
