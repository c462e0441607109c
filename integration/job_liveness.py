"""Will an RQ job still run by itself? And enqueue work only where the answer is no.

Sweepers re-enqueue work whose job may have been lost. Enqueueing blindly duplicates every job
that is merely waiting (a backlog, a retry's backoff), and under load each sweep adds another copy
of the whole backlog. So a sweeper keeps one job id per item and replaces that job only when it
will not run by itself; ``jobs/recovery.py`` heals the states in which RQ itself would lose it.

A Redis without persistence restarts empty, and a worker that was running a job then writes its
bookkeeping (a heartbeat, the outcome) into that job's hash again: a few fields and no job, which
RQ refuses to read (``NoSuchJobError``) and which blocks a unique enqueue under the same id. Such a
half-written hash is read here as no job at all (it will never run) and replaced like one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.exceptions import WatchError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from integration.extensions import queues, redis
from integration.job_serializer import JobSerializer


def alive(job: Job, now: datetime | None = None) -> bool:
    """A "queued" job must really be in its queue: a worker killed between taking it off the
    queue and registering it as started leaves it in none. A "started" job older than its
    timeout lost its worker (RQ would have killed it by then). A "scheduled" job must be in the
    schedule: a worker killed inside ``Job.retry`` leaves it out. Finished, failed, stopped or
    cancelled jobs will not run again."""
    now = now or datetime.now(UTC)
    status = job.get_status(refresh=False)
    if status == JobStatus.QUEUED:
        return redis.client.lpos(queues[job.origin].key, job.id) is not None
    if status == JobStatus.STARTED:
        started = job.started_at
        if started is None:
            return False
        if started.tzinfo is None:
            started = started.replace(tzinfo=UTC)
        return started > now - timedelta(seconds=(job.timeout or 600) + 60)
    if status == JobStatus.SCHEDULED:
        return redis.client.zscore(queues[job.origin].scheduled_job_registry.key, job.id) is not None
    return status == JobStatus.DEFERRED


def fetch_jobs(job_ids: list[str]) -> list[Job | None]:
    """``Job.fetch_many`` (one round trip), with ``None`` for a missing job and for a half-written
    hash alike."""
    try:
        return Job.fetch_many(job_ids, connection=redis.client, serializer=JobSerializer)
    except NoSuchJobError:  # one of them is half-written: read them one by one
        return [_fetch_job(job_id) for job_id in job_ids]


def _fetch_job(job_id: str) -> Job | None:
    try:
        return Job.fetch(job_id, connection=redis.client, serializer=JobSerializer)
    except NoSuchJobError:
        return None


def enqueue_replacing(queue: str, func: str, *args: Any, job_id: str, **options: Any) -> Job | None:
    """``queues.enqueue(..., unique=True)`` under ``job_id``, which the caller found holding no
    job: a half-written hash there, which would refuse the enqueue as a duplicate, is removed
    first. ``None`` when a job really exists under that id (another sweep got there first)."""
    enqueued = queues.enqueue(queue, func, *args, job_id=job_id, unique=True, **options)
    if enqueued is None and _discard_half_written(job_id):
        enqueued = queues.enqueue(queue, func, *args, job_id=job_id, unique=True, **options)
    return enqueued


def _discard_half_written(job_id: str) -> bool:
    """Delete ``job_id``'s hash if it holds no job, in one transaction that gives up if anyone
    writes it meanwhile: a concurrent enqueue's complete hash is never deleted."""
    key = Job.key_for(job_id)
    try:
        with redis.client.pipeline() as pipe:
            pipe.watch(key)
            if not pipe.exists(key) or pipe.hexists(key, "data"):
                pipe.unwatch()
                return False
            pipe.multi()
            pipe.delete(key)
            pipe.execute()
    except WatchError:
        return False
    return True


def enqueue_unless_alive(queue: str, func: str, items: list[tuple[str, tuple[Any, ...]]],
                         now: datetime | None = None, also: Callable[..., list[str]] | None = None,
                         **options: Any) -> int:
    """Enqueue ``func(*args)`` under each ``(job_id, args)`` unless that job id, or one of the
    ids ``also(*args)`` names (the item's usual job, enqueued by the flow itself), will still
    run by itself; a dead or half-written job under ``job_id`` is replaced. Returns how many were
    enqueued."""
    if not items:
        return 0
    others = {job_id: (also(*args) if also else []) for job_id, args in items}
    ids = [job_id for job_id, _ in items] + [other for job_id, _ in items for other in others[job_id]]
    found = dict(zip(ids, fetch_jobs(ids), strict=True))
    enqueued = 0
    for job_id, args in items:
        if any(found[other] is not None and alive(found[other], now) for other in others[job_id]):
            continue  # the usual job is still on its way
        job = found[job_id]
        if job is not None:
            if alive(job, now):
                continue
            job.delete()
        # unique: two sweeps racing here enqueue one job between them
        if enqueue_replacing(queue, func, *args, job_id=job_id, **options):
            enqueued += 1
    return enqueued
