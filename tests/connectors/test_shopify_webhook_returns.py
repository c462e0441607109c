"""returns/* webhook bodies (as the emulator sends them, Shopify's topic samples) -> ChannelReturn."""

from __future__ import annotations

import json

import pytest

from connectors.errors import PermanentError
from connectors.shopify.webhook_returns import parse_return, parse_return_status
from sandbox.shopify.app_config import AppConfig, Subscription
from tests.sandbox.test_shopify_emulator_returns import APPROVE, DECLINE, gql, request, returnable_lines, ship
from tests.sandbox.test_shopify_emulator_webhooks_bulk import receiver  # noqa: F401 - the fixture
from tests.shopify_fixtures import seed_shopify_catalog

TOPICS = frozenset({"returns/request", "returns/approve", "returns/decline"})


@pytest.fixture
def bodies(make_shopify_emulator, receiver):  # noqa: F811
    sink = receiver()
    em = make_shopify_emulator(app_url=sink.url, app_config=AppConfig(
        "2026-07", (Subscription(TOPICS, "/webhooks/shopify"),)))
    catalog = seed_shopify_catalog(em)
    ship(em, catalog["token"], catalog["order"])
    fli = returnable_lines(em, catalog["token"], catalog["order"])[0]["fulfillmentLineItem"]["id"]
    first = request(em, catalog["token"], catalog["order"], fli, 1, handle="size-too-small",
                    customerNote="Too tight")["return"]
    gql(em, catalog["token"], APPROVE, {"id": first["id"]})
    second = request(em, catalog["token"], catalog["order"], fli, 1)["return"]
    gql(em, catalog["token"], DECLINE, {"id": second["id"], "reason": "FINAL_SALE", "note": None})
    assert em.flush_webhooks(timeout=10)
    out = {}
    for r in sink.received:
        body = json.loads(r["body"])
        out[(r["headers"]["X-Shopify-Topic"], body["admin_graphql_api_id"])] = body
    return {"catalog": catalog, "fli": fli, "first": first["id"], "second": second["id"], "bodies": out}


def test_request_and_approve_bodies(bodies):
    requested = parse_return(bodies["bodies"][("returns/request", bodies["first"])])
    assert (requested.id, requested.order_id, requested.status) == (
        bodies["first"], bodies["catalog"]["order"], "REQUESTED")
    [line] = requested.lines
    assert (line.fulfillment_line_item_id, line.quantity, line.reason, line.customer_note) == (
        bodies["fli"], 1, "size-too-small", "Too tight")
    assert line.id.startswith("gid://shopify/ReturnLineItem/") and line.sku is None
    approved = parse_return(bodies["bodies"][("returns/approve", bodies["first"])])
    assert approved.status == "OPEN" and approved.lines == requested.lines


def test_decline_and_close_bodies(bodies):
    declined = parse_return_status(bodies["bodies"][("returns/decline", bodies["second"])])
    assert (declined.id, declined.order_id, declined.status, declined.lines) == (
        bodies["second"], bodies["catalog"]["order"], "DECLINED", ())
    assert (declined.decline_reason, declined.decline_note) == ("FINAL_SALE", None)
    body = bodies["bodies"][("returns/decline", bodies["second"])]
    with pytest.raises(PermanentError):
        parse_return_status({**body, "decline": {"reason": "because", "note": None}})
    closed = parse_return_status({"id": 7, "admin_graphql_api_id": "gid://shopify/Return/7", "order_id": 9,
                                  "status": "closed"})
    assert (closed.id, closed.order_id, closed.status) == ("gid://shopify/Return/7", "gid://shopify/Order/9", "CLOSED")


@pytest.mark.parametrize("change", [
    {"status": "lost"},
    {"admin_graphql_api_id": "gid://shopify/Order/1"},
    {"id": 1},  # disagrees with admin_graphql_api_id
    {"order": {"id": "x"}},
    {"return_line_items": [{"id": 1, "quantity": 1}]},
    {"return_line_items": [{"id": 1, "quantity": -1, "fulfillment_line_item": {"id": 2}}]},
    {"return_line_items": [{"id": 1, "quantity": 1, "fulfillment_line_item": {"id": 2}}] * 2},
    {"return_line_items": "many"},
])
def test_hostile_bodies_are_refused(bodies, change):
    body = {**bodies["bodies"][("returns/request", bodies["first"])], **change}
    with pytest.raises(PermanentError):
        parse_return(body)
    with pytest.raises(PermanentError):
        parse_return("[]")
