"""Chaos: 20 % of the calls to every emulator fail while 200 orders flow end to end.

Shopify, WINIT, ShipBob and the SMTP server answer one call in five with a fault: 429 with
Retry-After, a 5xx, or a slow answer (SMTP: 421 at MAIL, 451 after DATA, a slow DATA). Orders go
webhook -> allocation -> outbound order (WINIT for the mugs, ShipBob for the lamps) -> shipped ->
Shopify fulfillment -> "shipped" email -> loyalty points, carried by the production processes:
three `python -m jobs.worker`, one `python -m jobs.worker notify` and `python -m jobs.cron_runner`, whose
schedule runs compressed (``NEARSTOCK_CRON_SPEEDUP``), so the 10-minute poll round comes every
minute. The warehouses' clocks run on their own, picking and shipping as real time passes.

The same 200-order load first runs with no faults; its drain time is the yardstick. With faults
the load must drain within 3x that, every effect exactly once (one outbound order, one
fulfillment, one shipped email, one points entry per order), no vendor's rate limit exceeded (the
emulators count violations and real throttles), and nothing on any failed-job list.

Runs once per suite: on PostgreSQL when ``TEST_DATABASE_URL`` is set, else on SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from integration.extensions import db, queues
from integration.models import Order, OutboundOrder, OutboundState, Shipment, Shop, StockLevel
from integration.models.loyalty import LoyaltyEntry
from integration.models.notification import Notification
from tests.e2e.test_crash import worker_env
from tests.e2e.test_warehouse_flow import BERLIN_ADDRESS, stack  # noqa: F401 - the fixture
from tests.shopify_fixtures import SHOPIFY_SHOP
from tests.test_loyalty_support import make_program
from tests.test_notif_support import Inbox, SmtpServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1500)]
ROOT = Path(__file__).resolve().parents[2]
ORDERS = 200
FAULT_RATE = 0.2
SPEEDUP = 10  # the cron schedule's intervals / 10: the outbound poll every minute
# Warehouse time: picked and shipped within seconds of the order (30 + 60 minutes at 600x), and
# then a carrier event every 2 days (about 5 real minutes), so that, as in production, a poll
# round finds a parcel shipped and not yet through its whole journey.
SIM_SPEED = 600.0
HOP = 2 * 86400
CEILING = 3.0  # the faulty drain may take at most this many times the fault-free one
OPEN = (OutboundState.PENDING, OutboundState.PUSHED, OutboundState.SHIPPED)


class FaultyInbox(Inbox):
    """The SMTP server's faults: 421 at MAIL (try later), 451 after DATA (not accepted), slow."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng, self.fault_rate, self.injected = rng, 0.0, 0

    def _draw(self, kinds: tuple[str, ...]) -> str | None:
        if self.rng.random() >= self.fault_rate:
            return None
        self.injected += 1
        return self.rng.choice(kinds)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self._draw(("421", "pass")) == "421":
            return "421 4.3.2 Service not available, try again later"
        return await super().handle_MAIL(server, session, envelope, address, mail_options)

    async def handle_DATA(self, server, session, envelope):
        fault = self._draw(("451", "slow"))
        if fault == "451":
            return "451 4.3.0 Local error in processing, try again"
        if fault == "slow":
            await asyncio.sleep(2.0)
        return await super().handle_DATA(server, session, envelope)


