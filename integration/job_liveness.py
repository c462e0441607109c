"""Will an RQ job still run by itself? And enqueue work only where the answer is no.

Sweepers re-enqueue work whose job may have been lost. Enqueueing blindly duplicates every job
that is merely waiting (a backlog, a retry's backoff), and under load each sweep adds another copy
of the whole backlog. So a sweeper keeps one job id per item and replaces that job only when it
will not run by itself; ``jobs/recovery.py`` heals the states in which RQ itself would lose it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

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


def enqueue_unless_alive(queue: str, func: str, items: list[tuple[str, tuple[Any, ...]]],
                         now: datetime | None = None, also: Callable[..., list[str]] | None = None,
                         **options: Any) -> int:
    """Enqueue ``func(*args)`` under each ``(job_id, args)`` unless that job id, or one of the
    ids ``also(*args)`` names (the item's usual job, enqueued by the flow itself), will still
    run by itself; a dead job under ``job_id`` is replaced. Returns how many were enqueued."""
    if not items:
        return 0
    others = {job_id: (also(*args) if also else []) for job_id, args in items}
    ids = [job_id for job_id, _ in items] + [other for job_id, _ in items for other in others[job_id]]
    found = dict(zip(ids, Job.fetch_many(ids, connection=redis.client, serializer=JobSerializer), strict=True))
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
        if queues.enqueue(queue, func, *args, job_id=job_id, unique=True, **options):
            enqueued += 1
    return enqueued
