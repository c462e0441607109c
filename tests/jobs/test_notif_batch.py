"""Send jobs of several notices (notification_send.Batch) against real PostgreSQL/SQLite, Redis and
an aiosmtpd server: each notice still claimed and sent once, the "sent" mark carried by the next
claim, the shop's rate limit still honoured when its tokens are taken a few at a time."""

from __future__ import annotations

import time
from datetime import timedelta

from integration.extensions import db, queues, redis
from integration.models.base import utcnow
from integration.models.notification import Notification
from integration.services import notification_send, notifications
from tests.helpers_warehouse import make_shop
from tests.jobs.test_notif_outbox import drain, rows
from tests.test_notif_support import notif_app, smtp_server  # noqa: F401 - fixtures

CONTEXT = {"product_title": "Mug", "product_url": "https://s.example/p"}


def create(shop, count: int, start: int = 0) -> list[int]:
    ids = [notifications.enqueue_notice(shop.id, "back_in_stock", f"v:{i}", f"c{i}@example.com", locale="de",
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


def test_a_crash_before_the_sent_mark_is_committed_never_resends(notif_app, smtp_server):  # noqa: F811
    shop = make_shop()
    first, second = create(shop, 2)
    queues["notify"].empty()
    batch = notification_send.Batch([first, second])
    assert batch.send(first).status == "sent"
    # The worker dies here: "sent" for `first` was to be committed with the claim of `second`.
    db.session.rollback()
    del batch
    [row] = rows(Notification.id == first)
    assert row.status == "sending" and redis.client.get(notification_send.marker_key(first)) is not None
    assert notification_send.send_notification(first).status == "busy"  # a live claim is left alone
    db.session.execute(Notification.__table__.update().where(Notification.id == first)
                       .values(claimed_at=utcnow() - notification_send.CLAIM_TIMEOUT - timedelta(minutes=1)))
    db.session.commit()
    assert notification_send.send_notification(first).status == "unconfirmed"
    assert notification_send.send_notification(second).status == "sent"
    assert len(smtp_server.inbox.messages) == 2
    assert [(n.status, n.error_kind) for n in rows()] == [("sent", "unconfirmed"), ("sent", None)]


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
    notifications.update_settings(shop.id, {"send_rate_per_minute": 60})  # 1/s, a burst of 10
    db.session.commit()
    ids = create(shop, 12)
    queues["notify"].empty()
    started = time.monotonic()
    batch = notification_send.Batch(ids)
    assert [batch.send(nid).status for nid in ids] == ["sent"] * 12
    # The burst covers ten; the last two wait for the bucket to refill at one a second.
    assert time.monotonic() - started >= 1.5
    assert len(smtp_server.inbox.messages) == 12
