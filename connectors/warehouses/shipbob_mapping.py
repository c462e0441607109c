"""ShipBob payloads <-> domain dataclasses: the status tables and the pure translation functions.

Every ShipBob status the connector understands is in one of the explicit tables below; anything
else degrades to a safe default and keeps ShipBob's own code in ``raw_code`` / ``error`` so support
can see it. Sources:

* Shipment statuses and status details (ids 100-204, 300-308, 400-404):
  https://developer.shipbob.com/status-reference
* Order / shipment view models (``status``, ``status_details``, ``tracking``, ``location``):
  https://developer.shipbob.com/api/orders/get-order (OpenAPI ``Orders.ShipmentViewModel``)
* Fulfillment centers (``country`` is ISO 3166 alpha-3 in the reference's example, ``"USA"``;
  the FAQ's sample shows ``"US"``): https://developer.shipbob.com/api/receiving/get-fulfillment-centers
* Inventory levels by fulfillment center (``on_hand_quantity``, ``committed_quantity``,
  ``fulfillable_quantity``, ``awaiting_quantity``):
  https://developer.shipbob.com/api/inventory/get-all-inventory-levels-grouped-by-fulfillment-center
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.warehouses.countries import normalise_country
from integration.domain.orders import Address
from integration.domain.warehousing import (
    InboundStatus,
    Line,
    Outbound,
    OutboundRequest,
    OutboundStatus,
    Package,
    SkuSpec,
    StockRecord,
    WarehouseSite,
)

S = OutboundStatus

# (shipment status, status detail name) -> our status. ``None`` as detail: any other detail.
# Processing/Labeled and LabeledCreated count as shipped: ShipBob fires ``order.shipped`` when the
# label is bought and printed, and the tracking number exists from then on.
SHIPMENT_STATUS: dict[tuple[str, str | None], OutboundStatus] = {
    ("None", None): S.RECEIVED,
    ("ImportReview", None): S.RECEIVED,
    ("Processing", None): S.RECEIVED,
    ("Processing", "Picked"): S.PICKING,  # detail 100 "Picking Completed"
    ("Processing", "Packed"): S.PACKED,  # detail 101 "Packing Completed"
    ("Processing", "Labeled"): S.SHIPPED,  # detail 102 "Label Generated"
    ("LabeledCreated", None): S.SHIPPED,
    ("Completed", None): S.SHIPPED,  # 200 waiting for carrier pickup, 201 in transit, 202 out for delivery
    ("Completed", "Delivered"): S.DELIVERED,  # 203
    ("Completed", "DeliveryException"): S.SHIPPED,  # 204: a carrier problem, reported as tracking
    ("Exception", None): S.EXCEPTION,  # 300-308: out of stock, inactive/unknown SKU, transfers
    ("OnHold", None): S.EXCEPTION,  # 400-404: invalid address, payment, customs info
    ("Cancelled", None): S.CANCELLED,
    ("CleanSweeped", None): S.CANCELLED,
}

# Order-level status (``Orders.OrderStatus``), used only when an order has no shipment yet.
ORDER_STATUS: dict[str, OutboundStatus] = {
    "Processing": S.RECEIVED,
    "ImportReview": S.RECEIVED,
    "Exception": S.EXCEPTION,
    "PartiallyFulfilled": S.SHIPPED,
    "Fulfilled": S.SHIPPED,
    "Cancelled": S.CANCELLED,
}

# Warehouse receiving order ``status`` (https://developer.shipbob.com/api/receiving: Awaiting,
# Arrived, PartiallyArrived, Processing, Completed, Cancelled, and the hub statuses of orders that
# go through a ShipBob receiving hub) -> the domain's InboundStatus.
WRO_STATES: dict[str, InboundStatus] = {
    "Awaiting": InboundStatus.CREATED,
    "Arrived": InboundStatus.IN_TRANSIT,
    "PartiallyArrived": InboundStatus.IN_TRANSIT,
    "Processing": InboundStatus.IN_TRANSIT,
    "ArrivedAtHub": InboundStatus.IN_TRANSIT,
    "PartiallyArrivedAtHub": InboundStatus.IN_TRANSIT,
    "ProcessingAtHub": InboundStatus.IN_TRANSIT,
    "InternalTransfer": InboundStatus.IN_TRANSIT,
    "Completed": InboundStatus.RECEIVED,
    "Cancelled": InboundStatus.CANCELLED,
}

_SHIPMENT_STATUSES = {status for status, _ in SHIPMENT_STATUS}
_PROGRESS = [S.RECEIVED, S.PICKING, S.PACKED, S.SHIPPED, S.DELIVERED]
_FRACTION = re.compile(r"(\.\d{6})\d+")
MM_PER_INCH = Decimal("25.4")
G_PER_OZ = Decimal("28.349523125")


# -- time ------------------------------------------------------------------------------------

def parse_time(value: str | None) -> datetime | None:
    """ShipBob timestamps: ISO 8601, sometimes with 7 fractional digits and ``Z``; naive = UTC."""
    if not value:
        return None
    text = _FRACTION.sub(r"\1", value.strip()).replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- HTTP answers ----------------------------------------------------------------------------

def redact(value: Any) -> Any:
    """Drop customer data from call excerpts (recipient name, address, email, phone)."""
    if isinstance(value, dict):
        return {k: ("<redacted>" if k in ("recipient", "email", "phone_number") else redact(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def describe_error(data: Any, fallback: str) -> tuple[str, str | None]:
    """(message, field) from ShipBob's error shapes: ``{field: [messages]}`` (orders, receiving
    before 2026-07), RFC 7807 ProblemDetails with ``errors`` (inventory, products, receiving) and
    ``{"message": …}`` (429, returns)."""
    if isinstance(data, str) and data.strip():
        return data.strip()[:500], None
    if not isinstance(data, dict):
        return fallback, None
    errors = data.get("errors")
    if isinstance(errors, dict) and errors:
        field, messages = next(iter(errors.items()))
        text = "; ".join(messages) if isinstance(messages, list) else str(messages)
        return f"{data.get('title') or fallback}: {text}", field or None
    if isinstance(errors, list) and errors:
        return f"{data.get('message') or fallback}: {errors[0]}", None
    if data.get("message") or data.get("detail") or data.get("title"):
        return str(data.get("message") or data.get("detail") or data.get("title")), None
    for field, messages in data.items():
        if isinstance(messages, list) and messages:
            return "; ".join(str(m) for m in messages), field or None
    return fallback, None


def seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value not in (None, "") else None
    except ValueError:
        return None


# -- requests --------------------------------------------------------------------------------

def order_body(request: OutboundRequest) -> dict:
    """``POST /order`` body (``Orders.CreateOrderModel``), products by reference id (= SKU)."""
    address: Address = request.ship_to
    body = {
        "reference_id": request.reference,
        "order_number": request.order_name or request.reference,
        "type": "DTC",
        "shipping_method": request.shipping_service or "Standard",
        "recipient": {
            "name": address.full_name,
            "email": request.email,
            "phone_number": address.phone,
            "address": {
                "address1": address.address1,
                "address2": address.address2,
                "company_name": address.company,
                "city": address.city,
                "state": address.province_code or address.province,
                "country": (address.country_code or address.country or "").upper() or None,
                "zip_code": address.zip,
            },
        },
        # ``name`` is required by the reference-id model when ShipBob has no such product; we
        # register products first (upsert_sku), the SKU is a harmless fallback name.
        "products": [{"reference_id": line.sku, "name": line.sku, "quantity": line.quantity}
                     for line in request.lines],
    }
    if request.warehouse_code:
        body["location_id"] = int(request.warehouse_code)
    return body


def variant_body(spec: SkuSpec) -> dict:
    """One product variant (``Products.CreateProductVariantRequestModel``). ShipBob measures in
    inches and ounces (as its order ``measurements`` do); we keep two decimals."""
    variant: dict = {"name": spec.title, "sku": spec.sku}
    if spec.barcode:
        variant["barcode"] = spec.barcode
    if spec.length_mm and spec.width_mm and spec.height_mm:
        variant["dimension"] = {key: float(round(Decimal(value) / MM_PER_INCH, 2)) for key, value in
                                (("length", spec.length_mm), ("width", spec.width_mm),
                                 ("height", spec.height_mm))}
    if spec.weight_g:
        variant["weight"] = float(round(Decimal(spec.weight_g) / G_PER_OZ, 2))
    customs = {"country_code_of_origin": spec.origin_country, "hs_tariff_code": spec.hs_code,
               "value": float(spec.declared_value) if spec.declared_value is not None else None,
               "currency": spec.currency, "description": spec.title}
    if any(customs[key] is not None for key in ("country_code_of_origin", "hs_tariff_code", "value")):
        variant["customs"] = {key: value for key, value in customs.items() if value is not None}
    return variant


# -- orders and shipments --------------------------------------------------------------------

def _detail_names(shipment: dict) -> list[str]:
    return [d.get("name") for d in shipment.get("status_details") or [] if d.get("name")]


def _norm(status: str | None) -> str:
    return (status or "None").replace(" ", "")


def shipment_status(shipment: dict) -> OutboundStatus:
    status = _norm(shipment.get("status"))
    for name in reversed(_detail_names(shipment)):  # the newest detail is last
        if (status, name) in SHIPMENT_STATUS:
            return SHIPMENT_STATUS[(status, name)]
    return SHIPMENT_STATUS.get((status, None), S.RECEIVED)


def shipment_error(shipment: dict) -> str | None:
    """Why a shipment is stuck (Exception / OnHold) or had a carrier exception."""
    status = _norm(shipment.get("status"))
    details = shipment.get("status_details") or []
    if status in ("Exception", "OnHold") or any(d.get("name") == "DeliveryException" for d in details):
        text = "; ".join(f"{d.get('name')}: {d.get('description')}" for d in details if d.get("name"))
        return f"{status} ({text})" if text else status
    return None


def shipment_lines(shipment: dict) -> tuple[Line, ...]:
    lines = []
    for product in shipment.get("products") or []:
        quantity = sum(int(item.get("quantity") or 0) for item in product.get("inventory_items") or [])
        sku = product.get("reference_id") or product.get("sku")
        if sku and quantity:
            lines.append(Line(sku, quantity))
    return tuple(lines)


def shipment_inventory_ids(shipment: dict) -> dict[str, int]:
    """SKU -> ShipBob inventory id of what a shipment contained (for returns)."""
    ids = {}
    for product in shipment.get("products") or []:
        for item in product.get("inventory_items") or []:
            if item.get("id") is not None:
                ids[product.get("reference_id") or product.get("sku")] = int(item["id"])
    return ids


def shipment_package(shipment: dict) -> Package | None:
    tracking = shipment.get("tracking") or {}
    number = tracking.get("tracking_number")
    if not number:
        return None
    return Package(tracking_number=number, carrier=tracking.get("carrier"),
                   tracking_url=tracking.get("tracking_url"), lines=shipment_lines(shipment),
                   shipped_at=parse_time(tracking.get("shipping_date") or shipment.get("actual_fulfillment_date")))


def order_to_outbound(order: dict) -> Outbound:
    """An order with its shipments -> one Outbound: the least advanced live shipment wins, any
    stuck shipment makes the whole order an exception, all cancelled -> cancelled."""
    shipments = order.get("shipments") or []
    reference = order.get("reference_id") or ""
    if not shipments:
        return Outbound(reference=reference, external_id=str(order.get("id")),
                        status=ORDER_STATUS.get(_norm(order.get("status")), S.RECEIVED),
                        updated_at=parse_time(order.get("created_date")))
    statuses = [shipment_status(s) for s in shipments]
    live = [s for s in statuses if s is not S.CANCELLED]
    if not live:
        status = S.CANCELLED
    elif S.EXCEPTION in live:
        status = S.EXCEPTION
    else:
        status = min(live, key=_PROGRESS.index)
    packages = tuple(p for p in (shipment_package(s) for s in shipments) if p)
    errors = [e for e in (shipment_error(s) for s in shipments) if e]
    updated = [t for t in (parse_time(s.get("last_update_at")) for s in shipments) if t]
    location = (shipments[0].get("location") or {}).get("id")
    return Outbound(reference=reference, external_id=str(order.get("id")), status=status,
                    warehouse_code=str(location) if location is not None else None, packages=packages,
                    updated_at=max(updated) if updated else parse_time(order.get("created_date")),
                    error="; ".join(errors) or None)


def unmapped_statuses(order: dict) -> list[tuple[str, str]]:
    """(field, value) of each order or shipment status in ``order`` that the tables above do not
    know: read as "received" (never shipped), and reported by the connector."""
    shipments = order.get("shipments") or []
    found = []
    if not shipments and _norm(order.get("status")) not in (*ORDER_STATUS, "None"):
        found.append(("order.status", _norm(order.get("status"))))
    for shipment in shipments:
        if _norm(shipment.get("status")) not in _SHIPMENT_STATUSES:
            found.append(("shipment.status", _norm(shipment.get("status"))))
    return found


def shipment_to_outbound(shipment: dict) -> Outbound:
    """A webhook's shipment payload -> Outbound (order id as external id, like get_outbound)."""
    return order_to_outbound({"id": shipment.get("order_id"), "reference_id": shipment.get("reference_id"),
                              "shipments": [shipment]})


