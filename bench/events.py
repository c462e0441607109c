"""Inbound-event path throughput and latency through the real web server.

Signed Shopify webhooks (unique delivery ids, ~1 KB order payloads) are posted to
``/webhooks/shopify`` on gunicorn: HMAC check on the raw body, insert into the inbox, enqueue of
``process_event``. The baseline, in the same run and on the same server, is a bare Flask endpoint
that does nothing. Afterwards the inbox and the queue are checked: exactly one row and one job per
accepted webhook.

Target (issue 2): ingest per_s >= 0.5 x bare per_s, p99 < 25 ms on a 2-core machine.

    python bench/events.py [--quick] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import embedded_redis_url, figures, gunicorn, load, server_rss_mb

SECRET = "bench-secret"
BODY = json.dumps({
    "id": 820982911946154508, "email": "jon@example.com", "currency": "EUR", "total_price": "199.00",
    "shipping_address": {"country_code": "DE", "zip": "10115", "city": "Berlin", "address1": "Str. 1"},
    "line_items": [{"id": 466157049 + i, "sku": f"SKU-{i}", "quantity": 1, "price": "19.90",
                    "variant_id": 39072856 + i, "title": "Widget"} for i in range(8)],
}).encode()
DIGEST = base64.b64encode(hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()).decode()


def make_app():
    """The real app plus one bare route, used only by this benchmark as its baseline."""
    from integration import create_app

    app = create_app()

    @app.get("/bench/bare")
    def bare():
        return "ok"

    return app


def webhook_request(i: int):
    return ("POST", "/webhooks/shopify", BODY, {
        "X-Shopify-Topic": "orders/create", "X-Shopify-Shop-Domain": "bench.myshopify.com",
        "X-Shopify-Webhook-Id": f"bench-{i}", "X-Shopify-Hmac-Sha256": DIGEST,
        "Content-Type": "application/json",
    })


def bare_request(_i: int):
    return ("GET", "/bench/bare", None, {})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    total = 2000 if args.quick else 20000

    from cryptography.fernet import Fernet

    with tempfile.TemporaryDirectory() as instance, embedded_redis_url() as redis_url:
        db_url = args.database_url or f"sqlite:///{instance}/bench.sqlite3"
        env = {"NEARSTOCK_ENV": "testing", "NEARSTOCK_INSTANCE_PATH": instance, "DATABASE_URL": db_url,
               "REDIS_URL": redis_url, "SHOPIFY_API_SECRET": SECRET, "SHOPIFY_API_KEY": "bench",
               "NEARSTOCK_ENCRYPTION_KEY": Fernet.generate_key().decode(), "LOG_LEVEL": "WARNING"}
        from integration import migrate
        from integration.config import Config

        config = Config.from_env(env)
        if db_url.startswith("postgres"):
            _reset_postgres(config.database_url)
        migrate.upgrade(config.database_url)

        with gunicorn("bench.events:make_app()", env) as (url, proc):
            load(url, bare_request, total=200, concurrency=args.concurrency)  # warm-up
            load(url, webhook_request, total=200, concurrency=args.concurrency)
            bare = load(url, bare_request, total=total, concurrency=args.concurrency)
            ingest = load(url, lambda i: webhook_request(i + 10_000_000), total=total,
                          concurrency=args.concurrency)
            rss = server_rss_mb(proc)

        rows, jobs = _check(config, total + 200)
        print(f"bare:   {figures(**bare)}")
        print(f"ingest: {figures(**ingest)}")
        print(f"inbox rows={rows} queued jobs={jobs} (expected {total + 200} each)")
        print(f"database={config.database_url.split(':')[0]} concurrency={args.concurrency} "
              f"target: ratio>=0.5 p99_ms<25")
        errors = ingest["errors"] + bare["errors"] + abs(rows - (total + 200)) + abs(jobs - (total + 200))
        print(figures(per_s=ingest["per_s"], p50_ms=ingest["p50_ms"], p99_ms=ingest["p99_ms"],
                      ratio=ingest["per_s"] / bare["per_s"], rss_mb=rss, errors=errors))


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _check(config, expected: int) -> tuple[int, int]:
    from integration import create_app
    from integration.extensions import db, queues
    from integration.models import WebhookEvent

    app = create_app(config)
    with app.app_context():
        rows = db.session.query(WebhookEvent).count()
        jobs = queues["events"].count
        db.session.remove()
    return rows, jobs


if __name__ == "__main__":
    main()
