"""Webhooks arriving together are written together: one INSERT and one Redis pipeline per batch,
with exactly the guarantees of writing them one by one."""

import threading

import pytest
from sqlalchemy import func, select

from integration import create_app
from integration.extensions import db, queues
from integration.inbox import events as inbox
from integration.inbox import group_commit
from integration.inbox.events import InboxUnavailableError
from integration.inbox.group_commit import GroupCommit, Pending
from integration.job_catalog import process_event_id
from integration.models import EventStatus, WebhookEvent
from tests.conftest import make_config


def _values(delivery_id: str, **over) -> dict:
    values = {"source": "shopify", "delivery_id": delivery_id, "topic": "orders/create",
              "shop_domain": "acme.myshopify.com", "body": b'{"id": 1}', "received_at": inbox.utcnow(),
              "status": EventStatus.RECEIVED, "attempts": 0}
    values.update(over)
    return values


def _count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(WebhookEvent))


def test_a_batch_stores_each_delivery_once_and_enqueues_each_new_event_once(app):
    inbox.receive_event("shopify", "old-received", "orders/create", "acme.myshopify.com", b"{}")
    queues["events"].empty()  # its job was lost: a redelivery in the batch must enqueue it again
    batch = [Pending(_values(d)) for d in ("a", "b", "a", "old-received", "c", "b")]
    inbox._write_batch(batch)

    assert [i.error for i in batch] == [None] * 6
    assert [i.duplicate for i in batch] == [False, False, True, True, False, True]
    assert batch[0].event_id == batch[2].event_id and batch[1].event_id == batch[5].event_id
    assert _count() == 4
    ids = {i.event_id for i in batch}
    assert inbox.queued_event_ids() == sorted(ids)
    # the three new events share one job, which their rows name; the redelivered one gets its own
    shared = db.session.get(WebhookEvent, batch[0].event_id).job_id
    assert shared and {db.session.get(WebhookEvent, batch[k].event_id).job_id for k in (1, 4)} == {shared}
    assert sorted(queues["events"].get_job_ids()) == sorted([shared, process_event_id(batch[3].event_id)])
    # stored exactly as the ORM would have stored them (timestamps, bytes)
    event = db.session.get(WebhookEvent, batch[0].event_id)
    assert event.body == b'{"id": 1}' and event.received_at.tzinfo is not None
    assert event.received_at == batch[0].values["received_at"]


def test_a_redelivery_of_a_processed_event_in_a_batch_adds_no_job(app, worker):
    first = inbox.receive_event("shopify", "done-1", "unhandled/topic", "acme.myshopify.com", b"{}")
    worker.run()
    assert db.session.get(WebhookEvent, first.event_id).status == EventStatus.IGNORED
    batch = [Pending(_values("done-1", topic="unhandled/topic")), Pending(_values("new-1"))]
    inbox._write_batch(batch)
    assert batch[0].duplicate and batch[0].event_id == first.event_id
    assert inbox.queued_event_ids() == [batch[1].event_id]


def test_a_row_the_database_refuses_fails_alone(app):
    # A value no driver can bind stands for any row-level error (constraint, encoding...).
    batch = [Pending(_values("ok-1")), Pending(_values("bad", shop_domain={"not": "a string"})),
             Pending(_values("ok-2"))]
    inbox._write_batch(batch)
    assert batch[0].error is None and batch[2].error is None
    assert isinstance(batch[1].error, InboxUnavailableError)
    assert _count() == 2
    assert sorted(queues["events"].get_job_ids()) == sorted(process_event_id(batch[i].event_id) for i in (0, 2))


def test_redis_down_fails_the_batch_and_the_redelivery_enqueues(tmp_path, database_url, redis_url, redis_conn):
    down = create_app(make_config(tmp_path, database_url, "redis://127.0.0.1:1/0"))
    with down.app_context():
        batch = [Pending(_values("r-1")), Pending(_values("r-2"))]
        inbox._write_batch(batch)
        assert all(isinstance(i.error, InboxUnavailableError) for i in batch)  # 503: Shopify retries
        assert _count() == 2  # stored, not yet enqueued
        db.session.remove()
    up = create_app(make_config(tmp_path, database_url, redis_url))
    with up.app_context():
        received = [inbox.receive_event("shopify", d, "orders/create", "acme.myshopify.com", b"{}")
                    for d in ("r-1", "r-2", "r-1")]
        assert [r.duplicate for r in received] == [True, True, True]
        assert sorted(queues["events"].get_job_ids()) == sorted(process_event_id(r.event_id) for r in received[:2])
        db.session.remove()


