"""The Redis states a SIGKILLed worker leaves, made with RQ's own worker steps, and their healing.

Each test stops a real RQ worker's sequence for one webhook event's job exactly where a SIGKILL
would (between two of its Redis writes), shows what RQ 3.0 does with it alone where that matters,
then runs the cron healer (``jobs.recovery.heal_queues``) and checks the event is handled exactly
once, and that healing again does nothing.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import redis as redis_lib
from rq import SimpleWorker
from rq.job import Job, JobStatus
from rq.queue import Queue
from rq.scheduler import RQScheduler
from rq.scripts import acquire_or_refresh_lock, release_lock
from sqlalchemy import select

from integration.extensions import QUEUE_NAMES, db, queues, redis
from integration.inbox import dispatch, events
from integration.job_serializer import JobSerializer
from integration.models import EventStatus, OutboundOrder, WebhookEvent
from jobs import recovery
from jobs.worker import build_worker
from tests.helpers import cron_schedule, shopify_webhook

TOPIC = "test/recovery"
LATER = 120  # seconds: past recovery.STUCK_AFTER_S, well within the entries' life (timeout + 60)


@pytest.fixture
def calls():
    seen = []
    dispatch.handles("shopify", TOPIC)(lambda event, payload: seen.append(payload))
    yield seen
    dispatch.unregister("shopify", TOPIC)


class Killed(BaseException):
    """SIGKILL: nothing after this point runs, no except clause sees it."""


def event_status() -> str:
    db.session.expire_all()
    return db.session.execute(select(WebhookEvent.status)).scalar_one()


def dequeued(client) -> tuple[SimpleWorker, Job, Queue]:
    """A webhook stored and its job taken off the queue, as a worker on all queues does (BLPOP)."""
    assert shopify_webhook(client, TOPIC, {"n": 1}).status_code == 200
    worker = build_worker()
    job, queue = Queue.dequeue_any(worker.queues, None, connection=redis.client, serializer=JobSerializer)
    return worker, job, queue


def started(client):
    worker, job, queue = dequeued(client)
    execution = worker.prepare_execution(job)
    worker.prepare_job_execution(job)
    return worker, job, queue, execution


def killed_while_retrying(client, monkeypatch):
    """The job raised; RQ decided to retry it and was killed inside Job.retry's two writes."""
    worker, job, queue, execution = started(client)

    def killed(self, *args, **kwargs):
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(redis_lib.client.Pipeline, "execute", killed)
        with pytest.raises(Killed):
            worker.handle_job_failure(job, queue, exc_string="RuntimeError", execution=execution)
    return job, queue


def killed_before_start(client):
    """Registered in the started registry, killed before marking the job started."""
    worker, job, queue = dequeued(client)
    worker.prepare_execution(job)
    return job, queue


def event_received_plus(**delta):
    db.session.expire_all()
    return db.session.execute(select(WebhookEvent.received_at)).scalar_one() + timedelta(**delta)


def place(job: Job, queue: Queue) -> dict[str, bool]:
    job.refresh()
    return {
        "queued": redis.client.lpos(queue.key, job.id) is not None,
        "scheduled": job.id in queue.scheduled_job_registry,
        "started": job.id in queue.started_job_registry.get_job_ids(cleanup=False),
    }


def test_a_retry_cut_short_is_scheduled_in_no_schedule_and_rq_drops_it(client, monkeypatch, calls):
    job, queue = killed_while_retrying(client, monkeypatch)
    assert job.get_status() == JobStatus.SCHEDULED
    assert place(job, queue) == {"queued": False, "scheduled": False, "started": True}
    queue.started_job_registry.cleanup(timestamp=time.time() + 3600)  # RQ 3.0 alone, any time later
    assert place(job, queue) == {"queued": False, "scheduled": False, "started": False}  # lost


def test_a_job_registered_but_not_started_is_queued_in_no_queue_and_rq_drops_it(client, calls):
    job, queue = killed_before_start(client)
    assert job.get_status() == JobStatus.QUEUED
    assert place(job, queue) == {"queued": False, "scheduled": False, "started": True}
    queue.started_job_registry.cleanup(timestamp=time.time() + 3600)
    assert place(job, queue) == {"queued": False, "scheduled": False, "started": False}  # lost


