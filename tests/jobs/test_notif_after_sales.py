"""After-sales notices end to end: the late-order check tells the customer once, in their language,
with a new estimate; the merchant's switches and the customer's opt-outs hold; a notice whose
context lacks what its kind needs is skipped with a log line, at creation and at send; the
admin's test notice works for every new kind. Real RQ, real SMTP (aiosmtpd), real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from integration.extensions import db
from integration.models import Alert, OutboundOrder
from integration.models.base import utcnow
from integration.models.notification import Notification
from integration.notices import after_sales, links, samples, send, settings_input, test_notice
from integration.notices import outbox as notifications
from integration.orders import allocation, outbound
from tests.helpers_warehouse import make_account, make_order, make_shop, make_warehouse, set_stock
from tests.jobs.test_notif_outbox import drain, rows
from tests.test_notif_support import notif_app, smtp_server  # noqa: F401 - fixtures

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday
AFTER_SALES = [k for k, c in notifications.CATEGORY.items() if c == "after_sales"]


def logged(caplog, event: str) -> list[dict]:
    return [r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg.get("event") == event]


@pytest.fixture
def late(notif_app):  # noqa: F811
    """A German customer's order pushed to the DE warehouse (24 h handling, 1-2 days to DE),
    due to ship yesterday and not shipped."""
    shop = make_shop()
    shop.name, shop.email, shop.primary_locale = "Acme Outdoor", "owner@acme.example", "en"
    warehouse = make_warehouse(shop, make_account(shop), "DEWH", "DE", name="Berlin", transit_days={"DE": [1, 2]},
                               handling_hours=24)
    set_stock(shop, warehouse, "MUG", 10)
    order = make_order(shop, "o-1001", [("MUG", 2)])
    order.locale, order.name, order.customer_name = "de-DE", "#1001", "Ada Buyer"
    db.session.commit()
    [outbound_id] = allocation.allocate_order(order.id).outbound_ids
    row = db.session.get(OutboundOrder, outbound_id)
    row.status, row.pushed_at, row.sla_due_at = "pushed", NOW - timedelta(days=2), NOW - timedelta(days=1)
    db.session.commit()
    return shop, order, row


def plain(message) -> str:
    """The plain-text part, its line breaks (CRLF, wrapping) as single spaces."""
    return " ".join(message.get_body(("plain",)).get_content().split())


def delayed_rows():
    return rows(Notification.kind == "order_delayed")


def test_a_missed_ship_by_tells_the_customer_once_in_their_language(late, notif_app, smtp_server):  # noqa: F811
    shop, order, row = late
    assert outbound.check_sla(NOW) == 1
    assert outbound.check_sla(NOW) == 0  # the job again: the order is already known late
    # Even if the "alerted" mark were lost, the customer does not hear it twice.
    db.session.get(OutboundOrder, row.id).sla_alerted_at = None
    db.session.commit()
    assert outbound.check_sla(NOW + timedelta(minutes=15)) == 1
    drain(notif_app)
    drain(notif_app)
    [notice] = delayed_rows()
    assert notice.subject == f"order:{order.id}:delayed:2026-11-19" and notice.status == "sent"
    assert notice.locale == "de-DE" and notice.recipient == "buyer@example.com"
    # A fresh day of handling from Friday (ships Monday 23rd), then 1-2 days to Germany.
    assert notice.context["new_estimate"] == {"from": "2026-11-24", "to": "2026-11-25"}
    assert notice.context["warehouse_country"] == "DE" and notice.context["customer_name"] == "Ada"
    to_customer = [m for m in smtp_server.inbox.messages if m["To"] == "buyer@example.com"]
    assert len(to_customer) == 1
    message = to_customer[0]
    assert message["Subject"] == "Ihre Bestellung #1001 dauert länger als erwartet"
    text = plain(message)
    assert "Neue voraussichtliche Zustellung: zwischen dem 24. November 2026 und dem 25. November 2026" in text
    assert "unser Lager in Deutschland" in text and "Hallo Ada," in text
    # The merchant's alert went out once too, to the merchant.
    assert db.session.scalar(select(Alert.kind).where(Alert.shop_id == shop.id)) == "sla_breached"
    assert [m["To"] for m in smtp_server.inbox.messages].count("owner@acme.example") == 1


def test_the_delay_notice_is_per_order_and_ship_by_day(late, notif_app, smtp_server):  # noqa: F811
    _shop, order, row = late
    assert outbound.check_sla(NOW) == 1
    # The receiver again for the same outbound (a retried job): the same notice, not a second.
    assert after_sales.on_ship_by_missed(row.id, NOW) is None
    # The order pushed again with a new ship-by that it misses too: a new notice for that day.
    again = db.session.get(OutboundOrder, row.id)
    again.sla_due_at, again.sla_alerted_at = NOW + timedelta(days=2), None
    db.session.commit()
    assert outbound.check_sla(NOW + timedelta(days=3)) == 1
    assert [n.subject for n in delayed_rows()] == [f"order:{order.id}:delayed:2026-11-19",
                                                   f"order:{order.id}:delayed:2026-11-22"]


def test_no_transit_time_means_no_estimate_and_the_notice_says_so(late, notif_app, smtp_server):  # noqa: F811
    _shop, order, _row = late
    order.shipping_country = "JP"  # the warehouse has transit times for DE only
    db.session.commit()
    outbound.check_sla(NOW)
    drain(notif_app)
    [notice] = delayed_rows()
    assert "new_estimate" not in notice.context and notice.status == "sent"
    [message] = [m for m in smtp_server.inbox.messages if m["To"] == "buyer@example.com"]
    assert "Wir haben noch keinen neuen voraussichtlichen Zustelltermin." in plain(message)


def test_switched_off_kind_and_after_sales_opt_out_are_respected(late, notif_app, smtp_server, caplog):  # noqa: F811
    shop, order, row = late
    notifications.update_settings(shop.id, {"disabled_kinds": settings_input.disabled_kinds(["order_delayed"])})
    db.session.commit()
    outbound.check_sla(NOW)
    assert delayed_rows() == []
    assert any(e["reason"] == "disabled" and e["kind"] == "order_delayed" for e in logged(caplog, "notice.skipped"))
    # Switched on again; the customer opted out of shipping updates only: still told.
    notifications.update_settings(shop.id, {"disabled_kinds": []})
    notifications.set_opt_out(shop.id, "buyer@example.com", "tracking")
    db.session.commit()
    assert after_sales.on_ship_by_missed(row.id, NOW)
    db.session.commit()
    # Opted out of after-sales e-mails: not told, and a queued notice is dropped at send time.
    notifications.set_opt_out(shop.id, "buyer@example.com", "after_sales")
    db.session.commit()
    drain(notif_app)
    [notice] = delayed_rows()
    assert notice.status == "skipped" and notice.error_kind == "opted_out"
    assert not [m for m in smtp_server.inbox.messages if m["To"] == "buyer@example.com"]
    ctx = dict(after_sales.order_context(order), **samples.sample_context("refund_processed"))
    assert notifications.enqueue_notice(shop.id, "refund_processed", "return:1", order.email, locale="de",
                                        context=ctx) is None


def test_the_unsubscribe_link_of_an_after_sales_notice_stops_after_sales_only(late, notif_app):  # noqa: F811
    shop, order, _row = late
    ctx = dict(after_sales.order_context(order), **samples.sample_context("return_received"))
    nid = notifications.enqueue_notice(shop.id, "return_received", "return:7", order.email, locale="de-DE",
                                       context=ctx)
    db.session.commit()
    url = links.unsubscribe_url(db.session.get(Notification, nid))
    path = url.split("https://app.example", 1)[1]
    client = notif_app.test_client()
    page = client.get(path)
    assert page.status_code == 200
    assert "Rücksendungen, Erstattungen, Ersatzlieferungen, Reklamationen" in page.get_data(as_text=True)
    assert client.post(path).status_code == 200
    assert notifications.opted_out(shop.id, order.email) == ["after_sales"]
    approved = dict(after_sales.order_context(order), **samples.sample_context("return_approved"))
    assert notifications.enqueue_notice(shop.id, "return_approved", "return:7", order.email, locale="de",
                                        context=approved) is None
    assert notifications.enqueue_notice(shop.id, "shipped", "shipment:1", order.email, locale="de",
                                        context={"order_name": order.name})


@pytest.mark.parametrize(("kind", "broken"), [
    ("refund_processed", {"amount": None}),
    ("refund_processed", {"currency": "euros"}),
    ("return_approved", {"address": None, "label_url": None}),
    ("return_approved", {"return_by": "next week"}),
    ("return_declined", {"reason": "because"}),
    ("claim_opened", {"items": []}),
    ("claim_settled", {"items": [{"sku": "MUG", "quantity": 1}]}),
    ("replacement_shipped", {"estimate": {"from": "soon"}}),
    ("order_delayed", {"order_name": ""}),
])
def test_a_notice_missing_context_is_skipped_with_a_log_line(late, notif_app, smtp_server, caplog,  # noqa: F811
                                                              kind, broken):
    shop, order, _row = late
    ctx = {**after_sales.order_context(order), **samples.sample_context(kind), **broken}
    assert notifications.enqueue_notice(shop.id, kind, "return:9", order.email, locale="de", context=ctx) is None
    [line] = [e for e in logged(caplog, "notice.skipped") if e["reason"] == "bad_context"]
    assert line["kind"] == kind and line["keys"]
    # A row that got stored anyway (older code, a hand edit) is dropped by the send job, not sent.
    db.session.add(Notification(shop_id=shop.id, kind=kind, subject="return:10", recipient=order.email, locale="de",
                                context=ctx, status="queued", attempts=0, created_at=utcnow(), updated_at=utcnow()))
    db.session.commit()
    [row] = rows(Notification.kind == kind)
    assert send.send_notification(row.id) == send.Outcome("skipped", "bad_context")
    [row] = rows(Notification.kind == kind)
    assert row.status == "skipped" and row.error_kind == "bad_context"
    assert [e["keys"] for e in logged(caplog, "notice.bad_context")] == [line["keys"]]
    assert smtp_server.inbox.messages == []


def test_the_admin_test_notice_sends_every_after_sales_kind_in_german(late, notif_app, smtp_server):  # noqa: F811
    shop, _order, _row = late
    for i, kind in enumerate(AFTER_SALES):
        notice, created = test_notice.send_test_notice(shop, {"kind": kind, "locale": "de", "key": f"click-{i:04d}"})
        assert created and notice.status == "queued"
    drain(notif_app)
    assert smtp_server.inbox.wait_for(len(AFTER_SALES))
    subjects = {m["X-Nearstock-Notification"].split()[1]: m["Subject"] for m in smtp_server.inbox.messages}
    assert subjects == {
        "return_approved": "Ihre Rücksendung für Bestellung #1042 ist genehmigt",
        "return_declined": "Zu Ihrer Rücksendeanfrage für Bestellung #1042",
        "return_received": "Wir haben Ihre Rücksendung für Bestellung #1042 erhalten",
        "return_inspecting": "Wir prüfen Ihre Rücksendung für Bestellung #1042",
        "replacement_shipped": "Ihr Ersatz für Bestellung #1042 ist unterwegs",
        "refund_processed": "Wir haben Ihnen 49,90 € für Bestellung #1042 erstattet",
        "claim_opened": "Wir haben zu Ihrer Bestellung #1042 eine Reklamation eröffnet",
        "claim_settled": "Neuigkeiten zu Ihrer Reklamation für Bestellung #1042",
        "order_delayed": "Ihre Bestellung #1042 dauert länger als erwartet",
    }
    assert all(n.status == "sent" for n in rows(Notification.subject.startswith("test:")))
