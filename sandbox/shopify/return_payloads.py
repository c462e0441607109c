"""The return reason library and the REST-shaped bodies of the ``returns/*`` webhooks.

Bodies follow Shopify's topic samples (https://shopify.dev/docs/api/webhooks, "returns/request",
"returns/approve", "returns/decline", "returns/close"): ``returns/request`` and ``returns/approve``
carry the return with its ``return_line_items`` (each naming its fulfillment line item and that
one's order line item) and the legacy reason in lower case (``return_reason: "unwanted"``);
``returns/decline`` carries the ``decline`` (reason and note); ``returns/close`` only the ids and
the status. Shopify's sample for ``returns/process`` is empty, so the emulator sends the
``returns/approve`` shape with the status after processing.
"""

from __future__ import annotations

from .state import Shop, legacy_id

# Shopify's standardized reasons (``returnReasonDefinitions``), one per legacy ``ReturnReason``
# value: the handle is the legacy value in kebab case, the name its admin display name.
# https://shopify.dev/docs/api/admin-graphql/latest/enums/ReturnReason
REASONS = (
    ("SIZE_TOO_SMALL", "Size was too small"), ("SIZE_TOO_LARGE", "Size was too large"),
    ("UNWANTED", "Customer changed their mind"), ("NOT_AS_DESCRIBED", "Item not as described"),
    ("WRONG_ITEM", "Received the wrong item"), ("DEFECTIVE", "Damaged or defective"),
    ("STYLE", "Style"), ("COLOR", "Color"), ("OTHER", "Other"), ("UNKNOWN", "Unknown"),
)


def reason_handle(legacy: str) -> str:
    return legacy.lower().replace("_", "-")


def reason_library(shop: Shop) -> list[dict]:
    """The shop's ReturnReasonDefinition records (made on first use, then stable)."""
    library = getattr(shop, "return_reasons", None)
    if library is None:
        library = [shop.new("ReturnReasonDefinition", handle=reason_handle(legacy), name=name,
                            deleted=False, _legacy=legacy)["id"] for legacy, name in REASONS]
        shop.return_reasons = library
    return [shop.nodes[i] for i in library]


def _ref(gid: str) -> dict:
    return {"id": legacy_id(gid), "admin_graphql_api_id": gid}


def _line_payload(shop: Shop, line: dict) -> dict:
    fli = shop.nodes[line["_fulfillment_line_item"]]
    reason = shop.nodes[line["_reason"]]
    return {
        **_ref(line["id"]),
        "fulfillment_line_item": {**_ref(fli["id"]), "line_item": _ref(fli["_line_item"])},
        "quantity": line["quantity"], "return_reason": reason["_legacy"].lower(),
        "return_reason_note": line["returnReasonNote"], "customer_note": line["customerNote"],
        "restocking_fee": None,
    }


def return_payload(shop: Shop, record: dict) -> dict:
    """``returns/request``, ``returns/approve`` (and ``returns/process``)."""
    lines = [shop.nodes[i] for i in record["_lines"]]
    return {
        **_ref(record["id"]), "status": record["status"].lower(), "order": _ref(record["_order"]),
        "total_return_line_items": len(lines), "name": record["name"],
        "return_line_items": [_line_payload(shop, line) for line in lines],
        "return_shipping_fees": [], "exchange_line_items": [], "total_exchange_line_items": 0,
    }


def decline_payload(record: dict) -> dict:
    """``returns/decline``."""
    decline = record["decline"]
    return {**_ref(record["id"]), "status": "declined", "order": _ref(record["_order"]),
            "decline": {"reason": decline["reason"].lower(), "note": decline["note"]}}


def close_payload(record: dict) -> dict:
    """``returns/close``."""
    return {**_ref(record["id"]), "order_id": legacy_id(record["_order"]), "status": "closed"}