def test_concurrent_requests_share_batches_and_each_gets_its_own_answer(app):
    """Forty threads, every delivery sent twice at once: forty answers, twenty rows, twenty jobs."""
    flask_app = app
    results: dict[int, inbox.Received] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(40)

    def send(n: int) -> None:
        with flask_app.app_context():
            start.wait()
            try:
                results[n] = inbox.receive_event("shopify", f"c-{n % 20}", "orders/create",
                                                 "acme.myshopify.com", b"{}")
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(results) == 40
    for n in range(20):
        a, b = results[n], results[n + 20]
        assert a.event_id == b.event_id and sorted([a.duplicate, b.duplicate]) == [False, True]
    assert _count() == 20
    assert inbox.queued_event_ids() == sorted(r.event_id for r in results.values() if not r.duplicate)


def test_followers_wait_for_the_leader_and_leadership_passes_on():
    """Pure mechanics, no database: while one batch is being written the others queue up and
    are written as the next batch, led by one of them."""
    writer = GroupCommit()
    in_first = threading.Event()
    release = threading.Event()
    batches: list[list[str]] = []

    def write(batch):
        batches.append([i.values["k"] for i in batch])
        if len(batches) == 1:
            in_first.set()
            assert release.wait(5)
        for item in batch:
            item.event_id = int(item.values["k"])

    out: dict[int, Pending] = {}

    def submit(k: int) -> None:
        out[k] = writer.submit({"k": str(k)}, write)

    first = threading.Thread(target=submit, args=(0,))
    first.start()
    assert in_first.wait(5)
    others = [threading.Thread(target=submit, args=(k,)) for k in range(1, 6)]
    for t in others:
        t.start()
    while len(writer._queue) < 5:  # all five queued behind the running batch
        threading.Event().wait(0.001)
    release.set()
    for t in [first, *others]:
        t.join(5)
    assert batches[0] == ["0"] and sorted(batches[1]) == ["1", "2", "3", "4", "5"]
    assert {k: p.event_id for k, p in out.items()} == {k: k for k in range(6)}
    assert not writer._leading and writer._queue == []


def test_a_failing_write_fails_its_batch_only():
    writer = GroupCommit()
    calls = []

    def write(batch):
        calls.append(len(batch))
        if len(calls) == 1:
            raise RuntimeError("database went away")

    failed = writer.submit({"k": "1"}, write)
    assert isinstance(failed.error, RuntimeError)
    ok = writer.submit({"k": "2"}, write)  # the writer is not left stuck "leading"
    assert ok.error is None and calls == [1, 1]


@pytest.mark.parametrize("rows", [1, 3])
def test_insert_sql_binds_every_value(rows):
    sql = group_commit._insert_sql("postgresql", rows)
    assert sql.count("%s") == rows * len(group_commit.COLUMNS)
    assert group_commit._insert_sql("sqlite", rows).count("?") == rows * len(group_commit.COLUMNS)


def test_headers_longer_than_the_inbox_columns_are_400_not_503(client):
    from tests.helpers import shopify_webhook

    r = shopify_webhook(client, "x" * 129, {"id": 1}, webhook_id="w-long-topic")
    assert r.status_code == 400 and r.json["error"]["code"] == "missing_headers"
    # the longest accepted topic with the longest event id still fits the delivery id column
    r = shopify_webhook(client, "t" * 128, {"id": 1}, webhook_id="w" * 255,
                       headers={"X-Shopify-Event-Id": "e" * 100})
    assert r.status_code == 200
    assert _count() == 1


