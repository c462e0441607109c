"""The admin's order list: a shop's recent orders, newest first, each with the warehouse every
line was routed to and why, its outbound orders (status, ship-by against the warehouse's handling
time) and its parcels (carrier, tracking).

Filters and search run in the database, each an indexed EXISTS per order, so a page costs the same
at 10 orders or 10,000. One query reads the page; then one batched query per related table reads
what the page shows (never one query per row).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Select, exists, func, or_, select

from integration.domain.routing import RouteReason
from integration.extensions import db
from integration.models import Allocation, Order, OrderLine, OutboundOrder, OutboundState, Shipment, Warehouse
from integration.models.base import utcnow

OPEN = (OutboundState.PENDING, OutboundState.PUSHED)
OUTBOUND_STATUSES = (OutboundState.PENDING, OutboundState.PUSHED, OutboundState.SHIPPED, OutboundState.DELIVERED,
                     OutboundState.CANCELLED, OutboundState.FAILED)
# "open": not shipped yet; "overdue": open after the warehouse's ship-by; "unrouted": not allocated.
STATUSES = ("open", "overdue", "unrouted", *OUTBOUND_STATUSES)
MAX_QUERY = 200
_COUNTRY = re.compile(r"[A-Z]{2}")
# The least advanced outbound state speaks for the order ("pushed" while one parcel is still out).
_PROGRESS = (OutboundState.FAILED, OutboundState.PENDING, OutboundState.PUSHED, OutboundState.SHIPPED,
             OutboundState.DELIVERED, OutboundState.CANCELLED)


class FilterError(ValueError):
    """A filter or search value the list cannot take (the caller answers 400)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class OrderFilters:
    status: str | None = None
    warehouse_id: int | None = None
    country: str | None = None
    reason: str | None = None
    q: str | None = None


def parse_filters(shop_id: int, args: Mapping[str, str]) -> OrderFilters:
    """The list's filters from request parameters; FilterError for any value it cannot take."""
    status = (args.get("status") or "").strip() or None
    if status is not None and status not in STATUSES:
        raise FilterError("status", f"must be one of {', '.join(STATUSES)}")
    reason = (args.get("reason") or "").strip() or None
    if reason is not None and reason not in RouteReason.ALL:
        raise FilterError("reason", f"must be one of {', '.join(RouteReason.ALL)}")
    country = (args.get("country") or "").strip().upper() or None
    if country is not None and not _COUNTRY.fullmatch(country):
        raise FilterError("country", "must be a two-letter country code")
    warehouse_id = None
    raw = (args.get("warehouse") or "").strip()
    if raw:
        warehouse_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None
        # Another shop's warehouse is as unknown as one that does not exist.
        if warehouse_id is None or db.session.scalar(select(Warehouse.id).where(
                Warehouse.id == warehouse_id, Warehouse.shop_id == shop_id)) is None:
            raise FilterError("warehouse", "must be the id of one of this shop's warehouses")
    q = (args.get("q") or "").strip() or None
    if q is not None and (len(q) > MAX_QUERY or not q.isprintable()):
        raise FilterError("q", f"must be printable text of at most {MAX_QUERY} characters")
    return OrderFilters(status, warehouse_id, country, reason, q)


def filtered_orders(shop_id: int, filters: OrderFilters, now: datetime | None = None) -> Select:
    """The shop's orders matching ``filters``, newest first (a SELECT of Order rows)."""
    query = select(Order).where(Order.shop_id == shop_id).order_by(Order.id.desc())
    outbound = select(OutboundOrder.id).where(OutboundOrder.order_id == Order.id)
    if filters.status == "unrouted":
        query = query.where(Order.allocated_at.is_(None), Order.cancelled_at.is_(None))
    elif filters.status == "open":
        query = query.where(exists(outbound.where(OutboundOrder.status.in_(OPEN))))
    elif filters.status == "overdue":
        query = query.where(exists(outbound.where(OutboundOrder.status.in_(OPEN),
                                                  OutboundOrder.sla_due_at < (now or utcnow()))))
    elif filters.status == OutboundState.CANCELLED:
        query = query.where(or_(Order.cancelled_at.is_not(None),
                                exists(outbound.where(OutboundOrder.status == OutboundState.CANCELLED))))
    elif filters.status is not None:
        query = query.where(exists(outbound.where(OutboundOrder.status == filters.status)))
    if filters.warehouse_id is not None:
        query = query.where(exists(outbound.where(OutboundOrder.warehouse_id == filters.warehouse_id)))
    if filters.country is not None:
        query = query.where(Order.shipping_country == filters.country)
    if filters.reason is not None:
        query = query.where(exists(select(Allocation.id).where(Allocation.order_id == Order.id,
                                                               Allocation.route_reason == filters.reason)))
    if filters.q is not None:
        query = query.where(matches_search(filters.q))
    return query


def matches_search(q: str):
    """An e-mail address matches only exactly (no guessing customers' addresses letter by
    letter); anything else is the start of an order name ("#1001", "1001") or of a SKU."""
    if "@" in q:
        return Order.email.in_({q, q.lower()})
    prefix = _like_prefix(q.lower())
    names = [func.lower(Order.name).like(prefix, escape="\\")]
    if not q.startswith("#"):
        names.append(Order.name.like("#" + prefix, escape="\\"))
    sku = exists(select(OrderLine.id).where(OrderLine.order_id == Order.id,
                                            func.lower(OrderLine.sku).like(prefix, escape="\\")))
    return or_(*names, sku)


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# -- what the page shows ---------------------------------------------------------------------------


