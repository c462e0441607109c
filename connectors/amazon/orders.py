"""Amazon orders as :class:`OrderData`, polled with a ``lastUpdatedAfter`` cursor.

The Orders API v2026-01-01 (``searchOrders``, ``getOrder``) replaces v0's getOrders, getOrder,
getOrderItems, getOrderAddress and getOrderBuyerInfo: items always come with the order, buyer and
recipient data come with ``includedData`` and need no Restricted Data Token
(https://developer-docs.amazon.com/sp-api/docs/orders-api-migration-guide). v0 stays only where it
must: ``confirmShipment`` (:mod:`connectors.amazon.shipments`); :func:`order_from_v0` maps v0
payloads, whose ``InvoiceUnconfirmed`` status has no 2026 counterpart (it reads as SHIPPED there).

Polling: each poll pages through one window ``[after, before]`` of ``lastUpdatedTime``, with
``before`` at least two minutes in the past (the API's rule for ``lastUpdatedBefore``). The cursor
keeps the window and the ``paginationToken`` (valid 24 h; every other parameter must repeat), so a
poll interrupted by a retry resumes on the same page. Both ends are inclusive, so an order updated
exactly at a window edge is seen twice: OrderData carries ``updated_at`` and the import ignores an
older copy.

Buyer and address (personal data) are asked for only when we will ship the order ourselves:
merchant-fulfilled (MFN) orders in UNSHIPPED or PARTIALLY_SHIPPED status, one ``getOrder`` with
``includedData=BUYER,RECIPIENT`` each (0.5 rps, burst 30: pages hold 50 orders so one page's
lookups fit the throttle's wait budget). Amazon-fulfilled (AFN) orders come back with
``channel="amazon_afn"``: Amazon ships them, they must never be routed to one of our warehouses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

import structlog

from connectors.errors import PermanentError
from integration.domain.channels import CHANNEL_AFN, CHANNEL_MFN, OrdersPage
from integration.domain.orders import Address, Customer, OrderData, OrderLineData

from .client import SpApiClient, iso

log = structlog.get_logger("connectors.amazon.orders")

SEARCH_DATA = ("FULFILLMENT", "PROCEEDS")
ADDRESS_DATA = ("BUYER", "RECIPIENT", "FULFILLMENT", "PROCEEDS")
SETTLE = timedelta(minutes=2, seconds=5)
"""``lastUpdatedBefore`` must be at least two minutes before the request."""
CURSOR_PREFIX = "v1:"

# Amazon's order statuses, in v0's vocabulary (what merchants see in Seller Central).
STATUSES = ("PendingAvailability", "Pending", "Unshipped", "PartiallyShipped", "Shipped", "Canceled",
            "Unfulfillable", "InvoiceUnconfirmed")
_FROM_2026 = {
    "PENDING_AVAILABILITY": "PendingAvailability", "PENDING": "Pending", "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped", "SHIPPED": "Shipped", "CANCELLED": "Canceled",
    "UNFULFILLABLE": "Unfulfillable",
}
NEEDS_ADDRESS = frozenset({"Unshipped", "PartiallyShipped"})
_FINANCIAL = {"Pending": "pending", "PendingAvailability": "pending", "Canceled": "voided"}


def order_status(value: str | None) -> str | None:
    """Either API's status as one of :data:`STATUSES` (None when absent)."""
    if not value:
        return None
    if value in STATUSES:
        return value
    status = _FROM_2026.get(value.upper())
    if status is None:
        raise PermanentError(f"unknown Amazon order status {value!r}", code="unknown_status", system="amazon")
    return status


@dataclass(frozen=True)
class OrdersCursor:
    after: datetime
    before: datetime | None = None  # end of the window being paged
    token: str | None = None  # paginationToken inside that window

    def encode(self) -> str:
        data = {"after": iso(self.after), "before": iso(self.before) if self.before else None, "token": self.token}
        return CURSOR_PREFIX + json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str) -> OrdersCursor:
        if not text.startswith(CURSOR_PREFIX):
            raise PermanentError(f"not an Amazon orders cursor: {text[:40]!r}", code="bad_cursor", system="amazon")
        data = json.loads(text[len(CURSOR_PREFIX):])
        return cls(after=_time(data["after"]), before=_time(data["before"]) if data.get("before") else None,
                   token=data.get("token"))


