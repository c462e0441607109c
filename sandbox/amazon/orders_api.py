"""Orders API v2026-01-01 (``searchOrders``, ``getOrder``) and v0 ``confirmShipment``."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta
from decimal import Decimal

from .common import CARRIER_CODES, MARKETPLACES, ApiError, Context, invalid, iso, parse_time
from .state import Order, SellerState

STATUSES = ("PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED",
            "UNFULFILLABLE")
INCLUDED = ("BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT", "PACKAGES",
            "TAX", "PAYMENT", "FULFILLMENT_ORDERS")
PRE_PAYMENT = ("PENDING", "PENDING_AVAILABILITY")
SETTLE = timedelta(minutes=2)
TOKEN_TTL = timedelta(hours=24)
SEARCH_PARAMS = ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore", "fulfillmentStatuses",
                 "marketplaceIds", "fulfilledBy", "maxResultsPerPage", "paginationToken", "includedData")


def _money(amount: Decimal, currency: str) -> dict:
    return {"amount": str(amount.quantize(Decimal("0.01"))), "currencyCode": currency}


def render(order: Order, included: set[str]) -> dict:
    """An ``Order`` with the data sets asked for (PII only where Amazon would release it)."""
    items = []
    for item in order.items:
        entry = {"orderItemId": item.order_item_id, "quantityOrdered": item.quantity,
                 "product": {"asin": item.asin, "title": item.title, "sellerSku": item.sku,
                             "condition": {"conditionType": "NEW"},
                             "price": {"unitPrice": _money(item.unit_price, order.currency)}}}
        if "PROCEEDS" in included:
            entry["proceeds"] = {"proceedsTotal": _money(item.unit_price * item.quantity, order.currency)}
        if "FULFILLMENT" in included:
            entry["fulfillment"] = {"quantityFulfilled": item.shipped,
                                    "quantityUnfulfilled": item.quantity - item.shipped}
        items.append(entry)
    _, currency, name, _ = MARKETPLACES[order.marketplace_id]
    out: dict = {"orderId": order.order_id, "createdTime": iso(order.created), "lastUpdatedTime": iso(order.updated),
                 "salesChannel": {"channelName": "AMAZON", "marketplaceId": order.marketplace_id,
                                  "marketplaceName": name}, "orderItems": items}
    released = order.status not in PRE_PAYMENT
    if "BUYER" in included and released:
        out["buyer"] = {"buyerName": order.buyer_name}
        if order.fulfilled_by == "MERCHANT":
            out["buyer"]["buyerEmail"] = order.buyer_email
    if "RECIPIENT" in included and released:
        address = dict(order.address)
        if order.fulfilled_by == "AMAZON":
            address.pop("phone", None)
        out["recipient"] = {"deliveryAddress": address}
    if "PROCEEDS" in included:
        total = sum((i.unit_price * i.quantity for i in order.items), Decimal(0))
        out["proceeds"] = {"grandTotal": _money(total, currency)}
    if "FULFILLMENT" in included:
        out["fulfillment"] = {
            "fulfillmentStatus": order.status, "fulfilledBy": order.fulfilled_by,
            "fulfillmentServiceLevel": order.service_level,
            "shipByWindow": {"earliestDateTime": iso(order.created),
                             "latestDateTime": iso(order.created + timedelta(days=2))}}
    if "PACKAGES" in included and order.fulfilled_by == "MERCHANT" and order.packages:
        out["packages"] = [dict(p) for p in order.packages]
    return out


def search_orders(state: SellerState, ctx: Context) -> tuple[int, dict]:
    ctx.allow(*SEARCH_PARAMS)
    created_after, created_before = ctx.time("createdAfter"), ctx.time("createdBefore")
    updated_after, updated_before = ctx.time("lastUpdatedAfter"), ctx.time("lastUpdatedBefore")
    if bool(created_after) == bool(updated_after):
        raise invalid("Invalid Input", "Exactly one of createdAfter and lastUpdatedAfter is required.")
    if (created_after and (updated_after or updated_before)) or (updated_after and created_before):
        raise invalid("Invalid Input", "createdAfter/createdBefore cannot be combined with lastUpdated filters.")
    limit = ctx.now - SETTLE
    after = created_after or updated_after
    before = created_before or updated_before
    name = "createdBefore" if created_after else "lastUpdatedBefore"
    if before is None:
        before = limit
    elif before > limit:
        raise invalid("Invalid Input", f"{name} must be at least two minutes before the time of the request.")
    if before < after:
        raise invalid("Invalid Input", f"{name} must be equal to or after the start of the range.")
    statuses = set(ctx.many("fulfillmentStatuses", enum=STATUSES))
    marketplaces = ctx.many("marketplaceIds", max_items=50)
    foreign = [m for m in marketplaces if m not in state.marketplaces]
    if foreign:
        raise invalid("Invalid Input", f"Marketplace {foreign[0]} is not one of the seller's marketplaces.")
    fulfilled_by = set(ctx.many("fulfilledBy", enum=("MERCHANT", "AMAZON")))
    size = ctx.integer("maxResultsPerPage", low=1, high=100, default=100)
    included = set(ctx.many("includedData", enum=INCLUDED))
    signature = hashlib.sha256(json.dumps(
        [ctx.one(k) for k in SEARCH_PARAMS if k not in ("maxResultsPerPage", "includedData", "paginationToken")]
    ).encode()).hexdigest()
    last = None
    token = ctx.one("paginationToken")
    if token:
        entry = state.page_tokens.get(token)
        if not entry or entry[0] != signature or entry[2] <= ctx.now:
            raise invalid("Invalid Input", "The paginationToken is invalid, expired, or the other parameters changed.")
        last = entry[1]
    field = "created" if created_after else "updated"
    matches = sorted((o for o in state.orders.values()
                      if after <= getattr(o, field) <= before and (not statuses or o.status in statuses)
                      and (not marketplaces or o.marketplace_id in marketplaces)
                      and (not fulfilled_by or o.fulfilled_by in fulfilled_by)),
                     key=lambda o: (o.created, o.order_id))
    if last is not None:
        matches = [o for o in matches if (iso(o.created), o.order_id) > last]
    page = matches[:size]
    body: dict = {"orders": [render(o, included) for o in page], name: iso(before)}
    if len(matches) > size:
        next_token = secrets.token_urlsafe(24)
        state.page_tokens[next_token] = (signature, (iso(page[-1].created), page[-1].order_id), ctx.now + TOKEN_TTL)
        body["pagination"] = {"nextToken": next_token}
    return 200, body


def _order(state: SellerState, order_id: str) -> Order:
    order = state.orders.get(order_id)
    if order is None:
        raise ApiError(404, "NotFound", "The requested order was not found.", f"orderId {order_id}")
    return order


def get_order(state: SellerState, ctx: Context) -> tuple[int, dict]:
    ctx.allow("includedData")
    order = _order(state, ctx.path["orderId"])
    return 200, {"order": render(order, set(ctx.many("includedData", enum=INCLUDED)))}


def confirm_shipment(state: SellerState, ctx: Context) -> tuple[int, None]:
    ctx.allow()
    order = _order(state, ctx.path["orderId"])
    body = ctx.json_body()
    if body.get("marketplaceId") not in state.marketplaces:
        raise invalid("Marketplace ID is not defined", "1001")
    if body["marketplaceId"] != order.marketplace_id:
        raise invalid("Invalid Input", "The order was not placed in this marketplace.")
    if body.get("codCollectionMethod") not in (None, "DirectPayment"):
        raise invalid("Invalid Input", "codCollectionMethod must be DirectPayment.")
    detail = body.get("packageDetail")
    if not isinstance(detail, dict):
        raise invalid("Invalid Input", "packageDetail is required.")
    for key in ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate", "orderItems"):
        if detail.get(key) in (None, "", []):
            raise invalid("Invalid Input", f"packageDetail.{key} is required.")
    ship_date = parse_time(detail["shipDate"], "shipDate")
    if detail["carrierCode"] not in CARRIER_CODES | {"Other"}:
        raise invalid("Invalid Input", f"Unknown carrierCode {detail['carrierCode']!r}.")
    if detail["carrierCode"] == "Other" and not detail.get("carrierName"):
        raise invalid("Invalid Input", "carrierName is required when carrierCode is Other.")
    if order.fulfilled_by != "MERCHANT":
        raise invalid("Invalid Input", "Shipments of Amazon-fulfilled orders cannot be confirmed.")
    wanted: dict[str, int] = {}
    for entry in detail["orderItems"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("quantity"), int) or entry["quantity"] < 1:
            raise invalid("Invalid Input", "orderItems need an orderItemId and a positive integer quantity.")
        wanted[str(entry.get("orderItemId"))] = wanted.get(str(entry.get("orderItemId")), 0) + entry["quantity"]
    package = {"packageReferenceId": str(detail["packageReferenceId"]), "createdTime": iso(ctx.now),
               "packageStatus": {"status": "SHIPPED"}, "carrier": detail.get("carrierName") or detail["carrierCode"],
               "shipTime": iso(ship_date), "trackingNumber": detail["trackingNumber"],
               "packageItems": [{"orderItemId": k, "quantity": v} for k, v in wanted.items()]}
    if detail.get("shippingMethod"):
        package["shippingService"] = detail["shippingMethod"]
    for existing in order.packages:
        if existing["packageReferenceId"] == package["packageReferenceId"]:
            same = (existing["trackingNumber"], existing["packageItems"]) == (package["trackingNumber"],
                                                                               package["packageItems"])
            if same:
                return 204, None  # a retried confirmation of the same package
            raise invalid("Invalid Input", "packageReferenceId was already confirmed with other contents.")
    if order.status not in ("UNSHIPPED", "PARTIALLY_SHIPPED"):
        raise invalid("Invalid Input", f"Order status {order.status} does not allow shipment confirmation.")
    items = {i.order_item_id: i for i in order.items}
    for item_id, quantity in wanted.items():
        if item_id not in items:
            raise invalid("Invalid Input", f"orderItemId {item_id} is not in this order.")
        if quantity > items[item_id].quantity - items[item_id].shipped:
            raise invalid("Invalid Input", f"Quantity for orderItemId {item_id} exceeds the unshipped quantity.")
    for item_id, quantity in wanted.items():
        items[item_id].shipped += quantity
    order.packages.append(package)
    order.status = "SHIPPED" if all(i.shipped == i.quantity for i in order.items) else "PARTIALLY_SHIPPED"
    order.updated = ctx.now
    return 204, None
