"""What a connector reports about each HTTP call it makes, for the integration log."""

from __future__ import annotations

from dataclasses import dataclass

EXCERPT = 1000  # characters of a request or response a record keeps (Shopify's client keeps its own)


@dataclass(frozen=True)
class CallRecord:
    """One HTTP call to a vendor. Never carries credentials; excerpts are redacted and cut short."""

    system: str
    operation: str
    status: int | None
    duration_ms: float
    error: str | None = None
    external_id: str | None = None
    request_excerpt: str = ""
    response_excerpt: str = ""
    shop: str | None = None
    """The shop's domain (Shopify, whose client is per shop)."""
    cost: float | None = None
    """GraphQL query cost points (Shopify)."""
    throttled: bool = False
