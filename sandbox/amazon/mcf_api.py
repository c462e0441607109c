"""Fulfillment Outbound API 2020-07-01: MCF orders on the emulator clock, with package tracking.

Lifecycle after ``createFulfillmentOrder`` (``receivedDate`` = t): Received (stock moves from
fulfillable to reserved; not enough stock -> Unfulfillable) -> Planning at t+30 min -> Processing at
t+2 h (one PENDING shipment; no longer cancellable) -> Complete at t+4 h (shipment SHIPPED, one
package with a carrier and tracking number; reserved units leave). Tracking events then follow the
order's scenario (``delivered`` unless ``AmazonEmulator.set_tracking_scenario`` chose ``customs_delay``,
``attempt_fail``, ``lost``, ``pickup`` or ``returned``), hours after shipping.
"""

from __future__ import annotations

from datetime import timedelta

from .common import ApiError, Context, invalid, iso, parse_time
from .state import McfOrder, SellerState

STAGES = ((timedelta(minutes=30), "Planning"), (timedelta(hours=2), "Processing"), (timedelta(hours=4), "Complete"))
SPEEDS = ("Standard", "Expedited", "Priority", "ScheduledDelivery")
CANCELLABLE = ("New", "Received", "Planning")
CARRIERS = {"US": "UPS", "GB": "Royal Mail", "DE": "DHL", "FR": "Colissimo", "IT": "BRT", "ES": "Correos",
            "JP": "Yamato Transport"}
SCENARIOS = {
    "delivered": ((0, "EVENT_101"), (2, "EVENT_102"), (8, "EVENT_201"), (20, "EVENT_202"), (28, "EVENT_302"),
                  (32, "EVENT_301")),
    "customs_delay": ((0, "EVENT_101"), (2, "EVENT_102"), (8, "EVENT_201"), (12, "EVENT_203"), (14, "EVENT_204"),
                      (20, "EVENT_402"), (44, "EVENT_205"), (50, "EVENT_302"), (54, "EVENT_301")),
    "attempt_fail": ((0, "EVENT_101"), (2, "EVENT_102"), (8, "EVENT_201"), (20, "EVENT_302"), (24, "EVENT_304"),
                     (44, "EVENT_302"), (48, "EVENT_301")),
    "lost": ((0, "EVENT_101"), (2, "EVENT_102"), (8, "EVENT_201"), (48, "EVENT_409")),
    "pickup": ((0, "EVENT_101"), (2, "EVENT_102"), (8, "EVENT_201"), (24, "EVENT_801"), (40, "EVENT_804")),
    "returned": ((0, "EVENT_101"), (2, "EVENT_102"), (20, "EVENT_302"), (24, "EVENT_407"), (26, "EVENT_408"),
                 (96, "EVENT_309")),
}
DESCRIPTIONS = {
    "EVENT_101": "Carrier notified to pick up package.", "EVENT_102": "Shipment picked up from seller's facility.",
    "EVENT_201": "Arrival scan.", "EVENT_202": "Departure scan.", "EVENT_203": "Arrived at destination country.",
    "EVENT_204": "Initiated customs clearance process.", "EVENT_205": "Completed customs clearance process.",
    "EVENT_301": "Delivered.", "EVENT_302": "Out for delivery.", "EVENT_304": "Delivery attempted.",
    "EVENT_309": "Returned to seller.", "EVENT_402": "Customs clearance delay.",
    "EVENT_407": "Customer refused delivery.",
    "EVENT_408": "Returning to seller.", "EVENT_409": "Lost by carrier.", "EVENT_801": "Package delivered to locker.",
    "EVENT_804": "Package picked up from locker.",
}
CURRENT = {"EVENT_301": "DELIVERED", "EVENT_804": "DELIVERED", "EVENT_302": "OUT_FOR_DELIVERY",
           "EVENT_304": "DELIVERY_ATTEMPTED", "EVENT_801": "AVAILABLE_FOR_PICKUP", "EVENT_402": "DELAYED",
           "EVENT_409": "UNDELIVERABLE", "EVENT_407": "RETURNING", "EVENT_408": "RETURNING", "EVENT_309": "RETURNED"}


def _items(order: McfOrder) -> list[dict]:
    return order.request["items"]


def _reserve(state: SellerState, order: McfOrder, sign: int, *, leave: bool = False) -> None:
    """sign=+1: fulfillable -> reserved; -1: back; leave: reserved units shipped out."""
    for item in _items(order):
        stock = state.stock[(item["sellerSku"], order.marketplace_id)]
        if leave:
            stock.reserved -= item["quantity"]
        else:
            stock.fulfillable -= sign * item["quantity"]
            stock.reserved += sign * item["quantity"]
        stock.updated = state.clock.now()


