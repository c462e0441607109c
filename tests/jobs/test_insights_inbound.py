"""Inbound shipments (issue 22, first leg) against the warehouse emulators: an approved restock
suggestion announces exactly one shipment at the warehouse, however often its job runs or dies;
the shipment feeds the ledger's inbound and ETA (never counted twice with the warehouse's own
report), the storefront's pre-order date, and is followed until received."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from rq.job import Job
from sqlalchemy import select

from integration import job_catalog
from integration.domain.stock_status import StatusCode
from integration.domain.warehousing import InboundShipment, InboundStatus
from integration.extensions import db, redis
from integration.insights import inbound, inbound_tracking
from integration.insights.inbound import InboundNotFound, InboundRefused
from integration.job_serializer import JobSerializer
from integration.models import InboundShipmentRow, RestockSuggestion, StockLevel
from integration.models.storefront import StorefrontSettings
from integration.stock.ledger import apply_stock
from integration.storefront.status import StatusContext, compute
from integration.warehouses import providers
from integration.warehouses.providers import provider_for_warehouse
from jobs.inbound import follow_open_inbounds
from tests.helpers_warehouse import make_account, make_shop, make_warehouse, set_stock
from tests.winit_fixtures import winit_credentials

SKU = "TENT-2P"


def suggest(shop, warehouse, quantity: int = 120, sku: str = SKU, lead_time_days: int = 33) -> RestockSuggestion:
    row = RestockSuggestion(shop_id=shop.id, warehouse_id=warehouse.id, sku=sku, policy="nearstock",
                            quantity=quantity, order_up_to=quantity, order_by=date.today(), forecast_daily=4.0,
                            lead_time_days=lead_time_days, status="open")
    db.session.add(row)
    db.session.commit()
    return row


def level(warehouse, sku: str = SKU) -> StockLevel:
    db.session.expire_all()
    return db.session.execute(select(StockLevel).where(StockLevel.warehouse_id == warehouse.id,
                                                       StockLevel.sku == sku)).scalar_one()


def stock_sync(warehouse, sku: str = SKU) -> None:
    """The warehouse's own report of the SKU, through the ledger as the stock sync stores it."""
    records = provider_for_warehouse(warehouse).get_inventory(warehouse.code, [sku])
    apply_stock(warehouse.id, [r for r in records if r.sku == sku], as_of=datetime.now(UTC))


@pytest.fixture
def winit_world(app, winit_emulator):
    winit_emulator.sim.add_sku(SKU, title="Tent")
    winit_emulator.sim.set_stock("DEWH", SKU, 0)
    shop = make_shop()
    account = make_account(shop, "winit", winit_credentials(), endpoint=winit_emulator.url)
    de = make_warehouse(shop, account, "DEWH", "DE", location="gid://shopify/Location/1",
                        transit_days={"DE": [1, 2], "*": [3, 6]})
    set_stock(shop, de, SKU, 0)
    return shop, de, winit_emulator


def test_an_approved_suggestion_announces_one_shipment_even_when_its_job_runs_twice(winit_world, worker):
    shop, de, emulator = winit_world
    emulator.sim.set_stock("DEWH", SKU, 0, inbound=30)  # a shipment announced outside Nearstock
    stock_sync(de)
    assert level(de).inbound == 30 and level(de).inbound_eta is None
    suggestion = suggest(shop, de)

    row = inbound.approve_suggestion(shop.id, suggestion.id)
    again = inbound.approve_suggestion(shop.id, suggestion.id)  # a second click, a retried request
    assert again.id == row.id and row.status == "pending"
    assert row.lines == [[SKU, 120]] and row.intake_booked_for == date.today() + timedelta(days=33)
    db.session.expire_all()
    assert db.session.get(RestockSuggestion, suggestion.id).status == "approved"
    assert db.session.get(RestockSuggestion, suggestion.id).inbound_id == row.id
    assert Job.fetch(job_catalog.create_inbound_id(row.id), connection=redis.client, serializer=JobSerializer)
    # Pending, not yet at the warehouse: already the ledger's inbound, with its arrival date.
    assert level(de).inbound == 150 and level(de).inbound_eta.date() == row.intake_booked_for

    worker.run()
    assert inbound.create_at_warehouse(row.id) == "created"  # the job again: nothing new
    inbound.enqueue_create(row.id)
    worker.run()
    db.session.expire_all()
    done = db.session.get(InboundShipmentRow, row.id)
    assert done.status == "created" and done.external_id and done.attempts == 1
    assert [i.reference for i in emulator.sim.inbounds.values()] == [row.reference]

    # The warehouse now reports the shipment in its own inbound: 30 + 120, not 30 + 240.
    stock_sync(de)
    assert level(de).inbound == 150 and level(de).inbound_eta.date() == row.intake_booked_for


def test_a_job_killed_after_the_warehouse_answered_announces_nothing_twice(winit_world, monkeypatch):
    shop, de, emulator = winit_world
    row = inbound.approve_suggestion(shop.id, suggest(shop, de).id)
    real = providers.provider_for_warehouse

    class Killed(BaseException):
        """The worker dies between the warehouse's answer and our commit."""

    def dying(warehouse):
        provider = real(warehouse)
        create = provider.create_inbound

        def create_then_die(request):
            create(request)
            raise Killed

        provider.create_inbound = create_then_die
        return provider

    monkeypatch.setattr(inbound, "provider_for_warehouse", dying)
    with pytest.raises(Killed):
        inbound.create_at_warehouse(row.id)
    db.session.rollback()
    monkeypatch.setattr(inbound, "provider_for_warehouse", real)
    redis.client.flushdb()  # and the connector's memory of the reference is gone too
    assert inbound.create_at_warehouse(row.id) == "created"
    assert [i.reference for i in emulator.sim.inbounds.values()] == [row.reference]
    db.session.expire_all()
    assert db.session.get(InboundShipmentRow, row.id).external_id == emulator.sim.inbounds[row.reference].external_id


