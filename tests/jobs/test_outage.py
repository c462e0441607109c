"""A worker process riding out an outage: the restart loop, and the inbox sweep when Redis is
back (the real processes and a real Redis restart are in tests/e2e/test_outage.py)."""

from __future__ import annotations

import json

import pytest
import redis as redis_lib
from rq import get_current_job
from rq.job import JobStatus
from rq.scheduler import RQScheduler
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from integration import job_catalog
from integration.extensions import db, queues
from integration.inbox import dispatch
from integration.inbox import events as inbox
from integration.models import EventStatus, WebhookEvent
from integration.models.base import utcnow
from jobs import outage
from jobs.worker import NearstockSimpleWorker, build_worker
from tests.helpers import shopify_webhook

TOPIC = "test/outage"


@pytest.fixture
def calls():
    seen = []
    dispatch.handles("shopify", TOPIC)(lambda event, payload: seen.append(payload))
    yield seen
    dispatch.unregister("shopify", TOPIC)


def statuses() -> list[str]:
    db.session.expire_all()
    return list(db.session.execute(select(WebhookEvent.status).order_by(WebhookEvent.id)).scalars())


def test_redis_back_empty_requeues_at_once_only_received_events_whose_jobs_are_gone(client, worker, calls,
                                                                                     redis_conn):
    for n in range(3):
        assert shopify_webhook(client, TOPIC, {"n": n}).status_code == 200
    redis_conn.flushdb()  # a Redis without persistence restarted
    # The second event's job had started it before Redis went: a worker may still be running it.
    db.session.execute(update(WebhookEvent).where(WebhookEvent.id == 2).values(status=EventStatus.PROCESSING))
    db.session.commit()
    assert shopify_webhook(client, TOPIC, {"n": 3}).status_code == 200  # stored after Redis came back
    back_since = db.session.execute(select(WebhookEvent.received_at).where(WebhookEvent.id == 4)).scalar_one()

    assert inbox.sweep_stale_events() == 0  # the usual sweep waits its minutes
    assert inbox.sweep_stale_events(lost_before=back_since) == 2  # events 1 and 3, at any age
    assert inbox.sweep_stale_events(lost_before=back_since) == 0  # their jobs exist now
    worker.run()
    assert sorted(c["n"] for c in calls) == [0, 2, 3]
    assert statuses() == [EventStatus.DONE, EventStatus.PROCESSING, EventStatus.DONE, EventStatus.DONE]


def test_a_batch_whose_job_redis_lost_leaves_its_other_events_to_the_sweep(app, worker, redis_conn):
    """Redis restarts empty while a worker runs a webhook batch: the batch stops rather than run
    an event next to the job the sweep gives it."""
    seen = []

    def handle(event, payload):
        seen.append(payload["n"])
        # Emptied, then the worker's heartbeat writes a field of the job's hash again.
        job = get_current_job()
        redis_conn.flushdb()
        redis_conn.hset(job.key, "last_heartbeat", "2026-12-07T00:00:00Z")

    dispatch.handles("shopify", TOPIC)(handle)
    try:
        ids = [inbox.receive_event("shopify", f"d{n}", TOPIC, None, json.dumps({"n": n}).encode()).event_id
               for n in range(3)]
        queues["events"].empty()
        queues.enqueue("events", job_catalog.PROCESS_EVENTS, ids, job_id=job_catalog.process_events_id("lost"))
        worker.run()
        assert seen == [0] and statuses() == [EventStatus.DONE, EventStatus.RECEIVED, EventStatus.RECEIVED]
        assert inbox.sweep_stale_events(lost_before=utcnow()) == 2
        dispatch.unregister("shopify", TOPIC)
        dispatch.handles("shopify", TOPIC)(lambda event, payload: seen.append(payload["n"]))
        worker.run()
        assert sorted(seen) == [0, 1, 2] and set(statuses()) == {EventStatus.DONE}
    finally:
        dispatch.unregister("shopify", TOPIC)


def test_an_event_whose_own_job_was_written_again_in_part_is_requeued(client, worker, calls, redis_conn):
    """Redis emptied under the event's job, then the worker's bookkeeping wrote a few fields of
    its hash again: no job there, and the sweep's unique enqueue under that id must not see one."""
    assert shopify_webhook(client, TOPIC, {"n": 1}).status_code == 200
    [job] = queues["events"].get_jobs()
    redis_conn.flushdb()
    job.heartbeat(utcnow(), 60)  # RQ's own write of a worker's heartbeat
    assert inbox.sweep_stale_events(lost_before=utcnow()) == 1
    worker.run()
    assert [c["n"] for c in calls] == [1] and statuses() == [EventStatus.DONE]


