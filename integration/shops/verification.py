"""Did Shopify send this request? Every check of what Shopify signs, in one place, for the views.

* Session tokens (the embedded admin's ``/api/*``): Shopify's ``shopifyapp`` package checks the
  App Bridge JWT (HS256 signature, ``aud`` = our API key, ``exp``/``nbf`` with 10 s leeway).
  https://shopify.dev/docs/apps/build/authentication-authorization/session-tokens
* Customer account UI extension tokens (``shopify.sessionToken.get()`` in the extension): the same
  HS256 JWT checks by ``shopifyapp``; ``dest`` names the shop, ``sub`` the logged-in customer.
  https://shopify.dev/docs/api/customer-account-ui-extensions/latest/apis/session-token
* Webhooks, app proxy queries and the install/OAuth redirect query: our HMAC checks in
  :mod:`connectors.shopify.signatures`, each on the exact bytes Shopify signed.

Every check accepts the current app secret and, during a secret rotation, the previous one
(``SHOPIFY_API_SECRET_PREVIOUS``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlparse

from shopify_app import ShopifyApp

from connectors.shopify.signatures import (
    is_valid_shop_domain,
    verify_proxy_signature,
    verify_query_hmac,
    verify_webhook,
)

if TYPE_CHECKING:
    from integration.config import Config

__all__ = [
    "CustomerAccountToken",
    "InvalidSessionToken",
    "SessionToken",
    "install_query_is_authentic",
    "is_valid_shop_domain",
    "proxy_query_is_authentic",
    "verify_customer_account_token",
    "verify_session_token",
    "webhook_is_authentic",
]

# Claims every Shopify session token carries.
SESSION_CLAIMS = ("iss", "dest", "sub", "jti", "sid")
# shopifyapp wants the page that gets a document request a fresh token. Only fetch requests with
# a Bearer token are verified here, which it never redirects; our embedded page is that page.
APP_HOME_PATH = "/admin"


class InvalidSessionToken(Exception):
    """The session token is not one Shopify issued to this app for a shop."""


@dataclass(frozen=True)
class SessionToken:
    domain: str  # the shop, from the token's ``dest``
    user: str | None  # the merchant user (``sub``)
    token: str  # the JWT itself, for token exchange


def _secrets(config: Config) -> list[str]:
    return [s for s in (config.shopify_api_secret, config.shopify_api_secret_previous) if s]


def verify_session_token(authorization: str, url: str, config: Config) -> SessionToken:
    """The shop and user of an ``Authorization: Bearer <session token>`` header, or
    :class:`InvalidSessionToken`."""
    app = ShopifyApp(config.shopify_api_key, config.shopify_api_secret,
                     old_client_secret=config.shopify_api_secret_previous or None)
    result = app.verify_app_home_req({"method": "GET", "headers": {"Authorization": authorization}, "url": url,
                                      "body": ""}, app_home_patch_id_token_path=APP_HOME_PATH)
    if not result.ok or result.id_token is None:
        raise InvalidSessionToken(f"session token rejected: {result.log.code}")
    claims = result.id_token.claims
    # Ours on top of shopifyapp, which neither requires the standard claims nor checks that the
    # issuer is the shop the token is for (``iss`` and ``dest`` on the same shop's origin).
    if any(name not in claims for name in SESSION_CLAIMS):
        raise InvalidSessionToken("session token rejected: missing_claims")
    if urljoin(str(claims["iss"]), "/") != urljoin(str(claims["dest"]), "/"):
        raise InvalidSessionToken("session token rejected: issuer_mismatch")
    domain = urlparse(str(claims["dest"])).hostname or ""
    if not is_valid_shop_domain(domain):
        raise InvalidSessionToken("session token names no valid shop")
    return SessionToken(domain, claims.get("sub"), result.id_token.token)


@dataclass(frozen=True)
class CustomerAccountToken:
    domain: str  # the shop, from ``dest``
    customer_id: str  # the logged-in customer's gid, from ``sub``


_CUSTOMER_GID = re.compile(r"gid://shopify/Customer/[0-9]{1,20}")


def verify_customer_account_token(authorization: str, url: str, config: Config) -> CustomerAccountToken:
    """The shop and customer of a customer account UI extension's ``Authorization: Bearer <token>``,
    or :class:`InvalidSessionToken`. A token without a customer (``sub`` is only there for a
    signed-in customer of an app with protected customer data access) is refused too."""
    app = ShopifyApp(config.shopify_api_key, config.shopify_api_secret,
                     old_client_secret=config.shopify_api_secret_previous or None)
    result = app.verify_customer_account_ui_ext_req({"method": "GET", "headers": {"Authorization": authorization},
                                                     "url": url, "body": ""})
    if not result.ok or result.id_token is None:
        raise InvalidSessionToken(f"customer account token rejected: {result.log.code}")
    claims = result.id_token.claims
    # shopifyapp checks exp only when the token has one: a token that never expires is not Shopify's.
    if "exp" not in claims:
        raise InvalidSessionToken("customer account token rejected: missing_exp")
    dest = str(claims.get("dest") or "")
    domain = (urlparse(dest).hostname if "://" in dest else dest) or ""
    if not is_valid_shop_domain(domain):
        raise InvalidSessionToken("customer account token names no valid shop")
    customer = claims.get("sub")
    if not isinstance(customer, str) or not _CUSTOMER_GID.fullmatch(customer):
        raise InvalidSessionToken("customer account token names no signed-in customer")
    return CustomerAccountToken(domain, customer)


def webhook_is_authentic(body: bytes, hmac_header: str | None, config: Config) -> bool:
    """``X-Shopify-Hmac-Sha256`` matches the raw body."""
    # Ours, not shopifyapp's verify_webhook_req: the webhook front answers before Flask on the
    # busiest path, and that call wants the body as text (Shopify signs bytes), JSON-parses it
    # for its log on every delivery, and raises on a non-ASCII header instead of refusing it.
    return verify_webhook(body, hmac_header, _secrets(config))


def install_query_is_authentic(params: Mapping[str, str | Sequence[str]], config: Config) -> bool:
    """The ``hmac`` of an install or OAuth callback query matches (shopifyapp has no
    authorization code grant, so nothing to check this redirect with)."""
    return verify_query_hmac(params, _secrets(config))


def proxy_query_is_authentic(params: Mapping[str, str | Sequence[str]], config: Config) -> bool:
    """The ``signature`` of an app proxy query matches."""
    # Ours, not shopifyapp's verify_app_proxy_req: it checks the timestamp before the signature
    # and refuses both alike, where a forged query must get 401 and a signed but stale one 403;
    # and the storefront's stock front (FastStock) checks thousands of queries a second.
    return verify_proxy_signature(params, _secrets(config))
