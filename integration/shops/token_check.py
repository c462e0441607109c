"""Is the shop's stored offline token still accepted by Shopify?

Asked when the admin opens the app (the framed first load, which carries an ID token): Shopify's
own libraries answer a 401 from the Admin API by exchanging the session token again ("token
refetch", https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/token-exchange),
since a token Shopify no longer accepts while the merchant has the app open means Shopify installed
the app anew without our hearing of it (a lost ``app/uninstalled``, a store reset — or, locally, a
restarted Shopify emulator). One cheap read (the shop's name) per opening of the app.
"""

from __future__ import annotations

import structlog

from connectors.errors import AuthError, ConnectorError
from integration.models import Shop
from integration.shops.shopify_client import store_for

log = structlog.get_logger(__name__)


def token_revoked(shop: Shop) -> bool:
    """True only when Shopify refused the token (401/403, or its refresh token): a timeout or a 5xx
    says nothing about the token, and the one we have stays in use."""
    try:
        store_for(shop).get_shop_profile()
    except AuthError as exc:
        log.warning("shop.token_refused", shop=shop.domain, error=str(exc))
        return True
    except ConnectorError as exc:
        log.info("shop.token_check_inconclusive", shop=shop.domain, error=str(exc))
    return False
