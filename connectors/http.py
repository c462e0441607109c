"""The one place that builds ``requests`` sessions for connectors.

Every outbound call gets a connect/read timeout (a hung vendor must never hold a worker forever),
connection pooling, a User-Agent naming us, and a response hook that logs method, host, status and
duration without bodies or secrets. Retries are *not* done here: a retried POST could duplicate an
outbound order, so retry policy belongs to the job layer (RQ ``Retry``) and to idempotency keys.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import requests
import structlog
from requests.adapters import HTTPAdapter

from connectors.errors import RetryableError

log = structlog.get_logger("connectors.http")

DEFAULT_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds
USER_AGENT = "Nearstock/1.0 (+https://nearstock.app)"


class TimeoutSession(requests.Session):
    """A session whose requests always carry a timeout unless the caller passes one."""

    def __init__(self, timeout: tuple[float, float] = DEFAULT_TIMEOUT) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", self.default_timeout)
        started = time.perf_counter()
        try:
            response = super().request(method, url, *args, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            log.warning(
                "http.error",
                method=method,
                url=_redact_url(url),
                error=type(exc).__name__,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
            raise RetryableError(f"{type(exc).__name__} calling {_redact_url(url)}") from exc
        log.debug(
            "http.call",
            method=method,
            url=_redact_url(url),
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return response


def _redact_url(url: str) -> str:
    """Drop the query string: it may carry signatures or tokens."""
    return url.split("?", 1)[0]


def make_session(
    *,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    headers: Mapping[str, str] | None = None,
    pool_size: int = 10,
) -> requests.Session:
    """Build a pooled session with timeouts; connection errors surface as ``RetryableError``."""
    session = TimeoutSession(timeout)
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    if headers:
        session.headers.update(headers)
    return session
