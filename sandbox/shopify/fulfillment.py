"""Fulfillment mutations: ``fulfillmentCreate``, ``fulfillmentTrackingInfoUpdate``,
``fulfillmentEventCreate``.

https://shopify.dev/docs/api/admin-graphql/latest/mutations/fulfillmentCreate
https://shopify.dev/docs/api/admin-graphql/latest/mutations/fulfillmentEventCreate
"""

from __future__ import annotations

import itertools

from .payloads import fulfillment_payload, order_payload, rest_time
from .queries import resolver
from .state import legacy_id, now_iso

# FulfillmentEventStatus -> Fulfillment.displayStatus (FulfillmentDisplayStatus)
DISPLAY_STATUS = {
    "LABEL_PURCHASED": "LABEL_PURCHASED", "LABEL_PRINTED": "LABEL_PRINTED",
    "READY_FOR_PICKUP": "READY_FOR_PICKUP", "CONFIRMED": "CONFIRMED",
    "IN_TRANSIT": "IN_TRANSIT", "OUT_FOR_DELIVERY": "OUT_FOR_DELIVERY",
    "ATTEMPTED_DELIVERY": "ATTEMPTED_DELIVERY", "DELAYED": "DELAYED", "DELIVERED": "DELIVERED",
    "FAILURE": "FAILURE", "CARRIER_PICKED_UP": "CARRIER_PICKED_UP",
}


def _error(field, message):
    return {"field": field, "message": message}


def tracking_list(info: dict | None) -> list[dict]:
    if not info:
        return []
    numbers = list(info.get("numbers") or ([info["number"]] if info.get("number") else []))
    urls = list(info.get("urls") or ([info["url"]] if info.get("url") else []))
    company = info.get("company")
    count = max(len(numbers), len(urls), 1 if company else 0)
    return [{"company": company,
             "number": numbers[i] if i < len(numbers) else None,
             "url": urls[i] if i < len(urls) else None} for i in range(count)]


@resolver("Mutation", "fulfillmentCreate")
def fulfillment_create(_root, info, fulfillment, message=None):
    shop = info.context.shop
    groups = fulfillment["lineItemsByFulfillmentOrder"]
    if not groups:
        return {"fulfillment": None, "userErrors": [_error(
            ["fulfillment", "lineItemsByFulfillmentOrder"],
            "Line items by fulfillment order can't be blank.")]}
    plan, orders, locations = [], set(), set()
    for i, group in enumerate(groups):
        fo = shop.get(group["fulfillmentOrderId"], "FulfillmentOrder")
        if fo is None:
            return {"fulfillment": None, "userErrors": [_error(
                ["fulfillment", "lineItemsByFulfillmentOrder", str(i), "fulfillmentOrderId"],
                "Fulfillment order does not exist.")]}
        lines = [shop.nodes[i] for i in fo["_line_items"]]
        if all(li["remainingQuantity"] == 0 for li in lines):
            return {"fulfillment": None, "userErrors": [_error(
                ["fulfillment"], f"Fulfillment order {legacy_id(fo['id'])} has an unfulfillable "
                "status= closed.")]}
        orders.add(fo["orderId"])
        locations.add(fo["assignedLocation"]["_location"])
        wanted = group.get("fulfillmentOrderLineItems")
        if not wanted:
            plan.extend((fo, li, li["remainingQuantity"]) for li in lines if li["remainingQuantity"])
            continue
        for item in wanted:
            li = shop.get(item["id"], "FulfillmentOrderLineItem")
            if li is None or li["id"] not in fo["_line_items"]:
                return {"fulfillment": None, "userErrors": [_error(
                    ["fulfillment"], "Fulfillment order line item does not exist.")]}
            if item["quantity"] <= 0 or item["quantity"] > li["remainingQuantity"]:
                return {"fulfillment": None, "userErrors": [_error(
                    ["fulfillment"], "Invalid fulfillment order line item quantity requested.")]}
            plan.append((fo, li, item["quantity"]))
    if len(orders) > 1:
        return {"fulfillment": None, "userErrors": [_error(
            ["fulfillment"], "All fulfillment orders must belong to the same order.")]}
    if len(locations) > 1:
        return {"fulfillment": None, "userErrors": [_error(
            ["fulfillment"], "All fulfillment orders must be assigned to the same location.")]}

    order = shop.nodes[orders.pop()]
    location_id = locations.pop()
    seq = order.setdefault("_fulfillment_seq", itertools.count(1))
    record = shop.new(
        "Fulfillment", name=f"{order['name']}.{next(seq)}", status="SUCCESS",
        displayStatus="FULFILLED", inTransitAt=None, deliveredAt=None, estimatedDeliveryAt=None,
        totalQuantity=sum(q for _, _, q in plan), _order=order["id"], _location=location_id,
        _tracking=tracking_list(fulfillment.get("trackingInfo")), _events=[],
        _notify=bool(fulfillment.get("notifyCustomer")), _message=message,
        _lines=[(li["id"], q) for _, li, q in plan])
    for fo, li, quantity in plan:
        li["remainingQuantity"] -= quantity
        line_item = shop.nodes[li["_line_item"]]
        line_item["_fulfilled"] += quantity
        item = shop.nodes.get(li["inventoryItemId"])
        level = item["_levels"].get(location_id) if item else None
        if level is not None:  # shipped stock leaves committed and on hand
            shop.change_quantity(level, "committed", -quantity)
        if record["id"] not in fo["_fulfillments"]:
            fo["_fulfillments"].append(record["id"])
        shop.touch(fo)
    order["_fulfillments"].append(record["id"])
    record["_fulfillment_line_items"] = _fulfillment_line_items(shop, record["id"], plan)
    shop.touch(order)
    shop.fulfillment_log.append(record)
    # The order's fulfillment status changed too: Shopify also sends orders/updated.
    info.context.emit("fulfillments/create", fulfillment_payload(shop, record))
    info.context.emit("orders/updated", order_payload(shop, order))
    return {"fulfillment": record, "userErrors": []}


