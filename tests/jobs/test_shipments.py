"""Warehouse events applied twice, late or out of order change nothing beyond the first."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from integration import signals
from integration.domain.warehousing import (
    ExceptionReason,
    Line,
    Outbound,
    OutboundStatus,
    Package,
    TrackingEvent,
    TrackingStatus,
)
from integration.extensions import db, queues
from integration.models import Allocation, OutboundOrder, Shipment, StockLevel, TrackingEventRow
from integration.orders import allocation, shipments
from tests.helpers_warehouse import make_account, make_order, make_shop, make_warehouse, set_stock

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture
def pushed(app):
    shop = make_shop()
    warehouse = make_warehouse(shop, make_account(shop), "DEWH", "DE")
    set_stock(shop, warehouse, "A", 10)
    order = make_order(shop, "o-1", [("A", 2)])
    [outbound_id] = allocation.allocate_order(order.id).outbound_ids
    outbound = db.session.get(OutboundOrder, outbound_id)
    outbound.status = "pushed"
    db.session.commit()
    return outbound_id, warehouse


def shipped(reference, status=OutboundStatus.SHIPPED):
    return Outbound(reference=reference, external_id="X1", status=status,
                    packages=(Package("TRK1", carrier="DHL", lines=(Line("A", 2),), shipped_at=T0),))


def level():
    db.session.expire_all()
    return db.session.execute(select(StockLevel)).scalar_one()


def test_shipped_twice_makes_one_shipment_and_consumes_once(pushed):
    outbound_id, _ = pushed
    reference = db.session.get(OutboundOrder, outbound_id).reference
    assert level().reserved == 2 and level().on_hand == 10
    first = shipments.record_outbound_state(outbound_id, shipped(reference))
    again = shipments.record_outbound_state(outbound_id, shipped(reference))
    assert len(first) == 1 and again == []
    assert db.session.scalar(select(func.count()).select_from(Shipment)) == 1
    assert (level().reserved, level().on_hand) == (0, 8)  # consumed exactly once
    assert queues["sync"].get_job_ids().count(f"fulfill-{first[0]}") == 1
    # A late "picking" report after the shipment does not move the order back.
    shipments.record_outbound_state(outbound_id, Outbound(reference, "X1", OutboundStatus.PICKING))
    db.session.expire_all()
    assert db.session.get(OutboundOrder, outbound_id).status == "shipped"
    assert all(a.status == "shipped" for a in db.session.execute(select(Allocation)).scalars())


def test_tracking_duplicates_and_reordering(pushed):
    outbound_id, _ = pushed
    reference = db.session.get(OutboundOrder, outbound_id).reference
    [shipment_id] = shipments.record_outbound_state(outbound_id, shipped(reference))
    seen = []
    receiver = signals.connect(signals.SHIPMENT_TRACKING_CHANGED, lambda **kw: seen.append(kw))
    try:
        transit = TrackingEvent("TRK1", TrackingStatus.IN_TRANSIT, T0 + timedelta(hours=5))
        customs = TrackingEvent("TRK1", TrackingStatus.EXCEPTION, T0 + timedelta(hours=20),
                                reason=ExceptionReason.CUSTOMS_DELAY)
        delivered = TrackingEvent("TRK1", TrackingStatus.DELIVERED, T0 + timedelta(days=3))
        assert len(shipments.record_tracking(shipment_id, [transit, customs])) == 2
        assert len(shipments.record_tracking(shipment_id, [delivered])) == 1
        # Redelivered and late: the same events again, and an old one alone.
        assert shipments.record_tracking(shipment_id, [customs, transit, delivered]) == []
        assert shipments.record_tracking(shipment_id, [transit]) == []
    finally:
        signals.disconnect(signals.SHIPMENT_TRACKING_CHANGED, receiver)
    db.session.expire_all()
    shipment = db.session.get(Shipment, shipment_id)
    assert shipment.status == "Delivered" and shipment.delivered_at == delivered.occurred_at
    assert db.session.scalar(select(func.count()).select_from(TrackingEventRow)) == 3
    assert [s["status"] for s in seen] == ["Exception", "Delivered"]  # one signal per real change


def test_a_carrier_event_waits_for_the_fulfillment_instead_of_failing_against_it(pushed):
    outbound_id, _ = pushed
    reference = db.session.get(OutboundOrder, outbound_id).reference
    [shipment_id] = shipments.record_outbound_state(outbound_id, shipped(reference))
    transit = TrackingEvent("TRK1", TrackingStatus.IN_TRANSIT, T0 + timedelta(hours=5))
    [early] = shipments.record_tracking(shipment_id, [transit])
    # No fulfillment at Shopify yet: a job now would only fail and wait for its retry.
    assert f"fulfillment-event-{early}" not in queues["sync"].get_job_ids()

    shipment = db.session.get(Shipment, shipment_id)
    shipment.shopify_fulfillment_id = "gid://shopify/Fulfillment/1"  # create_fulfillment is done
    db.session.commit()
    delivered = TrackingEvent("TRK1", TrackingStatus.DELIVERED, T0 + timedelta(days=3))
    [late] = shipments.record_tracking(shipment_id, [delivered])
    assert f"fulfillment-event-{late}" in queues["sync"].get_job_ids()


def test_a_poll_round_queues_behind_the_work_of_each_order(pushed):
    from jobs import warehousing

    outbound_id, _ = pushed
    assert warehousing.poll_open_outbounds() == 1
    # Workers take the queues in order (events, sync, notify, low): a round of polls, hundreds of
    # jobs at once, never holds up a fulfillment.
    assert queues["low"].job_ids == [f"poll-outbound-{outbound_id}"]
    assert not [job_id for job_id in queues["sync"].job_ids if job_id.startswith("poll-outbound")]
