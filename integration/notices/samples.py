"""Sample data for every notice (admin previews and the translation tests).

Each entry is what the real caller passes as ``context``; the variants cover every branch of a
template (each exception reason, pickup vs. failed attempt).
"""

from __future__ import annotations

from typing import Any

from integration.notices.render import EXCEPTION_REASONS
from integration.notices.required_context import CLAIM_KINDS, CLAIM_OUTCOMES, DECLINE_REASONS

_SHIPMENT = {
    "order_name": "#1042",
    "customer_name": "Ada",
    "carrier": "DHL",
    "tracking_number": "JJD000390007795432",
    "carrier_url": "https://www.dhl.com/track?tracking-id=JJD000390007795432",
    "warehouse_name": "Berlin-Tegel",
    "warehouse_country": "DE",
    "estimate_from": "2026-11-24",
    "estimate_to": "2026-11-26",
    "parcel_items": [{"name": "Trail Mug — Blue", "quantity": 2}, {"name": "Camp Stove", "quantity": 1}],
    "event_at": "2026-11-23T09:41:00+00:00",
    "event_location": "Leipzig Hub",
    "delivered_at": "2026-11-25T14:02:00+00:00",
    "quiet_days": 6,
}

_ORDER = {"order_name": "#1042", "customer_name": "Ada"}
_RETURN = dict(_ORDER, return_id=311, rma="RMA-DE-000311",
               items=[{"title": "Trail Mug — Blue", "sku": "MUG-BLUE", "quantity": 2}])
_RETURN_ADDRESS = {"name": "Acme Returns c/o Berlin-Tegel", "address1": "Flughafenstraße 12", "address2": "Tor 4",
                   "city": "Berlin", "zip": "13405", "province": None, "country_code": "DE"}


def _after_sales(kind: str, variant: str | None) -> dict[str, Any]:
    if kind == "return_approved":
        if variant == "label":
            return dict(_RETURN, label_url="https://labels.example/rma/RMA-DE-000311.pdf", return_by="2026-12-14")
        return dict(_RETURN, address=_RETURN_ADDRESS, return_by="2026-12-14")
    if kind == "return_declined":
        return dict(_RETURN, rma=None, reason=variant or "return_period_ended",
                    note="Opened items can only be returned within 14 days." if variant == "other" else None)
    if kind in ("return_received", "return_inspecting"):
        return dict(_RETURN)
    if kind == "replacement_shipped":
        return dict(_RETURN, carrier="DHL", tracking_number="JJD000390007795433",
                    tracking_url="https://www.dhl.com/track?tracking-id=JJD000390007795433",
                    estimate={"from": "2026-12-02", "to": "2026-12-04"})
    if kind == "refund_processed":
        return dict(_RETURN, amount="49.90", currency="EUR")
    if kind == "claim_opened":
        return dict(_ORDER, claim_id=27, kind=variant or "lost", items=_RETURN["items"])
    if kind == "claim_settled":
        return dict(_ORDER, claim_id=27, outcome=variant or "reshipped", items=_RETURN["items"])
    if kind == "order_delayed":
        ctx = dict(_ORDER, ship_by="2026-11-23", warehouse_country="DE")
        if variant != "no_estimate":
            ctx["new_estimate"] = {"from": "2026-11-26", "to": "2026-11-28"}
        return ctx
    raise ValueError(f"no sample for {kind!r}")


