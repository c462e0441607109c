"""``returns/*`` bodies -> :class:`ChannelReturn`. Field reading rules:
:mod:`connectors.shopify.webhook_fields`.

https://shopify.dev/docs/api/webhooks (topics "returns/request", "returns/approve",
"returns/decline", "returns/close"): request and approve (and process) carry the return with its
lines, each naming its fulfillment line item and that one's order line item, the legacy reason in
lower case (``"size_too_small"``) and the customer's note; decline carries ``decline``; close,
cancel and reopen carry only the ids (``order_id``) and the status. The lines carry no SKU: a
handler that needs one reads the return (``ShopifyStore.get_return``).
"""

from __future__ import annotations

from typing import Any

from connectors.shopify.returns import DECLINE_REASONS
from connectors.shopify.webhook_fields import MAX_QUANTITY, Body, fail
from integration.domain.channels import ChannelReturn, ChannelReturnLine

MAX_LINES = 250
STATUSES = frozenset({"REQUESTED", "OPEN", "DECLINED", "CLOSED", "CANCELED"})


def _status(body: Body) -> str:
    status = body.required_code("status", 16).upper()
    if status not in STATUSES:
        raise fail(body.at("status"), "is not a return status")
    return status


def _order(body: Body) -> str:
    order = body.child("order")
    return order.gid("Order") if order is not None else body.gid("Order", "order_id")


def _line(line: Body) -> ChannelReturnLine:
    fli = line.child("fulfillment_line_item")
    if fli is None:
        raise fail(line.at("fulfillment_line_item"), "is missing")
    quantity = line.integer("quantity", 1, MAX_QUANTITY)
    if quantity is None:
        raise fail(line.at("quantity"), "is missing")
    reason = line.code("return_reason", 64)
    return ChannelReturnLine(
        id=line.gid("ReturnLineItem"),
        fulfillment_line_item_id=fli.gid("FulfillmentLineItem"),
        sku=None,
        quantity=quantity,
        # The legacy enum in lower case; its return reason handle is the same words in kebab case.
        reason=reason.replace("_", "-") if reason else None,
        customer_note=line.text("customer_note", 300),
    )


def parse_return(payload: Any) -> ChannelReturn:
    """``returns/request``, ``returns/approve`` and ``returns/process``: the return and its lines."""
    body = Body(payload, "return")
    raw_lines = body.items("return_line_items", MAX_LINES) or []
    lines = tuple(_line(Body(raw, f"return.return_line_items[{i}]")) for i, raw in enumerate(raw_lines))
    if len({line.id for line in lines}) != len(lines):
        raise fail("return.return_line_items", "repeats a return line item id")
    return ChannelReturn(id=body.gid("Return"), order_id=_order(body), status=_status(body),
                         name=body.text("name", 64), lines=lines)


def _decline(body: Body) -> tuple[str | None, str | None]:
    """``returns/decline``'s ``decline``: the reason in lower case, as a ReturnDeclineReason, and
    the merchant's note."""
    decline = body.child("decline")
    if decline is None:
        return None, None
    reason = (decline.code("reason", 32) or "other").upper()
    if reason not in DECLINE_REASONS:
        raise fail(decline.at("reason"), "is not a decline reason")
    return reason, decline.text("note", 500)


def parse_return_status(payload: Any) -> ChannelReturn:
    """``returns/decline``, ``returns/close``, ``returns/cancel``, ``returns/reopen``: which return,
    of which order, now in which status (no lines; a decline's reason and note)."""
    body = Body(payload, "return")
    reason, note = _decline(body)
    return ChannelReturn(id=body.gid("Return"), order_id=_order(body), status=_status(body),
                         decline_reason=reason, decline_note=note)
