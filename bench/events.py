"""Inbound-event path throughput and latency through the real web server.

Signed Shopify webhooks (unique delivery ids, ~1 KB order payloads) are posted to
``/webhooks/shopify`` on gunicorn: HMAC check on the raw body, insert into the inbox, enqueue of
``process_event`` (the app's real path: the WSGI handler in front of Flask, the group-commit
inbox). The baseline, in the same run and on the same server, is a bare Flask endpoint that does
nothing; the two alternate in four rounds each (``load_pair``) so both see the same machine.
Afterwards the inbox and the queue are checked: exactly one row and one job per accepted webhook.

Target (issue 2): ingest per_s >= 0.5 x bare per_s, p99 < 25 ms on a 2-core machine.

    python bench/events.py [--quick] [--database-url postgresql://...] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
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
BODY = json.dumps({
    "id": 820982911946154508, "email": "jon@example.com", "currency": "EUR", "total_price": "199.00",
    "shipping_address": {"country_code": "DE", "zip": "10115", "city": "Berlin", "address1": "Str. 1"},
    "line_items": [{"id": 466157049 + i, "sku": f"SKU-{i}", "quantity": 1, "price": "19.90",
                    "variant_id": 39072856 + i, "title": "Widget"} for i in range(8)],
}).encode()


def webhook_request(i: int):
    return ("POST", "/webhooks/shopify", BODY,
            shopify_headers("orders/create", BODY, SECRET, f"bench-{i}", "bench.myshopify.com"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    args = parser.parse_args()
    total = 2000 if args.quick else 20000

    from integration.config import Config

    with tempfile.TemporaryDirectory() as instance, embedded_redis_url() as redis_url:
        env = bench_env(instance, args.database_url or f"sqlite:///{instance}/bench.sqlite3", redis_url, SECRET)
        config = Config.from_env(env)
        prepare_database(config)
        with gunicorn("bench.common:make_app()", env, workers=args.workers, threads=args.threads) as (url, proc):
            load(url, bare_request, total=200, concurrency=args.concurrency)  # warm-up
            load(url, webhook_request, total=200, concurrency=args.concurrency)
            bare, ingest = load_pair(url, bare_request, lambda i: webhook_request(i + 10_000_000), total=total,
                                     concurrency=args.concurrency)
            rss = server_rss_mb(proc)

        rows, jobs = _check(config)
        expected = total + 200
        print(f"bare:   {figures(**bare)}")
        print(f"ingest: {figures(**ingest)}")
        print(f"inbox rows={rows} queued events={jobs} (expected {expected} each)")
        print(f"database={config.database_url.split(':')[0]} concurrency={args.concurrency} "
              f"gunicorn={args.workers}x{args.threads} "
              "target: ratio>=0.5 p99_ms<25")
        errors = ingest["errors"] + bare["errors"] + abs(rows - expected) + abs(jobs - expected)
        print(figures(per_s=ingest["per_s"], p50_ms=ingest["p50_ms"], p99_ms=ingest["p99_ms"],
                      ratio=ingest["per_s"] / bare["per_s"], rss_mb=rss, errors=errors))


def _check(config) -> tuple[int, int]:
    from integration import create_app
    from integration.extensions import db
    from integration.inbox import events as inbox
    from integration.models import WebhookEvent

    app = create_app(config)
    with app.app_context():
        rows = db.session.query(WebhookEvent).count()
        covered = inbox.queued_event_ids()  # batch jobs cover several events
        jobs = len(covered) if len(set(covered)) == len(covered) else -1  # -1: an event queued twice
        db.session.remove()
    return rows, jobs


if __name__ == "__main__":
    main()
