"""Login with Amazon: access tokens for every call, and seller authorization of our application.

Access tokens: :class:`LwaTokenClient` is the library's ``AccessTokenClient`` (``grant_type=
refresh_token``) pointed at a configurable LWA URL -- the library builds the URL from the class
attributes ``scheme + host + path`` -- with our own cache. The library's cache is process-global,
keyed by the refresh token alone (not the LWA URL or client id) and keeps a token 3200 s whatever
``expires_in`` says; ours is keyed by (URL, client id, refresh-token hash), honours ``expires_in``
and is dropped by :meth:`LwaTokenClient.invalidate` when the API answers 403 (expired or revoked).

Seller authorization (website workflow):

1. :func:`consent_url`: send the seller to Seller Central's consent page for their region with our
   ``application_id`` (the SP-API app id, not the LWA client id) and a fresh ``state``;
   ``version=beta`` while the app is in draft; ``redirect_uri`` picks one of the registered URIs.
2. Amazon redirects to our redirect URI with ``state``, ``selling_partner_id`` and
   ``spapi_oauth_code``; :func:`parse_callback` checks the state in constant time.
3. :func:`exchange_code`: within five minutes, POST the code to the LWA token endpoint
   (``grant_type=authorization_code``; the library's body lacks ``redirect_uri``, we add it); the
   answer holds the seller's long-lived refresh token.
https://developer-docs.amazon.com/sp-api/docs/website-authorization-workflow
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import httpx
from sp_api.auth import AccessTokenClient, AccessTokenResponse

from connectors.errors import AuthError, PermanentError, RetryableError
from connectors.http import USER_AGENT
from integration.domain.authorization import ConsentCallback, SellerAuthorization

DEFAULT_LWA_URL = "https://api.amazon.com/auth/o2/token"
DEFAULT_TIMEOUT = (5.0, 30.0)
TOKEN_MARGIN = 60.0
"""Seconds before ``expires_in`` at which a cached access token is renewed."""


@dataclass(frozen=True)
class LwaCredentials:
    """LWA client credentials of our application plus one seller's refresh token."""

    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)

    def library_credentials(self) -> dict[str, str]:
        return {"lwa_app_id": self.client_id, "lwa_client_secret": self.client_secret}


_tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()


class LwaTokenClient(AccessTokenClient):
    """``AccessTokenClient`` against a configurable LWA URL with an expiry-aware token cache."""

    def __init__(self, refresh_token=None, credentials=None, proxies=None, verify=True, *,
                 token_url: str = DEFAULT_LWA_URL, timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(refresh_token=refresh_token, credentials=credentials, proxies=proxies, verify=verify)
        parts = urlsplit(token_url)
        self.scheme, self.host, self.path = f"{parts.scheme}://", parts.netloc, parts.path or "/auth/o2/token"
        self._transport.close()  # the parent's, built without our timeout
        self._transport = type(self._transport)(timeout=httpx.Timeout(timeout[1], connect=timeout[0]),
                                                proxies=proxies, verify=verify)
        self.clock = clock
        self.user_agent = USER_AGENT

    def __repr__(self) -> str:
        return f"<LwaTokenClient {self.scheme}{self.host}{self.path}>"

    @property
    def token_url(self) -> str:
        return f"{self.scheme}{self.host}{self.path}"

    def _cache_key(self) -> tuple[str, str, str]:
        digest = hashlib.sha256((self.cred.refresh_token or "").encode()).hexdigest()
        return self.token_url, self.cred.client_id or "", digest

    def _request(self, url, data, headers):
        try:
            response = self._transport.request("POST", url, data=data, headers=headers)
        except httpx.HTTPError as exc:
            raise RetryableError(f"LWA unreachable: {type(exc).__name__}", system="amazon", operation="lwa") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code == 200 and body.get("access_token"):
            return body
        code = str(body.get("error") or f"http_{response.status_code}")
        message = f"LWA refused the token request: {code}"
        if response.status_code >= 500 or response.status_code == 429:
            raise RetryableError(message, system="amazon", operation="lwa")
        # invalid_grant: refresh token revoked / code used or expired; invalid_client: wrong app credentials.
        raise AuthError(message, code=code, system="amazon", operation="lwa")

    def get_auth(self) -> AccessTokenResponse:
        key = self._cache_key()
        now = self.clock()
        with _tokens_lock:
            cached = _tokens.get(key)
        if cached and cached[1] - TOKEN_MARGIN > now:
            return AccessTokenResponse(access_token=cached[0], token_type="bearer",  # noqa: S106
                                       expires_in=int(cached[1] - now))
        body = self._request(self.token_url, self.data, self.headers)
        expires_in = float(body.get("expires_in") or 3600)
        with _tokens_lock:
            _tokens[key] = (body["access_token"], now + expires_in)
        return AccessTokenResponse(**body)

    def close(self) -> None:
        self._transport.close()

    def invalidate(self) -> None:
        with _tokens_lock:
            _tokens.pop(self._cache_key(), None)

    def authorize_auth_code(self, auth_code, redirect_uri: str | None = None) -> dict:
        """Exchange an ``spapi_oauth_code`` for tokens (``grant_type=authorization_code``)."""
        data = self._auth_code_request_body(auth_code)
        if redirect_uri:
            data["redirect_uri"] = redirect_uri
        return self._request(self.token_url, data, self.headers)


class LibraryCredentials:
    """The attribute names ``sp_api.auth.Credentials`` reads."""

    def __init__(self, credentials: LwaCredentials) -> None:
        self.lwa_app_id = credentials.client_id
        self.lwa_client_secret = credentials.client_secret
        self.refresh_token = credentials.refresh_token

    def __repr__(self) -> str:
        return "<credentials>"


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


def parse_callback(query: Mapping[str, str], *, expected_state: str) -> ConsentCallback:
    """Check the redirect's ``state`` against ours and return the seller id and one-time code."""
    state = query.get("state") or ""
    if not expected_state or not hmac.compare_digest(state.encode(), expected_state.encode()):
        raise AuthError("authorization state mismatch", code="bad_state", system="amazon", operation="consent")
    code, seller = query.get("spapi_oauth_code"), query.get("selling_partner_id")
    if not code or not seller:
        raise AuthError("authorization callback without code or seller", code="no_code", system="amazon",
                        operation="consent")
    return ConsentCallback(selling_partner_id=seller, code=code)


def exchange_code(code: str, *, client_id: str, client_secret: str, redirect_uri: str | None = None,
                  token_url: str = DEFAULT_LWA_URL, selling_partner_id: str | None = None,
                  timeout: tuple[float, float] = DEFAULT_TIMEOUT) -> SellerAuthorization:
    """Trade an ``spapi_oauth_code`` for the seller's refresh token (store it encrypted)."""
    tokens = LwaTokenClient(credentials=LibraryCredentials(LwaCredentials(client_id, client_secret)),
                            token_url=token_url, timeout=timeout)
    try:
        body = tokens.authorize_auth_code(code, redirect_uri=redirect_uri)
    finally:
        tokens.close()
    if not body.get("refresh_token"):
        raise AuthError("LWA returned no refresh token", code="no_refresh_token", system="amazon", operation="lwa")
    return SellerAuthorization(selling_partner_id=selling_partner_id, refresh_token=body["refresh_token"],
                               access_token=body["access_token"], expires_in=int(body.get("expires_in") or 3600))
