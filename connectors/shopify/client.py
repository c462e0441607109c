"""The Shopify Admin GraphQL client: one instance per shop, never ShopifyAPI's global session.

``execute(document_name, variables)`` sends ``queries/<document_name>.graphql`` and returns
``data``. Failures come out as the three connector errors:

* HTTP 401/403 -> :class:`AuthError` (token revoked or expired, app uninstalled).
* HTTP 5xx, timeouts, connection errors, ``INTERNAL_SERVER_ERROR`` -> :class:`RetryableError`.
* HTTP 429 without a GraphQL body -> :class:`RetryableError` with ``Retry-After``.
* GraphQL ``THROTTLED`` (HTTP 200 or 429): we wait what the bucket needs
  (``(requestedQueryCost - currentlyAvailable) / restoreRate``) and retry inside the client up to
  ``max_wait`` seconds, then :class:`RetryableError` with ``retry_after``.
  https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
* any other top-level ``errors`` -> :class:`PermanentError` (the document or its variables are
  wrong, a scope is missing, ``MAX_COST_EXCEEDED``...).
* non-empty ``userErrors`` in a mutation payload -> :class:`PermanentError` with the field path,
  messages and code, unless every code is in ``handled_codes`` (the caller deals with them, e.g.
  ``CHANGE_FROM_QUANTITY_STALE``).

Before each call the query's cost is reserved in the shared Redis bucket
(:mod:`connectors.shopify.throttle`) so that workers wait instead of hitting ``THROTTLED``.
"""

from __future__ import annotations

import functools
import json
import math
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import structlog
from graphql import DocumentNode, OperationDefinitionNode, OperationType, parse

from connectors.call_record import CallRecord
from connectors.errors import AuthError, PermanentError, RetryableError
from connectors.http import make_session
from connectors.quick_retry import quickly_retried
from connectors.shopify import API_VERSION
from connectors.shopify.throttle import CostThrottle, ThrottleStatus

log = structlog.get_logger("connectors.shopify")

QUERIES_DIR = Path(__file__).resolve().with_name("queries")
_DOCUMENT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_SECRET_KEYS = re.compile(r"token|secret|password|authorization|hmac", re.IGNORECASE)
EXCERPT_LIMIT = 2000
MAX_THROTTLED_RETRIES = 10
SYSTEM = "shopify"


@dataclass(frozen=True)
class Document:
    name: str
    text: str
    ast: DocumentNode
    is_mutation: bool


@functools.cache
def load_document(name: str) -> Document:
    """Parse ``queries/<name>.graphql`` once per process."""
    if not _DOCUMENT_NAME.fullmatch(name):
        raise ValueError(f"not a document name: {name!r}")
    path = QUERIES_DIR / f"{name}.graphql"
    text = path.read_text()
    ast = parse(text)
    operation = next(d for d in ast.definitions if isinstance(d, OperationDefinitionNode))
    return Document(name, text, ast, operation.operation == OperationType.MUTATION)


