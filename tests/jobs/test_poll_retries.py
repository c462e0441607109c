"""Periodic polls through real RQ: a retryable vendor error is retried, after the vendor's
Retry-After when it gives one, and a poll whose retries run out waits for the next cron round
instead of landing in the failed list."""

from __future__ import annotations

import time

from connectors.errors import RetryableError
from integration import job_catalog
from integration.extensions import queues, redis
from jobs.runtime import job, retried_until_next_round

CALLS = "test:poll-retries:calls"


@job
@retried_until_next_round
def flaky_poll(retry_after: float) -> str:
    """Fails with a throttle every time, as a vendor answering 429 would."""
    redis.client.incr(CALLS)
    raise RetryableError("HTTP 429", retry_after=retry_after)


def test_a_throttled_poll_waits_for_retry_after(app, worker):
    redis.client.delete(CALLS)
    job_ = queues.enqueue("sync", f"{__name__}.flaky_poll", 7.0, job_id="poll-test-1", unique=True,
                          retry=job_catalog.POLL_RETRY)
    before = time.time()
    worker.run(include_scheduled=False)
    registry = queues["sync"].scheduled_job_registry
    assert registry.get_job_ids() == [job_.id]
    waits = registry.get_scheduled_time(job_.id).timestamp() - before
    assert waits >= 7 - 1  # at least the vendor's Retry-After, not the policy's 5 s
    assert int(redis.client.get(CALLS)) == 1


def test_a_poll_out_of_retries_is_deferred_not_failed(app, worker):
    redis.client.delete(CALLS)
    job_ = queues.enqueue("sync", f"{__name__}.flaky_poll", 0.0, job_id="poll-test-2", unique=True,
                          retry=job_catalog.POLL_RETRY)
    worker.run()
    assert int(redis.client.get(CALLS)) == 1 + len(job_catalog.POLL_RETRY)
    assert queues["sync"].failed_job_registry.get_job_ids() == []
    job_.refresh()
    assert job_.return_value() == "deferred"
