"""Returns through Shopify's Returns API: what can be returned, a return's request, approval or
decline, the customer's parcel back (reverse delivery), and processing with or without a refund.

https://shopify.dev/docs/apps/build/orders-fulfillment/returns-apps/build-return-management
Reasons are Shopify's standardized return reasons, named by their handle (``"defective"``,
``"size-too-small"``…): the ``ReturnReason`` enum is deprecated in 2026-07, its inputs take a
``returnReasonDefinitionId`` that :func:`request_return` looks up by handle.

None of these mutations is ``@idempotent`` in the 2026-07 SDL, so each makes a retry after a lost
answer safe by reading first or after:

* ``returnRequest``: a retry finds the units already held by the first return and is refused;
  the order's live return with exactly those lines is then the answer.
* ``returnApproveRequest`` / ``returnDeclineRequest``: a return already OPEN (resp. DECLINED) is
  answered as it is.
* ``returnProcess``: the process note carries ``nearstock:<key>`` and lands on the refund; before
  processing, a refund with that note means it was done, and that refund is the answer.
* ``reverseDeliveryCreateWithShipping``: a delivery with the same tracking number or label is
  the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from connectors.errors import PermanentError
from connectors.shopify import mapping
from connectors.shopify.client import ShopifyClient
from integration.domain.channels import (
    ChannelReturn,
    ChannelReturnLine,
    ProcessedReturn,
    ReturnableLine,
    ReturnLineInput,
)

FULFILLMENTS_PAGE = 5  # x 50 lines keeps the query under the 1000 cost cap
DECLINE_REASONS = frozenset({"RETURN_PERIOD_ENDED", "FINAL_SALE", "OTHER"})
LIVE = frozenset({"REQUESTED", "OPEN"})
SYSTEM = "shopify"


def process_note(key: str) -> str:
    return f"nearstock:{key}"


def channel_return(node: dict) -> ChannelReturn:
    lines = []
    for line in mapping.nodes(node.get("returnLineItems")):
        fli = line.get("fulfillmentLineItem") or {}
        lines.append(ChannelReturnLine(
            id=line["id"], fulfillment_line_item_id=fli.get("id"),
            sku=(fli.get("lineItem") or {}).get("sku"), quantity=line["quantity"],
            reason=(line.get("returnReasonDefinition") or {}).get("handle"),
            customer_note=line.get("customerNote")))
    return ChannelReturn(
        id=node["id"], order_id=node["order"]["id"], status=node["status"], name=node.get("name"),
        lines=tuple(lines),
        reverse_fulfillment_order_ids=tuple(r["id"] for r in mapping.nodes(node.get("reverseFulfillmentOrders"))))


def get_returnable_lines(client: ShopifyClient, order_id: str) -> list[ReturnableLine]:
    lines: list[ReturnableLine] = []
    after = None
    while True:
        data = client.execute("ReturnableFulfillments", {"orderId": order_id, "first": FULFILLMENTS_PAGE,
                                                         "after": after})
        connection = data["returnableFulfillments"]
        for fulfillment in mapping.nodes(connection):
            for item in mapping.nodes(fulfillment["returnableFulfillmentLineItems"]):
                fli = item["fulfillmentLineItem"]
                lines.append(ReturnableLine(fulfillment_line_item_id=fli["id"], line_item_id=fli["lineItem"]["id"],
                                            sku=fli["lineItem"].get("sku"), quantity=item["quantity"]))
        has_next, after = mapping.page_info(connection)
        if not has_next:
            return lines


def _reason_ids(client: ShopifyClient, handles: set[str]) -> dict[str, str]:
    data = client.execute("ReturnReasonDefinitions", {"handles": sorted(handles)})
    found = {n["handle"]: n["id"] for n in mapping.nodes(data["returnReasonDefinitions"])}
    unknown = handles - set(found)
    if unknown:
        raise PermanentError(f"unknown return reason {sorted(unknown)[0]!r}", code="unknown_reason", system=SYSTEM,
                             operation="ReturnReasonDefinitions")
    return found


def request_return(client: ShopifyClient, order_id: str, lines: Sequence[ReturnLineInput]) -> ChannelReturn:
    if not lines:
        raise ValueError("a return needs at least one line")
    reasons = _reason_ids(client, {line.reason for line in lines})
    wanted = {(line.fulfillment_line_item_id, line.quantity) for line in lines}
    data = client.execute("ReturnRequest", {"input": {"orderId": order_id, "returnLineItems": [
        {"fulfillmentLineItemId": line.fulfillment_line_item_id, "quantity": int(line.quantity),
         "returnReasonDefinitionId": reasons[line.reason], "customerNote": line.customer_note}
        for line in lines]}}, handled_codes={"INVALID"})
    payload = data["returnRequest"]
    if not payload["userErrors"]:
        return channel_return(payload["return"])
    # "not available for return": an earlier attempt whose answer was lost may hold the units.
    for node in mapping.nodes((client.execute("OrderReturns", {"id": order_id}).get("order") or {}).get("returns")):
        units = {((line.get("fulfillmentLineItem") or {}).get("id"), line["quantity"])
                 for line in mapping.nodes(node["returnLineItems"])}
        if node["status"] in LIVE and units == wanted:
            return get_return(client, node["id"])
    error = payload["userErrors"][0]
    raise PermanentError(f"returnRequest: {error['message']}", code=error.get("code"), system=SYSTEM,
                         operation="ReturnRequest", field=error.get("field"))


def get_return(client: ShopifyClient, return_id: str) -> ChannelReturn:
    node = client.execute("Return", {"id": return_id}).get("return")
    if node is None:
        raise PermanentError("no such return", code="NOT_FOUND", system=SYSTEM, operation="Return")
    return channel_return(node)


def _decide(client: ShopifyClient, document: str, variables: dict, done_status: str) -> ChannelReturn:
    """Approve or decline; a return already in ``done_status`` (a retry) is answered as it is."""
    data = client.execute(document, variables, handled_codes={"INVALID_STATE"})
    payload = data[document[0].lower() + document[1:]]
    if not payload["userErrors"]:
        return channel_return(payload["return"])
    current = get_return(client, variables.get("id") or variables["input"]["id"])
    if current.status == done_status:
        return current
    raise PermanentError(f"{document}: return is {current.status}", code="INVALID_STATE", system=SYSTEM,
                         operation=document)


def approve_return(client: ShopifyClient, return_id: str) -> ChannelReturn:
    return _decide(client, "ReturnApproveRequest", {"id": return_id}, "OPEN")


def decline_return(client: ShopifyClient, return_id: str, reason: str, note: str | None = None) -> ChannelReturn:
    if reason not in DECLINE_REASONS:
        raise ValueError(f"not a ReturnDeclineReason: {reason!r}")
    return _decide(client, "ReturnDeclineRequest", {"input": {
        "id": return_id, "declineReason": reason, "declineNote": note, "notifyCustomer": False}}, "DECLINED")


def create_reverse_delivery(client: ShopifyClient, reverse_fulfillment_order_id: str, *,
                            tracking_number: str | None, tracking_url: str | None, label_url: str | None) -> str:
    """Every line of the reverse fulfillment order in one delivery; Shopify's input has no carrier
    field (it reads the carrier from the number and URL)."""
    if not (tracking_number or label_url):
        raise ValueError("a reverse delivery needs a tracking number or a label")
    data = client.execute("ReverseFulfillmentOrderDeliveries", {"id": reverse_fulfillment_order_id})
    rfo = data.get("reverseFulfillmentOrder")
    if rfo is None:
        raise PermanentError("no such reverse fulfillment order", code="NOT_FOUND", system=SYSTEM,
                             operation="ReverseFulfillmentOrderDeliveries")
    for delivery in mapping.nodes(rfo["reverseDeliveries"]):
        deliverable = delivery.get("deliverable") or {}
        if ((deliverable.get("tracking") or {}).get("number") or None) == tracking_number and (
                (deliverable.get("label") or {}).get("publicFileUrl") or None) == label_url:
            return delivery["id"]
    tracking = {k: v for k, v in {"number": tracking_number, "url": tracking_url}.items() if v}
    data = client.execute("ReverseDeliveryCreateWithShipping", {
        "reverseFulfillmentOrderId": reverse_fulfillment_order_id, "trackingInput": tracking or None,
        "labelInput": {"fileUrl": label_url} if label_url else None})
    return data["reverseDeliveryCreateWithShipping"]["reverseDelivery"]["id"]


def _processed(node: dict, note: str) -> ProcessedReturn | None:
    """The result of processing with ``note``, if it happened (its refund carries the note)."""
    for refund in mapping.nodes(node.get("refunds")):
        if refund.get("note") == note:
            money = (refund.get("totalRefundedSet") or {}).get("presentmentMoney") or {}
            return ProcessedReturn(return_id=node["id"], status=node["status"], refund_id=refund["id"],
                                   amount=Decimal(money["amount"]) if money else None,
                                   currency=money.get("currencyCode"))
    return None


def _refund_transfer(client: ShopifyClient, return_id: str, lines: Sequence[tuple[str, int]]) -> dict | None:
    data = client.execute("ReturnSuggestedRefund", {"id": return_id, "lines": [
        {"id": line_id, "quantity": int(quantity)} for line_id, quantity in lines]})
    outcome = ((data.get("return") or {}).get("suggestedFinancialOutcome") or {}).get("financialTransfer") or {}
    transactions = [
        {"parentId": t["parentTransaction"]["id"], "transactionAmount": {
            "amount": t["amountSet"]["presentmentMoney"]["amount"],
            "currencyCode": t["amountSet"]["presentmentMoney"]["currencyCode"]}}
        for t in outcome.get("suggestedTransactions") or () if t.get("parentTransaction")
        and Decimal(t["amountSet"]["presentmentMoney"]["amount"]) > 0]
    return {"issueRefund": {"orderTransactions": transactions}} if transactions else None


def process_return(client: ShopifyClient, return_id: str, lines: Sequence[tuple[str, int]], *, refund: bool,
                   key: str) -> ProcessedReturn:
    """Confirm ``(return line id, units)``, refunding what Shopify suggests for them (or nothing: an
    exchange). Exactly once per ``key`` for a refund: a retry finds the refund the first call made.
    Without a refund, a retry finds the lines already processed (no processable units left) and
    answers the return as it is."""
    if not lines or not key:
        raise ValueError("process_return needs lines and a key")
    note = process_note(key)
    node = client.execute("Return", {"id": return_id}).get("return")
    if node is None:
        raise PermanentError("no such return", code="NOT_FOUND", system=SYSTEM, operation="Return")
    done = _processed(node, note)
    if done is not None:
        return done
    current = {line["id"]: line for line in mapping.nodes(node["returnLineItems"])}
    if not refund and all(line_id in current and current[line_id]["quantity"] - current[line_id]["processedQuantity"]
                          < quantity for line_id, quantity in lines):
        return ProcessedReturn(return_id=return_id, status=node["status"])
    data: dict = {"returnId": return_id, "note": note, "notifyCustomer": False,
                  "returnLineItems": [{"id": line_id, "quantity": int(quantity)} for line_id, quantity in lines]}
    transfer = _refund_transfer(client, return_id, lines) if refund else None
    if transfer is not None:
        data["financialTransfer"] = transfer
    result = client.execute("ReturnProcess", {"input": data})["returnProcess"]["return"]
    return _processed(result, note) or ProcessedReturn(return_id=return_id, status=result["status"])
