"""The computation of a shop's series: demand history -> forecast -> cover -> restock suggestion.

Batched: the series are read in chunks of ``CHUNK`` (ordered by SKU, then warehouse: a chunk
holds every warehouse of its SKUs, which the transfer plan compares), each chunk's histories in
one grouped query (a range of the (warehouse, sku, day) index for a full run, the chunk's keys for
an incremental one; :mod:`.histories`), the policy runs over the chunk as one matrix
(:mod:`integration.domain.replenishment_batch`), and the results go back with one update per
chunk. A run clears ``dirty`` only on series not marked again since it started.
Running it twice writes the same rows (suggestions: see :mod:`.suggestions`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import bindparam, case, func, literal, select, true, update

from integration.domain import replenishment
from integration.domain.replenishment_batch import plan_orders
from integration.extensions import db
from integration.insights import demand, sensing, suggestions
from integration.insights.demand import HISTORY_DAYS, Key, chunked
from integration.insights.histories import chunk_filters, read_histories
from integration.insights.planning_input import LeadTimes, lead_times
from integration.models import DemandDay, InsightSeries, Promotion, RestockSuggestion, StockLevel, Warehouse
from integration.models.base import utcnow
from integration.models.upsert import insert, unnested

CHUNK = 5000
REVIEW_DAYS = 7  # the merchant looks at the suggestions about weekly
SERVICE_LEVEL = 0.95
RECENT_DAYS = 14  # "recent" demand, against the forecast's baseline (demand shifts)


@dataclass
class Stats:
    series: int = 0
    demand_rows: int = 0
    suggestions: dict = field(default_factory=lambda: {"opened": 0, "superseded": 0, "kept": 0})
    sensed: dict = field(default_factory=lambda: defaultdict(int))

    def as_dict(self) -> dict:
        return {"series": self.series, "demand_rows": self.demand_rows, **self.suggestions,
                **{k: v for k, v in self.sensed.items() if k != "series"}}


@dataclass(frozen=True)
class Context:
    """What every series of the shop shares, read once per run."""

    shop_id: int
    today: date
    started: datetime
    countries: dict[int, str]
    stopped: set[tuple[str, str]]
    lead: LeadTimes
    promotions: list
    ordered: dict[Key, int]  # approved suggestions' units not yet shipped
    level_index: float | None  # the shop's season: pooled recent demand over its trailing level


def compute_insights(shop_id: int, only_dirty: bool, *, today: date | None = None) -> Stats:
    """Compute the shop's dirty series (``only_dirty``) or all of them; commits per chunk."""
    today = today or demand.utc_today()
    stats = Stats()
    if not only_dirty:
        _ensure_series(shop_id)
        db.session.commit()
    # Read once: the rebuild changes no series row (one created meanwhile is dirty: the next run's).
    series = series_to_compute(shop_id, only_dirty)
    if not only_dirty:
        # The last days of every series computed before, rebuilt a chunk at a time (bounded
        # memory), all before the shop's level index reads them.
        for chunk in chunked(series, CHUNK):
            known = [(r.warehouse_id, r.sku) for r in chunk if r.computed_at is not None]
            if known:
                stats.demand_rows += demand.rebuild(shop_id, today - timedelta(days=demand.REFRESH_DAYS), today,
                                                    known, today=today)
            db.session.commit()
    ctx = context(shop_id, today)
    for chunk in chunked(series, CHUNK):
        # A series never computed gets its whole history (a new SKU, or the first run of a shop);
        # a dirty one its recent days (the nightly run rebuilt those of every series already).
        new = [(r.warehouse_id, r.sku) for r in chunk if r.computed_at is None]
        if new:
            stats.demand_rows += demand.rebuild(shop_id, today - timedelta(days=HISTORY_DAYS), today, new,
                                                today=today)
        changed = [(r.warehouse_id, r.sku) for r in chunk if r.computed_at is not None] if only_dirty else []
        if changed:
            stats.demand_rows += demand.rebuild(shop_id, today - timedelta(days=demand.REFRESH_DAYS), today, changed,
                                                today=today)
        sensed = _compute_chunk(ctx, chunk, ranged=not only_dirty, stats=stats)
        # Shifts, stock alerts and transfers read the forecast and availability just written, in
        # the same transaction: a crash leaves the chunk dirty and both parts are done again.
        for key, count in sensing.sense_shop(shop_id, [r.id for r in chunk], today=today,
                                             histories=([r.id for r in chunk], sensed)).items():
            stats.sensed[key] += count
        db.session.commit()
    return stats


