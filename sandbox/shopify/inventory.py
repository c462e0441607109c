"""``inventorySetQuantities`` as the 2026-07 API enforces it.

Since 2026-04 the mutation fails at runtime without ``@idempotent(key:)`` on the field, and every
quantity must spell out ``changeFromQuantity`` (``null`` opts out of the compare-and-swap):
https://shopify.dev/changelog/making-idempotency-mandatory-for-inventory-adjustments-and-refund-mutations
https://shopify.dev/docs/api/usage/implementing-idempotency . The exact messages below are the
ones the live API returns (``BAD_REQUEST`` / ``INVALID_FIELD_ARGUMENTS`` top-level errors).
"""

from __future__ import annotations

import json
import re

from graphql import GraphQLError
from graphql.execution.values import get_directive_values

from .payloads import level_payload
from .queries import resolver

# https://shopify.dev/docs/apps/build/orders-fulfillment/inventory-management-apps/manage-quantities-states
REASONS = {
    "correction", "cycle_count_available", "damaged", "movement_created", "movement_updated",
    "movement_received", "movement_canceled", "other", "promotion", "quality_control", "received",
    "reservation_created", "reservation_deleted", "reservation_updated", "restock",
    "safety_stock", "shrinkage",
}
MAX_QUANTITY = 1_000_000_000
_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:.+$")


def idempotency_key(info) -> str | None:
    directive = info.schema.get_directive("idempotent")
    values = get_directive_values(directive, info.field_nodes[0], info.variable_values)
    return None if values is None else values.get("key")


def require_idempotency(info) -> str:
    key = idempotency_key(info)
    if key is None:
        raise GraphQLError(
            "The @idempotent directive is required for this mutation but was not provided.",
            extensions={"code": "BAD_REQUEST"})
    if not key.strip():
        raise GraphQLError("The idempotency key cannot be an empty string or whitespace only.",
                           extensions={"code": "BAD_REQUEST"})
    return key


def _error(field, message, code):
    return {"field": field, "message": message, "code": code}


def _valid_reference(uri: str) -> bool:
    if not _URI.match(uri):
        return False
    if uri.startswith("gid://"):
        parts = uri[len("gid://"):].split("/")
        return len(parts) >= 3 and all(parts)
    return True


@resolver("Mutation", "inventorySetQuantities")
def inventory_set_quantities(_root, info, input):
    key = require_idempotency(info)
    if any("changeFromQuantity" not in q for q in input["quantities"]):
        raise GraphQLError(
            "InventoryQuantityInput must include the following argument: changeFromQuantity.",
            extensions={"code": "INVALID_FIELD_ARGUMENTS"})
    shop = info.context.shop
    fingerprint = json.dumps(input, sort_keys=True, default=str)
    stored = shop.idempotency.get(("inventorySetQuantities", key))
    if stored is not None:
        if stored[0] != fingerprint:
            return {"inventoryAdjustmentGroup": None, "userErrors": [_error(
                None, "The same idempotency key cannot be used with different operation "
                "parameters.", "IDEMPOTENCY_KEY_PARAMETER_MISMATCH")]}
        return stored[1]  # the original result, nothing applied twice
    result = _set_quantities(info, input)
    shop.idempotency[("inventorySetQuantities", key)] = (fingerprint, result)
    return result


def _set_quantities(info, data: dict) -> dict:
    shop = info.context.shop
    name = data["name"]
    errors = []
    if name not in ("available", "on_hand"):
        errors.append(_error(["input", "name"], "The quantity name must be either 'available' "
                             "or 'on_hand'.", "INVALID_NAME"))
    if data["reason"] not in REASONS:
        errors.append(_error(["input", "reason"], "The specified reason is invalid.",
                             "INVALID_REASON"))
    uri = data.get("referenceDocumentUri")
    if uri is not None and not _valid_reference(uri):
        errors.append(_error(["input", "referenceDocumentUri"],
                             "The specified reference document is invalid.",
                             "INVALID_REFERENCE_DOCUMENT"))
    seen, targets = set(), []
    for i, q in enumerate(data["quantities"]):
        path = ["input", "quantities", str(i)]
        pair = (q["inventoryItemId"], q["locationId"])
        if pair in seen:
            errors.append(_error(path, "The combination of inventoryItemId and locationId must "
                                 "be unique.", "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"))
            continue
        seen.add(pair)
        item = shop.get(q["inventoryItemId"], "InventoryItem")
        location = shop.get(q["locationId"], "Location")
        if item is None:
            errors.append(_error([*path, "inventoryItemId"], "The specified inventory item "
                                 "could not be found.", "INVALID_INVENTORY_ITEM"))
            continue
        if location is None:
            errors.append(_error([*path, "locationId"], "The specified location could not be "
                                 "found.", "INVALID_LOCATION"))
            continue
        level = item["_levels"].get(location["id"])
        if level is None or not location["isActive"]:
            errors.append(_error([*path, "locationId"], "The specified inventory item is not "
                                 "stocked at the location.", "ITEM_NOT_STOCKED_AT_LOCATION"))
            continue
        if q["quantity"] < 0:
            errors.append(_error([*path, "quantity"], "The quantity can't be negative.",
                                 "INVALID_QUANTITY_NEGATIVE"))
            continue
        if q["quantity"] > MAX_QUANTITY:
            errors.append(_error([*path, "quantity"], "The total quantity can't be higher than "
                                 "1,000,000,000.", "INVALID_QUANTITY_TOO_HIGH"))
            continue
        expected = q["changeFromQuantity"]
        if name in ("available", "on_hand") and expected is not None \
                and expected != level["_q"][name]:
            errors.append(_error([*path, "changeFromQuantity"], "The changeFromQuantity value "
                                 "does not match persisted value.", "CHANGE_FROM_QUANTITY_STALE"))
            continue
        targets.append((item, location, level, q["quantity"]))
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}

    changes = []
    other = "on_hand" if name == "available" else "available"
    for item, location, level, quantity in targets:
        delta = quantity - level["_q"][name]
        shop.change_quantity(level, name, delta, touch=bool(delta))
        for changed in (name, other):
            changes.append({"name": changed, "delta": delta,
                            "quantityAfterChange": level["_q"][changed],
                            "ledgerDocumentUri": None,
                            "_item": item["id"], "_location": location["id"]})
        if delta:
            info.context.emit("inventory_levels/update", level_payload(shop, level))
    group = shop.new("InventoryAdjustmentGroup", reason=data["reason"],
                     referenceDocumentUri=uri, _changes=changes)
    return {"inventoryAdjustmentGroup": group, "userErrors": []}