class ShopifyClient:
    def __init__(
        self,
        shop: str,
        access_token: str,
        *,
        redis,
        endpoint: str | None = None,
        session: requests.Session | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_wait: float = 60.0,
        throttle: CostThrottle | None = None,
    ) -> None:
        self.shop = shop
        self.access_token = access_token
        self.endpoint = endpoint.rstrip("/") if endpoint else None
        base = self.endpoint or f"https://{shop}"
        self.url = f"{base}/admin/api/{API_VERSION}/graphql.json"
        self.session = session or make_session(timeout=timeout)
        self.on_call = on_call
        self.timeout = timeout
        self.max_wait = max_wait
        self.throttle = throttle or CostThrottle(redis)

    def __repr__(self) -> str:  # never show the token
        return f"ShopifyClient(shop={self.shop!r}, url={self.url!r})"

    # -- public ----------------------------------------------------------------------------
    def execute(
        self,
        document_name: str,
        variables: Mapping[str, Any] | None = None,
        *,
        handled_codes: Collection[str] = (),
    ) -> dict:
        document = load_document(document_name)
        variables = dict(variables or {})
        deadline = self.throttle.clock() + self.max_wait
        signature, cost = self.throttle.cost_for(document_name, document.ast, variables)
        throttled = 0
        while True:
            def send(cost=cost):
                return self._call(document, variables, self.throttle.acquire(self.shop, cost, deadline), handled_codes)

            body = quickly_retried(send, repeatable=not document.is_mutation, sleep=self.throttle.sleep)
            cost_info = (body.get("extensions") or {}).get("cost") or {}
            requested = cost_info.get("requestedQueryCost")
            if isinstance(requested, int | float):
                self.throttle.learn(signature, requested)
                cost = float(requested)
            if not _has_code(body.get("errors") or [], "THROTTLED"):
                return body["data"]
            throttled += 1
            status = ThrottleStatus.from_extensions(body.get("extensions"))
            if status is not None and cost > status.maximum_available:
                # No wait can help: the bucket never holds that much.
                raise PermanentError(
                    f"query cost {cost:g} exceeds the shop's bucket ({status.maximum_available:g})",
                    code="MAX_COST_EXCEEDED",
                    system=SYSTEM,
                    operation=document_name,
                )
            wait = _throttled_wait(cost, status)
            if throttled > MAX_THROTTLED_RETRIES or self.throttle.clock() + wait > deadline:
                raise RetryableError(
                    f"throttled by Shopify ({throttled}x)",
                    retry_after=max(1, math.ceil(wait)),
                    system=SYSTEM,
                    operation=document_name,
                )
            log.info("shopify.throttled", shop=self.shop, operation=document_name, wait=wait)
            # The resynchronised mirror makes the next acquire() sleep for the refill; sleep
            # here only when Shopify's own numbers say nothing is missing, so we never spin.
            if wait <= 0:
                self.throttle.sleep(0.5)

    # -- transport -------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        headers = {
            "X-Shopify-Access-Token": self.access_token,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        if self.endpoint:
            headers["Host"] = self.shop  # the emulator tells shops apart by Host
        return headers

    def _call(self, document: Document, variables: dict, reservation, handled_codes) -> dict:
        """One HTTP call: send, resync the bucket, map failures, log. Returns the body when it
        carries data (or is a THROTTLED answer the caller will retry)."""
        payload = {"query": document.text, "variables": variables}
        started = time.perf_counter()
        response = None
        body: dict = {}
        error: str | None = None
        settled = False
        try:
            try:
                response = self.session.post(self.url, json=payload, headers=self._headers(), timeout=self.timeout)
            except RetryableError:
                raise
            except requests.RequestException as exc:
                raise RetryableError(
                    f"{type(exc).__name__} calling Shopify",
                    system=SYSTEM,
                    operation=document.name,
                ) from exc
            body = _json_body(response)
            cost_info = (body.get("extensions") or {}).get("cost") or {}
            actual = cost_info.get("actualQueryCost")
            bucket = ThrottleStatus.from_extensions(body.get("extensions"))
            if bucket is None and response.status_code == 429:
                self.throttle.release(reservation)  # refused before it ran: nothing was charged
            else:
                self.throttle.settle(
                    reservation,
                    bucket,
                    actual_cost=float(actual) if isinstance(actual, int | float) else None,
                    charged=not _has_code(body.get("errors") or [], "THROTTLED"),
                )
            settled = True
            _check_http(response.status_code, body, response, document.name)
            errors = body.get("errors") or []
            if _has_code(errors, "THROTTLED"):
                error = "THROTTLED"
                return body
            if errors:
                raise _top_level_error(errors, document.name)
            if not isinstance(body.get("data"), dict):
                raise RetryableError("response without data", system=SYSTEM, operation=document.name)
            if document.is_mutation:
                _check_user_errors(body["data"], handled_codes, document.name)
            return body
        except Exception as exc:
            error = exc.message if isinstance(exc, RetryableError | PermanentError) else str(exc)
            raise
        finally:
            if not settled:
                self.throttle.settle(reservation, None)
            self._record(document, variables, response, body, error, started)

    def _record(self, document, variables, response, body, error, started) -> None:
        if self.on_call is None:
            return
        cost_info = (body.get("extensions") or {}).get("cost") or {}
        cost = cost_info.get("actualQueryCost")
        if cost is None:
            cost = cost_info.get("requestedQueryCost")
        record = CallRecord(
            system=SYSTEM,
            shop=self.shop,
            operation=document.name,
            status=response.status_code if response is not None else None,
            cost=float(cost) if isinstance(cost, int | float) else None,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            error=error,
            request_excerpt=excerpt(variables),
            response_excerpt=(
                excerpt(body) if body else (response.text[:EXCERPT_LIMIT] if response is not None else "")
            ),
            throttled=error == "THROTTLED",
        )
        try:
            self.on_call(record)
        except Exception:
            # The call itself happened; a failing log writer must not make the job retry it.
            log.exception("shopify.on_call_failed", shop=self.shop, operation=document.name)


