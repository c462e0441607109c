"""How far behind the asynchronous work is: the inbox lag and the notice backlog.

Read at every ``/metrics`` scrape, so each answer is one index lookup or one capped index range
(``ix_webhook_events_status_received_at``, ``ix_notifications_status_created_at``), whatever the
size of the tables or of the backlog.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from integration.models import EventStatus, Notification, NotificationStatus, WebhookEvent

NOTICES_CAP = 10_000  # a notice backlog this deep is an incident whatever its exact size


def oldest_unprocessed_event_at(conn: Connection) -> datetime | None:
    """When the oldest webhook event still waiting to be processed arrived; None: none waits."""
    arrivals = [
        conn.execute(select(WebhookEvent.received_at).where(WebhookEvent.status == status)
                     .order_by(WebhookEvent.received_at).limit(1)).scalar()
        for status in (EventStatus.RECEIVED, EventStatus.PROCESSING)
    ]
    return min((at for at in arrivals if at is not None), default=None)


def unsent_notices(conn: Connection) -> dict[str, int]:
    """Notices not yet sent, by status (queued, sending), each counted up to ``NOTICES_CAP``."""
    counts = {}
    for status in (NotificationStatus.QUEUED, NotificationStatus.SENDING):
        waiting = select(Notification.status).where(Notification.status == status).limit(NOTICES_CAP).subquery()
        counts[status] = conn.execute(select(func.count()).select_from(waiting)).scalar_one()
    return counts
