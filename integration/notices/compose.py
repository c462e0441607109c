"""What a notice says and how it goes on the wire: the shop's branding, the customer's language,
the rendered subject and bodies, the signed links, and the finished MIME message with a stable
Message-ID (the same notice always carries the same one, so a resend is recognisable)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from integration.domain.mail import Outgoing
from integration.extensions import db
from integration.models import Order, Shop
from integration.models.notification import Notification
from integration.notices import links, mime
from integration.notices import outbox as notifications
from integration.notices import render as rendering


def app_domain() -> str:
    return _domain_of(current_app.config["NEARSTOCK"].app_url)


@functools.lru_cache(maxsize=8)  # one APP_URL per app: parsed once, not for every notice
def _domain_of(app_url: str) -> str:
    host = urlsplit(app_url).hostname or ""
    return host if "." in host and not host.replace(".", "").isdigit() else "nearstock.localhost"


def message_id(notification_id: int) -> str:
    """Stable per notification: the same notice always carries the same Message-ID."""
    key = current_app.config["NEARSTOCK"].secret_key.encode()
    digest = hmac.new(key, f"notification:{notification_id}".encode(), hashlib.sha256).hexdigest()[:16]
    return f"<notice-{notification_id}.{digest}@{app_domain()}>"


def branding_for(shop: Shop, overrides: dict[str, Any] | None = None) -> rendering.Branding:
    """The shop's branding; ``overrides`` (validated by :mod:`settings_input`): unsaved values a
    preview shows in place of the saved ones (None: the default, as if cleared)."""
    s = notifications.settings_for(shop.id)
    values = {name: getattr(s, name) for name in ("sender_name", "sender_email", "reply_to", "logo_url",
                                                  "primary_color", "accent_color")}
    values.update(overrides or {})
    shop_name = shop.name or shop.domain.split(".", 1)[0]
    return rendering.Branding.build(
        shop_name=shop_name, sender_name=values["sender_name"],
        sender_email=values["sender_email"] or f"no-reply@{app_domain()}",
        reply_to=values["reply_to"] or shop.email, logo_url=values["logo_url"],
        primary_color=values["primary_color"], accent_color=values["accent_color"])


def locale_for(n: Notification, shop: Shop) -> str | None:
    if n.kind in notifications.MERCHANT_KINDS:
        return shop.primary_locale or n.locale
    return n.locale or shop.primary_locale


_LOOKUP: Any = object()  # build_message's default: read the notice's order from the database


def _find_order(n: Notification) -> Order | None:
    order_id = (n.context or {}).get("order_id")
    return db.session.get(Order, order_id) if order_id else None


def build_message(n: Notification, shop: Shop, order: Order | None = _LOOKUP) -> Outgoing:
    """The notice as it goes on the wire; ``order``: the notice's order when the caller has read it."""
    if order is _LOOKUP:
        order = _find_order(n)
    link_map = links.for_notification(n, shop, order)  # signed once, used by the body and the header
    brand = branding_for(shop)
    rendered = rendering.render(n.kind, dict(n.context or {}), locale=locale_for(n, shop), branding=brand,
                                links=link_map, country=order.shipping_country if order is not None else None)
    return mime.build(mime.Notice(
        subject=rendered.subject, sender_name=brand.sender_name, sender_email=brand.sender_email,
        recipient=n.recipient or "", message_id=message_id(n.id), date=_date_header(),
        kind_header=f"{n.id} {n.kind}", text=rendered.text, html=rendered.html, lang=rendered.lang,
        reply_to=brand.reply_to if n.kind not in notifications.MERCHANT_KINDS else None,
        unsubscribe_url=link_map.get("unsubscribe") if n.kind not in notifications.MERCHANT_KINDS else None))


_date_cache: tuple[int, str] = (-1, "")


def _date_header() -> str:
    """The Date header for now. It has a resolution of one second and a batch sends hundreds of
    notices a second: written once per second, not once per notice."""
    global _date_cache
    second = int(time.time())
    if _date_cache[0] != second:
        _date_cache = (second, format_datetime(datetime.fromtimestamp(second, UTC)))
    return _date_cache[1]
