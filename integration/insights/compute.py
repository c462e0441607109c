"""The computation of a shop's series: demand history -> forecast -> cover -> restock suggestion.

Batched: the series are read in chunks of ``CHUNK`` (ordered by warehouse and SKU), each chunk's
histories in one query (a range of the (warehouse, sku, day) index for a full run, the chunk's
keys for an incremental one), the policy runs in Python, and the results go back with one bulk
upsert per chunk. A run clears ``dirty`` only on series not marked again since it started.
Running it twice writes the same rows (suggestions: see :mod:`.suggestions`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, literal, or_, select, true, tuple_

from integration.domain import replenishment
from integration.extensions import db
from integration.insights import demand, sensing, suggestions
from integration.insights.demand import HISTORY_DAYS, Key, chunked
from integration.insights.planning_input import LeadTimes, lead_times
from integration.models import DemandDay, InsightSeries, Promotion, RestockSuggestion, StockLevel, Warehouse
from integration.models.base import utcnow
from integration.models.upsert import insert

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
        stats.demand_rows += demand.rebuild(shop_id, today - timedelta(days=demand.REFRESH_DAYS), today,
                                            today=today)
        db.session.commit()
    ctx = context(shop_id, today)
    for chunk in chunked(series_to_compute(shop_id, only_dirty), CHUNK):
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
        for key, count in sensing.sense_shop(shop_id, [r.id for r in chunk], today=today, histories=sensed).items():
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
    """(id, warehouse_id, sku, created_at, computed_at) of the shop's (dirty) series, by warehouse
    and SKU."""
    query = select(InsightSeries.id, InsightSeries.warehouse_id, InsightSeries.sku, InsightSeries.created_at,
                   InsightSeries.computed_at).where(
        InsightSeries.shop_id == shop_id)
    if only_dirty:
        query = query.where(InsightSeries.dirty.is_(True))
    series = db.session.execute(query.order_by(InsightSeries.warehouse_id, InsightSeries.sku)).all()
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


def chunk_filters(model, chunk, ranged: bool) -> list:
    """Conditions selecting the rows of the chunk's series: per warehouse, the chunk's SKU range
    (DB order, as read: a full run, every series in it is wanted) or the keys themselves (an
    incremental run), 500 a statement. Rows of series outside the chunk are skipped by callers."""
    if not ranged:
        return [tuple_(model.warehouse_id, model.sku).in_(part)
                for part in chunked([(r.warehouse_id, r.sku) for r in chunk])]
    bounds: dict[int, list[str]] = {}
    for row in chunk:
        bounds.setdefault(row.warehouse_id, [row.sku, row.sku])[1] = row.sku
    return [or_(*(and_(model.warehouse_id == w, model.sku >= lo, model.sku <= hi) for w, (lo, hi) in bounds.items()))]


Day = tuple[float, bool, bool]  # net demand (never negative), censored, promo


def read_histories(ctx: Context, chunk, ranged: bool) -> dict[Key, dict[date, Day]]:
    first = ctx.today - timedelta(days=HISTORY_DAYS)
    query = select(DemandDay.warehouse_id, DemandDay.sku, DemandDay.day, DemandDay.units - DemandDay.cancelled,
                   DemandDay.censored, DemandDay.promo).where(
        DemandDay.shop_id == ctx.shop_id, DemandDay.day >= first, DemandDay.day < ctx.today)
    found: dict[Key, dict[date, Day]] = defaultdict(dict)
    for condition in chunk_filters(DemandDay, chunk, ranged):
        for warehouse_id, sku, day, net, censored, promo in fetch_rows(query.where(condition)):
            found[(warehouse_id, sku)][day] = (float(max(net, 0)), censored, promo)
    return found


def policy_days(days: dict[date, Day]) -> dict[date, float | None]:
    """The days as the forecast reads them: a censored day's demand is unknown, a promotion's is
    not the baseline: both skipped (None)."""
    return {day: None if (censored or promo) else net for day, (net, censored, promo) in days.items()}


def sensing_history(days: dict[date, Day], today: date) -> list[float | None]:
    """The days as :mod:`.sensing` reads them (its :func:`~.sensing.demand_histories`, from the
    rows already read): the last ``sensing.HISTORY_DAYS`` days, censored ones None."""
    start = today - timedelta(days=sensing.HISTORY_DAYS)
    history: list[float | None] = [0.0] * sensing.HISTORY_DAYS
    for day, (net, censored, _promo) in days.items():
        index = (day - start).days
        if 0 <= index < sensing.HISTORY_DAYS:
            history[index] = None if censored else net
    return history


def fetch_rows(statement) -> list[tuple]:
    """All rows of ``statement`` in the session's transaction. On PostgreSQL straight from the
    driver's cursor: the nightly run reads millions of history rows, and SQLAlchemy's per-row
    result handling costs more than the database there (the selected columns need no conversion
    that psycopg does not do itself)."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return list(connection.execute(statement).all())
    compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    with connection.connection.driver_connection.cursor() as cursor:
        return cursor.execute(str(compiled), compiled.params).fetchall()