# -- response interpretation ---------------------------------------------------------------
def _json_body(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _check_http(status: int, body: dict, response, operation: str) -> None:
    """Raise for HTTP failures; return when the body should be interpreted."""
    if status in (401, 403):
        raise AuthError(
            f"HTTP {status}: access token refused",
            code=str(status),
            system=SYSTEM,
            operation=operation,
        )
    if status == 429:
        if _has_code(body.get("errors") or [], "THROTTLED"):
            return
        raise RetryableError(
            "HTTP 429 from Shopify",
            retry_after=_retry_after(response.headers.get("Retry-After")),
            system=SYSTEM,
            operation=operation,
            refused=True,
        )
    if status >= 500:
        raise RetryableError(
            f"HTTP {status} from Shopify",
            retry_after=_retry_after(response.headers.get("Retry-After")),
            system=SYSTEM,
            operation=operation,
        )
    if status != 200:
        # 400 malformed request, 402 shop frozen, 404 unknown shop/version, 423 shop locked.
        raise PermanentError(
            f"HTTP {status} from Shopify: {_messages(body.get('errors')) or response.text[:200]}",
            code=str(status),
            system=SYSTEM,
            operation=operation,
        )
    if not body:
        raise RetryableError("non-JSON 200 from Shopify", system=SYSTEM, operation=operation)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _has_code(errors: list, code: str) -> bool:
    return any(isinstance(e, dict) and (e.get("extensions") or {}).get("code") == code for e in errors) or any(
        isinstance(e, dict) and str(e.get("message", "")).upper() == code for e in errors
    )


def _throttled_wait(requested: float, status: ThrottleStatus | None) -> float:
    if status is None or status.restore_rate <= 0:
        return 1.0
    return max(0.0, (requested - status.currently_available) / status.restore_rate)


def _messages(errors) -> str:
    if isinstance(errors, str):
        return errors
    if isinstance(errors, list):
        return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
    if isinstance(errors, dict):
        return json.dumps(errors)[:200]
    return ""


def _top_level_error(errors: list, operation: str) -> Exception:
    codes = [(e.get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)]
    code = next((c for c in codes if c), None)
    message = _messages(errors)
    if code == "INTERNAL_SERVER_ERROR":
        # Shopify's own failure reported with HTTP 200: the same call can succeed later.
        return RetryableError(message, system=SYSTEM, operation=operation)
    return PermanentError(message, code=code, system=SYSTEM, operation=operation)


def _check_user_errors(data: dict, handled_codes: Collection[str], operation: str) -> None:
    for payload in data.values():
        if not isinstance(payload, dict):
            continue
        user_errors = payload.get("userErrors") or []
        if not user_errors:
            continue
        if handled_codes and all(e.get("code") in handled_codes for e in user_errors):
            continue
        first = user_errors[0]
        error = PermanentError(
            "; ".join(
                f"{'.'.join(e.get('field') or []) or '-'}: {e.get('message')}"
                + (f" ({e['code']})" if e.get("code") else "")
                for e in user_errors
            ),
            field=first.get("field"),
            code=first.get("code"),
            system=SYSTEM,
            operation=operation,
        )
        error.user_errors = tuple(user_errors)  # type: ignore[attr-defined]
        raise error


# -- excerpts for the integration log ---------------------------------------------------------
def excerpt(value: Any, limit: int = EXCERPT_LIMIT) -> str:
    """Compact JSON of ``value`` with anything that looks like a credential redacted."""
    text = json.dumps(_redact(value), separators=(",", ":"), default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: ("[redacted]" if _SECRET_KEYS.search(str(k)) else _redact(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value
