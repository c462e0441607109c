"""ShipBob emulator: orders, shipments (status, timeline, cancel) and returns.

Endpoints (https://developer.shipbob.com/api/orders, /api/returns): ``POST/GET /order``,
``GET /order/{id}``, ``POST /order/{id}:cancel``, ``GET /order/{id}/shipment[/{sid}[/timeline]]``,
``GET /shipment/{sid}[/timeline]``, ``POST /shipment/{sid}:cancel``, ``POST /shipment:batchCancel``,
``POST/GET /return``, ``GET /return/{id}``, ``POST /return/{id}:cancel``.
"""

from __future__ import annotations

import math

from flask import Response, jsonify, request

from .shipbob_views import INVALID_ADDRESS, OUT_OF_STOCK, EmuOrder
from .sim import SimError

ORDER_TYPES = ("DTC", "DropShip", "B2B")
POSTCODE_COUNTRIES = {"US", "CA", "GB", "DE", "FR", "NL", "BE", "AT", "ES", "IT", "AU", "JP", "PL", "SE", "DK"}
RETURN_ACTIONS = {"Default", "Restock", "Quarantine", "Dispose", 0, 1, 2, 3}
MAX_LIMIT = 250


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def validate_order(body: dict, emu) -> tuple[dict, int]:
    """Errors of a ``CreateOrderModel`` as ({field: [messages]}, status): 400 for the shape, 422
    for references to things that do not exist."""
    errors: dict[str, list[str]] = {}

    def need(path: str, value, label: str) -> None:
        if not isinstance(value, str) or not value.strip():
            errors[path] = [f"The {label} field is required."]

    need("reference_id", body.get("reference_id"), "ReferenceId")
    need("shipping_method", body.get("shipping_method"), "ShippingMethod")
    if body.get("type") not in ORDER_TYPES:
        errors["type"] = [f"The Type field is required and must be one of {', '.join(ORDER_TYPES)}."]
    recipient = body.get("recipient")
    if not isinstance(recipient, dict):
        errors["recipient"] = ["The Recipient field is required."]
    else:
        need("recipient.name", recipient.get("name"), "Name")
        address = recipient.get("address")
        if not isinstance(address, dict):
            errors["recipient.address"] = ["The Address field is required."]
        else:
            for key, label in (("address1", "Address1"), ("city", "City"), ("country", "Country")):
                need(f"recipient.address.{key}", address.get(key), label)
    products = body.get("products")
    if not isinstance(products, list) or not products:
        errors["products"] = ["The Products field is required."]
        products = []
    for i, product in enumerate(products):
        if not isinstance(product, dict):
            errors[f"products[{i}]"] = ["Invalid product."]
            continue
        if not _positive_int(product.get("quantity")):
            errors[f"products[{i}].quantity"] = ["The field Quantity must be between 1 and 2147483647."]
        if product.get("id") is None and not product.get("reference_id"):
            errors[f"products[{i}].reference_id"] = ["Either Id or ReferenceId is required."]
    if errors:
        return errors, 400
    for i, product in enumerate(products):
        if product.get("id") is not None:
            if not any(p["id"] == product["id"] for p in emu.products.values()):
                errors[f"products[{i}].id"] = [f"Product {product['id']} does not exist."]
        elif product["reference_id"] not in emu.variants:
            errors[f"products[{i}].reference_id"] = [f"No product found with reference id '{product['reference_id']}'."]
    location = body.get("location_id")
    if location is not None and location not in emu.centers:
        errors["location_id"] = [f"Location {location} is not a valid fulfillment center."]
    return errors, 422 if errors else 0


