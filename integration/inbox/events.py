"""The inbound-event path every webhook uses: store first, acknowledge second, work later.

``receive_event`` is called inside the HTTP request after the signature was verified. It inserts
the raw body into the ``webhook_events`` inbox under the sender's delivery id (insert-or-ignore,
never check-then-insert) and enqueues ``process_event(event_id)`` under a unique job id. If the
database or Redis is unavailable it raises :class:`InboxUnavailableError`, which the view turns
into 503 so the sender retries: nothing acknowledged is ever lost. A redelivery of a stored but not
yet processed event re-enqueues it (the unique job id keeps that to one job), which also heals an
earlier request that stored the event but failed to enqueue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import redis as redis_lib
import structlog
from rq import get_current_job
from rq.job import Job
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from connectors.errors import PermanentError, RetryableError
from connectors.untrusted_input import UntrustedJSONError, parse_json_document
from integration import job_catalog, job_liveness
from integration.extensions import DEFAULT_RETRY, db, queues
from integration.inbox import dispatch, group_commit
from integration.models import EventStatus, WebhookEvent
from integration.models.base import utcnow

log = structlog.get_logger(__name__)

# RQ's attempts of one job (the first and its retries) and two sweeps more: a job that used up
# its retries leaves the event to the sweeper before the event is given up for good.
MAX_ATTEMPTS = len(DEFAULT_RETRY) + 3
STALE_AFTER = timedelta(minutes=10)


class InboxUnavailableError(Exception):
    """The inbox or the queue cannot take the event now; answer 503 so the sender retries."""


@dataclass(frozen=True)
class Received:
    event_id: int
    duplicate: bool


def receive_event(source: str, delivery_id: str, topic: str, shop_domain: str | None, body: bytes) -> Received:
    values = {
        "source": source,
        "delivery_id": delivery_id,
        "topic": topic,
        "shop_domain": shop_domain,
        "body": body,
        "received_at": utcnow(),
        "status": EventStatus.RECEIVED,
        "attempts": 0,
        "job_id": None,
    }
    # Written together with the other webhooks arriving at this process right now (group
    # commit); returns once this row is committed and its job is in Redis, or raises.
    item = group_commit.writer.submit(values, _write_batch)
    if item.error is not None:
        if isinstance(item.error, InboxUnavailableError):
            raise item.error
        log.error("inbox.write_failed", source=source, topic=topic, error=type(item.error).__name__)
        raise InboxUnavailableError("inbox write failed") from item.error
    log.info(
        "inbox.received",
        source=source,
        topic=topic,
        shop=shop_domain,
        event_id=item.event_id,
        duplicate=item.duplicate,
    )
    return Received(event_id=item.event_id, duplicate=item.duplicate)


def _write_batch(batch: list[group_commit.Pending]) -> None:
    """Store a batch and enqueue its new events; on a failure each row gets its own chance."""
    try:
        _store_and_enqueue(batch)
    except InboxUnavailableError:
        if len(batch) == 1:
            raise
        # One bad row must not fail the webhooks that happened to share its batch: write them
        # one by one, so only the row that cannot be stored answers 503.
        for item in batch:
            item.event_id, item.duplicate, item.error = None, False, None
            try:
                _store_and_enqueue([item])
            except InboxUnavailableError as exc:
                item.error = exc


def _store_and_enqueue(batch: list[group_commit.Pending]) -> None:
    try:
        stored = group_commit.insert_batch(batch)
    except (group_commit.InboxStorageError, SQLAlchemyError) as exc:
        # The class only: a driver's message may quote row values.
        log.error("inbox.db_unavailable", rows=len(batch), error=type(exc.__cause__ or exc).__name__)
        raise InboxUnavailableError("inbox database unavailable") from exc
    try:
        # A new row can only be inserted once, so its enqueue needs no uniqueness check; a
        # redelivery of an unprocessed event uses the unique job id so it never doubles up.
        # Events stored together are processed by one job: an RQ job costs more to create, store
        # and run than most events cost to handle.
        new_ids = sorted(i.event_id for i in stored.new)
        if stored.job_id and new_ids:  # the rows name this job: see WebhookEvent.job_id
            queues.enqueue("events", job_catalog.PROCESS_EVENTS, new_ids, job_id=stored.job_id)
        elif new_ids:
            queues.enqueue("events", job_catalog.PROCESS_EVENT, new_ids[0],
                           job_id=job_catalog.process_event_id(new_ids[0]))
        for item in stored.existing:
            if item.status == EventStatus.RECEIVED and not (item.job_id and _job_alive(item.job_id, utcnow())):
                queues.enqueue("events", job_catalog.PROCESS_EVENT, item.event_id,
                               job_id=job_catalog.process_event_id(item.event_id), unique=True)
    except redis_lib.RedisError as exc:
        log.error("inbox.queue_unavailable", rows=len(batch), error=type(exc).__name__)
        raise InboxUnavailableError("queue unavailable") from exc


def queued_event_ids() -> list[int]:
    """The event ids the queued inbox jobs will process, sorted, with repeats: a check that each
    stored event is covered by exactly one job (benchmarks, tests, the engineer on call)."""
    out: list[int] = []
    for job in queues["events"].get_jobs():
        if job.func_name == job_catalog.PROCESS_EVENT:
            out.append(job.args[0])
        elif job.func_name == job_catalog.PROCESS_EVENTS:
            out.extend(job.args[0])
    return sorted(out)


def process_event(event_id: int) -> str:
    """Run the handler for one stored event; safe to call any number of times."""
    session = db.session
    event = session.get(WebhookEvent, event_id)
    if event is None:  # erased since (shop/redact): nothing to do
        log.info("inbox.event_gone", event_id=event_id)
        return "gone"
    if event.status in (EventStatus.DONE, EventStatus.IGNORED, EventStatus.FAILED):
        return event.status

    handler = dispatch.handler_for(event.source, event.topic)
    if handler is None:
        event.status = EventStatus.IGNORED
        event.processed_at = utcnow()
        session.commit()
        log.warning("inbox.no_handler", source=event.source, topic=event.topic, event_id=event_id)
        return event.status

    event.status = EventStatus.PROCESSING
    event.attempts += 1
    session.commit()
    structlog.contextvars.bind_contextvars(shop=event.shop_domain, event_id=event_id)
    try:
        payload = parse_json_document(event.body) if event.body else None
        handler(event, payload)
        event.status = EventStatus.DONE
        event.error = None
        event.processed_at = utcnow()
        session.commit()
    except (UntrustedJSONError, PermanentError) as exc:
        # A body no retry can change (invalid, too deep, unstorable text) fails like a bad field.
        session.rollback()
        _mark(event_id, EventStatus.FAILED, exc)
        log.error("inbox.event_failed", event_id=event_id, topic=event.topic, error=str(exc))
        if isinstance(exc, PermanentError):
            raise
        raise PermanentError(f"event body refused: {exc}") from exc
    except Exception as exc:
        session.rollback()
        failed = not isinstance(exc, RetryableError) and event.attempts >= MAX_ATTEMPTS
        _mark(event_id, EventStatus.FAILED if failed else EventStatus.RECEIVED, exc)
        log.warning("inbox.event_retry", event_id=event_id, topic=event.topic, error=str(exc))
        raise
    finally:
        structlog.contextvars.unbind_contextvars("shop", "event_id")
    return event.status


def process_events(event_ids: list[int]) -> dict[str, int]:
    """Process the events one webhook batch stored together, one after the other.

    Each event gets a clean session and is handled exactly as by its own job. A batch whose job
    Redis no longer holds stops (see :func:`sweep_stale_events`, ``lost_before``). An event that fails
    and may be retried is handed to its own ``process_event`` job, which carries the retry policy
    from then on, so it neither holds up nor repeats the others. A crash mid-way re-runs the
    whole batch (RQ's retry): events already done are skipped by ``process_event``.
    """
    outcome = {"done": 0, "retrying": 0, "failed": 0}
    current = get_current_job()
    for position, event_id in enumerate(event_ids):
        if current is not None and _job_erased(current):
            # Redis restarted empty under this job: the sweep after its return re-enqueues the
            # events still "received" whose jobs are gone, these included. Going on could run
            # one of them next to its new job.
            log.warning("inbox.batch_abandoned", job_id=current.id, left=len(event_ids) - position)
            break
        try:
            process_event(event_id)
            outcome["done"] += 1
        except PermanentError:
            outcome["failed"] += 1  # marked failed and logged by process_event
        except Exception as exc:
            db.session.rollback()
            event = db.session.get(WebhookEvent, event_id)
            if event is None or event.status != EventStatus.RECEIVED:
                outcome["failed"] += 1
            else:
                delay = DEFAULT_RETRY[0]
                if isinstance(exc, RetryableError) and exc.retry_after:
                    delay = max(delay, exc.retry_after)
                queues.enqueue_in(delay, "events", job_catalog.PROCESS_EVENT, event_id,
                                  job_id=job_catalog.process_event_id(event_id))
                outcome["retrying"] += 1
        finally:
            db.session.remove()
    return outcome


def _mark(event_id: int, status: str, exc: BaseException) -> None:
    db.session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == event_id)
        .values(status=status, error=f"{type(exc).__name__}: {exc}"[:2000])
    )
    db.session.commit()


def _job_erased(job: Job) -> bool:
    try:
        return job_liveness.fetch_jobs([job.id])[0] is None
    except redis_lib.RedisError:
        return False  # unreachable is not erased, and no sweep runs before Redis is back


def _alive(job: Job, now) -> bool:
    """Will this job still run by itself? (See :func:`integration.job_liveness.alive`; the
    states a dead worker leaves in RQ's registries are healed by ``jobs.recovery``.)"""
    return job_liveness.alive(job, now)


def _job_alive(job_id: str, now) -> bool:
    job = job_liveness.fetch_jobs([job_id])[0]
    return job is not None and _alive(job, now)


def sweep_stale_events(now=None, limit: int = 500, lost_before=None) -> int:
    """Re-enqueue events left behind: stored but never enqueued, or whose job died.

    A job killed mid-way (SIGKILL, OOM, machine lost) leaves its event in ``received`` or
    ``processing``; RQ moves the job to the failed registry. Events past ``MAX_ATTEMPTS`` are
    marked failed instead of looping forever.

    ``lost_before`` (a datetime) is the sweep right after Redis came back (see
    :mod:`jobs.outage`): it takes, at any age, the events received before then that are still
    ``received`` and whose jobs no longer exist at all, as when a Redis without persistence
    restarts empty. Those are the only ones no worker can still be running: a job that ran has
    left its event ``processing`` or finished, and any other state is the usual sweep's, after
    the minutes that prove its job dead.
    """
    now = now or utcnow()
    lost_only = lost_before is not None
    if lost_only:
        where = (WebhookEvent.status == EventStatus.RECEIVED, WebhookEvent.received_at < lost_before)
    else:
        where = (WebhookEvent.status.in_((EventStatus.RECEIVED, EventStatus.PROCESSING)),
                 WebhookEvent.received_at < now - STALE_AFTER)
    rows = db.session.execute(
        select(WebhookEvent.id, WebhookEvent.attempts, WebhookEvent.job_id)
        .where(*where)
        .order_by(WebhookEvent.id)
        .limit(limit)
    ).all()
    requeued = 0
    for event_id, attempts, batch_job in rows:
        if attempts >= MAX_ATTEMPTS:
            _mark(event_id, EventStatus.FAILED, RuntimeError("gave up after repeated attempts"))
            continue
        job_id = job_catalog.process_event_id(event_id)
        # One round trip for both (the own job twice when the event was enqueued alone).
        batch, job = job_liveness.fetch_jobs([batch_job or job_id, job_id])
        if lost_only and (batch is not None or job is not None):
            continue  # its job survived: it is on its way, or the usual sweep's to judge
        if batch_job and batch is not None and _alive(batch, now):  # its webhook batch's job will still run it
            continue
        if job is not None and _alive(job, now):
            continue
        if job is not None:
            job.delete()
        if job_liveness.enqueue_replacing("events", job_catalog.PROCESS_EVENT, event_id, job_id=job_id):
            requeued += 1
    if requeued:
        log.warning("inbox.swept", requeued=requeued, lost_only=lost_only)
    return requeued
