"""Jobs RQ 3.0 itself leaves behind when a worker dies, healed from what Redis still holds.

RQ recovers a worker killed *while running* a job: the job stays ``started`` in its queue's
StartedJobRegistry, and once the entry expires registry cleanup retries it (or fails it). Three
other windows leave a job that nothing in RQ 3.0.0 revisits (SimpleWorker on several queues):

1. A retry decided but not written. ``Job.retry`` writes status ``scheduled`` at once, outside
   the pipeline that then puts the job in the ScheduledJobRegistry and takes it out of the started
   registry (``rq/job.py``, used by ``Worker.handle_job_failure`` and by registry cleanup). Killed
   in between, the job is ``scheduled`` in no schedule, and ``StartedJobRegistry.cleanup`` drops
   its entry unseen: it only handles entries whose job is still ``started``.
2. Registered but not started. ``prepare_execution`` adds the execution to the started registry;
   ``prepare_job_execution`` marks the job ``started`` one round trip later. Killed in between,
   the job is ``queued`` in no queue, and cleanup drops its entry the same way.
3. No scheduler. The scheduler runs in one worker's child process and holds a per-queue lock
   (61 s). When that worker dies, workers started before the lock expires start no scheduler,
   and running workers only try again at their maintenance, every 10 minutes (after up to 405 s
   blocked on an empty queue): every retry with an interval waits that long. Registry cleanup
   waits as long, and a worker killed during it leaves the cleaning lock for 15 minutes.

``heal_queues`` (cron, every minute) closes all three: entries of kinds 1 and 2 are found while
still in the started registry (a live worker marks its job started milliseconds after
registering it; the entry stays for the job's timeout) and finished the way RQ would have (the
retry scheduled, the job queued again); then RQ's own cleanup of abandoned ``started`` jobs runs;
then, for each queue no live scheduler holds, the due scheduled jobs are enqueued under the
scheduler's own lock, exactly as the scheduler does. Every move is one WATCH/MULTI transaction,
so a concurrent run, worker or scheduler never makes a job run twice from here.

A fourth window, a worker killed between taking the job id off the queue (BLPOP) and registering
it, leaves a ``queued`` job in no queue and no registry; RQ's intermediate queue covers that only
for single-queue workers. The sweepers that re-read the database (inbox, warehouse, notices,
storefront, loyalty) re-enqueue that work.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import structlog
from redis.exceptions import WatchError
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.queue import Queue
from rq.scheduler import RQScheduler
from rq.scripts import acquire_or_refresh_lock, release_lock
from rq.utils import as_text

from integration.extensions import queues, redis
from integration.job_serializer import JobSerializer
from jobs.failures import classify_failure
from jobs.runtime import job

log = structlog.get_logger(__name__)

# Age of a started-registry entry whose job is still "queued" or "scheduled" before it counts as
# left behind: a live worker leaves those states within two round trips.
STUCK_AFTER_S = 60


@job
def heal_queues(now: float | None = None) -> dict[str, int]:
    """Cron: finish what dead workers and schedulers left half-done. ``now`` (a Unix timestamp)
    moves the clock forward, as in the crash test; production passes nothing."""
    now = time.time() if now is None else now
    healed = {"unstarted": 0, "lost_retries": 0, "enqueued_due": 0}
    for queue in queues.all():
        for kind, count in heal_started_registry(queue, now).items():
            healed[kind] += count
        # RQ's own recovery of jobs abandoned while "started" (normally only in worker maintenance).
        queue.started_job_registry.cleanup(timestamp=now, exception_handlers=[classify_failure])
    healed["enqueued_due"] = enqueue_due_jobs(now)
    if any(healed.values()):
        log.warning("jobs.healed", **healed)
    return healed


def heal_started_registry(queue: Queue, now: float) -> dict[str, int]:
    """Entries RQ's cleanup would drop unseen: a retry never scheduled, a job never started."""
    conn = redis.client
    healed = {"unstarted": 0, "lost_retries": 0}
    entries = queue.started_job_registry.get_job_and_execution_ids(cleanup=False)
    if not entries:
        return healed
    ids = [job_id for job_id, _ in entries]
    for (job_id, execution_id), found in zip(entries, Job.fetch_many(ids, connection=conn, serializer=JobSerializer),
                                             strict=True):
        if found is None:
            continue  # RQ's cleanup drops entries of deleted jobs
        status = found.get_status(refresh=False)
        if status not in (JobStatus.SCHEDULED, JobStatus.QUEUED):
            continue  # "started" is RQ's cleanup's; finished, failed... are leftovers it drops
        execution = Execution(id=execution_id, job_id=job_id, connection=conn)
        # Both states last microseconds in a live worker (between two consecutive round trips):
        # an entry registered a minute ago in one of them is a dead worker's.
        if not _registered_before(execution, now - STUCK_AFTER_S) or not _move(queue, execution, found, status):
            continue
        healed["lost_retries" if status == JobStatus.SCHEDULED else "unstarted"] += 1
    return healed


