"""Customer notices and merchant alerts: the outbox (flow 5 of ARCHITECTURE.md).

    from integration.notices.outbox import enqueue_notice

    nid = enqueue_notice(shop.id, "back_in_stock", f"variant:{variant_id}", email,
                         locale="de", context={"product_title": "Mug", "product_url": url})

:func:`enqueue_notice` inserts one ``notifications`` row per (shop, kind, subject, recipient) in
the caller's open transaction (insert-or-nothing under the unique key: a redelivered event never
makes a second notice) and schedules ``jobs.notify.send_notification(id)`` after the commit. The
job re-reads the row, drops it if it went stale, claims it, renders it (the customer's language,
the shop's branding), sends it and marks it sent (:mod:`integration.notices.send`).

Context each caller passes (JSON-safe values; all optional unless marked *):

* ``back_in_stock_confirm``: variant_title*, confirm_url*, unsubscribe_url, product_title
* ``back_in_stock``: product_title*, product_url*, variant_title, image_url
* ``points_earned``: points*, balance*, order_name, reason
* ``tier_reached``: tier_name*, balance, perks (list of str)
* ``perk_issued``: discount_code*, perk (description), expires_at (ISO date), value, currency
* ``merchant_alert``: built from the alert row by :mod:`integration.notices.triggers`
* ``stock_digest``: day* (ISO date), items* (kind, sku, warehouse, available, forecast_daily,
  days_of_cover, lead_time_days), built by :mod:`integration.insights.digest`
* ``aftersales_digest``: week* (ISO Monday), week_end, reasons, nps, kept, warehouses, themes,
  built by :mod:`integration.returns.weekly_digest`
* shipping kinds: built from the shipment by :mod:`integration.notices.triggers`
* after-sales kinds (``return_*``, ``replacement_shipped``, ``refund_processed``, ``claim_*``):
  the order's keys (:func:`integration.notices.after_sales.order_context`) and those listed in
  :mod:`integration.notices.after_sales`; ``order_delayed``: built by
  :func:`integration.notices.after_sales.on_ship_by_missed`

A context that lacks what its kind needs (:mod:`integration.notices.required_context`) makes no
notice: it is skipped with a log line, here and again by the send job.
"""

from __future__ import annotations

import contextlib
import json
import time
from datetime import timedelta
from typing import Any

import structlog
from flask import current_app
from rq import Retry
from rq.exceptions import DuplicateJobError
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from integration import job_catalog, signals
from integration.extensions import db, queues
from integration.models.base import utcnow
from integration.models.notification import Notification, NotificationPreference, NotificationSettings
from integration.models.upsert import insert
from integration.notices import required_context

log = structlog.get_logger(__name__)

KINDS = ("shipped", "out_for_delivery", "delivered", "failed_attempt", "exception", "still_on_its_way",
         "back_in_stock", "back_in_stock_confirm", "points_earned", "tier_reached", "perk_issued", "merchant_alert",
         "stock_digest", "aftersales_digest", "return_approved", "return_declined", "return_received",
         "return_inspecting", "replacement_shipped", "refund_processed", "claim_opened", "claim_settled",
         "order_delayed")

# What a customer can unsubscribe from (one-click List-Unsubscribe acts on the notice's category).
CATEGORY = {
    "shipped": "tracking", "out_for_delivery": "tracking", "delivered": "tracking", "failed_attempt": "tracking",
    "exception": "tracking", "still_on_its_way": "tracking",
    "back_in_stock": "back_in_stock", "back_in_stock_confirm": "back_in_stock",
    "points_earned": "loyalty", "tier_reached": "loyalty", "perk_issued": "loyalty",
    "merchant_alert": "merchant", "stock_digest": "merchant", "aftersales_digest": "merchant",
    "return_approved": "after_sales", "return_declined": "after_sales", "return_received": "after_sales",
    "return_inspecting": "after_sales", "replacement_shipped": "after_sales", "refund_processed": "after_sales",
    "claim_opened": "after_sales", "claim_settled": "after_sales", "order_delayed": "after_sales",
}
CATEGORIES = ("tracking", "back_in_stock", "loyalty", "after_sales")
TRACKING_KINDS = frozenset(k for k, c in CATEGORY.items() if c == "tracking")
# The double opt-in mail is what a customer who once opted out of back-in-stock gets when they sign
# up again: only "all" blocks it (the storefront rate-limits sign-ups).
OPT_OUT_EXEMPT = {"back_in_stock_confirm": ("all",), "merchant_alert": (), "stock_digest": (),
                  "aftersales_digest": ()}
MERCHANT_KINDS = frozenset(k for k, c in CATEGORY.items() if c == "merchant")  # to the shop, not a customer