def test_heal_finishes_a_retry_cut_short_exactly_once(client, monkeypatch, calls, worker):
    job, queue = killed_while_retrying(client, monkeypatch)
    job.refresh()
    retries_left = job.retries_left
    later = time.time() + LATER
    assert recovery.heal_queues(now=later)["lost_retries"] == 1
    assert place(job, queue) == {"queued": True, "scheduled": False, "started": False}  # retry due by then
    assert job.retries_left == retries_left - 1  # the decrement Job.retry never saved
    assert recovery.heal_queues(now=later) == {"unstarted": 0, "lost_retries": 0, "enqueued_due": 0}
    assert redis.client.lrange(queue.key, 0, -1).count(job.id.encode()) == 1
    worker.run()
    assert calls == [{"n": 1}] and event_status() == EventStatus.DONE


def test_heal_requeues_a_job_registered_but_not_started_exactly_once(client, calls, worker):
    job, queue = killed_before_start(client)
    assert recovery.heal_queues()["unstarted"] == 0  # just registered: a live worker is on it
    later = time.time() + LATER
    assert recovery.heal_queues(now=later)["unstarted"] == 1
    assert place(job, queue) == {"queued": True, "scheduled": False, "started": False}
    assert recovery.heal_queues(now=later)["unstarted"] == 0
    assert redis.client.lrange(queue.key, 0, -1).count(job.id.encode()) == 1
    worker.run()
    assert calls == [{"n": 1}] and event_status() == EventStatus.DONE


def test_heal_retries_a_job_abandoned_while_started(client, calls, worker):
    """Killed mid-job: RQ's cleanup (run by the healer, not only every 10 min by some worker)."""
    _, job, queue, _ = started(client)
    assert recovery.heal_queues(now=time.time() + LATER) == {"unstarted": 0, "lost_retries": 0, "enqueued_due": 0}
    later = time.time() + job.timeout + 61  # the entry has expired
    healed = recovery.heal_queues(now=later)
    assert healed["enqueued_due"] == 1  # abandoned -> retry scheduled -> due by then -> queued
    assert place(job, queue) == {"queued": True, "scheduled": False, "started": False}
    assert recovery.heal_queues(now=later)["enqueued_due"] == 0
    worker.run()
    assert calls == [{"n": 1}] and event_status() == EventStatus.DONE


def test_heal_runs_due_retries_when_no_scheduler_is_alive(client, calls, worker):
    rq_worker, job, queue, execution = started(client)
    rq_worker.handle_job_failure(job, queue, exc_string="RuntimeError", execution=execution)
    assert place(job, queue) == {"queued": False, "scheduled": True, "started": False}
    # The inbox sweeper counts a scheduled retry as alive: it is the scheduler's to run.
    assert events.sweep_stale_events(now=event_received_plus(hours=1)) == 0

    # A live scheduler owns the queue: the healer leaves its jobs alone.
    lock = RQScheduler.get_locking_key(queue.name)
    redis.client.set(lock, "live-scheduler", ex=60)
    assert recovery.heal_queues(now=time.time() + LATER)["enqueued_due"] == 0
    assert place(job, queue)["scheduled"]

    # Its worker was SIGKILLed: the lock expires and nobody starts another for 10 minutes.
    redis.client.delete(lock)
    assert recovery.heal_queues()["enqueued_due"] == 0  # not due yet (10 s backoff)
    assert recovery.heal_queues(now=time.time() + LATER)["enqueued_due"] == 1
    assert place(job, queue) == {"queued": True, "scheduled": False, "started": False}
    assert redis.client.get(lock) is None  # the scheduler's lock is left free for a new one
    assert recovery.heal_queues(now=time.time() + LATER)["enqueued_due"] == 0
    worker.run()
    assert calls == [{"n": 1}] and event_status() == EventStatus.DONE


def test_cron_runs_the_healer_every_minute():
    assert cron_schedule()["heal_queues"]["interval"] == 60


