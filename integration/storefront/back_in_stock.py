"""Back in stock: sign-up from the product page, double opt-in, unsubscribe, and the e-mails when
the variant comes back.

* Sign-up (``POST /proxy/back-in-stock``) stores a *pending* subscription (one per shop, variant
  and e-mail: insert-or-get, never check-then-insert) and queues a ``back_in_stock_confirm``
  notice whose link confirms it. Signing up again while pending or active sends nothing new.
* Confirmation and unsubscribe links carry a signed token (the subscription id, the action and
  the confirmation round); the pages ask for a click (a POST), so mail scanners that fetch every
  link neither confirm nor unsubscribe anyone.
* On a restock (:func:`notify_restocked`, called by the status refresh in the same transaction
  that records the new stock), the oldest confirmed subscribers are told, at most
  ``units x notify_per_unit`` of them; each notice's outbox subject names the subscription and
  the restock, so nobody is told twice about the same restock, whatever is retried.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

import structlog
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from integration.extensions import db
from integration.models import Shop, Variant
from integration.models.base import utcnow
from integration.models.storefront import BackInStockSubscription, SubscriptionStatus, VariantStockState
from integration.models.upsert import insert
from integration.notices.outbox import enqueue_notice
from integration.storefront.settings import settings_for
from integration.storefront.texts import resolve_locale
from integration.storefront.wire import variant_gid, variant_number

log = structlog.get_logger(__name__)

PROXY_PATH = "/apps/nearstock"  # shopify.app.toml [app_proxy] prefix + subpath
CONFIRM_MAX_AGE = 7 * 86400
_EMAIL = re.compile(r"^[^@\s<>,;\"']{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$")
_PRODUCT_PATH = re.compile(r"^/(?:[a-z]{2}(?:-[a-zA-Z]{2})?/)?products/[A-Za-z0-9][A-Za-z0-9._~%-]{0,200}$")


class SignupError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def normalize_email(value: str | None) -> str | None:
    email = (value or "").strip()
    if len(email) > 254 or not _EMAIL.match(email):
        return None
    return email.lower()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="nearstock.back-in-stock")


def make_token(subscription: BackInStockSubscription, action: str) -> str:
    return _serializer().dumps([subscription.id, action, subscription.confirm_round])


def read_token(token: str, action: str) -> tuple[int, int] | None:
    """(subscription id, confirmation round) of a valid token for ``action``, else None."""
    try:
        data = _serializer().loads(token, max_age=CONFIRM_MAX_AGE if action == "confirm" else None)
    except (SignatureExpired, BadSignature):
        return None
    if not (isinstance(data, list) and len(data) == 3 and data[1] == action):
        return None
    return int(data[0]), int(data[2])


def link(domain: str, action: str, token: str) -> str:
    return f"https://{domain}{PROXY_PATH}/back-in-stock/{action}?{urlencode({'token': token})}"


@dataclass(frozen=True)
class Signup:
    subscription_id: int
    emailed: bool  # a confirmation e-mail was queued by this request


def subscribe(shop: Shop, variant_id: str, email: str | None, *, locale: str | None = None,
              country: str | None = None, product_path: str | None = None,
              customer_id: str | None = None) -> Signup:
    """Store the sign-up (no commit; the caller commits) and queue the confirmation e-mail."""
    settings = settings_for(shop.id)
    if not settings.back_in_stock:
        raise SignupError(404, "not_available", "back-in-stock e-mails are not offered by this shop")
    address = normalize_email(email)
    if address is None:
        raise SignupError(400, "invalid_email", "a valid e-mail address is required")
    if not (variant_id or "").isdigit() or len(variant_id) > 20:
        raise SignupError(400, "invalid_variant", "variant_id must be a numeric Shopify id")
    gid = variant_gid(variant_id)
    variant = db.session.execute(select(Variant).where(Variant.shop_id == shop.id, Variant.shopify_id == gid,
                                                       Variant.deleted_at.is_(None))).scalar_one_or_none()
    if variant is None:  # another shop's variant, or none at all: same answer
        raise SignupError(404, "unknown_variant", "no such product variant in this shop")
    values = {"locale": resolve_locale(locale, "") or None, "country": (country or "").upper()[:2] or None,
              "product_path": product_path if product_path and _PRODUCT_PATH.match(product_path) else None,
              "customer_external_id": customer_id}
    created = db.session.execute(
        insert(BackInStockSubscription).values(
            shop_id=shop.id, variant_shopify_id=gid, email=address, status=SubscriptionStatus.PENDING,
            confirm_round=1, created_at=utcnow(), **values)
        .on_conflict_do_nothing(index_elements=["shop_id", "variant_shopify_id", "email"])
        .returning(BackInStockSubscription.id)
    ).scalar()
    sub = db.session.execute(select(BackInStockSubscription).where(
        BackInStockSubscription.shop_id == shop.id, BackInStockSubscription.variant_shopify_id == gid,
        BackInStockSubscription.email == address).with_for_update()).scalar_one()
    if created is None:
        if sub.status in (SubscriptionStatus.PENDING, SubscriptionStatus.ACTIVE):
            return Signup(sub.id, False)  # nothing new to say; never a second e-mail per sign-up
        # Told already, or unsubscribed: this is a new wish, confirmed again.
        sub.status = SubscriptionStatus.PENDING
        sub.confirm_round = (sub.confirm_round or 1) + 1
        sub.confirmed_at = sub.unsubscribed_at = None
        for key, value in values.items():
            if value:
                setattr(sub, key, value)
    db.session.flush()
    product_title, variant_title = titles(variant.title)
    nid = enqueue_notice(shop.id, "back_in_stock_confirm", f"back_in_stock:{sub.id}:confirm:{sub.confirm_round}",
                         address, locale=sub.locale, context={
                             "product_title": product_title, "variant_title": variant_title or product_title,
                             "confirm_url": link(shop.domain, "confirm", make_token(sub, "confirm")),
                             "unsubscribe_url": link(shop.domain, "unsubscribe", make_token(sub, "unsubscribe")),
                             "shop_name": shop.name or shop.domain})
    log.info("back_in_stock.signup", shop_id=shop.id, subscription_id=sub.id, emailed=nid is not None)
    return Signup(sub.id, nid is not None)


def titles(title: str | None) -> tuple[str, str | None]:
    """(product title, variant title) from the catalog's "Product - Variant" title."""
    title = title or ""
    product, sep, variant = title.rpartition(" - ")
    if not sep:
        return title, None
    return product, None if variant == "Default Title" else variant