def advance(state: SellerState) -> None:
    """Apply every lifecycle step whose time has come."""
    now = state.clock.now()
    for order in state.mcf.values():
        while order.stage < len(STAGES) and order.status in ("Received", "Planning", "Processing") \
                and order.request.get("fulfillmentAction", "Ship") == "Ship" \
                and order.received + STAGES[order.stage][0] <= now:
            offset, status = STAGES[order.stage]
            order.stage += 1
            order.status, order.status_updated = status, order.received + offset
            if status == "Processing":
                order.shipment_id = f"D{state.next_id():08d}"
            if status == "Complete":
                order.package_number = 10_000 + state.next_id()
                state.package_numbers[order.package_number] = order.request["sellerFulfillmentOrderId"]
                country = order.request["destinationAddress"]["countryCode"]
                order.carrier = CARRIERS.get(country, "DHL")
                order.tracking_number = f"TBA{order.package_number:012d}"
                order.shipped_at = order.status_updated
                _reserve(state, order, 0, leave=True)


def create_fulfillment_order(state: SellerState, ctx: Context) -> tuple[int, dict]:
    ctx.allow()
    body = ctx.json_body()
    for key in ("sellerFulfillmentOrderId", "displayableOrderId", "displayableOrderDate", "displayableOrderComment",
                "shippingSpeedCategory", "destinationAddress", "items"):
        if body.get(key) in (None, "", []):
            raise invalid("Invalid input", f"{key} is required")
    reference = body["sellerFulfillmentOrderId"]
    if len(reference) > 40 or len(body["displayableOrderId"]) > 40 or len(body["displayableOrderComment"]) > 750:
        raise invalid("Invalid input", "sellerFulfillmentOrderId/displayableOrderId at most 40 characters, "
                                       "displayableOrderComment at most 750")
    parse_time(body["displayableOrderDate"], "displayableOrderDate")
    if body["shippingSpeedCategory"] not in SPEEDS:
        raise invalid("Invalid input", "shippingSpeedCategory must be one of " + ", ".join(SPEEDS))
    if body.get("fulfillmentAction") not in (None, "Ship", "Hold"):
        raise invalid("Invalid input", "fulfillmentAction must be Ship or Hold")
    if body.get("fulfillmentPolicy") not in (None, "FillOrKill", "FillAll", "FillAllAvailable"):
        raise invalid("Invalid input", "fulfillmentPolicy must be FillOrKill, FillAll or FillAllAvailable")
    marketplace_id = body.get("marketplaceId") or state.marketplaces[0]
    if marketplace_id not in state.marketplaces:
        raise invalid("Invalid input", f"marketplaceId {marketplace_id} is not one of the seller's")
    address = body["destinationAddress"]
    missing = [k for k in ("name", "addressLine1", "countryCode", "postalCode") if not address.get(k)]
    if not missing and address["countryCode"] != "JP" and not address.get("city"):
        missing = ["city"]
    if missing:
        raise invalid("Invalid input", f"destinationAddress.{missing[0]} is required")
    items, ids = body["items"], set()
    if not isinstance(items, list) or not 1 <= len(items) <= 100:
        raise invalid("Invalid input", "items must hold 1 to 100 entries")
    for item in items:
        item_id, sku, quantity = item.get("sellerFulfillmentOrderItemId"), item.get("sellerSku"), item.get("quantity")
        if not sku or not item_id or len(sku) > 50 or len(item_id) > 50 or item_id in ids:
            raise invalid("Invalid input", "items need a sellerSku and a unique sellerFulfillmentOrderItemId "
                                           "(at most 50 characters)")
        if not isinstance(quantity, int) or quantity < 1:
            raise invalid("Invalid input", "item quantity must be a positive integer")
        if (sku, marketplace_id) not in state.stock:
            raise invalid("Invalid input", f"Invalid SKU: {sku} is not an FBA SKU in {marketplace_id}")
        ids.add(item_id)
    if reference in state.mcf:
        raise invalid("Invalid input", f"A fulfillment order with sellerFulfillmentOrderId {reference} already exists")
    now = ctx.now
    order = McfOrder(request=dict(body), marketplace_id=marketplace_id, received=now, status="Received",
                     status_updated=now)
    if any(state.stock[(i["sellerSku"], marketplace_id)].fulfillable < i["quantity"] for i in items):
        order.status = "Unfulfillable"
    else:
        _reserve(state, order, +1)
    state.mcf[reference] = order
    return 200, {}


def _mcf(state: SellerState, reference: str) -> McfOrder:
    order = state.mcf.get(reference)
    if order is None:
        raise ApiError(404, "NotFound", "The fulfillment order does not exist.", reference)
    return order


