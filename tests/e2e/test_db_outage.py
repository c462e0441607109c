"""End to end: PostgreSQL goes away under load for 10 s; the workers ride it out.

Two real ``python -m jobs.worker`` processes reach PostgreSQL through a TCP proxy run by this test,
which cuts the database away from them (every connection closed, new ones refused) without
touching the machine's PostgreSQL server, which others use. Orders flow as in production, from
the Shopify emulator's signed ``orders/create`` webhooks to outbound orders at the WINIT emulator;
the web side (this process's app, served on a port) keeps its own direct connection, so orders
keep arriving during the outage. The workers are frozen while a backlog builds and cut off the
moment they resume, so jobs are in flight when the database goes. Every worker must still run
afterwards, and every order must be allocated once and pushed once within 30 s of the database
returning.

PostgreSQL only (SQLite has no server to lose): skipped without ``TEST_DATABASE_URL``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from integration import create_app
from integration.extensions import db, queues
from integration.models import Order, OutboundOrder, StockLevel, WebhookEvent
from integration.models.webhook_event import EventStatus
from sandbox.server import serve
from sandbox.shopify.app_config import AppConfig
from tests.conftest import make_config
from tests.e2e.test_make_run import free_port
from tests.e2e.test_outage import OUTAGE_S, RECOVERY_S, ROOT, signal_all, stop_all, wait_until
from tests.e2e.test_warehouse_flow import BERLIN_ADDRESS, seed_world
from tests.shopify_fixtures import SHOPIFY_SHOP
from tests.test_notif_support import worker_env

pytestmark = [
    pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(240),
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                       reason="TEST_DATABASE_URL is not set: the database outage test needs a PostgreSQL server to "
                              "cut the workers off from"),
]


class CuttableProxy:
    """A TCP proxy on 127.0.0.1 in front of ``target``. ``cut()`` closes every connection and
    stops listening, so new ones are refused, as when the server is down; ``restore()`` listens
    again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, free_port()
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        self.listener: socket.socket | None = None

    def restore(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR: the same port again
        listener.settimeout(0.1)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.close()
        with self.lock:
            sockets, self.sockets = self.sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while self.listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by cut()
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets |= {client, upstream}
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):  # either side gone: the other goes too, as a dead server's would
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def start_worker(env: dict[str, str], log) -> subprocess.Popen:
    with log.open("ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def add_orders(shopify, count: int, pause: float = 0.0) -> None:
    for _ in range(count):
        shopify.add_order(SHOPIFY_SHOP, line_items=[{"sku": "MUG-BLUE", "quantity": 1}],
                          shipping_address=BERLIN_ADDRESS, email="ada@example.com")
        time.sleep(pause)


def pushed_orders() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(OutboundOrder).where(OutboundOrder.status == "pushed"))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_workers_ride_out_a_database_outage(tmp_path, database_url, redis_url, redis_conn, make_shopify_emulator,
                                           winit_emulator, make_shipbob_emulator):
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    shopify = make_shopify_emulator(app_url=app_url, app_config=AppConfig.load())  # shopify.app.toml
    app = create_app(make_config(tmp_path, database_url, redis_url, APP_URL=app_url, SHOPIFY_ENDPOINT=shopify.url))
    server = serve(app, port=port)
    direct = make_url(database_url)
    proxy = CuttableProxy((direct.host, direct.port or 5432))
    proxy.restore()
    through_proxy = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    env = worker_env(app, DATABASE_URL=through_proxy, SHOPIFY_ENDPOINT=shopify.url)
    log = tmp_path / "workers.log"  # searched for personal data (tests/log_privacy.py)
    workers = []
    try:
        with app.app_context():
            ids, _shipbob = seed_world(shopify, winit_emulator, make_shipbob_emulator, app_url)
            workers = [start_worker(env, log) for _ in range(2)]
            add_orders(shopify, 10)
            assert wait_until(lambda: pushed_orders() == 10, 60), log.read_text()

            # A backlog waits for the frozen workers; they resume and lose the database at once,
            # while more orders arrive.
            signal_all(workers, signal.SIGSTOP)
            add_orders(shopify, 30)
            assert shopify.flush_webhooks(), "the web side did not acknowledge every webhook"
            stream = threading.Thread(target=add_orders, args=(shopify, 20, OUTAGE_S / 25), daemon=True)
            signal_all(workers, signal.SIGCONT)
            time.sleep(0.05)
            proxy.cut()
            stream.start()
            in_flight = 40 - pushed_orders()
            time.sleep(OUTAGE_S)
            proxy.restore()
            back = time.monotonic()
            stream.join(timeout=30)
            assert shopify.flush_webhooks(), "the web side did not acknowledge every webhook"

            done = wait_until(lambda: pushed_orders() == 60, RECOVERY_S)
            recovered_in = time.monotonic() - back
            assert [w.poll() for w in workers] == [None, None], log.read_text()  # every worker still runs
            assert done, f"{pushed_orders()} of 60 orders pushed {recovered_in:.0f} s after the database returned"
            assert in_flight > 0, "no order was waiting when the database went: the test proved nothing"
            # Each order once: one order row, one allocation's reservation, one outbound at WINIT.
            assert db.session.scalar(select(func.count()).select_from(Order)) == 60
            reserved = db.session.scalar(select(StockLevel.reserved).where(
                StockLevel.warehouse_id == ids["dewh"], StockLevel.sku == "MUG-BLUE"))
            assert reserved == 60
            assert len(winit_emulator.sim.orders) == 60
            assert db.session.scalar(select(func.count()).select_from(WebhookEvent).where(
                WebhookEvent.topic == "orders/create", WebhookEvent.status != EventStatus.DONE)) == 0
            assert sum(queue.failed_job_registry.count for queue in queues.all()) == 0
            print(f"{in_flight} orders in flight; all pushed {recovered_in:.1f} s after the database returned")
    finally:
        stop_all(workers)
        proxy.cut()
        server.shutdown()
        db.session.remove()
        db.engine.dispose()