def context(shop_id: int, today: date) -> Context:
    return Context(shop_id, today, utcnow(), _countries(shop_id), suggestions.stopped(shop_id),
                   lead_times(shop_id), _upcoming_promotions(shop_id, today),
                   suggestions.approved_not_shipped(shop_id), _level_index(shop_id, today))


def _level_index(shop_id: int, today: date) -> float | None:
    """The shop's level index (:func:`replenishment.level_index`) over its pooled net demand per
    day, every SKU and warehouse, promotion days left out (their uplift is declared separately).
    Its history starts at its first day with demand rows: a new shop's missing past is not zero."""
    first = today - timedelta(days=replenishment.INDEX_TRAILING_DAYS)
    net = case((DemandDay.units > DemandDay.cancelled, DemandDay.units - DemandDay.cancelled), else_=0)
    rows = db.session.execute(select(DemandDay.day, func.sum(net)).where(
        DemandDay.shop_id == shop_id, DemandDay.day >= first, DemandDay.day < today,
        DemandDay.promo.is_(False)).group_by(DemandDay.day)).all()
    if not rows:
        return None
    start = min(day for day, _ in rows)
    pooled = [0.0] * (today - start).days
    for day, units in rows:
        pooled[(day - start).days] = float(units or 0)
    return replenishment.level_index(pooled)


def series_to_compute(shop_id: int, only_dirty: bool) -> list:
    """(id, warehouse_id, sku, created_at, computed_at) of the shop's (dirty) series, by SKU and
    warehouse."""
    query = select(InsightSeries.id, InsightSeries.warehouse_id, InsightSeries.sku, InsightSeries.created_at,
                   InsightSeries.computed_at).where(
        InsightSeries.shop_id == shop_id)
    if only_dirty:
        query = query.where(InsightSeries.dirty.is_(True))
    series = db.session.execute(query.order_by(InsightSeries.sku, InsightSeries.warehouse_id)).all()
    db.session.commit()
    return series


def _ensure_series(shop_id: int) -> None:
    """Every stocked SKU x warehouse has a series (new ones dirty); existing ones are untouched."""
    table = InsightSeries.__table__
    now = utcnow()
    source = select(StockLevel.shop_id, StockLevel.warehouse_id, StockLevel.sku, true(), literal(0.0), literal(0.0),
                    literal(0), literal(0.0), literal(0.0), literal(now, InsightSeries.created_at.type),
                    literal(now, InsightSeries.updated_at.type)).where(StockLevel.shop_id == shop_id)
    columns = ["shop_id", "warehouse_id", "sku", "dirty", "forecast_daily", "forecast_sd", "available",
               "baseline_daily", "recent_daily", "created_at", "updated_at"]
    db.session.execute(insert(table).from_select(columns, source).on_conflict_do_nothing(
        index_elements=["warehouse_id", "sku"]))


def _countries(shop_id: int) -> dict[int, str]:
    return {w: c for w, c in db.session.execute(select(Warehouse.id, Warehouse.country_code).where(
        Warehouse.shop_id == shop_id))}


def _upcoming_promotions(shop_id: int, today: date) -> list:
    return list(db.session.execute(select(Promotion.sku, Promotion.warehouse_id, Promotion.starts_on,
                                          Promotion.ends_on, Promotion.uplift_pct).where(
        Promotion.shop_id == shop_id, Promotion.ends_on >= today)).all())


def _uplift(ctx: Context, key: Key, horizon: int) -> float:
    end = ctx.today + timedelta(days=horizon)
    best = 0
    for sku, warehouse_id, starts_on, ends_on, pct in ctx.promotions:
        if (sku is None or sku == key[1]) and (warehouse_id is None or warehouse_id == key[0]) \
                and starts_on <= end and ends_on >= ctx.today:
            best = max(best, pct)
    return best / 100.0


