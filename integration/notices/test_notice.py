"""A test notice: one notice of the merchant's choosing (kind, language), filled with the preview's
sample data, sent to the shop's own e-mail address through the real outbox (queue, send job,
SMTP), so the merchant sees exactly what customers get.

Each click carries an idempotency key that becomes the notice's subject (``test:<key>``): the
outbox's unique key makes a repeated request (a double click, a retried fetch) the same notice.
A shop may send at most :data:`HOURLY_LIMIT` test notices an hour.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from integration.errors import APIError
from integration.extensions import db
from integration.models import Shop
from integration.models.base import utcnow
from integration.models.notification import Notification
from integration.notices import outbox, render, samples
from integration.shops.setup_guide import TEST_SUBJECT_PREFIX

HOURLY_LIMIT = 20
_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_REFUSED = {
    "disabled": "this notice is switched off in your notice settings; switch it on to test it",
    "shopify_sends": "Shopify sends the shipping e-mails for this shop, so Nearstock does not send this notice",
    "opted_out": "your shop's e-mail address unsubscribed from this kind of notice",
}


def _invalid(field: str, message: str) -> APIError:
    return APIError(422, f"invalid_{field}", message, field=field)


def _existing(shop_id: int, kind: str, subject: str) -> Notification | None:
    return db.session.execute(select(Notification).where(
        Notification.shop_id == shop_id, Notification.kind == kind, Notification.subject == subject,
    )).scalar_one_or_none()


def send_test_notice(shop: Shop, data: dict) -> tuple[Notification, bool]:
    """Queue the test notice ``data`` asks for (``{"kind", "locale", "key"}``): (the notice, whether
    this request created it). Commits."""
    kind, locale, key = data.get("kind"), data.get("locale", "en"), data.get("key")
    if not isinstance(kind, str) or kind not in outbox.KINDS:
        raise _invalid("kind", f"kind must be one of {', '.join(outbox.KINDS)}")
    if not isinstance(locale, str) or locale not in render.SUPPORTED_LOCALES:
        raise _invalid("locale", f"locale must be one of {', '.join(render.SUPPORTED_LOCALES)}")
    if not isinstance(key, str) or not _KEY.match(key):
        raise _invalid("key", "key must be 8 to 64 letters, digits, '-' or '_' (one per click)")
    subject = f"{TEST_SUBJECT_PREFIX}{key}"
    found = _existing(shop.id, kind, subject)
    if found is not None:
        return found, False
    recipient = outbox.normalize_email(shop.email)
    if recipient is None:
        raise APIError(422, "no_shop_email", "your shop has no e-mail address in Shopify to send the test to")
    reason = outbox.skip_reason(shop.id, kind, recipient)
    if reason:
        raise APIError(409, f"notice_{reason}", _REFUSED.get(reason, reason), field="kind")
    recent = db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.shop_id == shop.id, Notification.subject.startswith(TEST_SUBJECT_PREFIX),
        Notification.created_at > utcnow() - timedelta(hours=1))).scalar_one()
    if recent >= HOURLY_LIMIT:
        raise APIError(429, "too_many_tests", f"at most {HOURLY_LIMIT} test notices an hour; try again later")
    notification_id = outbox.enqueue_notice(shop.id, kind, subject, recipient, locale=locale,
                                            context=samples.sample_context(kind))
    db.session.commit()  # the send job is enqueued after this commit
    if notification_id is None:  # a concurrent request with the same key got there first
        found = _existing(shop.id, kind, subject)
        if found is None:
            raise APIError(409, "notice_not_queued", "the test notice could not be queued; try again")
        return found, False
    return db.session.get(Notification, notification_id), True
