"""Which series (SKU x warehouse) changed since they were computed, and the debounced job that
computes them.

* ``order_changed`` runs in the order's transaction: one INSERT … SELECT … ON CONFLICT marks the
  series of the order's allocations dirty (creating them when new), and the job is scheduled
  after the commit.
* ``warehouse_stock_changed`` runs in the ledger's after-commit hook, where no SQL may be sent:
  the SKUs go to a Redis set, which the job flushes into ``insight_series.dirty`` first.

A mark sets ``updated_at``; the computation clears ``dirty`` only on series not marked again
since it started, so a change that lands while it runs is computed by the next run. A lost job or
Redis set is healed by the nightly run, which computes every series.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from redis.exceptions import RedisError
from sqlalchemy import literal, select, true

from integration import job_catalog, signals
from integration.extensions import db, queues, redis
from integration.insights.demand import chunked
from integration.models import Allocation, InsightSeries, StockLevel
from integration.models.base import utcnow
from integration.models.upsert import insert

log = structlog.get_logger(__name__)

DEBOUNCE_SECONDS = 60  # a burst of orders and stock moves becomes one computation
PENDING_TTL = 900  # a lost job stops blocking new ones after this
PREFIX = "nearstock:insights"


def _key(kind: str, shop_id: int) -> str:
    return f"{PREFIX}:{kind}:{{{shop_id}}}"


def _mark_from(rows) -> int | None:
    """INSERT the series ``rows`` selects (shop_id, warehouse_id, sku) as dirty; mark existing ones.
    Returns the shop id of a marked series (None when there was none)."""
    now = utcnow()
    table = InsightSeries.__table__
    columns = ["shop_id", "warehouse_id", "sku", "dirty", "forecast_daily", "forecast_sd", "available",
               "baseline_daily", "recent_daily", "created_at", "updated_at"]
    source = rows.add_columns(true(), literal(0.0), literal(0.0), literal(0), literal(0.0), literal(0.0),
                              literal(now, InsightSeries.created_at.type), literal(now, InsightSeries.updated_at.type))
    statement = insert(table).from_select(columns, source)
    return db.session.execute(statement.on_conflict_do_update(
        index_elements=["warehouse_id", "sku"], set_={"dirty": True, "updated_at": now})
        .returning(table.c.shop_id)).scalars().first()


def mark_order(order_id: int) -> int | None:
    """The series of an order's allocations are dirty (caller's transaction); returns the shop id
    when it had any."""
    return _mark_from(select(Allocation.shop_id, Allocation.warehouse_id, Allocation.sku).where(
        Allocation.order_id == order_id, Allocation.warehouse_id.is_not(None)).distinct())


def mark_skus(shop_id: int, skus: Iterable[str]) -> None:
    """Every series of these SKUs at the shop's stocked warehouses is dirty (caller commits)."""
    for chunk in chunked(sorted({s for s in skus if s})):
        _mark_from(select(StockLevel.shop_id, StockLevel.warehouse_id, StockLevel.sku).where(
            StockLevel.shop_id == shop_id, StockLevel.sku.in_(chunk)))
        db.session.execute(InsightSeries.__table__.update().where(
            InsightSeries.shop_id == shop_id, InsightSeries.sku.in_(chunk)).values(dirty=True, updated_at=utcnow()))


def mark_shop(shop_id: int, *, sku: str | None = None, warehouse_id: int | None = None) -> None:
    """The shop's series (of one SKU and/or warehouse) are dirty: a promotion or lead time changed."""
    statement = InsightSeries.__table__.update().where(InsightSeries.shop_id == shop_id)
    if sku is not None:
        statement = statement.where(InsightSeries.sku == sku)
    if warehouse_id is not None:
        statement = statement.where(InsightSeries.warehouse_id == warehouse_id)
    db.session.execute(statement.values(dirty=True, updated_at=utcnow()))


# -- receivers (integration/wiring.py) ------------------------------------------------------------


def on_order_changed(order_id: int, **_: object) -> None:
    shop_id = mark_order(order_id)  # one statement on the order's path
    if shop_id is not None:
        signals.on_commit(db.session(), lambda: _schedule_quietly(shop_id))


def on_stock_changed(shop_id: int, skus: Iterable[str], **_: object) -> None:
    """After the ledger's commit: Redis only."""
    skus = sorted({s for s in skus if s})
    if not skus:
        return
    try:
        redis.client.sadd(_key("skus", shop_id), *skus)
        schedule(shop_id)
    except RedisError as exc:  # the nightly run computes every series anyway
        log.error("insights.schedule_failed", shop_id=shop_id, error=repr(exc))


def _schedule_quietly(shop_id: int) -> None:
    try:
        schedule(shop_id)
    except RedisError as exc:
        log.error("insights.schedule_failed", shop_id=shop_id, error=repr(exc))


def schedule(shop_id: int) -> bool:
    """Enqueue the shop's incremental computation in ``DEBOUNCE_SECONDS`` unless one is pending."""
    client = redis.client
    if not client.set(_key("pending", shop_id), "1", nx=True, ex=PENDING_TTL):
        return False
    seq = client.incr(_key("seq", shop_id))
    queues.enqueue_in(DEBOUNCE_SECONDS, "low", job_catalog.COMPUTE_INSIGHTS, shop_id, True,
                      job_id=job_catalog.compute_insights_id(shop_id, seq))
    return True


def flush(shop_id: int) -> int:
    """Release the pending flag (a change from now on schedules another run), then move the Redis
    SKUs into ``dirty`` and commit before removing them from Redis (a crash keeps them)."""
    client = redis.client
    client.delete(_key("pending", shop_id))
    skus = sorted(s.decode() if isinstance(s, bytes) else s for s in client.smembers(_key("skus", shop_id)))
    if skus:
        mark_skus(shop_id, skus)
        db.session.commit()
        client.srem(_key("skus", shop_id), *skus)
    return len(skus)
