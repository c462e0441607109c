"""The cron's loop (``jobs.outage.run_cron``) on real Redis: what it enqueues, when Redis comes back
empty between two of its checks, and its stop (the process, SIGTERM and a real Redis outage
are in tests/e2e/test_outage.py)."""

from __future__ import annotations

import threading
import time

import pytest
from rq.cron import CronScheduler

from integration.extensions import queues, redis
from jobs import events, outage, recovery


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.fixture
def cron(app, monkeypatch):
    monkeypatch.setattr(outage, "CRON_CHECK_S", 0.2)
    scheduler = CronScheduler(connection=redis.client)
    scheduler.register(events.sweep_stale_events, queue_name="low", interval=3600)
    scheduler.register(recovery.heal_queues, queue_name="events", cron="30 3 * * *")
    stop = threading.Event()
    thread = threading.Thread(target=outage.run_cron, args=(scheduler, stop), daemon=True)
    thread.start()
    yield scheduler
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def enqueued() -> list[str]:
    return [job.func_name for queue in queues.all() for job in queue.get_jobs()]


def test_an_interval_job_is_enqueued_at_start_and_the_cron_registered(cron, redis_conn):
    assert wait_until(lambda: enqueued() == ["jobs.events.sweep_stale_events"], 5)
    assert wait_until(lambda: cron.last_heartbeat is not None, 5)
    time.sleep(3 * outage.CRON_CHECK_S)
    assert enqueued() == ["jobs.events.sweep_stale_events"]  # not again before its hour


def test_redis_emptied_between_two_checks_makes_every_interval_job_due_at_once(cron, redis_conn):
    assert wait_until(lambda: enqueued() == ["jobs.events.sweep_stale_events"], 5)
    redis_conn.flushdb()  # a Redis without persistence restarted within one check
    # The sweeper runs again at once; the nightly job keeps its time of day.
    assert wait_until(lambda: enqueued() == ["jobs.events.sweep_stale_events"], 5)
    assert wait_until(lambda: cron.last_heartbeat is not None, 5)  # registered again


def test_a_redis_emptied_at_any_moment_is_noticed(cron, redis_conn):
    """However a flush falls between the cron's own writes, the next check finds it."""
    for _ in range(5):
        assert wait_until(lambda: enqueued() == ["jobs.events.sweep_stale_events"], 5)
        time.sleep(0.05)
        redis_conn.flushdb()


@pytest.mark.parametrize("emptied", [False, True])
def test_a_stopped_cron_leaves_nothing_behind(app, redis_conn, emptied):
    scheduler = CronScheduler(connection=redis.client)
    scheduler.register(events.sweep_stale_events, queue_name="low", interval=3600)
    stop = threading.Event()
    thread = threading.Thread(target=outage.run_cron, args=(scheduler, stop), daemon=True)
    thread.start()
    assert wait_until(lambda: len(CronScheduler.all(redis.client)) == 1, 5)
    if emptied:  # its registration gone with Redis's data: nothing to remove, no error
        redis_conn.flushdb()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert CronScheduler.all(redis.client) == [] and redis_conn.keys(f"{outage.CRON_MARK}:*") == []
