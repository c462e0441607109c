"""Insights: the nightly computation of every SKU x warehouse series of a shop, and the
incremental run after 1 % of them changed.

Set-up (in this process, not timed): one shop, 10 warehouses x N/10 SKUs = N series (100,000;
``--quick`` 10,000) with a ledger row each (a tenth of them sold out), computed once before, and
120 days of demand history bulk-inserted (``COPY`` on PostgreSQL): a sale on about a third of the
days, a stock-out run (censored days) in one series of twenty, a tenth sold out (censored since),
a genuine shift in 1.5 %; the last 14 days also as orders, which the nightly run rebuilds them
from (see :func:`seed`).

1. Baseline: reading every series' history alone (the computation's own chunked queries).
2. ``compute_insights(shop, only_dirty=False)``: the nightly run (series rows, demand rebuild of
   the last 14 days, forecast and plan per series, bulk upserts, restock suggestions).
3. 1 % of the series change (ledger + ``warehouse_stock_changed``, as the stock engine sends it),
   then ``compute_insights(shop, only_dirty=True)`` after flushing the marks: the incremental run.

The info line also scores sensing: the series that raised a shift, and how many of the seeded
genuine shifts are among them (most sit on slow series that no test can tell from noise).

Targets: nightly <= 60 s and <= 500 MB RSS at 100k series on PostgreSQL. The last line:
``elapsed_s`` (nightly), ``incremental_s``, ``rss_mb`` (peak of this process), ``ratio``
(nightly / baseline read), ``errors`` (series left dirty, duplicate open suggestions).

    python bench/insights.py [--quick] [--database-url postgresql://...]

Without ``--database-url``: a fresh database on the local PostgreSQL (127.0.0.1:5432, user
postgres) when it answers, dropped afterwards; else SQLite, with a note.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import bench_env, embedded_redis_url, figures, prepare_database

WAREHOUSES = 10
DAYS = 120
LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/"


@contextmanager
def database(url: str, instance: str):
    """The given URL, or a throwaway PostgreSQL database, or SQLite."""
    if url:
        yield url, None
        return
    from sqlalchemy import create_engine, text

    name = f"nearstock_bench_insights_{os.getpid()}"
    try:
        admin = create_engine(LOCAL_PG + "postgres", isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no PostgreSQL here
        yield f"sqlite:///{instance}/bench.sqlite3", f"PostgreSQL not reachable ({type(exc).__name__}): SQLite"
        return
    try:
        yield LOCAL_PG + name, None
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def rss_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(series: int, today: date) -> tuple[int, set[tuple[int, str]]]:
    """The shop, its warehouses, ledger, stock history, orders and demand history; returns the
    shop id. What the nightly run finds in production after running the night before:

    * ``demand_daily`` for every day up to the day before yesterday (the older days as the runs
      of those nights left them; the recent ones as last night's rebuild computed them);
    * orders (Shopify, allocated to the warehouse; 3 lines an order, 2 % of lines cancelled) for
      the last ``REFRESH_DAYS`` days, which the nightly run rebuilds from: yesterday's are new;
    * ``stock_daily``: each series' closing count before that window and on every day it changed;
    * sold out (a tenth of the ledger): the last sale 1-10 days ago, censored since; an older
      stock-out run in one series of twenty; a genuine shift in the last two weeks in 1.5 % of
      the series (1 % rise x1.6, 0.5 % fall x0.4); everything else sells as before.
    """
    import json

    import numpy as np
    from sqlalchemy import text

    from integration.extensions import db
    from integration.insights.demand import REFRESH_DAYS
    from integration.models import (
        Allocation,
        DemandDay,
        InsightSeries,
        Order,
        OrderLine,
        Shop,
        StockDaily,
        StockLevel,
        Warehouse,
        WarehouseAccount,
    )

    token = "shpat_bench"  # never used: nothing calls Shopify here
    shop = Shop(domain="bench.myshopify.com", access_token=token, status="installed", currency="EUR")
    db.session.add(shop)
    db.session.flush()
    account = WarehouseAccount(shop_id=shop.id, provider="winit", name="W", credentials=json.dumps({"k": "v"}))
    db.session.add(account)
    db.session.flush()
    warehouses = [Warehouse(shop_id=shop.id, account_id=account.id, code=f"W{i}", name=f"W{i}",
                            country_code=("DE", "FR", "US", "GB", "JP")[i % 5]) for i in range(WAREHOUSES)]
    db.session.add_all(warehouses)
    db.session.commit()
    shop_id, warehouse_ids = shop.id, [w.id for w in warehouses]
    per = series // WAREHOUSES
    skus = [f"SKU-{n:06d}" for n in range(per)]
    keys = [(w, sku) for w in warehouse_ids for sku in skus]  # series index -> key

    rng = np.random.default_rng(22)
    n, old, recent = len(keys), DAYS - REFRESH_DAYS, REFRESH_DAYS
    units = np.zeros((n, DAYS), dtype=np.int8)  # small types: this process's peak RSS is measured
    censored = np.zeros((n, DAYS), dtype=bool)
    on_hand = rng.integers(1, 401, n)
    sold_out = rng.random(n) < 0.1
    on_hand[sold_out] = 0
    sell_out_day = DAYS - rng.integers(1, 11, n)  # the last unit went 1-10 days ago (sold-out series)
    genuine = set()  # the seeded shifts' series, to score what sensing raises
    for first in range(0, n, 10000):
        part = slice(first, min(first + 10000, n))
        rows = part.stop - part.start
        rate = rng.choice([0.1, 0.3, 0.6], rows)
        shift = rng.random(rows)  # the genuine shifts: the last two weeks sell more (less) often
        genuine.update(keys[first + i] for i in np.flatnonzero(shift < 0.015))
        rate = np.stack([rate] * old + [rate * np.where(shift < 0.01, 1.6, np.where(shift < 0.015, 0.4, 1.0))] * recent,
                        axis=1)
        units[part] = np.where(rng.random((rows, DAYS)) < rate, rng.integers(1, 7, (rows, DAYS)), 0)
    for i, start, stop in zip(np.flatnonzero(rng.random(n) < 0.05), rng.integers(10, 70, n), rng.integers(80, 110, n),
                              strict=False):  # an older stock-out run in one series of twenty
        censored[i, start:min(stop, old)] = True
    for i in np.flatnonzero(sold_out):
        units[i, sell_out_day[i]] = max(units[i, sell_out_day[i]], 1)  # the sale that took the last unit
        censored[i, sell_out_day[i] + 1:] = True  # nothing to sell since
    units[censored] = 0
    cancelled = np.where(rng.random((n, recent)) < 0.02, units[:, old:], 0).astype(np.int8)
    cancelled[sold_out, sell_out_day[sold_out] - old] = 0

    now = datetime.combine(today - timedelta(days=1), datetime.min.time(), UTC)
    load(StockLevel, ("shop_id", "warehouse_id", "sku", "on_hand", "reserved", "inbound"),
         ((shop_id, w, sku, int(on_hand[i]), 0, 0) for i, (w, sku) in enumerate(keys)))
    # An established shop: every series computed before (yesterday); a never-computed series
    # would have its whole history rebuilt from orders.
    load(InsightSeries, ("shop_id", "warehouse_id", "sku", "dirty", "computed_at", "forecast_daily", "forecast_sd",
                         "available", "baseline_daily", "recent_daily", "created_at", "updated_at"),
         ((shop_id, w, sku, False, now, 0.0, 0.0, 0, 0.0, 0.0, now, now) for w, sku in keys))

    days = [today - timedelta(days=back) for back in range(DAYS, 0, -1)]
    # The closing count before the rebuilt window, then on each day it changed: sales take it
    # down to today's ledger count (no restock in the window; a sold-out series hit 0 and stayed).
    net = units[:, old - 1:].astype(np.int32)  # from the day before the window on
    net[:, 1:] -= cancelled
    closing = on_hand[:, None] + np.cumsum(net[:, ::-1], axis=1)[:, ::-1] - net  # + what sold after the day

    def stock_rows():
        for i, (w, sku) in enumerate(keys):
            yield shop_id, w, sku, days[old - 2], int(closing[i, 0] + net[i, 0]), 0, 0
            for d in range(old, DAYS):
                if net[i, d - old + 1]:
                    yield shop_id, w, sku, days[d], int(closing[i, d - old + 1]), 0, 0

    load(StockDaily, ("shop_id", "warehouse_id", "sku", "day", "on_hand", "reserved", "inbound"), stock_rows())

    def demand_rows():  # up to the day before yesterday: yesterday's is the nightly run's
        for i, (w, sku) in enumerate(keys):
            for d in np.flatnonzero(units[i, :DAYS - 1] | censored[i, :DAYS - 1]):
                gone = int(cancelled[i, d - old]) if d >= old else 0
                yield shop_id, w, sku, days[d], int(units[i, d]), gone, bool(censored[i, d]), False

    load(DemandDay, ("shop_id", "warehouse_id", "sku", "day", "units", "cancelled", "censored", "promo"),
         demand_rows())

    orders = []  # 3 lines (SKUs of one day) an order
    for d in range(old, DAYS):
        lines = [(d, i) for i in np.flatnonzero(units[:, d])]
        orders.extend(lines[k:k + 3] for k in range(0, len(lines), 3))
    at = [datetime.combine(days[group[0][0]], datetime.min.time(), UTC) + timedelta(seconds=int(s))
          for group, s in zip(orders, rng.integers(0, 86400, len(orders)), strict=True)]
    load(Order, ("id", "shop_id", "channel", "external_id", "name", "currency", "allocated_at",
                 "external_created_at", "created_at"),
         ((k + 1, shop_id, "shopify", str(900000 + k), f"#{1001 + k}", "EUR", at[k], at[k], at[k])
          for k in range(len(orders))))

    def line_rows(allocation: bool):
        line_id = 0
        for k, group in enumerate(orders):
            for d, i in group:
                line_id += 1
                w, sku = keys[i]
                if not allocation:
                    yield line_id, k + 1, str(line_id), sku, sku, int(units[i, d])
                    continue
                status = "cancelled" if cancelled[i, d - old] else "shipped" if d < DAYS - 2 else "reserved"
                yield shop_id, k + 1, line_id, w, sku, int(units[i, d]), status, "", "local", at[k], at[k]

    load(OrderLine, ("id", "order_id", "external_id", "sku", "name", "quantity"), line_rows(False))
    load(Allocation, ("shop_id", "order_id", "order_line_id", "warehouse_id", "sku", "quantity", "status", "reason",
                      "route_reason", "created_at", "updated_at"), line_rows(True))
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":  # rows given their own ids: the sequences follow
        connection.execute(text("SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders))"))
        connection.execute(text("SELECT setval(pg_get_serial_sequence('order_lines', 'id'), "
                                "(SELECT max(id) FROM order_lines))"))
    db.session.commit()
    if connection.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return shop_id, genuine


def load(model, columns: tuple[str, ...], rows) -> None:
    """Bulk-insert ``rows`` (tuples in ``columns`` order) in the session's transaction: ``COPY`` on
    PostgreSQL, batched executemany elsewhere."""
    from integration.extensions import db

    # The columns left out take their model defaults (timestamps, flags), as the ORM would give them.
    defaults = {c.name: (c.default.arg(None) if c.default.is_callable else c.default.arg)
                for c in model.__table__.columns
                if c.name not in columns and c.default is not None and (c.default.is_callable or c.default.is_scalar)}
    columns = (*columns, *defaults)
    rows = (row + tuple(defaults.values()) for row in rows)
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        batch = []
        for row in rows:
            batch.append(dict(zip(columns, row, strict=True)))
            if len(batch) == 20000:
                connection.execute(model.__table__.insert(), batch)
                batch = []
        if batch:
            connection.execute(model.__table__.insert(), batch)
        return

    def cell(value) -> str:
        if isinstance(value, bool):
            return "t" if value else "f"
        return value.isoformat() if isinstance(value, date) else str(value)

    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:
        # Seeding only (not timed): the rows are known consistent, so the per-row foreign key
        # triggers are skipped for this transaction (needs a superuser; ignored otherwise).
        try:
            cursor.execute("SAVEPOINT fk")
            cursor.execute("SET LOCAL session_replication_role = replica")
        except Exception:
            cursor.execute("ROLLBACK TO SAVEPOINT fk")
    with raw.cursor() as cursor, cursor.copy(f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for n, row in enumerate(rows):
            buffer.write("\t".join(map(cell, row)) + "\n")
            if n % 50000 == 49999:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def read_all(shop_id: int, today: date) -> int:
    """The baseline: every history, read as the computation reads it."""
    from integration.insights.compute import CHUNK, series_to_compute
    from integration.insights.demand import chunked
    from integration.insights.histories import read_histories

    found = 0
    for chunk in chunked(series_to_compute(shop_id, False), CHUNK):
        found += read_histories(shop_id, today, chunk, True).rows
    return found


def problems(shop_id: int) -> int:
    from sqlalchemy import func, select

    from integration.extensions import db
    from integration.models import InsightSeries, RestockSuggestion

    dirty = db.session.execute(select(func.count()).where(InsightSeries.shop_id == shop_id,
                                                          InsightSeries.dirty.is_(True))).scalar()
    open_rows = select(RestockSuggestion.warehouse_id, RestockSuggestion.sku, func.count().label("n")).where(
        RestockSuggestion.status == "open").group_by(RestockSuggestion.warehouse_id, RestockSuggestion.sku).subquery()
    duplicates = db.session.execute(select(func.count()).select_from(open_rows).where(open_rows.c.n > 1)).scalar()
    db.session.commit()
    return dirty + duplicates


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    series = 10_000 if args.quick else 100_000

    from integration import create_app
    from integration.config import Config

    with tempfile.TemporaryDirectory() as instance, embedded_redis_url() as redis_url, \
            database(args.database_url, instance) as (url, note):
        config = Config.from_env(bench_env(instance, url, redis_url, "bench"))
        prepare_database(config)
        app = create_app(config)
        with app.app_context():
            from sqlalchemy import select, update

            from integration import signals
            from integration.extensions import db
            from integration.insights import dirty
            from integration.insights.compute import compute_insights
            from integration.insights.demand import utc_today
            from integration.models import DemandShift, StockLevel

            today = utc_today()
            started = time.perf_counter()
            shop_id, genuine = seed(series, today)
            print(f"seeded: {series} series x {DAYS} days in {time.perf_counter() - started:.1f} s"
                  + (f" ({note})" if note else ""))

            read_all(shop_id, today)  # warm-up: the same pages in PostgreSQL's cache for both timings
            started = time.perf_counter()
            history_rows = read_all(shop_id, today)
            baseline = time.perf_counter() - started

            started = time.perf_counter()
            stats = compute_insights(shop_id, False, today=today)
            elapsed = time.perf_counter() - started
            raised = set(db.session.execute(select(DemandShift.warehouse_id, DemandShift.sku)
                                            .where(DemandShift.shop_id == shop_id)).tuples())

            changed = sorted(db.session.execute(select(StockLevel.sku).where(StockLevel.shop_id == shop_id)
                                                .distinct()).scalars())[:series // 100 // WAREHOUSES]
            db.session.execute(update(StockLevel).where(StockLevel.shop_id == shop_id, StockLevel.sku.in_(changed))
                               .values(on_hand=StockLevel.on_hand + 5))
            db.session.commit()
            signals.warehouse_stock_changed(shop_id, changed)
            started = time.perf_counter()
            dirty.flush(shop_id)
            incremental_stats = compute_insights(shop_id, True, today=today)
            incremental = time.perf_counter() - started
            errors = problems(shop_id) + (incremental_stats.series != len(changed) * WAREHOUSES)

        print(f"database={config.database_url.split(':')[0]} series={series} history_rows={history_rows} "
              f"baseline_read_s={baseline:.2f} nightly={stats.as_dict()} incremental={incremental_stats.as_dict()} "
              f"shifts: {len(raised)} series raised, {len(raised & genuine)} of the {len(genuine)} seeded found "
              f"at={datetime.now(UTC):%Y-%m-%dT%H:%M}Z target: elapsed_s<=60 rss_mb<=500 at 100k series")
        print(figures(elapsed_s=elapsed, incremental_s=incremental, rss_mb=rss_peak_mb(), ratio=elapsed / baseline,
                      errors=errors))


if __name__ == "__main__":
    main()
