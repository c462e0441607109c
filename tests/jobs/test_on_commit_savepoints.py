"""``signals.on_commit`` with savepoints, on SQLite and PostgreSQL: SQLAlchemy sends
``after_commit`` when a savepoint is released and ``after_rollback`` when one is rolled back.
Neither may run or drop the callbacks of the transaction around it. (Found by the chaos test:
points e-mails were enqueued at the release of the loyalty notice's savepoint, before the points
were committed, so the send job found nothing and the notice waited for the sweeper.)"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from integration import signals
from integration.extensions import db, queues
from integration.models.notification import Notification
from integration.notices import outbox
from tests.helpers_warehouse import make_shop
from tests.test_notif_support import notif_app, smtp_server  # noqa: F401 - fixtures


def test_a_released_savepoint_waits_for_the_outer_commit(notif_app):  # noqa: F811
    ran: list[str] = []
    session = db.session()
    make_shop()  # a committed row to work beside
    signals.on_commit(session, lambda: ran.append("outer"))
    with session.begin_nested():
        signals.on_commit(session, lambda: ran.append("inner"))
    assert ran == []  # released, not committed
    session.commit()
    assert ran == ["outer", "inner"]


def test_a_rolled_back_savepoint_drops_only_its_own_callbacks(notif_app):  # noqa: F811
    ran: list[str] = []
    session = db.session()
    make_shop()
    signals.on_commit(session, lambda: ran.append("before"))
    with pytest.raises(ValueError), session.begin_nested():
        signals.on_commit(session, lambda: ran.append("undone"))
        raise ValueError("the savepoint's work is undone")
    with session.begin_nested():
        signals.on_commit(session, lambda: ran.append("after"))
    session.commit()
    assert ran == ["before", "after"]


def test_an_outer_rollback_drops_everything(notif_app):  # noqa: F811
    ran: list[str] = []
    session = db.session()
    make_shop()
    signals.on_commit(session, lambda: ran.append("outer"))
    with session.begin_nested():
        signals.on_commit(session, lambda: ran.append("inner"))
    session.rollback()
    session.commit()
    assert ran == []


def test_a_notice_made_in_a_savepoint_is_enqueued_after_the_commit_that_stores_it(notif_app):  # noqa: F811
    shop = make_shop()
    with pytest.raises(ValueError), db.session.begin_nested():
        outbox.enqueue_notice(shop.id, "points_earned", "loyalty-entry:1", "ada@example.com", locale="de",
                              context={"points": 5, "balance": 5})
        raise ValueError("this one is undone")
    with db.session.begin_nested():
        kept = outbox.enqueue_notice(shop.id, "points_earned", "loyalty-entry:2", "ada@example.com",
                                     locale="de", context={"points": 7, "balance": 7})
    assert queues["notify"].job_ids == []  # nothing committed yet: a job now would find no row
    db.session.commit()
    assert queues["notify"].job_ids == [f"notify-{kept}"]
    assert [n.id for n in db.session.execute(select(Notification)).scalars()] == [kept]
