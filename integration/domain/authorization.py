"""What the authorization ports (:mod:`integration.domain.ports`) take and return: a shop's Shopify
tokens, and an Amazon seller's consent and the refresh token it was exchanged for.

Secrets (tokens, one-time codes) stay out of reprs, so they never end up in logs or tracebacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class TokenSet:
    """A shop's expiring offline access token and the refresh token that renews it. A refresh
    returns a new pair and kills the old refresh token: persist the whole set."""

    access_token: str
    scopes: tuple[str, ...]
    expires_at: datetime | None
    refresh_token: str | None
    refresh_token_expires_at: datetime | None

    def __repr__(self) -> str:
        return (
            f"TokenSet(scopes={self.scopes!r}, expires_at={self.expires_at!r}, "
            f"refresh_token_expires_at={self.refresh_token_expires_at!r})"
        )

    def expires_within(self, seconds: float, now: datetime | None = None) -> bool:
        """True when the access token is (nearly) expired: refresh a few minutes early."""
        if self.expires_at is None:
            return False
        now = now or datetime.now(UTC)
        return self.expires_at <= now + timedelta(seconds=seconds)


@dataclass(frozen=True)
class ConsentCallback:
    """What Amazon's redirect after the seller's consent carries: who consented, and the one-time
    code (valid five minutes) to exchange for their refresh token."""

    selling_partner_id: str
    code: str = field(repr=False)


@dataclass(frozen=True)
class SellerAuthorization:
    """The exchanged code: the seller's long-lived refresh token (stored encrypted on the account)
    and a first access token."""

    selling_partner_id: str | None
    refresh_token: str = field(repr=False)
    access_token: str = field(repr=False)
    expires_in: int
