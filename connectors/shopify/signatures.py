"""Shopify's three signature schemes, each checked on the exact bytes Shopify signed.

* Webhooks: base64 HMAC-SHA256 of the raw request body, header ``X-Shopify-Hmac-Sha256``.
  https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-5-verify-the-webhook
* OAuth / install redirects: hex HMAC-SHA256 of the query minus ``hmac``, ``k=v`` pairs sorted and
  joined with ``&``. https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant
* App proxy: hex HMAC-SHA256 of the query minus ``signature``, sorted, repeated keys joined with
  ``,``, pairs concatenated with no separator.
  https://shopify.dev/docs/apps/build/online-store/app-proxies/authenticate-app-proxies

Every comparison is constant time. Several secrets may be passed so that requests signed with the
previous app secret still verify during a secret rotation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence

SHOP_DOMAIN_RE = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")


def is_valid_shop_domain(shop: str | None) -> bool:
    """True for ``name.myshopify.com`` and nothing else (no ports, paths or look-alike suffixes)."""
    return bool(shop) and len(shop) <= 255 and SHOP_DOMAIN_RE.fullmatch(shop) is not None


def _secrets(secrets: str | Iterable[str]) -> list[bytes]:
    items = [secrets] if isinstance(secrets, str) else list(secrets)
    return [s.encode() for s in items if s]


def verify_webhook(body: bytes, header_value: str | None, secrets: str | Iterable[str]) -> bool:
    if not header_value:
        return False
    given = header_value.strip().encode()
    for secret in _secrets(secrets):
        expected = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest())
        if hmac.compare_digest(expected, given):
            return True
    return False


def _query_message(
    params: Mapping[str, str | Sequence[str]], exclude: str, sep: str, join: str
) -> bytes:
    pairs = []
    for key in sorted(k for k in params if k != exclude):
        value = params[key]
        value = ",".join(value) if isinstance(value, list | tuple) else value
        pairs.append(f"{key}={value}")
    return join.join(pairs).encode()


def query_hmac(params: Mapping[str, str | Sequence[str]], secret: str) -> str:
    """Hex HMAC for OAuth/install query strings (``hmac`` excluded, ``&``-joined)."""
    return hmac.new(
        secret.encode(), _query_message(params, "hmac", "=", "&"), hashlib.sha256
    ).hexdigest()


def verify_query_hmac(
    params: Mapping[str, str | Sequence[str]], secrets: str | Iterable[str]
) -> bool:
    given = params.get("hmac")
    if not isinstance(given, str) or not given:
        return False
    message = _query_message(params, "hmac", "=", "&")
    return any(
        hmac.compare_digest(hmac.new(s, message, hashlib.sha256).hexdigest(), given)
        for s in _secrets(secrets)
    )


def proxy_signature(params: Mapping[str, str | Sequence[str]], secret: str) -> str:
    """Hex HMAC for app-proxy requests (``signature`` excluded, no separator between pairs)."""
    return hmac.new(
        secret.encode(), _query_message(params, "signature", "=", ""), hashlib.sha256
    ).hexdigest()


def verify_proxy_signature(
    params: Mapping[str, str | Sequence[str]], secrets: str | Iterable[str]
) -> bool:
    given = params.get("signature")
    if not isinstance(given, str) or not given:
        return False
    message = _query_message(params, "signature", "=", "")
    return any(
        hmac.compare_digest(hmac.new(s, message, hashlib.sha256).hexdigest(), given)
        for s in _secrets(secrets)
    )
