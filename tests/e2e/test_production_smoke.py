"""Production smoke test: what docker-compose.yml runs, on this machine's PostgreSQL and Redis.

The release step (migrations) on an empty database, then every other Procfile process (web,
worker, notify, cron), each started the way the image starts it (``docker/entrypoint.sh NAME``
runs that Procfile line), as subprocesses with ``NEARSTOCK_ENV=production``. The vendors are the
sandbox emulators: Shopify through ``SHOPIFY_ENDPOINT``, which production accepts; WINIT through
its account row's endpoint, written here as the e2e tests do, because production's setup API only
accepts an https endpoint on the vendor's own domain. One order end to end: the emulator's signed
``orders/create`` webhook to the web process -> stored -> allocated -> outbound order created at
WINIT.

PostgreSQL only, what production runs on: skipped without ``TEST_DATABASE_URL``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
import requests
from rq.job import Job
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from bench.common import free_port
from integration import create_app
from integration.config import PROJECT_ROOT
from integration.extensions import QUEUE_NAMES, db, queues, redis
from integration.job_serializer import JobSerializer
from integration.models import Allocation, Order, OutboundOrder, StockLevel, WebhookEvent
from integration.models.webhook_event import EventStatus
from sandbox.shopify.app_config import AppConfig
from tests.conftest import make_config
from tests.e2e.test_warehouse_flow import BERLIN_ADDRESS, seed_world
from tests.shopify_fixtures import SHOPIFY_SHOP
from tests.test_notif_support import smtp_server, worker_env  # noqa: F401 - the fixture
from tests.unit.test_deploy_files import ENTRYPOINT, procfile

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
# Compose's stop_grace_period: every process must be gone this long after SIGTERM.
GRACE_SECONDS = 30


@pytest.fixture
def empty_database():
    """A new PostgreSQL database beside TEST_DATABASE_URL's, dropped afterwards: the release step
    must build the schema from nothing, as on a first deploy."""
    given = os.environ.get("TEST_DATABASE_URL")
    if not given:
        pytest.skip("TEST_DATABASE_URL is not set: the production smoke test runs on PostgreSQL only")
    base = make_url(given).set(drivername="postgresql+psycopg")
    name = f"{base.database}_smoke_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except ProgrammingError as exc:  # a role without CREATEDB
        admin.dispose()
        pytest.skip(f"TEST_DATABASE_URL's role cannot create the smoke test's database: {exc.orig}")
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class Processes:
    """Procfile processes started through the image's entrypoint, each in its own process group
    (gunicorn's workers, the RQ worker's scheduler child) and with its output in a file."""

    def __init__(self, env: dict[str, str], logs) -> None:
        self.env, self.logs = env, logs
        self.procs: dict[str, subprocess.Popen] = {}

    def run(self, name: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(["/bin/sh", str(ENTRYPOINT), name], cwd=PROJECT_ROOT, env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def start(self, name: str) -> subprocess.Popen:
        with open(self.logs / f"{name}.log", "wb") as log:  # the child keeps its own descriptor
            self.procs[name] = subprocess.Popen(["/bin/sh", str(ENTRYPOINT), name], cwd=PROJECT_ROOT, env=self.env,
                                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self.procs[name]

    def output(self) -> str:
        return "\n".join(f"--- {name}\n{(self.logs / f'{name}.log').read_text()[-2000:]}" for name in self.procs)

    def stop(self) -> dict[str, int | None]:
        """SIGTERM, as `docker stop` sends it; what is still there after the grace period is killed."""
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        codes = {}
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                codes[name] = None
            with contextlib.suppress(ProcessLookupError):  # leftovers of the group
                os.killpg(proc.pid, signal.SIGKILL)
        return codes


def wait_for(predicate, timeout: float, step: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def healthy_with_worker(app_url: str) -> dict | None:
    try:
        r = requests.get(f"{app_url}/healthz", timeout=2)
    except requests.RequestException:
        return None
    body = r.json()
    return body if r.status_code == 200 and body["workers"]["count"] >= 1 else None


def pushed_outbound() -> OutboundOrder | None:
    db.session.expire_all()
    return db.session.execute(select(OutboundOrder).where(OutboundOrder.status == "pushed")).scalar_one_or_none()


def finished_jobs() -> set[str]:
    """The functions of the jobs the worker has finished, from RQ's registries in Redis."""
    names = set()
    for queue in queues.all():
        jobs = Job.fetch_many(queue.finished_job_registry.get_job_ids(), connection=redis.client,
                              serializer=JobSerializer)
        names |= {job.func_name for job in jobs if job is not None}
    return names