def describe(orders: Sequence[Order], now: datetime | None = None) -> list[dict]:
    """Each order as the admin shows it, reading its lines, allocations, outbound orders and
    parcels in one batched query per table."""
    ids = [o.id for o in orders]
    if not ids:
        return []
    now = now or utcnow()
    lines = defaultdict(list)
    for line in db.session.execute(select(OrderLine).where(OrderLine.order_id.in_(ids))
                                   .order_by(OrderLine.id)).scalars():
        lines[line.order_id].append(line)
    allocations = defaultdict(list)
    for a, wname, wcode in db.session.execute(
            select(Allocation, Warehouse.name, Warehouse.code)
            .outerjoin(Warehouse, Warehouse.id == Allocation.warehouse_id)
            .where(Allocation.order_id.in_(ids)).order_by(Allocation.id)):
        allocations[a.order_line_id].append((a, wname or wcode))
    outbounds = defaultdict(list)
    for outbound, warehouse in db.session.execute(
            select(OutboundOrder, Warehouse).join(Warehouse, Warehouse.id == OutboundOrder.warehouse_id)
            .where(OutboundOrder.order_id.in_(ids)).order_by(OutboundOrder.id)):
        outbounds[outbound.order_id].append((outbound, warehouse))
    parcels = defaultdict(list)
    for shipment in db.session.execute(select(Shipment).where(Shipment.order_id.in_(ids))
                                       .order_by(Shipment.id)).scalars():
        parcels[shipment.outbound_id].append(shipment)
    return [_order_json(o, lines[o.id], allocations, outbounds[o.id], parcels, now) for o in orders]


def _order_json(order: Order, lines, allocations, outbounds, parcels, now: datetime) -> dict:
    line_rows, reasons = [], set()
    for line in lines:
        routes = []
        for a, warehouse_name in allocations.get(line.id, ()):
            reasons.add(a.route_reason)
            routes.append({"warehouse": {"id": a.warehouse_id, "name": warehouse_name} if a.warehouse_id else None,
                           "quantity": a.quantity, "reason": a.route_reason, "detail": a.reason, "status": a.status})
        line_rows.append({"sku": line.sku, "name": line.name, "quantity": line.quantity, "routes": routes})
    out = [outbound_json(o, w, parcels.get(o.id, ()), now) for o, w in outbounds]
    return {
        "id": order.id, "name": order.name or order.external_id, "channel": order.channel,
        "received_at": _iso(order.external_created_at or order.created_at), "country": order.shipping_country,
        "total_price": str(order.total_price) if order.total_price is not None else None, "currency": order.currency,
        "cancelled_at": _iso(order.cancelled_at), "routed_at": _iso(order.allocated_at),
        "status": _status(order, out), "reasons": sorted(reasons, key=RouteReason.ALL.index),
        "overdue": any(o["sla"] == "overdue" for o in out), "lines": line_rows, "outbounds": out,
    }


def outbound_json(outbound: OutboundOrder, warehouse: Warehouse, parcels, now: datetime) -> dict:
    return {
        "id": outbound.id, "status": outbound.status, "reference": outbound.reference,
        "external_id": outbound.external_id, "external_ids": outbound.external_ids or [],
        "warehouse": {"id": warehouse.id, "name": warehouse.name or warehouse.code,
                      "country": warehouse.country_code, "handling_hours": warehouse.handling_hours},
        "pushed_at": _iso(outbound.pushed_at), "ship_by": _iso(outbound.sla_due_at),
        "shipped_at": _iso(outbound.shipped_at), "sla": sla_state(outbound, now),
        "parcels": [parcel_json(p) for p in parcels],
    }


def parcel_json(shipment: Shipment) -> dict:
    return {"id": shipment.id, "tracking_number": shipment.tracking_number, "carrier": shipment.carrier,
            "tracking_url": safe_url(shipment.tracking_url), "status": shipment.status,
            "shipped_at": _iso(shipment.shipped_at), "delivered_at": _iso(shipment.delivered_at)}


def sla_state(outbound: OutboundOrder, now: datetime) -> str | None:
    """Against the ship-by the warehouse promised when it took the order (pushed + handling time):
    on_time / late once shipped, due / overdue while open, None before it reached the warehouse."""
    due = outbound.sla_due_at
    if due is None:
        return None
    if outbound.shipped_at is not None:
        return "late" if outbound.shipped_at > due else "on_time"
    if outbound.status in OPEN:
        return "overdue" if due < now else "due"
    return None


def _status(order: Order, outbounds: list[dict]) -> str:
    if order.cancelled_at is not None:
        return "cancelled"
    if order.allocated_at is None:
        return "unrouted"
    states = {o["status"] for o in outbounds}
    if not states:
        return "backordered"  # routed, and no warehouse could take any of it
    return next(s for s in _PROGRESS if s in states)


def safe_url(url: str | None) -> str | None:
    """A carrier's tracking link, only when it is an http(s) URL (it comes from a warehouse API and
    ends up in an href)."""
    if not url or len(url) > 2000:
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None