def test_a_lost_inbox_connection_fails_one_write_and_is_replaced(app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs a server connection to terminate (PostgreSQL)")
    from sqlalchemy import create_engine, text

    inbox.receive_event("shopify", "before", "orders/create", "acme.myshopify.com", b"{}")
    pid = group_commit.connection._dbapi.info.backend_pid
    admin = create_engine(database_url)
    with admin.begin() as conn:  # what a database restart or failover does to the connection
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()

    with pytest.raises(InboxUnavailableError):  # 503: Shopify retries
        inbox.receive_event("shopify", "during", "orders/create", "acme.myshopify.com", b"{}")
    retried = inbox.receive_event("shopify", "during", "orders/create", "acme.myshopify.com", b"{}")
    assert not retried.duplicate and _count() == 2


@pytest.fixture
def handler():
    from connectors.errors import PermanentError, RetryableError
    from integration.inbox import dispatch

    calls: list[int] = []
    fail: dict[int, BaseException] = {}

    def handle(event, payload):
        calls.append(payload["n"])
        if payload["n"] in fail:
            raise fail.pop(payload["n"])

    dispatch.handles("shopify", "test/batch")(handle)
    yield calls, fail, RetryableError, PermanentError
    dispatch.unregister("shopify", "test/batch")


def _stored_batch(n: int) -> list[int]:
    batch = [Pending(_values(f"b-{k}", topic="test/batch", body=b'{"n": %d}' % k)) for k in range(n)]
    inbox._write_batch(batch)
    return sorted(i.event_id for i in batch)


def test_a_batch_job_handles_each_event_once_and_hands_failures_to_their_own_job(app, worker, handler):
    calls, fail, retryable, permanent = handler
    ids = _stored_batch(4)
    [job_id] = queues["events"].get_job_ids()
    assert job_id.startswith("events-") and db.session.get(WebhookEvent, ids[0]).job_id == job_id
    fail[1] = retryable("warehouse 503", retry_after=60)
    fail[2] = permanent("malformed order")

    worker.run(include_scheduled=False)
    assert calls == [0, 1, 2, 3]  # one failure holds up nobody
    db.session.expire_all()
    status = {i: db.session.get(WebhookEvent, e).status for i, e in enumerate(ids)}
    assert status == {0: EventStatus.DONE, 1: EventStatus.RECEIVED, 2: EventStatus.FAILED, 3: EventStatus.DONE}
    # the retryable one waits for its own job, at least as long as it was asked to
    [scheduled] = queues["events"].scheduled_job_registry.get_job_ids()
    assert scheduled == process_event_id(ids[1])
    when = queues["events"].scheduled_job_registry.get_scheduled_time(scheduled)
    assert (when - inbox.utcnow()).total_seconds() > 50

    worker.run()  # due retries moved along: only event 1 runs again
    assert calls == [0, 1, 2, 3, 1]
    db.session.expire_all()
    assert db.session.get(WebhookEvent, ids[1]).status == EventStatus.DONE


def test_a_batch_job_run_again_after_a_crash_repeats_no_effect(app, handler):
    calls, *_ = handler
    ids = _stored_batch(3)
    # the batch ran once (a worker then died before RQ recorded the result) and is run again
    assert inbox.process_events(ids) == {"done": 3, "retrying": 0, "failed": 0}
    inbox.process_events(ids)
    assert calls == [0, 1, 2]


def test_a_redelivery_of_an_event_its_batch_job_will_run_adds_no_job(app):
    ids = _stored_batch(3)
    again = [Pending(_values("b-1", topic="test/batch")), Pending(_values("b-2", topic="test/batch"))]
    inbox._write_batch(again)
    assert all(i.duplicate for i in again)
    assert inbox.queued_event_ids() == ids  # each still covered once


def test_the_sweeper_requeues_events_of_a_lost_batch_job_and_leaves_a_live_one_alone(app):
    from datetime import timedelta

    from rq.job import Job

    from integration.extensions import redis

    lost = _stored_batch(2)
    [lost_job] = queues["events"].get_job_ids()
    Job.fetch(lost_job, connection=redis.client, serializer=queues["events"].serializer).delete()
    live = [Pending(_values(f"live-{k}")) for k in range(2)]
    inbox._write_batch(live)
    later = inbox.utcnow() + inbox.STALE_AFTER + timedelta(minutes=1)

    assert inbox.sweep_stale_events(now=later) == 2  # the two of the lost batch, one job each
    assert inbox.queued_event_ids() == sorted([*lost, *(i.event_id for i in live)])
    assert inbox.sweep_stale_events(now=later) == 0  # and only once
