"""``returnProcess`` (with or without a refund), ``Return.suggestedFinancialOutcome`` and
``reverseDeliveryCreateWithShipping``.

https://shopify.dev/docs/api/admin-graphql/latest/mutations/returnProcess
Processing confirms units of an OPEN return's lines (at most what is still processable). A refund
goes through ``financialTransfer.issueRefund``: one order transaction whose parent is the order's
sale and whose amount, in the order's currency, is more than zero and at most what the processed
units were paid (``allowOverRefunding`` lifts that cap). The refund is an ordinary refund of the
order (:mod:`.refunds`: ``refunds/create``, ``orders/updated``) that names the return; no
financial transfer processes the units without money (an exchange). Dispositions ``RESTOCKED``
put the units back at their location. When every unit is processed the return closes
(``returns/close``). The SDL marks neither mutation ``@idempotent``: a retry processes again.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from graphql import GraphQLError

from .payloads import level_payload
from .queries import resolver
from .return_payloads import close_payload, return_payload
from .returns import ReturnError, _answer
from .state import now_iso

NO_SUCH_FEATURE = "is not supported by the emulated shop"


def money_bag(amount: Decimal, currency: str) -> dict:
    money = {"amount": str(amount.quantize(Decimal("0.01"))), "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": dict(money)}


def sale_transaction(shop, order: dict) -> dict:
    """The order's SALE transaction (what a refund's transaction names as its parent)."""
    if order.get("_sale") is None:
        lines = [shop.nodes[i] for i in order["_line_items"]]
        paid = sum((Decimal(li["_price"]) * li["quantity"] for li in lines), Decimal(0))
        order["_sale"] = shop.new("OrderTransaction", kind="SALE", status="SUCCESS",
                                  amountSet=money_bag(paid, order["currencyCode"]))["id"]
    return shop.nodes[order["_sale"]]


def _unit_price(shop, line: dict) -> Decimal:
    fli = shop.nodes[line["_fulfillment_line_item"]]
    return Decimal(shop.nodes[fli["_line_item"]]["_price"])


@resolver("Return", "suggestedFinancialOutcome")
def suggested_financial_outcome(record, info, returnLineItems, exchangeLineItems, **_options):
    shop = info.context.shop
    if exchangeLineItems:
        raise GraphQLError("Exchange line item does not exist.", extensions={"code": "NOT_FOUND"})
    total = Decimal(0)
    for item in returnLineItems:
        if item["id"] not in record["_lines"]:
            raise GraphQLError("Return line item does not exist.", extensions={"code": "NOT_FOUND"})
        line = shop.nodes[item["id"]]
        if not 0 < item["quantity"] <= line["quantity"] - line["refundedQuantity"]:
            raise GraphQLError("Quantity is not refundable.", extensions={"code": "INVALID"})
        total += _unit_price(shop, line) * item["quantity"]
    order = shop.nodes[record["_order"]]
    amount = money_bag(total, order["currencyCode"])
    return {"financialTransfer": {
        "__typename": "RefundReturnOutcome", "amount": amount,
        "suggestedTransactions": [{"kind": "SUGGESTED_REFUND", "amountSet": amount,
                                   "parentTransaction": sale_transaction(shop, order)}]}}


def _processing_plan(shop, record: dict, items: list[dict]) -> list[tuple[dict, int, list]]:
    plan, seen = [], set()
    for i, item in enumerate(items):
        at = ["input", "returnLineItems", str(i)]
        if item["id"] not in record["_lines"] or item["id"] in seen:
            raise ReturnError([*at, "id"], "Return line item does not exist.", "NOT_FOUND")
        seen.add(item["id"])
        line = shop.nodes[item["id"]]
        if item["quantity"] <= 0:
            raise ReturnError([*at, "quantity"], "Quantity must be greater than 0.", "GREATER_THAN")
        if item["quantity"] > line["quantity"] - line["processedQuantity"]:
            raise ReturnError([*at, "quantity"], "Quantity exceeds the processable quantity.",
                              "LESS_THAN_OR_EQUAL_TO")
        plan.append((line, item["quantity"], _restocks(shop, record, line, item, at)))
    return plan


def _restocks(shop, record: dict, line: dict, item: dict, at: list[str]) -> list[tuple[dict, int]]:
    """``[(inventory level, units)]`` the ``RESTOCKED`` dispositions put back."""
    out, total = [], 0
    rfo_lines = {shop.nodes[x]["_return_line"]: x for rfo in record["_rfos"]
                 for x in shop.nodes[rfo]["_lines"]}
    for j, disposition in enumerate(item.get("dispositions") or ()):
        where = [*at, "dispositions", str(j)]
        if disposition["reverseFulfillmentOrderLineItemId"] != rfo_lines.get(line["id"]):
            raise ReturnError([*where, "reverseFulfillmentOrderLineItemId"],
                              "Reverse fulfillment order line item does not exist.", "NOT_FOUND")
        total += disposition["quantity"]
        if disposition["quantity"] <= 0 or total > item["quantity"]:
            raise ReturnError([*where, "quantity"], "Quantity is invalid.", "INVALID")
        if disposition["dispositionType"] != "RESTOCKED":
            continue
        location = shop.get(disposition.get("locationId"), "Location")
        variant = shop.nodes.get(shop.nodes[shop.nodes[line["_fulfillment_line_item"]]["_line_item"]]["_variant"])
        level = shop.nodes[variant["_item"]]["_levels"].get(location["id"]) if location and variant else None
        if level is None:
            raise ReturnError([*where, "locationId"], "Location does not exist.", "NOT_FOUND")
        out.append((level, disposition["quantity"]))
    return out


def _refund_amount(shop, order: dict, plan, transfer: dict | None) -> Decimal | None:
    refund = (transfer or {}).get("issueRefund")
    if refund is None:
        return None
    at = ["input", "financialTransfer", "issueRefund"]
    if refund.get("refundMethods"):
        raise ReturnError([*at, "refundMethods"], f"Store credit {NO_SUCH_FEATURE}.", "FEATURE_NOT_ENABLED")
    transactions = refund["orderTransactions"]
    if len(transactions) != 1:
        raise ReturnError([*at, "orderTransactions"], "Exactly one order transaction is required.", "INVALID")
    transaction = transactions[0]
    where = [*at, "orderTransactions", "0"]
    if order["_financial_status"] not in ("paid", "partially_paid", "partially_refunded"):
        raise ReturnError(where, "The order has no payment left to refund.", "INVALID_STATE")
    if transaction["parentId"] != sale_transaction(shop, order)["id"]:
        raise ReturnError([*where, "parentId"], "Parent transaction does not exist.", "NOT_FOUND")
    money = transaction["transactionAmount"]
    if money["currencyCode"] != order["currencyCode"]:
        raise ReturnError([*where, "transactionAmount", "currencyCode"],
                          "Currency must be the order's presentment currency.", "INVALID")
    try:
        amount = Decimal(str(money["amount"]))
    except InvalidOperation:
        raise ReturnError([*where, "transactionAmount", "amount"], "Amount is not a number.",
                          "NOT_A_NUMBER") from None
    if not amount > 0:
        raise ReturnError([*where, "transactionAmount", "amount"], "Amount must be greater than 0.",
                          "GREATER_THAN")
    cap = sum((_unit_price(shop, line) * units for line, units, _r in plan), Decimal(0))
    if amount > cap and not refund.get("allowOverRefunding"):
        raise ReturnError([*where, "transactionAmount", "amount"],
                          f"Amount can't exceed the refundable amount of {cap}.", "LESS_THAN_OR_EQUAL_TO")
    return amount


def _refuse_unsupported(data: dict) -> None:
    for key in ("exchangeLineItems", "refundDuties"):
        if data.get(key):
            raise ReturnError(["input", key], f"{key} {NO_SUCH_FEATURE}.", "FEATURE_NOT_ENABLED")
    for key in ("refundShipping", "tipLineId"):
        if data.get(key) is not None:
            raise ReturnError(["input", key], f"{key} {NO_SUCH_FEATURE}.", "FEATURE_NOT_ENABLED")


@resolver("Mutation", "returnProcess")
def return_process(_root, info, input):
    shop, emulator = info.context.shop, info.context.emulator

    def run():
        record = shop.get(input["returnId"], "Return")
        if record is None:
            raise ReturnError(["input", "returnId"], "Return does not exist.", "NOT_FOUND")
        if record["status"] != "OPEN":
            raise ReturnError(["input", "returnId"], "Return must be open to be processed.", "INVALID_STATE")
        _refuse_unsupported(input)
        if not input.get("returnLineItems"):
            raise ReturnError(["input", "returnLineItems"], "Return line items can't be blank.", "BLANK")
        order = shop.nodes[record["_order"]]
        plan = _processing_plan(shop, record, input["returnLineItems"])
        amount = _refund_amount(shop, order, plan, input.get("financialTransfer"))
        if amount is not None:  # first: the one step that can still be refused
            quantities: dict[str, int] = {}
            for line, units, _r in plan:
                line_item = shop.nodes[line["_fulfillment_line_item"]]["_line_item"]
                quantities[line_item] = quantities.get(line_item, 0) + units
            try:
                body = emulator.refund_order(shop.domain, order["id"], quantities, restock=False,
                                             note=input.get("note"), amount=amount, return_gid=record["id"])
            except ValueError as exc:
                raise ReturnError(["input", "financialTransfer"], str(exc), "INVALID") from None
            record["_refunds"].append(body["admin_graphql_api_id"])
        for line, units, restocks in plan:
            line["processedQuantity"] += units
            if amount is not None:
                line["refundedQuantity"] += units
            for level, quantity in restocks:
                shop.change_quantity(level, "available", quantity)
                info.context.emit("inventory_levels/update", level_payload(shop, level))
            shop.touch(line)
        info.context.emit("returns/process", return_payload(shop, record))
        if all(shop.nodes[i]["processedQuantity"] == shop.nodes[i]["quantity"] for i in record["_lines"]):
            record["status"] = "CLOSED"
            record["closedAt"] = now_iso()
            for rfo in record["_rfos"]:
                shop.nodes[rfo]["status"] = "CLOSED"
            info.context.emit("returns/close", close_payload(record))
        shop.touch(record)
        return record
    return _answer("return", run)


def _delivery_lines(shop, rfo: dict, items: list[dict]) -> list[tuple[str, int]]:
    delivered: dict[str, int] = {}
    for delivery in rfo["_deliveries"]:
        for rfo_line, units in shop.nodes[delivery]["_lines"]:
            delivered[rfo_line] = delivered.get(rfo_line, 0) + units
    left = {i: shop.nodes[i]["totalQuantity"] - delivered.get(i, 0) for i in rfo["_lines"]}
    if not items:  # Shopify's rule: an empty list delivers every line (what is left of it)
        out = [(i, units) for i, units in left.items() if units > 0]
        if not out:
            raise ReturnError(["reverseDeliveryLineItems"], "Every item is already in a reverse delivery.",
                              "INVALID")
        return out
    out = []
    for k, item in enumerate(items):
        at = ["reverseDeliveryLineItems", str(k)]
        line_id = item["reverseFulfillmentOrderLineItemId"]
        if line_id not in left:
            raise ReturnError([*at, "reverseFulfillmentOrderLineItemId"],
                              "Reverse fulfillment order line item does not exist.", "NOT_FOUND")
        if not 0 < item["quantity"] <= left[line_id]:
            raise ReturnError([*at, "quantity"], "Quantity is invalid.", "INVALID")
        out.append((line_id, item["quantity"]))
    return out


@resolver("Mutation", "reverseDeliveryCreateWithShipping")
def reverse_delivery_create_with_shipping(_root, info, reverseFulfillmentOrderId, reverseDeliveryLineItems,
                                          trackingInput=None, labelInput=None, notifyCustomer=True):
    shop = info.context.shop

    def run():
        rfo = shop.get(reverseFulfillmentOrderId, "ReverseFulfillmentOrder")
        if rfo is None:
            raise ReturnError(["reverseFulfillmentOrderId"], "Reverse fulfillment order does not exist.",
                              "NOT_FOUND")
        if rfo["status"] != "OPEN":
            raise ReturnError(["reverseFulfillmentOrderId"], "Reverse fulfillment order is not open.",
                              "INVALID_STATE")
        lines = _delivery_lines(shop, rfo, reverseDeliveryLineItems)
        stamp = now_iso()
        tracking = trackingInput or {}
        deliverable = {
            "__typename": "ReverseDeliveryShippingDeliverable",
            "tracking": {"carrierName": None, "number": tracking.get("number"), "url": tracking.get("url")}
            if tracking.get("number") or tracking.get("url") else None,
            "label": {"publicFileUrl": labelInput["fileUrl"], "createdAt": stamp, "updatedAt": stamp}
            if labelInput else None,
        }
        delivery = shop.new("ReverseDelivery", deliverable=deliverable, _rfo=rfo["id"], _lines=lines,
                            _notify=bool(notifyCustomer))
        rfo["_deliveries"].append(delivery["id"])
        shop.touch(rfo)
        return delivery
    return _answer("reverseDelivery", run)
