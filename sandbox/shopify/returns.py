"""The Returns API: ``returnRequest``, ``returnApproveRequest``, ``returnDeclineRequest``.

https://shopify.dev/docs/apps/build/orders-fulfillment/returns-apps/build-return-management
A return names fulfillment line items (units that were shipped) and may take no more units of one
than are still returnable: shipped, not refunded, and not in another return that was not declined
or canceled. A requested return waits for the merchant (REQUESTED); approving it opens it (OPEN)
and creates its reverse fulfillment order; declining it frees its units again (DECLINED). Wrong
states and wrong ids answer ``ReturnUserError``s with the ``ReturnErrorCode`` values; nothing is
changed then. Processing and reverse deliveries: :mod:`.return_processing`. Customers request
returns through :mod:`.customer_returns` (as from their customer account).
"""

from __future__ import annotations

from .queries import resolver
from .return_payloads import decline_payload, reason_library, return_payload
from .state import now_iso

LIVE = ("REQUESTED", "OPEN", "CLOSED")  # a return in these states holds its units
MAX_CUSTOMER_NOTE = 300
MAX_REASON_NOTE = 255
MAX_DECLINE_NOTE = 500


class ReturnError(Exception):
    """One ``ReturnUserError``: nothing was changed."""

    def __init__(self, field: list[str] | None, message: str, code: str) -> None:
        super().__init__(message)
        self.error = {"field": field, "message": message, "code": code}


def returned_units(shop, order: dict) -> dict[str, int]:
    """Units of each fulfillment line item held by the order's live returns."""
    held: dict[str, int] = {}
    for return_id in order.get("_returns", ()):
        record = shop.nodes[return_id]
        if record["status"] in LIVE:
            for line_id in record["_lines"]:
                line = shop.nodes[line_id]
                key = line["_fulfillment_line_item"]
                held[key] = held.get(key, 0) + line["quantity"]
    return held


def returnable(shop, order: dict) -> list[tuple[dict, dict, int]]:
    """``[(fulfillment, fulfillment line item, units still returnable)]`` with units > 0: shipped,
    not refunded (the line's current quantity), not held by a live return."""
    held = returned_units(shop, order)
    per_line: dict[str, int] = {}
    for fli_id, units in held.items():
        line_id = shop.nodes[fli_id]["_line_item"]
        per_line[line_id] = per_line.get(line_id, 0) + units
    out = []
    for ful_id in order["_fulfillments"]:
        fulfillment = shop.nodes[ful_id]
        for fli_id in fulfillment.get("_fulfillment_line_items", ()):
            fli = shop.nodes[fli_id]
            line = shop.nodes[fli["_line_item"]]
            left_on_line = line["currentQuantity"] - per_line.get(line["id"], 0)
            units = min(fli["quantity"] - held.get(fli_id, 0), left_on_line)
            if units > 0:
                out.append((fulfillment, fli, units))
                per_line[line["id"]] = per_line.get(line["id"], 0) + units
    return out


def _reason(shop, spec: dict, path: list[str]) -> str:
    """The ReturnReasonDefinition of a line: by id, or by the (deprecated) legacy enum value."""
    library = reason_library(shop)
    if spec.get("returnReasonDefinitionId"):
        found = next((r for r in library if r["id"] == spec["returnReasonDefinitionId"]), None)
        if found is None:
            raise ReturnError([*path, "returnReasonDefinitionId"],
                              "Return reason definition does not exist.", "NOT_FOUND")
        return found["id"]
    if spec.get("returnReason"):
        return next(r["id"] for r in library if r["_legacy"] == spec["returnReason"])
    raise ReturnError([*path, "returnReasonDefinitionId"], "Return reason can't be blank.", "BLANK")


def _text(value, path: list[str], limit: int) -> str | None:
    if value is not None and len(value) > limit:
        raise ReturnError(path, f"is too long (maximum is {limit} characters)", "TOO_LONG")
    return value