# Temporary SMTP failures: 10 s, 30 s, 1, 2, 5, 10, 30 min, 1 h, 3 h (then the sweeper, then
# failed). Short first steps: a relay's 421/451 usually passes in seconds, and a customer's
# "shipped" e-mail should not wait ten minutes because it met two or three of them in a row.
SEND_RETRY = (10, 30, 60, 120, 300, 600, 1800, 3600, 10800)
SEND_JOB_TIMEOUT = 180



def normalize_email(email: str | None) -> str | None:
    email = (email or "").strip()
    if not email or "@" not in email or len(email) > 320 or any(c in email for c in "\r\n<>,; \t"):
        return None
    return email


def enqueue_notice(shop_id: int, kind: str, subject: str, recipient: str, *, locale: str | None,
                   context: dict) -> int | None:
    """Create the outbox row in the CURRENT db.session transaction (no commit) unless one exists for
    (subject, kind, recipient) or the customer opted out; schedule its send job after commit.
    Returns the notification id, or None when skipped."""
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}; known: {', '.join(KINDS)}")
    address = normalize_email(recipient)
    if address is None:
        log.info("notice.skipped", reason="no_valid_recipient", kind=kind, subject=subject)
        return None
    wrong = required_context.problems(kind, context)
    if wrong:
        log.warning("notice.skipped", reason="bad_context", kind=kind, subject=subject, shop_id=shop_id, keys=wrong)
        return None
    reason = skip_reason(shop_id, kind, address)
    if reason:
        log.info("notice.skipped", reason=reason, kind=kind, subject=subject, shop_id=shop_id)
        return None
    payload = json.loads(json.dumps(context or {}, default=str))  # JSON-safe, dates as ISO text
    notification_id = db.session.execute(
        insert(Notification).values(
            shop_id=shop_id, kind=kind, subject=subject[:160], recipient=address,
            locale=(locale or None) and locale[:16], context=payload, status="queued", attempts=0,
            created_at=utcnow(), updated_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["shop_id", "kind", "subject", "recipient"])
        .returning(Notification.id)
    ).scalar()
    if notification_id is None:
        return None
    _batch(db.session()).append(notification_id)
    return notification_id


_BATCH = "nearstock.notify_batch"
BATCH_SIZE = 20  # notices created in one transaction are sent by jobs of up to this many


def _batch(session: Session) -> list[int]:
    """The ids created in this transaction; their send jobs are enqueued once, after the commit."""
    held = session.info.get(_BATCH)
    if held is None:
        ids: list[int] = []
        held = session.info[_BATCH] = (signals.innermost_transaction(session), ids)

        def flush() -> None:
            session.info.pop(_BATCH, None)
            for start in range(0, len(ids), BATCH_SIZE):
                chunk = ids[start:start + BATCH_SIZE]
                if len(chunk) == 1:
                    schedule_send(chunk[0])
                else:
                    _enqueue(job_catalog.SEND_NOTIFICATIONS, chunk,
                             job_id=job_catalog.send_notifications_id(chunk[0], chunk[-1]), retry=None)

        signals.on_commit(session, flush)
    return held[1]


@event.listens_for(Session, "after_soft_rollback")
def _drop_batch(session: Session, previous_transaction) -> None:
    # The rollback that drops the flush (signals.on_commit) drops the list it would send.
    held = session.info.get(_BATCH)
    if held is not None and signals.rolled_back_with(held[0], previous_transaction):
        session.info.pop(_BATCH, None)


def schedule_send(notification_id: int, *, suffix: str = "", delay: float = 0) -> None:
    """Queue the send job of one notice. A lost enqueue is found again by the sweeper."""
    job_id = job_catalog.send_notification_id(notification_id, suffix)
    if delay > 0:
        queues["notify"].enqueue_in(timedelta(seconds=delay), job_catalog.SEND_NOTIFICATION, notification_id,
                                    job_id=job_id,
                                    retry=Retry(max=len(SEND_RETRY), interval=list(SEND_RETRY)),
                                    job_timeout=SEND_JOB_TIMEOUT, result_ttl=0)
        return
    _enqueue(job_catalog.SEND_NOTIFICATION, notification_id, job_id=job_id, retry=SEND_RETRY)


def _enqueue(func: str, arg: Any, *, job_id: str, retry: tuple[int, ...] | None) -> None:
    # RQ directly (not queues.enqueue) for result_ttl=0: a sent notice's result lives on its row.
    options: dict[str, Any] = {"job_id": job_id, "job_timeout": SEND_JOB_TIMEOUT, "result_ttl": 0, "unique": True}
    if retry:
        options["retry"] = Retry(max=len(retry), interval=list(retry))
    with contextlib.suppress(DuplicateJobError):  # already queued: that job will send it
        queues["notify"].enqueue(func, arg, **options)


