"""Allocation against the real database: routing + atomic reservation + outbound rows."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from integration.extensions import db, queues
from integration.models import Alert, Allocation, AllocationStatus, Order, OutboundOrder, StockLevel
from integration.orders import allocation
from tests.helpers_warehouse import make_account, make_order, make_shop, make_warehouse, set_stock


@pytest.fixture
def setup(app):
    shop = make_shop()
    account = make_account(shop)
    de = make_warehouse(shop, account, "DEWH", "DE", region="EU")
    fr = make_warehouse(shop, account, "FRWH", "FR", region="EU")
    return shop, de, fr


def level(warehouse, sku):
    db.session.expire_all()
    return db.session.execute(select(StockLevel).where(StockLevel.warehouse_id == warehouse.id,
                                                       StockLevel.sku == sku)).scalar_one()


def test_local_warehouse_reserved_and_outbound_created(setup):
    shop, de, fr = setup
    set_stock(shop, de, "A", 5)
    set_stock(shop, fr, "A", 5)
    order = make_order(shop, "o-1", [("A", 2)], country="DE")
    result = allocation.allocate_order(order.id)
    assert result.status == "allocated" and len(result.outbound_ids) == 1
    assert (level(de, "A").reserved, level(fr, "A").reserved) == (2, 0)
    outbound = db.session.get(OutboundOrder, result.outbound_ids[0])
    assert outbound.warehouse_id == de.id and outbound.status == "pending" and outbound.reference.startswith("NS")
    jobs = queues["sync"].get_job_ids()
    assert jobs.count(f"push-outbound-{outbound.id}") == 1
    assert any(j.startswith(f"push-stock-{shop.id}-") for j in jobs)  # the reservation reaches Shopify too
    # Running it again (webhook duplicate, retried job) changes nothing.
    assert allocation.allocate_order(order.id).status == "already_allocated"
    assert level(de, "A").reserved == 2 and db.session.scalar(select(func.count()).select_from(Allocation)) == 1


def test_split_and_backorder_with_alert(setup):
    shop, de, fr = setup
    set_stock(shop, de, "A", 3)
    set_stock(shop, fr, "A", 2)
    order = make_order(shop, "o-2", [("A", 7)], country="DE")
    result = allocation.allocate_order(order.id)
    assert len(result.outbound_ids) == 2 and result.backordered == 2
    rows = db.session.execute(select(Allocation).order_by(Allocation.id)).scalars().all()
    assert sorted((r.warehouse_id, r.quantity, r.status) for r in rows if r.warehouse_id) == \
        sorted([(de.id, 3, "reserved"), (fr.id, 2, "reserved")])
    [back] = [r for r in rows if r.warehouse_id is None]
    assert back.status == AllocationStatus.BACKORDERED and back.quantity == 2 and "backordered" in back.reason
    [alert] = db.session.execute(select(Alert)).scalars().all()
    assert alert.kind == "backordered" and alert.subject == f"order:{order.id}"


def test_no_split_setting_holds_lines(setup):
    from integration.models import ShopSettings

    shop, de, fr = setup
    db.session.add(ShopSettings(shop_id=shop.id, split_orders=False))
    db.session.commit()
    set_stock(shop, de, "A", 5)
    set_stock(shop, fr, "B", 5)
    order = make_order(shop, "o-3", [("A", 1), ("B", 1)], country="DE")
    result = allocation.allocate_order(order.id)
    assert len(result.outbound_ids) == 1 and result.backordered == 1


def test_cancel_releases_pending_reservations(setup):
    shop, de, _fr = setup
    set_stock(shop, de, "A", 5)
    order = make_order(shop, "o-4", [("A", 3)])
    allocation.allocate_order(order.id)
    assert level(de, "A").reserved == 3
    assert allocation.release_order(order.id) == []  # nothing was at the warehouse yet
    assert level(de, "A").reserved == 0
    assert allocation.release_order(order.id) == [] and level(de, "A").reserved == 0  # twice: once


def test_oversell_200_concurrent_orders_for_100_units_two_channels(app, setup):
    """Exactly 100 units allocated, the rest backordered, the ledger consistent."""
    shop, de, fr = setup
    set_stock(shop, de, "HOT", 60)
    set_stock(shop, fr, "HOT", 40)
    ids = [make_order(shop, f"x-{i}", [("HOT", 1)], country="DE" if i % 3 else "FR",
                      channel="shopify" if i % 2 else "amazon").id for i in range(200)]

    def run(order_id):
        with app.app_context():
            try:
                return allocation.allocate_order(order_id)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(run, ids))
    allocated = [r for r in results if r.outbound_ids]
    assert len(allocated) == 100
    assert sum(r.backordered for r in results) == 100
    db.session.expire_all()
    reserved = db.session.scalar(select(func.sum(Allocation.quantity)).where(Allocation.status == "reserved"))
    assert reserved == 100
    assert level(de, "HOT").reserved == 60 and level(fr, "HOT").reserved == 40
    # Every order was claimed exactly once.
    assert db.session.scalar(select(func.count()).select_from(Order).where(Order.allocated_at.is_not(None))) == 200
    per_order = db.session.execute(select(Allocation.order_id, func.sum(Allocation.quantity))
                                   .group_by(Allocation.order_id)).all()
    assert len(per_order) == 200 and all(total == 1 for _, total in per_order)


def test_sweeper_finds_orders_whose_allocation_job_was_lost(setup):
    from datetime import timedelta

    from jobs import warehousing

    shop, de, _fr = setup
    set_stock(shop, de, "A", 5)
    order = make_order(shop, "o-lost", [("A", 1)])
    assert allocation.unallocated_order_ids(timedelta(minutes=10)) == []  # too recent
    assert allocation.unallocated_order_ids(timedelta(minutes=-10)) == [order.id]
    assert warehousing.sweep_warehouse_work(older_than_minutes=-10) >= 1
    assert any(j == f"sync_order-{order.id}-sweep" for j in queues["sync"].get_job_ids())
    allocation.allocate_order(order.id)
    assert allocation.unallocated_order_ids(timedelta(minutes=-10)) == []