def _compute_chunk(ctx: Context, chunk, *, ranged: bool, stats: Stats) -> np.ndarray:
    """Compute and write the chunk's series; returns their histories as sensing reads them."""
    found = read_histories(ctx.shop_id, ctx.today, chunk, ranged)
    levels = {}
    connection = db.session.connection()
    for condition in chunk_filters(StockLevel, chunk, ranged):
        for w, s, on_hand, reserved, inbound in connection.execute(select(
                StockLevel.warehouse_id, StockLevel.sku, StockLevel.on_hand, StockLevel.reserved, StockLevel.inbound
        ).where(StockLevel.shop_id == ctx.shop_id, condition)).all():
            levels[(w, s)] = (on_hand, reserved, inbound)
    keys = [(row.warehouse_id, row.sku) for row in chunk]
    stock = np.array([levels.get(key, (0, 0, 0)) for key in keys], dtype=np.int64).reshape(-1, 3)
    stock[:, 2] += [ctx.ordered.get(key, 0) for key in keys]  # approved, not yet shipped: inbound too
    lead = np.array([ctx.lead.days(*key) for key in keys], dtype=np.int64)
    uplift = np.array([_uplift(ctx, key, int(days) + REVIEW_DAYS) for key, days in zip(keys, lead, strict=True)])
    days = found.policy_days()
    plans = plan_orders(days, found.starts, stock[:, 0], stock[:, 1], stock[:, 2], lead, REVIEW_DAYS, SERVICE_LEVEL,
                        uplift, today=ctx.today, level_index=ctx.level_index)
    recent = days[:, -RECENT_DAYS:]
    known = (~np.isnan(recent)).sum(axis=1)
    recent_daily = np.where(known > 0, np.nansum(recent, axis=1) / np.maximum(known, 1), 0.0)
    rows, wanted = [], {}
    for i, key in enumerate(keys):
        daily, available = float(plans.daily[i]), int(stock[i, 0] - stock[i, 1])
        rows.append({"id": chunk[i].id, "forecast_daily": daily, "forecast_sd": float(plans.sd[i]),
                     "available": available, "days_of_cover": (max(available, 0) / daily) if daily > 0 else None,
                     "baseline_daily": daily, "recent_daily": float(recent_daily[i])})
        if (key[1], ctx.countries.get(key[0], "")) in ctx.stopped:
            wanted[key] = None  # the test sale said stop: never restock it in that market
        elif plans.quantity[i] > 0:
            wanted[key] = suggestions.Wanted(int(plans.quantity[i]), int(plans.order_up_to[i]), plans.order_by[i],
                                             daily, int(lead[i]))
        else:
            wanted[key] = None
    _write_series(ctx, rows)
    current = suggestions.open_rows(ctx.shop_id, chunk_filters(RestockSuggestion, chunk, ranged))
    for name, count in suggestions.apply(ctx.shop_id, wanted, current).items():
        stats.suggestions[name] += count
    stats.series += len(rows)
    return found.sensing_days(sensing.HISTORY_DAYS)


SERIES_VALUES = ("forecast_daily", "forecast_sd", "available", "days_of_cover", "baseline_daily", "recent_daily")


def _write_series(ctx: Context, rows: list[dict]) -> None:
    """Update the computed series by id (they exist: the run read them). On PostgreSQL one
    statement per chunk joins the values as arrays (:func:`unnested`); elsewhere an executemany."""
    if not rows:
        return
    table = InsightSeries.__table__
    # Marked again while this run read the old data: stays dirty for the next run.
    dirty = case((table.c.updated_at > ctx.started, True), else_=False)
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        source = select(*(unnested(name, [r[name] for r in rows], table.c[name].type)
                          for name in ("id", *SERIES_VALUES))).subquery("v")
        connection.execute(update(table).where(table.c.id == source.c.id).values(
            computed_at=ctx.started, dirty=dirty, updated_at=table.c.updated_at,
            **{name: source.c[name] for name in SERIES_VALUES}))
        return
    connection.execute(update(table).where(table.c.id == bindparam("series_id")).values(
        computed_at=ctx.started, dirty=dirty, updated_at=table.c.updated_at,
        **{name: bindparam(f"new_{name}") for name in SERIES_VALUES}),
        [{"series_id": r["id"], **{f"new_{name}": r[name] for name in SERIES_VALUES}} for r in rows])
