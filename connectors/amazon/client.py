"""SP-API clients, one per seller account and marketplace, on top of python-amazon-sp-api.

What we take from the library (``python-amazon-sp-api`` 2.1.x): Login with Amazon token exchange
(:class:`sp_api.auth.AccessTokenClient`), request preparation and the httpx transport
(``sp_api.base.Client._request``), and its exception classes. What we change, and why:

* **Endpoint and LWA URL are configurable** so the emulator (or Amazon's sandbox) can stand in:
  ``Client`` takes its endpoint from a ``Marketplaces`` member, so we set ``endpoint`` and
  ``marketplace_id`` after construction (which also defeats the ``SP_API_DEFAULT_MARKETPLACE``
  environment override); ``AccessTokenClient`` builds its URL from the class attributes
  ``scheme + host + path``, which :class:`LwaTokenClient` sets from ``token_url``.
* **Host header**: ``Client.headers`` sends ``host: endpoint[8:]``, i.e. it assumes ``https://``; for
  ``http://127.0.0.1:5000`` that yields ``27.0.0.1:5000``. We derive it with ``urlsplit``.
* **Access tokens**: :class:`connectors.amazon.auth.LwaTokenClient` (configurable LWA URL, a cache
  that honours ``expires_in``); a 403 ``Unauthorized`` drops the token, we refresh once and retry.
* **Status codes**: the library's ``parse_response`` raises only when the body has ``errors``; a
  5xx with an HTML body comes back as an empty success. We raise on every status >= 400.
* **Plain requests**: we call ``_request`` with explicit, model-shaped parameters and
  ``add_marketplace=False``. Several per-API helpers add stray keys: ``create_feed`` and
  ``create_feed_document`` send ``path`` inside the JSON body, GET helpers add ``MarketplaceId``,
  ``MarketplaceIds`` and ``marketplace_ids``, list query values go out as repeated keys where the
  models say CSV, and ``create_feed_document`` uploads with ``str.encode('iso-8859-1')``.
* **Orders 2026-01-01**: 2.1.35 ships ``OrdersV20260101`` (``Orders(version="2026-01-01")``) with
  ``search_orders`` and ``get_order``; we call the same paths through ``_request`` like everything else.

Credentials (refresh token, LWA client id/secret) never appear in logs, reprs or call records.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from sp_api.base import Marketplaces, SellingApiException
from sp_api.base.client import Client
from sp_api.base.credential_provider import FromCodeCredentialProvider
from sp_api.base.exceptions import get_exception_for_code

from connectors.call_record import EXCERPT, CallRecord
from connectors.errors import AuthError, ConnectorError, PermanentError, RetryableError
from connectors.http import USER_AGENT, make_session

from .auth import DEFAULT_LWA_URL, DEFAULT_TIMEOUT, LibraryCredentials, LwaCredentials, LwaTokenClient
from .throttle import OperationThrottle, QuotaExceededError, announced_rate


class _NoSecretsInLibraryLogs(logging.Filter):
    """``sp_api.base.client`` logs request headers (the access token), parameters, bodies (buyer data)
    and responses at DEBUG: drop those records whatever level someone gives that logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(("Request Headers", "Request Data", "Request Params", "Response"))


logging.getLogger("sp_api.base.client").addFilter(_NoSecretsInLibraryLogs())

PII_KEYS = frozenset({
    "buyer", "recipient", "deliveryAddress", "destinationAddress", "shippingAddress", "ShippingAddress",
    "BuyerInfo", "BuyerEmail", "BuyerName", "buyerEmail", "buyerName", "notificationEmails", "phone", "Phone",
    "addressLine1", "addressLine2", "addressLine3", "AddressLine1", "AddressLine2", "name", "Name", "signedForBy",
})


@dataclass(frozen=True)
class Operation:
    key: str  # "orders.searchOrders": api name . operationId of the model
    method: str
    path: str  # the model's path template, e.g. "/orders/2026-01-01/orders/{orderId}"

    def render(self, values: Mapping[str, Any]) -> str:
        return self.path.format(**{k: quote(str(v), safe="") for k, v in values.items()})


