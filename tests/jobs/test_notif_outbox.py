"""The notification outbox through real RQ (burst workers in-process) and a real SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rq import SimpleWorker
from rq.job import Job
from sqlalchemy import func, select

from integration.domain.warehousing import (
    ExceptionReason,
    Line,
    Outbound,
    OutboundStatus,
    Package,
    TrackingEvent,
    TrackingStatus,
)
from integration.extensions import db, queues, redis
from integration.job_serializer import JobSerializer
from integration.models import OutboundOrder, Shipment, ShopSettings
from integration.models.base import utcnow
from integration.models.notification import Notification, NotificationPreference
from integration.notices import compose, send
from integration.notices import outbox as notifications
from integration.orders import allocation, shipments
from integration.shops.alerts import raise_alert
from jobs import notify
from jobs.worker import build_worker
from tests.helpers_warehouse import make_account, make_order, make_shop, make_warehouse, set_stock
from tests.test_notif_support import notif_app, smtp_server  # noqa: F401 - fixtures

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture
def world(notif_app):  # noqa: F811
    shop = make_shop()
    shop.name, shop.email, shop.primary_locale = "Acme Outdoor", "owner@acme.example", "en"
    db.session.commit()
    warehouse = make_warehouse(shop, make_account(shop), "DEWH", "DE", name="Berlin")
    set_stock(shop, warehouse, "MUG", 10)
    order = make_order(shop, "o-1001", [("MUG", 2)])
    order.locale, order.name = "de-DE", "#1001"
    db.session.commit()
    [outbound_id] = allocation.allocate_order(order.id).outbound_ids
    outbound = db.session.get(OutboundOrder, outbound_id)
    outbound.status = "pushed"
    db.session.commit()
    return shop, order, outbound


def ship(outbound, tracking="TRK1") -> int:
    result = Outbound(reference=outbound.reference, external_id="X1", status=OutboundStatus.SHIPPED,
                      packages=(Package(tracking, carrier="DHL", tracking_url=f"https://dhl.example/{tracking}",
                                        lines=(Line("MUG", 2),), shipped_at=T0),))
    [shipment_id] = shipments.record_outbound_state(outbound.id, result)
    return shipment_id


def event(status, hours, reason=None):
    return TrackingEvent("TRK1", status, T0 + timedelta(hours=hours), reason=reason, description="scan",
                         location="Leipzig")


def drain(app, *, include_scheduled: bool = True) -> None:
    """Run the notify queue (and its due retries) with a real RQ burst worker. The sync queue's
    Shopify jobs are not ours to run here."""
    for _ in range(10):
        if include_scheduled:
            for job_id in queues["notify"].scheduled_job_registry.get_job_ids():
                job = Job.fetch(job_id, connection=redis.client, serializer=JobSerializer)
                queues["notify"].scheduled_job_registry.remove(job)
                queues["notify"].enqueue_job(job)
        if not queues["notify"].count:
            return
        build_worker(["notify"], worker_class=SimpleWorker).work(burst=True, logging_level="WARNING")


def rows(*where):
    db.session.expire_all()
    return db.session.execute(select(Notification).where(*where).order_by(Notification.id)).scalars().all()


def test_enqueue_notice_is_unique_and_commits_with_the_caller(notif_app, smtp_server):  # noqa: F811
    shop = make_shop()
    first = notifications.enqueue_notice(shop.id, "back_in_stock", "variant:1", "a@example.com", locale="fr",
                                         context={"product_title": "Mug", "product_url": "https://s.example/p"})
    again = notifications.enqueue_notice(shop.id, "back_in_stock", "variant:1", "a@example.com", locale="fr",
                                         context={"product_title": "Mug", "product_url": "https://s.example/p"})
    assert first and again is None
    assert queues["notify"].count == 0  # not before the commit
    db.session.commit()
    assert queues["notify"].get_job_ids() == [f"notify-{first}"]
    # Rolled back with the caller: no row, no job.
    dropped = notifications.enqueue_notice(shop.id, "back_in_stock", "variant:2", "a@example.com", locale="fr",
                                           context={"product_title": "Cup", "product_url": "https://s.example/c"})
    assert dropped
    db.session.rollback()
    assert len(rows()) == 1 and queues["notify"].count == 1
    drain(notif_app)
    assert smtp_server.inbox.wait_for(1)
    [sent] = rows()
    assert sent.status == "sent" and sent.provider_message_id.endswith("queued as Q00001")
    message = smtp_server.inbox.messages[0]
    assert message["Subject"] == "Mug est de retour en stock"
    assert message["Message-ID"] == compose.message_id(sent.id) == sent.message_id
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None
    with pytest.raises(ValueError):
        notifications.enqueue_notice(1, "nope", "x", "a@example.com", locale=None, context={})


def test_opt_out_disabled_kind_and_shopify_sender_skip(notif_app, smtp_server):  # noqa: F811
    shop = make_shop()
    notifications.set_opt_out(shop.id, "Opted@Example.com", "loyalty")
    db.session.commit()
    ctx = {"points": 5, "balance": 10}
    assert notifications.enqueue_notice(shop.id, "points_earned", "o:1", "opted@example.com", locale=None,
                                        context=ctx) is None
    assert notifications.enqueue_notice(shop.id, "back_in_stock_confirm", "v:1", "opted@example.com", locale=None,
                                        context={"variant_title": "Blue", "confirm_url": "https://x.example"})
    notifications.update_settings(shop.id, {"disabled_kinds": ["tier_reached"]})
    db.session.add(ShopSettings(shop_id=shop.id, customer_notices_by="shopify"))
    db.session.commit()
    assert notifications.enqueue_notice(shop.id, "tier_reached", "t:1", "b@example.com", locale=None,
                                        context={"tier_name": "Gold"}) is None
    assert notifications.enqueue_notice(shop.id, "shipped", "shipment:1", "b@example.com", locale=None,
                                        context={"order_name": "#1"}) is None
    assert notifications.enqueue_notice(shop.id, "points_earned", "o:2", "b@example.com", locale=None, context=ctx)
    assert notifications.enqueue_notice(shop.id, "points_earned", "o:3", "not-an-address", locale=None,
                                        context=ctx) is None


def test_shipment_life_produces_one_notice_per_real_change(world, notif_app, smtp_server):  # noqa: F811
    _shop, _order, outbound = world
    shipment_id = ship(outbound)
    shipments.record_tracking(shipment_id, [event(TrackingStatus.IN_TRANSIT, 2)])
    shipments.record_tracking(shipment_id, [event(TrackingStatus.EXCEPTION, 20, ExceptionReason.CUSTOMS_DELAY)])
    # Redelivered and late events: nothing new.
    shipments.record_tracking(shipment_id, [event(TrackingStatus.IN_TRANSIT, 2),
                                            event(TrackingStatus.EXCEPTION, 20, ExceptionReason.CUSTOMS_DELAY)])
    drain(notif_app)
    shipments.record_tracking(shipment_id, [event(TrackingStatus.OUT_FOR_DELIVERY, 50)])
    drain(notif_app)
    shipments.record_tracking(shipment_id, [event(TrackingStatus.DELIVERED, 55), event(TrackingStatus.IN_TRANSIT, 2)])
    drain(notif_app)
    assert smtp_server.inbox.wait_for(4)
    kinds = [n.kind for n in rows()]
    assert kinds == ["shipped", "exception", "out_for_delivery", "delivered"]
    assert all(n.status == "sent" for n in rows())
    subjects = [m["Subject"] for m in smtp_server.inbox.messages]
    assert subjects == ["Ihre Bestellung #1001 ist unterwegs", "Neuigkeiten zu Ihrer Bestellung #1001: Beim Zoll",
                        "Ihre Bestellung #1001 wird heute zugestellt", "Ihre Bestellung #1001 wurde zugestellt"]
    assert len(smtp_server.inbox.messages) == 4


def test_stale_out_for_delivery_is_dropped_at_send_time(world, notif_app, smtp_server):  # noqa: F811
    _shop, _order, outbound = world
    shipment_id = ship(outbound)
    shipments.record_tracking(shipment_id, [event(TrackingStatus.OUT_FOR_DELIVERY, 50)])
    shipments.record_tracking(shipment_id, [event(TrackingStatus.DELIVERED, 55)])
    drain(notif_app)
    by_kind = {n.kind: n for n in rows()}
    assert by_kind["out_for_delivery"].status == "skipped" and by_kind["out_for_delivery"].error_kind == "stale"
    assert by_kind["delivered"].status == "sent"
    assert [m["X-Nearstock-Notification"].split()[1] for m in smtp_server.inbox.messages] == ["delivered"]


def test_temporary_failures_retry_and_permanent_ones_are_recorded(world, notif_app, smtp_server):  # noqa: F811
    shop, _order, outbound = world
    smtp_server.inbox.mode = "421"
    shipment_id = ship(outbound)
    shipments.record_tracking(shipment_id, [event(TrackingStatus.IN_TRANSIT, 2)])
    drain(notif_app, include_scheduled=False)
    [n] = rows()
    assert n.status == "queued" and n.error_kind == "temporary" and "421" in n.last_error and n.attempts == 1
    assert queues["notify"].scheduled_job_registry.count == 1  # RQ's Retry, with backoff
    smtp_server.inbox.mode = "ok"
    drain(notif_app)
    assert rows()[0].status == "sent" and len(smtp_server.inbox.messages) == 1
    smtp_server.inbox.reject.add("gone@example.com")
    notifications.enqueue_notice(shop.id, "back_in_stock", "variant:9", "gone@example.com", locale="en",
                                 context={"product_title": "Mug", "product_url": "https://s.example/p"})
    db.session.commit()
    drain(notif_app)
    failed = rows(Notification.recipient == "gone@example.com")[0]
    assert failed.status == "failed" and failed.error_kind == "permanent" and "550" in failed.last_error
    assert queues["notify"].scheduled_job_registry.count == 0  # not retried


def test_claims_prevent_double_sends_and_stale_claims_are_reexamined(notif_app, smtp_server):  # noqa: F811
    shop = make_shop()
    ctx = {"product_title": "Mug", "product_url": "https://s.example/p"}
    ids = [notifications.enqueue_notice(shop.id, "back_in_stock", f"v:{i}", f"c{i}@example.com", locale="en",
                                        context=ctx) for i in range(3)]
    db.session.commit()
    queues["notify"].empty()
    now = utcnow()
    # 0: claimed by a live worker -> busy. 1: stale claim, DATA marker present -> unconfirmed, not
    # resent. 2: stale claim without marker -> sent now.
    for nid, age in ((ids[0], 1), (ids[1], 30), (ids[2], 30)):
        n = db.session.get(Notification, nid)
        n.status, n.claim_token, n.claimed_at = "sending", f"tok{nid}", now - timedelta(minutes=age)
    db.session.commit()
    redis.client.set(send.marker_key(ids[1]), f"tok{ids[1]}")
    outcomes = [send.send_notification(nid).status for nid in ids]
    assert outcomes == ["busy", "unconfirmed", "sent"]
    assert len(smtp_server.inbox.messages) == 1
    # Time passes, the worker holding the live claim never came back: the sweeper re-enqueues it,
    # and without a DATA marker it is sent.
    db.session.execute(Notification.__table__.update().where(Notification.id == ids[0])
                       .values(claimed_at=now - timedelta(minutes=30)))
    db.session.commit()
    assert notify.sweep(now=now) == 1
    drain(notif_app)
    assert [n.status for n in rows()] == ["sent", "sent", "sent"]
    assert len(smtp_server.inbox.messages) == 2


def test_merchant_alerts_are_emailed_once(world, notif_app, smtp_server):  # noqa: F811
    shop, _order, _outbound = world
    raise_alert(shop.id, "sla_breached", "outbound:1", "NS-1: not shipped within 24 h")
    raise_alert(shop.id, "sla_breached", "outbound:1", "NS-1: not shipped within 24 h")
    db.session.commit()
    # The alert_raised signal created the notice with the alert; the cron safety net finds none.
    assert notify.email_new_alerts() == 0
    drain(notif_app)
    [message] = smtp_server.inbox.messages
    assert message["To"] == "owner@acme.example"
    assert message["Subject"] == "[Nearstock] Outbound order not shipped in time"
    assert "List-Unsubscribe" not in message


def test_new_and_quiet_shipments_crons(world, notif_app, smtp_server):  # noqa: F811
    _shop, _order, outbound = world
    shipment_id = ship(outbound)
    # shipment_created created the "shipped" notice with the shipment; the cron safety net finds none.
    assert notify.notify_new_shipments() == 0
    later = utcnow() + timedelta(days=7)
    db.session.execute(Shipment.__table__.update().values(shipped_at=utcnow(), created_at=utcnow()))
    db.session.commit()
    assert send.notifications.settings_for(_shop.id).quiet_days == 5
    from integration.notices import triggers

    assert triggers.notify_quiet_shipments(now=later) == 1
    assert triggers.notify_quiet_shipments(now=later) == 0
    drain(notif_app)
    assert [n.kind for n in rows()] == ["shipped", "still_on_its_way"]
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.status == "sent")) == 2
    assert shipment_id


def test_one_click_unsubscribe_is_honoured(world, notif_app, smtp_server):  # noqa: F811
    shop, order, outbound = world
    shipment_id = ship(outbound)
    shipments.record_tracking(shipment_id, [event(TrackingStatus.IN_TRANSIT, 2)])
    drain(notif_app)
    [message] = smtp_server.inbox.messages
    url = message["List-Unsubscribe"].strip("<>")
    path = url.split("https://app.example", 1)[1]
    client = notif_app.test_client()
    page = client.get(path)
    assert page.status_code == 200 and b"Abmelden" in page.data  # German page, nothing changed by a GET
    assert rows(Notification.kind == "shipped")
    assert db.session.query(NotificationPreference).count() == 0
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert notifications.opted_out(shop.id, order.email) == ["tracking"]
    shipments.record_tracking(shipment_id, [event(TrackingStatus.OUT_FOR_DELIVERY, 50)])
    drain(notif_app)
    assert len(smtp_server.inbox.messages) == 1
    assert client.post("/notifications/unsubscribe/forged").status_code == 404