def history_of(days: dict[date, float | None], start: date, today: date) -> list[float | None]:
    """Net demand per day from the series' first known day (its first row, or its creation day if
    earlier) to yesterday: days before it are not history (the SKU may not have been stocked)."""
    known = min(start, min(days)) if days else start
    first = max(known, today - timedelta(days=HISTORY_DAYS))
    history: list[float | None] = [0.0] * (today - first).days
    for day, value in days.items():
        index = (day - first).days
        if 0 <= index < len(history):
            history[index] = value
    return history


def _uplift(ctx: Context, key: Key, horizon: int) -> float:
    end = ctx.today + timedelta(days=horizon)
    best = 0
    for sku, warehouse_id, starts_on, ends_on, pct in ctx.promotions:
        if (sku is None or sku == key[1]) and (warehouse_id is None or warehouse_id == key[0]) \
                and starts_on <= end and ends_on >= ctx.today:
            best = max(best, pct)
    return best / 100.0


def _compute_chunk(ctx: Context, chunk, *, ranged: bool, stats: Stats) -> dict[int, list[float | None]]:
    """Compute and write the chunk's series; returns their histories as sensing reads them."""
    histories = read_histories(ctx, chunk, ranged)
    sensed = {row.id: sensing_history(histories.get((row.warehouse_id, row.sku), {}), ctx.today) for row in chunk}
    levels = {}
    connection = db.session.connection()
    for condition in chunk_filters(StockLevel, chunk, ranged):
        for w, s, on_hand, reserved, inbound in connection.execute(select(
                StockLevel.warehouse_id, StockLevel.sku, StockLevel.on_hand, StockLevel.reserved, StockLevel.inbound
        ).where(StockLevel.shop_id == ctx.shop_id, condition)).all():
            levels[(w, s)] = (on_hand, reserved, inbound)
    ordered = ctx.ordered
    rows, wanted = [], {}
    for row in chunk:
        key = (row.warehouse_id, row.sku)
        history = history_of(policy_days(histories.get(key, {})), row.created_at.date(), ctx.today)
        on_hand, reserved, inbound = levels.get(key, (0, 0, 0))
        inbound += ordered.get(key, 0)
        fc = replenishment.forecast(history)
        recent = [v for v in history[-RECENT_DAYS:] if v is not None]
        available = on_hand - reserved
        rows.append({"shop_id": ctx.shop_id, "warehouse_id": key[0], "sku": key[1], "computed_at": ctx.started,
                     "forecast_daily": float(fc.daily), "forecast_sd": float(fc.sd), "available": available,
                     "days_of_cover": (max(available, 0) / fc.daily) if fc.daily > 0 else None,
                     "baseline_daily": float(fc.daily),
                     "recent_daily": (sum(recent) / len(recent)) if recent else 0.0})
        lead = ctx.lead.days(key[0], key[1])
        if (key[1], ctx.countries.get(key[0], "")) in ctx.stopped:
            wanted[key] = None  # the test sale said stop: never restock it in that market
            continue
        plan = replenishment.plan_order(history, on_hand, reserved, inbound, lead, REVIEW_DAYS, SERVICE_LEVEL,
                                        uplift=_uplift(ctx, key, lead + REVIEW_DAYS), today=ctx.today,
                                        level_index=ctx.level_index)
        wanted[key] = suggestions.Wanted(plan.quantity, plan.order_up_to, plan.order_by, float(fc.daily), lead) \
            if plan.quantity > 0 else None
    _write_series(ctx, rows)
    current = suggestions.open_rows(ctx.shop_id, chunk_filters(RestockSuggestion, chunk, ranged))
    for name, count in suggestions.apply(ctx.shop_id, wanted, current).items():
        stats.suggestions[name] += count
    stats.series += len(rows)
    return sensed


def _write_series(ctx: Context, rows: list[dict]) -> None:
    if not rows:
        return
    statement = insert(InsightSeries)
    values = ("computed_at", "forecast_daily", "forecast_sd", "available", "days_of_cover", "baseline_daily",
              "recent_daily")
    table = InsightSeries.__table__
    statement = statement.on_conflict_do_update(
        index_elements=["warehouse_id", "sku"],
        set_={**{name: statement.excluded[name] for name in values},
              # Marked again while this run read the old data: stays dirty for the next run.
              "dirty": case((table.c.updated_at > ctx.started, True), else_=False)})
    # executemany: one cached statement, sent in batches of VALUES (SQLAlchemy's insertmanyvalues).
    db.session.execute(statement, [{**r, "dirty": False, "created_at": ctx.started, "updated_at": ctx.started}
                                   for r in rows])

