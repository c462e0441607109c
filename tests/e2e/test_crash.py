"""Crash test: 500 orders while worker processes are SIGKILLed at random points, then restarted.

Every order must reach its warehouse exactly once, and every shipment must become exactly one
Shopify fulfillment. Real worker processes (`python -m jobs.worker`), real Redis and database,
the Shopify and WINIT emulators over HTTP. After the kills, recovery is what production does
after a crash: restarted workers and the cron's healing jobs (``jobs.recovery.heal_queues`` for
what RQ itself loses, then the inbox and warehouse sweepers) — with their clocks moved forward
instead of waiting the real minutes.

Runs once per suite: on PostgreSQL when ``TEST_DATABASE_URL`` is set, else on SQLite. About ten
minutes: ``NEARSTOCK_SKIP_CRASH_TEST=1`` skips it.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from integration.extensions import db, queues
from integration.inbox import events as inbox
from integration.job_liveness import enqueue_unless_alive
from integration.models import OutboundOrder, Shipment, StockLevel, WebhookEvent
from integration.models.base import utcnow
from jobs import recovery, warehousing
from tests.e2e.test_warehouse_flow import BERLIN_ADDRESS, stack  # noqa: F401 - the fixture
from tests.shopify_fixtures import SHOPIFY_SHOP

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]
ROOT = Path(__file__).resolve().parents[2]
ORDERS = 500


class Workers:
    """Real `python -m jobs.worker` processes, killable at will."""

    def __init__(self, env: dict[str, str], log: Path, count: int = 3) -> None:
        self.env, self.count = env, count
        self.log = log  # a *.log in tmp_path: searched for personal data (tests/log_privacy.py)
        self.procs: list[subprocess.Popen] = []
        self.kills = 0

    def start(self) -> None:
        while len([p for p in self.procs if p.poll() is None]) < self.count:
            # Own process group: RQ's scheduler runs as a child of each worker and must die with it.
            with self.log.open("ab") as log:  # the child keeps its own descriptor
                self.procs.append(subprocess.Popen(
                    [sys.executable, "-m", "jobs.worker"], cwd=ROOT, env=self.env,
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def kill_one(self, rng: random.Random) -> None:
        alive = [p for p in self.procs if p.poll() is None]
        if alive:
            victim = rng.choice(alive)
            os.killpg(victim.pid, signal.SIGKILL)
            victim.wait()
            self.kills += 1

    def chaos(self, stop: threading.Event, rng: random.Random) -> None:
        # A kill every 1.5-4 s: often enough to land mid-job many times, rarely enough for the
        # restarted workers (about a second to start) to make progress in between.
        while not stop.wait(rng.uniform(1.5, 4.0)):
            self.kill_one(rng)
            self.start()

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        for p in self.procs:  # what is left of each group (a scheduler child) goes too
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)


def worker_env(app) -> dict[str, str]:
    cfg = app.config["NEARSTOCK"]
    return {**os.environ, "NEARSTOCK_ENV": "testing", "DATABASE_URL": cfg.database_url, "REDIS_URL": cfg.redis_url,
            "NEARSTOCK_ENCRYPTION_KEY": ",".join(cfg.encryption_keys), "SECRET_KEY": cfg.secret_key,
            "SHOPIFY_API_KEY": cfg.shopify_api_key, "SHOPIFY_API_SECRET": cfg.shopify_api_secret,
            "APP_URL": cfg.app_url, "SHOPIFY_ENDPOINT": cfg.shopify_endpoint,
            "NEARSTOCK_INSTANCE_PATH": str(cfg.instance_path), "LOG_LEVEL": "ERROR"}


def recover() -> None:
    """An hour passes after the crash: the cron jobs of ``jobs/cron.py`` that heal it run, with
    their clocks moved forward. Nothing here that production does not do."""
    later = utcnow() + timedelta(hours=1)
    recovery.heal_queues(now=later.timestamp())  # dead workers' jobs and retries, no scheduler
    inbox.sweep_stale_events(now=later)  # events whose job was lost
    warehousing.sweep_warehouse_work(older_than_minutes=-60)  # orders, pushes, fulfillments


def repoll_unshipped() -> None:
    """The poll cron (``poll_open_outbounds``), for the outbounds not known as shipped yet: the
    cron also polls shipped ones for tracking, every round, so the queues would never be idle."""
    unshipped = db.session.execute(select(OutboundOrder.id).where(OutboundOrder.status == "pushed")).scalars()
    enqueue_unless_alive("low", "jobs.warehousing.poll_outbound",
                         [(f"poll-outbound-{outbound_id}", (outbound_id,)) for outbound_id in unshipped], retry=None)


def wait_until(predicate, timeout: float, step: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def idle() -> bool:
    # Looks without cleaning up (``.count`` would run RQ's registry cleanup): recovery is
    # recover()'s alone, as it is the cron's in production.
    return not any(q.count or q.started_job_registry.get_job_count(cleanup=False) for q in queues.all())


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.skipif(bool(os.environ.get("NEARSTOCK_SKIP_CRASH_TEST")),
                    reason="NEARSTOCK_SKIP_CRASH_TEST is set (the crash test takes minutes)")
def test_killed_workers_never_duplicate_an_outbound_order_or_a_fulfillment(stack, database_url, tmp_path):  # noqa: F811
    if database_url.startswith("sqlite") and os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("minutes long: runs once per suite, on PostgreSQL when it is configured")
    rng = random.Random(20261122)
    stack.winit.sim.set_stock("DEWH", "MUG-BLUE", 10 * ORDERS)
    db.session.execute(StockLevel.__table__.update().where(StockLevel.sku == "MUG-BLUE").values(on_hand=10 * ORDERS))
    db.session.commit()
    workers = Workers(worker_env(stack.app), tmp_path / "workers.log")
    try:
        _run(stack, workers, rng)
    finally:
        workers.stop()


def _run(stack, workers: Workers, rng: random.Random) -> None:  # noqa: F811 - the fixture value
    workers.start()
    stop = threading.Event()
    chaos = threading.Thread(target=workers.chaos, args=(stop, rng), daemon=True)
    chaos.start()
    try:
        for i in range(ORDERS):
            stack.shopify.add_order(SHOPIFY_SHOP, line_items=[{"sku": "MUG-BLUE", "quantity": 1 + i % 3}],
                                    shipping_address=BERLIN_ADDRESS, email=f"c{i}@example.com")
        assert stack.shopify.flush_webhooks(timeout=120)
        wait_until(lambda: count(OutboundOrder) == ORDERS, timeout=120)
    finally:
        stop.set()
        chaos.join()
    assert workers.kills >= 5, "the chaos thread did not get to kill anything"
    # Restart and recover until everything is pushed.
    for _ in range(10):
        workers.start()
        recover()
        if wait_until(lambda: count(OutboundOrder, OutboundOrder.status == "pushed") == ORDERS and idle(), 60):
            break
    assert count(WebhookEvent, WebhookEvent.topic == "orders/create") == ORDERS
    assert count(OutboundOrder) == ORDERS
    assert count(OutboundOrder, OutboundOrder.status == "pushed") == ORDERS
    sim_orders = stack.winit.sim.orders
    ours = set(db.session.execute(select(OutboundOrder.reference)).scalars())
    assert set(sim_orders) == ours and len(sim_orders) == ORDERS  # each reached WINIT exactly once
    reserved = db.session.execute(select(StockLevel.reserved).where(StockLevel.sku == "MUG-BLUE")).scalar_one()
    assert reserved == sum(1 + i % 3 for i in range(ORDERS))

    # Ship everything; poll and fulfil while workers keep dying.
    stack.winit.sim.advance(3 * 3600)
    stop.clear()
    chaos = threading.Thread(target=workers.chaos, args=(stop, rng), daemon=True)
    chaos.start()
    try:
        for outbound_id in db.session.execute(select(OutboundOrder.id)).scalars():
            queues.enqueue("sync", "jobs.warehousing.poll_outbound", outbound_id, job_id=f"crash-poll-{outbound_id}",
                           unique=True)
        wait_until(lambda: count(Shipment, Shipment.shopify_fulfillment_id.is_not(None)) == ORDERS, timeout=120)
    finally:
        stop.set()
        chaos.join()
    for _ in range(10):
        workers.start()
        recover()
        repoll_unshipped()
        if wait_until(lambda: count(Shipment, Shipment.shopify_fulfillment_id.is_not(None)) == ORDERS and idle(), 60):
            break
    assert count(Shipment) == ORDERS
    assert count(Shipment, Shipment.shopify_fulfillment_id.is_not(None)) == ORDERS
    fulfillments = stack.shopify.fulfillments(SHOPIFY_SHOP)
    assert len(fulfillments) == ORDERS  # one per shipment: none created twice
    assert db.session.execute(select(StockLevel.reserved).where(StockLevel.sku == "MUG-BLUE")).scalar_one() == 0