def test_one_worker_of_a_reconnect_wave_sweeps(app, client, calls, redis_conn):
    assert shopify_webhook(client, TOPIC, {"n": 1}).status_code == 200
    redis_conn.flushdb()
    assert outage.sweep_lost_events(app, utcnow()) == 1
    assert outage.sweep_lost_events(app, utcnow()) is None  # another worker of the same wave
    redis_conn.flushdb()  # the next outage empties Redis, lock included
    assert outage.sweep_lost_events(app, utcnow()) == 1


class RQWorkerHooks:
    def handle_warm_shutdown_request(self) -> None:
        pass


class FakeWorker(outage.StopNoted, RQWorkerHooks):
    """Ends its work loop as scripted: by raising, by returning (lost Redis mid-job), or stopped."""

    def __init__(self, ending) -> None:
        self.name, self.ending, self.deaths = "fake", ending, 0

    def work(self, burst=False, **options):
        if isinstance(self.ending, Exception):
            raise self.ending
        if self.ending == "stop":
            self.handle_warm_shutdown_request()

    def register_death(self) -> None:
        self.deaths += 1


def test_a_worker_that_lost_redis_is_replaced_until_one_stops_on_request(app, monkeypatch):
    waits = []
    monkeypatch.setattr(outage, "wait_until_reachable", lambda: waits.append("wait"))
    monkeypatch.setattr(outage.time, "sleep", lambda s: None)
    monkeypatch.setattr(outage.signal, "signal", lambda *a: None)
    workers = iter([FakeWorker(redis_lib.exceptions.ConnectionError("gone")), FakeWorker("returned"),
                    FakeWorker("stop")])
    made = []
    outage.run_worker(lambda: made.append(next(workers)) or made[-1])
    assert len(made) == 3 and len(waits) == 3
    assert [w.deaths for w in made] == [1, 1, 0]  # each lost one is deregistered once Redis is back


def test_a_burst_worker_ends_with_its_first_run(app, monkeypatch):
    monkeypatch.setattr(outage, "wait_until_reachable", lambda: None)
    made = []
    outage.run_worker(lambda: made.append(FakeWorker("returned")) or made[-1], burst=True)
    assert len(made) == 1


def test_waits_with_capped_jittered_backoff():
    delays = outage.backoff()
    waits = [next(delays) for _ in range(12)]
    assert all(0 < w <= outage.BACKOFF_CAP_S for w in waits)
    assert waits[-1] >= outage.BACKOFF_CAP_S / 2  # doubled up to the cap, jitter takes at most half


def test_waits_until_the_database_answers_again(app, monkeypatch):
    real_connect = db.engine.connect
    failures = [OperationalError("SELECT 1", {}, Exception("connection refused"))] * 2

    def connect():
        if failures:
            raise failures.pop()
        return real_connect()

    slept = []
    monkeypatch.setattr(db.engine, "connect", connect)
    monkeypatch.setattr(outage.time, "sleep", slept.append)
    outage.wait_until_reachable()
    assert len(slept) == 2 and not failures


def test_a_burst_worker_starts_no_scheduler_process(app, monkeypatch):
    """The scheduler upkeep of :class:`outage.SchedulerKept` is for long-running workers: in burst
    mode RQ's one pass at start is all (the real process is tested in tests/e2e/test_outage.py)."""
    started = []
    monkeypatch.setattr(RQScheduler, "start", lambda scheduler: started.append(scheduler))
    worker = build_worker(worker_class=NearstockSimpleWorker)
    job = queues.enqueue("low", "jobs.events.sweep_stale_events")
    worker.work(burst=True, with_scheduler=True)
    assert job.get_status(refresh=True) == JobStatus.FINISHED and started == []


def test_a_worker_makes_sure_of_redis_and_the_database_after_a_failed_job_only(app, monkeypatch):
    """(A real database going away under real workers: tests/e2e/test_db_outage.py.)"""
    checks = []
    monkeypatch.setattr(outage, "wait_until_reachable", lambda **options: checks.append(options))
    ok = queues.enqueue("low", "jobs.events.sweep_stale_events")
    failing = queues.enqueue("low", "jobs.events.no_such_job")
    worker = build_worker(worker_class=NearstockSimpleWorker)
    worker.work(burst=True)
    assert ok.get_status(refresh=True) == JobStatus.FINISHED
    assert failing.get_status(refresh=True) == JobStatus.SCHEDULED  # RQ's retry, as for any failure
    assert checks == [{"between": worker.heartbeat}]  # the worker stays registered while it waits
