"""Sending one outbox row: re-read, drop if stale, claim, render, send, mark sent. Once.

Claim protocol (what keeps a crash from sending twice in normal operation):

1. ``UPDATE notifications SET status='sending', claim_token=:t, claimed_at=now, attempts+1
   WHERE id=:id AND (status='queued' OR (status='sending' AND claimed_at < now - CLAIM_TIMEOUT))``,
   committed. Zero rows: another worker has it, or it is done: nothing to do.
2. Right before the SMTP DATA command, a marker ``notify:data:<id>`` = claim token is written to
   Redis: from then on the server may have the message even if we never hear its answer.
3. ``UPDATE ... SET status='sent', provider_message_id=... WHERE id=:id AND claim_token=:t``.

A worker killed between 1 and 3 leaves a ``sending`` row. After ``CLAIM_TIMEOUT`` it is
re-examined (by the job's retry or the sweeper): without the DATA marker the message never
reached the server and is sent again; with it the row is marked ``sent`` (``error_kind =
"unconfirmed"``) instead of risking a duplicate. The Message-ID is derived from the notification
id, so even a resend after an ambiguous network failure carries the same id (receivers dedupe).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from urllib.parse import urlsplit

import structlog
from flask import current_app
from sqlalchemy import or_, select, update

from connectors.email import mailer_for
from connectors.errors import PermanentError, RetryableError
from connectors.ratelimit import TokenBucket
from integration.extensions import db, redis
from integration.models import Order, Shipment, Shop
from integration.models.base import utcnow
from integration.models.notification import Notification, NotificationStatus
from integration.services import notification_links as links
from integration.services import notification_render as rendering
from integration.services import notifications

log = structlog.get_logger(__name__)

CLAIM_TIMEOUT = timedelta(minutes=10)  # > the send job's timeout: a live claim is never taken over
MAX_ATTEMPTS = 12  # temporary failures, counted across job retries and sweeps; then failed
MARKER_TTL = 2 * 24 * 3600  # well past CLAIM_TIMEOUT + a sweep: only a stale claim ever reads it


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | skipped | failed | busy | gone | unconfirmed
    detail: str = ""


def marker_key(notification_id: int) -> str:
    return f"nearstock:notify:data:{notification_id}"


def send_notification(notification_id: int, *, now: datetime | None = None) -> Outcome:
    """Deliver one notice (the body of ``jobs.notify.send_notification``).

    Raises :class:`RetryableError` for temporary failures (the row is back to ``queued``; RQ retries
    with backoff). Permanent failures are recorded on the row and not raised."""
    session = db.session
    now = now or utcnow()
    t0 = time.perf_counter()
    n = session.get(Notification, notification_id)
    if n is None:
        return Outcome("gone")
    if n.status in NotificationStatus.DONE:
        return Outcome(n.status, "already done")
    if n.status == NotificationStatus.SENDING:
        if n.claimed_at and n.claimed_at > now - CLAIM_TIMEOUT:
            return Outcome("busy", "claimed by another worker")
        marker = redis.client.get(marker_key(n.id))
        if marker is not None and marker.decode() == (n.claim_token or ""):
            _finish(n.id, n.claim_token, status=NotificationStatus.SENT, error_kind="unconfirmed",
                    error="worker stopped after handing the message to the server; not sent again")
            log.warning("notice.unconfirmed", notification_id=n.id)
            return Outcome("unconfirmed")
    reason = _drop_reason(n)
    if reason:
        _skip(n, reason, now)
        return Outcome("skipped", reason)
    shop = session.get(Shop, n.shop_id)
    try:
        message = build_message(n, shop)
    except Exception as exc:  # a template bug must not loop: record it, the merchant sees it
        log.exception("notice.render_failed", notification_id=n.id)
        _fail_unclaimed(n, f"render failed: {exc!r}", now)
        return Outcome("failed", "render")
    t_render = time.perf_counter()
    _take_rate(n.shop_id)

    token = secrets.token_hex(16)
    claimed = session.execute(
        update(Notification).where(
            Notification.id == n.id,
            or_(Notification.status == NotificationStatus.QUEUED,
                (Notification.status == NotificationStatus.SENDING) & (Notification.claimed_at < now - CLAIM_TIMEOUT)),
        ).values(status=NotificationStatus.SENDING, claim_token=token, claimed_at=utcnow(),
                 attempts=Notification.attempts + 1, message_id=message["Message-ID"], updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if not claimed:
        return Outcome("busy", "lost the claim")

    config = current_app.config["NEARSTOCK"]
    mailer = mailer_for(config.smtp_url, config.outbox_path)
    key = marker_key(n.id)
    t_claim = time.perf_counter()
    try:
        provider_id = mailer.send(message, before_data=lambda: redis.client.set(key, token, ex=MARKER_TTL))
    except RetryableError as exc:
        attempts = _release(n.id, token, str(exc))
        if attempts >= MAX_ATTEMPTS:
            _finish(n.id, None, status=NotificationStatus.FAILED, error_kind="temporary",
                    error=f"gave up after {attempts} attempts: {exc}")
            return Outcome("failed", "attempts exhausted")
        log.warning("notice.retry", notification_id=n.id, error=str(exc), attempts=attempts)
        raise
    except PermanentError as exc:
        _finish(n.id, token, status=NotificationStatus.FAILED, error_kind="permanent", error=str(exc))
        log.warning("notice.failed", notification_id=n.id, error=str(exc))
        return Outcome("failed", str(exc))
    t_sent = time.perf_counter()
    _finish(n.id, token, status=NotificationStatus.SENT, provider_id=provider_id)  # the marker expires by itself
    log.info("notice.sent", notification_id=n.id, kind=n.kind, render_ms=round((t_render - t0) * 1000, 1),
             claim_ms=round((t_claim - t_render) * 1000, 1), smtp_ms=round((t_sent - t_claim) * 1000, 1),
             mark_ms=round((time.perf_counter() - t_sent) * 1000, 1))
    return Outcome("sent", provider_id)


def _finish(notification_id: int, token: str | None, *, status: str, provider_id: str | None = None,
            error_kind: str | None = None, error: str | None = None) -> None:
    where = [Notification.id == notification_id]
    if token is not None:
        where.append(Notification.claim_token == token)
    values: dict = {"status": status, "updated_at": utcnow(), "error_kind": error_kind, "last_error": error}
    if status == NotificationStatus.SENT:
        values.update(sent_at=utcnow(), provider_message_id=(provider_id or None) and provider_id[:255])
    db.session.execute(update(Notification).where(*where).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def _release(notification_id: int, token: str, error: str) -> int:
    """Temporary failure: back to queued for the next attempt; returns the attempts so far."""
    db.session.execute(
        update(Notification).where(Notification.id == notification_id, Notification.claim_token == token)
        .values(status=NotificationStatus.QUEUED, claim_token=None, claimed_at=None, last_error=error[:2000],
                error_kind="temporary", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return db.session.execute(select(Notification.attempts).where(Notification.id == notification_id)).scalar() or 0


def _skip(n: Notification, reason: str, now: datetime) -> None:
    db.session.execute(
        update(Notification).where(Notification.id == n.id, Notification.status.in_(
            (NotificationStatus.QUEUED, NotificationStatus.SENDING)))
        .values(status=NotificationStatus.SKIPPED, error_kind=reason[:16], last_error=reason, claim_token=None,
                updated_at=now).execution_options(synchronize_session=False)
    )
    db.session.commit()
    log.info("notice.dropped", notification_id=n.id, kind=n.kind, reason=reason)


def _fail_unclaimed(n: Notification, error: str, now: datetime) -> None:
    db.session.rollback()
    db.session.execute(
        update(Notification).where(Notification.id == n.id, Notification.status.in_(
            (NotificationStatus.QUEUED, NotificationStatus.SENDING)))
        .values(status=NotificationStatus.FAILED, error_kind="render", last_error=error[:2000], updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _take_rate(shop_id: int) -> None:
    rate = notifications.settings_for(shop_id).send_rate_per_minute or 600
    bucket = TokenBucket(redis.client, f"nearstock:ratelimit:email:{shop_id}", rate=rate / 60.0,
                         burst=max(1.0, min(rate / 6.0, 100.0)))
    bucket.take(max_wait=20.0)  # longer than that: RetryableError with retry_after, RQ waits for us


# -- staleness -------------------------------------------------------------------------------------------

# Shipment statuses after which a notice of this kind is old news.
_DELIVERED = "Delivered"


def _drop_reason(n: Notification) -> str | None:
    if not n.recipient:
        return "redacted"
    reason = notifications.skip_reason(n.shop_id, n.kind, n.recipient)
    if reason:
        return reason
    if n.kind not in notifications.TRACKING_KINDS:
        return None
    shipment_id = (n.context or {}).get("shipment_id")
    shipment = db.session.get(Shipment, shipment_id) if shipment_id else None
    if shipment is None:
        return None
    return stale_reason(n.kind, n.context or {}, shipment.status, shipment.status_reason, shipment.status_at)


def stale_reason(kind: str, context: dict, status: str, reason: str | None, status_at: datetime | None) -> str | None:
    """Why a tracking notice no longer matches the parcel (None: still true, send it).

    No "out for delivery" once delivered, no "attempt failed" after a later delivery, no "still on
    its way" once anything new happened; a notice about the current state always goes out."""
    if kind == "delivered":
        return None
    if status == _DELIVERED:
        return "stale"
    if kind == "out_for_delivery":
        return None if status == "OutForDelivery" else "stale"
    if kind == "still_on_its_way":
        basis = context.get("basis_at")
        if status_at and basis and status_at.isoformat() > str(basis):
            return "stale"
    return None


