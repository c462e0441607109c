"""A customer requests a return, as from Shopify's customer accounts (self-serve returns).

    POST /store/<handle>/account/orders/<id>/returns
    {"email": "ada@example.com",
     "lines": [{"sku": "TEE-BLK-M", "quantity": 1, "reason": "defective", "note": "Seam open"}]}

https://help.shopify.com/en/manual/fulfillment/managing-orders/returns/self-serve-returns
The customer is the one signed in to the order's account: ``email`` must be the order's. A line
names a shipped unit by ``sku`` (or ``fulfillment_line_item_id``), a ``quantity`` and a ``reason``
(a return reason handle, see :mod:`.return_payloads`). It makes a REQUESTED return and sends
``returns/request``, exactly as the Customer Account API's ``orderRequestReturn`` does; the same
checks as ``returnRequest`` apply (a unit not returnable, an unknown reason -> 422, nothing made).
Tests call :meth:`CustomerReturnsMixin.request_customer_return` directly.
"""

from __future__ import annotations

from flask import Flask

from .admin_actions import Refused, _integer, _order_gid, _text, answer, json_body, shop_for
from .return_payloads import reason_library, return_payload
from .returns import ReturnError, create_return, returnable

MAX_LINES = 20


class CustomerReturnsMixin:
    """Needs ``self.lock``, ``self.shop`` and ``self._emit_events``."""

    def request_customer_return(self, shop: str, order_gid: str, lines: list[dict], *, email: str) -> str:
        """``lines``: ``{"sku" or "fulfillment_line_item_id", "quantity", "reason", "note"?}``.
        Returns the REQUESTED return's gid; raises :class:`PermissionError` (not the order's
        customer), :class:`KeyError` (unknown order) or :class:`ValueError` (a refused line)."""
        with self.lock:
            s = self.shop(shop)
            order = s.get(order_gid, "Order")
            if order is None:
                raise KeyError(f"unknown order {order_gid}")
            if not email or (order["email"] or "").lower() != email.strip().lower():
                raise PermissionError("the order belongs to another customer")
            specs = [_spec(s, order, line) for line in lines]
            try:
                record = create_return(s, order_gid, specs, status="REQUESTED", path=["requestedLineItems"])
            except ReturnError as exc:
                raise ValueError(f"{exc.error['code']}: {exc.error['message']}") from None
            self._emit_events(s, [("returns/request", return_payload(s, record))])
            return record["id"]


def _spec(s, order: dict, line: dict) -> dict:
    """A customer's line as a ``ReturnRequestLineItemInput``."""
    reasons = {r["handle"]: r["id"] for r in reason_library(s)}
    if line.get("reason") not in reasons:
        raise ValueError(f"unknown return reason; one of: {', '.join(sorted(reasons))}")
    fli_id = line.get("fulfillment_line_item_id")
    if fli_id is None:
        sku = line.get("sku")
        fli_id = next((fli["id"] for _f, fli, _units in returnable(s, order)
                       if s.nodes[fli["_line_item"]]["sku"] == sku), None)
        if fli_id is None:
            raise ValueError("no shipped unit of that sku can be returned")
    return {"fulfillmentLineItemId": fli_id, "quantity": line["quantity"],
            "returnReasonDefinitionId": reasons[line["reason"]], "customerNote": line.get("note")}


def _lines(body: dict) -> list[dict]:
    lines = body.get("lines")
    if not isinstance(lines, list) or not 0 < len(lines) <= MAX_LINES:
        raise Refused(400, f"lines must list 1 to {MAX_LINES} items")
    out = []
    for line in lines:
        if not isinstance(line, dict):
            raise Refused(400, "each line must be a JSON object")
        out.append({"sku": _text(line, "sku", 255), "quantity": _integer(line.get("quantity"), "quantity", 1, 100),
                    "reason": _text(line, "reason", 64), "note": _text(line, "note", 300)})
    return out


def register(app: Flask, emulator) -> None:
    @app.post("/store/<handle>/account/orders/<int:order_id>/returns", endpoint="customer_request_return")
    def request_return(handle, order_id):
        def run():
            domain = shop_for(emulator, handle)
            order_gid = _order_gid(emulator, domain, order_id)
            body = json_body()
            email = _text(body, "email", 254)
            try:
                return_id = emulator.request_customer_return(domain, order_gid, _lines(body), email=email or "")
            except PermissionError as exc:
                raise Refused(403, str(exc)) from None
            except ValueError as exc:
                raise Refused(422, str(exc)) from None
            return {"return_id": return_id, "status": "REQUESTED"}
        return answer(run, 201)
