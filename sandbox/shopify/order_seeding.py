"""Order seeding and inspection helpers of :class:`~sandbox.shopify.emulator.ShopifyEmulator`.

Each change emits the webhooks Shopify sends for it, with the whole REST-shaped order
(:mod:`.payloads`), and moves ``updatedAt`` strictly forward so apps that keep only newer copies
see every change.
"""

from __future__ import annotations

import secrets

from . import payloads
from .state import Shop

_ADDRESS_KEYS = {"first_name": "firstName", "last_name": "lastName", "country_code": "countryCodeV2",
                 "countryCode": "countryCodeV2", "province_code": "provinceCode"}
ADDRESS_FIELDS = ("firstName", "lastName", "name", "company", "address1", "address2", "city",
                  "province", "provinceCode", "zip", "country", "countryCodeV2", "phone")
# Shopify fills the country name from the code; enough of them for tests and the demo.
COUNTRY_NAMES = {"AT": "Austria", "AU": "Australia", "BE": "Belgium", "CA": "Canada", "CH": "Switzerland",
                 "CN": "China", "CZ": "Czechia", "DE": "Germany", "DK": "Denmark", "ES": "Spain",
                 "FI": "Finland", "FR": "France", "GB": "United Kingdom", "IE": "Ireland", "IT": "Italy",
                 "JP": "Japan", "NL": "Netherlands", "NO": "Norway", "PL": "Poland", "PT": "Portugal",
                 "SE": "Sweden", "US": "United States"}
_CUSTOMER_KEYS = {"first_name": "firstName", "last_name": "lastName"}
_CUSTOMER_FIELDS = ("email", "firstName", "lastName", "phone")
FINANCIAL_STATUSES = ("pending", "authorized", "partially_paid", "paid", "partially_refunded", "refunded",
                      "voided")
ORDER_CHANGES = ("email", "phone", "note", "tags", "customer_locale", "financial_status", "shipping_address",
                 "billing_address", "customer", "current_quantities")


def _fields(data: dict, aliases: dict, allowed: tuple, what: str) -> dict:
    """REST (``first_name``) or GraphQL (``firstName``) keys -> the record's GraphQL keys."""
    out = {aliases.get(k, k): v for k, v in data.items()}
    unknown = set(out) - set(allowed)
    if unknown:
        raise ValueError(f"unknown {what} field(s): {', '.join(sorted(unknown))}")
    return {k: out.get(k) for k in allowed}


def _address(s: Shop, data: dict | None) -> dict | None:
    if data is None:
        return None
    address = _fields(data, _ADDRESS_KEYS, ADDRESS_FIELDS, "address")
    if not address["country"]:
        address["country"] = COUNTRY_NAMES.get((address["countryCodeV2"] or "").upper())
    if not address["name"]:
        address["name"] = " ".join(p for p in (address["firstName"], address["lastName"]) if p) or None
    return s.new("MailingAddress", **address)


def _customer(s: Shop, data: dict, email: str | None, address: dict | None) -> dict:
    """The order's customer: an existing one with the same email, updated, or a new one (Shopify
    attaches checkouts to a customer by email)."""
    fields = _fields({"email": email, **data}, _CUSTOMER_KEYS, _CUSTOMER_FIELDS, "customer")
    known = s.customers.get((fields["email"] or "").lower())
    if known:
        record = s.nodes[known]
        changed = {k: v for k, v in fields.items() if v is not None and record[k] != v}
        if changed:
            record.update(changed)
            s.touch(record)
        return record
    record = s.new("Customer", **fields, _default_address=address["id"] if address else None)
    if fields["email"]:
        s.customers[fields["email"].lower()] = record["id"]
    return record


