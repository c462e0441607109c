"""Reading returns: ``return``, ``returnableFulfillments``, ``returnReasonDefinitions``,
``reverseFulfillmentOrder`` and the fields of the objects they lead to."""

from __future__ import annotations

from graphql import GraphQLError

from .queries import _records, _shop, page, resolver
from .return_payloads import reason_library
from .returns import returnable
from .state import gid, legacy_id


@resolver("QueryRoot", "return")
def return_by_id(_root, info, id):
    return _shop(info).get(id, "Return")


@resolver("QueryRoot", "reverseFulfillmentOrder")
def reverse_fulfillment_order(_root, info, id):
    return _shop(info).get(id, "ReverseFulfillmentOrder")


@resolver("QueryRoot", "returnableFulfillments")
def returnable_fulfillments(_root, info, orderId, **args):
    shop = _shop(info)
    order = shop.get(orderId, "Order")
    if order is None:
        raise GraphQLError("Order does not exist.", extensions={"code": "NOT_FOUND"})
    grouped: dict[str, dict] = {}
    for fulfillment, fli, units in returnable(shop, order):
        entry = grouped.setdefault(fulfillment["id"], {
            "__typename": "ReturnableFulfillment",
            "id": gid("ReturnableFulfillment", legacy_id(fulfillment["id"])),
            "fulfillment": fulfillment, "_items": []})
        entry["_items"].append({"fulfillmentLineItem": fli, "quantity": units})
    return page(info, list(grouped.values()), args)


@resolver("ReturnableFulfillment", "returnableFulfillmentLineItems")
def returnable_fulfillment_line_items(entry, info, **args):
    return page(info, entry["_items"], args)


@resolver("QueryRoot", "returnReasonDefinitions")
def return_reason_definitions(_root, info, ids=None, handles=None, query=None, sortKey="ID", **args):
    if query:
        raise GraphQLError("Search queries on return reasons are not supported by the emulated shop.",
                           extensions={"code": "BAD_REQUEST"})
    items = [r for r in reason_library(_shop(info))
             if (ids is None or r["id"] in ids) and (handles is None or r["handle"] in handles)]
    key = {"HANDLE": "handle", "NAME": "name"}.get(sortKey)
    if key:
        items.sort(key=lambda r: r[key])
    return page(info, items, args)


@resolver("Order", "returns")
def order_returns(order, info, query=None, **args):
    if query:
        raise GraphQLError("Search queries on returns are not supported by the emulated shop.",
                           extensions={"code": "BAD_REQUEST"})
    return page(info, _records(info, order.get("_returns", [])), args)


@resolver("Return", "order")
def return_order(record, info):
    return _shop(info).nodes[record["_order"]]


@resolver("Return", "returnLineItems")
def return_line_items(record, info, processingStatus=None, **args):
    items = _records(info, record["_lines"])
    if processingStatus == "PROCESSED":
        items = [i for i in items if i["processedQuantity"] > 0]
    elif processingStatus == "PROCESSABLE":
        items = [i for i in items if line_processable(i, info) > 0]
    return page(info, items, args)


@resolver("Return", "reverseFulfillmentOrders")
def return_reverse_fulfillment_orders(record, info, **args):
    return page(info, _records(info, record["_rfos"]), args)


@resolver("Return", "refunds")
def return_refunds(record, info, **args):
    return page(info, _records(info, record["_refunds"]), args)


@resolver("Return", "totalQuantity")
def return_total_quantity(record, info):
    return sum(line["quantity"] for line in _records(info, record["_lines"]))


@resolver("ReturnLineItem", "processableQuantity")
def line_processable(line, info):
    if _shop(info).nodes[line["_return"]]["status"] != "OPEN":
        return 0
    return line["quantity"] - line["processedQuantity"]


@resolver("ReturnLineItem", "unprocessedQuantity")
def line_unprocessed(line, _info):
    return line["quantity"] - line["processedQuantity"]


@resolver("ReturnLineItem", "refundableQuantity")
def line_refundable(line, _info):
    return line["quantity"] - line["refundedQuantity"]


@resolver("ReturnLineItem", "returnReasonDefinition")
def line_reason(line, info):
    return _shop(info).nodes[line["_reason"]]


@resolver("ReturnLineItem", "fulfillmentLineItem")
def line_fulfillment_line_item(line, info):
    return _shop(info).nodes[line["_fulfillment_line_item"]]


@resolver("FulfillmentLineItem", "lineItem")
def fulfillment_line_item_line_item(fli, info):
    return _shop(info).nodes[fli["_line_item"]]


@resolver("ReverseFulfillmentOrder", "order")
def rfo_order(rfo, info):
    return _shop(info).nodes[rfo["_order"]]


@resolver("ReverseFulfillmentOrder", "lineItems")
def rfo_line_items(rfo, info, **args):
    return page(info, _records(info, rfo["_lines"]), args)


@resolver("ReverseFulfillmentOrder", "reverseDeliveries")
def rfo_reverse_deliveries(rfo, info, **args):
    return page(info, _records(info, rfo["_deliveries"]), args)


@resolver("ReverseFulfillmentOrderLineItem", "fulfillmentLineItem")
def rfo_line_fulfillment_line_item(rfo_line, info):
    return _shop(info).nodes[rfo_line["_fulfillment_line_item"]]


@resolver("ReverseDelivery", "reverseFulfillmentOrder")
def reverse_delivery_rfo(delivery, info):
    return _shop(info).nodes[delivery["_rfo"]]
