"""Insights: the nightly computation of every SKU x warehouse series of a shop, and the
incremental run after 1 % of them changed.

Set-up (in this process, not timed): one shop, 10 warehouses x N/10 SKUs = N series (100,000;
``--quick`` 10,000) with a ledger row each (a tenth of them sold out), computed once before, and
120 days of demand history bulk-inserted (``COPY`` on PostgreSQL): a sale on about a third of the
days, and a stock-out run (censored days) in one series of twenty. The last 14 days are left
empty: the nightly run rebuilds them from orders, which are not seeded.

1. Baseline: reading every series' history alone (the computation's own chunked queries).
2. ``compute_insights(shop, only_dirty=False)``: the nightly run (series rows, demand rebuild of
   the last 14 days, forecast and plan per series, bulk upserts, restock suggestions).
3. 1 % of the series change (ledger + ``warehouse_stock_changed``, as the stock engine sends it),
   then ``compute_insights(shop, only_dirty=True)`` after flushing the marks: the incremental run.

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
import random
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


def seed(series: int, today: date) -> int:
    """The shop, its warehouses, ledger and demand history; returns the shop id."""
    import json

    from sqlalchemy import text

    from integration.extensions import db
    from integration.insights.demand import REFRESH_DAYS
    from integration.models import DemandDay, InsightSeries, Shop, StockLevel, Warehouse, WarehouseAccount

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
    rng = random.Random(22)
    per = series // WAREHOUSES
    skus = [f"SKU-{n:06d}" for n in range(per)]
    levels = [{"shop_id": shop.id, "warehouse_id": w.id, "sku": sku, "on_hand": 0 if rng.random() < 0.1 else
               rng.randint(1, 400), "reserved": 0, "inbound": 0} for w in warehouses for sku in skus]
    for i in range(0, len(levels), 20000):
        db.session.execute(StockLevel.__table__.insert(), levels[i:i + 20000])
    # An established shop: every series computed before (yesterday); a never-computed series
    # would have its whole history rebuilt from orders, which this benchmark does not seed.
    yesterday = datetime.combine(today - timedelta(days=1), datetime.min.time(), UTC)
    for i in range(0, len(levels), 20000):
        db.session.execute(InsightSeries.__table__.insert(), [
            {"shop_id": shop.id, "warehouse_id": row["warehouse_id"], "sku": row["sku"], "dirty": False,
             "computed_at": yesterday, "forecast_daily": 0.0, "forecast_sd": 0.0, "available": 0,
             "baseline_daily": 0.0, "recent_daily": 0.0, "created_at": yesterday, "updated_at": yesterday}
            for row in levels[i:i + 20000]])
    db.session.commit()
    del levels

    days = [today - timedelta(days=back) for back in range(DAYS, 0, -1)]

    def rows():
        """(warehouse_id, sku, day, units, censored) per history row; fast, it makes millions."""
        random_ = rng.random
        for warehouse_id in [w.id for w in warehouses]:
            for sku in skus:
                rate = (0.1, 0.3, 0.6)[int(random_() * 3)]
                out = range(int(random_() * 60) + 10, int(random_() * 30) + 80) if random_() < 0.05 else range(0)
                for i, day in enumerate(days[:-REFRESH_DAYS]):  # recent days come from orders
                    if i in out:
                        yield warehouse_id, sku, day, 0, True
                    elif random_() < rate:
                        yield warehouse_id, sku, day, int(random_() * 6) + 1, False

    table = DemandDay.__table__
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        # Seeding only (not timed): the rows are known consistent, so the per-row foreign key
        # triggers are skipped for this transaction (needs a superuser; ignored otherwise).
        with raw.cursor() as cursor:
            try:
                cursor.execute("SAVEPOINT fk")
                cursor.execute("SET LOCAL session_replication_role = replica")
            except Exception:
                cursor.execute("ROLLBACK TO SAVEPOINT fk")
        with raw.cursor() as cursor, cursor.copy(
                "COPY demand_daily (shop_id, warehouse_id, sku, day, units, cancelled, censored, promo) FROM STDIN"
        ) as copy:
            buffer, shop_id = io.StringIO(), shop.id
            for n, (warehouse_id, sku, day, units, censored) in enumerate(rows()):
                buffer.write(f"{shop_id}\t{warehouse_id}\t{sku}\t{day}\t{units}\t0\t{'t' if censored else 'f'}\tf\n")
                if n % 50000 == 49999:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
    else:
        batch = []
        for warehouse_id, sku, day, units, censored in rows():
            batch.append({"shop_id": shop.id, "warehouse_id": warehouse_id, "sku": sku, "day": day, "units": units,
                          "cancelled": 0, "censored": censored, "promo": False})
            if len(batch) == 20000:
                connection.execute(table.insert(), batch)
                batch = []
        if batch:
            connection.execute(table.insert(), batch)
    db.session.commit()
    if connection.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return shop.id


def read_all(shop_id: int, today: date) -> int:
    """The baseline: every history, read as the computation reads it."""
    from integration.insights.compute import CHUNK, context, read_histories, series_to_compute
    from integration.insights.demand import chunked

    ctx = context(shop_id, today)
    found = 0
    for chunk in chunked(series_to_compute(shop_id, False), CHUNK):
        found += sum(len(h) for h in read_histories(ctx, chunk, True).values())
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
            from integration.models import StockLevel

            today = utc_today()
            started = time.perf_counter()
            shop_id = seed(series, today)
            print(f"seeded: {series} series x {DAYS} days in {time.perf_counter() - started:.1f} s"
                  + (f" ({note})" if note else ""))

            read_all(shop_id, today)  # warm-up: the same pages in PostgreSQL's cache for both timings
            started = time.perf_counter()
            history_rows = read_all(shop_id, today)
            baseline = time.perf_counter() - started

            started = time.perf_counter()
            stats = compute_insights(shop_id, False, today=today)
            elapsed = time.perf_counter() - started

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
              f"at={datetime.now(UTC):%Y-%m-%dT%H:%M}Z target: elapsed_s<=60 rss_mb<=500 at 100k series")
        print(figures(elapsed_s=elapsed, incremental_s=incremental, rss_mb=rss_peak_mb(), ratio=elapsed / baseline,
                      errors=errors))


if __name__ == "__main__":
    main()