class Processes:
    """The Procfile's worker, notify and cron processes, each in its own process group."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log  # a *.log in tmp_path: searched for personal data
        self.procs: list[subprocess.Popen] = []

    def start(self) -> None:
        commands = [[sys.executable, "-m", "jobs.worker"]] * 3 + [
            [sys.executable, "-m", "jobs.worker", "notify"],
            [sys.executable, "-m", "jobs.cron_runner"],
        ]
        for command in commands:
            with self.log.open("ab") as log:  # the child keeps its own descriptor
                self.procs.append(subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log,
                                                   stderr=subprocess.STDOUT, start_new_session=True))

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs)

    def stop(self) -> None:
        for p in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        for p in self.procs:  # a worker's scheduler child goes with its group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def recipient(message) -> str:
    return message["To"].addresses[0].addr_spec


def kind_of(message) -> str:
    return message["X-Nearstock-Notification"].split()[1]


def place_orders(stack, round_no: int) -> list[str]:  # noqa: F811
    emails = []
    for i in range(ORDERS):
        # One in ten to ShipBob in Venlo, the rest to WINIT in Berlin: ShipBob allows 150 calls a
        # minute (the connector budgets 140), which a poll round of its parcels must fit in.
        sku = "LAMP" if i % 10 == 9 else "MUG-BLUE"
        email = f"r{round_no}c{i}@example.com"
        stack.shopify.add_order(SHOPIFY_SHOP, line_items=[{"sku": sku, "quantity": 1 + i % 2}],
                                shipping_address=BERLIN_ADDRESS, email=email, locale="de")
        emails.append(email)
    return emails


def run_round(stack, smtp: SmtpServer, procs: Processes, round_no: int, budget: float) -> float:  # noqa: F811
    """Place 200 orders; return the seconds until every one of them is fulfilled, e-mailed and
    has earned its points (``budget`` seconds at most)."""
    before = {"fulfilled": count(Shipment, Shipment.shopify_fulfillment_id.is_not(None)),
              "earned": count(LoyaltyEntry, LoyaltyEntry.kind == "earn")}
    started = time.monotonic()
    emails = place_orders(stack, round_no)
    deadline = started + budget
    while time.monotonic() < deadline:
        stack.shopify.flush_webhooks(timeout=0.5)
        stack.shipbob.flush_webhooks(timeout=0.5)
        if finished(emails, smtp, before):
            return time.monotonic() - started
        assert procs.alive(), "a worker or the cron died"
        time.sleep(0.5)
    return time.monotonic() - started


def finished(emails: list[str], smtp: SmtpServer, before: dict[str, int]) -> bool:
    wanted = set(emails)
    mailed = {recipient(m) for m in list(smtp.inbox.messages) if kind_of(m) == "shipped"} & wanted
    return (len(mailed) == len(wanted)
            and count(Shipment, Shipment.shopify_fulfillment_id.is_not(None)) - before["fulfilled"] >= ORDERS
            and count(LoyaltyEntry, LoyaltyEntry.kind == "earn") - before["earned"] >= ORDERS)


def quiesce(stack, budget: float = 240) -> None:  # noqa: F811
    """Deliver every parcel and wait for the poll rounds to close them, so the next round
    starts from the same empty backlog as the first."""
    for sim in (stack.winit.sim, stack.shipbob.sim):
        with sim.lock:
            for order in sim.orders.values():
                order.plan = ["delivered"]  # the carrier's next scan is the doorstep: one event each
        sim.advance(HOP)
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        stack.shipbob.flush_webhooks(timeout=0.5)
        db.session.expire_all()
        open_ = count(OutboundOrder, OutboundOrder.status.in_(OPEN))
        if not open_ and not any(q.count for q in queues.all()):
            return
        time.sleep(1)
    raise AssertionError(f"{open_} outbound orders still open after the fault-free round")


@pytest.mark.skipif(bool(os.environ.get("NEARSTOCK_SKIP_CRASH_TEST")),
                    reason="NEARSTOCK_SKIP_CRASH_TEST is set (the chaos test takes minutes)")
def test_twenty_percent_faults_everywhere_delay_but_never_duplicate_or_lose(stack, database_url, tmp_path):  # noqa: F811
    if database_url.startswith("sqlite") and os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("minutes long: runs once per suite, on PostgreSQL when it is configured")
    rng = random.Random(20261207)
    smtp = SmtpServer()
    smtp.inbox = FaultyInbox(rng)
    smtp.start()
    prepare_shop(stack)
    env = {**worker_env(stack.app), "SMTP_URL": smtp.url, "NEARSTOCK_CRON_SPEEDUP": str(SPEEDUP),
           "LOG_LEVEL": "WARNING"}
    procs = Processes(env, tmp_path / "processes.log")
    for sim in (stack.winit.sim, stack.shipbob.sim):
        sim.hop = HOP
        sim.run_clock(SIM_SPEED)
    try:
        procs.start()
        calm = run_round(stack, smtp, procs, 1, budget=600)
        print(f"chaos: the fault-free round drained in {calm:.1f} s", flush=True)
        assert finished_counts(stack) == (ORDERS, ORDERS), "the fault-free round did not finish in 10 minutes"
        quiesce(stack)

        stack.shopify.set_fault_rate(FAULT_RATE, kinds=("429", "500", "slow"))
        stack.winit.faults.set(FAULT_RATE, ("429", "500", "slow"))
        stack.shipbob.faults.set(FAULT_RATE, ("429", "500", "slow"))
        smtp.inbox.fault_rate = FAULT_RATE
        # Waited for past the ceiling (up to a hard cap), so a miss says by how much.
        stormy = run_round(stack, smtp, procs, 2, budget=max(2 * CEILING * calm, 300))
    finally:
        procs.stop()
        stack.winit.sim.stop_clock()
        stack.shipbob.sim.stop_clock()
        smtp.stop()

    print(f"chaos: fault-free drain {calm:.1f} s, with {FAULT_RATE:.0%} faults {stormy:.1f} s "
          f"(ratio {stormy / calm:.2f}); injected: shopify {faults_at_shopify(stack)}, "
          f"winit {len(stack.winit.faults.injected)}, shipbob {len(stack.shipbob.faults.injected)}, "
          f"smtp {smtp.inbox.injected}")
    assert faults_at_shopify(stack) and stack.winit.faults.injected and stack.shipbob.faults.injected
    assert smtp.inbox.injected
    assert stormy <= CEILING * calm, f"with faults {stormy:.0f} s, over {CEILING}x the fault-free {calm:.0f} s"
    assert_each_effect_once(stack, smtp)
    assert stack.winit.violations == 0 and stack.shipbob.violations == []
    assert stack.shopify.throttled_count(SHOPIFY_SHOP) == 0
    failed = {q.name: q.failed_job_registry.get_job_ids() for q in queues.all()}
    assert not any(failed.values()), f"failed jobs: {failed_jobs(failed)}"


def failed_jobs(failed: dict[str, list[str]]) -> list[str]:
    """Each failed job's function and the last line of its error: what to look at first."""
    out = []
    for queue in queues.all():
        for job_id in failed.get(queue.name, []):
            job = queue.fetch_job(job_id)
            result = job.latest_result() if job else None
            error = (result.exc_string or "").strip().splitlines() if result else []
            out.append(f"{queue.name}: {job.func_name if job else job_id}: {error[-1] if error else '?'}")
    return out