def get_fulfillment_order(state: SellerState, ctx: Context) -> tuple[int, dict]:
    ctx.allow()
    order = _mcf(state, ctx.path["sellerFulfillmentOrderId"])
    request = order.request
    head = {k: request[k] for k in ("sellerFulfillmentOrderId", "displayableOrderId", "displayableOrderDate",
                                    "displayableOrderComment", "shippingSpeedCategory", "destinationAddress")}
    head.update(marketplaceId=order.marketplace_id, fulfillmentAction=request.get("fulfillmentAction", "Ship"),
                fulfillmentPolicy=request.get("fulfillmentPolicy", "FillOrKill"), receivedDate=iso(order.received),
                fulfillmentOrderStatus=order.status, statusUpdatedDate=iso(order.status_updated))
    if request.get("notificationEmails"):
        head["notificationEmails"] = request["notificationEmails"]
    eta = order.received + timedelta(days=3)
    cancelled = order.status in ("Cancelled", "Unfulfillable")
    items = [{"sellerSku": i["sellerSku"], "sellerFulfillmentOrderItemId": i["sellerFulfillmentOrderItemId"],
              "quantity": i["quantity"], "cancelledQuantity": i["quantity"] if order.status == "Cancelled" else 0,
              "unfulfillableQuantity": i["quantity"] if order.status == "Unfulfillable" else 0,
              **({} if cancelled else {"estimatedShipDate": iso(order.received + timedelta(hours=4)),
                                       "estimatedArrivalDate": iso(eta)})} for i in _items(order)]
    payload = {"fulfillmentOrder": head, "fulfillmentOrderItems": items, "returnItems": [],
               "returnAuthorizations": []}
    if order.shipment_id:
        shipped = order.package_number is not None
        shipment = {"amazonShipmentId": order.shipment_id, "fulfillmentCenterId": "EUK5",
                    "fulfillmentShipmentStatus": "SHIPPED" if shipped else "PENDING",
                    "shippingDate": iso(order.shipped_at or order.received + timedelta(hours=4)),
                    "estimatedArrivalDate": iso(eta),
                    "fulfillmentShipmentItem": [
                        {"sellerSku": i["sellerSku"], "sellerFulfillmentOrderItemId": i["sellerFulfillmentOrderItemId"],
                         "quantity": i["quantity"], **({"packageNumber": order.package_number} if shipped else {})}
                        for i in _items(order)]}
        if shipped:
            shipment["fulfillmentShipmentPackage"] = [{
                "packageNumber": order.package_number, "carrierCode": order.carrier,
                "trackingNumber": order.tracking_number, "estimatedArrivalDate": iso(eta)}]
        payload["fulfillmentShipments"] = [shipment]
    return 200, {"payload": payload}


def cancel_fulfillment_order(state: SellerState, ctx: Context) -> tuple[int, dict]:
    ctx.allow()
    order = _mcf(state, ctx.path["sellerFulfillmentOrderId"])
    if order.status == "Cancelled":
        return 200, {}
    if order.status not in CANCELLABLE:
        raise invalid("Invalid input", f"A fulfillment order in status {order.status} cannot be cancelled")
    _reserve(state, order, -1)
    order.status, order.status_updated = "Cancelled", ctx.now
    return 200, {}


def get_package_tracking_details(state: SellerState, ctx: Context) -> tuple[int, dict]:
    ctx.allow("packageNumber")
    raw = ctx.one("packageNumber", required=True)
    if not raw.isdigit():
        raise invalid("Invalid input", "packageNumber must be an integer")
    reference = state.package_numbers.get(int(raw))
    if reference is None:
        raise ApiError(404, "NotFound", "The package does not exist.", raw)
    order = state.mcf[reference]
    address = order.request["destinationAddress"]
    where = {"city": address.get("city") or "", "state": address.get("stateOrRegion") or "",
             "country": address["countryCode"]}
    events = [{"eventDate": iso(order.shipped_at + timedelta(hours=h)), "eventAddress": where, "eventCode": code,
               "eventDescription": DESCRIPTIONS.get(code, code)}
              for h, code in SCENARIOS[order.scenario] if order.shipped_at + timedelta(hours=h) <= ctx.now]
    last = events[-1]["eventCode"] if events else None
    current = CURRENT.get(last, "IN_TRANSIT")
    payload = {"packageNumber": order.package_number, "trackingNumber": order.tracking_number,
               "customerTrackingLink": f"https://www.swiship.com/track?id={order.tracking_number}",
               "carrierCode": order.carrier, "shipDate": iso(order.shipped_at),
               "estimatedArrivalDate": iso(order.received + timedelta(days=3)), "shipToAddress": where,
               "currentStatus": current, "currentStatusDescription": DESCRIPTIONS.get(last, "In transit."),
               "trackingEvents": list(reversed(events))}
    if current == "DELIVERED":
        payload["signedForBy"] = address.get("name", "")[:1] + "."
    return 200, {"payload": payload}
