"""Daily demand per SKU x warehouse (``demand_daily``), rebuilt from what the shop stores.

* Units: order lines as allocated to each warehouse (Shopify and Amazon MFN orders), and Amazon
  FBA (``amazon_afn``) orders, which are stored for demand only and never allocated: they count at
  the shop's FBA warehouse of the order's marketplace (an FBA warehouse's code is its marketplace
  id). The day is the order's (UTC) creation day: demand happens when the customer orders.
* Cancelled: units of cancelled allocations (or cancelled FBA orders), counted on the order's day.
* Censored: the SKU had nothing available (on hand - reserved <= 0) at that warehouse all day, i.e.
  at the previous day's close and at this day's close (``stock_daily``, whose days without a row
  keep the previous count; today's close is the live ``stock_levels``). Demand on such a day is
  unknown, not zero. Before a series' first ledger row nothing is known: not censored.
* Promo: a promotion of the shop covers the day for that SKU and warehouse.

Which windows are rebuilt (:mod:`.compute`): the whole ``HISTORY_DAYS`` of a series never computed
(a new SKU, a shop's first run), the last ``REFRESH_DAYS`` of every series nightly and of a dirty
one after a change. So a cancellation of an order older than ``REFRESH_DAYS`` is not subtracted
(it is rare, and that demand did happen).

Rows are sparse: a day without a row sold nothing, was not censored and had no promotion. A rebuild
of a window writes exactly the rows it computes (upsert on (warehouse, sku, day), and deletes the
window's rows that no longer hold anything), so rebuilding twice leaves the same rows.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Date, and_, cast, delete, func, or_, select, type_coerce

from integration.domain.channels import CHANNEL_AFN
from integration.domain.routing import RouteReason
from integration.extensions import db
from integration.models import (
    Allocation,
    AllocationStatus,
    AmazonOrder,
    DemandDay,
    Order,
    OrderLine,
    Promotion,
    StockDaily,
    StockLevel,
    Warehouse,
    WarehouseAccount,
)
from integration.models.upsert import insert_rows

HISTORY_DAYS = 120  # the forecast's window
REFRESH_DAYS = 14  # the nightly rebuild of every series: late cancellations, closing counts
CHUNK = 500

Key = tuple[int, str]  # (warehouse_id, sku)
DayKey = tuple[int, str, date]
Values = tuple[int, int, bool, bool]  # units, cancelled, censored, promo


def utc_today() -> date:
    return datetime.now(UTC).date()


def chunked(items: Iterable, size: int = CHUNK) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _sku_filters(column, keys: Collection[Key] | None, warehouse_column=None) -> list:
    """``column IN (...)`` per chunk of the keys' SKUs (and their warehouses, where the table has
    them: the (warehouse, sku, day) indexes then find the rows); one "everything" filter without
    keys."""
    if keys is None:
        return [None]
    warehouses = sorted({w for w, _ in keys})
    return [column.in_(chunk) if warehouse_column is None else and_(warehouse_column.in_(warehouses), column.in_(chunk))
            for chunk in chunked(sorted({sku for _, sku in keys}))]


def _where(statement, condition):
    return statement if condition is None else statement.where(condition)


def fetch_rows(statement) -> list[tuple]:
    """All rows of ``statement`` in the session's transaction. On PostgreSQL straight from the
    driver's cursor: the nightly rebuild reads about a million rows, and SQLAlchemy's per-row
    result handling costs more than the database there (the selected columns need no conversion
    that psycopg does not do itself)."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return list(connection.execute(statement).all())
    compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    with connection.connection.driver_connection.cursor() as cursor:
        # Not prepared: each statement runs once per chunk with its own values, and a prepared
        # one goes to a generic plan after five runs, which cannot see the window's dates (the
        # orders in it: all of a fresh shop's or a tiny part of an old one's) and can be 100x slower.
        return cursor.execute(str(compiled), compiled.params, prepare=False).fetchall()


# -- sources -----------------------------------------------------------------------------------


