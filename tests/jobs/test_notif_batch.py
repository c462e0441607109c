"""Send jobs of several notices (notification_send.Batch) against real PostgreSQL/SQLite, Redis and
an aiosmtpd server: a job claims its notices together, each is still sent once, "sent" is recorded
a few at a time (and in the DATA markers, so a crash loses no answer), what a stopped job did not
send goes back to the queue, and the shop's rate limit holds when its tokens are taken a few at a time."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import event, select, text

from integration.extensions import db, queues, redis
from integration.models.base import utcnow
from integration.models.notification import Notification
from integration.notices import links, outbox, samples
from integration.notices import render as rendering
from integration.notices import send as notification_send
from tests.helpers_warehouse import make_order, make_shop
from tests.jobs.test_notif_outbox import drain, rows
from tests.test_notif_support import notif_app, smtp_server  # noqa: F401 - fixtures
from tests.unit.test_notif_plain_text import visible

CONTEXT = {"product_title": "Mug", "product_url": "https://s.example/p"}


def create(shop, count: int, start: int = 0) -> list[int]:
    ids = [outbox.enqueue_notice(shop.id, "back_in_stock", f"v:{i}", f"c{i}@example.com", locale="de",
                                        context=CONTEXT) for i in range(start, start + count)]
    db.session.commit()
    return ids


def test_notices_created_together_go_out_in_one_job_over_one_session(notif_app, smtp_server):  # noqa: F811
    shop = make_shop()
    ids = create(shop, 5)
    assert queues["notify"].get_job_ids() == [f"notify-batch-{ids[0]}-{ids[-1]}"]
    drain(notif_app)
    sent = rows()
    assert [n.status for n in sent] == ["sent"] * 5
    inbox = smtp_server.inbox
    assert sorted(int(m["X-Nearstock-Notification"].split()[0]) for m in inbox.messages) == ids
    assert inbox.sessions == 1
    assert {n.provider_message_id for n in sent} == {f"2.0.0 Ok: queued as Q{i:05d}" for i in range(1, 6)}
    assert [m["Message-ID"] for m in inbox.messages] == [n.message_id for n in sent]


def age_claims() -> None:
    db.session.execute(Notification.__table__.update().where(Notification.status == "sending")
                       .values(claimed_at=utcnow() - notification_send.CLAIM_TIMEOUT - timedelta(minutes=1)))
    db.session.commit()


def test_a_job_claims_its_notices_in_one_statement_before_sending(notif_app, smtp_server):  # noqa: F811
    shop = make_shop()
    ids = create(shop, 3)
    queues["notify"].empty()
    batch = notification_send.Batch(ids)
    claimed = rows()
    assert [n.status for n in claimed] == ["sending"] * 3 and {n.claim_token for n in claimed} == {batch.token}
    assert [n.attempts for n in claimed] == [1, 1, 1]
    assert smtp_server.inbox.messages == []
    # Another job with the same notices (a duplicate enqueue, a sweep) finds them taken.
    other = notification_send.Batch(ids)
    assert [other.send(nid).status for nid in ids] == ["busy"] * 3
    other.close()
    assert [batch.send(nid).status for nid in ids] == ["sent"] * 3
    batch.close()
    assert len(smtp_server.inbox.messages) == 3 and [n.attempts for n in rows()] == [1, 1, 1]


def test_a_crash_before_the_sent_marks_are_committed_never_resends(notif_app, smtp_server):  # noqa: F811
    shop = make_shop()
    first, second, third, fourth = create(shop, 4)
    queues["notify"].empty()
    batch = notification_send.Batch([first, second, third, fourth])
    assert batch.send(first).status == "sent" and batch.send(second).status == "sent"
    # The worker dies here: no "sent" committed yet (they go ten at a time). `first`'s marker got
    # the server's answer when `second` was handed over; `second` has only its DATA marker.
    db.session.rollback()
    del batch
    assert [n.status for n in rows()] == ["sending"] * 4
    assert redis.client.get(notification_send.marker_key(first)).decode().endswith("queued as Q00001")
    assert notification_send.send_notification(first).status == "busy"  # a live claim is left alone
    assert notification_send.send_notification(third).status == "busy"
    age_claims()
    assert notification_send.send_notification(first).status == "sent"  # answered: recorded, not resent
    assert notification_send.send_notification(second).status == "unconfirmed"  # handed over: not resent
    assert notification_send.send_notification(third).status == "sent"  # never handed over: sent now
    assert notification_send.send_notification(fourth).status == "sent"
    inbox = smtp_server.inbox
    assert sorted(int(m["X-Nearstock-Notification"].split()[0]) for m in inbox.messages) == [first, second, third,
                                                                                              fourth]
    found = {n.id: n for n in rows()}
    assert [(found[i].status, found[i].error_kind) for i in (first, second, third, fourth)] == [
        ("sent", None), ("sent", "unconfirmed"), ("sent", None), ("sent", None)]
    assert found[first].provider_message_id == "2.0.0 Ok: queued as Q00001"
    assert all(found[i].message_id == m["Message-ID"] for i, m in zip((first, second, third, fourth), inbox.messages,
                                                                       strict=True))


def test_a_job_that_stops_gives_back_what_it_did_not_send(notif_app, smtp_server):  # noqa: F811
    shop = make_shop()
    ids = create(shop, 4)
    queues["notify"].empty()
    batch = notification_send.Batch(ids)
    assert batch.send(ids[0]).status == "sent"
    batch.close()  # e.g. the job's timeout: the rest were claimed and never handed over
    found = rows()
    assert [n.status for n in found] == ["sent", "queued", "queued", "queued"]
    assert [n.attempts for n in found] == [1, 0, 0, 0] and all(n.claim_token is None for n in found[1:])
    assert notification_send.Batch(ids[1:]).send(ids[1]).status == "sent"  # free for the next job


def test_the_last_notice_of_a_batch_is_marked_sent_at_once(notif_app, smtp_server):  # noqa: F811
    shop = make_shop()
    ids = create(shop, 3)
    queues["notify"].empty()
    batch = notification_send.Batch(ids)
    outcomes = [batch.send(nid).status for nid in ids]
    assert outcomes == ["sent"] * 3
    assert [n.status for n in rows()] == ["sent"] * 3  # no flush() needed after the last one
    assert batch.send(ids[0]).status == "sent" and len(smtp_server.inbox.messages) == 3  # already done


def test_rate_limit_tokens_taken_for_the_batch_still_hold_the_rate(notif_app, smtp_server):  # noqa: F811
    shop = make_shop()
    outbox.update_settings(shop.id, {"send_rate_per_minute": 60})  # 1/s, a burst of 10
    db.session.commit()
    ids = create(shop, 12)
    queues["notify"].empty()
    started = time.monotonic()
    batch = notification_send.Batch(ids)
    assert [batch.send(nid).status for nid in ids] == ["sent"] * 12
    # The burst covers ten; the last two wait for the bucket to refill at one a second.
    assert time.monotonic() - started >= 1.5
    assert len(smtp_server.inbox.messages) == 12


def test_every_language_gets_the_order_and_its_links_in_the_text_part(notif_app, smtp_server):  # noqa: F811
    """Through a real send job and SMTP server: the text part a customer's mail client shows
    carries the order number, the signed tracking link, the carrier's tracking number and the
    unsubscribe link, in the customer's language, and everything the HTML part shows."""
    shop = make_shop()
    shop.name = "Acme Outdoor"
    order = make_order(shop, "o-2001", [("MUG", 1)])
    context = {**samples.sample_context("shipped"), "order_id": order.id, "order_name": "#2001"}
    ids = {outbox.enqueue_notice(shop.id, "shipped", f"shipment:{i}", f"c{i}@example.com", locale=locale,
                                 context=context): locale for i, locale in enumerate(rendering.SUPPORTED_LOCALES)}
    db.session.commit()
    drain(notif_app)
    assert smtp_server.inbox.wait_for(len(ids))
    assert [n.status for n in rows()] == ["sent"] * len(ids)
    for message in smtp_server.inbox.messages:
        locale = ids[int(message["X-Nearstock-Notification"].split()[0])]
        text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
        html = message.get_body(("html",)).get_content()
        assert message["Content-Language"] == locale
        tracking = re.search(r'href="(https://acme\.myshopify\.com/apps/nearstock/track\?t=[^"]+)"', html).group(1)
        assert links.read_tracking_token(tracking.split("t=", 1)[1]) == {"s": shop.id, "o": order.id}
        track_label = rendering.translations(locale).gettext("Track your parcel")
        unsubscribe = message["List-Unsubscribe"].strip("<>")
        unsubscribe_label = rendering.translations(locale).gettext("Unsubscribe from these e-mails")
        for expected in (f"{track_label} <{tracking}>", f"{unsubscribe_label} <{unsubscribe}>", "#2001",
                         f"JJD000390007795432 <{context['carrier_url']}>"):
            assert expected in text, f"{locale}: {expected!r} missing from the text part"
        shown = visible(html)
        assert all(piece in " ".join(text.split()) for piece in shown.texts), locale


