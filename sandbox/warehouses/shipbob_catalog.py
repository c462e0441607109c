"""ShipBob emulator: channels, fulfillment centers, products, inventory levels, receiving (WROs)
and webhook subscriptions.

Endpoints: ``GET /channel``, ``GET /fulfillment-center``, ``POST/GET /product``,
``GET /product/{id}``, ``PATCH /product/{id}/variants``, ``GET /inventory``,
``GET /inventory-level[/locations]``, ``POST/GET /receiving``, ``GET /receiving/{id}``,
``POST /receiving/{id}:cancel``, ``POST/GET /webhook``, ``DELETE /webhook/{id}``. Paged answers are
``{items, first, last, next, prev}`` with opaque ``Cursor`` links, as ShipBob's newer endpoints.
"""

from __future__ import annotations

import base64
from urllib.parse import urlencode

from flask import Response, jsonify, request

from .shipbob_views import iso
from .shipbob_webhooks import TOPICS, new_secret, url_allowed, valid_secret

PACKING_TYPES = ("EverythingInOneBox", "OneSkuPerBox", "MultipleSkuPerBox")
PACKAGE_TYPES = ("Package", "Pallet", "FloorLoadedContainer")


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int | None:
    if not cursor:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        return int(value) if kind == "o" and int(value) >= 0 else None
    except (ValueError, UnicodeDecodeError):
        return None


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def register(app, emu) -> None:
    r = emu.renderer

    def paged(rows: list[dict]):
        """One page of ``rows`` per ``PageSize``/``Cursor`` (400 ProblemDetails when invalid)."""
        offset = _offset(request.args.get("Cursor"))
        try:
            size = int(request.args.get("PageSize", 50))
        except ValueError:
            size = -1
        if offset is None or not 1 <= size <= 250:
            return emu.problem({"PageSize" if offset is not None else "Cursor": ["The value is not valid."]})
        keep = {k: v for k, v in request.args.items() if k != "Cursor"}

        def link(at: int) -> str:
            return f"{request.path}?{urlencode({**keep, 'Cursor': _cursor(at)})}"

        last = max(0, (len(rows) - 1) // size * size)
        return jsonify({"items": rows[offset: offset + size], "first": link(0), "last": link(last),
                        "next": link(offset + size) if offset + size < len(rows) else None,
                        "prev": link(max(0, offset - size)) if offset else None})

    def matches(variant: dict) -> bool:
        search = request.args.get("SearchBy") or request.args.get("Search")
        ids = {x for x in request.args.get("InventoryIds", "").split(",") if x}
        if ids and str(variant["inventory"]["inventory_id"]) not in ids:
            return False
        if request.args.get("SKU") and variant["sku"] != request.args["SKU"]:
            return False
        if not search:
            return True
        needle = search.lower()
        return (needle in variant["sku"].lower() or needle in (variant.get("name") or "").lower()
                or search == str(variant["inventory"]["inventory_id"]))

    # -- account -------------------------------------------------------------------------------

    @app.get("/<ver>/channel")
    def channels(ver):
        scopes = ["orders_read", "orders_write", "products_read", "products_write", "inventory_read",
                  "receiving_read", "receiving_write", "returns_read", "returns_write", "webhooks_read",
                  "webhooks_write", "fulfillments_read", "locations_read", "channels_read"]
        return jsonify({"items": [{"id": emu.channel_id, "name": emu.channel_name, "application_name": "API",
                                   "scopes": scopes}], "next": None, "prev": None})

    @app.get("/<ver>/fulfillment-center")
    @app.get("/<ver>/fulfillment_center")
    def centers(ver):
        return jsonify([r.fc_detail(fc_id) for fc_id in sorted(emu.centers)])

    # -- products ------------------------------------------------------------------------------

    def variant_errors(variants, prefix: str = "variants", update: bool = False) -> dict:
        errors: dict[str, list[str]] = {}
        if not isinstance(variants, list) or not variants:
            return {prefix: ["At least one variant is required."]}
        seen = set()
        for i, variant in enumerate(variants):
            path = f"{prefix}[{i}]"
            if not isinstance(variant, dict):
                errors[path] = ["Invalid variant."]
                continue
            sku = variant.get("sku")
            if update:
                if variant.get("id") is None:
                    errors[f"{path}.id"] = ["The Id field is required."]
            elif not isinstance(sku, str) or not sku.strip():
                errors[f"{path}.sku"] = ["The Sku field is required."]
            elif sku in emu.variants or sku in seen:
                errors[f"{path}.sku"] = [f"Sku '{sku}' already exists."]
            seen.add(sku)
            dimension = variant.get("dimension") or {}
            if not isinstance(dimension, dict) or not all(_number(v) for v in dimension.values()):
                errors[f"{path}.dimension"] = ["Dimensions must be non-negative numbers."]
            if variant.get("weight") is not None and not _number(variant["weight"]):
                errors[f"{path}.weight"] = ["Weight must be a non-negative number."]
            customs = variant.get("customs") or {}
            if customs.get("value") is not None and not _number(customs["value"]):
                errors[f"{path}.customs.value"] = ["Customs value must be a non-negative number."]
        return errors

    def variant_fields(variant: dict) -> dict:
        fields = {k: v for k, v in variant.items() if k in ("sku", "name", "barcode", "dimension", "weight",
                                                            "customs", "gtin", "upc")}
        if variant.get("barcodes") and not fields.get("barcode"):
            fields["barcode"] = variant["barcodes"][0].get("value")
        return fields

    def product_view(product: dict) -> dict:
        return {**product, "variants": [{**v, "barcodes": [{"value": v["barcode"], "sticker_url": None}]
                                         if v.get("barcode") else []} for v in product["variants"]]}

    @app.post("/<ver>/product")
    def create_product(ver):
        body = emu.json_body(problem=True)
        with emu.lock:
            errors = variant_errors(body.get("variants"))
            if not isinstance(body.get("name"), str) or not body["name"].strip():
                errors["name"] = ["The Name field is required."]
            if body.get("type_id", 1) not in (1, 2):
                errors["type_id"] = ["TypeId must be 1 (Regular) or 2 (Bundle)."]
            if errors:
                duplicate = any("already exists" in m for msgs in errors.values() for m in msgs)
                return emu.problem(errors, 422 if duplicate else 400)
            product = {"id": emu.new_id("product"), "name": body["name"],
                       "type": "Bundle" if body.get("type_id") == 2 else "Regular",
                       "created_on": emu.iso_now(), "updated_on": None, "variants": []}
            emu.products[product["id"]] = product
            for variant in body["variants"]:
                emu.add_variant(product, {"name": body["name"], **variant_fields(variant)})
            return jsonify(product_view(product)), 201

    @app.get("/<ver>/product")
    def list_products(ver):
        with emu.lock:
            rows = [product_view(p) for p in sorted(emu.products.values(), key=lambda p: p["id"])
                    if any(matches(v) for v in p["variants"])]
        return paged(rows)

    @app.get("/<ver>/product/<int:product_id>")
    def get_product(ver, product_id):
        with emu.lock:
            product = emu.products.get(product_id)
            return jsonify(product_view(product)) if product else emu.not_found("Product not found")

    @app.patch("/<ver>/product/<int:product_id>/variants")
    def update_variants(ver, product_id):
        body = emu.json_body(problem=True, kind=list)
        with emu.lock:
            product = emu.products.get(product_id)
            if product is None:
                return emu.not_found("Product not found")
            errors = variant_errors(body, prefix="", update=True)
            by_id = {v["id"]: v for v in product["variants"]}
            for i, change in enumerate(body):
                if isinstance(change, dict) and change.get("id") is not None and change["id"] not in by_id:
                    errors[f"[{i}].id"] = [f"Variant {change['id']} does not belong to product {product_id}."]
                elif isinstance(change, dict) and change.get("sku") not in (None, by_id.get(change.get("id"), {})
                                                                              .get("sku")):
                    errors[f"[{i}].sku"] = ["The Sku of an existing variant cannot be changed."]
            if errors:
                return emu.problem(errors)
            for change in body:
                by_id[change["id"]].update({k: v for k, v in variant_fields(change).items() if k != "sku"})
            product["updated_on"] = emu.iso_now()
            return jsonify(product_view(product)["variants"])

    # -- inventory -----------------------------------------------------------------------------

    @app.get("/<ver>/inventory")
    def inventories(ver):
        with emu.lock:
            rows = [r.inventory(v) for v in sorted(emu.variants.values(), key=lambda v: v["inventory"]["inventory_id"])
                    if matches(v)]
        return paged(rows)

    @app.get("/<ver>/inventory-level/locations")
    def levels_by_location(ver):
        location = request.args.get("LocationId")
        if location is not None and (not location.isdigit() or int(location) not in emu.centers):
            return emu.problem({"LocationId": [f"Location {location} is not a valid fulfillment center."]})
        with emu.lock:
            rows = [r.levels(v, int(location) if location else None)
                    for v in sorted(emu.variants.values(), key=lambda v: v["inventory"]["inventory_id"]) if matches(v)]
        return paged(rows)

    @app.get("/<ver>/inventory-level")
    def levels(ver):
        with emu.lock:
            rows = []
            for v in sorted(emu.variants.values(), key=lambda v: v["inventory"]["inventory_id"]):
                if not matches(v):
                    continue
                locs = r.levels(v)["locations"]

                def total(key, locs=locs):
                    return sum(loc[key] for loc in locs)

                rows.append({"inventory_id": v["inventory"]["inventory_id"], "sku": v["sku"], "name": v["name"],
                             "total_on_hand_quantity": total("on_hand_quantity"),
                             "total_committed_quantity": total("committed_quantity"),
                             "total_fulfillable_quantity": total("fulfillable_quantity"),
                             "total_awaiting_quantity": total("awaiting_quantity"),
                             "total_sellable_quantity": total("fulfillable_quantity") + total("awaiting_quantity"),
                             "total_backordered_quantity": 0, "total_exception_quantity": 0,
                             "total_internal_transfer_quantity": 0})
        return paged(rows)

    # -- receiving -----------------------------------------------------------------------------

    def wro_errors(body: dict) -> dict:
        errors: dict[str, list[str]] = {}
        if (body.get("fulfillment_center") or {}).get("id") not in emu.centers:
            errors["fulfillment_center.id"] = ["The fulfillment center does not exist."]
        if body.get("box_packaging_type") not in PACKING_TYPES:
            errors["box_packaging_type"] = [f"Must be one of {', '.join(PACKING_TYPES)}."]
        if body.get("package_type") not in PACKAGE_TYPES:
            errors["package_type"] = [f"Must be one of {', '.join(PACKAGE_TYPES)}."]
        if not isinstance(body.get("expected_arrival_date"), str) or not body["expected_arrival_date"][:4].isdigit():
            errors["expected_arrival_date"] = ["The ExpectedArrivalDate field is required."]
        boxes = body.get("boxes")
        if not isinstance(boxes, list) or not boxes:
            return {**errors, "boxes": ["At least one box is required."]}
        for b, box in enumerate(boxes):
            if not isinstance(box, dict) or "tracking_number" not in box:
                errors[f"boxes[{b}].tracking_number"] = ["The TrackingNumber field is required."]
                continue
            items = box.get("box_items")
            if not isinstance(items, list) or not items:
                errors[f"boxes[{b}].box_items"] = ["At least one box item is required."]
                continue
            for i, item in enumerate(items):
                if emu.variant_by_inventory(item.get("inventory_id") if isinstance(item, dict) else None) is None:
                    errors[f"boxes[{b}].box_items[{i}].inventory_id"] = ["Inventory item does not exist."]
                elif not isinstance(item.get("quantity"), int) or item["quantity"] < 1:
                    errors[f"boxes[{b}].box_items[{i}].quantity"] = ["Quantity must be at least 1."]
        return errors

    @app.post("/<ver>/receiving")
    def create_wro(ver):
        body = emu.json_body(problem=ver >= "2026-07")
        with emu.lock:
            errors = wro_errors(body)
            if errors:  # 2026-07 moved create-WRO validation errors from 400 to 422 ProblemDetails
                return emu.problem(errors, 422) if ver >= "2026-07" else emu.fields(errors, 400)
            wro_id = emu.new_id("wro")
            lines: dict[str, int] = {}
            for box in body["boxes"]:
                for item in box["box_items"]:
                    sku = emu.variant_by_inventory(item["inventory_id"])["sku"]
                    lines[sku] = lines.get(sku, 0) + item["quantity"]
            center = body["fulfillment_center"]["id"]
            emu.sim.create_inbound(f"WRO{wro_id}", str(center), list(lines.items()), None)
            emu.wros[wro_id] = {"id": wro_id, "sim_reference": f"WRO{wro_id}", "fulfillment_center_id": center,
                                "purchase_order_number": body.get("purchase_order_number"),
                                "expected_arrival_date": body["expected_arrival_date"],
                                "box_packaging_type": body["box_packaging_type"],
                                "package_type": body["package_type"], "insert_date": emu.iso_now()}
            return jsonify(r.wro(emu.wros[wro_id])), 201

    @app.get("/<ver>/receiving")
    def list_wros(ver):
        pos = {x for x in request.args.get("PurchaseOrderNumbers", "").split(",") if x}
        ids = {x for x in request.args.get("IDs", "").split(",") if x}
        statuses = {x for x in request.args.get("Statuses", "").split(",") if x}
        with emu.lock:
            rows = [r.wro(w) for w in sorted(emu.wros.values(), key=lambda w: w["id"])
                    if (not pos or w["purchase_order_number"] in pos) and (not ids or str(w["id"]) in ids)]
        return jsonify([w for w in rows if not statuses or w["status"] in statuses])

    @app.get("/<ver>/receiving/<int:wro_id>")
    def get_wro(ver, wro_id):
        with emu.lock:
            wro = emu.wros.get(wro_id)
            return jsonify(r.wro(wro)) if wro else emu.problem({}, 404, "Not Found")

    @app.post("/<ver>/receiving/<int:wro_id>:cancel")
    def cancel_wro(ver, wro_id):
        with emu.lock:
            wro = emu.wros.get(wro_id)
            if wro is None:
                return emu.problem({}, 404, "Not Found")
            if r.wro(wro)["status"] != "Awaiting":
                return emu.fields({"": ["Only WROs awaiting arrival can be cancelled."]}, 422)
            inbound = emu.sim.inbounds[wro["sim_reference"]]
            for sku, qty in inbound.lines:  # the announced stock is no longer coming
                emu.sim.stock[(inbound.warehouse, sku)].inbound -= qty
            wro["cancelled"], wro["updated"] = True, emu.iso_now()
            return jsonify(r.wro(wro))

    # -- webhook subscriptions -----------------------------------------------------------------

    def subscription_view(sub: dict, with_secret: bool = False) -> dict:
        return {k: v for k, v in sub.items() if with_secret or k != "secret"}

    @app.post("/<ver>/webhook")
    def create_subscription(ver):
        body = emu.json_body()
        errors: dict[str, list[str]] = {}
        topics = body.get("topics")
        if not isinstance(topics, list) or not topics:
            errors["topics"] = ["The Topics field is required."]
        else:
            unknown = [t for t in topics if t not in TOPICS[ver]]
            if unknown:
                errors["topics"] = [f"Topic '{t}' is not supported in API version {ver}." for t in unknown]
        if not isinstance(body.get("url"), str) or not url_allowed(body["url"]):
            errors["url"] = ["The Url must be an absolute HTTPS URL."]
        secret = body.get("secret")
        if secret is not None and (not isinstance(secret, str) or not valid_secret(secret)):
            errors["secret"] = ["The secret must be 'whsec_' followed by 24 to 64 base64-encoded bytes."]
        if errors:
            return emu.fields(errors, 422)
        with emu.lock:
            sub_id = str(emu.new_id("webhook"))
            emu.subscriptions[sub_id] = {"id": sub_id, "url": body["url"], "topics": list(dict.fromkeys(topics)),
                                         "description": body.get("description"), "secret": secret or new_secret(),
                                         "created_at": iso(emu.sim.now)}
            return jsonify(subscription_view(emu.subscriptions[sub_id], with_secret=True))

    @app.get("/<ver>/webhook")
    def list_subscriptions(ver):
        with emu.lock:
            return jsonify({"items": [subscription_view(s) for s in emu.subscriptions.values()],
                            "next": None, "prev": None})

    @app.delete("/<ver>/webhook/<sub_id>")
    def delete_subscription(ver, sub_id):
        with emu.lock:
            if emu.subscriptions.pop(sub_id, None) is None:
                return emu.not_found("Subscription not found")
        return Response(status=204)
