"""ShipBob's HTTP side shared by the provider: versioned URLs, the bearer token and channel
header, the shared rate limit, call records without customer data, error mapping and paging.

Errors (https://developer.shipbob.com/errors): 401/403 -> AuthError; 429 -> RetryableError after
``x-retry-after`` seconds (https://developer.shipbob.com/rate-limit); 408 and 5xx -> retried;
any other 4xx -> PermanentError naming the field ShipBob names.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import requests

from connectors.errors import AuthError, PermanentError, RetryableError
from connectors.quick_retry import quickly_retried
from connectors.warehouses.base import BaseProvider

from .shipbob_mapping import describe_error, redact, seconds

ERROR_CODES = {400: "bad_request", 404: "not_found", 409: "conflict", 422: "unprocessable"}


class ShipBobHttp(BaseProvider):
    api_version = "2026-07"
    max_wait = 60.0  # longest we queue for a rate-limit token before giving the job back to RQ

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            # A paging link: keep only its path and query, the bearer token goes to our endpoint only.
            parts = urlsplit(path)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not path.startswith(f"/{self.api_version}/"):
            path = f"/{self.api_version}{path}"
        return f"{self.endpoint}{path}"

    def _call(self, operation: str, method: str, path: str, *, params: dict | None = None, body: Any = None,
              channel: bool = False, allow: tuple[int, ...] = (), external_id: str | None = None
              ) -> tuple[requests.Response, Any]:
        """One request (reads and refused calls retried quickly, see connectors/quick_retry.py):
        rate-limit token, call, CallRecord, error mapping. Statuses in ``allow`` are returned to
        the caller instead of raised."""
        return quickly_retried(
            lambda: self._send(operation, method, path, params=params, body=body, channel=channel, allow=allow,
                               external_id=external_id),
            repeatable=method == "GET")

    def _send(self, operation: str, method: str, path: str, *, params: dict | None, body: Any, channel: bool,
              allow: tuple[int, ...], external_id: str | None) -> tuple[requests.Response, Any]:
        headers = {"Authorization": f"Bearer {self.credentials['token']}", "Accept": "application/json"}
        if channel:
            headers["shipbob_channel_id"] = str(self.credentials["channel_id"]).strip()
        self.limiter.take(max_wait=self.max_wait)
        started = time.perf_counter()
        excerpt = json.dumps(redact(body), default=str) if body is not None else (params or "")
        try:
            response = self.session.request(method, self._url(path), params=params, json=body, headers=headers)
        except (RetryableError, requests.RequestException) as exc:
            self._record(operation, None, started, error=type(exc).__name__, external_id=external_id,
                         request=excerpt)
            raise RetryableError(f"{type(exc).__name__} calling ShipBob", system=self.name,
                                 operation=operation) from exc
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = response.text
        status = response.status_code
        failed = status >= 400 and status not in allow
        self._record(operation, status, started, error=f"HTTP {status}" if failed else None,
                     external_id=external_id, request=excerpt,
                     response=json.dumps(redact(data), default=str) if data is not None else "")
        if not failed:
            return response, data
        raise self._error(operation, response, data)

    def _error(self, operation: str, response: requests.Response, data: Any) -> Exception:
        status = response.status_code
        message, field = describe_error(data, f"HTTP {status} {response.reason or ''}".strip())
        where = {"system": self.name, "operation": operation}
        if status in (401, 403):
            return AuthError(message, code="unauthorized" if status == 401 else "forbidden", **where)
        if status == 429:
            retry_after = seconds(response.headers.get("x-retry-after") or response.headers.get("Retry-After"))
            return RetryableError(f"rate limited: {message}", retry_after=retry_after, refused=True, **where)
        if status >= 500 or status == 408:
            return RetryableError(f"HTTP {status}: {message}",
                                  retry_after=seconds(response.headers.get("Retry-After")), **where)
        code = ERROR_CODES.get(status, f"http_{status}")
        return PermanentError(message, field=field, code=code, **where)

    def _pages(self, operation: str, path: str, params: dict) -> Iterator[list[dict]]:
        """Follow ``next`` links of ShipBob's paged responses (``{items, next, prev, …}``)."""
        seen: set[str] = set()
        next_path: str | None = path
        while next_path and next_path not in seen:
            seen.add(next_path)
            _, data = self._call(operation, "GET", next_path, params=params if next_path == path else None)
            data = data or {}
            yield list(data.get("items") or []) if isinstance(data, dict) else list(data)
            next_path = data.get("next") if isinstance(data, dict) else None
