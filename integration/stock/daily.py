"""The ledger's daily history (``stock_daily``) and a SKU's series for the stock page's chart.

Writers: every writer of ``stock_levels`` calls :func:`record_levels` with the (warehouse, sku)
rows it changed, in the same transaction, after the change. Those rows are locked by the writer's
own UPDATE, so the snapshot holds exactly what commits with it, and no two transactions ever
write the same snapshot row at once (no new lock waits, no new deadlocks). The day's last write
wins: a row is the day's closing count. A day without a row kept the previous day's count.

Sales per warehouse and day: the units of order lines allocated to that warehouse (reserved or
shipped; cancelled and backordered ones were never sold from it), by the order's date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, func, select

from integration.domain.batching import chunks
from integration.domain.routing import RouteReason
from integration.extensions import db
from integration.models import Allocation, AllocationStatus, Order, StockDaily, StockLevel
from integration.models.upsert import insert

CHUNK = 500
MAX_DAYS = 90
SOLD = (AllocationStatus.RESERVED, AllocationStatus.SHIPPED)  # replacements (exchanges, reships) excepted


def today() -> date:
    return datetime.now(UTC).date()


def record_levels(pairs: Iterable[tuple[int, str]]) -> int:
    """Write today's snapshot of these (warehouse id, sku) ledger rows. Returns rows written."""
    by_warehouse: dict[int, set[str]] = {}
    for warehouse_id, sku in pairs:
        if warehouse_id is not None and sku:
            by_warehouse.setdefault(warehouse_id, set()).add(sku)
    day, written = today(), 0
    for warehouse_id in sorted(by_warehouse):  # the writers' lock order: (warehouse, sku)
        for part in chunks(sorted(by_warehouse[warehouse_id]), CHUNK):
            rows = db.session.execute(
                select(StockLevel.shop_id, StockLevel.sku, StockLevel.on_hand, StockLevel.reserved, StockLevel.inbound)
                .where(StockLevel.warehouse_id == warehouse_id, StockLevel.sku.in_(part))
                .order_by(StockLevel.sku)).all()
            if not rows:
                continue
            stmt = insert(StockDaily).values([
                {"shop_id": r.shop_id, "warehouse_id": warehouse_id, "sku": r.sku, "day": day, "on_hand": r.on_hand,
                 "reserved": r.reserved, "inbound": r.inbound} for r in rows])
            db.session.execute(stmt.on_conflict_do_update(
                index_elements=["warehouse_id", "sku", "day"],
                set_={"on_hand": stmt.excluded.on_hand, "reserved": stmt.excluded.reserved,
                      "inbound": stmt.excluded.inbound}))
            written += len(rows)
    return written


@dataclass(frozen=True)
class Series:
    days: list[date]
    stock: dict[int, list[int | None]]  # warehouse id -> on hand at each day's close (None: not known yet)
    sold: dict[int, list[int]]  # warehouse id -> units sold from it each day


def history(shop_id: int, sku: str, warehouse_ids: list[int], days: int, *, until: date | None = None) -> Series:
    """The last ``days`` days (today included) of one SKU at these warehouses of the shop. Today's
    stock is the live ledger's; earlier days come from the snapshots, carried forward over days
    without a change, starting from the last snapshot before the window."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1 to {MAX_DAYS}")
    end = until or today()
    start = end - timedelta(days=days - 1)
    span = [start + timedelta(days=i) for i in range(days)]
    stock = {w: [None] * days for w in warehouse_ids}
    sold = {w: [0] * days for w in warehouse_ids}
    if not warehouse_ids:
        return Series(span, stock, sold)
    known: dict[int, dict[date, int]] = {w: {} for w in warehouse_ids}
    for warehouse_id, day, on_hand in db.session.execute(
            select(StockDaily.warehouse_id, StockDaily.day, StockDaily.on_hand)
            .where(StockDaily.warehouse_id.in_(warehouse_ids), StockDaily.sku == sku,
                   StockDaily.day >= start, StockDaily.day <= end)):
        known[warehouse_id][day] = on_hand
    before = (select(StockDaily.warehouse_id, func.max(StockDaily.day).label("day"))
              .where(StockDaily.warehouse_id.in_(warehouse_ids), StockDaily.sku == sku, StockDaily.day < start)
              .group_by(StockDaily.warehouse_id).subquery())
    opening = dict(db.session.execute(
        select(StockDaily.warehouse_id, StockDaily.on_hand)
        .join(before, and_(before.c.warehouse_id == StockDaily.warehouse_id, before.c.day == StockDaily.day))
        .where(StockDaily.sku == sku)).all())
    if end == today():
        for warehouse_id, on_hand in db.session.execute(
                select(StockLevel.warehouse_id, StockLevel.on_hand)
                .where(StockLevel.warehouse_id.in_(warehouse_ids), StockLevel.sku == sku)):
            known[warehouse_id][end] = on_hand
    for warehouse_id in warehouse_ids:
        current = opening.get(warehouse_id)
        for i, day in enumerate(span):
            current = known[warehouse_id].get(day, current)
            stock[warehouse_id][i] = current
    when = func.coalesce(Order.external_created_at, Order.created_at)  # typed as its arguments: aware UTC
    first = datetime.combine(start, datetime.min.time(), UTC)
    last = datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC)
    for warehouse_id, at, quantity in db.session.execute(
            select(Allocation.warehouse_id, when, Allocation.quantity)
            .join(Order, Order.id == Allocation.order_id)
            .where(Allocation.shop_id == shop_id, Allocation.sku == sku, Allocation.warehouse_id.in_(warehouse_ids),
                   Allocation.status.in_(SOLD), Allocation.route_reason != RouteReason.REPLACEMENT,
                   when >= first, when < last)):
        index = (at.astimezone(UTC).date() - start).days
        if 0 <= index < days:
            sold[warehouse_id][index] += quantity
    return Series(span, stock, sold)