class OrderSeedingMixin:
    """Needs ``self.lock``, ``self.shop`` and ``self._emit_events``."""

    def add_order(self, shop: str, *, line_items: list[dict], shipping_address: dict, email: str,
                  locale: str = "en", currency: str | None = None, customer: dict | None = None,
                  billing_address: dict | None = None, phone: str | None = None,
                  financial_status: str = "paid") -> str:
        """``line_items``: ``{"sku" or "variant_id", "quantity", "location_id"?, "price"?}``.
        Each line is assigned to ``location_id`` or to the first active location with enough
        stock; one fulfillment order per assigned location; stock moves available -> committed.
        Addresses take REST (``first_name``, ``country_code``) or GraphQL keys; ``billing_address``
        defaults to the shipping address; ``customer`` (``first_name``, ``last_name``, ``email``,
        ``phone``) defaults to the names of the shipping address and ``email``.
        Emits ``orders/create`` and ``inventory_levels/update`` for the stock it commits."""
        if financial_status not in FINANCIAL_STATUSES:
            raise ValueError(f"unknown financial_status {financial_status!r}")
        with self.lock:
            s = self.shop(shop)
            shipping = _address(s, shipping_address)
            billing = _address(s, billing_address or shipping_address)
            names = {"first_name": shipping["firstName"], "last_name": shipping["lastName"]}
            buyer = _customer(s, {**names, **(customer or {})}, email, shipping)
            number = next(s.order_seq)
            order = s.new("Order", name=f"#{number}", email=email, phone=phone, cancelledAt=None,
                          cancelReason=None, currencyCode=currency or s.record["currencyCode"],
                          customerLocale=locale, shippingAddress=shipping, _billing_address=billing,
                          _customer=buyer["id"], _financial_status=financial_status, _number=number,
                          _token=secrets.token_hex(16), _confirmation=secrets.token_hex(5).upper()[:9],
                          _note=None, _tags=[], _line_items=[], _fulfillment_orders=[], _fulfillments=[])
            order["processedAt"] = order["createdAt"]
            by_location: dict[str, list] = {}
            for spec in line_items:
                variant = s.get(spec.get("variant_id"), "ProductVariant") if spec.get(
                    "variant_id") else next((s.nodes[v] for v in s.variants
                                             if s.nodes[v]["sku"] == spec.get("sku")), None)
                if variant is None:
                    raise KeyError(f"no variant for line item {spec}")
                item = s.nodes[variant["_item"]]
                quantity = int(spec["quantity"])
                location = spec.get("location_id") or self._assign(s, item, quantity)
                product = s.nodes[variant["_product"]]
                line = s.new("LineItem", name=f"{product['title']} - {variant['title']}",
                             title=product["title"], sku=variant["sku"], quantity=quantity,
                             currentQuantity=quantity, _variant=variant["id"], _fulfilled=0,
                             _price=str(spec.get("price", variant["price"])))
                order["_line_items"].append(line["id"])
                by_location.setdefault(location, []).append((line, item, quantity, variant))
            levels = {}
            for location_gid, lines in by_location.items():
                loc = s.nodes[location_gid]
                fo = s.new("FulfillmentOrder", requestStatus="UNSUBMITTED", orderId=order["id"],
                           orderName=order["name"], _line_items=[], _fulfillments=[],
                           assignedLocation={
                               "name": loc["name"], "countryCode": loc["address"]["countryCode"],
                               "address1": loc["address"]["address1"], "address2": None,
                               "city": loc["address"]["city"], "province": None,
                               "zip": loc["address"]["zip"], "phone": None,
                               "_location": location_gid})
                for line, item, quantity, variant in lines:
                    foli = s.new("FulfillmentOrderLineItem", sku=variant["sku"],
                                 productTitle=line["title"], variantTitle=variant["title"],
                                 totalQuantity=quantity, remainingQuantity=quantity,
                                 inventoryItemId=item["id"], _line_item=line["id"])
                    fo["_line_items"].append(foli["id"])
                    level = item["_levels"].get(location_gid)
                    if level is not None:
                        s.move_quantity(level, "available", "committed", quantity)
                        levels[level["id"]] = level
                order["_fulfillment_orders"].append(fo["id"])
            s.orders.append(order["id"])
            self._emit_events(s, [("orders/create", payloads.order_payload(s, order)),
                                  *(("inventory_levels/update", payloads.level_payload(s, level))
                                    for level in levels.values())])
            return order["id"]

    @staticmethod
    def _assign(s: Shop, item: dict, quantity: int) -> str:
        active = [loc for loc in s.locations if s.nodes[loc]["isActive"]]
        for loc in active:
            level = item["_levels"].get(loc)
            if level is not None and level["_q"]["available"] >= quantity:
                return loc
        stocked = [loc for loc in active if loc in item["_levels"]]
        if stocked or active:
            return (stocked or active)[0]
        raise ValueError("the shop has no active location to assign the order to")

    @staticmethod
    def _order(s: Shop, order_gid: str) -> dict:
        order = s.get(order_gid, "Order")
        if order is None:
            raise KeyError(f"unknown order {order_gid}")
        return order

    @staticmethod
    def _release(s: Shop, order: dict, wanted: dict[str, int], levels: dict, *, edit: bool) -> None:
        """Takes ``wanted[line_id]`` unshipped units off the order's fulfillment orders, moving
        their stock from committed back to available (a restock). An order edit removes them from
        the fulfillment order too; a cancellation closes it."""
        for fo_id in order["_fulfillment_orders"]:
            fo = s.nodes[fo_id]
            for foli in (s.nodes[i] for i in fo["_line_items"]):
                take = min(wanted.get(foli["_line_item"], 0), foli["remainingQuantity"])
                if take <= 0:
                    continue
                wanted[foli["_line_item"]] -= take
                foli["remainingQuantity"] -= take
                if edit:
                    foli["totalQuantity"] -= take
                item = s.nodes.get(foli["inventoryItemId"])
                level = item["_levels"].get(fo["assignedLocation"]["_location"]) if item else None
                if level is not None:
                    s.move_quantity(level, "committed", "available", take)
                    levels[level["id"]] = level
                s.touch(fo)

    def cancel_order(self, shop: str, order_gid: str, reason: str = "customer") -> None:
        """Cancels like ``orderCancel(restock: true, refund: true)``: every unshipped unit goes
        back to available, ``cancelled_at``/``cancel_reason`` are set, a paid order is refunded.
        Emits ``orders/cancelled``, ``orders/updated`` and ``inventory_levels/update``.
        Fulfilled units cannot be cancelled (https://shopify.dev/changelog/fulfilled-and-partially-
        fulfilled-orders-can-no-longer-be-canceled-by-using-the-order-resource)."""
        if reason not in payloads.CANCEL_REASONS:
            raise ValueError(f"cancel reason must be one of {', '.join(payloads.CANCEL_REASONS)}")
        with self.lock:
            s = self.shop(shop)
            order = self._order(s, order_gid)
            lines = [s.nodes[i] for i in order["_line_items"]]
            if order["cancelledAt"]:
                raise ValueError(f"order {order['name']} is already cancelled")
            if any(li["_fulfilled"] for li in lines):
                raise ValueError(f"order {order['name']} has fulfilled items and cannot be cancelled")
            levels: dict[str, dict] = {}
            self._release(s, order, {li["id"]: li["currentQuantity"] for li in lines}, levels, edit=False)
            for line in lines:
                line["currentQuantity"] = line["_fulfilled"]
                s.touch(line)
            paid = order["_financial_status"] in ("paid", "partially_paid", "partially_refunded")
            order["_financial_status"] = "refunded" if paid else "voided"
            order["cancelledAt"] = s.touch(order)
            order["cancelReason"] = reason
            body = payloads.order_payload(s, order)
            self._emit_events(s, [("orders/cancelled", body), ("orders/updated", body),
                                  *(("inventory_levels/update", payloads.level_payload(s, level))
                                    for level in levels.values())])

    def update_order(self, shop: str, order_gid: str, **changes) -> None:
        """Edits an order and emits ``orders/updated``. ``changes`` (REST names): ``email``,
        ``phone``, ``note``, ``tags`` (list), ``customer_locale``, ``financial_status``,
        ``shipping_address``/``billing_address`` (dicts, replacing the address), ``customer``
        (dict, merged), ``current_quantities`` (``{line item gid or sku: quantity}``: an order
        edit removing unshipped units, which go back to available stock)."""
        unknown = set(changes) - set(ORDER_CHANGES)
        if unknown:
            raise TypeError(f"update_order() got unknown change(s): {', '.join(sorted(unknown))}")
        with self.lock:
            s = self.shop(shop)
            order = self._order(s, order_gid)
            levels: dict[str, dict] = {}
            for key in ("email", "phone"):
                if key in changes:
                    order[key] = changes[key]
            if "note" in changes:
                order["_note"] = changes["note"]
            if "tags" in changes:
                order["_tags"] = list(changes["tags"])
            if "customer_locale" in changes:
                order["customerLocale"] = changes["customer_locale"]
            if "financial_status" in changes:
                if changes["financial_status"] not in FINANCIAL_STATUSES:
                    raise ValueError(f"unknown financial_status {changes['financial_status']!r}")
                order["_financial_status"] = changes["financial_status"]
            if "shipping_address" in changes:
                order["shippingAddress"] = _address(s, changes["shipping_address"])
            if "billing_address" in changes:
                order["_billing_address"] = _address(s, changes["billing_address"])
            if "customer" in changes:
                current = s.nodes.get(order["_customer"] or "")
                email = (changes["customer"] or {}).get("email") or (current or {}).get("email")
                order["_customer"] = _customer(s, changes["customer"] or {}, email, order["shippingAddress"])["id"]
            if "current_quantities" in changes:
                self._edit_quantities(s, order, changes["current_quantities"], levels)
            s.touch(order)
            self._emit_events(s, [("orders/updated", payloads.order_payload(s, order)),
                                  *(("inventory_levels/update", payloads.level_payload(s, level))
                                    for level in levels.values())])

    def _edit_quantities(self, s: Shop, order: dict, quantities: dict, levels: dict) -> None:
        lines = [s.nodes[i] for i in order["_line_items"]]
        removed = {}
        for key, quantity in quantities.items():
            line = next((li for li in lines if key in (li["id"], li["sku"])), None)
            if line is None:
                raise KeyError(f"order {order['name']} has no line item {key!r}")
            if not line["_fulfilled"] <= quantity <= line["currentQuantity"]:
                raise ValueError(f"line {key!r}: quantity must be between the fulfilled "
                                 f"{line['_fulfilled']} and the current {line['currentQuantity']}")
            removed[line["id"]] = line["currentQuantity"] - quantity
            line["currentQuantity"] = quantity
            s.touch(line)
        self._release(s, order, removed, levels, edit=True)

    def order_payload(self, shop: str, order_gid: str) -> dict:
        """The order as Shopify's order webhooks carry it now (to send by hand with ``send_webhook``)."""
        with self.lock:
            s = self.shop(shop)
            return payloads.order_payload(s, self._order(s, order_gid))