OPERATIONS: dict[str, Operation] = {op.key: op for op in (
    Operation("orders.searchOrders", "GET", "/orders/2026-01-01/orders"),
    Operation("orders.getOrder", "GET", "/orders/2026-01-01/orders/{orderId}"),
    Operation("ordersV0.getOrders", "GET", "/orders/v0/orders"),
    Operation("ordersV0.getOrder", "GET", "/orders/v0/orders/{orderId}"),
    Operation("ordersV0.getOrderItems", "GET", "/orders/v0/orders/{orderId}/orderItems"),
    Operation("ordersV0.getOrderAddress", "GET", "/orders/v0/orders/{orderId}/address"),
    Operation("ordersV0.confirmShipment", "POST", "/orders/v0/orders/{orderId}/shipmentConfirmation"),
    Operation("listings.patchListingsItem", "PATCH", "/listings/2021-08-01/items/{sellerId}/{sku}"),
    Operation("listings.getListingsItem", "GET", "/listings/2021-08-01/items/{sellerId}/{sku}"),
    Operation("feeds.createFeedDocument", "POST", "/feeds/2021-06-30/documents"),
    Operation("feeds.createFeed", "POST", "/feeds/2021-06-30/feeds"),
    Operation("feeds.getFeed", "GET", "/feeds/2021-06-30/feeds/{feedId}"),
    Operation("feeds.getFeedDocument", "GET", "/feeds/2021-06-30/documents/{feedDocumentId}"),
    Operation("fbaInventory.getInventorySummaries", "GET", "/fba/inventory/v1/summaries"),
    Operation("fbaOutbound.createFulfillmentOrder", "POST", "/fba/outbound/2020-07-01/fulfillmentOrders"),
    Operation("fbaOutbound.getFulfillmentOrder", "GET",
              "/fba/outbound/2020-07-01/fulfillmentOrders/{sellerFulfillmentOrderId}"),
    Operation("fbaOutbound.cancelFulfillmentOrder", "PUT",
              "/fba/outbound/2020-07-01/fulfillmentOrders/{sellerFulfillmentOrderId}/cancel"),
    Operation("fbaOutbound.getPackageTrackingDetails", "GET", "/fba/outbound/2020-07-01/tracking"),
    Operation("tokens.createRestrictedDataToken", "POST", "/tokens/2021-03-01/restrictedDataToken"),
)}


def marketplace(marketplace_id: str) -> Marketplaces:
    """The library's marketplace entry (production endpoint, region) for a marketplace id."""
    for member in Marketplaces:
        if member.marketplace_id == marketplace_id:
            return member
    raise PermanentError(f"unknown Amazon marketplace {marketplace_id!r}", code="unknown_marketplace",
                         system="amazon")


def country_of(marketplace_id: str) -> str:
    name = marketplace(marketplace_id).name
    return "GB" if name == "UK" else name


def region_of(marketplace_id: str) -> str:
    """``na``, ``eu`` or ``fe``: the SP-API region serving the marketplace."""
    host = urlsplit(marketplace(marketplace_id).endpoint).hostname or ""
    return host.split(".")[0].rsplit("-", 1)[-1]  # sellingpartnerapi-eu.amazon.com -> eu


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict
    headers: dict = field(repr=False)

    @property
    def rate_limit(self) -> float | None:
        return announced_rate(self.headers)


class _LibraryClient(Client):
    """The library's ``Client`` with a correct Host header and strict status handling."""

    user_agent = USER_AGENT

    @property
    def headers(self):
        headers = super().headers
        headers["host"] = urlsplit(self.endpoint).netloc
        return headers

    def _check_response(self, res, res_no_data=False, bulk=False, wrap_list=False):
        try:
            body = res.json() if res.content else {}
        except ValueError:
            body = None
        errors = body.get("errors") if isinstance(body, dict) else None
        if res.status_code >= 400 or errors:
            if not isinstance(errors, list) or not errors:
                errors = [{"code": f"HTTP{res.status_code}", "message": (res.text or "")[:300]}]
            exc = get_exception_for_code(res.status_code)(errors, headers=res.headers)
            exc.status_code = res.status_code
            raise exc
        return Reply(res.status_code, body if isinstance(body, dict) else {}, dict(res.headers))


