"""Resolvers for order, fulfillment, discount and webhook-subscription object fields."""

from __future__ import annotations

from .queries import RESOLVERS, _order_fulfillment_status, _records, _shop, page, resolver
from .state import now_iso

# -- orders and fulfillment ----------------------------------------------------------------------

RESOLVERS[("Order", "displayFulfillmentStatus")] = lambda order, info: _order_fulfillment_status(
    order, info)


@resolver("Order", "lineItems")
def order_line_items(order, info, **args):
    return page(info, _records(info, order["_line_items"]), args)


@resolver("Order", "fulfillmentOrders")
def order_fulfillment_orders(order, info, **args):
    return page(info, _records(info, order["_fulfillment_orders"]), args)


@resolver("Order", "fulfillments")
def order_fulfillments(order, info, first=None, query=None):
    items = _records(info, order["_fulfillments"])
    return items[:first] if first is not None else items


@resolver("LineItem", "variant")
def line_item_variant(li, info):
    return _shop(info).nodes.get(li["_variant"])


@resolver("LineItem", "product")
def line_item_product(li, info):
    variant = _shop(info).nodes.get(li["_variant"])
    return _shop(info).nodes.get(variant["_product"]) if variant else None


@resolver("FulfillmentOrder", "status")
def fo_status(fo, info):
    lines = _records(info, fo["_line_items"])
    remaining = sum(li["remainingQuantity"] for li in lines)
    total = sum(li["totalQuantity"] for li in lines)
    return "CLOSED" if remaining == 0 else "OPEN" if remaining == total else "IN_PROGRESS"


@resolver("FulfillmentOrder", "lineItems")
def fo_line_items(fo, info, **args):
    return page(info, _records(info, fo["_line_items"]), args)


@resolver("FulfillmentOrder", "order")
def fo_order(fo, info):
    return _shop(info).nodes[fo["orderId"]]


@resolver("FulfillmentOrder", "fulfillments")
def fo_fulfillments(fo, info, **args):
    return page(info, _records(info, fo["_fulfillments"]), args)


@resolver("FulfillmentOrderAssignedLocation", "location")
def assigned_location(assigned, info):
    return _shop(info).nodes.get(assigned["_location"])


@resolver("FulfillmentOrderLineItem", "lineItem")
def fo_line_item_line_item(foli, info):
    return _shop(info).nodes[foli["_line_item"]]


@resolver("FulfillmentOrderLineItem", "variant")
def fo_line_item_variant(foli, info):
    return _shop(info).nodes.get(_shop(info).nodes[foli["_line_item"]]["_variant"])


@resolver("Fulfillment", "trackingInfo")
def fulfillment_tracking(ful, _info, first=None):
    return ful["_tracking"][:first] if first is not None else ful["_tracking"]


@resolver("Fulfillment", "events")
def fulfillment_events(ful, info, **args):
    return page(info, _records(info, ful["_events"]), args)


@resolver("Fulfillment", "order")
def fulfillment_order(ful, info):
    return _shop(info).nodes[ful["_order"]]


@resolver("Fulfillment", "location")
def fulfillment_location(ful, info):
    return _shop(info).nodes.get(ful["_location"])


# -- discounts -------------------------------------------------------------------------------------

@resolver("DiscountCodeNode", "codeDiscount")
def code_discount(node_, _info):
    return node_["_discount"]


def _discount_codes(discount, info, **args):
    return page(info, discount["_codes"], args)


def _discount_status(discount, _info):
    now = now_iso()
    if discount["startsAt"] > now:
        return "SCHEDULED"
    if discount["endsAt"] and discount["endsAt"] <= now:
        return "EXPIRED"
    return "ACTIVE"


for _kind in ("DiscountCodeBasic", "DiscountCodeFreeShipping"):
    RESOLVERS[(_kind, "codes")] = _discount_codes
    RESOLVERS[(_kind, "status")] = _discount_status


@resolver("WebhookSubscription", "callbackUrl")
def subscription_callback_url(sub, _info):
    return sub["uri"]