def skip_reason(shop_id: int, kind: str, recipient: str, *, sender: str | None = None,
                opt_outs: list[str] | None = None) -> str | None:
    """Why this notice must not go out now (None: send it). Checked on create and again at send.
    ``sender`` (:func:`notices_by`) and ``opt_outs`` (:func:`opted_out`): already read by the
    caller (a send job reads them for its whole batch at once); read here when not given."""
    settings = settings_for(shop_id)
    if kind in (settings.disabled_kinds or ()):
        return "disabled"
    if kind in TRACKING_KINDS and (sender or notices_by(shop_id)) == "shopify":
        return "shopify_sends"  # Shopify's own shipping e-mails are on: never both
    blocking = OPT_OUT_EXEMPT.get(kind, (CATEGORY[kind], "all"))
    if blocking and set(opted_out(shop_id, recipient) if opt_outs is None else opt_outs) & set(blocking):
        return "opted_out"
    return None


def notices_by(shop_id: int) -> str:
    from integration.models import ShopSettings

    value = db.session.execute(
        select(ShopSettings.customer_notices_by).where(ShopSettings.shop_id == shop_id)
    ).scalar_one_or_none()
    return value or "nearstock"


# -- per-shop settings ------------------------------------------------------------------------------


SETTINGS_TTL = 5.0  # seconds a process may use a shop's settings without re-reading them


def _settings_cache() -> dict[int, tuple[float, NotificationSettings]]:
    # Kept on the app: a new app (another database, a test) starts with an empty cache.
    return current_app.extensions.setdefault("nearstock.notification_settings", {})


def settings_for(shop_id: int) -> NotificationSettings:
    """The shop's notice settings (a detached copy, re-read every few seconds: every notice reads
    them several times); the defaults when the shop has no row."""
    cached = _settings_cache().get(shop_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    row = db.session.execute(
        select(NotificationSettings).where(NotificationSettings.shop_id == shop_id)
    ).scalar_one_or_none()
    if row is None:
        copy = NotificationSettings(shop_id=shop_id, **settings_defaults())
    else:
        copy = NotificationSettings(**{c.name: getattr(row, c.name) for c in NotificationSettings.__table__.c})
    _settings_cache()[shop_id] = (time.monotonic() + SETTINGS_TTL, copy)
    return copy


def settings_defaults() -> dict[str, Any]:
    return {"primary_color": "#1f6feb", "accent_color": "#f5f7fa", "disabled_kinds": [], "quiet_days": 5,
            "send_rate_per_minute": 600, "exception_actions": {}}


SETTINGS_FIELDS = ("sender_name", "sender_email", "reply_to", "logo_url", "primary_color", "accent_color",
                   "disabled_kinds", "quiet_days", "send_rate_per_minute", "exception_actions")


def update_settings(shop_id: int, values: dict[str, Any]) -> NotificationSettings:
    """Insert-or-update the shop's settings (validated by the caller's view); no commit."""
    db.session.execute(
        insert(NotificationSettings).values(shop_id=shop_id, updated_at=utcnow(), **settings_defaults())
        .on_conflict_do_nothing(index_elements=["shop_id"])
    )
    row = db.session.execute(select(NotificationSettings).where(NotificationSettings.shop_id == shop_id)).scalar_one()
    for key, value in values.items():
        if key in SETTINGS_FIELDS:
            setattr(row, key, value)
    cache = _settings_cache()
    cache.pop(shop_id, None)
    signals.on_commit(db.session(), lambda: cache.pop(shop_id, None))
    return row


# -- per-customer preferences -------------------------------------------------------------------------


def opted_out(shop_id: int, email: str) -> list[str]:
    value = db.session.execute(
        select(NotificationPreference.opted_out).where(NotificationPreference.shop_id == shop_id,
                                                       NotificationPreference.email == email.lower())
    ).scalar_one_or_none()
    return list(value or [])


def set_opt_out(shop_id: int, email: str, category: str, *, opted_out_: bool = True) -> list[str]:
    """Add (or remove) one category, or "all", to the customer's opt-outs; no commit."""
    if category not in (*CATEGORIES, "all"):
        raise ValueError(f"unknown category {category!r}")
    email = email.strip().lower()
    db.session.execute(
        insert(NotificationPreference).values(shop_id=shop_id, email=email, opted_out=[], updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["shop_id", "email"])
    )
    row = db.session.execute(
        select(NotificationPreference).where(NotificationPreference.shop_id == shop_id,
                                             NotificationPreference.email == email).with_for_update()
    ).scalar_one()
    current = set(row.opted_out or [])
    current = current | {category} if opted_out_ else current - {category}
    row.opted_out = sorted(current)
    row.updated_at = utcnow()
    return row.opted_out
