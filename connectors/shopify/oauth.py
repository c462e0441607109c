"""Shopify OAuth token calls: authorization code grant, token exchange, refresh-token rotation.
:class:`ShopifyOAuth` is the :class:`~integration.domain.ports.ShopifyAuthorizer` port.

Token exchange goes through Shopify's ``shopifyapp`` package; the code grant and refresh are ours.

All three ask for *expiring offline* tokens (``expiring=1``): the access token lives ~60 minutes
and comes with a refresh token. Every refresh returns a new refresh token, so the caller must
persist the whole :class:`~integration.domain.authorization.TokenSet` it gets back (the old
refresh token stops working once the new one is used).
https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens
https://shopify.dev/changelog/offline-access-tokens-now-support-expiry-and-refresh
https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/token-exchange
https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant

Errors: ``invalid_grant`` (used, expired or revoked code/refresh token), ``invalid_client`` and
``invalid_subject_token`` -> :class:`AuthError` (the merchant must re-authorise); other 4xx ->
:class:`PermanentError`; 429, 5xx, timeouts -> :class:`RetryableError`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlencode

import httpx
import requests
from shopify_app import ShopifyApp, TokenExchangeAccessToken

from connectors.errors import AuthError, ConnectorError, PermanentError, RetryableError
from connectors.http import DEFAULT_TIMEOUT, make_session
from connectors.shopify.signatures import is_valid_shop_domain
from integration.domain.authorization import TokenSet

SYSTEM = "shopify"
_AUTH_ERRORS = {"invalid_grant", "invalid_client", "invalid_subject_token", "unauthorized_client"}


class ShopifyOAuth:
    def __init__(
        self,
        api_key: str,
        api_secret: str,
        *,
        endpoint: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.endpoint = endpoint.rstrip("/") if endpoint else None
        self.session = session or make_session()

    def __repr__(self) -> str:
        return f"ShopifyOAuth(api_key={self.api_key!r}, endpoint={self.endpoint!r})"

    # -- URLs ------------------------------------------------------------------------------
    def authorize_url(self, shop: str, scopes: Iterable[str] | str, redirect_uri: str, state: str) -> str:
        """Where to send the merchant to approve ``scopes`` (offline access: no
        ``grant_options[]``)."""
        _check_shop(shop)
        scope = scopes if isinstance(scopes, str) else ",".join(scopes)
        params = {
            "client_id": self.api_key,
            "scope": scope,
            "redirect_uri": redirect_uri,
            "state": state,
        }
        if self.endpoint:
            return f"{self.endpoint}/admin/oauth/authorize?{urlencode({'shop': shop, **params})}"
        return f"https://{shop}/admin/oauth/authorize?{urlencode(params)}"

    # -- grants ----------------------------------------------------------------------------
    def exchange_code(self, shop: str, code: str) -> TokenSet:
        """Authorization code grant, asking for an expiring offline token."""
        return self._token_request(shop, {"code": code, "expiring": "1"}, "exchange_code")

    def exchange_session_token(self, shop: str, session_token: str) -> TokenSet:
        """Token exchange: an App Bridge session token (ID token) for an expiring offline
        access token. The session token's signature is checked by Shopify; verify it yourself
        first (``aud`` = api key, ``dest`` = shop) before trusting its claims."""
        _check_shop(shop)
        # The token was verified by the caller; shopifyapp reads only the shop (``dest``) from it.
        id_token = {"exchangeable": True, "token": session_token, "claims": {"dest": f"https://{shop}"}}
        timeout = httpx.Timeout(DEFAULT_TIMEOUT[1], connect=DEFAULT_TIMEOUT[0])
        transport = _EndpointTransport(self.endpoint) if self.endpoint else None
        with httpx.Client(timeout=timeout, transport=transport) as client:
            result = ShopifyApp(self.api_key, self.api_secret).exchange_using_token_exchange(
                "offline", id_token=id_token, http_client=client)
        if result.ok and result.access_token is not None and result.access_token.token:
            return _exchanged_token_set(result.access_token)
        answered = next((entry.res for entry in reversed(result.http_logs) if entry.res.status), None)
        if answered is None:  # no answer from Shopify: a network error
            raise RetryableError(f"token exchange failed: {result.log.code}", system=SYSTEM,
                                 operation="exchange_session_token")
        raise _token_error(answered.status, _json_object(answered.body),
                           httpx.Headers(answered.headers).get("Retry-After"), "exchange_session_token")

    def refresh(self, shop: str, refresh_token: str) -> TokenSet:
        """Rotate: a new access token *and* a new refresh token. Persist both."""
        return self._token_request(
            shop,
            {"grant_type": "refresh_token", "refresh_token": refresh_token},
            "refresh",
        )

    # -- transport -------------------------------------------------------------------------
    # Ours for the code grant and refresh: shopifyapp has no authorization code grant, and its
    # refresh decides itself whether one is due and sleeps through a 429 inside the call, where we
    # refresh under a per-shop lock on our own schedule and hand Retry-After to the job's retry.
    def _token_request(self, shop: str, fields: dict[str, str], operation: str) -> TokenSet:
        _check_shop(shop)
        base = self.endpoint or f"https://{shop}"
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if self.endpoint:
            headers["Host"] = shop
        payload = {"client_id": self.api_key, "client_secret": self.api_secret, **fields}
        requested_at = time.time()
        try:
            response = self.session.post(f"{base}/admin/oauth/access_token", json=payload, headers=headers)
        except RetryableError as exc:
            exc.system, exc.operation = SYSTEM, operation
            raise
        except requests.RequestException as exc:
            raise RetryableError(
                f"{type(exc).__name__} calling Shopify OAuth", system=SYSTEM, operation=operation
            ) from exc
        body = _json_object(response.text)
        if response.status_code == 200 and body.get("access_token"):
            return _token_set(body, requested_at)
        raise _token_error(response.status_code, body, response.headers.get("Retry-After"), operation)


def _token_error(status: int, body: dict, retry_after: str | None, operation: str) -> ConnectorError:
    """What a refused token request means: retry later, re-authorise, or a bug on our side."""
    error = str(body.get("error") or "")
    description = str(body.get("error_description") or body.get("errors") or "")[:300]
    message = f"HTTP {status} {error}: {description}".strip()
    if status == 429 or status >= 500:
        return RetryableError(
            message,
            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
            system=SYSTEM,
            operation=operation,
        )
    if error in _AUTH_ERRORS or status in (401, 403):
        return AuthError(message, code=error or str(status), system=SYSTEM, operation=operation)
    return PermanentError(message, code=error or str(status), system=SYSTEM, operation=operation)


def _check_shop(shop: str) -> None:
    # The shop name goes into a URL we send our client secret to: only *.myshopify.com.
    if not is_valid_shop_domain(shop):
        raise PermanentError(f"not a shop domain: {shop!r}", field="shop", system=SYSTEM)


def _json_object(text: str) -> dict:
    try:
        body = json.loads(text)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _token_set(body: dict, requested_at: float) -> TokenSet:
    # Expiry is counted from when we asked, not when we parsed: errs on the early side.
    def at(seconds) -> datetime | None:
        if seconds in (None, ""):
            return None
        return datetime.fromtimestamp(requested_at + float(seconds), UTC)

    scope = body.get("scope") or ""
    return TokenSet(
        access_token=body["access_token"],
        scopes=_scopes(scope),
        expires_at=at(body.get("expires_in")),
        refresh_token=body.get("refresh_token"),
        refresh_token_expires_at=at(body.get("refresh_token_expires_in")),
    )


def _exchanged_token_set(token: TokenExchangeAccessToken) -> TokenSet:
    def at(iso: str | None) -> datetime | None:
        return datetime.fromisoformat(iso) if iso else None

    return TokenSet(
        access_token=token.token,
        scopes=_scopes(token.scope or ""),
        expires_at=at(token.expires),
        refresh_token=token.refresh_token,
        refresh_token_expires_at=at(token.refresh_token_expires),
    )


def _scopes(scope: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in scope.split(",") if s.strip())


class _EndpointTransport(httpx.HTTPTransport):
    """Sends shopifyapp's requests for ``https://{shop}/...`` to our endpoint (the sandbox
    emulator); the ``Host`` header keeps naming the shop, as ``_token_request`` does."""

    def __init__(self, endpoint: str) -> None:
        super().__init__()
        self.target = httpx.URL(endpoint)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme=self.target.scheme, host=self.target.host, port=self.target.port,
                                            path=self.target.path.rstrip("/") + request.url.path)
        return super().handle_request(request)