def poll_orders(client: SpApiClient, cursor: str | None, *, since: datetime | None = None, page_size: int = 50,
                max_pages: int = 1, marketplace_ids: Sequence[str] | None = None, fetch_addresses: bool = True,
                now: Callable[[], datetime] | None = None) -> OrdersPage:
    """Orders updated since ``cursor`` (or ``since``, default one day ago), up to ``max_pages`` pages."""
    current = (now or _now)()
    state = OrdersCursor.decode(cursor) if cursor else OrdersCursor(after=since or current - timedelta(days=1))
    if state.before is None:
        before = current - SETTLE
        if before <= state.after:
            return OrdersPage((), state.encode(), False)
        state = replace(state, before=before)
    orders: list[OrderData] = []
    for _ in range(max_pages):
        params = {"lastUpdatedAfter": iso(state.after), "lastUpdatedBefore": iso(state.before),
                  "marketplaceIds": list(marketplace_ids or [client.marketplace_id]),
                  "includedData": list(SEARCH_DATA), "maxResultsPerPage": page_size}
        try:
            reply = client.call("orders.searchOrders", params={**params, "paginationToken": state.token})
        except PermanentError as exc:
            if not state.token:
                raise
            # The token expired (24 h) or was refused: page the window again from its start.
            log.warning("amazon.orders_token_restart", error=str(exc))
            state = replace(state, token=None)
            reply = client.call("orders.searchOrders", params=params)
        for raw in reply.body.get("orders") or []:
            order = _complete(client, raw, fetch_addresses)
            if order is not None:
                orders.append(order)
        token = (reply.body.get("pagination") or {}).get("nextToken")
        if not token:
            return OrdersPage(tuple(orders), OrdersCursor(after=state.before).encode(), False)
        state = replace(state, token=token)
    return OrdersPage(tuple(orders), state.encode(), True)


def get_order(client: SpApiClient, order_id: str, *, with_address: bool = True) -> OrderData:
    """One order; buyer and recipient only when ``with_address``."""
    reply = client.call("orders.getOrder", path={"orderId": order_id}, external_id=order_id,
                        params={"includedData": list(ADDRESS_DATA if with_address else SEARCH_DATA)})
    return order_from_payload(reply.body["order"])


def needs_address(raw: dict) -> bool:
    fulfillment = raw.get("fulfillment") or {}
    return (fulfillment.get("fulfilledBy") == "MERCHANT"
            and order_status(fulfillment.get("fulfillmentStatus")) in NEEDS_ADDRESS)


def _complete(client: SpApiClient, raw: dict, fetch_addresses: bool) -> OrderData | None:
    """Map one order of a page (fetching its address when needed); a bad record is logged and skipped."""
    order_id = raw.get("orderId")
    try:
        if fetch_addresses and needs_address(raw) and not (raw.get("recipient") or {}).get("deliveryAddress"):
            try:
                return get_order(client, order_id, with_address=True)
            except PermanentError as exc:  # e.g. gone, or not visible to this application
                log.warning("amazon.order_address_failed", order_id=order_id, error=str(exc))
        return order_from_payload(raw)
    except (KeyError, TypeError, ValueError, InvalidOperation, PermanentError) as exc:
        log.warning("amazon.order_skipped", order_id=order_id, error=f"{type(exc).__name__}: {exc}")
        return None