def _subscription(shop: Shop, token: str, action: str) -> BackInStockSubscription | None:
    found = read_token(token or "", action)
    if found is None:
        return None
    sub = db.session.get(BackInStockSubscription, found[0], with_for_update=True)
    if sub is None or sub.shop_id != shop.id or sub.email is None:
        return None
    if action == "confirm" and sub.confirm_round != found[1]:
        return None  # an older confirmation link, superseded by a newer sign-up
    return sub


def check_token(shop: Shop, token: str, action: str) -> bool:
    return _subscription(shop, token, action) is not None


def confirm(shop: Shop, token: str) -> bool:
    """Double opt-in: pending -> active (no commit). False for an invalid or stale link. A variant
    already back in stock is announced at once (it may have come back since the sign-up)."""
    sub = _subscription(shop, token, "confirm")
    if sub is None:
        return False
    if sub.status != SubscriptionStatus.PENDING:
        return sub.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.NOTIFIED)
    sub.status = SubscriptionStatus.ACTIVE
    sub.confirmed_at = utcnow()
    state = db.session.execute(select(VariantStockState).where(
        VariantStockState.shop_id == shop.id, VariantStockState.variant_shopify_id == sub.variant_shopify_id)
    ).scalar_one_or_none()
    if state is not None and state.available > 0:
        _notify(shop, [sub], state.restock_seq or 0)
    return True


def unsubscribe(shop: Shop, token: str) -> bool:
    sub = _subscription(shop, token, "unsubscribe")
    if sub is None:
        return False
    if sub.status != SubscriptionStatus.UNSUBSCRIBED:
        sub.status = SubscriptionStatus.UNSUBSCRIBED
        sub.unsubscribed_at = utcnow()
    return True


def notify_restocked(ctx, restocked) -> int:
    """``restocked``: (variant gid, restock seq, budget, units). Tells the oldest confirmed
    subscribers of each, within its budget; in the caller's transaction. Returns how many."""
    if not restocked:
        return 0
    gids = [gid for gid, *_ in restocked]
    waiting = set(db.session.execute(select(BackInStockSubscription.variant_shopify_id).distinct().where(
        BackInStockSubscription.shop_id == ctx.shop_id, BackInStockSubscription.variant_shopify_id.in_(gids),
        BackInStockSubscription.status == SubscriptionStatus.ACTIVE)).scalars())
    if not waiting:
        return 0
    shop = db.session.get(Shop, ctx.shop_id)
    told = 0
    for gid, seq, budget, units in restocked:
        if gid not in waiting:
            continue
        query = (select(BackInStockSubscription)
                 .where(BackInStockSubscription.shop_id == ctx.shop_id,
                        BackInStockSubscription.variant_shopify_id == gid,
                        BackInStockSubscription.status == SubscriptionStatus.ACTIVE,
                        BackInStockSubscription.email.is_not(None))  # not redacted
                 .order_by(BackInStockSubscription.confirmed_at, BackInStockSubscription.id)
                 .limit(budget))
        if db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        subs = list(db.session.execute(query).scalars())
        told += _notify(shop, subs, seq)
        log.info("back_in_stock.restock", shop_id=ctx.shop_id, variant=gid, units=units, budget=budget,
                 notified=len(subs))
    return told


def _notify(shop: Shop, subs, seq: int) -> int:
    if not subs:
        return 0
    variant = db.session.execute(select(Variant.title).where(
        Variant.shop_id == shop.id, Variant.shopify_id == subs[0].variant_shopify_id)).scalar_one_or_none()
    product_title, variant_title = titles(variant)
    now = utcnow()
    for sub in subs:
        url = f"https://{shop.domain}{sub.product_path or '/'}"
        if sub.product_path:
            url += f"?variant={variant_number(sub.variant_shopify_id)}"
        enqueue_notice(shop.id, "back_in_stock", f"back_in_stock:{sub.id}:restock:{seq}", sub.email,
                       locale=sub.locale, context={
                           "product_title": product_title, "product_url": url, "variant_title": variant_title,
                           "unsubscribe_url": link(shop.domain, "unsubscribe", make_token(sub, "unsubscribe"))})
        sub.status = SubscriptionStatus.NOTIFIED
        sub.notified_restock = seq
        sub.notified_at = now
    return len(subs)