def test_the_claim_reads_the_batch_by_primary_key_however_big_the_outbox(notif_app, smtp_server):  # noqa: F811
    """On PostgreSQL a claim written as "status = 'queued' OR ..." was answered from the status
    index: every queued and sending entry of the table, dead ones included (5 ms of server CPU per
    claim after 5,000 notices, growing with the outbox). It must be the batch's own rows only."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the plan read here is PostgreSQL's")
    shop = make_shop()
    db.session.execute(text(
        "INSERT INTO notifications (shop_id, kind, subject, recipient, status, attempts, created_at, updated_at) "
        "SELECT :shop, 'shipped', 's:' || n, 'c@example.com', CASE WHEN n % 5 = 0 THEN 'queued' ELSE 'sent' END, "
        "1, now(), now() FROM generate_series(1, 5000) AS n"), {"shop": shop.id})
    db.session.execute(text("ANALYZE notifications"))
    ids = db.session.scalars(select(Notification.id).where(Notification.status == "queued").limit(20)).all()

    sent: list = []  # the claim exactly as SQLAlchemy sends it

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        db.session.connection().execute(notification_send._CLAIM, {
            "nids": ids, "stale_before": utcnow(), "token": "t", "at": utcnow()})
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
        db.session.rollback()
    [(statement, parameters)] = sent
    # psycopg prepares a statement on its fifth use, and PostgreSQL may then plan it once for any
    # ids (a generic plan): that is the plan a worker's claim runs with, so that is the one read.
    names = re.findall(r"%\((\w+)\)s", statement)
    numbered = iter(range(1, len(names) + 1))
    db.session.execute(text("PREPARE claim AS " + re.sub(r"%\((\w+)\)s", lambda _m: f"${next(numbered)}", statement)))
    db.session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
    values = ", ".join(str(v) if isinstance(v, int) else f"'{v}'" for v in (parameters[n] for n in names))
    plan = "\n".join(db.session.execute(text(f"EXPLAIN EXECUTE claim({values})")).scalars())
    db.session.execute(text("DEALLOCATE claim"))  # a session's, not the transaction's
    db.session.rollback()
    assert "pk_notifications" in plan and "ix_notifications_status" not in plan, plan
