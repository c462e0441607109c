"""A vendor's passing failure, retried inside the call instead of by the job.

A job that gives its work back to RQ for a 429 or a 5xx waits at least the first step of the retry
schedule and then queues again behind everything enqueued meanwhile: one bad answer in five (a
vendor's bad hour) then costs an order minutes. So a call the vendor *refused* (429: it did not
run) or a call that is safe to repeat (a read) is repeated here, at most twice, when the vendor's
``Retry-After`` (else half a second, then one) is short. Anything else — a write that may have run,
a long wait — goes back to the job, which re-reads state before it tries again. Every repetition
takes its own rate-limit token in the caller's ``send``, so it never breaks a vendor's limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from connectors.errors import RetryableError

T = TypeVar("T")

QUICK_RETRIES = 2
LONGEST_QUICK_WAIT = 5.0  # seconds; a longer Retry-After is the job's to wait, not a worker's


def quickly_retried(send: Callable[[], T], *, repeatable: bool, sleep: Callable[[float], None] | None = None) -> T:
    attempt = 0
    while True:
        try:
            return send()
        except RetryableError as exc:
            wait = exc.retry_after if exc.retry_after is not None else 0.5 * 2 ** attempt
            if attempt == QUICK_RETRIES or not (repeatable or exc.refused) or wait > LONGEST_QUICK_WAIT:
                raise
            attempt += 1
            (sleep or time.sleep)(wait)
