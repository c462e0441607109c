"""Notification jobs: send one outbox row, and the periodic sweeps that create or recover notices.

``send_notification`` takes the row id and re-reads everything; running it twice, or after the
row was sent, does nothing. Temporary SMTP failures raise ``RetryableError`` (RQ retries with the
backoff given at enqueue); permanent ones are recorded on the row for the merchant to see.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from connectors.errors import RetryableError
from integration.extensions import db
from integration.models.base import utcnow
from integration.models.notification import Notification, NotificationStatus
from integration.notices import outbox as notifications
from integration.notices import send as notification_send
from integration.notices import triggers
from jobs.runtime import job

SWEEP_AFTER = timedelta(minutes=5)  # a queued row this old has probably lost its job
SWEEP_ROUND = 300  # seconds: one sweep job id per row per round


@job
def send_notification(notification_id: int) -> str:
    outcome = notification_send.send_notification(notification_id)
    return f"{outcome.status} {outcome.detail}".strip()


@job
def send_notifications(notification_ids: list[int]) -> str:
    """Notices created together (a bulk back-in-stock, a cron sweep) go out over one SMTP session.
    A notice that fails temporarily gets its own retrying job; when the server cannot be reached at
    all, the rest of the batch is handed over the same way instead of waiting here."""
    counts: dict[str, int] = {}
    deferred: list[int] = []
    batch = notification_send.Batch(notification_ids)  # what the notices share read, and all claimed, once
    try:
        for position, notification_id in enumerate(notification_ids):
            try:
                status = batch.send(notification_id).status
            except RetryableError as exc:
                delay = max(exc.retry_after or 0, notifications.SEND_RETRY[0])
                later = [notification_id]
                if exc.operation == "connect":
                    # The server cannot be reached: the rest of the batch waits too, unclaimed.
                    later += batch.release(notification_ids[position + 1:])
                for nid in later:
                    notifications.schedule_send(nid, suffix=f"-d{int(time.time())}", delay=delay)
                deferred += later
                if exc.operation == "connect":
                    break
                continue
            counts[status] = counts.get(status, 0) + 1
    finally:
        batch.close()  # marks what was sent; gives back (as queued) what was claimed and not sent
    return " ".join(f"{k}={v}" for k, v in sorted(counts.items())) + (f" deferred={len(deferred)}" if deferred else "")


def sweep(now: datetime | None = None) -> int:
    """Re-enqueue rows whose job was lost (enqueue after commit failed, retries exhausted, worker
    killed mid-send): queued rows older than SWEEP_AFTER and sending rows with a stale claim."""
    now = now or utcnow()
    ids = db.session.execute(
        select(Notification.id).where(or_(
            (Notification.status == NotificationStatus.QUEUED) & (Notification.updated_at < now - SWEEP_AFTER),
            (Notification.status == NotificationStatus.SENDING)
            & (Notification.claimed_at < now - notification_send.CLAIM_TIMEOUT),
        )).order_by(Notification.id).limit(5000)
    ).scalars().all()
    window = int(now.timestamp() // SWEEP_ROUND)
    for notification_id in ids:
        notifications.schedule_send(notification_id, suffix=f"-sweep-{window}")
    return len(ids)


@job
def sweep_notifications() -> int:
    """Cron: the outbox safety net."""
    return sweep()


@job
def notify_new_shipments() -> int:
    """Cron: "shipped" notices for new shipments that have none yet."""
    return triggers.notify_new_shipments()


@job
def notify_quiet_shipments() -> int:
    """Cron: "still on its way" notices."""
    return triggers.notify_quiet_shipments()


@job
def email_new_alerts() -> int:
    """Cron: one e-mail per new merchant alert."""
    return triggers.email_new_alerts()