def register(app, emu) -> None:
    r = emu.renderer

    def order_or_404(order_id: int) -> EmuOrder | None:
        order = emu.orders.get(order_id)
        channel = emu.require_channel(False)
        if order is None or (channel is not None and order.channel_id != channel):
            return None
        return order

    def shipment_or_404(shipment_id: int, order_id: int | None = None) -> EmuOrder | None:
        order = next((o for o in emu.orders.values() if o.shipment_id == shipment_id), None)
        if order is None or (order_id is not None and order.order_id != order_id):
            return None
        return order

    def lines_of(body: dict) -> list[tuple[str, int]]:
        lines = []
        for product in body["products"]:
            if product.get("id") is not None:
                sku = emu.products[product["id"]]["variants"][0]["sku"]
            else:
                sku = product["reference_id"]
            lines.append((sku, product["quantity"]))
        return lines

    def pick_location(lines) -> int:
        for fc_id in sorted(emu.centers):
            if all(emu.sim.stock.get((str(fc_id), sku)) and emu.sim.stock[(str(fc_id), sku)].available >= qty
                   for sku, qty in lines):
                return fc_id
        return sorted(emu.centers)[0]

    @app.post("/<ver>/order")
    def create_order(ver):
        channel = emu.require_channel(True)
        body = emu.json_body()
        with emu.lock:
            errors, status = validate_order(body, emu)
            if errors:
                return emu.fields(errors, status)
            reference = body["reference_id"]
            if (channel, reference) in emu.by_reference:
                return emu.fields({"": ["Cannot insert order with existing ReferenceId"]}, 422)
            lines = lines_of(body)
            location = body.get("location_id") or pick_location(lines)
            address = dict(body["recipient"]["address"])
            stored = {**body, "products": [{"reference_id": sku, "quantity": qty} for sku, qty in lines],
                      "recipient": {"name": body["recipient"]["name"], "email": body["recipient"].get("email"),
                                    "phone_number": body["recipient"].get("phone_number"), "address": address}}
            order = EmuOrder(order_id=emu.new_id("order"), shipment_id=emu.new_id("shipment"), reference=reference,
                             channel_id=channel, body=stored, location_id=location, created_at=emu.sim.now,
                             in_sim=False, updated_at=emu.sim.now)
            topic = None
            if (address.get("country") or "").upper() in POSTCODE_COUNTRIES and not address.get("zip_code"):
                order.status, order.detail, topic = "OnHold", INVALID_ADDRESS, "order.shipment.on_hold"
            else:
                try:
                    emu.sim.create_order(reference, str(location), lines, address)
                    order.in_sim = True
                except SimError as exc:
                    if exc.code == "duplicate_reference":
                        return emu.fields({"": ["Cannot insert order with existing ReferenceId"]}, 422)
                    if exc.code != "insufficient_stock":
                        return emu.fields({"products": [str(exc)]}, 422)
                    order.status, order.detail, topic = "Exception", OUT_OF_STOCK, "order.shipment.exception"
            emu.orders[order.order_id] = order
            emu.by_reference[(channel, reference)] = order
            view = r.order(order)
            if topic:
                emu.emit(topic, r.shipment(order))
        return jsonify(view), 201

    @app.get("/<ver>/order")
    def list_orders(ver):
        channel = emu.require_channel(False)
        args = request.args
        try:
            page = int(args.get("Page", 1))
            limit = int(args.get("Limit", 50))
        except ValueError:
            return emu.fields({"Page": ["The value is not valid."]})
        if page < 1 or not 1 <= limit <= MAX_LIMIT:
            return emu.fields({"Limit": [f"Limit must be between 1 and {MAX_LIMIT}."]})
        refs = {x for x in args.get("ReferenceIds", "").split(",") if x}
        ids = {x for x in args.get("IDs", "").split(",") if x}
        has_tracking = args.get("HasTracking")
        with emu.lock:
            rows = []
            for order in sorted(emu.orders.values(), key=lambda o: o.order_id):
                if channel is not None and order.channel_id != channel:
                    continue
                if (refs and order.reference not in refs) or (ids and str(order.order_id) not in ids):
                    continue
                view = r.order(order)
                if has_tracking is not None and bool(view["shipments"][0]["tracking"]) != (has_tracking == "true"):
                    continue
                rows.append(view)
        pages = max(1, math.ceil(len(rows) / limit))
        response = jsonify(rows[(page - 1) * limit: page * limit])
        response.headers.update({"page-number": str(page), "total-pages": str(pages), "total-count": str(len(rows))})
        if page < pages:
            query = "&".join(f"{k}={v}" for k, v in args.items() if k != "Page")
            response.headers["next-page"] = f"{request.path}?Page={page + 1}" + (f"&{query}" if query else "")
        return response

    @app.get("/<ver>/order/<int:order_id>")
    def get_order(ver, order_id):
        with emu.lock:
            order = order_or_404(order_id)
            return jsonify(r.order(order)) if order else emu.not_found("Order not found")

    @app.get("/<ver>/order/<int:order_id>/shipment")
    def order_shipments(ver, order_id):
        with emu.lock:
            order = order_or_404(order_id)
            return jsonify([r.shipment(order)]) if order else emu.not_found("Order not found")

    @app.get("/<ver>/shipment/<int:shipment_id>")
    @app.get("/<ver>/order/<int:order_id>/shipment/<int:shipment_id>")
    def get_shipment(ver, shipment_id, order_id=None):
        with emu.lock:
            order = shipment_or_404(shipment_id, order_id)
            return jsonify(r.shipment(order)) if order else emu.not_found("Shipment not found")

    @app.get("/<ver>/shipment/<int:shipment_id>/timeline")
    @app.get("/<ver>/order/<int:order_id>/shipment/<int:shipment_id>/timeline")
    def timeline(ver, shipment_id, order_id=None):
        with emu.lock:
            order = shipment_or_404(shipment_id, order_id)
            return jsonify(r.timeline(order)) if order else emu.not_found("Shipment not found")

    def cancel(order: EmuOrder) -> dict:
        reason = None
        if order.in_sim:
            try:
                emu.sim.cancel_order(order.reference)  # the sim listener sends order.shipment.cancelled
            except SimError:
                reason = f"Shipment {order.shipment_id} is {r.state(order)[0]} and can no longer be cancelled"
        elif order.status != "Cancelled":
            order.status, order.detail, order.updated_at = "Cancelled", None, emu.sim.now
            emu.emit("order.shipment.cancelled", r.shipment(order))
        return {"action": "Cancel", "is_success": reason is None, "reason": reason, "shipment_id": order.shipment_id}

    @app.post("/<ver>/order/<int:order_id>:cancel")
    def cancel_order(ver, order_id):
        with emu.lock:
            order = order_or_404(order_id)
            if order is None:
                return emu.not_found("Order not found")
            result = cancel(order)
            return jsonify({"order_id": order.order_id, "order": r.order(order),
                            "status": "Success" if result["is_success"] else "Failure",
                            "canceled_shipment_results": [result]})

    @app.post("/<ver>/shipment/<int:shipment_id>:cancel")
    @app.post("/<ver>/order/<int:order_id>/shipment/<int:shipment_id>:cancel")
    def cancel_shipment(ver, shipment_id, order_id=None):
        with emu.lock:
            order = shipment_or_404(shipment_id, order_id)
            if order is None:
                return emu.not_found("Shipment not found")
            result = cancel(order)
            if not result["is_success"]:
                return emu.fields({"": [result["reason"]]}, 422)
            return jsonify(r.shipment(order))

    @app.post("/<ver>/shipment:batchCancel")
    def batch_cancel(ver):
        emu.require_channel(True)
        body = emu.json_body()
        ids = body.get("shipment_ids")
        if not isinstance(ids, list) or not ids:
            return emu.fields({"shipment_ids": ["The ShipmentIds field is required."]}, 422)
        with emu.lock:
            results = []
            for shipment_id in ids:
                order = shipment_or_404(shipment_id)
                results.append(cancel(order) if order else {"action": "Cancel", "is_success": False,
                                                            "reason": "Shipment not found", "shipment_id": shipment_id})
        return jsonify({"results": results})

    # -- returns -------------------------------------------------------------------------------

    def return_error(message: str, errors: list[str], status: int = 422) -> Response:
        response = jsonify({"message": message, "errors": errors, "details": None, "stackTrace": None})
        response.status_code = status
        return response

    return_view = r.return_view

    @app.post("/<ver>/return")
    def create_return(ver):
        channel = emu.require_channel(True)
        body = emu.json_body()
        problems = []
        reference = body.get("reference_id")
        if not isinstance(reference, str) or not 1 <= len(reference) <= 50:
            problems.append("reference_id: must be 1 to 50 characters")
        center = (body.get("fulfillment_center") or {}).get("id")
        if center not in emu.centers:
            problems.append(f"fulfillment_center.id: {center} is not a valid fulfillment center")
        inventory = body.get("inventory")
        if not isinstance(inventory, list) or not inventory:
            problems.append("inventory: at least one inventory item is required")
            inventory = []
        seen = set()
        for i, item in enumerate(inventory):
            item_id = item.get("id") if isinstance(item, dict) else item
            if emu.variant_by_inventory(item_id) is None:
                problems.append(f"inventory[{i}].id: unknown inventory id {item_id}")
                continue
            if item["id"] in seen:
                problems.append(f"inventory[{i}].id: inventory id {item['id']} is included more than once")
            seen.add(item["id"])
            if not _positive_int(item.get("quantity")):
                problems.append(f"inventory[{i}].quantity: must be at least 1")
            if item.get("requested_action", "Default") not in RETURN_ACTIONS:
                problems.append(f"inventory[{i}].requested_action: unknown action")
        with emu.lock:
            original = shipment_or_404(body["original_shipment_id"]) if body.get("original_shipment_id") else None
            if body.get("original_shipment_id") and (original is None or r.state(original)[0] != "Completed"):
                problems.append("original_shipment_id: the shipment does not exist or has not shipped")
            if problems:
                return return_error("Validation failed", problems)
            if any(x["reference_id"] == reference and x["channel"]["id"] == channel for x in emu.returns.values()):
                return return_error(f"Return with reference id '{reference}' already exists", [])
            return_id = emu.new_id("return")
            sim_reference = f"RET{return_id}"
            lines = [(emu.variant_by_inventory(i["id"])["sku"], i["quantity"]) for i in inventory]
            # Without an original shipment (ShipBob allows it) the return is the fulfillment center's.
            emu.sim.create_return(sim_reference, original.reference if original else "", lines,
                                  merchant_reference=reference, warehouse=str(center))
            ret = {"id": return_id, "reference_id": reference, "channel": {"id": channel, "name": emu.channel_name},
                   "fulfillment_center": r.fc(center), "original_shipment_id": body.get("original_shipment_id"),
                   "tracking_number": body.get("tracking_number"), "insert_date": emu.iso_now(),
                   "completed_date": None, "return_type": "Regular", "customer_name": None, "store_order_id": None,
                   "invoice_amount": None, "transactions": [], "_sim_reference": sim_reference,
                   "inventory": [{"id": i["id"], "name": emu.variant_by_inventory(i["id"])["name"],
                                  "quantity": i["quantity"], "action_taken": [],
                                  "action_requested": {"action": str(i.get("requested_action", "Default")),
                                                       "action_type": "Default", "instructions": None}}
                                 for i in inventory]}
            emu.returns[return_id] = ret
            view = return_view(ret)
            emu.emit("return.created", view)
        return jsonify(view), 201

    @app.get("/<ver>/return")
    def list_returns(ver):
        channel = emu.require_channel(False)
        refs = {x for x in request.args.get("ReferenceIds", "").split(",") if x}
        ids = {x for x in request.args.get("IDs", "").split(",") if x}
        with emu.lock:
            rows = [return_view(x) for x in sorted(emu.returns.values(), key=lambda x: x["id"])
                    if (not refs or x["reference_id"] in refs) and (not ids or str(x["id"]) in ids)
                    and (channel is None or x["channel"]["id"] == channel)]
        return jsonify(rows)

    @app.get("/<ver>/return/<int:return_id>")
    def get_return(ver, return_id):
        with emu.lock:
            ret = emu.returns.get(return_id)
            return jsonify(return_view(ret)) if ret else emu.not_found("Return not found")

    @app.post("/<ver>/return/<int:return_id>:cancel")
    def cancel_return(ver, return_id):
        with emu.lock:
            ret = emu.returns.get(return_id)
            if ret is None:
                return emu.not_found("Return not found")
            if emu.sim.returns[ret["_sim_reference"]].status not in ("created", "cancelled"):
                return return_error("Only returns awaiting arrival can be cancelled", [])
            emu.sim.cancel_return(ret["_sim_reference"])
            return jsonify(return_view(ret))
