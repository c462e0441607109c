"""The shop's name, currency and owner's e-mail as Shopify has them, kept on the shop: e-mails, the
tracking and unsubscribe pages and prices show them; test notices go to the owner's address. Read
at install and again on ``shop/update``; the body of that webhook is not used, since Shopify does
not order deliveries and an older copy could overwrite a newer name: the job re-reads the shop
instead (so running it twice changes nothing).
"""

from __future__ import annotations

import structlog

from integration.extensions import db
from integration.models import Shop, ShopStatus
from integration.shops.shopify_client import store_for

log = structlog.get_logger(__name__)


def read_profile(shop_id: int) -> bool:
    """Store the shop's current name, currency and e-mail; returns whether any changed."""
    shop = db.session.get(Shop, shop_id)
    if shop is None or shop.status != ShopStatus.INSTALLED:
        log.info("shop.profile_skipped", shop_id=shop_id)
        return False
    profile = store_for(shop).get_shop_profile()
    # A blank name keeps the one we have (or none: the domain stands in).
    name = profile.name or shop.name
    currency = profile.currency or shop.currency
    email = profile.email or shop.email
    changed = (name, currency, email) != (shop.name, shop.currency, shop.email)
    shop.name, shop.currency, shop.email = name, currency, email
    db.session.commit()
    log.info("shop.profile_read", shop=shop.domain, changed=changed)
    return changed