def _fulfillment_line_items(shop, fulfillment_id: str, plan) -> list[str]:
    """One FulfillmentLineItem per order line the fulfillment shipped units of (what a return
    names: ``returnableFulfillments``, ``ReturnLineItem.fulfillmentLineItem``)."""
    units: dict[str, int] = {}
    for _fo, li, quantity in plan:
        units[li["_line_item"]] = units.get(li["_line_item"], 0) + quantity
    return [shop.new("FulfillmentLineItem", quantity=quantity, _line_item=line_id,
                     _fulfillment=fulfillment_id)["id"] for line_id, quantity in units.items()]


@resolver("Mutation", "fulfillmentTrackingInfoUpdate")
def fulfillment_tracking_info_update(_root, info, fulfillmentId, trackingInfoInput,
                                     notifyCustomer=None):
    shop = info.context.shop
    record = shop.get(fulfillmentId, "Fulfillment")
    if record is None:
        return {"fulfillment": None, "userErrors": [_error(
            ["fulfillmentId"], "Fulfillment does not exist.")]}
    record["_tracking"] = tracking_list(trackingInfoInput)
    record["_notify"] = bool(notifyCustomer)
    shop.touch(record)
    info.context.emit("fulfillments/update", fulfillment_payload(shop, record))
    return {"fulfillment": record, "userErrors": []}


@resolver("Mutation", "fulfillmentEventCreate")
def fulfillment_event_create(_root, info, fulfillmentEvent):
    shop = info.context.shop
    data = fulfillmentEvent
    record = shop.get(data["fulfillmentId"], "Fulfillment")
    if record is None:
        return {"fulfillmentEvent": None, "userErrors": [_error(
            ["fulfillmentEvent", "fulfillmentId"], "Fulfillment does not exist.")]}
    happened = data.get("happenedAt") or now_iso()
    event = shop.new("FulfillmentEvent", status=data["status"], message=data.get("message"),
                     happenedAt=happened, estimatedDeliveryAt=data.get("estimatedDeliveryAt"),
                     city=data.get("city"), province=data.get("province"),
                     country=data.get("country"), zip=data.get("zip"),
                     address1=data.get("address1"), latitude=data.get("latitude"),
                     longitude=data.get("longitude"), _fulfillment=record["id"])
    record["_events"].append(event["id"])
    record["displayStatus"] = DISPLAY_STATUS.get(data["status"], record["displayStatus"])
    if data["status"] == "IN_TRANSIT" and not record["inTransitAt"]:
        record["inTransitAt"] = happened
    if data["status"] == "DELIVERED":
        record["deliveredAt"] = happened
    if data.get("estimatedDeliveryAt"):
        record["estimatedDeliveryAt"] = data["estimatedDeliveryAt"]
    # The REST fulfillment's shipment_status is the latest event's status, lower-cased.
    record["_shipment_status"] = data["status"].lower()
    shop.touch(record)
    shop.fulfillment_event_log.append(event)
    info.context.emit("fulfillment_events/create", {
        "id": legacy_id(event["id"]), "fulfillment_id": legacy_id(record["id"]),
        "order_id": legacy_id(record["_order"]), "status": data["status"].lower(),
        "message": event["message"], "happened_at": rest_time(shop, happened), "city": event["city"],
        "province": event["province"], "country": event["country"], "zip": event["zip"],
        "address1": event["address1"], "latitude": event["latitude"],
        "longitude": event["longitude"], "shop_id": legacy_id(shop.record["id"]),
        "created_at": rest_time(shop, event["createdAt"]), "updated_at": rest_time(shop, event["updatedAt"]),
        "estimated_delivery_at": rest_time(shop, event["estimatedDeliveryAt"]),
        "admin_graphql_api_id": event["id"],
    })
    info.context.emit("fulfillments/update", fulfillment_payload(shop, record))
    return {"fulfillmentEvent": event, "userErrors": []}

