"""Stock sync: a full reconciliation against the Shopify emulator's rate limit, then the latency of
one warehouse change to Shopify with an idle worker.

Set-up: the Shopify emulator (in this process, seeded through its Python API) with V variants
stocked at 4 locations (5 units each), the same catalog in our database with 4 warehouses mapped
to those locations and a ledger and channel_stock that agree with Shopify (yesterday's sync).
Overnight every count moved: the warehouses' provider (an in-memory provider at the port,
registered as ``bench`` in the worker process) now reports other numbers for all V x 4.

1. ``jobs.stock.reconcile_shop`` runs on a real worker process (``python -m jobs.worker`` with the
   provider registered): the provider's counts go into the ledger, the Shopify export is
   compared with the targets, and all V x 4 quantities are pushed (inventorySetQuantities, 250
   per call, cost 10). The ceiling, in the same run, is what the emulator's bucket allows over the
   push phase: ``(bucket + restore_rate x T) / 10 x 250`` quantities in T seconds.
   ``per_s`` = quantities applied per second of the push phase; ``ratio`` = per_s / ceiling
   (target >= 0.9); throttled requests (target < 1 %); ``rss_mb`` = the worker's peak RSS
   (the largest process of the worker: the one that ran the reconciliation; target < 300 MB).
2. With the worker idle: one ledger change at a time (``apply_stock``, as a poll or webhook does),
   timed until the emulator shows the new quantity: p50/p95/p99 (target p95 < 1 s).
3. Check: every one of the V x 4 Shopify quantities equals its target; ``errors`` counts the
   mismatches, unapplied quantities and failed jobs.

    python bench/stock_sync.py [--quick] [--database-url postgresql://...] [--restore-rate 100]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil

from bench.common import bench_env, embedded_redis_url, figures, prepare_database
from integration.domain.warehousing import StockPage, StockRecord

SHOP = "bench.myshopify.com"
CODES = ("DE1", "FR1", "IT1", "ES1")
PER_PRODUCT = 100
MUTATION_COST = 10
BATCH = 250


def sku(i: int) -> str:
    return f"B{i:07d}"


def counted(i: int, code_index: int) -> int:
    """The provider's count tonight (yesterday every level was 5)."""
    return 6 + (i * 7 + code_index * 13) % 90


class BenchProvider:
    """The port over generated counts: V SKUs in each warehouse (no network: the bench measures
    our engine and the Shopify limit, not a 3PL)."""

    name = "bench"
    capabilities = frozenset()

    def __init__(self, credentials, **_kwargs) -> None:
        self.variants = int(credentials["variants"])
        self.overrides: dict = {}

    def get_inventory(self, warehouse_code=None, skus=None) -> list[StockRecord]:
        now = datetime.now(UTC)
        index = CODES.index(warehouse_code)
        return [StockRecord(sku(i), warehouse_code, counted(i, index), counted(i, index), as_of=now)
                for i in range(self.variants) if skus is None or sku(i) in skus]

    def inventory_changes(self, cursor):
        """No change feed in the bench: one pass over every warehouse, then caught up."""
        if cursor == "done":
            return StockPage(records=(), next_cursor="done", has_more=False)
        records = tuple(r for code in CODES for r in self.get_inventory(code))
        return StockPage(records=records, next_cursor="done", has_more=False)


def run_worker() -> None:
    """``--worker``: the real worker entry point (``python -m jobs.worker``), with the bench
    provider registered."""
    from connectors.warehouses import registry
    from jobs.worker import main

    registry._classes[BenchProvider.name] = BenchProvider  # type: ignore[assignment]
    main(["sync", "low", "--name", f"bench-stock-{os.getpid()}"])


# -- set-up ---------------------------------------------------------------------------------------


def seed_shopify(variants: int, restore_rate: float, bucket: float):
    from sandbox.shopify import ShopifyEmulator

    emulator = ShopifyEmulator("bench-key", "bench-secret", restore_rate=restore_rate, bucket_size=bucket, seed=1)
    emulator.add_shop(SHOP)
    locations = [emulator.add_location(SHOP, f"Warehouse {code}", code[:2]) for code in CODES]
    items = []
    for start in range(0, variants, PER_PRODUCT):
        specs = [{"sku": sku(i), "title": sku(i), "quantities": dict.fromkeys(locations, 5)}
                 for i in range(start, min(start + PER_PRODUCT, variants))]
        product = emulator.add_product(SHOP, f"Product {start // PER_PRODUCT}", specs)
        items.extend((s["id"], s["inventory_item_id"], product) for s in specs)
    token = emulator.grant_token(SHOP, emulator.oauth.default_scopes)
    emulator.start()
    return emulator, locations, items, token


