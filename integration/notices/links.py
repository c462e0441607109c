"""Signed links in notices: tracking page, one-click unsubscribe, delivery rating, admin.

Tokens are itsdangerous signatures with a key derived from SECRET_KEY for each purpose
(:func:`integration.security.signer`), so a link can neither be forged nor reused for another
purpose. They carry ids, never anything a customer typed.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from integration.models import Order, Shop
from integration.models.notification import Notification
from integration.security import signer

# Where Shopify serves our app proxy on the storefront (shopify.app.toml: prefix "apps",
# subpath "nearstock"), forwarded to /proxy.
PROXY_PREFIX = "/apps/nearstock"

TRACK = "notice-tracking-link"
UNSUBSCRIBE = "notice-unsubscribe"
FEEDBACK = "notice-feedback"
RETURN_FORM = "return-request-form"
TRACK_MAX_AGE = 180 * 24 * 3600  # a tracking link in an old e-mail stops working after six months
FEEDBACK_MAX_AGE = 60 * 24 * 3600
RETURN_FORM_MAX_AGE = 2 * 3600  # a return form left open longer is shown again, with what can be returned now


_signers: dict[tuple[str, str], URLSafeTimedSerializer] = {}


def _signer(purpose: str) -> URLSafeTimedSerializer:
    """integration.security.signer, kept per (purpose, secret): deriving its key (HKDF) for every
    link of every notice is wasted work; a new SECRET_KEY (another app, a rotation) gets its own."""
    key = (purpose, current_app.config["NEARSTOCK"].secret_key)
    found = _signers.get(key)
    if found is None:
        found = _signers[key] = signer(purpose)
    return found


def _app_url() -> str:
    return current_app.config["NEARSTOCK"].app_url.rstrip("/")


def tracking_token(shop_id: int, order_id: int) -> str:
    return _signer(TRACK).dumps({"s": shop_id, "o": order_id})


def read_tracking_token(token: str) -> dict[str, Any] | None:
    try:
        data = _signer(TRACK).loads(token, max_age=TRACK_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    return data if isinstance(data, dict) and {"s", "o"} <= data.keys() else None


def proxy_prefix(shop_id: int) -> str:
    """The shop's app-proxy path: the default, or what the merchant renamed it to (seen on the last
    proxied request, see views/proxy_track.py)."""
    from integration.extensions import redis

    seen = redis.client.get(f"nearstock:proxy_prefix:{shop_id}")
    return seen.decode() if seen else PROXY_PREFIX


def tracking_url(shop: Shop, order_id: int) -> str:
    token = urlencode({"t": tracking_token(shop.id, order_id)})
    return f"https://{shop.domain}{proxy_prefix(shop.id)}/track?{token}"


def returns_url(shop: Shop, order_id: int) -> str:
    """The return request page of the order (the tracking link's token names the order)."""
    token = urlencode({"t": tracking_token(shop.id, order_id)})
    return f"https://{shop.domain}{proxy_prefix(shop.id)}/returns?{token}"


def return_form_token(shop_id: int, order_id: int) -> str:
    """The return form's hidden field: which order, and a nonce that makes each form single-use."""
    return _signer(RETURN_FORM).dumps({"s": shop_id, "o": order_id, "n": secrets.token_urlsafe(16)})


def read_return_form_token(token: str) -> dict[str, Any] | None:
    try:
        data = _signer(RETURN_FORM).loads(token, max_age=RETURN_FORM_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    return data if isinstance(data, dict) and {"s", "o", "n"} <= data.keys() else None


def unsubscribe_token(shop_id: int, email: str, category: str, lang: str | None = None) -> str:
    return _signer(UNSUBSCRIBE).dumps({"s": shop_id, "e": email.lower(), "c": category, "l": lang or ""})


def read_unsubscribe_token(token: str) -> dict[str, Any] | None:
    try:
        data = _signer(UNSUBSCRIBE).loads(token)  # no expiry: an unsubscribe link must always work
    except BadSignature:
        return None
    return data if isinstance(data, dict) and {"s", "e", "c"} <= data.keys() else None


def unsubscribe_url(n: Notification) -> str | None:
    from integration.notices.outbox import CATEGORIES, CATEGORY

    category = CATEGORY.get(n.kind)
    if not n.recipient or category not in CATEGORIES:
        return None
    return f"{_app_url()}/notifications/unsubscribe/{unsubscribe_token(n.shop_id, n.recipient, category, n.locale)}"


def feedback_token(shop_id: int, order_id: int, lang: str | None = None) -> str:
    return _signer(FEEDBACK).dumps({"s": shop_id, "o": order_id, "l": lang or ""})


def read_feedback_token(token: str) -> dict[str, Any] | None:
    try:
        data = _signer(FEEDBACK).loads(token, max_age=FEEDBACK_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    return data if isinstance(data, dict) and {"s", "o"} <= data.keys() else None


def feedback_url(shop_id: int, order_id: int, lang: str | None) -> str:
    # The template appends "&rating=N" for each star.
    return f"{_app_url()}/notifications/feedback?{urlencode({'t': feedback_token(shop_id, order_id, lang)})}"


def admin_url(shop: Shop) -> str:
    return f"https://{shop.domain}/admin/apps/{current_app.config['NEARSTOCK'].shopify_api_key}"


def for_notification(n: Notification, shop: Shop, order: Order | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if order is not None:
        out["tracking"] = tracking_url(shop, order.id)
        if n.kind == "delivered":
            out["feedback"] = feedback_url(shop.id, order.id, n.locale)
            if order.channel == "shopify":  # returns are filed through Shopify's Returns API
                out["returns"] = returns_url(shop, order.id)
    unsubscribe = unsubscribe_url(n)
    if unsubscribe:
        out["unsubscribe"] = unsubscribe
    from integration.notices.outbox import MERCHANT_KINDS

    if n.kind in MERCHANT_KINDS:
        out["admin"] = admin_url(shop)
    return out
