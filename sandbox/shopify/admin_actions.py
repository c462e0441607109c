"""The emulated store's own admin actions, as JSON endpoints behind the local admin frame's pages.

    POST /store/<handle>/admin/api/orders                  place a test order
    POST /store/<handle>/admin/api/orders/<id>/cancel      cancel it (restock, refund)
    POST /store/<handle>/admin/api/orders/<id>/refund      refund some or all of it
    POST /store/<handle>/admin/api/inventory               set a variant's available stock at a location

Each goes through the emulator's state functions (``add_order``, ``cancel_order``,
``refund_order``, the inventory levels), so the app receives the same signed webhooks a real store
sends. A dev tool, but one a browser reaches: bodies are JSON only (a cross-site form cannot post
them), small, and every field is checked and bounded; a bad one gets a 4xx and a log line.
"""

from __future__ import annotations

import json
import logging
import re

from flask import Flask, jsonify, request

from . import payloads
from .order_seeding import COUNTRY_NAMES
from .state import gid, legacy_id

log = logging.getLogger(__name__)

HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,185}\.[A-Za-z]{2,24}$")
LOCALE_RE = re.compile(r"^[a-z]{2}(?:-[A-Z]{2})?$")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
MAX_BODY = 16_384
MAX_LINES = 20
MAX_UNITS = 100  # per order line: a test order, not a wholesale one
MAX_AVAILABLE = 1_000_000
# A plausible address per country, so a test order needs only a country; others get a generic one.
ADDRESSES = {
    "DE": ("Torstrasse 1", "Berlin", "10119"), "FR": ("10 Rue de Rivoli", "Paris", "75004"),
    "US": ("100 Main Street", "Los Angeles", "90012"), "GB": ("1 Baker Street", "London", "NW1 6XE"),
    "IT": ("Via Roma 1", "Roma", "00184"), "ES": ("Calle Mayor 1", "Madrid", "28013"),
    "NL": ("Damrak 1", "Amsterdam", "1012 LG"), "AT": ("Stephansplatz 1", "Wien", "1010"),
}


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def shop_for(emulator, handle: str) -> str:
    """``acme`` -> ``acme.myshopify.com`` if the emulator has that shop, else 404."""
    domain = f"{handle}.myshopify.com"
    if not HANDLE_RE.match(handle) or domain not in emulator.store.shops:
        raise Refused(404, "no such store")
    return domain


