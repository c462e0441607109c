"""A 3PL account's credentials and endpoint, and the provider's own verdict on them. The checks
here are generic (key shapes, sizes, an endpoint that cannot point our servers elsewhere); the
provider itself is the validation: :func:`list_sites` builds its connector and lists its
warehouses, turning every failure into a :class:`SetupError` whose message never echoes a secret.
Call it before the session writes anything: a provider call logs itself through a second
connection (``record_call``), which an open SQLite write transaction would block.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

import structlog

from connectors.errors import AuthError, ConnectorError, PermanentError, RetryableError
from integration.domain.warehousing import WarehouseSite
from integration.models import WarehouseAccount
from integration.warehouses.providers import build_provider, provider_class, provider_for
from integration.warehouses.setup_validation import InvalidError, ProviderError, SetupError, short_text

log = structlog.get_logger(__name__)

MAX_CREDENTIAL_KEYS = 20
MAX_CREDENTIAL_VALUE = 4096
MAX_CREDENTIALS_JSON = 16 * 1024
_CREDENTIAL_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


# How the merchant knows each provider, in the order the connect form offers them.
PROVIDER_LABELS = {"winit": "WINIT", "goodcang": "Goodcang", "shipbob": "ShipBob", "fba": "Amazon FBA"}


def credentials(value, field: str = "credentials") -> dict[str, str]:
    """Generic checks only: each provider's own keys are proven by calling it (list_warehouses)."""
    if not isinstance(value, Mapping) or not value:
        raise InvalidError(field, "must be a non-empty object of string values")
    if len(value) > MAX_CREDENTIAL_KEYS:
        raise InvalidError(field, f"at most {MAX_CREDENTIAL_KEYS} keys")
    out = {}
    for key, secret in value.items():
        if not isinstance(key, str) or not _CREDENTIAL_KEY.match(key):
            raise InvalidError(field, "keys are letters, digits, '_', '.' or '-' (at most 64)")
        if not isinstance(secret, str) or not secret.strip():
            raise InvalidError(f"{field}.{key}", "must be a non-empty string")
        if len(secret) > MAX_CREDENTIAL_VALUE:
            raise InvalidError(f"{field}.{key}", f"must be at most {MAX_CREDENTIAL_VALUE} characters")
        out[key] = secret.strip()
    if len(json.dumps(out)) > MAX_CREDENTIALS_JSON:
        raise InvalidError(field, "too large")
    return out


def endpoint(value, provider: str, *, allow_any: bool) -> str | None:
    """An API endpoint override. Outside production any http(s) URL (the sandbox emulators);
    in production only https on the provider's own domain, so an account can never point our
    servers, with its credentials, at an arbitrary host."""
    value = short_text(value, "endpoint", 500)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password \
            or parts.query or parts.fragment:
        raise InvalidError("endpoint", "must be an http(s) URL without credentials, query or fragment")
    if allow_any:
        return value.rstrip("/")
    domain = _vendor_domain(urlsplit(_provider_class(provider).default_endpoint or "").hostname or "")
    host = parts.hostname.lower()
    if parts.scheme != "https" or not domain or not (host == domain or host.endswith("." + domain)):
        raise InvalidError("endpoint", f"must be an https URL on {domain or 'the provider domain'}")
    return value.rstrip("/")


def _vendor_domain(default_host: str) -> str:
    """The parent domain of the provider's default host (api.shipbob.com -> shipbob.com,
    openapi.winit.com.cn -> winit.com.cn), never a public suffix such as com.cn."""
    labels = default_host.lower().split(".")
    parent = labels[1:] if len(labels) >= 3 else labels
    if len(parent) < 2 or (len(parent) == 2 and parent[0] in ("com", "net", "org", "co", "gov", "edu", "ac")):
        return default_host.lower()
    return ".".join(parent)


def _provider_class(provider: str):
    try:
        return provider_class(provider)
    except (KeyError, ImportError) as exc:
        raise SetupError(f"the {provider} connector is not available", code="provider_not_available",
                         status=503) from exc


def list_sites(shop_id: int, provider: str, creds: dict[str, str], url: str | None, *,
               account: WarehouseAccount | None = None, account_key: str = "") -> list[WarehouseSite]:
    """The provider's warehouses, which proves the credentials and endpoint work."""
    _provider_class(provider)  # 503 when the connector is not installed
    label = PROVIDER_LABELS.get(provider, provider)
    connector = None
    try:
        if account is not None:
            connector = provider_for(account)
        else:  # the account is not stored (yet, or with these credentials): same build, explicit values
            connector = build_provider(shop_id, provider, creds, account_key=account_key, endpoint=url)
        return list(connector.list_warehouses())
    except AuthError as exc:
        if connector is None:  # refused when built: a required key is missing or malformed
            raise InvalidError("credentials", f"incomplete for {label}: {_scrub(exc, creds)}",
                               code="credentials_incomplete") from exc
        raise SetupError(f"{label} refused the credentials: {_scrub(exc, creds)}", field="credentials",
                         code="credentials_rejected", status=422) from exc
    except PermanentError as exc:
        raise SetupError(f"{label} rejected the request: {_scrub(exc, creds)}", code="provider_rejected",
                         status=422) from exc
    except RetryableError as exc:
        raise ProviderError(f"could not reach {label}; try again shortly ({_scrub(exc, creds)})",
                            retry_after=exc.retry_after) from exc
    except ConnectorError as exc:
        raise ProviderError(f"{label} failed: {_scrub(exc, creds)}") from exc
    except Exception as exc:  # a connector bug or an unexpected answer: a failure, never a 500
        if connector is None and isinstance(exc, KeyError | TypeError | ValueError):
            raise InvalidError("credentials", f"not accepted by the {label} connector ({type(exc).__name__})",
                               code="credentials_invalid") from exc
        log.exception("warehouse_setup.provider_failed", shop_id=shop_id, provider=provider)
        raise ProviderError(f"{label} gave an answer we could not read ({type(exc).__name__})",
                            code="provider_error") from exc


def _scrub(exc: Exception, creds: Mapping[str, str]) -> str:
    """The connector's message, without any credential value that might have been echoed."""
    message = str(exc)[:300]
    for secret in creds.values():
        if len(secret) >= 4:
            message = message.replace(secret, "***")
    return message
