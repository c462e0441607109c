"""Amazon as a sales channel against the SP-API and WINIT emulators: orders in (MFN routed, AFN
demand only), cursor resume, MFN quantities out (patch and feed), shipment confirmation, buyer
address erasure, and the shared rate limits under two workers."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from connectors.amazon import listings
from connectors.amazon.orders import get_order
from integration import signals
from integration.amazon import channel as amazon_channel
from integration.amazon import connect
from integration.amazon import sp_api_client as amazon_clients
from integration.extensions import db, queues
from integration.models import (
    Alert,
    Allocation,
    ChannelStock,
    Order,
    OutboundOrder,
    Shipment,
    Shop,
    StockLevel,
    Warehouse,
)
from integration.models.amazon import AmazonAccount, AmazonOrder, AmazonShipmentConfirmation
from integration.models.base import utcnow
from integration.stock import amazon_quantities
from jobs import amazon as amazon_jobs
from jobs import warehousing
from tests.amazon_fixtures import CLIENT_ID, CLIENT_SECRET, DE, REFRESH_TOKEN, SELLER_ID
from tests.helpers_warehouse import make_account, make_shop, make_warehouse, set_stock
from tests.winit_fixtures import winit_credentials


class Env:
    def __init__(self, emulator, winit, shop, account, warehouse):
        self.emulator, self.winit = emulator, winit
        # Plain ids: jobs run by the worker remove the session, detaching these instances.
        self.shop_id, self.account_id, self.warehouse_id = shop.id, account.id, warehouse.id

    @property
    def shop(self):
        return db.session.get(Shop, self.shop_id)

    @property
    def warehouse(self):
        return db.session.get(Warehouse, self.warehouse_id)

    def add_order(self, items, **kw):
        with self.emulator.lock:
            return self.emulator.state.add_order(items, marketplace_id=DE, **kw)

    def import_orders(self, **kw):
        return amazon_channel.import_orders(self.account_id, now=self.emulator.now, **kw)


@pytest.fixture
def env(app, amazon_emulator_factory, winit_emulator):
    emulator = amazon_emulator_factory(orders=0, skus=0, marketplaces=[DE], rate_scale=100.0)
    shop = make_shop()
    winit_account = make_account(shop, "winit", winit_credentials(), endpoint=winit_emulator.url)
    warehouse = make_warehouse(shop, winit_account, "DEWH", "DE")
    for sku, on_hand in (("MUG-BLUE", 100), ("MUG-RED", 50), ("TEE-M", 20)):
        set_stock(shop, warehouse, sku, on_hand)
        emulator.state.add_listing(sku, 0, marketplace_id=DE)
    account = AmazonAccount(shop_id=shop.id, name="EU", seller_id=SELLER_ID, region="eu", marketplaces=[DE],
                            lwa_client_id=CLIENT_ID, lwa_client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN,
                            endpoint=emulator.url, lwa_token_url=emulator.token_url)
    db.session.add(account)
    db.session.commit()
    yield Env(emulator, winit_emulator, shop, account, warehouse)
    amazon_clients.close_clients()


def _orders(channel=None):
    db.session.expire_all()
    query = select(Order)
    if channel:
        query = query.where(Order.channel == channel)
    return db.session.execute(query.order_by(Order.id)).scalars().all()


def test_mfn_order_is_routed_shipped_and_confirmed_once(env, worker):
    placed = env.add_order([("MUG-BLUE", 2)])
    stats = env.import_orders()
    assert (stats.stored, stats.mfn, stats.afn) == (1, 1, 0)
    [order] = _orders()
    assert order.channel == "amazon" and order.shipping_country == "DE" and order.shipping_address
    assert db.session.get(AmazonOrder, order.id).marketplace_id == DE
    assert len(env.emulator.exchanges_for("orders.getOrder")) == 1  # address fetched: MFN to ship

    worker.run()  # order_changed -> allocation -> outbound order pushed to WINIT
    outbound = db.session.execute(select(OutboundOrder)).scalar_one()
    assert outbound.warehouse_id == env.warehouse_id and outbound.status == "pushed"

    env.winit.sim.advance(3 * 3600)  # picked and shipped
    warehousing.poll_outbound(outbound.id)
    worker.run()  # the fulfillment job hands Amazon orders to confirmShipment
    shipment = db.session.execute(select(Shipment)).scalar_one()
    confirmation = db.session.get(AmazonShipmentConfirmation, shipment.id)
    assert confirmation.confirmed_at is not None and confirmation.error is None
    remote = env.emulator.state.orders[placed.order_id]
    assert remote.status == "SHIPPED" and len(remote.packages) == 1
    assert remote.packages[0]["trackingNumber"] == shipment.tracking_number

    # Idempotent: again by id and by the sweep, no second confirmShipment.
    assert amazon_channel.confirm_amazon_shipment(shipment.id) == "already_confirmed"
    assert amazon_jobs.confirm_pending() == 0
    assert len(env.emulator.exchanges_for("ordersV0.confirmShipment")) == 1


def test_disconnected_account_waits_and_reconnecting_confirms(env, worker, app):
    """No call with a forgotten token: the shipment waits (one alert, no sweep job) and is
    confirmed by the sweep once the seller connects again."""
    placed = env.add_order([("MUG-BLUE", 1)])
    env.import_orders()
    worker.run()
    outbound = db.session.execute(select(OutboundOrder)).scalar_one()
    connect.disconnect(env.shop_id, env.account_id)

    env.winit.sim.advance(3 * 3600)
    warehousing.poll_outbound(outbound.id)
    worker.run()  # the fulfillment job tries to confirm: the account is disconnected
    shipment = db.session.execute(select(Shipment)).scalar_one()
    assert amazon_channel.confirm_amazon_shipment(shipment.id) == "account_inactive"
    assert db.session.get(AmazonShipmentConfirmation, shipment.id) is None
    assert not env.emulator.exchanges_for("ordersV0.confirmShipment")
    alerts = db.session.execute(select(Alert).where(Alert.kind == amazon_channel.DISCONNECTED_ALERT)).scalars().all()
    assert [a.subject for a in alerts] == [f"account:{env.account_id}"]
    assert amazon_jobs.confirm_pending() == 0  # nothing to do until it is connected again

    config = dataclasses.replace(app.config["NEARSTOCK"], amazon_endpoint=env.emulator.url,
                                 amazon_lwa_client_id=CLIENT_ID, amazon_lwa_client_secret=CLIENT_SECRET)
    assert connect.store_account(config, env.shop_id, SELLER_ID, REFRESH_TOKEN, marketplaces=(DE,)) == (
        env.account_id, False)
    assert db.session.execute(select(Alert).where(Alert.kind == amazon_channel.DISCONNECTED_ALERT)).first() is None
    assert amazon_jobs.confirm_pending() == 1
    worker.run()
    db.session.expire_all()
    assert db.session.get(AmazonShipmentConfirmation, shipment.id).confirmed_at is not None
    assert env.emulator.state.orders[placed.order_id].status == "SHIPPED"
    assert len(env.emulator.exchanges_for("ordersV0.confirmShipment")) == 1


def test_afn_order_is_demand_only(env, worker):
    env.add_order([("MUG-RED", 3)], fulfilled_by="AMAZON")
    stats = env.import_orders()
    assert (stats.stored, stats.afn) == (1, 1)
    worker.run()
    [order] = _orders()
    assert order.channel == "amazon_afn" and order.allocated_at is not None
    assert order.shipping_address is None and not env.emulator.exchanges_for("orders.getOrder")
    assert [(ln.sku, ln.quantity) for ln in order.lines] == [("MUG-RED", 3)]  # demand recorded
    assert db.session.scalar(select(func.count()).select_from(Allocation)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboundOrder)) == 0
    assert db.session.execute(select(func.sum(StockLevel.reserved))).scalar() == 0


def test_cursor_resumes_without_duplicates(env):
    for _ in range(3):
        env.add_order([("TEE-M", 1)], fulfilled_by="AMAZON")
    assert env.import_orders().stored == 3
    stored = json.loads(amazon_channel.load_cursor(env.shop_id, amazon_channel.orders_stream(env.account_id)))
    assert set(stored) == {DE}

    assert env.import_orders().stored == 0  # caught up: nothing new, nothing twice
    env.emulator.advance(minutes=1)
    env.add_order([("TEE-M", 2)], fulfilled_by="AMAZON", created=env.emulator.now())
    env.emulator.advance(minutes=3)  # past the two-minute settle window
    stats = env.import_orders()
    assert stats.stored == 1
    orders = _orders()
    assert len(orders) == 4 and len({o.external_id for o in orders}) == 4


def test_cursor_is_saved_per_page_and_resumed(env):
    start = env.emulator.now() - timedelta(minutes=30)
    for i in range(60):
        # Whole, distinct seconds: the emulator sorts pages by full-precision creation time but its
        # page token compares second-precision ISO strings (see the report).
        created = start.replace(microsecond=0) + timedelta(seconds=i)
        env.add_order([("TEE-M", 1)], fulfilled_by="AMAZON", created=created)
    first = env.import_orders(max_pages=1)
    assert first.stored == 50
    # A crash here loses nothing: the saved cursor holds the page token, the next run resumes.
    stored = first.stored
    for _ in range(5):
        stats = env.import_orders(max_pages=1)
        stored += stats.stored
        if stats.stored == 0:
            break
    orders = _orders()
    assert stored == 60 and len(orders) == 60 and len({o.external_id for o in orders}) == 60


def test_stock_change_reaches_amazon_by_patch_never_counting_fba(env, worker):
    fba = make_account(env.shop, "fba", {"seller_id": SELLER_ID})
    fba_warehouse = make_warehouse(env.shop, fba, "FBA-DE", "DE")
    set_stock(env.shop, fba_warehouse, "MUG-BLUE", 500)

    stats = amazon_quantities.push_quantities(env.shop_id)
    assert stats.patched == 3 and stats.feeds == 0
    assert env.emulator.state.listing_quantity("MUG-BLUE", DE) == 100  # FBA's 500 not counted
    patches = len(env.emulator.exchanges_for("listings.patchListingsItem"))
    assert amazon_quantities.push_quantities(env.shop_id).changed == 0  # only changed values
    assert len(env.emulator.exchanges_for("listings.patchListingsItem")) == patches

    level = db.session.execute(select(StockLevel).where(StockLevel.warehouse_id == env.warehouse_id,
                                                        StockLevel.sku == "MUG-BLUE")).scalar_one()
    level.reserved = 7
    # As the stock engine sends warehouse_stock_changed: from the after-commit hook.
    signals.on_commit(db.session(), lambda: amazon_quantities.on_stock_changed(env.shop_id, ["MUG-BLUE"]))
    db.session.commit()
    worker.run()
    assert env.emulator.state.listing_quantity("MUG-BLUE", DE) == 93
    assert len(env.emulator.exchanges_for("listings.patchListingsItem")) == patches + 1
    row = db.session.execute(select(ChannelStock).where(ChannelStock.channel == "amazon",
                                                        ChannelStock.item_id == "MUG-BLUE")).scalar_one()
    assert row.quantity == 93 and row.location_id == f"{env.account_id}:{DE}"


def test_large_batches_go_by_feed_and_per_sku_errors_are_kept_out(env):
    skus = [f"BULK-{i:03d}" for i in range(60)]
    for i, sku in enumerate(skus):
        set_stock(env.shop, env.warehouse, sku, i)
        if sku != "BULK-013":  # not listed on Amazon: the report names it
            env.emulator.state.add_listing(sku, 0, marketplace_id=DE)
    stats = amazon_quantities.push_quantities(env.shop_id, skus, sleep=env.emulator.advance, poll_every=5)
    assert stats.feeds == 1 and stats.fed == 59 and stats.refused == 1 and stats.patched == 0
    assert env.emulator.state.listing_quantity("BULK-042", DE) == 42
    pushed = set(db.session.execute(select(ChannelStock.item_id).where(ChannelStock.channel == "amazon"))
                 .scalars().all())
    assert "BULK-013" not in pushed and len(pushed) == 59
    assert not env.emulator.exchanges_for("listings.patchListingsItem")


def test_buyer_address_erased_thirty_days_after_delivery(env, worker):
    env.add_order([("MUG-BLUE", 1)])
    env.add_order([("MUG-RED", 1)])
    env.import_orders()
    worker.run()
    delivered, recent = _orders()
    assert delivered.shipping_address and recent.shipping_address
    now = utcnow()
    for order, days in ((delivered, 31), (recent, 10)):
        outbound = db.session.execute(select(OutboundOrder).where(OutboundOrder.order_id == order.id)).scalar_one()
        db.session.add(Shipment(shop_id=env.shop_id, order_id=order.id, outbound_id=outbound.id,
                                tracking_number=f"T{order.id}", carrier="DHL", lines=[],
                                shipped_at=now - timedelta(days=days + 2), delivered_at=now - timedelta(days=days),
                                status="Delivered"))
        order.external_updated_at = now - timedelta(days=days + 2)
    db.session.commit()

    assert amazon_channel.erase_addresses(now=now) == 1
    delivered, recent = _orders()
    assert delivered.redacted_at is not None
    assert all(getattr(delivered, c) is None for c in Order.__pii__)
    assert delivered.shipping_country == "DE"  # kept: routing statistics
    assert recent.shipping_address and recent.redacted_at is None
    assert amazon_channel.erase_addresses(now=now) == 0
    assert amazon_channel.erase_addresses(now=now + timedelta(days=21)) == 1


def test_a_thousand_operations_from_two_workers_stay_under_every_rate(env, app):
    order = env.add_order([("MUG-BLUE", 1)])
    errors: list[BaseException] = []

    def run(offset: int) -> None:
        try:
            with app.app_context():
                client = amazon_clients.client_for(db.session.get(AmazonAccount, env.account_id), DE)
                db.session.remove()
                for i in range(500):
                    if (i + offset) % 4 == 0:
                        get_order(client, order.order_id, with_address=False)
                    else:
                        listings.set_quantity(client, "TEE-M", (i % 20) + 1)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    # 750 is not a rate bound: it is how many patches the two threads make (3 operations in 4), so
    # one more exchange is a request sent twice (a 429 or a 403 retried).
    assert len(env.emulator.exchanges_for("listings.patchListingsItem")) == 750
    assert env.emulator.violations == 0


def test_cron_jobs_import_every_account_and_erase(env, worker):
    env.add_order([("MUG-BLUE", 1)], fulfilled_by="AMAZON", status="SHIPPED")
    assert amazon_jobs.import_all() == 1
    assert amazon_jobs.import_all() == 1  # same round: deduplicated by job id
    worker.run()
    [order] = _orders()
    assert order.channel == "amazon_afn"
    order.external_updated_at = utcnow() - timedelta(days=31)
    db.session.commit()
    assert amazon_jobs.erase_addresses() == 1


def test_shop_without_amazon_account_is_skipped_by_the_receiver(env):
    other = make_shop("other.myshopify.com")
    assert amazon_quantities.push_quantities(other.id).changed == 0
    amazon_quantities.on_stock_changed(other.id, ["MUG-BLUE"])
    assert not queues["sync"].get_job_ids()
    amazon_quantities.on_stock_changed(env.shop_id, ["MUG-BLUE"])
    assert len(queues["sync"].get_job_ids()) == 1
