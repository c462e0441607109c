"""Points ledger throughput, and balance reads that do not slow down with history.

A customer is given a history of N ledger entries (1,000,000; ``--quick``: 100,000) — earns and
redemptions, each earn a lot of its own, all spent — bulk-loaded straight into the tables, then:

* ledger events: earns and redemptions for that customer through the real service
  (``loyalty.credit`` / ``loyalty.debit``, one transaction each: entry, conditional balance UPDATE,
  lots, tier months), on top of that history: events/s, p50 and p99 per event;
* balance reads (``loyalty.balance``) for that customer and, in the same run, for a customer with
  ten entries (the baseline): ratio = p99 at N entries / p99 at ten, ~1 when reads are O(1).

Afterwards the heavy customer's balance is checked against the sum of its entries and of its open
lots: any difference counts as errors.

    python bench/loyalty.py [--quick] [--database-url postgresql://...] [--entries N]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil

from bench.common import bench_env, embedded_redis_url, figures, prepare_database

SHOP = "bench.myshopify.com"
HEAVY = "gid://shopify/Customer/1"
LIGHT = "gid://shopify/Customer/2"
CHUNK = 20_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q) - 1)]


def load_history(shop_id: int, account_id: int, entries: int) -> None:
    """``entries`` rows: earn +10 (with its lot) then redeem -10 (taking it), alternately."""
    from sqlalchemy import insert

    from integration.extensions import db
    from integration.models.base import utcnow
    from integration.models.loyalty import LoyaltyEntry, LoyaltyLot

    start = utcnow() - timedelta(days=300)
    pairs = entries // 2
    with db.engine.begin() as conn:
        next_id = 1
        for first in range(0, pairs, CHUNK // 2):
            rows, lots = [], []
            for i in range(first, min(pairs, first + CHUNK // 2)):
                at = start + timedelta(seconds=i)
                rows.append({"id": next_id, "shop_id": shop_id, "account_id": account_id, "kind": "earn", "points": 10,
                             "source": "history", "source_id": f"e{i}", "rule": "purchase", "created_at": at})
                lots.append({"account_id": account_id, "entry_id": next_id, "points": 10, "remaining": 0,
                             "expires_at": at + timedelta(days=365), "created_at": at})
                rows.append({"id": next_id + 1, "shop_id": shop_id, "account_id": account_id, "kind": "redeem",
                             "points": -10, "source": "history", "source_id": f"r{i}", "rule": "redeem",
                             "created_at": at})
                next_id += 2
            conn.execute(insert(LoyaltyEntry.__table__), rows)
            conn.execute(insert(LoyaltyLot.__table__), lots)
        if conn.dialect.name == "postgresql":
            from sqlalchemy import text

            conn.execute(text("SELECT setval(pg_get_serial_sequence('loyalty_entries', 'id'), :n)"), {"n": next_id})
            conn.execute(text("ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--entries", type=int, default=0)
    args = parser.parse_args()
    entries = args.entries or (100_000 if args.quick else 1_000_000)
    events = 1_000 if args.quick else 10_000
    reads = 3_000 if args.quick else 20_000

    from integration import create_app
    from integration.config import Config

    with tempfile.TemporaryDirectory() as instance, embedded_redis_url() as redis_url:
        env = bench_env(instance, args.database_url or f"sqlite:///{instance}/bench.sqlite3", redis_url, "bench")
        config = Config.from_env(env)
        prepare_database(config)
        app = create_app(config)
        with app.app_context():
            result = run(entries, events, reads)
        rss = psutil.Process().memory_info().rss / 2**20

    print(f"history: {entries} entries loaded in {result['load_s']:.1f} s")
    print(f"events:  {figures(per_s=result['per_s'], p50_ms=result['event_p50'], p99_ms=result['event_p99'])}")
    print(f"balance at {entries} entries: {figures(p50_ms=result['heavy_p50'], p99_ms=result['heavy_p99'])}")
    print(f"balance at 10 entries (baseline): {figures(p50_ms=result['light_p50'], p99_ms=result['light_p99'])}")
    print(f"database={config.database_url.split(':')[0]} balance={result['balance']} "
          "target: ratio ~1 (balance reads independent of history)")
    print(figures(per_s=result["per_s"], p50_ms=result["heavy_p50"], p99_ms=result["heavy_p99"],
                  ratio=result["heavy_p99"] / result["light_p99"], rss_mb=rss, errors=result["errors"]))


def run(entries: int, events: int, reads: int) -> dict:
    from sqlalchemy import func, select

    from integration.domain import loyalty as domain
    from integration.extensions import db
    from integration.loyalty import ledger as loyalty
    from integration.loyalty.program import load_rules
    from integration.models import Shop
    from integration.models.loyalty import LoyaltyEntry, LoyaltyLot, LoyaltyProgram, LoyaltyTier

    shop = Shop(domain=SHOP, status="installed")
    db.session.add(shop)
    db.session.flush()
    db.session.add(LoyaltyProgram(shop_id=shop.id, enabled=True, member_days=[], reward_options=[]))
    db.session.add_all([LoyaltyTier(shop_id=shop.id, name="Silver", threshold=500),
                        LoyaltyTier(shop_id=shop.id, name="Gold", threshold=5000)])
    db.session.commit()
    rules = load_rules(shop.id)
    heavy = loyalty.ensure_account(shop.id, HEAVY, rules=rules)
    light = loyalty.ensure_account(shop.id, LIGHT, rules=rules)
    db.session.commit()
    started = time.perf_counter()
    load_history(shop.id, heavy, entries)
    load_s = time.perf_counter() - started
    for i in range(10):
        loyalty.credit(shop.id, light, 5, kind=domain.EARN, source="light", source_id=str(i), rule="x", rules=rules)
    loyalty.credit(shop.id, heavy, 1_000_000, kind=domain.ADJUST, source="seed", source_id="1", rule="seed",
                   rules=rules)
    db.session.commit()

    errors = 0
    latencies = []
    started = time.perf_counter()
    for i in range(events):
        t = time.perf_counter()
        try:
            rules = load_rules(shop.id)
            if i % 10 < 7:
                loyalty.credit(shop.id, heavy, 10, kind=domain.EARN, source="bench", source_id=str(i),
                               rule="purchase", rules=rules)
            else:
                loyalty.debit(shop.id, heavy, 25, kind=domain.REDEEM, source="bench", source_id=str(i),
                              rule="redeem", rules=rules)
            db.session.commit()
        except Exception:
            db.session.rollback()
            errors += 1
        latencies.append(time.perf_counter() - t)
    per_s = events / (time.perf_counter() - started)

    # Reads alternate heavy / light one by one, so the machine's noise (other processes, the
    # collector) falls on both alike; the collector is paused while timing.
    heavy_reads, light_reads = [], []
    for customer in (LIGHT, HEAVY) * 200:  # warm-up
        loyalty.balance(shop.id, customer)
    gc.collect()
    gc.disable()
    try:
        for _ in range(reads):
            for customer, out in ((HEAVY, heavy_reads), (LIGHT, light_reads)):
                t = time.perf_counter()
                loyalty.balance(shop.id, customer)
                out.append(time.perf_counter() - t)
    finally:
        gc.enable()
    db.session.rollback()

    balance = loyalty.balance(shop.id, HEAVY)
    total = db.session.execute(select(func.sum(LoyaltyEntry.points)).where(LoyaltyEntry.account_id == heavy)).scalar()
    open_lots = db.session.execute(select(func.sum(LoyaltyLot.remaining))
                                   .where(LoyaltyLot.account_id == heavy)).scalar()
    count = db.session.execute(select(func.count()).select_from(LoyaltyEntry)).scalar()
    errors += (balance != total) + (balance != open_lots) + (count < entries)
    ms = 1000
    return {"load_s": load_s, "per_s": per_s, "event_p50": statistics.median(latencies) * ms,
            "event_p99": percentile(latencies, 0.99) * ms, "heavy_p50": statistics.median(heavy_reads) * ms,
            "heavy_p99": percentile(heavy_reads, 0.99) * ms, "light_p50": statistics.median(light_reads) * ms,
            "light_p99": percentile(light_reads, 0.99) * ms, "balance": balance, "errors": errors}


if __name__ == "__main__":
    main()
