"""Embedded-admin authentication: every admin JSON request carries an App Bridge session token.

https://shopify.dev/docs/apps/build/authentication-authorization/session-tokens
The token (HS256 JWT signed with the app secret) is checked by
:func:`integration.shops.verification.verify_session_token`: the signature, ``aud`` (our API key),
``exp``, ``nbf``, the standard claims and that ``iss`` and ``dest`` name the same shop. The shop
comes from the token and only from the token: no endpoint takes a shop parameter, so shop A's token
can never reach shop B. When the shop has no usable offline token yet, one is obtained by token
exchange.
"""

from __future__ import annotations

import functools

import structlog
from flask import current_app, g, request

from connectors.errors import ConnectorError
from integration.errors import APIError
from integration.shops import installation, verification
from integration.shops.shopify_authorizer import authorizer

log = structlog.get_logger(__name__)


class InvalidSessionError(APIError):
    def __init__(self, message: str) -> None:
        super().__init__(401, "invalid_session", message)

    def get_headers(self, environ=None, scope=None):
        # Tells App Bridge to fetch a fresh session token and retry once.
        return [*super().get_headers(environ, scope), ("X-Shopify-Retry-Invalid-Session-Request", "1")]


def require_session(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or len(header) > 4096:
            raise InvalidSessionError("missing bearer session token")
        try:
            session = verification.verify_session_token(header, request.url, current_app.config["NEARSTOCK"])
        except verification.InvalidSessionToken as exc:
            log.warning("session.rejected", path=request.path)
            raise InvalidSessionError(str(exc)) from None
        domain = session.domain
        shop = installation.get_installed(domain)
        if shop is None or not shop.access_token:
            try:
                tokens = authorizer().exchange_session_token(domain, session.token)
            except ConnectorError as exc:
                log.warning("session.token_exchange_failed", shop=domain, error=str(exc))
                raise InvalidSessionError("could not obtain an access token for this shop") from None
            shop = installation.store_tokens(domain, tokens, installing=True)
        g.shop = shop
        g.shopify_user = session.user
        structlog.contextvars.bind_contextvars(shop=domain)
        return view(*args, **kwargs)

    return wrapper
