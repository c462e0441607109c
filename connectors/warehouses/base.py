"""What every provider connector shares: a pooled session with timeouts, a Redis rate limit per
account, and a call record per HTTP request for the integration log."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import requests

from connectors.http import make_session
from connectors.ratelimit import TokenBucket
from integration.domain.warehousing import Capability

EXCERPT = 1000


@dataclass(frozen=True)
class CallRecord:
    """One HTTP call to a provider, for ``integration_log``. Never carries credentials."""

    system: str
    operation: str
    status: int | None
    duration_ms: float
    error: str | None = None
    external_id: str | None = None
    request_excerpt: str = ""
    response_excerpt: str = ""


class BaseProvider:
    name: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    default_endpoint: ClassVar[str] = ""
    rate_per_second: ClassVar[float] = 5.0
    burst: ClassVar[float] = 5.0

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        redis,
        account_key: str,
        endpoint: str | None = None,
        session: requests.Session | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
    ) -> None:
        self.credentials = dict(credentials)
        self.endpoint = (endpoint or self.default_endpoint).rstrip("/")
        self.session = session or make_session()
        self.on_call = on_call
        # One bucket per provider account, shared by all workers.
        self.limiter = TokenBucket(redis, f"nearstock:ratelimit:{self.name}:{account_key}",
                                   rate=self.rate_per_second, burst=self.burst)

    def __repr__(self) -> str:  # credentials never in reprs, logs or tracebacks
        return f"<{type(self).__name__} {self.endpoint}>"

    def _record(self, operation: str, status: int | None, started: float, *, error: str | None = None,
                external_id: str | None = None, request: Any = "", response: Any = "") -> None:
        if self.on_call is None:
            return
        self.on_call(CallRecord(
            system=self.name, operation=operation, status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 1), error=error,
            external_id=external_id, request_excerpt=str(request)[:EXCERPT], response_excerpt=str(response)[:EXCERPT],
        ))