# -- the MIME message ------------------------------------------------------------------------------------------


def app_domain() -> str:
    host = urlsplit(current_app.config["NEARSTOCK"].app_url).hostname or ""
    return host if "." in host and not host.replace(".", "").isdigit() else "nearstock.localhost"


def message_id(notification_id: int) -> str:
    """Stable per notification: the same notice always carries the same Message-ID."""
    key = current_app.config["NEARSTOCK"].secret_key.encode()
    digest = hmac.new(key, f"notification:{notification_id}".encode(), hashlib.sha256).hexdigest()[:16]
    return f"<notice-{notification_id}.{digest}@{app_domain()}>"


def branding_for(shop: Shop) -> rendering.Branding:
    s = notifications.settings_for(shop.id)
    shop_name = shop.name or shop.domain.split(".", 1)[0]
    return rendering.Branding.build(
        shop_name=shop_name, sender_name=s.sender_name, sender_email=s.sender_email or f"no-reply@{app_domain()}",
        reply_to=s.reply_to or shop.email, logo_url=s.logo_url, primary_color=s.primary_color,
        accent_color=s.accent_color)


def locale_for(n: Notification, shop: Shop) -> str | None:
    if n.kind == "merchant_alert":
        return shop.primary_locale or n.locale
    return n.locale or shop.primary_locale


