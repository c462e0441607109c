"""Fulfillment orders, fulfillments with tracking, and tracking events.

Shopify fulfils through fulfillment orders (one per order x assigned location);
``fulfillmentCreate`` takes line items grouped by fulfillment order, all of one order and location.
https://shopify.dev/docs/apps/build/orders-fulfillment/order-management-apps/build-fulfillment-solutions

``fulfillmentCreate`` has no idempotency key: a retry after a lost response can only fail (the
quantities are no longer remaining) or fulfil twice when no line items were named. Callers retry
by re-reading :func:`get_fulfillment_orders` and fulfilling what is still remaining.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from connectors.shopify import mapping
from connectors.shopify.client import ShopifyClient
from integration.domain.channels import (
    Fulfillment,
    FulfillmentEvent,
    FulfillmentOrder,
    FulfillmentOrderLine,
    TrackingInfo,
)

FULFILLMENT_ORDERS_PAGE = 5
LINES_PAGE = 50
EVENT_STATUSES = frozenset(
    {
        "LABEL_PURCHASED",
        "LABEL_PRINTED",
        "READY_FOR_PICKUP",
        "CONFIRMED",
        "IN_TRANSIT",
        "OUT_FOR_DELIVERY",
        "ATTEMPTED_DELIVERY",
        "DELAYED",
        "DELIVERED",
        "FAILURE",
        "CARRIER_PICKED_UP",
    }
)
"""``FulfillmentEventStatus`` in 2026-07."""


def get_fulfillment_orders(client: ShopifyClient, order_id: str) -> list[FulfillmentOrder]:
    """All fulfillment orders of an order with all their lines (empty if the order is unknown)."""
    result: list[FulfillmentOrder] = []
    after = None
    while True:
        data = client.execute(
            "OrderFulfillmentOrders",
            {
                "id": order_id,
                "first": FULFILLMENT_ORDERS_PAGE,
                "after": after,
                "linesFirst": LINES_PAGE,
            },
        )
        order = data.get("order")
        if not order:
            return result
        connection = order["fulfillmentOrders"]
        for node in mapping.nodes(connection):
            lines = [mapping.fulfillment_order_line(n) for n in mapping.nodes(node["lineItems"])]
            has_more, cursor = mapping.page_info(node["lineItems"])
            if has_more:
                lines.extend(_remaining_lines(client, node["id"], cursor))
            result.append(mapping.fulfillment_order(node, lines, order_id=order["id"]))
        has_next, after = mapping.page_info(connection)
        if not has_next:
            return result


def _remaining_lines(client: ShopifyClient, fulfillment_order_id: str, after: str | None) -> list[FulfillmentOrderLine]:
    lines: list[FulfillmentOrderLine] = []
    while True:
        data = client.execute(
            "FulfillmentOrderLineItems",
            {"id": fulfillment_order_id, "first": LINES_PAGE, "after": after},
        )
        connection = (data.get("fulfillmentOrder") or {}).get("lineItems")
        lines.extend(mapping.fulfillment_order_line(n) for n in mapping.nodes(connection))
        has_next, after = mapping.page_info(connection)
        if not has_next:
            return lines


def create_fulfillment(
    client: ShopifyClient,
    line_items_by_fulfillment_order: Mapping[str, Sequence[tuple[str, int]] | None],
    *,
    tracking: TrackingInfo | None = None,
    notify_customer: bool = False,
    message: str | None = None,
) -> Fulfillment:
    """Fulfil ``{fulfillment_order_id: [(fulfillment_order_line_item_id, quantity), ...]}``; an
    empty/None list fulfils every remaining line of that fulfillment order."""
    groups = []
    for fo_id, lines in line_items_by_fulfillment_order.items():
        group: dict = {"fulfillmentOrderId": fo_id}
        if lines:
            group["fulfillmentOrderLineItems"] = [
                {"id": line_id, "quantity": int(quantity)} for line_id, quantity in lines
            ]
        groups.append(group)
    if not groups:
        raise ValueError("nothing to fulfil")
    fulfillment: dict = {"lineItemsByFulfillmentOrder": groups, "notifyCustomer": notify_customer}
    if tracking is not None:
        fulfillment["trackingInfo"] = _tracking_input(tracking)
    data = client.execute("FulfillmentCreate", {"fulfillment": fulfillment, "message": message})
    return mapping.fulfillment(data["fulfillmentCreate"]["fulfillment"])


def update_tracking(
    client: ShopifyClient,
    fulfillment_id: str,
    tracking: TrackingInfo,
    *,
    notify_customer: bool | None = None,
) -> Fulfillment:
    """Replace a fulfillment's tracking (company, number, url). ``notify_customer`` applies to
    this and later updates; None leaves it out (Shopify then sends no notification)."""
    variables: dict = {
        "fulfillmentId": fulfillment_id,
        "trackingInfoInput": _tracking_input(tracking),
    }
    if notify_customer is not None:
        variables["notifyCustomer"] = notify_customer
    data = client.execute("FulfillmentTrackingInfoUpdate", variables)
    return mapping.fulfillment(data["fulfillmentTrackingInfoUpdate"]["fulfillment"])


def create_fulfillment_event(
    client: ShopifyClient,
    fulfillment_id: str,
    status: str,
    *,
    happened_at: datetime | None = None,
    message: str | None = None,
    estimated_delivery_at: datetime | None = None,
    city: str | None = None,
    province: str | None = None,
    country: str | None = None,
    zip: str | None = None,
) -> FulfillmentEvent:
    """Record a tracking event (``IN_TRANSIT``, ``DELIVERED``, ``DELAYED``...) on a fulfillment."""
    if status not in EVENT_STATUSES:
        raise ValueError(f"not a FulfillmentEventStatus: {status!r}")
    event = {
        "fulfillmentId": fulfillment_id,
        "status": status,
        "happenedAt": mapping.format_datetime(happened_at),
        "estimatedDeliveryAt": mapping.format_datetime(estimated_delivery_at),
        "message": message,
        "city": city,
        "province": province,
        "country": country,
        "zip": zip,
    }
    event = {k: v for k, v in event.items() if v is not None}
    data = client.execute("FulfillmentEventCreate", {"fulfillmentEvent": event})
    return mapping.fulfillment_event(data["fulfillmentEventCreate"]["fulfillmentEvent"])


def _tracking_input(tracking: TrackingInfo) -> dict:
    # Single number/url fields; Shopify builds the URL itself for known carrier names.
    data = {"company": tracking.company, "number": tracking.number, "url": tracking.url}
    return {k: v for k, v in data.items() if v}


def find_fulfillment_by_tracking(client: ShopifyClient, order_id: str, tracking_number: str) -> Fulfillment | None:
    """The order's fulfillment carrying ``tracking_number``, if one exists (re-read before create:
    fulfillmentCreate has no idempotency key)."""
    data = client.execute("OrderFulfillments", {"id": order_id})
    for node in (data.get("order") or {}).get("fulfillments") or []:
        if any((t or {}).get("number") == tracking_number for t in node.get("trackingInfo") or []):
            return mapping.fulfillment(node)
    return None


def get_fulfillment_events(client: ShopifyClient, fulfillment_id: str, *, first: int = 100) -> list[FulfillmentEvent]:
    """The fulfillment's most recent events, newest first."""
    data = client.execute("FulfillmentEvents", {"id": fulfillment_id, "first": first})
    connection = (data.get("fulfillment") or {}).get("events")
    return [mapping.fulfillment_event(n) for n in mapping.nodes(connection)]
