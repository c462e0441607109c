"""How a failed job is retried, decided from the exception it raised.

RQ calls exception handlers before it decides whether to retry (``Worker._finalize_failure``),
so this handler can shape that decision:

* ``PermanentError`` (and ``AuthError``): no retry; the job goes to the failed registry and the
  error is logged with the job id.
* ``RetryableError`` with ``retry_after``: the next retry waits at least that long.
* anything else: RQ's ``Retry`` backoff as enqueued.

Then :func:`count_failure` counts the run by what RQ will do with it.
"""

from __future__ import annotations

import structlog
from rq.exceptions import DeserializationError

from connectors.errors import PermanentError, RetryableError
from integration import metrics

log = structlog.get_logger("jobs")


def classify_failure(job, exc_type, exc_value, traceback) -> bool:
    if isinstance(exc_value, PermanentError):
        job.retries_left = 0
        log.error("job.failed_permanently", job_id=job.id, func=job.func_name, error=str(exc_value))
    elif isinstance(exc_value, RetryableError) and exc_value.retry_after and job.retries_left:
        intervals = list(job.retry_intervals or [0])
        index = max(len(intervals) - job.retries_left, 0)
        while len(intervals) <= index:
            intervals.append(intervals[-1])
        intervals[index] = max(intervals[index], int(exc_value.retry_after + 0.999))
        job.retry_intervals = intervals
        log.warning("job.retry_after", job_id=job.id, retry_after=exc_value.retry_after)
    else:
        log.warning("job.error", job_id=job.id, func=job.func_name, error=repr(exc_value))
    return True  # let RQ's default handling (retry or failed registry) continue


def count_failure(job, exc_type, exc_value, traceback) -> bool:
    """Count a failed run as retried or failed. Registered after :func:`classify_failure`, whose
    word on retrying is final: RQ retries exactly the jobs that still have retries left."""
    try:
        name = job.func_name
    except DeserializationError:  # a job whose data cannot be read still counts, by that name
        name = "unreadable"
    metrics.count_job(name, "retried" if job.should_retry else "failed")
    return True
