"""Allocation: route an order's lines to warehouses and reserve the stock, atomically.

The reservation is one conditional UPDATE per (warehouse, SKU):
``reserved = reserved + q WHERE on_hand - reserved - safety >= q``. If another order took the
units between our snapshot and the update, the update touches no row; the whole transaction is
rolled back and routing runs again on fresh numbers. So two orders, from any channel or process,
never both take the last unit. The order is claimed in the same transaction (``allocated_at``),
so two jobs for the same order never both reserve. Outbound orders are pushed by jobs enqueued
after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from connectors.errors import RetryableError
from integration import job_catalog
from integration.domain.routing import Assignment, Candidate, LineRequest, RouteReason, RoutingPlan, route
from integration.extensions import db, queues
from integration.models import (
    Allocation,
    AllocationStatus,
    Order,
    OrderLine,
    OutboundOrder,
    OutboundState,
    RoutingRule,
    StockLevel,
    Warehouse,
    WarehouseAccount,
)
from integration.models.base import utcnow
from integration.shops.alerts import raise_alert
from integration.shops.shop_settings import get_settings
from integration.stock.daily import record_levels
from integration.stock.push import ledger_changed

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 6


class ReservationConflictError(Exception):
    """Stock moved under us; re-plan on fresh numbers."""


@dataclass(frozen=True)
class AllocationResult:
    order_id: int
    status: str  # allocated, already_allocated, cancelled, no_lines, gone
    outbound_ids: tuple[int, ...] = ()
    backordered: int = 0


def candidates(shop_id: int) -> list[Candidate]:
    # A paused account pauses all its warehouses.
    warehouses = db.session.execute(
        select(Warehouse).join(WarehouseAccount, WarehouseAccount.id == Warehouse.account_id)
        .where(Warehouse.shop_id == shop_id, Warehouse.active.is_(True), WarehouseAccount.active.is_(True))
    ).scalars().all()
    rules = db.session.execute(select(RoutingRule).where(RoutingRule.shop_id == shop_id)).scalars().all()
    out = []
    for w in warehouses:
        mine = [r for r in rules if r.warehouse_id == w.id]
        out.append(Candidate(
            id=w.id, name=w.name or w.code, country_code=w.country_code, region=w.region, priority=w.priority,
            transit_days=w.transit_days or {}, active=w.active,
            excluded_skus=frozenset(r.sku for r in mine if r.sku and not r.country_code),
            excluded_countries=frozenset(r.country_code for r in mine if r.country_code and not r.sku),
            excluded_pairs=frozenset((r.sku, r.country_code) for r in mine if r.sku and r.country_code),
        ))
    return out


def allocate_order(order_id: int) -> AllocationResult:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            result = _allocate_once(order_id)
        except ReservationConflictError:
            db.session.rollback()
            log.info("allocation.conflict_replan", order_id=order_id, attempt=attempt)
            continue
        except OperationalError as exc:  # deadlock / serialization failure / busy: try again
            db.session.rollback()
            log.warning("allocation.db_retry", order_id=order_id, attempt=attempt, error=type(exc).__name__)
            continue
        for outbound_id in result.outbound_ids:
            queues.enqueue("sync", job_catalog.PUSH_OUTBOUND, outbound_id,
                           job_id=job_catalog.push_outbound_id(outbound_id), unique=True)
        return result
    raise RetryableError(f"order {order_id}: stock kept moving during allocation", retry_after=5)


def _allocate_once(order_id: int) -> AllocationResult:
    session = db.session
    order = session.get(Order, order_id)
    if order is None:
        return AllocationResult(order_id, "gone")
    if order.cancelled_at is not None:
        return AllocationResult(order_id, "cancelled")
    if order.channel == "amazon_afn":
        return AllocationResult(order_id, "not_ours")  # Amazon ships its FBA orders itself
    if order.allocated_at is not None:
        return AllocationResult(order_id, "already_allocated")
    order_lines = session.execute(select(OrderLine).where(OrderLine.order_id == order_id)).scalars().all()
    requests = [LineRequest(ln.id, ln.sku, ln.quantity) for ln in order_lines if ln.sku and ln.quantity > 0]
    settings = get_settings(order.shop_id)
    country = (order.shipping_country or "").upper()

    cands = candidates(order.shop_id)
    skus = sorted({r.sku for r in requests})
    levels = session.execute(
        select(StockLevel).where(StockLevel.shop_id == order.shop_id, StockLevel.sku.in_(skus))
    ).scalars().all() if skus else []
    available = {(lv.warehouse_id, lv.sku): lv.on_hand - lv.reserved - settings.safety_stock for lv in levels}
    plan = route(requests, country, cands, available, split=settings.split_orders)

    # Claim the order: a concurrent job for the same order waits here (PostgreSQL row lock) and
    # then finds it claimed.
    claimed = session.execute(
        update(Order).where(Order.id == order_id, Order.allocated_at.is_(None)).values(allocated_at=utcnow())
    ).rowcount
    if not claimed:
        session.rollback()
        return AllocationResult(order_id, "already_allocated")
    _reserve(plan, settings.safety_stock)
    ledger_changed(order.shop_id, {a.sku for a in plan.assignments if a.warehouse_id is not None})
    outbound_ids = _record(order, plan)
    backordered = sum(a.quantity for a in plan.backordered)
    if plan.backordered:
        raise_alert(order.shop_id, "backordered", f"order:{order.id}",
                    f"Order {order.name or order.external_id}: {backordered} unit(s) could not be allocated",
                    {"lines": [{"sku": a.sku, "quantity": a.quantity, "reason": a.reason} for a in plan.backordered]})
    session.commit()
    log.info("allocation.done", order_id=order_id, outbounds=len(outbound_ids), backordered=backordered)
    return AllocationResult(order_id, "allocated" if requests else "no_lines", tuple(outbound_ids), backordered)


def _reserve(plan: RoutingPlan, safety: int) -> None:
    totals: dict[tuple[int, str], int] = {}
    for a in plan.assignments:
        if a.warehouse_id is not None:
            totals[(a.warehouse_id, a.sku)] = totals.get((a.warehouse_id, a.sku), 0) + a.quantity
    # A fixed lock order (warehouse, sku) so concurrent allocations cannot deadlock each other.
    for (warehouse_id, sku), qty in sorted(totals.items()):
        took = db.session.execute(
            update(StockLevel)
            .where(StockLevel.warehouse_id == warehouse_id, StockLevel.sku == sku,
                   StockLevel.on_hand - StockLevel.reserved - safety >= qty)
            .values(reserved=StockLevel.reserved + qty)
        ).rowcount
        if not took:
            raise ReservationConflictError(f"{sku} at warehouse {warehouse_id}")
    record_levels(totals)


def _record(order: Order, plan: RoutingPlan) -> list[int]:
    session = db.session
    outbound_by_warehouse: dict[int, OutboundOrder] = {}
    for warehouse_id in sorted(plan.warehouses):
        outbound = OutboundOrder(shop_id=order.shop_id, order_id=order.id, warehouse_id=warehouse_id,
                                 reference=outbound_reference(order.id, warehouse_id), status=OutboundState.PENDING)
        session.add(outbound)
        outbound_by_warehouse[warehouse_id] = outbound
    session.flush()
    for a in plan.assignments:
        outbound = outbound_by_warehouse.get(a.warehouse_id) if a.warehouse_id else None
        session.add(Allocation(
            shop_id=order.shop_id, order_id=order.id, order_line_id=a.line_id, warehouse_id=a.warehouse_id,
            outbound_id=outbound.id if outbound else None, sku=a.sku, quantity=a.quantity,
            status=AllocationStatus.RESERVED if a.warehouse_id else AllocationStatus.BACKORDERED, reason=a.reason,
            route_reason=a.code,
        ))
    return [o.id for o in outbound_by_warehouse.values()]


def unallocated_order_ids(older_than, limit: int = 1000) -> list[int]:
    """Orders whose allocation job may have been lost (sweeper): never claimed, not cancelled."""
    return list(db.session.execute(
        select(Order.id).where(Order.allocated_at.is_(None), Order.cancelled_at.is_(None),
                               Order.channel != "amazon_afn", Order.created_at < utcnow() - older_than)
        .order_by(Order.id).limit(limit)
    ).scalars())


def outbound_reference(order_id: int, warehouse_id: int, tag: str = "") -> str:
    """Stable and unique: the warehouse's idempotency key for this shipment (``tag`` names a
    replacement parcel of the order, e.g. "R12" for return 12)."""
    return f"NS{order_id:08d}W{warehouse_id}{tag}"


def allocate_replacement(order_id: int, warehouse_id: int, lines: Sequence[tuple[int, str, int]], *,
                         purpose: str, tag: str) -> int | None:
    """Reserve ``lines`` ((order line id, sku, quantity)) at one warehouse for a replacement parcel
    of the order (an exchange, a reship) and record its outbound order, which is then pushed like
    any other. Once per ``purpose``: a repeat returns the outbound already recorded. Returns its
    id, or None when the warehouse has not the stock (nothing is reserved then). Commits."""
    session = db.session
    for _attempt in range(MAX_ATTEMPTS):
        existing = session.execute(select(OutboundOrder.id).where(
            OutboundOrder.order_id == order_id, OutboundOrder.warehouse_id == warehouse_id,
            OutboundOrder.purpose == purpose)).scalar()
        if existing is not None:
            return existing
        order = session.get(Order, order_id)
        why = "replacement from the local warehouse"
        plan = RoutingPlan(tuple(Assignment(line_id, sku, qty, warehouse_id, why, RouteReason.REPLACEMENT)
                                 for line_id, sku, qty in lines if qty > 0))
        try:
            _reserve(plan, get_settings(order.shop_id).safety_stock)
        except ReservationConflictError:
            session.rollback()
            log.info("allocation.replacement_short", order_id=order_id, warehouse_id=warehouse_id, purpose=purpose)
            return None
        outbound = OutboundOrder(shop_id=order.shop_id, order_id=order.id, warehouse_id=warehouse_id,
                                 purpose=purpose, reference=outbound_reference(order.id, warehouse_id, tag),
                                 status=OutboundState.PENDING)
        session.add(outbound)
        try:
            session.flush()
        except IntegrityError:  # a concurrent copy recorded it first: take that one
            session.rollback()
            continue
        for a in plan.assignments:
            session.add(Allocation(shop_id=order.shop_id, order_id=order.id, order_line_id=a.line_id,
                                   warehouse_id=warehouse_id, outbound_id=outbound.id, sku=a.sku, quantity=a.quantity,
                                   status=AllocationStatus.RESERVED, reason=a.reason, route_reason=a.code))
        ledger_changed(order.shop_id, {a.sku for a in plan.assignments})
        session.commit()
        log.info("allocation.replacement", order_id=order_id, outbound_id=outbound.id, purpose=purpose)
        queues.enqueue("sync", job_catalog.PUSH_OUTBOUND, outbound.id,
                       job_id=job_catalog.push_outbound_id(outbound.id), unique=True)
        return outbound.id
    raise RetryableError(f"order {order_id}: replacement {purpose} kept conflicting", retry_after=5)


def release_order(order_id: int) -> list[int]:
    """The order was cancelled. Reservations of outbound orders not yet at the warehouse are
    released now; returns the ids of outbound orders already pushed: their reservations stay
    until the warehouse confirms the cancellation (it may have shipped already)."""
    session = db.session
    to_cancel = []
    outbounds = session.execute(select(OutboundOrder).where(OutboundOrder.order_id == order_id)).scalars().all()
    for outbound in outbounds:
        if outbound.status == OutboundState.PENDING:
            release_outbound(outbound.id, commit=False)
        elif outbound.status == OutboundState.PUSHED:
            to_cancel.append(outbound.id)
    session.execute(update(Allocation).where(Allocation.order_id == order_id,
                                             Allocation.status == AllocationStatus.BACKORDERED)
                    .values(status=AllocationStatus.CANCELLED))
    session.commit()
    log.info("allocation.released", order_id=order_id, cancel_at_warehouse=len(to_cancel))
    return to_cancel


def release_outbound(outbound_id: int, *, commit: bool = True) -> int:
    """Give back the stock an outbound order reserved (it will not ship). Idempotent: only
    allocations still ``reserved`` are released, each exactly once."""
    session = db.session
    outbound = session.get(OutboundOrder, outbound_id)
    allocations = session.execute(
        select(Allocation).where(Allocation.outbound_id == outbound_id, Allocation.status == AllocationStatus.RESERVED)
    ).scalars().all()
    for a in sorted(allocations, key=lambda a: a.sku):
        # Flip the allocation first, conditionally: a concurrent release of the same row loses.
        flipped = session.execute(
            update(Allocation).where(Allocation.id == a.id, Allocation.status == AllocationStatus.RESERVED)
            .values(status=AllocationStatus.CANCELLED)
        ).rowcount
        if flipped:
            session.execute(
                update(StockLevel).where(StockLevel.warehouse_id == a.warehouse_id, StockLevel.sku == a.sku)
                .values(reserved=StockLevel.reserved - a.quantity)
            )
    record_levels((a.warehouse_id, a.sku) for a in allocations)
    if allocations:
        ledger_changed(allocations[0].shop_id, {a.sku for a in allocations})
    if outbound is not None:
        outbound.status = OutboundState.CANCELLED
    if commit:
        session.commit()
    return len(allocations)
