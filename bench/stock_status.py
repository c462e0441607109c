"""Storefront stock status: the app proxy endpoint through the real server, and what the block
costs a product page in Lighthouse.

Set-up (in this process): the Shopify emulator with a shop of P products x V variants, the same
catalog in our database with two warehouses (DE, US) and a ledger; one refresh
(``storefront.refresh_statuses``) publishes every status to Redis and writes the variants'
metafields to the emulator, as the stock engine's signal would.

1. gunicorn (gthread, 3 workers x 1 thread by default: ``--workers``/``--threads``) serves the
   app. Closed-loop load of signed app proxy requests
   ``GET /proxy/stock?variant_id=&country=&locale=&shop=&timestamp=&signature=`` over random
   variants and markets, and, in the same run on the same server, of a bare endpoint.
   Server-side latency is what the WSGI app took (from the call to ``start_response``, reported
   back in a response header added by this benchmark's wrapper), client-side is the round trip.
   Target: server-side p99 < 5 ms at >= 2,000 req/s.
2. Lighthouse (performance category, mobile defaults, headless Chromium) of the sandbox
   storefront's product page with and without the app block, ``--runs`` each, medians printed.
   Target: the block costs at most 1 point. Skipped with a reason when Node, Lighthouse
   (``npm ci --prefix extensions``) or Chromium (``apt-get install -y chromium``) is missing.

The last line: ``per_s`` (proxy requests per second), ``p50_ms``/``p99_ms`` (server-side),
``ratio`` (proxy per_s / bare per_s), ``rss_mb`` (gunicorn, all processes), ``errors``.

    python bench/stock_status.py [--quick] [--database-url postgresql://...] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    bench_env,
    embedded_redis_url,
    figures,
    gunicorn,
    lighthouse_missing,
    lighthouse_report,
    prepare_database,
    server_rss_mb,
)

SECRET = "bench-secret"
SHOP = "bench.myshopify.com"
MARKETS = ("DE", "US", "FR", "JP", "GB")
LOCALES = ("en", "de", "fr", "ja", "")
TIMING_HEADER = "X-Bench-Server-Us"


# -- the app as gunicorn serves it --------------------------------------------------------------------


def make_app():
    """The real app, the storefront blueprint (if the app does not register it yet), the bare
    baseline route, and a wrapper reporting how long the WSGI app took for each request."""
    from bench.common import make_app as base_app
    from integration.views import proxy_stock

    app = base_app()
    if proxy_stock.bp.name not in app.blueprints:
        app.register_blueprint(proxy_stock.bp)
    inner = app.wsgi_app

    def timed(environ, start_response):
        started = time.perf_counter()

        def start(status, headers, exc_info=None):
            headers.append((TIMING_HEADER, str(int((time.perf_counter() - started) * 1e6))))
            return start_response(status, headers, exc_info)

        return inner(environ, start)

    app.wsgi_app = timed
    return app


# -- load ------------------------------------------------------------------------------------------------


def stock_request(variants: list[str]):
    from urllib.parse import urlencode

    from connectors.shopify.signatures import proxy_signature

    rng = random.Random(os.getpid())

    def make(_i: int):
        query = {"variant_id": rng.choice(variants), "country": rng.choice(MARKETS), "locale": rng.choice(LOCALES),
                 "shop": SHOP, "logged_in_customer_id": "", "path_prefix": "/apps/nearstock",
                 "timestamp": str(int(time.time()))}
        query["signature"] = proxy_signature(query, SECRET)
        return "/proxy/stock?" + urlencode(query)

    return make


def bare_request(_variants):
    return lambda _i: "/bench/bare"


def _client(port: int, factory, arg, count: int, threads: int, out) -> None:
    import threading

    make = factory(arg)
    # Prepared up front (signing included), so the load generator does the same little work per
    # request for both endpoints and leaves the CPU to the server; timestamps stay within 90 s.
    paths = [make(i) for i in range(count)]
    results: list[tuple[list, list, int]] = []

    def run(mine: list[str]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        client_lat, server_lat, errors = [], [], 0
        for path in mine:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Accept": "application/json"})
                resp = conn.getresponse()
                resp.read()
                if resp.status >= 400:
                    errors += 1
                server = resp.getheader(TIMING_HEADER)
                if server:
                    server_lat.append(int(server) / 1e6)
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            client_lat.append(time.perf_counter() - started)
        results.append((client_lat, server_lat, errors))

    workers = [threading.Thread(target=run, args=(paths[t::threads],)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put(([x for r in results for x in r[0]], [x for r in results for x in r[1]], sum(r[2] for r in results)))


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[max(0, int(len(values) * q) - 1)] * 1000 if values else float("nan")


def load(url: str, factory, arg, *, total: int, concurrency: int, processes: int = 2) -> dict:
    port = int(url.rsplit(":", 1)[1])
    out: mp.Queue = mp.Queue()
    processes = max(1, min(processes, concurrency))
    shares = [total // processes + (1 if i < total % processes else 0) for i in range(processes)]
    procs = [mp.Process(target=_client, args=(port, factory, arg, shares[i], concurrency // processes, out))
             for i in range(processes)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    parts = [out.get() for _ in procs]
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join()
    client = [x for p in parts for x in p[0]]
    server = [x for p in parts for x in p[1]]
    return {"requests": len(client), "per_s": len(client) / elapsed,
            "p50_ms": statistics.median(client) * 1000, "p99_ms": _pct(client, 0.99),
            "server_p50_ms": statistics.median(server) * 1000 if server else float("nan"),
            "server_p99_ms": _pct(server, 0.99), "errors": sum(p[2] for p in parts)}


# -- data ----------------------------------------------------------------------------------------------------


def seed(config, emulator, products: int, per_product: int) -> tuple[list[str], str]:
    """The catalog in the emulator and our database, stock in the ledger, every status published.
    Returns (variant numbers, the first product's handle)."""
    from integration import create_app
    from integration.extensions import db
    from integration.models import Shop, ShopSettings, StockLevel, Variant, Warehouse, WarehouseAccount
    from integration.storefront import status as storefront

    berlin = emulator.add_location(SHOP, "Berlin", "DE")
    la = emulator.add_location(SHOP, "Los Angeles", "US")
    specs_by_product = []
    for p in range(products):
        specs = [{"sku": f"P{p:03d}-{v:02d}", "title": f"Size {v + 1}", "price": "49.00",
                  "quantities": {berlin: 0, la: 0}} for v in range(per_product)]
        product = emulator.add_product(SHOP, f"Trail Jacket {p}", specs)
        specs_by_product.append((product, specs))
    token = emulator.grant_token(SHOP, emulator.oauth.default_scopes)
    app = create_app(config)
    rng = random.Random(7)
    with app.app_context():
        shop = Shop(domain=SHOP, access_token=token, status="installed", name="Bench", primary_locale="en")
        db.session.add(shop)
        db.session.flush()
        account = WarehouseAccount(shop_id=shop.id, provider="winit", name="WINIT", credentials="{}")
        db.session.add(account)
        db.session.flush()
        de = Warehouse(shop_id=shop.id, account_id=account.id, code="DE1", country_code="DE",
                       location_shopify_id=berlin, handling_hours=24, transit_days={"DE": [1, 3], "*": [5, 10]})
        us = Warehouse(shop_id=shop.id, account_id=account.id, code="US1", country_code="US",
                       location_shopify_id=la, handling_hours=24, transit_days={"US": [2, 4], "*": [6, 12]})
        db.session.add_all([de, us, ShopSettings(shop_id=shop.id, safety_stock=0, channel_buffers={},
                                                 low_stock_threshold=5)])
        db.session.flush()
        skus = []
        for product, specs in specs_by_product:
            for spec in specs:
                skus.append(spec["sku"])
                db.session.add(Variant(shop_id=shop.id, shopify_id=spec["id"], product_shopify_id=product,
                                       inventory_item_id=spec["inventory_item_id"], sku=spec["sku"],
                                       title=f"Trail Jacket - {spec['title']}"))
                db.session.add(StockLevel(shop_id=shop.id, warehouse_id=de.id, sku=spec["sku"],
                                          on_hand=rng.choice((0, 2, 40))))
                db.session.add(StockLevel(shop_id=shop.id, warehouse_id=us.id, sku=spec["sku"],
                                          on_hand=rng.choice((0, 3, 25))))
        db.session.commit()
        stats = storefront.refresh_statuses(shop.id, skus)
        print(f"seeded: {len(skus)} variants, {stats.metafields} metafields in {stats.metafield_calls} calls")
        db.session.remove()
    numbers = [spec["id"].rsplit("/", 1)[1] for _, specs in specs_by_product for spec in specs]
    handle = emulator.shop(SHOP).nodes[specs_by_product[0][0]]["handle"]
    return numbers, handle


# -- Lighthouse --------------------------------------------------------------------------------------------


def lighthouse_score(url: str) -> float:
    return lighthouse_report(url)["categories"]["performance"]["score"] * 100


def lighthouse(storefront_url: str, handle: str, runs: int) -> tuple[float, float, dict]:
    page = f"{storefront_url}/products/{handle}?country=DE&locale=en"
    with_block, without = [], []
    for _ in range(runs):  # interleaved, so drift on the machine hits both alike
        without.append(lighthouse_score(page + "&nearstock=0"))
        with_block.append(lighthouse_score(page))
    return statistics.median(with_block), statistics.median(without), {"with": with_block, "without": without}


# -- main ------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--runs", type=int, default=0, help="Lighthouse runs per page (default 1 quick, 3 full)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes (WEB_CONCURRENCY)")
    # One thread per worker: a thread waiting on Redis must win the GIL back from a busy sibling
    # (up to the 5 ms switch interval), which is what a storefront-facing web pool should avoid.
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (WEB_THREADS)")
    parser.add_argument("--no-lighthouse", action="store_true")
    args = parser.parse_args()
    total = 3000 if args.quick else 40000
    runs = args.runs or (1 if args.quick else 3)

    from integration.config import Config
    from sandbox.shopify import ShopifyEmulator
    from sandbox.storefront import EmulatorCatalog, Storefront

    emulator = ShopifyEmulator("bench", SECRET, seed=1).start()
    emulator.add_shop(SHOP, name="Bench")
    try:
        with tempfile.TemporaryDirectory() as instance, embedded_redis_url() as redis_url:
            env = {**bench_env(instance, args.database_url or f"sqlite:///{instance}/bench.sqlite3", redis_url, SECRET),
                   "SHOPIFY_ENDPOINT": emulator.url}
            config = Config.from_env(env)
            prepare_database(config)
            variants, handle = seed(config, emulator, products=10 if args.quick else 50, per_product=10)
            server = gunicorn("bench.stock_status:make_app()", env, workers=args.workers, threads=args.threads)
            with server as (url, proc):
                load(url, bare_request, None, total=400, concurrency=args.concurrency)  # warm-up
                load(url, stock_request, variants, total=400, concurrency=args.concurrency)
                bare = load(url, bare_request, None, total=total, concurrency=args.concurrency)
                stock = load(url, stock_request, variants, total=total, concurrency=args.concurrency)
                rss = server_rss_mb(proc)
                scores = None
                missing = "--no-lighthouse" if args.no_lighthouse else lighthouse_missing()
                if missing is None:
                    front = Storefront(EmulatorCatalog(emulator, SHOP), app_url=url, api_secret=SECRET,
                                       shop_domain=SHOP).start()
                    try:
                        scores = lighthouse(front.url, handle, runs)
                    finally:
                        front.stop()
        print(f"bare:  {figures(**bare)}")
        print(f"stock: {figures(**stock)}")
        print(f"database={config.database_url.split(':')[0]} concurrency={args.concurrency} "
              f"gunicorn={args.workers}x{args.threads} "
              "target: server p99_ms<5 at per_s>=2000")
        if scores:
            with_block, without, all_runs = scores
            print(f"lighthouse performance: with_block={with_block:.0f} without_block={without:.0f} "
                  f"drop={without - with_block:.0f} (runs {all_runs}) target: drop<=1")
        else:
            print(f"lighthouse: skipped ({missing})")
        errors = bare["errors"] + stock["errors"]
        print(figures(per_s=stock["per_s"], p50_ms=stock["server_p50_ms"], p99_ms=stock["server_p99_ms"],
                      ratio=stock["per_s"] / bare["per_s"], rss_mb=rss, errors=errors))
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
