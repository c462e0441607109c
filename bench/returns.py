"""Return requests processed per second end to end against the emulators, with the outbound-order
pipeline of the same run as the baseline.

The app is served on a loopback port and the Shopify emulator delivers its webhooks to it (HMAC,
inbox, ``process_event``); jobs run in RQ burst workers in this process; the WINIT emulator is the
warehouse (one in Germany). Both pipelines run in alternating rounds of ``--batch`` items, so both
see the same machine:

* baseline, an order: placed at Shopify -> imported from ``orders/create`` -> routed, reserved and
  pushed to the warehouse -> shipped there (the emulator's clock moved) -> the poll records the
  parcel and makes Shopify's fulfillment. The "shipped" notice is queued.
* measured, a return of one of those orders: the customer's self-serve request at Shopify ->
  ``returns/request`` stored and approved by the shop's rules -> approved at Shopify and an RMA at
  the warehouse -> received and inspected there (the emulator's clerk) -> the returns poll sees
  both -> processed at Shopify with a refund. Notices queued: approved, received, refund.

An item's latency is its round's wall time (the items of a round go through together); ``per_s``
is items over the time spent in that pipeline. Afterwards every item is checked: one outbound
order shipped per order, one return closed and refunded once at Shopify per return, one notice of
each kind; anything else counts in ``errors``, with every failed job.

Target (issue 23): ratio (returns per_s / orders per_s) >= 0.5, errors = 0.

    python bench/returns.py [--quick] [--database-url postgresql://...] [--batch N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import bench_env, embedded_redis_url, figures, free_port, prepare_database

SHOP = "bench.myshopify.com"
API_KEY, SECRET = "bench", "bench-secret"
BERLIN = {"first_name": "Ada", "last_name": "Lovelace", "address1": "Unter den Linden 1", "city": "Berlin",
          "zip": "10117", "country_code": "DE"}
EMAIL = "ada@example.com"
SKU = "MUG-BLUE"
HOUR = 3600
RETURN_NOTICES = ("return_approved", "return_received", "refund_processed")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


class Bench:
    def __init__(self, app, shopify, winit, batch: int) -> None:
        from tests.helpers import Drainer

        self.app, self.shopify, self.winit, self.batch = app, shopify, winit, batch
        self.worker = Drainer(app)
        self.failed_jobs = 0
        self.timings: dict[str, list[float]] = {"orders": [], "returns": []}
        self.latencies: dict[str, list[float]] = {"orders": [], "returns": []}

    def settle(self) -> None:
        """Deliver every webhook and run every job (due retries too) until nothing moves."""
        from integration.extensions import queues

        for _ in range(60):
            self.shopify.flush_webhooks()
            self.worker.run()
            self.shopify.flush_webhooks()
            if not any(q.count for q in queues.all()):
                break
        else:
            raise RuntimeError("the pipeline did not settle")
        self.failed_jobs = sum(q.failed_job_registry.count for q in queues.all())

    def seed(self) -> None:
        import json

        from integration.extensions import db
        from integration.models import ReturnRulesRow, Shop, StockLevel, Variant, Warehouse, WarehouseAccount
        from tests.winit_fixtures import winit_credentials

        berlin = self.shopify.add_location(SHOP, "Berlin (WINIT)", "DE", city="Berlin", zip="10115")
        spec = {"sku": SKU, "title": "Blue", "price": "12.50", "quantities": {berlin: 1_000_000}}
        product = self.shopify.add_product(SHOP, "Mug", [spec])
        token = self.shopify.grant_token(SHOP, self.shopify.oauth.default_scopes)
        shop = Shop(domain=SHOP, access_token=token, status="installed", currency="EUR")
        db.session.add(shop)
        db.session.flush()
        account = WarehouseAccount(shop_id=shop.id, provider="winit", name="WINIT",
                                   credentials=json.dumps(winit_credentials()), endpoint=self.winit.url)
        db.session.add(account)
        db.session.flush()
        de = Warehouse(shop_id=shop.id, account_id=account.id, code="DEWH", name="WINIT Berlin", country_code="DE",
                       region="EU", location_shopify_id=berlin, transit_days={"DE": [1, 2], "*": [3, 6]})
        db.session.add(de)
        db.session.flush()
        db.session.add(Variant(shop_id=shop.id, shopify_id=spec["id"], product_shopify_id=product,
                               inventory_item_id=spec["inventory_item_id"], sku=SKU, title="Blue"))
        db.session.add(StockLevel(shop_id=shop.id, warehouse_id=de.id, sku=SKU,
                                  on_hand=self.winit.sim._stock_of("DEWH", SKU).on_hand))
        db.session.add(ReturnRulesRow(shop_id=shop.id, window_days=30, accepted_reasons=[], non_returnable_skus=[],
                                      auto_approve=True, reship_when_lost=False))
        db.session.commit()

    def _timed(self, side: str, count: int, run) -> None:
        started = time.perf_counter()
        run()
        elapsed = time.perf_counter() - started
        self.timings[side].append(elapsed)
        self.latencies[side].extend([elapsed] * count)

    def orders_round(self) -> list[str]:
        """A batch of orders placed, pushed to the warehouse and shipped; their Shopify ids."""
        from sqlalchemy import select

        from integration.extensions import db
        from integration.models import Order, OutboundOrder
        from jobs import warehousing

        placed: list[str] = []

        def run() -> None:
            for _ in range(self.batch):
                placed.append(self.shopify.add_order(SHOP, line_items=[{"sku": SKU, "quantity": 1}],
                                                     shipping_address=BERLIN, email=EMAIL, locale="de"))
            self.settle()
            self.winit.sim.advance(3 * HOUR)
            # This round's outbounds only (the cron's poll round would also read the parcels of
            # earlier rounds, still in transit: a cost that grows with the run, not per order).
            db.session.expire_all()
            ours = select(OutboundOrder.id).join(Order, Order.id == OutboundOrder.order_id).where(
                Order.external_id.in_(placed))
            for outbound_id in db.session.execute(ours).scalars():
                warehousing.poll_outbound(outbound_id)
            self.settle()

        self._timed("orders", self.batch, run)
        return placed

    def returns_round(self, orders: list[str]) -> None:
        """A return of each order, from the customer's request to the refund."""
        from sqlalchemy import select

        from integration.extensions import db
        from integration.models import Return
        from jobs.returns import follow_returns

        def run() -> None:
            requested = [self.shopify.request_customer_return(SHOP, gid, [
                {"sku": SKU, "quantity": 1, "reason": "size-too-small", "note": "Zu klein"}], email=EMAIL)
                for gid in orders]
            self.settle()  # returns/request -> stored, approved by the rules -> Shopify + RMA
            db.session.expire_all()
            references = list(db.session.execute(select(Return.rma_reference).where(
                Return.shopify_return_id.in_(requested))).scalars())
            for reference in references:
                self.winit.sim.receive_return(reference)
            follow_returns(0)
            self.settle()
            for reference in references:
                self.winit.sim.inspect_return(reference, {SKU: ["sellable"]})
            follow_returns(0)
            self.settle()  # inspected -> processed at Shopify with a refund

        self._timed("returns", len(orders), run)

    def check(self, orders: int) -> int:
        """Mismatches against one effect per item."""
        from sqlalchemy import func, select

        from integration.extensions import db
        from integration.models import OutboundOrder, Return, Shipment
        from integration.models.notification import Notification

        db.session.expire_all()
        count = lambda q: db.session.execute(select(func.count()).select_from(q.subquery())).scalar()  # noqa: E731
        errors = abs(count(select(OutboundOrder.id).where(OutboundOrder.purpose == "")) - orders)
        errors += abs(count(select(Shipment.id)) - orders)
        errors += abs(count(select(Return.id).where(Return.status == "closed", Return.refund_id.is_not(None)))
                      - orders)
        errors += abs(count(select(Return.id)) - orders)
        for kind in RETURN_NOTICES:
            errors += abs(count(select(Notification.id).where(Notification.kind == kind)) - orders)
        errors += abs(count(select(Notification.id).where(Notification.kind == "shipped")) - orders)
        with self.shopify.lock:
            state = self.shopify.shop(SHOP)
            refunds = sum(len(node.get("_refunds", ())) for node in state.nodes.values()
                          if node.get("id", "").startswith("gid://shopify/Return/"))
        return errors + abs(refunds - orders) + self.failed_jobs

    def figures(self, side: str) -> dict:
        items = len(self.latencies[side])
        return {"items": items, "per_s": items / sum(self.timings[side]),
                "p50_ms": statistics.median(self.latencies[side]) * 1000,
                "p99_ms": percentile(self.latencies[side], 0.99) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--batch", type=int, default=0, help="items per round (default 5 quick, 10 full)")
    args = parser.parse_args()
    # Each item costs some 30 vendor calls and a dozen jobs: --quick stays under a minute on 2 cores.
    rounds = 1 if args.quick else 10
    args.batch = args.batch or (5 if args.quick else 10)

    from integration import create_app
    from integration.config import Config
    from integration.extensions import db
    from integration.notices.mailer import close_mailer
    from sandbox.server import serve
    from sandbox.shopify import ShopifyEmulator
    from sandbox.shopify.app_config import AppConfig
    from sandbox.warehouses.winit import WinitEmulator
    from tests.winit_fixtures import WINIT_APP_KEY, WINIT_PLATFORM, WINIT_TOKEN

    with tempfile.TemporaryDirectory() as instance, embedded_redis_url() as redis_url:
        port = free_port()
        app_url = f"http://127.0.0.1:{port}"
        shopify = ShopifyEmulator(API_KEY, SECRET, app_url=app_url, app_config=AppConfig.load(), seed=1,
                                  webhook_retry_base=0.02)
        shopify.add_shop(SHOP)
        shopify.start()
        winit = WinitEmulator(WINIT_APP_KEY, WINIT_TOKEN, platform=WINIT_PLATFORM, warehouses={"DEWH": "DE"}, seed=7)
        winit.sim.add_sku(SKU, title="Blue mug")
        winit.sim.set_stock("DEWH", SKU, 1_000_000)
        winit.start()
        env = {**bench_env(instance, args.database_url or f"sqlite:///{instance}/bench.sqlite3", redis_url, SECRET),
               "SHOPIFY_API_KEY": API_KEY, "SHOPIFY_ENDPOINT": shopify.url, "APP_URL": app_url,
               "SECRET_KEY": "bench-secret-key-with-enough-entropy-0123456789"}
        os.environ.update(env)  # the RQ workers of this process build their app from the environment
        config = Config.from_env(env)
        prepare_database(config)
        app = create_app(config)
        server = serve(app, port=port)
        load_before = os.getloadavg()
        try:
            with app.app_context():
                bench = Bench(app, shopify, winit, args.batch)
                bench.seed()
                bench.returns_round(bench.orders_round())  # warm-up round, checked with the rest
                for _ in range(rounds):
                    bench.returns_round(bench.orders_round())
                errors = bench.check(args.batch * (rounds + 1))
                orders, returns = bench.figures("orders"), bench.figures("returns")
                close_mailer()
                db.session.remove()
        finally:
            server.shutdown()
            shopify.stop()
            winit.stop()
        load_after = os.getloadavg()
        print(f"orders:  {figures(**orders)}")
        print(f"returns: {figures(**returns)}")
        print(f"database={config.database_url.split(':')[0]} batch={args.batch} rounds={rounds + 1} "
              f"cpus={os.cpu_count()} load_1m_before={load_before[0]:.2f} load_1m_after={load_after[0]:.2f} "
              "target: ratio>=0.5 errors=0")
        print(figures(per_s=returns["per_s"], p50_ms=returns["p50_ms"], p99_ms=returns["p99_ms"],
                      baseline_per_s=orders["per_s"], ratio=returns["per_s"] / orders["per_s"], errors=errors))


if __name__ == "__main__":
    main()