def create_return(shop, order_id: str, specs: list[dict], *, status: str, path: list[str]) -> dict:
    """A return of ``specs`` (``ReturnRequestLineItemInput`` dicts) on the order; raises
    :class:`ReturnError` (nothing made) when an id, a quantity or a reason is wrong."""
    order = shop.get(order_id, "Order")
    if order is None:
        raise ReturnError([*path, "orderId"], "Order does not exist.", "NOT_FOUND")
    if not specs:
        raise ReturnError([*path, "returnLineItems"], "Return line items can't be blank.", "BLANK")
    available = {fli["id"]: units for _f, fli, units in returnable(shop, order)}
    shipped = {fli for f in order["_fulfillments"]
               for fli in shop.nodes[f].get("_fulfillment_line_items", ())}
    lines, seen = [], set()
    for i, spec in enumerate(specs):
        at = [*path, "returnLineItems", str(i)]
        fli_id = spec["fulfillmentLineItemId"]
        if fli_id not in shipped:
            raise ReturnError([*at, "fulfillmentLineItemId"], "Fulfillment line item does not exist.",
                              "NOT_FOUND")
        if fli_id in seen:
            raise ReturnError([*at, "fulfillmentLineItemId"],
                              "Fulfillment line item has already been taken.", "TAKEN")
        seen.add(fli_id)
        if spec["quantity"] <= 0:
            raise ReturnError([*at, "quantity"], "Quantity must be greater than 0.", "GREATER_THAN")
        if spec["quantity"] > available.get(fli_id, 0):
            raise ReturnError([*at, "quantity"], "Quantity is not available for return.", "INVALID")
        if spec.get("restockingFee") is not None:
            raise ReturnError([*at, "restockingFee"], "Restocking fees are not enabled on this shop.",
                              "FEATURE_NOT_ENABLED")
        lines.append((spec, fli_id, _reason(shop, spec, at),
                      _text(spec.get("customerNote"), [*at, "customerNote"], MAX_CUSTOMER_NOTE),
                      _text(spec.get("returnReasonNote") or "", [*at, "returnReasonNote"], MAX_REASON_NOTE)))
    seq = order.setdefault("_return_seq", [0])
    seq[0] += 1
    record = shop.new("Return", name=f"{order['name']}-R{seq[0]}", status=status, closedAt=None,
                      requestApprovedAt=None, decline=None, _order=order["id"], _lines=[], _rfos=[],
                      _refunds=[])
    for spec, fli_id, reason, customer_note, reason_note in lines:
        line = shop.new("ReturnLineItem", quantity=spec["quantity"], processedQuantity=0,
                        refundedQuantity=0, customerNote=customer_note or None,
                        returnReasonNote=reason_note, _reason=reason, _fulfillment_line_item=fli_id,
                        _return=record["id"])
        record["_lines"].append(line["id"])
    order.setdefault("_returns", []).append(record["id"])
    shop.touch(order)
    return record


def open_return(shop, record: dict) -> None:
    """REQUESTED -> OPEN: its reverse fulfillment order, one line per return line."""
    record["status"] = "OPEN"
    record["requestApprovedAt"] = now_iso()
    rfo = shop.new("ReverseFulfillmentOrder", status="OPEN", _order=record["_order"], _lines=[],
                   _deliveries=[], _return=record["id"])
    for line_id in record["_lines"]:
        line = shop.nodes[line_id]
        rfo_line = shop.new("ReverseFulfillmentOrderLineItem", totalQuantity=line["quantity"],
                            _fulfillment_line_item=line["_fulfillment_line_item"], _return_line=line_id)
        rfo["_lines"].append(rfo_line["id"])
    record["_rfos"].append(rfo["id"])
    shop.touch(record)


def _answer(key: str, action):
    try:
        return {key: action(), "userErrors": []}
    except ReturnError as exc:
        return {key: None, "userErrors": [exc.error]}


def _requested(shop, return_id: str, verb: str) -> dict:
    record = shop.get(return_id, "Return")
    if record is None:
        raise ReturnError(["input", "id"], "Return does not exist.", "NOT_FOUND")
    if record["status"] != "REQUESTED":
        raise ReturnError(["input", "id"], f"Return is not {verb}. Only returns with status "
                          "REQUESTED can be " + verb.removesuffix("able") + "ed.", "INVALID_STATE")
    return record


@resolver("Mutation", "returnRequest")
def return_request(_root, info, input):
    shop = info.context.shop
    if input.get("returnShippingFee") is not None:
        return {"return": None, "userErrors": [{
            "field": ["input", "returnShippingFee"], "code": "FEATURE_NOT_ENABLED",
            "message": "Return shipping fees are not enabled on this shop."}]}

    def run():
        record = create_return(shop, input["orderId"], input["returnLineItems"], status="REQUESTED",
                               path=["input"])
        info.context.emit("returns/request", return_payload(shop, record))
        return record
    return _answer("return", run)


@resolver("Mutation", "returnApproveRequest")
def return_approve_request(_root, info, input):
    shop = info.context.shop

    def run():
        record = _requested(shop, input["id"], "approvable")
        open_return(shop, record)
        info.context.emit("returns/approve", return_payload(shop, record))
        return record
    return _answer("return", run)


@resolver("Mutation", "returnDeclineRequest")
def return_decline_request(_root, info, input):
    shop = info.context.shop

    def run():
        note = _text(input.get("declineNote"), ["input", "declineNote"], MAX_DECLINE_NOTE)
        record = _requested(shop, input["id"], "declinable")
        record["status"] = "DECLINED"
        record["decline"] = {"reason": input["declineReason"], "note": note}
        shop.touch(record)
        info.context.emit("returns/decline", decline_payload(record))
        return record
    return _answer("return", run)
