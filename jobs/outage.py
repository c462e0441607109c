"""Worker and cron processes ride out a Redis or database outage instead of exiting.

RQ's own work loop survives Redis going away only while it waits on an empty queue; anything
else (a job's bookkeeping, a heartbeat, registering its death) ends ``Worker.work``, and the
process with it. :func:`run_worker` waits instead, with capped and jittered backoff, until Redis
and the database answer, then starts a fresh RQ worker (its registration and scheduler live in
Redis, which may have restarted empty). A worker that rode the outage out in RQ's loop starts
RQ's scheduler again within seconds (:class:`SchedulerKept`); a job that failed because the
database went away makes its worker wait for the database before the next job
(:class:`DatabaseWaited`). The cron waits for Redis the same way (:func:`run_cron`).

A Redis without persistence restarts empty: the jobs of acknowledged events are gone, and the
inbox sweeper would only find them after its minutes. :class:`RedisWatch` notices Redis coming
back (and the process starting) and has one worker of the wave sweep at once for events whose
jobs no longer exist. Other lost work (outbound orders, notices...) is healed by its cron
sweeper and ``jobs.recovery.heal_queues`` as after any crash.
"""

from __future__ import annotations

import contextlib
import math
import random
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import redis as redis_lib
import structlog
from flask import Flask
from rq.cron import CronScheduler
from rq.exceptions import SchedulerNotFound
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from integration.extensions import db, redis
from integration.inbox import events as inbox
from integration.models.base import utcnow

log = structlog.get_logger("jobs.outage")

UNREACHABLE = (redis_lib.exceptions.ConnectionError, redis_lib.exceptions.TimeoutError, OperationalError)
BACKOFF_FIRST_S = 0.5
BACKOFF_CAP_S = 15.0
# One sweep per reconnect wave: the first worker back takes this lock; the others, reconnecting
# within the same seconds, find it taken. It lives in Redis, so an emptied Redis frees it.
SWEEP_LOCK = "nearstock:outage:inbox-sweep"
SWEEP_LOCK_S = 20
# Before sweeping, wait out the web requests that stored an event just before Redis came back and
# are still enqueueing its job: redis-py retries a refused command after at most 1 s, and a try
# lasts at most the client's timeouts (5 s to connect, 5 s per command, see
# integration.extensions.connect_redis). Sweeping earlier could add a second job for such an event.
IN_FLIGHT_S = 12.0
# How often the cron makes sure Redis is there and did not restart empty: a key of its own, kept
# while it runs, is gone then.
CRON_CHECK_S = 5.0
CRON_MARK = "nearstock:cron"
CRON_MARK_S = 60


def backoff() -> Iterator[float]:
    """Waits doubling up to the cap, each shortened at random so restarted workers spread out."""
    delay = BACKOFF_FIRST_S
    while True:
        yield delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret
        delay = min(delay * 2, BACKOFF_CAP_S)


def wait_until_reachable(database: bool = True, stop: threading.Event | None = None,
                         between: Callable[[], None] | None = None) -> None:
    """Return once Redis answers PING and (unless told not to) the database a query, logging each
    failed try and calling ``between`` after it (an unreachable Redis there is not an error); or
    as soon as ``stop`` is set."""
    for attempt, delay in enumerate(backoff(), start=1):
        try:
            redis.client.ping()
            if database:
                with db.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            if attempt > 1:
                log.warning("outage.reachable_again", attempts=attempt)
            return
        except UNREACHABLE as exc:
            log.warning("outage.unreachable", error=type(exc).__name__, attempt=attempt, retry_in_s=round(delay, 1))
            if between is not None:
                with contextlib.suppress(*UNREACHABLE):
                    between()
            if stop is None:
                time.sleep(delay)
            elif stop.wait(delay):
                return


class StopNoted:
    """Mixed into our RQ worker classes: remembers a warm shutdown request (SIGTERM, SIGINT) in
    the process, where :func:`run_worker` can read it while Redis, where RQ keeps it, is down."""

    stop_requested = False

    def handle_warm_shutdown_request(self) -> None:
        self.stop_requested = True
        super().handle_warm_shutdown_request()


