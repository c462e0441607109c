"""Refunds, as the store's admin (or ``refundCreate``) makes them: money back and units taken off.

https://shopify.dev/docs/api/admin-graphql/latest/mutations/refundCreate
https://shopify.dev/docs/api/webhooks?reference=toml#list-of-topics-refunds/create
A refund line takes unshipped units first: they leave the fulfillment order and their committed
stock goes back to available (restock type ``cancel``); shipped units come back to the location
that shipped them when ``restock`` is set (``return``), else nowhere (``no_restock``). Every
refunded unit leaves the line's ``current_quantity``. Emits ``refunds/create`` (the REST Refund),
``orders/updated`` and ``inventory_levels/update`` for each level that moved.
"""

from __future__ import annotations

from decimal import Decimal

from . import payloads
from .payloads import _id, _money, _money_set, rest_time
from .state import Shop, legacy_id

REFUNDABLE_STATUSES = ("paid", "partially_paid", "partially_refunded")


def refunded_quantities(order: dict) -> dict[str, int]:
    """Units already refunded per line item gid."""
    done: dict[str, int] = {}
    for refund in order.get("_refunds", ()):
        for item in refund["refund_line_items"]:
            gid = item["line_item"]["admin_graphql_api_id"]
            done[gid] = done.get(gid, 0) + item["quantity"]
    return done


def _shipped_from(s: Shop, order: dict, line_id: str) -> str | None:
    """The location of the first fulfillment that shipped units of ``line_id``."""
    for ful_id in order["_fulfillments"]:
        fulfillment = s.nodes[ful_id]
        if any(s.nodes[foli]["_line_item"] == line_id for foli, _ in fulfillment["_lines"]):
            return fulfillment["_location"]
    return None


def _plan(s: Shop, order: dict, quantities: dict[str, int] | None) -> list[tuple[dict, int]]:
    """``[(line, units)]`` for ``{line item gid or sku: units}`` (None: all that is refundable)."""
    lines = [s.nodes[i] for i in order["_line_items"]]
    done = refunded_quantities(order)
    if quantities is None:
        plan = [(li, li["quantity"] - done.get(li["id"], 0)) for li in lines]
        return [(li, n) for li, n in plan if n > 0]
    plan = []
    for key, units in quantities.items():
        line = next((li for li in lines if key in (li["id"], li["sku"])), None)
        if line is None:
            raise KeyError(f"order {order['name']} has no line item {key!r}")
        refundable = line["quantity"] - done.get(line["id"], 0)
        if not 0 < units <= refundable:
            raise ValueError(f"line {line['sku'] or line['id']}: {refundable} unit(s) can be refunded, "
                             f"not {units}")
        plan.append((line, units))
    return plan