def redact(value: Any) -> Any:
    """Drop buyer names, addresses, phones and emails from a payload (for call records)."""
    if isinstance(value, dict):
        return {k: ("<redacted>" if k in PII_KEYS else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def encode_query(params: Mapping[str, Any]) -> dict[str, str]:
    """Query values as the models want them: lists as CSV (Swagger 2.0's default
    ``collectionFormat``), booleans lower-case, datetimes ISO 8601 UTC."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            value = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, datetime):
            value = iso(value)
        out[key] = str(value)
    return out


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SpApiClient:
    """Calls of one seller account in one marketplace. Thread-safe (one library client per thread)."""

    def __init__(self, credentials: LwaCredentials, *, selling_partner_id: str, marketplace_id: str, redis,
                 endpoint: str | None = None, token_url: str | None = None,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT, max_wait: float = 60.0,
                 on_call: Callable[[CallRecord], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not (credentials.client_id and credentials.client_secret and credentials.refresh_token):
            raise AuthError("Amazon credentials incomplete", code="missing_credentials", system="amazon")
        self.credentials = credentials
        self.selling_partner_id = selling_partner_id
        self.marketplace_id = marketplace_id
        self.endpoint = (endpoint or marketplace(marketplace_id).endpoint).rstrip("/")
        self.token_url = token_url or DEFAULT_LWA_URL
        self.timeout = timeout
        self.on_call = on_call
        self.throttle = OperationThrottle(redis, f"{selling_partner_id}@{urlsplit(self.endpoint).netloc}",
                                          max_wait=max_wait, sleep=sleep)
        self.tokens = LwaTokenClient(refresh_token=credentials.refresh_token,
                                     credentials=LibraryCredentials(credentials), token_url=self.token_url,
                                     timeout=timeout)
        self._local = threading.local()
        self._opened: list[_LibraryClient] = []
        self._documents = None

    def __repr__(self) -> str:
        return f"<SpApiClient {self.selling_partner_id} {self.marketplace_id} {self.endpoint}>"

    def _library(self) -> _LibraryClient:
        client = getattr(self._local, "client", None)
        if client is None:
            client = _LibraryClient(
                credentials=self.credentials.library_credentials(), refresh_token=self.credentials.refresh_token,
                credential_providers=(FromCodeCredentialProvider,),
                timeout=httpx.Timeout(self.timeout[1], connect=self.timeout[0]),
                auth_token_client_class=lambda **kwargs: self.tokens)
            client.endpoint, client.marketplace_id = self.endpoint, self.marketplace_id
            self._local.client = client
            self._opened.append(client)
        return client

    def call(self, operation: str | Operation, *, path: Mapping[str, Any] | None = None,
             params: Mapping[str, Any] | None = None, body: Any = None, max_wait: float | None = None,
             external_id: str | None = None) -> Reply:
        """One SP-API operation: rate-limit token, request, 429 retry, errors mapped to ours."""
        op = operation if isinstance(operation, Operation) else OPERATIONS[operation]
        url_path = op.render(path or {})
        query = encode_query(params or {})
        return self.throttle.run(op.key, lambda: self._send(op, url_path, query, body, external_id),
                                 max_wait=max_wait)

    def _send(self, op: Operation, url_path: str, query: dict[str, str], body: Any,
              external_id: str | None) -> Reply:
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                data = dict(body) if isinstance(body, dict) else body
                reply = self._library()._request(url_path, params={**query, "method": op.method}, data=data,
                                                 add_marketplace=False)
            except SellingApiException as exc:
                status = getattr(exc, "status_code", exc.code)
                self.throttle.observe(op.key, exc.headers)
                self._record(op, status, started, query, body, external_id, error=_first_code(exc),
                             response={"errors": exc.error})
                if status == 403 and attempt == 1:
                    self.tokens.invalidate()  # expired or revoked access token: refresh once
                    # A new arrival at Amazon, a round trip and a token exchange after the first
                    # token: take a fresh one, so no request leaves on a token taken long before.
                    self.throttle.bucket(op.key).take(max_wait=self.throttle.max_wait, sleep=self.throttle.sleep)
                    continue
                raise _mapped(exc, status, op.key) from exc
            except httpx.HTTPError as exc:
                self._record(op, None, started, query, body, external_id, error=type(exc).__name__)
                raise RetryableError(f"{type(exc).__name__} calling {op.key}", system="amazon",
                                     operation=op.key) from exc
            except ConnectorError as exc:  # from the LWA exchange
                self._record(op, None, started, query, body, external_id,
                             error=getattr(exc, "code", None) or type(exc).__name__)
                raise
            self._record(op, reply.status, started, query, body, external_id, response=reply.body)
            return reply
        raise AssertionError("unreachable")  # pragma: no cover

    def _record(self, op: Operation, status: int | None, started: float, query: dict, body: Any,
                external_id: str | None, *, error: str | None = None, response: Any = None) -> None:
        if self.on_call is None:
            return
        request = json.dumps({"query": query, "body": redact(body)} if body is not None else {"query": query},
                             default=str)
        self.on_call(CallRecord(
            system="amazon", operation=op.key, status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 1), error=error, external_id=external_id,
            request_excerpt=request[:EXCERPT],
            response_excerpt=json.dumps(redact(response), default=str)[:EXCERPT] if response is not None else "",
        ))

    # -- presigned document URLs (feeds): plain HTTPS, never the access token -----------------------

    def _session(self):
        if self._documents is None:
            self._documents = make_session(timeout=self.timeout)
        return self._documents

    def upload(self, url: str, content: bytes, content_type: str) -> None:
        response = self._session().put(url, data=content, headers={"Content-Type": content_type})
        if response.status_code >= 500:
            raise RetryableError(f"feed document upload failed: HTTP {response.status_code}", system="amazon",
                                 operation="uploadFeedDocument")
        if response.status_code >= 400:
            raise PermanentError(f"feed document upload refused: HTTP {response.status_code}",
                                 code=f"http_{response.status_code}", system="amazon", operation="uploadFeedDocument")

    def download(self, url: str) -> bytes:
        response = self._session().get(url)
        if response.status_code >= 400:
            error = RetryableError if response.status_code >= 500 else PermanentError
            raise error(f"document download failed: HTTP {response.status_code}", system="amazon",
                        operation="downloadDocument")
        return response.content

    def close(self) -> None:
        for client in self._opened:
            client.close()
        self._opened.clear()
        self._local = threading.local()
        self.tokens.close()
        if self._documents is not None:
            self._documents.close()


def _first_code(exc: SellingApiException) -> str | None:
    errors = exc.error if isinstance(exc.error, list) else []
    return (errors[0] or {}).get("code") if errors and isinstance(errors[0], dict) else None


def _mapped(exc: SellingApiException, status: int, operation: str) -> ConnectorError:
    errors = exc.error if isinstance(exc.error, list) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    code = first.get("code") or f"HTTP{status}"
    message = "; ".join(str(e.get("message") or e.get("code")) for e in errors if isinstance(e, dict)) or code
    if first.get("details"):
        message = f"{message} ({first['details']})"
    where = {"system": "amazon", "operation": operation}
    if status == 429:
        return QuotaExceededError(message, headers=exc.headers, operation=operation)
    if status in (401, 403):
        return AuthError(message, code=code, **where)
    if status >= 500 or status == 408:
        retry_after = None
        headers = exc.headers or {}
        if headers.get("Retry-After"):
            try:
                retry_after = float(headers["Retry-After"])
            except ValueError:
                retry_after = None
        return RetryableError(message, retry_after=retry_after, **where)
    return PermanentError(message, code=code, **where)