def seed_database(locations, items, token, variants: int) -> int:
    from sqlalchemy import insert

    from integration.extensions import db
    from integration.models import (
        ChannelStock,
        Shop,
        ShopSettings,
        StockLevel,
        Variant,
        Warehouse,
        WarehouseAccount,
    )

    shop = Shop(domain=SHOP, access_token=token, status="installed")
    db.session.add(shop)
    db.session.flush()
    account = WarehouseAccount(shop_id=shop.id, provider="bench", name="bench",
                               credentials=json.dumps({"variants": variants}))
    db.session.add_all([account, ShopSettings(shop_id=shop.id, safety_stock=0, channel_buffers={})])
    db.session.flush()
    warehouses = []
    for code, location in zip(CODES, locations, strict=True):
        w = Warehouse(shop_id=shop.id, account_id=account.id, code=code, country_code=code[:2],
                      location_shopify_id=location)
        db.session.add(w)
        warehouses.append(w)
    db.session.flush()
    yesterday = datetime.now(UTC) - timedelta(days=1)
    for start in range(0, len(items), 5000):
        part = list(enumerate(items[start:start + 5000], start=start))
        db.session.execute(insert(Variant), [
            {"shop_id": shop.id, "shopify_id": vid, "product_shopify_id": pid, "inventory_item_id": item,
             "sku": sku(i), "title": sku(i)} for i, (vid, item, pid) in part])
        db.session.execute(insert(StockLevel), [
            {"shop_id": shop.id, "warehouse_id": w.id, "sku": sku(i), "on_hand": 5, "reserved": 0, "inbound": 0,
             "on_hand_as_of": yesterday} for i, _ in part for w in warehouses])
        db.session.execute(insert(ChannelStock), [
            {"shop_id": shop.id, "channel": "shopify", "item_id": item, "location_id": w.location_shopify_id,
             "sku": sku(i), "quantity": 5, "pushed_at": yesterday} for i, (_, item, _) in part for w in warehouses])
    db.session.commit()
    return shop.id


# -- measurement ----------------------------------------------------------------------------------


