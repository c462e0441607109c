"""Sweepers after Redis restarted empty under a running job: the job's hash, written again in part
by the worker's bookkeeping (RQ's own calls, on real Redis), holds no job. It will never run, so
the sweepers replace it, as the inbox does, instead of failing on it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from integration import job_catalog
from integration.extensions import queues, redis
from integration.job_liveness import enqueue_replacing, enqueue_unless_alive, fetch_jobs
from integration.job_serializer import JobSerializer


def half_written(job_id: str, write) -> None:
    """Enqueue a job, empty Redis as a restart without persistence does, then let RQ write the
    bookkeeping of a worker that was running it."""
    job = queues.enqueue("sync", job_catalog.POLL_OUTBOUND, 7, job_id=job_id, unique=True)
    redis.client.flushdb()
    write(job)
    raw = redis.client.hgetall(job.key)
    assert raw and b"data" not in raw
    with pytest.raises(NoSuchJobError):  # what the sweepers used to fail on
        Job.fetch_many([job_id], connection=redis.client, serializer=JobSerializer)


WRITES = {
    "heartbeat": lambda job: job.heartbeat(datetime.now(UTC), 60),
    "finished": lambda job: job.set_status(JobStatus.FINISHED),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_half_written_job_is_replaced_by_the_sweep(app, write):
    job_id = job_catalog.poll_outbound_id(7)
    half_written(job_id, WRITES[write])
    items = [(job_id, (7,))]

    assert enqueue_unless_alive("sync", job_catalog.POLL_OUTBOUND, items) == 1
    [job] = fetch_jobs([job_id])
    assert job is not None and job.get_status() == JobStatus.QUEUED and job.args == [7]
    assert queues["sync"].get_job_ids() == [job_id]
    assert enqueue_unless_alive("sync", job_catalog.POLL_OUTBOUND, items) == 0  # now it will run


def test_a_half_written_usual_job_does_not_hold_back_the_sweep(app):
    usual = job_catalog.push_outbound_id(7)
    half_written(usual, WRITES["heartbeat"])
    sweep = job_catalog.sweep_id(job_catalog.PUSH_OUTBOUND, 7)

    assert enqueue_unless_alive("sync", job_catalog.PUSH_OUTBOUND, [(sweep, (7,))], also=lambda i: [usual]) == 1
    assert queues["sync"].get_job_ids() == [sweep]


def test_fetch_reads_a_half_written_hash_as_no_job_among_others(app):
    half_written("half", WRITES["heartbeat"])
    whole = queues.enqueue("sync", job_catalog.POLL_OUTBOUND, 8, job_id="whole", unique=True)
    assert [job and job.id for job in fetch_jobs(["whole", "half", "missing"])] == [whole.id, None, None]


def test_replacing_never_removes_a_whole_job(app):
    queues.enqueue("sync", job_catalog.POLL_OUTBOUND, 8, job_id="whole", unique=True)
    assert enqueue_replacing("sync", job_catalog.POLL_OUTBOUND, 9, job_id="whole") is None  # a duplicate
    [job] = fetch_jobs(["whole"])
    assert job.args == [8] and queues["sync"].get_job_ids() == ["whole"]
