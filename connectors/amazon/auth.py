"""Seller authorization of our public SP-API application (website authorization workflow).

1. :func:`consent_url`: send the seller to Seller Central's consent page for their region with our
   ``application_id`` (the SP-API app id, not the LWA client id) and a fresh ``state``;
   ``version=beta`` while the app is in draft; ``redirect_uri`` picks one of the registered URIs.
2. Amazon redirects to our redirect URI with ``state``, ``selling_partner_id`` and
   ``spapi_oauth_code``; :func:`parse_callback` checks the state in constant time.
3. :func:`exchange_code`: within five minutes, POST the code to the LWA token endpoint
   (``grant_type=authorization_code``); the answer holds the seller's long-lived refresh token.
https://developer-docs.amazon.com/sp-api/docs/website-authorization-workflow
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from connectors.errors import AuthError, PermanentError

from .client import DEFAULT_LWA_URL, DEFAULT_TIMEOUT, LibraryCredentials, LwaCredentials, LwaTokenClient

# marketplace id -> Seller Central (https://developer-docs.amazon.com/sp-api/docs/seller-central-urls)
SELLER_CENTRAL = {
    "ATVPDKIKX0DER": "https://sellercentral.amazon.com", "A2EUQ1WTGCTBG2": "https://sellercentral.amazon.ca",
    "A1AM78C64UM0Y8": "https://sellercentral.amazon.com.mx", "A2Q3Y263D00KWC": "https://sellercentral.amazon.com.br",
    "A1RKKUPIHCS9HS": "https://sellercentral-europe.amazon.com",
    "A1F83G8C2ARO7P": "https://sellercentral-europe.amazon.com",
    "A13V1IB3VIYZZH": "https://sellercentral-europe.amazon.com",
    "A1PA6795UKMFR9": "https://sellercentral-europe.amazon.com",
    "APJ6JRA9NG5V4": "https://sellercentral-europe.amazon.com",
    "AMEN7PMS3EDWL": "https://sellercentral.amazon.com.be", "A1805IZSGTT6HS": "https://sellercentral.amazon.nl",
    "A2NODRKZP88ZB9": "https://sellercentral.amazon.se", "A1C3SOZRARQ6R3": "https://sellercentral.amazon.pl",
    "ARBP9OOSHTCHU": "https://sellercentral.amazon.eg", "A33AVAJ2PDY3EV": "https://sellercentral.amazon.com.tr",
    "A17E79C6D8DWNP": "https://sellercentral.amazon.sa", "A2VIGQ35RCS4UG": "https://sellercentral.amazon.ae",
    "A21TJRUUN4KGV": "https://sellercentral.amazon.in", "A19VAU5U5O7RUS": "https://sellercentral.amazon.sg",
    "A39IBJ37TRP1C6": "https://sellercentral.amazon.com.au", "A1VC38T7YXB528": "https://sellercentral.amazon.co.jp",
}
CONSENT_PATH = "/apps/authorize/consent"


def new_state() -> str:
    """An unguessable ``state`` to store in the merchant's session before redirecting."""
    return secrets.token_urlsafe(32)


def consent_url(application_id: str, state: str, *, marketplace_id: str = "ATVPDKIKX0DER",
                redirect_uri: str | None = None, beta: bool = False, seller_central_url: str | None = None) -> str:
    """Where to send a seller to authorize the application."""
    base = seller_central_url or SELLER_CENTRAL.get(marketplace_id)
    if not base:
        raise PermanentError(f"no Seller Central known for {marketplace_id}", code="unknown_marketplace",
                             system="amazon")
    query = {"application_id": application_id, "state": state}
    if redirect_uri:
        query["redirect_uri"] = redirect_uri
    if beta:
        query["version"] = "beta"
    return f"{base.rstrip('/')}{CONSENT_PATH}?{urlencode(query)}"


@dataclass(frozen=True)
class Callback:
    selling_partner_id: str
    code: str = field(repr=False)


def parse_callback(query: Mapping[str, str], *, expected_state: str) -> Callback:
    """Check the redirect's ``state`` against ours and return the seller id and one-time code."""
    state = query.get("state") or ""
    if not expected_state or not hmac.compare_digest(state.encode(), expected_state.encode()):
        raise AuthError("authorization state mismatch", code="bad_state", system="amazon", operation="consent")
    code, seller = query.get("spapi_oauth_code"), query.get("selling_partner_id")
    if not code or not seller:
        raise AuthError("authorization callback without code or seller", code="no_code", system="amazon",
                        operation="consent")
    return Callback(selling_partner_id=seller, code=code)


@dataclass(frozen=True)
class SellerAuthorization:
    selling_partner_id: str | None
    refresh_token: str = field(repr=False)
    access_token: str = field(repr=False)
    expires_in: int


def exchange_code(code: str, *, client_id: str, client_secret: str, redirect_uri: str | None = None,
                  token_url: str = DEFAULT_LWA_URL, selling_partner_id: str | None = None,
                  timeout: tuple[float, float] = DEFAULT_TIMEOUT) -> SellerAuthorization:
    """Trade an ``spapi_oauth_code`` for the seller's refresh token (store it encrypted)."""
    tokens = LwaTokenClient(credentials=LibraryCredentials(LwaCredentials(client_id, client_secret)),
                            token_url=token_url, timeout=timeout)
    body = tokens.authorize_auth_code(code, redirect_uri=redirect_uri)
    if not body.get("refresh_token"):
        raise AuthError("LWA returned no refresh token", code="no_refresh_token", system="amazon", operation="lwa")
    return SellerAuthorization(selling_partner_id=selling_partner_id, refresh_token=body["refresh_token"],
                               access_token=body["access_token"], expires_in=int(body.get("expires_in") or 3600))