class DatabaseWaited:
    """Mixed into our RQ worker classes: after a job fails, the worker makes sure that Redis and
    the database answer before it takes the next job.

    A database that goes away fails the job that was running; RQ retries it as any failure. Were
    the worker to go on, it would take job after job only to fail each, spending their retries
    (and a job out of retries waits for its sweeper, minutes away). The check costs a PING and a
    ``SELECT 1`` after a failure, nothing after a success. It runs where the job ran: in the
    worker, which keeps its registration alive meanwhile, or in the work horse with ``--fork``,
    whose worker goes on heartbeating while it waits for it."""

    def perform_job(self, job, queue, execution) -> bool:
        if super().perform_job(job, queue, execution):
            return True
        wait_until_reachable(between=None if self.is_horse else self.heartbeat)
        return False


class SchedulerKept(StopNoted):
    """Mixed into our RQ worker classes: a scheduler (RQ's, in a child process of one worker) is
    running again within seconds of Redis answering again.

    The scheduler child dies when Redis goes away, while its worker, if idle, rides the outage out
    in RQ's own reconnect loop; RQ looks for a dead scheduler only at its upkeep, every 10 minutes,
    and until then every retry waiting for its interval waits too. So at most every
    ``SCHEDULER_CHECK_S``, and at its first heartbeat after Redis failed it, the worker asks for
    the scheduler locks with RQ's own upkeep call (``acquire_locks(auto_start=True)``), which
    starts a scheduler when it gets them and none runs. A worker whose scheduler is alive only
    refreshes its locks; the others find them taken. This also replaces, within seconds of its
    locks expiring, a scheduler whose worker was killed. Never once a stop is requested: RQ stops
    the scheduler then, and one started after it might miss the stop signal and never end."""

    SCHEDULER_CHECK_S = 5.0
    # RQ's reconnect loop doubles its wait up to 60 s: an idle worker would then notice Redis
    # back up to a minute late.
    max_connection_wait_time = BACKOFF_CAP_S
    _keeps_scheduler = False
    _scheduler_checked = -math.inf

    def work(self, burst: bool = False, **options) -> bool:
        # A burst worker's scheduler is one pass at start (RQ's), never a process.
        self._keeps_scheduler = options.get("with_scheduler", False) and not burst
        return super().work(burst=burst, **options)

    def heartbeat(self, timeout: int | None = None, pipeline=None) -> None:
        try:
            super().heartbeat(timeout, pipeline)
        except UNREACHABLE:
            self._scheduler_checked = -math.inf  # check as soon as Redis answers again
            raise
        if (pipeline is None and self._keeps_scheduler and not self.stop_requested and not self.is_horse
                and self.scheduler is not None
                and time.monotonic() - self._scheduler_checked >= self.SCHEDULER_CHECK_S):
            self._scheduler_checked = time.monotonic()
            self.scheduler.acquire_locks(auto_start=True)


def run_worker(make_worker: Callable[[], StopNoted], burst: bool = False, **work_options) -> None:
    """Run RQ workers one after the other until one stops on request or, in burst mode, finds the
    queues empty. A worker that ends for any other reason lost Redis or the database: wait until
    both answer, then start a fresh one (after a backoff too, should it end again at once)."""
    delays = backoff()
    lost = None
    while True:
        wait_until_reachable()
        if lost is not None:
            try:
                # What its teardown could not write: it leaves the registry of live workers, and
                # a fixed --name is free again for its successor.
                lost.register_death()
            except UNREACHABLE:
                continue
        worker = make_worker()
        started = time.monotonic()
        try:
            worker.work(burst=burst, **work_options)
        except UNREACHABLE as exc:  # raised while registering its birth or its death
            log.warning("outage.worker_lost", worker=worker.name, error=type(exc).__name__)
        if burst or worker.stop_requested:
            return
        lost = worker
        # Nothing is in flight between two workers: a stop request may end the process at once,
        # rather than reach the lost worker's handlers, which would ask the unreachable Redis.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if time.monotonic() - started > BACKOFF_CAP_S:
            delays = backoff()
        delay = next(delays)
        log.warning("outage.worker_restarting", worker=worker.name, in_s=round(delay, 1))
        time.sleep(delay)