class RefundsMixin:
    """Needs ``self.lock``, ``self.shop``, ``self._order``, ``self._release`` and ``self._emit_events``."""

    def refund_order(self, shop: str, order_gid: str, quantities: dict[str, int] | None = None, *,
                     restock: bool = True, note: str | None = None, amount: Decimal | None = None,
                     return_gid: str | None = None) -> dict:
        """Refunds ``quantities`` (``{line item gid or sku: units}``; None: everything not yet
        refunded) at the price paid, or ``amount`` when given (a return's refund names its
        transaction's amount), and returns the REST Refund sent with ``refunds/create``.
        ``return_gid``: the return processed by this refund (the body's ``return``)."""
        with self.lock:
            s = self.shop(shop)
            order = self._order(s, order_gid)
            if order["_financial_status"] not in REFUNDABLE_STATUSES:
                raise ValueError(f"order {order['name']} is {order['_financial_status']}: nothing to refund")
            plan = _plan(s, order, quantities)
            if not plan:
                raise ValueError(f"order {order['name']} has nothing left to refund")
            levels: dict[str, dict] = {}
            parts = []  # (line, units, restock type, location gid)
            for line, units in plan:
                unshipped = min(units, max(line["currentQuantity"] - line["_fulfilled"], 0))
                if unshipped:
                    self._release(s, order, {line["id"]: unshipped}, levels, edit=True)
                    parts.append((line, unshipped, "cancel", self._assigned_location(s, order, line)))
                shipped = units - unshipped
                if shipped:
                    location = _shipped_from(s, order, line["id"])
                    item = s.nodes[s.nodes[line["_variant"]]["_item"]] if line["_variant"] else None
                    level = item["_levels"].get(location) if item and location and restock else None
                    if level is not None:
                        s.change_quantity(level, "available", shipped)
                        levels[level["id"]] = level
                    parts.append((line, shipped, "return" if level is not None else "no_restock", location))
                line["currentQuantity"] -= units
                s.touch(line)
            body = _refund_payload(s, order, parts, restock=restock, note=note, amount=amount,
                                   return_gid=return_gid)
            order.setdefault("_refunds", []).append(body)
            refunded = sum(Decimal(t["amount"]) for r in order["_refunds"] for t in r["transactions"])
            paid = sum((Decimal(li["_price"]) * li["quantity"] for li in (s.nodes[i] for i in order["_line_items"])),
                       Decimal(0))
            order["_financial_status"] = "refunded" if refunded >= paid else "partially_refunded"
            s.touch(order)
            self._emit_events(s, [("refunds/create", body), ("orders/updated", payloads.order_payload(s, order)),
                                  *(("inventory_levels/update", payloads.level_payload(s, level))
                                    for level in levels.values())])
            return body

    @staticmethod
    def _assigned_location(s: Shop, order: dict, line: dict) -> str | None:
        for fo_id in order["_fulfillment_orders"]:
            fo = s.nodes[fo_id]
            if any(s.nodes[i]["_line_item"] == line["id"] for i in fo["_line_items"]):
                return fo["assignedLocation"]["_location"]
        return None


def _refund_payload(s: Shop, order: dict, parts, *, restock: bool, note: str | None,
                    amount: Decimal | None = None, return_gid: str | None = None) -> dict:
    """The REST Refund: ``refund_line_items`` (one per line and restock type) and its transaction.
    The GraphQL Refund record keeps its note and total (``Return.refunds``)."""
    currency = order["currencyCode"]
    refund = s.new("Refund", _order=order["id"], note=note, _return=return_gid)
    stamp = rest_time(s, refund["createdAt"])
    items, total = [], Decimal(0)
    for line, units, restock_type, location in parts:
        subtotal = Decimal(line["_price"]) * units
        total += subtotal
        record = s.new("RefundLineItem")
        items.append({
            "id": legacy_id(record["id"]), "line_item_id": legacy_id(line["id"]), "location_id": _id(location),
            "quantity": units, "restock_type": restock_type, "subtotal": float(_money(subtotal)),
            "subtotal_set": _money_set(subtotal, currency), "total_tax": 0.0,
            "total_tax_set": _money_set(Decimal(0), currency),
            "line_item": payloads.line_item_payload(s, line, currency),
        })
    total = total if amount is None else amount
    money = {"amount": _money(total), "currencyCode": currency}
    refund["totalRefundedSet"] = {"shopMoney": money, "presentmentMoney": dict(money)}
    transaction = s.new("OrderTransaction")
    returned = {"id": legacy_id(return_gid), "admin_graphql_api_id": return_gid} if return_gid else None
    return {
        "id": legacy_id(refund["id"]), "admin_graphql_api_id": refund["id"], "order_id": legacy_id(order["id"]),
        "created_at": stamp, "processed_at": stamp, "note": note, "restock": restock, "user_id": None,
        "duties": [], "total_duties_set": _money_set(Decimal(0), currency), "return": returned,
        "refund_line_items": items, "refund_shipping_lines": [], "order_adjustments": [],
        "transactions": [{
            "id": legacy_id(transaction["id"]), "admin_graphql_api_id": transaction["id"],
            "order_id": legacy_id(order["id"]), "kind": "refund", "gateway": "manual", "status": "success",
            "message": "Refunded", "created_at": stamp, "processed_at": stamp, "test": True,
            "authorization": None, "location_id": None, "user_id": None, "parent_id": None, "device_id": None,
            "error_code": None, "source_name": "web", "amount": _money(total), "currency": currency,
        }],
    }
