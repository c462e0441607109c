"""Amazon channel throughput against the SP-API emulator: orders imported per minute against the
``searchOrders`` rate ceiling, and MFN quantity feed throughput (SKUs per minute).

Orders: the emulator holds N Amazon-fulfilled orders (no per-order ``getOrder``: the import is
bound by ``searchOrders``, 0.0056 requests/s, burst 20, 50 orders per page); ``import_orders``
runs until caught up, storing every order (``store_order``, ``amazon_orders`` link, cursor
commit per page). The emulator's ``rate_scale`` multiplies every usage plan so a run takes
seconds; the ceiling is computed at the same scale:
``ceiling = (burst + rate x scale x elapsed) x page_size / elapsed`` orders per second, and
``ratio = achieved / ceiling`` (our client keeps 10 % under Amazon's rate and one token under its
burst, so ~0.9 is the best possible; less means the database or our code is the bottleneck).
Latencies are per page (poll + store + commit).

Feed: S SKUs with stock in one warehouse, all changed, pushed by ``push_quantities`` (one
JSON_LISTINGS_FEED: build, upload, createFeed, getFeed until DONE with the emulator clock moved
instead of sleeping, report parsed, channel_stock recorded). Amazon's real processing time
(minutes) is not part of the figure.

    python bench/amazon_sync.py [--quick] [--database-url postgresql://...] [--rate-scale 600]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import bench_env, embedded_redis_url, figures, prepare_database

CLIENT_ID = "amzn1.application-oa2-client.nearstockbench"
CLIENT_SECRET = "amzn1.oa2-cs.v1.bench-secret-0123456789"
REFRESH_TOKEN = "Atzr|IwEBbench-refresh-token-0123456789"
SELLER_ID = "A2NEARSTOCKBENCH"
DE = "A1PA6795UKMFR9"
SEARCH_RATE, SEARCH_BURST, PAGE_SIZE = 0.0056, 20, 50


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--rate-scale", type=float, default=600.0)
    args = parser.parse_args()
    orders_total = 2000 if args.quick else 20000
    skus_total = 2000 if args.quick else 20000

    from integration import create_app
    from integration.amazon import channel as amazon_channel
    from integration.amazon import sp_api_client as amazon_clients
    from integration.config import Config
    from integration.extensions import db
    from integration.models import Order, Shop
    from integration.models.amazon import AmazonAccount
    from integration.stock import amazon_quantities
    from sandbox.amazon import AmazonEmulator
    from tests.helpers_warehouse import make_account, make_warehouse

    with tempfile.TemporaryDirectory() as instance, embedded_redis_url() as redis_url:
        env = bench_env(instance, args.database_url or f"sqlite:///{instance}/bench.sqlite3", redis_url, "bench")
        config = Config.from_env(env)
        prepare_database(config)
        app = create_app(config)
        emulator = AmazonEmulator(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, seller_id=SELLER_ID, marketplaces=[DE],
                                  orders=0, skus=0, rate_scale=args.rate_scale, seed=1).start()
        errors = 0
        try:
            with app.app_context():
                shop = Shop(domain="bench.myshopify.com", access_token="shpat_bench",  # noqa: S106
                            status="installed")
                db.session.add(shop)
                db.session.commit()
                account = AmazonAccount(shop_id=shop.id, seller_id=SELLER_ID, marketplaces=[DE],
                                        lwa_client_id=CLIENT_ID, lwa_client_secret=CLIENT_SECRET,
                                        refresh_token=REFRESH_TOKEN, endpoint=emulator.url,
                                        lwa_token_url=emulator.token_url)
                db.session.add(account)
                db.session.commit()

                # -- orders --------------------------------------------------------------------
                start = (emulator.now() - timedelta(hours=12)).replace(microsecond=0)
                with emulator.lock:
                    for i in range(orders_total):
                        emulator.state.add_order([(f"SKU-{i % 50:03d}", 1 + i % 3)], fulfilled_by="AMAZON",
                                                 status="SHIPPED", created=start + timedelta(seconds=i))
                pages: list[float] = []
                stored = 0
                began = time.perf_counter()
                while True:
                    t0 = time.perf_counter()
                    stats = amazon_channel.import_orders(account.id, max_pages=1, now=emulator.now,
                                                         since=start - timedelta(minutes=1))
                    pages.append((time.perf_counter() - t0) * 1000)
                    stored += stats.stored
                    if stats.stored == 0:
                        pages.pop()  # the final "caught up" call
                        break
                elapsed = time.perf_counter() - began
                count = db.session.query(Order).count()
                errors += abs(count - orders_total) + (orders_total - stored if stored < orders_total else 0)
                achieved = stored / elapsed
                ceiling = (SEARCH_BURST + SEARCH_RATE * args.rate_scale * elapsed) * PAGE_SIZE / elapsed
                order_ratio = achieved / ceiling
                print(f"orders: {figures(orders=stored, pages=len(pages), seconds=elapsed, per_min=achieved * 60, ceiling_per_min=ceiling * 60, ratio=order_ratio, rate_scale=args.rate_scale, p50_ms=statistics.median(pages) if pages else 0.0, p99_ms=percentile(pages, 0.99))}")  # noqa: E501

                # -- feed ----------------------------------------------------------------------
                warehouse = make_warehouse(shop, make_account(shop), "DEWH", "DE")
                from integration.models import StockLevel

                db.session.add_all([StockLevel(shop_id=shop.id, warehouse_id=warehouse.id, sku=f"F-{i:05d}",
                                               on_hand=1 + i % 40) for i in range(skus_total)])
                db.session.commit()
                with emulator.lock:
                    for i in range(skus_total):
                        emulator.state.add_listing(f"F-{i:05d}", 0, marketplace_id=DE)
                t0 = time.perf_counter()
                push = amazon_quantities.push_quantities(shop.id, sleep=emulator.advance, poll_every=5)
                feed_seconds = time.perf_counter() - t0
                errors += push.refused + (skus_total - push.fed)
                wrong = sum(1 for i in range(0, skus_total, 97)
                            if emulator.state.listing_quantity(f"F-{i:05d}", DE) != 1 + i % 40)
                errors += wrong
                skus_per_min = push.fed / feed_seconds * 60
                print(f"feed:   {figures(skus=push.fed, feeds=push.feeds, seconds=feed_seconds, skus_per_min=skus_per_min)}")  # noqa: E501
                errors += emulator.violations
                amazon_clients.close_clients()
        finally:
            emulator.stop()
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"violations={emulator.violations} rate_scale={args.rate_scale} feed_skus_per_min={skus_per_min:.0f}")
        print(figures(per_s=achieved, p50_ms=statistics.median(pages) if pages else 0.0,
                      p99_ms=percentile(pages, 0.99), ratio=order_ratio, rss_mb=rss_mb, errors=errors))


if __name__ == "__main__":
    main()