def run_cron(scheduler: CronScheduler, stop: threading.Event) -> None:
    """RQ's cron loop, through Redis outages, until ``stop`` is set.

    ``CronScheduler.start`` ends on the first Redis error, and ``rq cron`` with it. This is its
    loop on the scheduler's public methods (enqueue what is due, save, heartbeat, sleep until the
    next is due), checking Redis at least every ``CRON_CHECK_S``: while Redis is unreachable, or
    refuses writes (full, with ``noeviction``), it waits with backoff; once Redis is back, or found
    to have restarted empty in between (a key of the cron's own is gone), every interval job is
    due at once, as when a cron starts, so that the sweepers among them heal what an emptied Redis
    lost. A job due during the outage (a nightly one included) was never enqueued, so it still is
    due."""
    mark = f"{CRON_MARK}:{scheduler.name}"
    registered = False
    delays = backoff()
    while not stop.is_set():
        try:
            # EXPIRE answers 0 for a missing key: one round trip that checks and refreshes.
            if registered and not scheduler.connection.expire(mark, CRON_MARK_S):
                log.warning("outage.cron_found_redis_emptied")
                _due_at_once(scheduler)
                registered = False
            if not registered:
                scheduler.connection.set(mark, scheduler.name, ex=CRON_MARK_S)
                scheduler.register_birth()
                registered = True
            if scheduler.enqueue_jobs():
                scheduler.save()
            scheduler.heartbeat()
        except redis_lib.RedisError as exc:
            log.warning("outage.cron_lost", error=type(exc).__name__)
            stop.wait(next(delays))  # a Redis that answers PING but refuses writes: no busy loop
            wait_until_reachable(database=False, stop=stop)
            _due_at_once(scheduler)
            registered = False
            continue
        delays = backoff()
        stop.wait(min(scheduler.calculate_sleep_interval(), CRON_CHECK_S))
    # Unreachable, or already gone with an emptied Redis: the rest expires by itself.
    with contextlib.suppress(SchedulerNotFound, *UNREACHABLE):
        scheduler.connection.delete(mark)
        scheduler.register_death()


def _due_at_once(scheduler: CronScheduler) -> None:
    for job in scheduler.get_jobs():
        if job.interval:
            job.next_enqueue_time = utcnow()


class RedisWatch(threading.Thread):
    """Checks every ``interval`` seconds that Redis answers; once it has answered again for
    ``IN_FLIGHT_S`` (and likewise at start), sweeps the inbox for the events whose jobs it lost
    (see :func:`sweep_lost_events`)."""

    def __init__(self, app: Flask, interval: float = 1.0) -> None:
        super().__init__(name="redis-watch", daemon=True)
        self.app, self.interval = app, interval

    def run(self) -> None:
        back_since = None  # when Redis last came back, until its sweep is done
        up = False
        while True:
            try:
                redis.client.ping()
            except redis_lib.RedisError as exc:  # still loading its data, refusing us...: not back
                if up:
                    log.warning("outage.redis_lost", error=type(exc).__name__)
                up = False
            else:
                if not up:
                    back_since, up = utcnow(), True
                if back_since is not None and (utcnow() - back_since).total_seconds() >= IN_FLIGHT_S:
                    back_since = self.sweep(back_since)
            time.sleep(self.interval)

    def sweep(self, back_since):
        """Sweep; on failure (the database is down too) keep ``back_since`` to try again."""
        try:
            sweep_lost_events(self.app, back_since)
            return None
        except Exception:  # the thread must outlive any failure: a dead watch sweeps no more
            log.exception("outage.inbox_sweep_failed")
            time.sleep(BACKOFF_CAP_S)
            return back_since


def sweep_lost_events(app: Flask, back_since) -> int | None:
    """Re-enqueue the events received before ``back_since`` whose jobs Redis no longer holds,
    unless another worker of this reconnect wave already does (``None``)."""
    token = uuid.uuid4().hex
    if not redis.client.set(SWEEP_LOCK, token, nx=True, ex=SWEEP_LOCK_S):
        return None
    try:
        with app.app_context():
            requeued = inbox.sweep_stale_events(lost_before=back_since)
    except Exception:
        # Free the wave's lock (if still ours) so that the next try, here or elsewhere, sweeps.
        if redis.client.get(SWEEP_LOCK) == token.encode():
            redis.client.delete(SWEEP_LOCK)
        raise
    log.info("outage.inbox_swept", requeued=requeued)
    return requeued