def sample_context(kind: str, variant: str | None = None) -> dict[str, Any]:
    ctx: dict[str, Any]
    if kind in AFTER_SALES_VARIANTS:
        ctx = _after_sales(kind, variant)
    elif kind in ("shipped", "out_for_delivery", "delivered", "still_on_its_way"):
        ctx = dict(_SHIPMENT)
    elif kind == "failed_attempt":
        ctx = dict(_SHIPMENT, attempt=1, pickup=variant == "pickup")
    elif kind == "exception":
        reason = variant if variant in EXCEPTION_REASONS else "customs_delay"
        ctx = dict(_SHIPMENT, reason=reason, event_description="Shipment on hold (Zollabfertigung)")
        if reason in ("customs_delay", "delivery_delay"):
            ctx.update(new_estimate_from="2026-11-27", new_estimate_to="2026-11-30")
    elif kind == "back_in_stock_confirm":
        ctx = {"variant_title": "Trail Mug — Blue", "product_title": "Trail Mug",
               "confirm_url": "https://acme.example/apps/nearstock/confirm?t=sample",
               "unsubscribe_url": "https://acme.example/apps/nearstock/unsubscribe?t=sample"}
    elif kind == "back_in_stock":
        ctx = {"product_title": "Trail Mug", "variant_title": "Blue", "product_url": "https://acme.example/products/mug",
               "image_url": "https://cdn.example/mug.png"}
    elif kind == "points_earned":
        ctx = {"points": 120, "balance": 1350, "order_name": "#1042",
               "reason": variant or "local_warehouse", "account_url": "https://acme.example/account"}
    elif kind == "tier_reached":
        ctx = {"tier_name": "Gold", "balance": 2500, "perks": ["Free shipping member days", "Birthday gift"],
               "account_url": "https://acme.example/account"}
    elif kind == "perk_issued":
        ctx = {"discount_code": "GOLD-7KQ2-XM", "perk": "Free shipping on your next order", "value": "4.90",
               "currency": "EUR", "expires_at": "2026-12-31", "shop_url": "https://acme.example"}
    elif kind == "merchant_alert":
        ctx = {"alert_kind": variant or "sla_breached", "alert_subject": "outbound:17",
               "message": "NS-17-DEWH: not shipped within 24 h", "raised_at": "2026-11-23T09:41:00+00:00"}
    elif kind == "stock_digest":
        items = [{"kind": "stock_out", "sku": "TENT-2P", "warehouse": "Berlin-Tegel", "available": 0,
                  "forecast_daily": 4.5, "days_of_cover": 0, "lead_time_days": 33},
                 {"kind": "low_stock", "sku": "MUG-BLUE", "warehouse": "LA West", "available": 40,
                  "forecast_daily": 2.0, "days_of_cover": 20, "lead_time_days": 33}]
        shifts = [{"sku": "TENT-2P", "warehouse": "Berlin-Tegel", "direction": "rise", "change_pct": 42.0,
                   "baseline_daily": 3.1, "recent_daily": 4.4, "reason": None},
                  {"sku": "JACKET-M", "warehouse": "LA West", "direction": "fall", "change_pct": -35.0,
                   "baseline_daily": 2.0, "recent_daily": 1.3, "reason": "not waterproof"}]
        ctx = {"day": "2026-11-23", "items": items[:1] if variant == "one" else items,
               "shifts": [] if variant == "one" else shifts, "more_shifts": 0, "wide_fall": None}
        if variant == "shifts":  # a night the order sync stopped: nothing short, nearly every series fell
            ctx.update(items=[], shifts=shifts[1:], more_shifts=180, wide_fall={"falls": 181, "selling": 240})
    elif kind == "aftersales_digest":
        ctx = _aftersales_digest(variant)
    else:
        raise ValueError(f"no sample for {kind!r}")
    return ctx


def _aftersales_digest(variant: str | None) -> dict[str, Any]:
    quiet = variant == "quiet"  # a week with ratings but no return, parcel or comment
    return {
        "week": "2026-11-16", "week_end": "2026-11-22",
        "reasons": [] if quiet else [
            {"sku": "MUG-BLUE", "market": "DE", "units": 7, "returns": 5,
             "reasons": [{"reason": "SIZE_TOO_SMALL", "units": 3}, {"reason": "DEFECTIVE", "units": 2},
                         {"reason": "COLOR", "units": 1}]},
            {"sku": "TENT-2P", "market": "FR", "units": 1, "returns": 1,
             "reasons": [{"reason": "NOT_AS_DESCRIBED", "units": 1}]}],
        "nps": {"score": 25.0, "answers": 4},
        "kept": {"due": 0, "kept": 0, "rate": None} if quiet else {"due": 6, "kept": 4, "rate": 66.7},
        "warehouses": [{"name": "Berlin-Tegel", "nps": 25.0, "kept_rate": None if quiet else 75.0, "answers": 4}],
        "themes": [] if quiet else [
            {"language": "de", "comments": 3, "themes": [{"term": "Lieferung", "comments": 3, "praise": 2,
                                                          "complaints": 1}]}],
    }


AFTER_SALES_VARIANTS: dict[str, tuple[str | None, ...]] = {
    "return_approved": ("address", "label"), "return_declined": DECLINE_REASONS, "return_received": (None,),
    "return_inspecting": (None,), "replacement_shipped": (None,), "refund_processed": (None,),
    "claim_opened": CLAIM_KINDS, "claim_settled": CLAIM_OUTCOMES, "order_delayed": ("estimate", "no_estimate"),
}


def variants(kind: str) -> tuple[str | None, ...]:
    """Every branch worth previewing and testing."""
    if kind in AFTER_SALES_VARIANTS:
        return AFTER_SALES_VARIANTS[kind]
    if kind == "exception":
        return EXCEPTION_REASONS
    if kind == "failed_attempt":
        return ("attempt", "pickup")
    if kind == "points_earned":
        return ("local_warehouse", "feedback", "order")
    if kind == "merchant_alert":
        return ("sla_breached", "backordered", "outbound_failed", "stock_out", "demand_rise", "demand_fall", "other")
    if kind == "stock_digest":
        return ("one", "many", "shifts")
    if kind == "aftersales_digest":
        return ("week", "quiet")
    return (None,)


SAMPLE_LINKS = {
    "tracking": "https://acme.myshopify.com/apps/nearstock/track?t=sample",
    "feedback": "https://app.example/notifications/feedback?t=sample",
    "returns": "https://acme.myshopify.com/apps/nearstock/returns?t=sample",
    "unsubscribe": "https://app.example/notifications/unsubscribe/sample",
    "admin": "https://acme.myshopify.com/admin/apps/nearstock",
}