class PeakRss(threading.Thread):
    """Samples the worker and its work horses; keeps the largest single process RSS."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                parent = psutil.Process(self.pid)
                for p in [parent, *parent.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        self.peak = max(self.peak, p.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.05)


def wait_for_worker(name_prefix: str, timeout: float = 60) -> None:
    from rq import Worker

    from integration.extensions import redis

    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(w.name.startswith(name_prefix) for w in Worker.all(connection=redis.client)):
            return
        time.sleep(0.1)
    raise RuntimeError("worker did not start")


def run_job(queue: str, func: str, *args, timeout: float):
    from rq.job import Job, JobStatus

    from integration.extensions import queues, redis
    from integration.job_serializer import JobSerializer

    job_id = f"bench-{func.replace('.', '-')}-{time.time_ns()}"
    job = queues.enqueue(queue, func, *args, job_id=job_id, job_timeout=int(timeout), retry=None)
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = Job.fetch(job.id, connection=redis.client, serializer=JobSerializer)
        status = job.get_status()
        if status == JobStatus.FINISHED:
            return job.return_value(), None
        if status == JobStatus.FAILED:
            return None, (job.latest_result().exc_string if job.latest_result() else "failed")
        time.sleep(0.2)
    return None, "timeout"


def push_window(emulator) -> tuple[int, float]:
    """(inventorySetQuantities calls executed, seconds from the first to the last)."""
    times = sorted(c["time"] for c in list(emulator.calls)
                   if c.get("executed") and "inventorySetQuantities" in c.get("root_fields", ()))
    return len(times), (times[-1] - times[0]) if len(times) > 1 else 0.0


def latencies(shop_id: int, emulator, locations, items, warehouses, samples: int, variants: int,
              gap: float) -> list[float]:
    """One change at a time, ``gap`` seconds apart (so the samples use half the restore rate:
    this measures our path, not Shopify's rate limit, which the reconciliation already did)."""
    from integration.stock.ledger import apply_stock

    rng = random.Random(7)
    out = []
    for n in range(samples):
        i, w = rng.randrange(variants), rng.randrange(len(CODES))
        target = 200 + n
        started = time.perf_counter()
        apply_stock(warehouses[w], [StockRecord(sku(i), CODES[w], target, target)], as_of=datetime.now(UTC))
        while emulator.inventory_quantity(SHOP, items[i][1], locations[w]) != target:
            if time.perf_counter() - started > 30:
                raise RuntimeError(f"change {n} did not reach Shopify")
            time.sleep(0.001)
        out.append(time.perf_counter() - started)
        time.sleep(gap)  # the worker goes idle again
    return out


def mismatches(emulator, locations, items, variants: int, changed: dict) -> int:
    wrong = 0
    for i in range(variants):
        for w, location in enumerate(locations):
            expected = changed.get((i, w), counted(i, w))
            if emulator.inventory_quantity(SHOP, items[i][1], location) != expected:
                wrong += 1
    return wrong


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--variants", type=int)
    parser.add_argument("--restore-rate", type=float, help="emulator points/s (default 100; --quick 50)")
    parser.add_argument("--bucket", type=float, help="emulator bucket size (default 2000; --quick 200)")
    parser.add_argument("--samples", type=int, help="latency samples (default 200; --quick 40)")
    args = parser.parse_args()
    if args.worker:
        run_worker()
        return
    variants = args.variants or (5_000 if args.quick else 100_000)
    rate = args.restore_rate or (50.0 if args.quick else 100.0)
    bucket = args.bucket or (200.0 if args.quick else 2000.0)
    samples = args.samples or (40 if args.quick else 200)

    from integration import create_app
    from integration.config import Config
    from integration.extensions import db
    from integration.models import Warehouse

    with tempfile.TemporaryDirectory() as instance, embedded_redis_url() as redis_url:
        started = time.perf_counter()
        emulator, locations, items, token = seed_shopify(variants, rate, bucket)
        seeded_shopify = time.perf_counter() - started
        env = bench_env(instance, args.database_url or f"sqlite:///{instance}/bench.sqlite3", redis_url, "bench")
        env.update({"SHOPIFY_ENDPOINT": emulator.url, "LOG_FORMAT": "console"})
        config = Config.from_env(env)
        prepare_database(config)
        app = create_app(config)
        worker = None
        try:
            with app.app_context():
                started = time.perf_counter()
                shop_id = seed_database(locations, items, token, variants)
                if config.database_url.startswith("postgresql"):
                    # A production database has planner statistics (autovacuum); a bulk-loaded one not yet.
                    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                        conn.exec_driver_sql("ANALYZE")
                warehouses = [w.id for w in db.session.query(Warehouse).order_by(Warehouse.id)]
                seeded_db = time.perf_counter() - started
                print(f"seeded: {variants} variants x {len(CODES)} locations; emulator {seeded_shopify:.1f}s, "
                      f"database {seeded_db:.1f}s ({config.database_url.split(':')[0]})", flush=True)

                worker = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker"],
                                          env={**os.environ, **env}, cwd=Path(__file__).resolve().parents[1])
                wait_for_worker("bench-stock-")
                rss = PeakRss(worker.pid)
                rss.start()
                started = time.perf_counter()
                stats, failure = run_job("low", "jobs.stock.reconcile_shop", shop_id, timeout=7200)
                elapsed = time.perf_counter() - started
                rss.stop.set()
                rss.join()
                calls, window = push_window(emulator)
                graphql = [c for c in list(emulator.calls) if c["shop"] == SHOP and c.get("kind") == "graphql"]
                throttled = sum(1 for c in graphql if c.get("throttled"))
                pushed = (stats or {}).get("pushed", 0)
                ceiling = (bucket + rate * window) / MUTATION_COST * BATCH
                ceiling_per_s = ceiling / window if window else float("inf")
                per_s = pushed / window if window else 0.0
                print(f"reconcile: {elapsed:.1f}s total; stats {json.dumps(stats)}", flush=True)
                if failure:
                    print(f"reconcile FAILED: {failure}", flush=True)
                print(f"push phase: {calls} calls in {window:.1f}s, {pushed} quantities -> {per_s:.0f}/s; "
                      f"ceiling {ceiling_per_s:.0f}/s (bucket {bucket:g} + {rate:g} points/s, cost "
                      f"{MUTATION_COST}/call of {BATCH}); end-to-end {pushed / elapsed:.0f}/s; "
                      f"throttled {throttled}/{len(graphql)} requests", flush=True)

                # The reconciliation drained the bucket: let it refill, as after a quiet night.
                while emulator.throttle_status(SHOP)["currentlyAvailable"] < bucket - MUTATION_COST:
                    time.sleep(0.2)
                gap = max(0.05, 2 * MUTATION_COST / rate)
                lat = latencies(shop_id, emulator, locations, items, warehouses, samples, variants, gap)
                lat_ms = sorted(x * 1000 for x in lat)
                p95 = lat_ms[max(0, int(len(lat_ms) * 0.95) - 1)]
                print(f"latency ({samples} single changes {gap * 1000:.0f} ms apart, idle worker): "
                      f"p50 {statistics.median(lat_ms):.0f} ms, "
                      f"p95 {p95:.0f} ms, p99 {lat_ms[max(0, int(len(lat_ms) * 0.99) - 1)]:.0f} ms, "
                      f"max {lat_ms[-1]:.0f} ms", flush=True)
                changed = {}
                rng = random.Random(7)
                for n in range(samples):
                    i, w = rng.randrange(variants), rng.randrange(len(CODES))
                    changed[(i, w)] = 200 + n
                wrong = mismatches(emulator, locations, items, variants, changed)
                errors = wrong + (stats or {}).get("unapplied", 0) + (1 if failure else 0)
                if pushed != variants * len(CODES):
                    errors += abs(variants * len(CODES) - pushed)
                print(f"check: {wrong} Shopify quantities differ from their targets; throttled "
                      f"{100 * throttled / max(1, len(graphql)):.2f}% (target < 1%); "
                      "targets: ratio>=0.9 rss_mb<300 p95<1000ms", flush=True)
                print(figures(per_s=per_s, p50_ms=statistics.median(lat_ms), p99_ms=lat_ms[
                    max(0, int(len(lat_ms) * 0.99) - 1)], ratio=per_s / ceiling_per_s if window else 0.0,
                    rss_mb=rss.peak / 2**20, errors=errors))
                db.session.remove()
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=60)
            emulator.stop()


if __name__ == "__main__":
    main()
