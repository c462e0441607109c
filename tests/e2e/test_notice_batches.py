"""End to end: a send job of several notices, worked by a real `python -m jobs.worker` process that
is SIGKILLed half-way through the batch, then recovered as production recovers (stale claims
re-examined, lost rows swept). Every notice reaches the SMTP server exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from integration.extensions import db, queues
from integration.models.base import utcnow
from integration.models.notification import Notification
from integration.notices import outbox
from integration.notices import send as notification_send
from jobs import notify
from tests.e2e.test_notices import wait_until, workers  # noqa: F401 - fixture
from tests.helpers_warehouse import make_shop
from tests.test_notif_support import notif_app, smtp_server  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def by_id() -> dict[int, Notification]:
    db.session.expire_all()
    return {n.id: n for n in db.session.execute(select(Notification)).scalars()}


def test_a_worker_killed_half_way_through_a_batch_sends_each_notice_once(notif_app, smtp_server,  # noqa: F811
                                                                          workers):  # noqa: F811
    shop = make_shop()
    ids = [outbox.enqueue_notice(shop.id, "back_in_stock", f"v:{i}", f"c{i}@example.com", locale="fr",
                                        context={"product_title": "Mug", "product_url": "https://s.example/p"})
           for i in range(6)]
    db.session.commit()
    assert queues["notify"].get_job_ids() == [f"notify-batch-{ids[0]}-{ids[-1]}"]  # one job for all six
    inbox = smtp_server.inbox
    inbox.stall_after = 2  # the third message is taken; its "250" never comes
    workers.start(1)
    assert wait_until(inbox.in_data.is_set)
    workers.kill(workers.procs[0])
    inbox.stall_after = None
    inbox.stalled.clear()

    rows = by_id()
    # The job claimed all six; 1 and 2 were answered (recorded in their DATA markers, not yet on
    # the rows: "sent" is committed ten at a time); 3 was handed to the server, unanswered; 4-6
    # were never handed over.
    assert [rows[i].status for i in ids] == ["sending"] * 6
    assert len(inbox.messages) == 3

    # Time passes: the claim goes stale, the sweeper finds the rows whose job died with the worker.
    db.session.execute(Notification.__table__.update().where(Notification.status == "sending")
                       .values(claimed_at=utcnow() - notification_send.CLAIM_TIMEOUT - timedelta(minutes=1)))
    db.session.commit()
    assert notify.sweep(now=utcnow() + notify.SWEEP_AFTER + timedelta(minutes=1)) == 6
    workers.start(1)
    assert wait_until(lambda: all(n.status == "sent" for n in by_id().values()))

    sent_ids = sorted(int(m["X-Nearstock-Notification"].split()[0]) for m in inbox.messages)
    assert sent_ids == ids  # each exactly once
    rows = by_id()
    assert rows[ids[2]].error_kind == "unconfirmed"  # the server had it: marked, not sent again
    assert all(rows[i].error_kind is None for i in ids if i != ids[2])
    assert all(rows[i].provider_message_id for i in ids if i != ids[2])  # 1 and 2: from their markers