def test_warehouse_sweep_adds_no_copy_of_waiting_work_and_replaces_a_lost_job_once(app, worker):
    """A backlog older than the sweep age is not copied again by every sweep (the crash test's
    recovery queued thousands of duplicates that way); a sweep job lost between BLPOP and
    registration ("queued" in no queue: nothing in RQ sees it) is replaced exactly once."""
    from integration.orders import allocation
    from jobs import warehousing
    from tests.helpers_warehouse import make_account, make_order, make_shop, make_warehouse, set_stock

    shop = make_shop()
    de = make_warehouse(shop, make_account(shop), "DEWH", "DE", region="EU")
    set_stock(shop, de, "A", 5)
    order = make_order(shop, "o-lost", [("A", 1)])
    sync = redis.client.lrange(queues_key := "rq:queue:sync", 0, -1)
    for job_id in sync:  # its allocation job was lost
        redis.client.lrem(queues_key, 0, job_id)
    assert warehousing.sweep_warehouse_work(older_than_minutes=-10) == 1
    assert warehousing.sweep_warehouse_work(older_than_minutes=-10) == 0  # still waiting: alive
    job_id = f"sync_order-{order.id}-sweep"
    assert redis.client.lpop(queues_key) == job_id.encode()  # a worker took it and was killed
    assert warehousing.sweep_warehouse_work(older_than_minutes=-10) == 1
    assert warehousing.sweep_warehouse_work(older_than_minutes=-10) == 0
    assert redis.client.lrange(queues_key, 0, -1) == [job_id.encode()]
    worker.run(include_scheduled=False)
    assert allocation.unallocated_order_ids(timedelta(minutes=-10)) == []  # the replacement ran

    # Its push (no warehouse API here) waits for a retry: the flow's own job is alive, no copy.
    outbound_id = db.session.execute(select(OutboundOrder.id).where(OutboundOrder.order_id == order.id)).scalar_one()
    push = f"push-outbound-{outbound_id}"
    assert redis.client.zscore("rq:scheduled:sync", push) is not None
    assert warehousing.sweep_warehouse_work(older_than_minutes=-10) == 0
    redis.client.zrem("rq:scheduled:sync", push)  # the retry's schedule entry is lost
    assert warehousing.sweep_warehouse_work(older_than_minutes=-10) == 1
    assert redis.client.lrange(queues_key, 0, -1) == [f"push_outbound-{outbound_id}-sweep".encode()]


def test_the_healer_and_rqs_scheduler_take_one_lock(app):
    """Pins what ``recovery.enqueue_due_jobs`` takes from RQ's internals (there is no public API
    for it): the scheduler's lock key and the scripts that take and free it. A live RQScheduler
    keeps the healer off its queues, and a healer's pass keeps a scheduler from starting."""
    due = queues["low"].enqueue_in(timedelta(seconds=1), "jobs.events.sweep_stale_events")
    later = time.time() + LATER
    scheduler = RQScheduler(queues.all(), connection=redis.client, serializer=JobSerializer)
    scheduler.acquire_locks()
    assert scheduler.acquired_locks == set(QUEUE_NAMES)
    assert recovery.enqueue_due_jobs(later) == 0
    assert due.id in queues["low"].scheduled_job_registry

    scheduler.release_locks()
    token = "heal-pinned"
    assert acquire_or_refresh_lock(redis.client, RQScheduler.get_locking_key("low"), token, 60) == "acquired"
    other = RQScheduler(queues.all(), connection=redis.client, serializer=JobSerializer)
    other.acquire_locks()
    assert "low" not in other.acquired_locks
    other.release_locks()
    release_lock(redis.client, RQScheduler.get_locking_key("low"), token)

    assert recovery.enqueue_due_jobs(later) == 1
    assert due.id in queues["low"].get_job_ids()
    assert redis.client.get(RQScheduler.get_locking_key("low")) is None


def test_cron_speedup_divides_every_interval_of_the_same_schedule(monkeypatch):
    normal = {name: entry.get("interval") for name, entry in cron_schedule().items()}
    monkeypatch.setenv("NEARSTOCK_ENV", "testing")
    monkeypatch.setenv("NEARSTOCK_CRON_SPEEDUP", "20")
    fast = {name: entry.get("interval") for name, entry in cron_schedule().items()}
    monkeypatch.delenv("NEARSTOCK_CRON_SPEEDUP")
    cron_schedule()  # the module as every other test sees it
    assert fast.keys() == normal.keys() and normal
    assert fast["poll_open_outbounds"] == 30 and fast["heal_queues"] == 3
    assert all(fast[name] == (None if interval is None else max(1, interval // 20))
               for name, interval in normal.items())
