"""What every provider connector shares: a pooled session with timeouts, a Redis rate limit per
account, a call record per HTTP request for the integration log, and a report of every vendor
value the connector does not know (a status, event or error code no published source lists)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import requests
import structlog

from connectors.call_record import EXCERPT, CallRecord
from connectors.http import make_session
from connectors.ratelimit import TokenBucket
from integration.domain.warehousing import Capability

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class UnknownValue:
    """A value the vendor sent that our tables do not map (e.g. a new outbound status code).

    The connector has already treated it conservatively (never shipped, never more stock); this
    tells the merchant's side so a person can look. ``field`` names the vendor field, as
    ``"outbound.status"`` or ``"tracking.eventCode"``; ``context`` is our reference, if any."""

    system: str
    field: str
    value: str
    context: str = ""


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
        on_unknown: Callable[[UnknownValue], None] | None = None,
    ) -> None:
        self.credentials = dict(credentials)
        self.endpoint = (endpoint or self.default_endpoint).rstrip("/")
        self.session = session or make_session()
        self.on_call = on_call
        self.on_unknown = on_unknown
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

    def _unknown(self, field: str, value: Any, context: str = "") -> None:
        """Log and report a vendor value our tables do not map; the caller decides the safe reading."""
        unknown = UnknownValue(system=self.name, field=field, value=str(value)[:100], context=str(context)[:100])
        log.warning("warehouse.unknown_value", system=unknown.system, field=unknown.field, value=unknown.value,
                    context=unknown.context)
        if self.on_unknown is not None:
            self.on_unknown(unknown)