def center_site(fc: dict) -> WarehouseSite:
    """A ``GET /fulfillment-center`` entry -> WarehouseSite (code = ShipBob's numeric FC id).
    A country we cannot read leaves country and region empty (the caller reports it)."""
    country = normalise_country(fc.get("country"))
    state = fc.get("state")
    return WarehouseSite(code=str(fc["id"]), name=fc.get("name") or str(fc["id"]), country_code=country,
                         region=f"{country}-{state}" if country and state else None)


# -- inventory -------------------------------------------------------------------------------

def level_records(item: dict, *, location_id: str | None = None, as_of: datetime | None = None) -> list[StockRecord]:
    """One ``inventory-level/locations`` item -> a StockRecord per fulfillment center."""
    sku = item.get("sku")
    if not sku:
        return []
    records = []
    for loc in item.get("locations") or []:
        code = str(loc.get("location_id"))
        if location_id is not None and code != location_id:
            continue
        records.append(StockRecord(
            sku=sku, warehouse_code=code, on_hand=int(loc.get("on_hand_quantity") or 0),
            available=int(loc.get("fulfillable_quantity") or 0),
            reserved=int(loc.get("committed_quantity") or 0),
            inbound=int(loc.get("awaiting_quantity") or 0), as_of=as_of,
        ))
    return records


def fingerprint(record: StockRecord) -> str:
    return f"{record.on_hand}:{record.available}:{record.reserved}:{record.inbound}"