def test_the_shipment_shows_as_a_preorder_date_and_is_followed_until_received(winit_world):
    shop, de, emulator = winit_world
    db.session.add(StorefrontSettings(shop_id=shop.id, allow_preorder=True, back_in_stock=True, notify_per_unit=2.0,
                                      locales=["en"], default_locale="en", markets=[]))
    db.session.commit()
    arrival = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    row = inbound.approve_suggestion(shop.id, suggest(shop, de).id, expected_at=arrival)
    assert inbound.create_at_warehouse(row.id) == "created"

    status = compute(StatusContext.load(db.session.get(type(shop), shop.id)), [SKU])[SKU].for_market("DE")
    assert status.code == StatusCode.PREORDER and status.arrives_on >= arrival.date()

    assert inbound_tracking.poll_inbound(row.id) == "created"  # not arrived yet
    emulator.sim.receive_inbound(row.reference)
    assert inbound_tracking.poll_inbound(row.id) == "received"
    db.session.expire_all()
    assert db.session.get(InboundShipmentRow, row.id).received_at is not None
    stock = level(de)
    assert (stock.on_hand, stock.inbound, stock.inbound_eta) == (120, 0, None)
    assert inbound_tracking.open_inbound_ids() == []


def test_intake_is_booked_a_week_ahead(winit_world):
    shop, de, _ = winit_world
    suggestion = suggest(shop, de, lead_time_days=2)
    with pytest.raises(InboundRefused) as refused:
        inbound.approve_suggestion(shop.id, suggestion.id, expected_at=datetime.now(UTC) + timedelta(days=3))
    assert refused.value.field == "expected_at"
    row = inbound.approve_suggestion(shop.id, suggestion.id)  # default: the lead time, a week at least
    assert row.intake_booked_for == date.today() + timedelta(days=inbound.INTAKE_NOTICE_DAYS)


def test_another_shops_suggestion_and_a_warehouse_without_inbound_are_refused(winit_world, app):
    shop, de, _ = winit_world
    other = make_shop("beta.myshopify.com")
    with pytest.raises(InboundNotFound):
        inbound.approve_suggestion(other.id, suggest(shop, de).id)
    fba_account = make_account(shop, "fba", {"link": "x"})
    fba = make_warehouse(shop, fba_account, "FBA-DE", "DE")
    suggestion = suggest(shop, fba)
    with pytest.raises(InboundRefused) as refused:
        inbound.approve_suggestion(shop.id, suggestion.id)
    assert "Send to Amazon" in str(refused.value)
    db.session.expire_all()
    assert db.session.get(RestockSuggestion, suggestion.id).status == "open"
    assert db.session.execute(select(InboundShipmentRow)).scalars().all() == []


def test_a_refused_shipment_fails_once_and_leaves_the_ledger(winit_world):
    shop, de, _ = winit_world
    account = db.session.get(type(de), de.id).account_id
    from integration.models import WarehouseAccount

    acc = db.session.get(WarehouseAccount, account)
    acc.credentials = json.dumps(winit_credentials(inbound_product_code=""))
    db.session.commit()
    row = inbound.approve_suggestion(shop.id, suggest(shop, de).id)
    assert level(de).inbound == 120
    assert inbound.create_at_warehouse(row.id) == "failed"
    assert level(de).inbound == 0 and level(de).inbound_eta is None
    assert inbound.create_at_warehouse(row.id) == "failed"


def test_concurrent_approvals_make_one_shipment_and_count_it_once(winit_world, app):
    shop, de, _ = winit_world
    suggestion_id = suggest(shop, de).id

    def approve(_):
        with app.app_context():
            try:
                return inbound.approve_suggestion(shop.id, suggestion_id).id
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = set(pool.map(approve, range(6)))
    assert len(ids) == 1
    assert len(db.session.execute(select(InboundShipmentRow)).scalars().all()) == 1
    assert level(de).inbound == 120


def test_state_moves_forward_only_and_the_cron_follows_open_shipments(winit_world, worker):
    shop, de, emulator = winit_world
    de.location_shopify_id = None  # not pushed to Shopify in this test: the ledger is what counts
    db.session.commit()
    row = inbound.approve_suggestion(shop.id, suggest(shop, de).id)
    assert inbound.create_at_warehouse(row.id) == "created"
    moving = InboundShipment(row.reference, row.external_id, InboundStatus.IN_TRANSIT.value)
    assert inbound_tracking.record_state(row.id, moving) == "in_transit"
    stale = InboundShipment(row.reference, row.external_id, InboundStatus.CREATED.value)
    assert inbound_tracking.record_state(row.id, stale) == "in_transit"  # an older answer: no step back
    assert level(de).inbound == 120  # still on its way

    emulator.sim.receive_inbound(row.reference)
    assert follow_open_inbounds() == 1
    worker.run()
    db.session.expire_all()
    assert db.session.get(InboundShipmentRow, row.id).status == "received"
    assert (level(de).on_hand, level(de).inbound) == (120, 0)
    assert follow_open_inbounds() == 0