def order_from_payload(raw: dict) -> OrderData:
    """An Orders API v2026-01-01 ``Order`` as OrderData."""
    fulfillment = raw.get("fulfillment") or {}
    status = order_status(fulfillment.get("fulfillmentStatus"))
    updated = _time(raw["lastUpdatedTime"])
    total = (raw.get("proceeds") or {}).get("grandTotal") or {}
    buyer = raw.get("buyer") or {}
    address = _address((raw.get("recipient") or {}).get("deliveryAddress"))
    lines = []
    for item in raw["orderItems"]:
        product = item.get("product") or {}
        price = ((product.get("price") or {}).get("unitPrice") or {}).get("amount")
        lines.append(OrderLineData(
            external_id=str(item["orderItemId"]), name=product.get("title") or product.get("sellerSku") or "",
            quantity=int(item["quantityOrdered"]), current_quantity=0 if status == "Canceled" else None,
            product_external_id=product.get("asin"), sku=product.get("sellerSku"),
            price=Decimal(str(price)) if price not in (None, "") else None))
    return OrderData(
        external_id=raw["orderId"], name=raw["orderId"], updated_at=updated, created_at=_time(raw["createdTime"]),
        email=buyer.get("buyerEmail"), customer=_customer(buyer.get("buyerName"), buyer.get("buyerEmail")),
        shipping_address=address, phone=address.phone if address else None,
        currency=total.get("currencyCode"),
        total_price=Decimal(str(total["amount"])) if total.get("amount") not in (None, "") else None,
        financial_status=_FINANCIAL.get(status or "", "paid"), fulfillment_status=status,
        cancelled_at=updated if status == "Canceled" else None, lines=tuple(lines),
        channel=CHANNEL_AFN if fulfillment.get("fulfilledBy") == "AMAZON" else CHANNEL_MFN,
    )


def order_from_v0(order: dict, items: Sequence[dict], address: dict | None = None) -> OrderData:
    """An Orders API v0 ``Order`` (+ ``OrderItems``, + ``getOrderAddress`` payload) as OrderData."""
    status = order_status(order.get("OrderStatus"))
    updated = _time(order["LastUpdateDate"])
    total = order.get("OrderTotal") or {}
    shipping = (address or {}).get("ShippingAddress") or order.get("ShippingAddress")
    buyer = order.get("BuyerInfo") or {}
    lines = []
    for item in items:
        quantity = int(item["QuantityOrdered"])
        price = (item.get("ItemPrice") or {}).get("Amount")  # v0: price of the whole quantity
        lines.append(OrderLineData(
            external_id=str(item["OrderItemId"]), name=item.get("Title") or item.get("SellerSKU") or "",
            quantity=quantity, current_quantity=0 if status == "Canceled" else None,
            product_external_id=item.get("ASIN"), sku=item.get("SellerSKU"),
            price=(Decimal(str(price)) / quantity).quantize(Decimal("0.01")) if price and quantity else None))
    mapped = _address({
        "name": shipping.get("Name"), "companyName": shipping.get("CompanyName"),
        "addressLine1": shipping.get("AddressLine1"), "addressLine2": shipping.get("AddressLine2"),
        "addressLine3": shipping.get("AddressLine3"), "city": shipping.get("City"),
        "stateOrRegion": shipping.get("StateOrRegion"), "postalCode": shipping.get("PostalCode"),
        "countryCode": shipping.get("CountryCode"), "phone": shipping.get("Phone"),
    }) if shipping else None
    return OrderData(
        external_id=order["AmazonOrderId"], name=order.get("SellerOrderId") or order["AmazonOrderId"],
        updated_at=updated, created_at=_time(order["PurchaseDate"]), email=buyer.get("BuyerEmail"),
        customer=_customer(buyer.get("BuyerName"), buyer.get("BuyerEmail")), shipping_address=mapped,
        phone=mapped.phone if mapped else None, currency=total.get("CurrencyCode"),
        total_price=Decimal(str(total["Amount"])) if total.get("Amount") else None,
        financial_status=_FINANCIAL.get(status or "", "paid"), fulfillment_status=status,
        cancelled_at=updated if status == "Canceled" else None, lines=tuple(lines),
        channel=CHANNEL_AFN if order.get("FulfillmentChannel") == "AFN" else CHANNEL_MFN,
    )


def _address(raw: dict | None) -> Address | None:
    if not raw or not any(raw.values()):
        return None
    extra = [raw.get(k) for k in ("addressLine2", "addressLine3") if raw.get(k)]
    return Address(name=raw.get("name") or None, company=raw.get("companyName") or None,
                   address1=raw.get("addressLine1") or None, address2=", ".join(extra) or None,
                   city=raw.get("city") or None, province=raw.get("stateOrRegion") or None,
                   zip=raw.get("postalCode") or None, country_code=(raw.get("countryCode") or "").upper() or None,
                   phone=raw.get("phone") or None)


def _customer(name: str | None, email: str | None) -> Customer | None:
    if not (name or email):
        return None
    first, _, last = (name or "").partition(" ")
    return Customer(id=None, email=email, first_name=first or None, last_name=last or None)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)
