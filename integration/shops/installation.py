"""Shops: installation, tokens (stored encrypted, refreshed before they lapse), revocation.

Shopify's expiring offline tokens live one hour and come with a refresh token that *rotates*:
using it returns a new pair and kills the old refresh token. Two processes refreshing at once
would leave one of them holding a dead token, so exactly one refresh runs per shop at a time
(Redis lock, shared by every process) and the new pair is written in one UPDATE.
https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors.errors import AuthError
from integration import signals
from integration.domain.authorization import TokenSet
from integration.extensions import db, redis
from integration.models import Shop, ShopStatus
from integration.models.base import utcnow
from integration.shops.shopify_authorizer import authorizer

log = structlog.get_logger(__name__)

# What the app asks for at install. Fulfillment orders at merchant-managed locations are where
# warehouse shipments are recorded; discounts carry loyalty rewards; metafields need products.
SCOPES = (
    "read_products",
    "write_products",
    "read_inventory",
    "write_inventory",
    "read_locations",
    "read_orders",
    "read_merchant_managed_fulfillment_orders",
    "write_merchant_managed_fulfillment_orders",
    "read_discounts",
    "write_discounts",
    "read_customers",
    "read_reports",  # shopifyqlQuery: sessions and orders per product for the test-sale gates
    "read_returns",  # returns/* webhooks, returnableFulfillments, return
    "write_returns",  # approve/decline/process customers' returns, reverse deliveries
)
REFRESH_MARGIN = timedelta(minutes=5)


def redis_key(domain: str, *parts: str) -> str:
    """Shop-scoped Redis keys share this prefix, so shop/redact can delete them all."""
    return ":".join(("nearstock", "shop", domain, *parts))


def get_installed(domain: str) -> Shop | None:
    return db.session.execute(
        select(Shop).where(Shop.domain == domain, Shop.status == ShopStatus.INSTALLED)
    ).scalar_one_or_none()


def installed_shop_ids() -> list[int]:
    """Every installed shop, by id (what the nightly sweeps walk through). Ends the read."""
    ids = list(db.session.execute(select(Shop.id).where(Shop.status == ShopStatus.INSTALLED)
                                  .order_by(Shop.id)).scalars())
    db.session.commit()
    return ids


def store_tokens(domain: str, tokens: TokenSet, *, installing: bool = False, anew: bool = False) -> Shop:
    """Insert-or-update the shop with a new token pair, and commit (the caller has read, not
    written). An install is announced (``shop_installed``) in the same transaction. ``anew``: the
    shop counts as installed now even though we had it as installed (Shopify refused its token
    while installing the app again), so the new installation has its own install time — the
    previous one's late ``app/uninstalled`` is ignored — and its own catalog import."""
    values = {
        "access_token": tokens.access_token,
        "access_token_expires_at": tokens.expires_at,
        "refresh_token": tokens.refresh_token,
        "refresh_token_expires_at": tokens.refresh_token_expires_at,
        "scopes": ",".join(tokens.scopes),
    }
    shop = db.session.execute(select(Shop).where(Shop.domain == domain)).scalar_one_or_none()
    if shop is None:
        try:
            with db.session.begin_nested():
                shop = Shop(domain=domain, **values)
                db.session.add(shop)
        except IntegrityError:
            # The admin's first load fires several requests at once, each exchanging its own
            # session token: one of them inserted the shop first, so this one updates that row.
            shop = db.session.execute(select(Shop).where(Shop.domain == domain)).scalar_one()
    for key, value in values.items():
        setattr(shop, key, value)
    installed = installing or anew or shop.status != ShopStatus.INSTALLED
    if installed:
        if anew or shop.status != ShopStatus.INSTALLED:
            shop.installed_at = utcnow()
        shop.status = ShopStatus.INSTALLED
        shop.uninstalled_at = None
        db.session.flush()  # the new shop's id
        signals.shop_installed(shop.id)
    db.session.commit()
    log.info("shop.tokens_stored", shop=domain, expires_at=str(tokens.expires_at), installing=installing, anew=anew)
    return shop


def access_token(shop: Shop) -> str:
    """A usable access token for ``shop``, refreshed first if it lapses within five minutes."""
    if shop.status != ShopStatus.INSTALLED or not shop.access_token:
        raise AuthError(f"{shop.domain} has no usable access token", system="shopify")
    if shop.access_token_expires_at is None or shop.access_token_expires_at > utcnow() + REFRESH_MARGIN:
        return shop.access_token
    lock = redis.client.lock(redis_key(shop.domain, "token-refresh"), timeout=30, blocking_timeout=35)
    with lock:
        # Another process may have refreshed while we waited: read the row again.
        db.session.refresh(shop)
        if shop.access_token_expires_at and shop.access_token_expires_at <= utcnow() + REFRESH_MARGIN:
            if not shop.refresh_token:
                raise AuthError(f"{shop.domain} token expired and no refresh token", system="shopify")
            tokens = authorizer().refresh(shop.domain, shop.refresh_token)
            _write_refreshed(shop.id, tokens)
            db.session.refresh(shop)
            log.info("shop.token_refreshed", shop=shop.domain)
    return shop.access_token


def _write_refreshed(shop_id: int, tokens: TokenSet) -> None:
    with Session(db.engine) as session, session.begin():
        session.execute(
            update(Shop)
            .where(Shop.id == shop_id)
            .values(
                access_token=tokens.access_token,
                access_token_expires_at=tokens.expires_at,
                refresh_token=tokens.refresh_token,
                refresh_token_expires_at=tokens.refresh_token_expires_at,
            )
        )


def revoke(shop: Shop) -> None:
    """app/uninstalled: forget the tokens (they are dead anyway), keep data until shop/redact."""
    shop.status = ShopStatus.UNINSTALLED
    shop.uninstalled_at = utcnow()
    shop.access_token = None
    shop.access_token_expires_at = None
    shop.refresh_token = None
    shop.refresh_token_expires_at = None


def shops_needing_refresh(within: timedelta) -> list[int]:
    """Shops whose refresh token lapses soon: refreshing keeps them alive while the shop is idle."""
    return list(
        db.session.execute(
            select(Shop.id).where(
                Shop.status == ShopStatus.INSTALLED,
                Shop.refresh_token_expires_at.is_not(None),
                Shop.refresh_token_expires_at < utcnow() + within,
            )
        ).scalars()
    )


def force_refresh(shop_id: int) -> None:
    shop = db.session.get(Shop, shop_id)
    if shop is None or shop.status != ShopStatus.INSTALLED or not shop.refresh_token:
        return
    with redis.client.lock(redis_key(shop.domain, "token-refresh"), timeout=30, blocking_timeout=35):
        db.session.refresh(shop)
        tokens = authorizer().refresh(shop.domain, shop.refresh_token)
        _write_refreshed(shop.id, tokens)
