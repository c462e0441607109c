"""Signed Shopify webhooks through the real server into the inbox, then through real workers.

A realistic mix — orders/create (full REST order, ~3 KB), inventory_levels/update, products/update
— with 5 % redeliveries (same webhook and event id), signed with the app secret, posted to
gunicorn. Baseline in the same run: a bare endpoint on the same server. Then two real worker
processes (`python -m jobs.worker --burst`) drain the queue and the processing rate is reported.

Targets (issue 3): ingest p99 < 25 ms, far under Shopify's 5 s timeout.

    python bench/shopify_webhooks.py [--quick] [--database-url postgresql://...]
        [--workers 2 --threads 8]   # the gunicorn pool (the Procfile's default shown)
        [--no-process]              # ingest only, when comparing server settings
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    ROOT,
    bare_request,
    bench_env,
    embedded_redis_url,
    figures,
    gunicorn,
    load,
    load_pair,
    prepare_database,
    server_rss_mb,
    shopify_headers,
)

SECRET = "bench-secret"
SHOP = "bench.myshopify.com"
DUPLICATE_EVERY = 20  # 5 % of deliveries repeat an earlier one


def order_body(i: int) -> bytes:
    stamp = "2026-11-22T10:00:00+01:00"
    address = {"first_name": "Jon", "last_name": "Doe", "name": "Jon Doe", "address1": "Torstr. 1",
               "address2": None, "city": "Berlin", "province": None, "province_code": None, "zip": "10119",
               "country": "Germany", "country_code": "DE", "phone": None, "company": None}
    return json.dumps({
        "id": 5_000_000 + i, "admin_graphql_api_id": f"gid://shopify/Order/{5_000_000 + i}",
        "name": f"#{1000 + i}", "email": f"buyer{i}@example.com", "created_at": stamp, "updated_at": stamp,
        "cancelled_at": None, "currency": "EUR", "total_price": "59.80", "financial_status": "paid",
        "fulfillment_status": None, "customer_locale": "de",
        "customer": {"id": 7_000_000 + i, "email": f"buyer{i}@example.com", "first_name": "Jon", "last_name": "Doe",
                     "admin_graphql_api_id": f"gid://shopify/Customer/{7_000_000 + i}"},
        "shipping_address": address, "billing_address": address,
        "line_items": [{"id": 9_000_000 + i * 10 + k,
                        "admin_graphql_api_id": f"gid://shopify/LineItem/{9_000_000 + i * 10 + k}",
                        "variant_id": 100 + k, "product_id": 10, "sku": f"SKU-{k}", "name": "Widget", "title": "Widget",
                        "quantity": 1, "current_quantity": 1, "price": "29.90"} for k in range(2)],
    }).encode()


def level_body(i: int) -> bytes:
    return json.dumps({"inventory_item_id": 800 + i % 50, "location_id": 42, "available": i % 17,
                       "updated_at": f"2026-11-22T10:{i // 60 % 60:02d}:{i % 60:02d}+00:00",
                       "admin_graphql_api_id": f"gid://shopify/InventoryLevel/42?inventory_item_id={800 + i % 50}"}
                      ).encode()


def product_body(i: int) -> bytes:
    return json.dumps({"id": 10 + i % 5, "admin_graphql_api_id": f"gid://shopify/Product/{10 + i % 5}",
                       "title": "Widget", "updated_at": f"2026-11-22T11:{i // 60 % 60:02d}:{i % 60:02d}+00:00",
                       "variants": [{"id": 100 + k, "admin_graphql_api_id": f"gid://shopify/ProductVariant/{100 + k}",
                                     "product_id": 10 + i % 5, "sku": f"SKU-{k}", "barcode": None, "title": f"V{k}",
                                     "inventory_item_id": 800 + k, "updated_at": "2026-11-22T11:00:00+00:00"}
                                    for k in range(3)]}).encode()


def webhook_request(i: int):
    n = i - i % DUPLICATE_EVERY if i % DUPLICATE_EVERY == DUPLICATE_EVERY - 1 else i  # a redelivery
    kind = n % 10
    topic, body = (("orders/create", order_body(n)) if kind < 6 else
                   ("inventory_levels/update", level_body(n)) if kind < 9 else ("products/update", product_body(n)))
    return ("POST", "/webhooks/shopify", body,
            shopify_headers(topic, body, SECRET, f"wh-{n}", SHOP, event_id=f"evt-{n}"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--no-process", action="store_true", help="ingest only: skip the workers' drain")
    args = parser.parse_args()
    total = 2000 if args.quick else 20000
    unique = total - total // DUPLICATE_EVERY

    from integration.config import Config

    with tempfile.TemporaryDirectory() as instance, embedded_redis_url() as redis_url:
        env = bench_env(instance, args.database_url or f"sqlite:///{instance}/bench.sqlite3", redis_url, SECRET)
        config = Config.from_env(env)
        prepare_database(config)
        _add_shop(config)
        with gunicorn("bench.common:make_app()", env, workers=args.workers, threads=args.threads) as (url, proc):
            load(url, bare_request, total=300, concurrency=args.concurrency)  # warm-up
            bare, ingest = load_pair(url, bare_request, webhook_request, total=total, concurrency=args.concurrency)
            rss = server_rss_mb(proc)

        rows, queued = _count(config)
        done = failed = 0
        if not args.no_process:
            started = time.perf_counter()
            workers = [subprocess.Popen([sys.executable, "-m", "jobs.worker", "--burst", "events"], cwd=ROOT,
                                        env={**os.environ, **env, "LOG_LEVEL": "WARNING"},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
            for w in workers:
                w.wait()
            drained = time.perf_counter() - started
            done, failed = _outcome(config)
        print(f"bare:    {figures(**bare)}")
        print(f"ingest:  {figures(**ingest)}")
        print(f"inbox rows={rows} (expected {unique} unique of {total} deliveries), queued events={queued}")
        if not args.no_process:
            print(f"process: {done} done, {failed} failed in {drained:.1f} s by 2 workers = "
                  f"{done / drained:.0f} events/s")
        print(f"database={config.database_url.split(':')[0]} concurrency={args.concurrency} "
              f"gunicorn={args.workers}x{args.threads} target: p99_ms<25")
        errors = ingest["errors"] + bare["errors"] + abs(rows - unique) + abs(queued - unique) + failed
        print(figures(per_s=ingest["per_s"], p50_ms=ingest["p50_ms"], p99_ms=ingest["p99_ms"],
                      ratio=ingest["per_s"] / bare["per_s"], rss_mb=rss, errors=errors))


def _app(config):
    from integration import create_app

    return create_app(config)


def _add_shop(config) -> None:
    from integration.extensions import db
    from integration.models import Shop

    with _app(config).app_context():
        db.session.add(Shop(domain=SHOP, access_token="shpat_bench", status="installed"))  # noqa: S106
        db.session.commit()
        db.session.remove()


def _count(config) -> tuple[int, int]:
    from integration.extensions import db
    from integration.inbox import events as inbox
    from integration.models import WebhookEvent

    with _app(config).app_context():
        rows = db.session.query(WebhookEvent).count()
        covered = inbox.queued_event_ids()  # batch jobs cover several events
        queued = len(covered) if len(set(covered)) == len(covered) else -1  # -1: an event queued twice
        db.session.remove()
    return rows, queued


def _outcome(config) -> tuple[int, int]:
    from integration.extensions import db
    from integration.models import EventStatus, WebhookEvent

    with _app(config).app_context():
        done = db.session.query(WebhookEvent).filter(WebhookEvent.status == EventStatus.DONE).count()
        failed = db.session.query(WebhookEvent).filter(WebhookEvent.status == EventStatus.FAILED).count()
        db.session.remove()
    return done, failed


if __name__ == "__main__":
    main()