def render_notification(n: Notification, shop: Shop) -> rendering.Rendered:
    context = dict(n.context or {})
    country = None
    order = db.session.get(Order, context["order_id"]) if context.get("order_id") else None
    if order is not None:
        country = order.shipping_country
    return rendering.render(n.kind, context, locale=locale_for(n, shop), branding=branding_for(shop),
                            links=links.for_notification(n, shop, order), country=country)


def build_message(n: Notification, shop: Shop) -> EmailMessage:
    rendered = render_notification(n, shop)
    brand = branding_for(shop)
    msg = EmailMessage()
    msg["Subject"] = rendered.subject
    msg["From"] = formataddr((brand.sender_name, brand.sender_email))
    msg["To"] = n.recipient
    if brand.reply_to and n.kind != "merchant_alert":
        msg["Reply-To"] = brand.reply_to
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = message_id(n.id)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to notices
    msg["X-Nearstock-Notification"] = f"{n.id} {n.kind}"
    unsubscribe = links.unsubscribe_url(n) if n.kind != "merchant_alert" else None
    if unsubscribe:
        # RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" to this URL.
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # Quoted-printable said outright: the email package would otherwise encode each part twice to
    # pick the shorter encoding (measured: half the cost of building the message).
    msg.set_content(rendered.text, cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    msg["Content-Language"] = rendered.lang  # after set_content, which drops Content-* headers
    return msg