def json_body() -> dict:
    if request.mimetype != "application/json":
        raise Refused(415, "send a JSON object (Content-Type: application/json)")
    if (request.content_length or 0) > MAX_BODY:
        raise Refused(413, f"the body is larger than {MAX_BODY} bytes")
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BODY:
        raise Refused(413, f"the body is larger than {MAX_BODY} bytes")
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise Refused(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise Refused(400, "the body is not a JSON object")
    return body


def _integer(value, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Refused(400, f"{name} must be a whole number from {low} to {high}")
    return value


def _text(body: dict, name: str, limit: int, default: str | None = None) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return default
    if not isinstance(value, str) or len(value) > limit or CONTROL_RE.search(value):
        raise Refused(400, f"{name} must be text of at most {limit} characters")
    return value.strip() or default


def _node_id(value, type_name: str, name: str) -> str:
    """A gid of ``type_name`` or its numeric id."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**53:
        return gid(type_name, value)
    if isinstance(value, str) and re.fullmatch(rf"gid://shopify/{type_name}/\d{{1,16}}", value):
        return value
    raise Refused(400, f"{name} must be a {type_name} id")


def _variant(s, value) -> dict:
    if not isinstance(value, str) or not 0 < len(value) <= 255:
        raise Refused(400, "sku must be text of at most 255 characters")
    variant = next((s.nodes[v] for v in s.variants if s.nodes[v]["sku"] == value), None)
    if variant is None:
        raise Refused(400, "no variant has that sku")
    return variant


# -- the actions -----------------------------------------------------------------------------


def place_order(emulator, domain: str, body: dict) -> dict:
    lines = body.get("lines")
    if not isinstance(lines, list) or not 0 < len(lines) <= MAX_LINES:
        raise Refused(400, f"lines must list 1 to {MAX_LINES} items")
    items, seen = [], set()
    with emulator.lock:
        s = emulator.shop(domain)
        for line in lines:
            if not isinstance(line, dict):
                raise Refused(400, "each line must be an object with sku and quantity")
            variant = _variant(s, line.get("sku"))
            if variant["id"] in seen:
                raise Refused(400, "each sku may appear once")
            seen.add(variant["id"])
            items.append({"variant_id": variant["id"],
                          "quantity": _integer(line.get("quantity"), "quantity", 1, MAX_UNITS)})
    country = body.get("country")
    if not isinstance(country, str) or country not in COUNTRY_NAMES:
        raise Refused(400, f"country must be one of {', '.join(sorted(COUNTRY_NAMES))}")
    email = body.get("email")
    if not isinstance(email, str) or len(email) > 254 or not EMAIL_RE.match(email):
        raise Refused(400, "email must be an email address")
    locale = body.get("locale", "en")
    if not isinstance(locale, str) or not LOCALE_RE.match(locale):
        raise Refused(400, "locale must be a language code such as en, de or zh-CN")
    street, city, zip_code = ADDRESSES.get(country, ("1 Test Street", "Test City", "1000"))
    address = {"first_name": _text(body, "first_name", 60, "Test"),
               "last_name": _text(body, "last_name", 60, "Customer"),
               "address1": _text(body, "address1", 120, street), "city": _text(body, "city", 60, city),
               "zip": _text(body, "zip", 16, zip_code), "country_code": country}
    order_gid = emulator.add_order(domain, line_items=items, shipping_address=address, email=email,
                                   locale=locale)
    return order_summary(emulator, domain, order_gid)


def cancel_order(emulator, domain: str, order_gid: str, body: dict) -> dict:
    reason = body.get("reason", "customer")
    if reason not in payloads.CANCEL_REASONS:
        raise Refused(400, f"reason must be one of {', '.join(payloads.CANCEL_REASONS)}")
    emulator.cancel_order(domain, order_gid, reason)
    return order_summary(emulator, domain, order_gid)


def refund_order(emulator, domain: str, order_gid: str, body: dict) -> dict:
    lines = body.get("lines")
    quantities = None
    if lines is not None:
        if not isinstance(lines, list) or not 0 < len(lines) <= 100:
            raise Refused(400, "lines must list 1 to 100 items (or be left out to refund everything)")
        quantities = {}
        for line in lines:
            if not isinstance(line, dict):
                raise Refused(400, "each line must be an object with line_item_id and quantity")
            key = _node_id(line.get("line_item_id"), "LineItem", "line_item_id")
            if key in quantities:
                raise Refused(400, "each line item may appear once")
            quantities[key] = _integer(line.get("quantity"), "quantity", 1, 10_000)
    restock = body.get("restock", True)
    if not isinstance(restock, bool):
        raise Refused(400, "restock must be true or false")
    refund = emulator.refund_order(domain, order_gid, quantities, restock=restock,
                                   note=_text(body, "note", 255))
    return {"id": refund["admin_graphql_api_id"], "amount": refund["transactions"][0]["amount"],
            "order": order_summary(emulator, domain, order_gid)}


def set_available(emulator, domain: str, body: dict) -> dict:
    """Sets ``available`` like the admin's inventory page (activating the item at the location if
    it is not stocked there yet) and emits ``inventory_levels/update`` when it changed."""
    available = _integer(body.get("available"), "available", 0, MAX_AVAILABLE)
    location_gid = _node_id(body.get("location_id"), "Location", "location_id")
    with emulator.lock:
        s = emulator.shop(domain)
        item = s.nodes[_variant(s, body.get("sku"))["_item"]]
        location = s.get(location_gid, "Location")
        if location is None:
            raise Refused(404, "no such location")
        if not location["isActive"]:
            raise Refused(409, "the location is not active")
        level = item["_levels"].get(location_gid) or s.stock(item, location_gid, 0)
        delta = available - level["_q"]["available"]
        if delta:
            s.change_quantity(level, "available", delta)
            emulator._emit_events(s, [("inventory_levels/update", payloads.level_payload(s, level))])
        return {"sku": item["sku"], "location_id": location_gid, "available": level["_q"]["available"]}


def order_summary(emulator, domain: str, order_gid: str) -> dict:
    """What the admin's order list shows of one order (and the actions answer)."""
    with emulator.lock:
        s = emulator.shop(domain)
        order = s.nodes[order_gid]
        lines = [s.nodes[i] for i in order["_line_items"]]
        address = order["shippingAddress"] or {}
        return {"id": order_gid, "legacy_id": legacy_id(order_gid), "name": order["name"],
                "created_at": order["createdAt"], "email": order["email"], "locale": order["customerLocale"],
                "country": address.get("countryCodeV2"), "financial_status": order["_financial_status"],
                "fulfillment_status": payloads.order_fulfillment_status(s, order) or "unfulfilled",
                "cancelled": bool(order["cancelledAt"]),
                "fulfillments": [_fulfillment(s, f) for f in order.get("_fulfillments", [])],
                "lines": [{"id": li["id"], "legacy_id": legacy_id(li["id"]), "sku": li["sku"], "name": li["name"],
                           "quantity": li["quantity"], "current_quantity": li["currentQuantity"],
                           "fulfilled": li["_fulfilled"]} for li in lines]}


def _fulfillment(s, fulfillment_gid: str) -> dict:
    """A fulfillment as the order page lists it: its name, where it shipped from, its tracking."""
    record = s.nodes[fulfillment_gid]
    location = s.nodes.get(record["_location"]) or {}
    return {"name": record["name"], "status": record["displayStatus"], "location": location.get("name"),
            "tracking": [{"company": t["company"], "number": t["number"]} for t in record["_tracking"]]}


# -- HTTP ------------------------------------------------------------------------------------


def _order_gid(emulator, domain: str, order_id: int) -> str:
    order_gid = gid("Order", order_id)
    with emulator.lock:
        if emulator.shop(domain).get(order_gid, "Order") is None:
            raise Refused(404, "no such order")
    return order_gid


def answer(action, status: int = 200):
    """Runs ``action``; a refusal or a state conflict becomes a 4xx JSON answer and a log line."""
    try:
        return jsonify(action()), status
    except Refused as exc:
        refused = exc
    except KeyError as exc:  # the state functions' "unknown order / line item"
        refused = Refused(404, str(exc.args[0]) if exc.args else "not found")
    except ValueError as exc:  # the state functions' "already cancelled", "nothing to refund"…
        refused = Refused(409, str(exc))
    log.warning("store admin refused %s %s: %s %s", request.method, request.path, refused.status, refused.message)
    return jsonify(error=refused.message), refused.status


def register(app: Flask, emulator) -> None:
    base = "/store/<handle>/admin/api"

    @app.post(f"{base}/orders", endpoint="admin_place_order")
    def place(handle):
        return answer(lambda: place_order(emulator, shop_for(emulator, handle), json_body()), 201)

    @app.post(f"{base}/orders/<int:order_id>/cancel", endpoint="admin_cancel_order")
    def cancel(handle, order_id):
        def run():
            domain = shop_for(emulator, handle)
            return cancel_order(emulator, domain, _order_gid(emulator, domain, order_id), json_body())
        return answer(run)

    @app.post(f"{base}/orders/<int:order_id>/refund", endpoint="admin_refund_order")
    def refund(handle, order_id):
        def run():
            domain = shop_for(emulator, handle)
            return refund_order(emulator, domain, _order_gid(emulator, domain, order_id), json_body())
        return answer(run, 201)

    @app.post(f"{base}/inventory", endpoint="admin_set_available")
    def inventory(handle):
        return answer(lambda: set_available(emulator, shop_for(emulator, handle), json_body()))
