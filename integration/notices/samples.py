"""Sample data for every notice (admin previews and the translation tests).

Each entry is what the real caller passes as ``context``; the variants cover every branch of a
template (each exception reason, pickup vs. failed attempt).
"""

from __future__ import annotations

from typing import Any

from integration.notices.render import EXCEPTION_REASONS

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


def sample_context(kind: str, variant: str | None = None) -> dict[str, Any]:
    ctx: dict[str, Any]
    if kind in ("shipped", "out_for_delivery", "delivered", "still_on_its_way"):
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
    else:
        raise ValueError(f"no sample for {kind!r}")
    return ctx


def variants(kind: str) -> tuple[str | None, ...]:
    """Every branch worth previewing and testing."""
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
    return (None,)


SAMPLE_LINKS = {
    "tracking": "https://acme.myshopify.com/apps/nearstock/track?t=sample",
    "feedback": "https://app.example/notifications/feedback?t=sample",
    "unsubscribe": "https://app.example/notifications/unsubscribe/sample",
    "admin": "https://acme.myshopify.com/admin/apps/nearstock",
}
