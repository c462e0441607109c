"""What a notice's context must hold before it may be rendered, kind by kind.

A notice whose context lacks what its template needs would go out as garbage ("Your refund of
for order ", an empty address block): such a notice is skipped with a log line instead, when it
is created (:func:`integration.notices.outbox.enqueue_notice`) and again when its send job reads
it (:mod:`integration.notices.send`: a row stored by older code, or edited by hand).

:func:`problems` answers what is wrong (empty: nothing). Only shapes are checked here; which
values make sense (a refund's amount, a claim's items) is the caller's business.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_ITEMS = 200  # a notice lists a parcel's or a return's lines, never a catalog
DECLINE_REASONS = ("return_period_ended", "final_sale", "other")  # Shopify's ReturnDeclineReason
CLAIM_KINDS = ("lost", "damaged", "missing_part")
CLAIM_OUTCOMES = ("reshipped", "refunded", "rejected")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_URL = re.compile(r"^https?://[^\s\"'<>]+$")


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _id(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or _text(value)


def _number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return False
    try:
        return Decimal(str(value)).is_finite()
    except (InvalidOperation, ValueError):
        return False


def _iso_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value[:10])
    except ValueError:
        return False
    return True


def _items(value: Any) -> bool:
    """Lines as the after-sales notices list them: [{title, quantity, sku?}, ...], at least one."""
    return (isinstance(value, list) and 0 < len(value) <= MAX_ITEMS
            and all(isinstance(item, dict) and _text(item.get("title")) and _number(item.get("quantity"))
                    for item in value))


def _date_range(value: Any) -> bool:
    return isinstance(value, dict) and _iso_date(value.get("from")) and _iso_date(value.get("to"))


def _address(value: Any) -> bool:
    return (isinstance(value, dict) and _text(value.get("address1")) and _text(value.get("city"))
            and _text(value.get("country_code")))


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], bool]:
    return lambda value: value in choices


Check = Callable[[Any], bool]

# kind -> {key: check}; keys not listed are optional (the templates show them when present).
REQUIRED: dict[str, dict[str, Check]] = {
    "back_in_stock_confirm": {"variant_title": _text, "confirm_url": _text},
    "back_in_stock": {"product_title": _text, "product_url": _text},
    "points_earned": {"points": _number, "balance": _number},
    "tier_reached": {"tier_name": _text},
    "perk_issued": {"discount_code": _text},
    "stock_digest": {"day": _iso_date, "items": lambda v: isinstance(v, list)},
    "aftersales_digest": {"week": _iso_date, "reasons": lambda v: isinstance(v, list),
                          "nps": lambda v: isinstance(v, dict), "kept": lambda v: isinstance(v, dict),
                          "warehouses": lambda v: isinstance(v, list), "themes": lambda v: isinstance(v, list)},
    "return_approved": {"order_name": _text, "return_id": _id, "rma": _text, "items": _items,
                        "return_by": _iso_date},
    "return_declined": {"order_name": _text, "return_id": _id, "items": _items,
                        "reason": _one_of(DECLINE_REASONS)},
    "return_received": {"order_name": _text, "return_id": _id, "items": _items},
    "return_inspecting": {"order_name": _text, "return_id": _id, "items": _items},
    "replacement_shipped": {"order_name": _text, "items": _items},
    "refund_processed": {"order_name": _text, "amount": _number, "currency": lambda v: bool(
        isinstance(v, str) and _CURRENCY.match(v)), "items": _items},
    "claim_opened": {"order_name": _text, "claim_id": _id, "kind": _one_of(CLAIM_KINDS), "items": _items},
    "claim_settled": {"order_name": _text, "claim_id": _id, "outcome": _one_of(CLAIM_OUTCOMES),
                      "items": _items},
    "order_delayed": {"order_name": _text, "ship_by": _iso_date},
}

# Keys that are optional but, when given, must have the right shape.
OPTIONAL: dict[str, dict[str, Check]] = {
    "replacement_shipped": {"estimate": _date_range, "tracking_url": lambda v: bool(
        isinstance(v, str) and _URL.match(v))},
    "order_delayed": {"new_estimate": _date_range},
    "stock_digest": {"shifts": lambda v: isinstance(v, list)},
    "return_approved": {"address": _address, "label_url": lambda v: bool(isinstance(v, str) and _URL.match(v))},
}


def problems(kind: str, context: dict[str, Any] | None) -> list[str]:
    """The keys of ``context`` that are missing or malformed for ``kind`` (empty: fine)."""
    context = context if isinstance(context, dict) else {}
    wrong = [key for key, ok in REQUIRED.get(kind, {}).items() if key not in context or not ok(context[key])]
    wrong += [key for key, ok in OPTIONAL.get(kind, {}).items()
              if context.get(key) is not None and not ok(context[key])]
    # Where the customer sends the parcel back: the warehouse's address or a prepaid label.
    if kind == "return_approved" and not context.get("address") and not context.get("label_url"):
        wrong.append("address|label_url")
    # A digest with nothing in it is not sent: stock alerts, demand shifts, or both.
    if kind == "stock_digest" and not context.get("items") and not context.get("shifts"):
        wrong.append("items|shifts")
    return wrong
