"""The ratings customers gave, read for the merchant: one page of ratings with their comment,
order and warehouses, and a summary per warehouse and per week.

A rating belongs to an order; an order may ship from several warehouses, so it counts towards each
warehouse that took part of it (an outbound order neither cancelled nor refused). An order no
warehouse shipped (fulfilled by the merchant) counts under no warehouse.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, func, select

from integration.extensions import db
from integration.feedback.answers import DIMENSIONS, MAX_COMMENT  # older comments may be longer: cut
from integration.feedback.scores import average as _average
from integration.feedback.scores import monday as _monday
from integration.models import Order, OrderFeedback, OutboundOrder, Warehouse
from integration.models.allocation import OutboundState
from integration.models.base import utcnow

MAX_DAYS = 366
RATINGS = range(1, 6)
TOOK_PART = OutboundOrder.status.not_in((OutboundState.CANCELLED, OutboundState.FAILED))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def shop_warehouse(shop_id: int, warehouse_id: int) -> Warehouse | None:
    """The shop's warehouse with this id (None for another shop's)."""
    found = db.session.get(Warehouse, warehouse_id)
    return found if found is not None and found.shop_id == shop_id else None


# -- the list -----------------------------------------------------------------------------------


def ratings_query(shop_id: int, *, warehouse_id: int | None = None, rating: int | None = None) -> Select:
    """The shop's ratings, newest first, with their order's name."""
    stmt = (select(OrderFeedback.id, OrderFeedback.order_id, OrderFeedback.rating,
                   *(getattr(OrderFeedback, name) for name in DIMENSIONS), OrderFeedback.nps, OrderFeedback.comment,
                   OrderFeedback.created_at, OrderFeedback.updated_at, Order.name.label("order_name"))
            .join(Order, Order.id == OrderFeedback.order_id)
            .where(OrderFeedback.shop_id == shop_id)
            .order_by(OrderFeedback.created_at.desc(), OrderFeedback.id.desc()))
    if rating is not None:
        stmt = stmt.where(OrderFeedback.rating == rating)
    if warehouse_id is not None:
        stmt = stmt.where(select(OutboundOrder.id).where(
            OutboundOrder.order_id == OrderFeedback.order_id, OutboundOrder.shop_id == shop_id,
            OutboundOrder.warehouse_id == warehouse_id, TOOK_PART).exists())
    return stmt


def ratings_json(shop_id: int, rows: Sequence) -> list[dict]:
    """The page's rows with each order's warehouses (one query for the page)."""
    order_ids = [row.order_id for row in rows]
    warehouses: dict[int, list[dict]] = defaultdict(list)
    if order_ids:
        for order_id, warehouse_id, name, code in db.session.execute(
                select(OutboundOrder.order_id, Warehouse.id, Warehouse.name, Warehouse.code)
                .join(Warehouse, Warehouse.id == OutboundOrder.warehouse_id)
                .where(OutboundOrder.shop_id == shop_id, OutboundOrder.order_id.in_(order_ids), TOOK_PART)
                .order_by(Warehouse.name, Warehouse.id)):
            warehouses[order_id].append({"id": warehouse_id, "name": name or code})
    return [{"id": row.id, "order_id": row.order_id, "order_name": row.order_name, "rating": row.rating,
             **{name: getattr(row, name) for name in DIMENSIONS}, "nps": row.nps,
             "comment": (row.comment or "")[:MAX_COMMENT] or None, "warehouses": warehouses.get(row.order_id, []),
             "created_at": _iso(row.created_at), "updated_at": _iso(row.updated_at)} for row in rows]


# -- the summary --------------------------------------------------------------------------------


def utc_day(column):
    """A timestamp column's UTC calendar day: SQLite stores UTC text; PostgreSQL is asked for UTC."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def summary(shop_id: int, days: int = 90, *, now: datetime | None = None) -> dict:
    """Count and average rating over the last ``days`` days: overall, per warehouse, and per week
    (Monday-based, every week of the window listed, ``None`` where a week had no rating)."""
    now = now or utcnow()
    since = now - timedelta(days=days)
    recent = and_(OrderFeedback.shop_id == shop_id, OrderFeedback.created_at >= since)
    count, total = db.session.execute(select(func.count(), func.coalesce(func.sum(OrderFeedback.rating), 0))
                                      .where(recent)).one()
    took_part = and_(OutboundOrder.order_id == OrderFeedback.order_id, OutboundOrder.shop_id == shop_id, TOOK_PART)
    per_warehouse = db.session.execute(
        select(OutboundOrder.warehouse_id, func.count(), func.sum(OrderFeedback.rating))
        .select_from(OrderFeedback).outerjoin(OutboundOrder, took_part).where(recent)
        .group_by(OutboundOrder.warehouse_id)).all()
    names = {w.id: w.name or w.code for w in db.session.execute(
        select(Warehouse).where(Warehouse.shop_id == shop_id)).scalars()}
    warehouses = sorted(({"id": wid, "name": names.get(wid) if wid else None, "count": n,
                          "average": _average(int(s or 0), n)} for wid, n, s in per_warehouse),
                        key=lambda w: (w["id"] is None, w["name"] or "", w["id"] or 0))

    day = utc_day(OrderFeedback.created_at)
    weeks = []
    week = _monday(since.date())
    while week <= now.date():
        weeks.append(week)
        week += timedelta(days=7)
    index = {w: i for i, w in enumerate(weeks)}
    overall = {"warehouse_id": None, "counts": [0] * len(weeks), "totals": [0] * len(weeks)}
    series: dict[int | None, dict] = {}
    for wid, raw_day, n, s in db.session.execute(
            select(OutboundOrder.warehouse_id, day, func.count(), func.sum(OrderFeedback.rating))
            .select_from(OrderFeedback).outerjoin(OutboundOrder, took_part).where(recent)
            .group_by(OutboundOrder.warehouse_id, day)):
        i = index.get(_monday(date.fromisoformat(str(raw_day)[:10])))
        if i is None:
            continue
        line = series.setdefault(wid, {"warehouse_id": wid, "counts": [0] * len(weeks), "totals": [0] * len(weeks)})
        line["counts"][i] += n
        line["totals"][i] += int(s or 0)
    for raw_day, n, s in db.session.execute(select(day, func.count(), func.sum(OrderFeedback.rating))
                                            .where(recent).group_by(day)):
        i = index.get(_monday(date.fromisoformat(str(raw_day)[:10])))
        if i is not None:
            overall["counts"][i] += n
            overall["totals"][i] += int(s or 0)

    def _line(raw: dict) -> dict:
        wid = raw["warehouse_id"]
        return {"warehouse_id": wid, "name": names.get(wid) if wid else None, "counts": raw["counts"],
                "averages": [_average(t, n) for t, n in zip(raw["totals"], raw["counts"], strict=True)]}

    return {"days": days, "since": _iso(since), "count": count, "average": _average(int(total), count),
            "warehouses": warehouses, "weeks": [w.isoformat() for w in weeks], "overall": _line(overall),
            "series": [_line(series[w["id"]]) for w in warehouses if w["id"] in series]}