def test_one_order_end_to_end_on_the_production_processes(
        tmp_path, empty_database, redis_url, redis_conn, smtp_server, make_shopify_emulator,  # noqa: F811
        winit_emulator, make_shipbob_emulator):
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    shopify = make_shopify_emulator(app_url=app_url, app_config=AppConfig.load())  # shopify.app.toml
    # This process's app only writes the shop's rows and reads the results; it shares the
    # processes' database, Redis and encryption key.
    app = create_app(make_config(tmp_path, empty_database, redis_url, APP_URL=app_url, SHOPIFY_ENDPOINT=shopify.url,
                                 SMTP_URL=smtp_server.url))
    env = worker_env(app, NEARSTOCK_ENV="production", SHOPIFY_ENDPOINT=shopify.url, PORT=str(port), LOG_LEVEL="INFO",
                     WEB_CONCURRENCY="1", WEB_THREADS="4",
                     # The venv's gunicorn, flask and rq, as the image's are on its PATH.
                     PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
    processes = Processes(env, tmp_path)

    release = processes.run("release")
    assert release.returncode == 0, release.stdout + release.stderr
    assert "database at heads" in release.stdout

    with app.app_context():
        ids, _shipbob = seed_world(shopify, winit_emulator, make_shipbob_emulator, app_url)
        try:
            for name in procfile():
                if name != "release":
                    processes.start(name)
            assert wait_for(lambda: healthy_with_worker(app_url), timeout=60), processes.output()
            # The entrypoint's shell exec'd the Procfile line: the web process is gunicorn itself.
            command = " ".join(psutil.Process(processes.procs["web"].pid).cmdline())
            assert "gunicorn" in command and "integration:create_app()" in command

            shopify.add_order(SHOPIFY_SHOP, line_items=[{"sku": "MUG-BLUE", "quantity": 2}],
                              shipping_address=BERLIN_ADDRESS, email="ada@example.com")
            assert shopify.flush_webhooks(), "the web process did not acknowledge the webhook"
            outbound = wait_for(pushed_outbound, timeout=60)
            assert outbound is not None, processes.output()

            [event] = db.session.execute(select(WebhookEvent).where(WebhookEvent.topic == "orders/create")).scalars()
            assert event.status == EventStatus.DONE and event.shop_domain == SHOPIFY_SHOP
            order = db.session.execute(select(Order)).scalar_one()
            assert order.shipping_country == "DE"
            [allocation] = db.session.execute(select(Allocation)).scalars()
            assert allocation.warehouse_id == ids["dewh"] == outbound.warehouse_id
            reserved = db.session.execute(select(StockLevel.reserved).where(
                StockLevel.warehouse_id == ids["dewh"], StockLevel.sku == "MUG-BLUE")).scalar_one()
            assert reserved == 2
            assert winit_emulator.sim.orders[outbound.reference].lines == [("MUG-BLUE", 2)]
            # The cron enqueues its interval jobs on start; only it enqueues heal_queues.
            assert wait_for(lambda: "jobs.recovery.heal_queues" in finished_jobs(), timeout=30), processes.output()
            failed = {queue.name: queue.failed_job_registry.count for queue in queues.all()}
            assert failed == dict.fromkeys(QUEUE_NAMES, 0), processes.output()
            stopped = [name for name, proc in processes.procs.items() if proc.poll() is not None]
            assert stopped == [], processes.output()
        finally:
            codes = processes.stop()
            db.session.remove()
            db.engine.dispose()
    assert set(codes.values()) == {0}, (codes, processes.output())