def prepare_shop(stack) -> None:  # noqa: F811
    shop = db.session.get(Shop, stack.ids["shop"])
    shop.name, shop.email = "Acme Homeware", "owner@acme.example"
    for warehouse, sku in ((stack.ids["dewh"], "MUG-BLUE"), (stack.ids["venlo"], "LAMP")):
        db.session.execute(StockLevel.__table__.update().where(StockLevel.warehouse_id == warehouse,
                                                               StockLevel.sku == sku).values(on_hand=10 * ORDERS))
    db.session.commit()
    stack.winit.sim.set_stock("DEWH", "MUG-BLUE", 10 * ORDERS)
    stack.shipbob.set_stock(87, "LAMP", 10 * ORDERS)
    make_program(stack.ids["shop"])


def finished_counts(stack) -> tuple[int, int]:  # noqa: F811
    return (count(Shipment, Shipment.shopify_fulfillment_id.is_not(None)),
            count(LoyaltyEntry, LoyaltyEntry.kind == "earn"))


def faults_at_shopify(stack) -> int:  # noqa: F811
    return sum(1 for call in list(stack.shopify.calls) if call.get("fault"))


def assert_each_effect_once(stack, smtp: SmtpServer) -> None:  # noqa: F811
    total = 2 * ORDERS
    assert count(Order) == total
    references = list(db.session.execute(select(OutboundOrder.reference)).scalars())
    assert len(references) == len(set(references)) == total  # one outbound order per order
    created_at_winit = [c for c in stack.winit.calls_to("createOutboundOrder") if str(c.get("code")) == "0"]
    assert len(created_at_winit) == len(stack.winit.sim.orders) == 9 * total // 10
    assert len(stack.shipbob.sim.orders) == total // 10
    fulfillments = stack.shopify.fulfillments(SHOPIFY_SHOP)
    assert len(fulfillments) == len({f["order_id"] for f in fulfillments}) == total  # one per order
    shipped = [recipient(m) for m in smtp.inbox.messages if kind_of(m) == "shipped"]
    assert len(shipped) == len(set(shipped)) == total  # one shipped e-mail per customer
    assert count(Notification, Notification.kind == "shipped", Notification.status == "sent") == total
    earned = db.session.execute(select(LoyaltyEntry.account_id, func.count()).where(LoyaltyEntry.kind == "earn")
                                .group_by(LoyaltyEntry.account_id)).all()
    assert len(earned) == total and all(n == 1 for _, n in earned)  # one points entry per customer
