"""What the merchant sees and steers of the shop's notices: the log (filtered, searched, with
addresses masked), a retry of a failed notice, which kinds go out, and the customers who
unsubscribed (re-subscribed only at the customer's request, by the merchant, with an audit line).

Every function takes the shop's id and touches only that shop's rows: another shop's id is
"not found", never a row.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from enum import Enum

import structlog
from sqlalchemy import Select, func, select, update

from integration.extensions import db
from integration.models.base import utcnow
from integration.models.notification import (
    Notification,
    NotificationPreference,
    NotificationSettings,
    NotificationStatus,
)
from integration.notices import outbox as notifications

log = structlog.get_logger(__name__)

STATUSES = (NotificationStatus.QUEUED, NotificationStatus.SENDING, NotificationStatus.SENT,
            NotificationStatus.FAILED, NotificationStatus.SKIPPED)
MAX_SEARCH = 320

_ADDRESS = re.compile(r"[^\s<>\"'(),;:@]+@[^\s<>\"'(),;:@]+")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# -- masking --------------------------------------------------------------------------------------------


def mask_email(address: str | None) -> str | None:
    """``ada@example.com`` -> ``a***@e***.com``: enough to tell two customers apart on screen, not
    enough to read an address off a screenshot or a log export."""
    if not address:
        return None
    local, _, domain = address.rpartition("@")
    if not local:
        return "***"
    host, dot, tld = domain.rpartition(".")
    masked_domain = f"{host[:1]}***{dot}{tld}" if host else "***"
    return f"{local[:1]}***@{masked_domain}"


def mask_addresses(text: str | None) -> str | None:
    """A server's answer often quotes the address it refused: mask every address in it."""
    if not text:
        return text
    return _ADDRESS.sub(lambda m: mask_email(m.group(0)) or "", text)


# -- the log --------------------------------------------------------------------------------------------


def notice_json(n: Notification) -> dict:
    context = n.context or {}
    return {"id": n.id, "kind": n.kind, "status": n.status, "recipient": mask_email(n.recipient),
            "order_name": context.get("order_name") if isinstance(context.get("order_name"), str) else None,
            "locale": n.locale, "attempts": n.attempts, "error_kind": n.error_kind,
            "last_error": mask_addresses(n.last_error), "created_at": _iso(n.created_at), "sent_at": _iso(n.sent_at),
            "retryable": n.status == NotificationStatus.FAILED}


def log_query(shop_id: int, *, status: str | None = None, kind: str | None = None,
              search: str | None = None) -> Select:
    """The shop's notices, newest first. ``search``: an address (exact, any case) or an order name
    (``#1001`` or ``1001``). Callers check status and kind against :data:`STATUSES` and ``KINDS``."""
    query = select(Notification).where(Notification.shop_id == shop_id)
    if status:
        query = query.where(Notification.status == status)
    if kind:
        query = query.where(Notification.kind == kind)
    if search:
        if "@" in search:
            # Exact only: a partial match would let the log be walked for addresses letter by letter.
            query = query.where(func.lower(Notification.recipient) == search.lower())
        else:
            name = search.lstrip("#")
            query = query.where(Notification.context["order_name"].as_string().in_((name, f"#{name}")))
    return query.order_by(Notification.id.desc())


# -- retry ----------------------------------------------------------------------------------------------


class RetryOutcome(Enum):
    QUEUED = "queued"  # this call put the notice back in the queue: one send follows
    NOT_FOUND = "not_found"  # no such notice in this shop
    NOT_FAILED = "not_failed"  # not failed (never, or already retried): nothing sent


def retry(shop_id: int, notification_id: int) -> tuple[RetryOutcome, Notification | None]:
    """Queue a failed notice again, once: the status change is one conditional UPDATE, so of two
    clicks (or two tabs) only the first finds it failed and schedules a send; the second is told it
    is no longer failed. Commits."""
    moved = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.shop_id == shop_id,
               Notification.status == NotificationStatus.FAILED)
        .values(status=NotificationStatus.QUEUED, attempts=0, error_kind=None, last_error=None, claim_token=None,
                updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    n = db.session.get(Notification, notification_id, populate_existing=True)
    if n is None or n.shop_id != shop_id:
        return RetryOutcome.NOT_FOUND, None
    if not moved:
        return RetryOutcome.NOT_FAILED, n
    # A fresh job id: the notice's first job may still sit in RQ's failed registry under its own.
    notifications.schedule_send(n.id, suffix=f"-manual-{uuid.uuid4().hex[:12]}")
    log.info("notice.retried", shop_id=shop_id, notification_id=n.id, kind=n.kind)
    return RetryOutcome.QUEUED, n


# -- kinds ----------------------------------------------------------------------------------------------


def set_kind_enabled(shop_id: int, kind: str, enabled: bool) -> list[str]:
    """Switch one kind on or off without touching the others (two switches flipped at once by two
    people both stick: the row is read under a lock). Returns the disabled kinds. Commits."""
    notifications.update_settings(shop_id, {})  # the row exists, and this process forgets its cached copy
    row = db.session.execute(select(NotificationSettings).where(NotificationSettings.shop_id == shop_id)
                             .with_for_update().execution_options(populate_existing=True)).scalar_one()
    current = set(row.disabled_kinds or ())
    current = current - {kind} if enabled else current | {kind}
    row.disabled_kinds = [k for k in notifications.KINDS if k in current]
    db.session.commit()
    log.info("notice.kind_switched", shop_id=shop_id, kind=kind, enabled=enabled)
    return list(row.disabled_kinds)


# -- unsubscribes ---------------------------------------------------------------------------------------


def unsubscribe_json(p: NotificationPreference) -> dict:
    return {"id": p.id, "email": mask_email(p.email), "opted_out": list(p.opted_out or []),
            "updated_at": _iso(p.updated_at)}


def unsubscribes_query(shop_id: int, *, email: str | None = None) -> Select:
    """Customers of the shop who opted out of something, most recent first; ``email``: exact."""
    query = select(NotificationPreference).where(NotificationPreference.shop_id == shop_id,
                                                 NotificationPreference.email.is_not(None),
                                                 func.json_array_length(NotificationPreference.opted_out) > 0)
    if email:
        query = query.where(NotificationPreference.email == email.strip().lower())
    return query.order_by(NotificationPreference.updated_at.desc(), NotificationPreference.id.desc())


def resubscribe(shop_id: int, preference_id: int, categories: list[str] | None, *,
                actor: str | None) -> NotificationPreference | None:
    """Take ``categories`` (all of them when None) off a customer's opt-outs, because the customer
    asked the merchant to. None when the shop has no such row. Commits; the audit line names the
    row, the merchant's user and what changed, never the address."""
    row = db.session.execute(
        select(NotificationPreference).where(NotificationPreference.id == preference_id,
                                             NotificationPreference.shop_id == shop_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        return None
    before = list(row.opted_out or [])
    after = [] if categories is None else [c for c in before if c not in categories]
    row.opted_out, row.updated_at = after, utcnow()
    db.session.commit()
    log.info("notice.resubscribed", shop_id=shop_id, preference_id=row.id, removed=sorted(set(before) - set(after)),
             remaining=after, actor=actor)
    return row