def _registered_before(execution: Execution, cutoff: float) -> bool:
    try:
        execution.refresh()
    except ValueError:  # the execution hash lives as long as the entry: without it, as old as can be
        return True
    return execution.created_at.timestamp() < cutoff


def _move(queue: Queue, execution: Execution, found: Job, status: JobStatus) -> bool:
    """Out of the started registry and on its way again, in one transaction that gives up if
    anyone touched the job meanwhile: whoever enqueues, schedules or starts it (a worker, the
    scheduler, a sweeper, another run) writes its hash. Only the job's key is watched, so the
    busy queue and registry keys never make the move give up."""
    conn = redis.client
    registry = queue.started_job_registry
    try:
        with conn.pipeline() as pipe:
            pipe.watch(found.key)
            if (as_text(pipe.hget(found.key, "status")) != status
                    or pipe.zscore(registry.key, execution.composite_key) is None
                    or pipe.lpos(queue.key, found.id) is not None
                    or pipe.zscore(queue.scheduled_job_registry.key, found.id) is not None):
                pipe.unwatch()
                return False
            pipe.multi()
            registry.remove_execution(execution, pipeline=pipe)
            if status == JobStatus.SCHEDULED and found.retries_left and found.retry_intervals:
                # What Job.retry was doing when it was cut short; its decrement was never saved.
                interval = found.get_retry_interval()
                found.retries_left -= 1
                queue.schedule_job(found, datetime.now(UTC) + timedelta(seconds=interval), pipeline=pipe)
            else:
                queue.enqueue_job(found, pipeline=pipe, at_front=found.should_enqueue_at_front())
            pipe.execute()
    except WatchError:
        return False
    log.warning("jobs.healed_entry", job_id=found.id, queue=queue.name, status=str(status))
    return True


def enqueue_due_jobs(now: float) -> int:
    """For every queue no live scheduler holds: one pass of RQ's scheduler, under its lock.

    RQ has no public API for taking a scheduler's lock, nor for one scheduler pass with a given
    clock, so this uses its lock key and Lua scripts (``rq.scripts``): pinned by
    ``tests/jobs/test_job_recovery.py::test_the_healer_and_rqs_scheduler_take_one_lock``."""
    conn = redis.client
    token = f"heal-{uuid4().hex}"
    moved = 0
    for queue in queues.all():
        lock = RQScheduler.get_locking_key(queue.name)
        if acquire_or_refresh_lock(conn, lock, token, 60) != "acquired":
            continue  # a scheduler is alive (or died under a minute ago): it is its job
        try:
            moved += _enqueue_due(queue, now)
        finally:
            release_lock(conn, lock, token)
    return moved


def _enqueue_due(queue: Queue, now: float) -> int:
    # As RQScheduler.enqueue_scheduled_jobs, with the clock as a parameter.
    registry = queue.scheduled_job_registry
    ids = registry.get_jobs_to_schedule(int(now))
    if not ids:
        return 0
    due = Job.fetch_many(ids, connection=redis.client, serializer=JobSerializer)
    with redis.client.pipeline() as pipe:
        for job_id, found in zip(ids, due, strict=True):
            if found is not None:
                queue.enqueue_job(found, pipeline=pipe, at_front=found.should_enqueue_at_front())
            registry.remove(job_id, pipeline=pipe)
        pipe.execute()
    return sum(1 for found in due if found is not None)