def _utc_day(moment):
    """The UTC day of a timestamp column, in SQL (PostgreSQL stores aware timestamps; SQLite the
    naive UTC text ``UTCDateTime`` writes)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return type_coerce(cast(func.timezone("UTC", moment), Date), Date)
    return type_coerce(func.date(moment), Date)


def _allocated_sales(shop_id: int, since: date, until: date, keys) -> Iterator[tuple[DayKey, int, bool]]:
    """Units per (warehouse, sku, day) and cancelled or not, summed by the database: one row per
    series and day instead of one per order line."""
    created = func.coalesce(Order.external_created_at, Order.created_at)
    day, cancelled = _utc_day(created), Allocation.status == AllocationStatus.CANCELLED
    base = (select(Allocation.warehouse_id, Allocation.sku, day, func.sum(Allocation.quantity), cancelled)
            .join(Order, Order.id == Allocation.order_id)
            .where(Allocation.shop_id == shop_id, Order.shop_id == shop_id, Allocation.warehouse_id.is_not(None),
                   Allocation.status != AllocationStatus.BACKORDERED,
                   # an exchange's or a reship's units were sold once, with the order
                   Allocation.route_reason != RouteReason.REPLACEMENT,
                   created >= _start(since), created < _start(until + timedelta(days=1)))
            .group_by(Allocation.warehouse_id, Allocation.sku, day, cancelled))
    for condition in _sku_filters(Allocation.sku, keys, Allocation.warehouse_id):
        for warehouse_id, sku, sold_on, quantity, was_cancelled in fetch_rows(_where(base, condition)):
            yield (warehouse_id, sku, sold_on), int(quantity), bool(was_cancelled)


def fba_warehouses(shop_id: int) -> dict[tuple[int, str], int]:
    """(Amazon account id, marketplace id) -> the shop's FBA warehouse that sells there."""
    from integration.warehouses import fba_link

    rows = db.session.execute(
        select(Warehouse.id, Warehouse.code, WarehouseAccount.credentials)
        .join(WarehouseAccount, WarehouseAccount.id == Warehouse.account_id)
        .where(Warehouse.shop_id == shop_id, WarehouseAccount.provider == fba_link.PROVIDER))
    found: dict[tuple[int, str], int] = {}
    for warehouse_id, code, credentials in rows:
        try:
            link = json.loads(credentials or "{}").get(fba_link.LINK_KEY)
        except (ValueError, AttributeError):
            continue
        if link is not None and str(link).isdigit():
            found.setdefault((int(link), code), warehouse_id)
    return found


def _fba_sales(shop_id: int, since: date, until: date, keys) -> Iterator[tuple[DayKey, int, bool]]:
    warehouses = fba_warehouses(shop_id)
    if not warehouses:
        return
    created = func.coalesce(Order.external_created_at, Order.created_at)
    base = (select(AmazonOrder.account_id, AmazonOrder.marketplace_id, OrderLine.sku, created, OrderLine.quantity,
                   Order.cancelled_at)
            .join(Order, Order.id == AmazonOrder.order_id).join(OrderLine, OrderLine.order_id == Order.id)
            .where(Order.shop_id == shop_id, Order.channel == CHANNEL_AFN, OrderLine.sku.is_not(None),
                   created >= _start(since), created < _start(until + timedelta(days=1))))
    for condition in _sku_filters(OrderLine.sku, keys):
        for account_id, marketplace_id, sku, at, quantity, cancelled_at in db.session.execute(_where(base, condition)):
            warehouse_id = warehouses.get((account_id, marketplace_id))
            if warehouse_id is not None:
                yield (warehouse_id, sku, _day(at)), quantity, cancelled_at is not None


def _closing_counts(shop_id: int, since: date, until: date, keys, today: date) -> dict[Key, list[tuple[date, int]]]:
    """Per series, the closing available counts from the day before ``since`` on (sorted), today's
    being the live ledger's."""
    first = since - timedelta(days=1)
    p = StockDaily.__table__.alias("p")
    last_before = (select(func.max(p.c.day)).where(p.c.warehouse_id == StockDaily.warehouse_id,
                                                   p.c.sku == StockDaily.sku, p.c.day < first)
                   .scalar_subquery())
    base = (select(StockDaily.warehouse_id, StockDaily.sku, StockDaily.day, StockDaily.on_hand - StockDaily.reserved)
            .where(StockDaily.shop_id == shop_id, StockDaily.day <= until,
                   or_(StockDaily.day >= first, StockDaily.day == last_before)))
    counts: dict[Key, list[tuple[date, int]]] = defaultdict(list)
    for condition in _sku_filters(StockDaily.sku, keys, StockDaily.warehouse_id):
        for warehouse_id, sku, day, available in fetch_rows(_where(base, condition)):
            counts[(warehouse_id, sku)].append((day, available))
    if since <= today <= until:
        live = select(StockLevel.warehouse_id, StockLevel.sku, StockLevel.on_hand - StockLevel.reserved).where(
            StockLevel.shop_id == shop_id)
        for condition in _sku_filters(StockLevel.sku, keys, StockLevel.warehouse_id):
            for warehouse_id, sku, available in fetch_rows(_where(live, condition)):
                series = counts[(warehouse_id, sku)]
                series[:] = [c for c in series if c[0] != today]
                series.append((today, available))
    for series in counts.values():
        series.sort()
    return counts


def censored_days(counts: list[tuple[date, int]], since: date, until: date) -> Iterator[date]:
    """Days in [since, until] whose opening (previous close) and closing counts were both <= 0."""
    index, previous = 0, None  # previous: the closing count carried to the day before
    day = since - timedelta(days=1)
    while index < len(counts) and counts[index][0] <= day:
        previous = counts[index][1]
        index += 1
    day = since
    while day <= until:
        closing = previous
        while index < len(counts) and counts[index][0] <= day:
            closing = counts[index][1]
            index += 1
        if previous is not None and closing is not None and previous <= 0 and closing <= 0:
            yield day
        previous = closing
        day += timedelta(days=1)


