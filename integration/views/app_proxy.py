"""App proxy requests (``https://{shop}/apps/nearstock/...`` forwarded by Shopify to ``/proxy``).

https://shopify.dev/docs/apps/build/online-store/app-proxies/authenticate-app-proxies
Every request is verified before anything else: the ``signature`` query parameter (hex
HMAC-SHA256 of the other parameters, sorted, repeated keys joined with ``,``, pairs concatenated
with no separator) in constant time, a ``timestamp`` within 90 seconds, and a ``shop`` that has
the app installed. The customer, when logged in, is Shopify's ``logged_in_customer_id`` of the
signed request — never a parameter the browser chose. Missing or forged signature: 401; stale
timestamp or unknown shop: 403. Responses are JSON (``application/json`` is passed through by
Shopify unchanged), so nothing a shopper sends is ever rendered as Liquid.
"""

from __future__ import annotations

import functools
import re

import structlog
from flask import current_app, g, request

from connectors.untrusted_input import seconds_since
from integration.errors import APIError
from integration.shops import installation
from integration.shops.verification import is_valid_shop_domain, proxy_query_is_authentic

log = structlog.get_logger(__name__)

TIMESTAMP_WINDOW = 90  # seconds
_SHOPIFY_ID = re.compile(r"[0-9]{1,20}")  # Shopify ids are 64-bit


def verified_proxy_params() -> dict[str, str | list[str]]:
    """The query as Shopify signed it (repeated keys as lists), or a 401/403."""
    params: dict[str, str | list[str]] = {}
    for key in request.args:
        values = request.args.getlist(key)
        params[key] = values if len(values) > 1 else values[0]
    if not proxy_query_is_authentic(params, current_app.config["NEARSTOCK"]):
        log.warning("proxy.bad_signature", path=request.path)
        raise APIError(401, "invalid_signature", "app proxy signature missing or invalid")
    age = seconds_since(params.get("timestamp"))
    if age is None:
        raise APIError(403, "stale_request", "timestamp missing")
    if abs(age) > TIMESTAMP_WINDOW:
        log.warning("proxy.stale", path=request.path, age=int(age))
        raise APIError(403, "stale_request", "request timestamp outside the allowed window")
    return params


def signed_customer(params: dict[str, str | list[str]]) -> str | None:
    """The gid of the signed ``logged_in_customer_id``; None when logged out (or not a Shopify id)."""
    customer = params.get("logged_in_customer_id")
    if isinstance(customer, str) and _SHOPIFY_ID.fullmatch(customer):
        return f"gid://shopify/Customer/{customer}"
    return None


def require_proxy(view):
    """Verify the app-proxy signature; sets ``g.shop`` and ``g.customer_id`` (None if logged out)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        params = verified_proxy_params()
        domain = str(params.get("shop", ""))
        shop = installation.get_installed(domain) if is_valid_shop_domain(domain) else None
        if shop is None:
            log.warning("proxy.unknown_shop", shop=domain[:255])
            raise APIError(403, "unknown_shop", "the app is not installed on this shop")
        g.shop = shop
        g.customer_id = signed_customer(params)
        structlog.contextvars.bind_contextvars(shop=shop.domain)
        return view(*args, **kwargs)

    return wrapper
