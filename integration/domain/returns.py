"""After-sales rules: whether a return request is approved, declined or waits for the merchant, and
which warehouse takes a return back. Pure: data in, a decision out.

A return goes to the warehouse local to the customer's market, not back across the world: the
shop's warehouse in the order's shipping country, else one in the same region (the EU's single
market, North America), else the warehouse that shipped the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

# Shopify's ReturnReason values (admin-2026-07), the words a return line's reason is kept in.
REASONS = ("SIZE_TOO_SMALL", "SIZE_TOO_LARGE", "UNWANTED", "NOT_AS_DESCRIBED", "WRONG_ITEM", "DEFECTIVE", "STYLE",
           "COLOR", "OTHER", "UNKNOWN")
# Shopify's ReturnDeclineReason values.
DECLINE_PERIOD_ENDED, DECLINE_FINAL_SALE, DECLINE_OTHER = "RETURN_PERIOD_ENDED", "FINAL_SALE", "OTHER"
DECLINE_REASONS = (DECLINE_PERIOD_ENDED, DECLINE_FINAL_SALE, DECLINE_OTHER)

APPROVE, DECLINE, WAIT = "approve", "decline", "wait"


def reason_code(reason: str | None) -> str:
    """A line's reason as one of :data:`REASONS`: Shopify's standardized reasons are named by
    handles, the legacy enum value in kebab case ("size-too-small"); a reason the shop defined
    itself is OTHER, none at all UNKNOWN."""
    if not reason:
        return "UNKNOWN"
    word = reason.strip().replace("-", "_").upper()
    return word if word in REASONS else "OTHER"

# The markets whose warehouses serve each other's customers without a customs border.
EU = frozenset({"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
                "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"})
NORTH_AMERICA = frozenset({"US", "CA"})


@dataclass(frozen=True)
class ReturnRules:
    """A shop's return policy. ``accepted_reasons`` empty: every reason is accepted."""

    window_days: int = 30
    accepted_reasons: frozenset[str] = frozenset()
    non_returnable_skus: frozenset[str] = frozenset()
    auto_approve: bool = False
    reship_when_lost: bool = False


@dataclass(frozen=True)
class RequestedLine:
    sku: str | None
    quantity: int
    reason: str | None


@dataclass(frozen=True)
class Decision:
    outcome: str  # APPROVE, DECLINE or WAIT
    decline_reason: str | None = None  # a DECLINE_REASONS value
    note: str | None = None  # why, for the merchant and the customer's notice


def decide(lines: Sequence[RequestedLine], rules: ReturnRules, *, delivered_at: datetime | None, now: datetime,
           priority: bool = False) -> Decision:
    """The policy's answer to a request. Declines come first (they hold whoever asks: the window,
    final-sale SKUs, reasons the shop does not take back); then a priority member or a shop that
    auto-approves is approved; anything else waits for the merchant."""
    if delivered_at is not None and now - delivered_at > timedelta(days=rules.window_days):
        return Decision(DECLINE, DECLINE_PERIOD_ENDED, f"the {rules.window_days}-day return window has ended")
    final_sale = sorted({ln.sku for ln in lines if ln.sku and ln.sku in rules.non_returnable_skus})
    if final_sale:
        return Decision(DECLINE, DECLINE_FINAL_SALE, f"not returnable: {', '.join(final_sale)}")
    if rules.accepted_reasons:
        refused = sorted({ln.reason or "UNKNOWN" for ln in lines} - rules.accepted_reasons)
        if refused:
            return Decision(DECLINE, DECLINE_OTHER, f"reason not accepted: {', '.join(refused)}")
    if priority or rules.auto_approve:
        return Decision(APPROVE, note="priority after-sales member" if priority else "approved by the shop's rules")
    return Decision(WAIT)


def market_region(country: str | None) -> str | None:
    """The region a warehouse's ``region`` names when it serves this country's customers."""
    country = (country or "").upper()
    if country in EU:
        return "EU"
    if country in NORTH_AMERICA:
        return "NA"
    return None


@dataclass(frozen=True)
class ReturnSite:
    """A warehouse that could take a return back."""

    id: int
    country_code: str
    region: str | None = None
    priority: int = 100
    accepts_returns: bool = True


def choose_return_warehouse(sites: Sequence[ReturnSite], country: str | None, shipped_from: int | None) -> int | None:
    """The local warehouse of the customer's market: in the shipping country, else in its region
    (the merchant's priority, then the id, break ties), else the one that shipped the order."""
    country = (country or "").upper()
    region = market_region(country)
    usable = sorted((s for s in sites if s.accepts_returns), key=lambda s: (s.priority, s.id))
    for site in usable:
        if site.country_code.upper() == country:
            return site.id
    if region is not None:
        for site in usable:
            if (site.region or "").upper() == region or market_region(site.country_code) == region:
                return site.id
    return shipped_from


def rma_reference(return_id: int) -> str:
    """Our RMA reference at the warehouse, derived from the return: a retried create finds it."""
    return f"NSR{return_id:08d}"