def _stocked(shop_id: int) -> set[Key]:
    return {(w, s) for w, s in db.session.execute(select(StockLevel.warehouse_id, StockLevel.sku).where(
        StockLevel.shop_id == shop_id))}


def _promotions(shop_id: int, since: date, until: date) -> list[Promotion]:
    return list(db.session.execute(select(Promotion).where(
        Promotion.shop_id == shop_id, Promotion.starts_on <= until, Promotion.ends_on >= since)).scalars())


# -- the rebuild --------------------------------------------------------------------------------


def compute(shop_id: int, since: date, until: date, keys: Collection[Key] | None = None, *,
            today: date | None = None) -> dict[DayKey, Values]:
    """The rows the window [since, until] should hold (all series, or only ``keys``)."""
    today = today or utc_today()
    wanted = None if keys is None else set(keys)
    sold: dict[DayKey, list[int]] = defaultdict(lambda: [0, 0])
    for source in (_allocated_sales, _fba_sales):
        for key, quantity, cancelled in source(shop_id, since, until, keys):
            if wanted is None or key[:2] in wanted:
                sold[key][0] += quantity
                sold[key][1] += quantity if cancelled else 0
    censored: set[DayKey] = set()
    series = set(wanted) if wanted is not None else {key[:2] for key in sold} | _stocked(shop_id)
    for (warehouse_id, sku), counts in _closing_counts(shop_id, since, until, keys, today).items():
        if wanted is not None and (warehouse_id, sku) not in wanted:
            continue
        series.add((warehouse_id, sku))
        if all(available > 0 for _, available in counts):
            continue  # never out in the window
        censored.update((warehouse_id, sku, day) for day in censored_days(counts, since, until))
    promo: set[DayKey] = set()
    for p in _promotions(shop_id, since, until):
        days = [since + timedelta(days=i) for i in range((until - since).days + 1)
                if p.starts_on <= since + timedelta(days=i) <= p.ends_on]
        for warehouse_id, sku in series:
            if (p.sku is None or p.sku == sku) and (p.warehouse_id is None or p.warehouse_id == warehouse_id):
                promo.update((warehouse_id, sku, day) for day in days)
    rows: dict[DayKey, Values] = {}
    for key in set(sold) | censored | promo:
        units, cancelled = sold.get(key, (0, 0))
        rows[key] = (units, cancelled, key in censored, key in promo)
    return rows


def _stored(shop_id: int, since: date, until: date, keys) -> dict[DayKey, tuple[int, Values]]:
    base = select(DemandDay.id, DemandDay.warehouse_id, DemandDay.sku, DemandDay.day, DemandDay.units,
                  DemandDay.cancelled, DemandDay.censored, DemandDay.promo).where(
        DemandDay.shop_id == shop_id, DemandDay.day >= since, DemandDay.day <= until)
    wanted = None if keys is None else set(keys)
    found: dict[DayKey, tuple[int, Values]] = {}
    for condition in _sku_filters(DemandDay.sku, keys, DemandDay.warehouse_id):
        for row_id, warehouse_id, sku, day, units, cancelled, censored, promo in fetch_rows(_where(base, condition)):
            if wanted is None or (warehouse_id, sku) in wanted:
                found[(warehouse_id, sku, day)] = (row_id, (units, cancelled, bool(censored), bool(promo)))
    return found


def rebuild(shop_id: int, since: date, until: date, keys: Collection[Key] | None = None, *,
            today: date | None = None) -> int:
    """Make ``demand_daily`` hold exactly :func:`compute`'s rows for the window (caller commits).
    Returns how many rows were written or deleted (0 when nothing changed)."""
    rows = compute(shop_id, since, until, keys, today=today)
    stored = _stored(shop_id, since, until, keys)
    stale = [row_id for key, (row_id, _) in stored.items() if key not in rows]
    for chunk in chunked(stale):
        db.session.execute(delete(DemandDay).where(DemandDay.id.in_(chunk)))
    changed = [{"shop_id": shop_id, "warehouse_id": w, "sku": s, "day": d, "units": v[0], "cancelled": v[1],
                "censored": v[2], "promo": v[3]}
               for (w, s, d), v in rows.items() if (w, s, d) not in stored or stored[(w, s, d)][1] != v]
    if changed:
        insert_rows(DemandDay, changed, lambda statement: statement.on_conflict_do_update(
            index_elements=["warehouse_id", "sku", "day"],
            set_={name: statement.excluded[name] for name in ("units", "cancelled", "censored", "promo")}))
    return len(stale) + len(changed)


def series_keys_of_orders(order_ids: Collection[int]) -> select:
    """The (shop, warehouse, sku) series an order's allocations touch (for dirty marking)."""
    return select(Allocation.shop_id, Allocation.warehouse_id, Allocation.sku).where(
        Allocation.order_id.in_(order_ids), Allocation.warehouse_id.is_not(None)).distinct()

