"""``metafieldsSet``: at most 25 metafields, atomic, values validated against their type.

https://shopify.dev/docs/api/admin-graphql/latest/mutations/metafieldsSet
https://shopify.dev/docs/apps/build/custom-data/metafields/list-of-data-types
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime

from .payloads import product_payload
from .queries import resolver
from .state import now_iso, parse_gid

MAX_METAFIELDS = 25
OWNER_TYPES = {"Product": "PRODUCT", "ProductVariant": "PRODUCTVARIANT", "Order": "ORDER",
               "Location": "LOCATION", "Shop": "SHOP", "Customer": "CUSTOMER"}
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_REFERENCE_TYPES = {"product_reference": "Product", "variant_reference": "ProductVariant",
                    "collection_reference": "Collection", "file_reference": None,
                    "page_reference": "Page", "customer_reference": "Customer",
                    "metaobject_reference": "Metaobject", "order_reference": "Order"}
_JSON_OBJECT_TYPES = {"money", "weight", "dimension", "volume", "rating", "link", "json"}


def _is_int(v: str) -> bool:
    return re.fullmatch(r"-?\d+", v) is not None


def _is_decimal(v: str) -> bool:
    return re.fullmatch(r"-?\d+(\.\d+)?", v) is not None


def _is_date(v: str) -> bool:
    try:
        date.fromisoformat(v)
        return True
    except ValueError:
        return False


def _is_datetime(v: str) -> bool:
    try:
        datetime.fromisoformat(v.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


SCALAR_CHECKS = {
    "single_line_text_field": (lambda v: "\n" not in v, "Value must be a single line text string."),
    "multi_line_text_field": (lambda v: True, ""),
    "rich_text_field": (lambda v: _json_object(v) is not None, "Value must be valid JSON."),
    "number_integer": (_is_int, "Value must be an integer."),
    "number_decimal": (_is_decimal, "Value must be a decimal."),
    "boolean": (lambda v: v in ("true", "false"), "Value must be true or false."),
    "date": (_is_date, "Value must be in YYYY-MM-DD format."),
    "date_time": (_is_datetime, "Value must be in ISO 8601 date and time format."),
    "url": (lambda v: re.match(r"^(https?|mailto|sms|tel)://?\S+$", v) is not None,
            "Value must be a valid URL."),
    "color": (lambda v: re.fullmatch(r"#[0-9A-Fa-f]{6}", v) is not None,
              "Value must be a hexadecimal color code."),
    "id": (lambda v: bool(v.strip()), "Value can't be blank."),
}


def _json_object(v: str):
    try:
        return json.loads(v)
    except ValueError:
        return None


def _reference_ok(v: str, type_name: str | None) -> bool:
    parsed = parse_gid(v)
    return parsed is not None and (type_name is None or parsed[0] == type_name)


def validate_value(type_: str, value: str) -> str | None:
    """Returns an error message, or None when ``value`` is valid for ``type_``."""
    if type_.startswith("list."):
        inner = type_[len("list."):]
        items = _json_object(value)
        if not isinstance(items, list):
            return "Value must be an array."
        for item in items:
            error = validate_value(inner, item if isinstance(item, str) else json.dumps(item))
            if error:
                return error
        return None
    if type_ in SCALAR_CHECKS:
        check, message = SCALAR_CHECKS[type_]
        return None if check(value) else message
    if type_ in _REFERENCE_TYPES:
        return None if _reference_ok(value, _REFERENCE_TYPES[type_]) else \
            "Value must be a valid global ID."
    if type_ in _JSON_OBJECT_TYPES:
        parsed = _json_object(value)
        if parsed is None:
            return "Value must be valid JSON."
        required = {"money": {"amount", "currency_code"}, "rating": {"value", "scale_min",
                    "scale_max"}, "weight": {"value", "unit"}, "dimension": {"value", "unit"},
                    "volume": {"value", "unit"}, "link": {"text", "url"}}.get(type_, set())
        if required and not (isinstance(parsed, dict) and required <= parsed.keys()):
            return f"Value must be a JSON object with keys: {', '.join(sorted(required))}."
        return None
    return "INVALID_TYPE"


def _error(field, message, code, index):
    return {"field": field, "message": message, "code": code, "elementIndex": index}


def _digest(record: dict) -> str:
    raw = f"{record['id']}|{record['value']}|{record['updatedAt']}|{record['_version']}"
    return hashlib.sha256(raw.encode()).hexdigest()


@resolver("Mutation", "metafieldsSet")
def metafields_set(_root, info, metafields):
    shop = info.context.shop
    if len(metafields) > MAX_METAFIELDS:
        return {"metafields": None, "userErrors": [_error(
            ["metafields"], "Exceeded the maximum metafields input limit of 25.",
            "LESS_THAN_OR_EQUAL_TO", None)]}
    errors, planned = [], []
    app_namespace = f"app--{info.context.emulator.app_id}"
    for i, mf in enumerate(metafields):
        path = ["metafields", str(i)]
        owner = shop.get(mf["ownerId"])
        if owner is None or owner["__typename"] not in OWNER_TYPES:
            errors.append(_error([*path, "ownerId"], "Owner does not exist.", "INVALID", i))
            continue
        namespace = mf.get("namespace") or "$app"
        if namespace.startswith("$app"):
            namespace = app_namespace + namespace[len("$app"):].replace(":", "--", 1)
        key = mf["key"]
        if not 3 <= len(namespace) <= 255:
            errors.append(_error([*path, "namespace"], "Namespace is too short (minimum is 3 "
                                 "characters)." if len(namespace) < 3 else "Namespace is too "
                                 "long (maximum is 255 characters).",
                                 "TOO_SHORT" if len(namespace) < 3 else "TOO_LONG", i))
            continue
        if not 2 <= len(key) <= 64:
            errors.append(_error([*path, "key"], "Key is too short (minimum is 2 characters)."
                                 if len(key) < 2 else "Key is too long (maximum is 64 characters).",
                                 "TOO_SHORT" if len(key) < 2 else "TOO_LONG", i))
            continue
        if not _NAME.match(key) or not _NAME.match(namespace.replace("--", "-")):
            errors.append(_error([*path, "key"], "Key contains one or more invalid characters.",
                                 "INVALID", i))
            continue
        existing = shop.metafields.get((owner["id"], namespace, key))
        type_ = mf.get("type") or (existing or {}).get("type")
        if not type_:
            errors.append(_error([*path, "type"], "Type can't be blank.", "BLANK", i))
            continue
        if existing and existing["type"] != type_:
            errors.append(_error([*path, "type"], "Type can't be changed for an existing "
                                 "metafield.", "INVALID_TYPE", i))
            continue
        problem = validate_value(type_, mf["value"])
        if problem == "INVALID_TYPE":
            errors.append(_error([*path, "type"], f"Type '{type_}' is not a valid metafield "
                                 "type.", "INVALID_TYPE", i))
            continue
        if problem:
            errors.append(_error([*path, "value"], problem, "INVALID_VALUE", i))
            continue
        digest = mf.get("compareDigest")
        if digest is not None and existing is not None and digest != existing["compareDigest"]:
            errors.append(_error([*path, "compareDigest"], "The resource has been updated since "
                                 "it was loaded. Try again with an updated `compareDigest` value.",
                                 "STALE_OBJECT", i))
            continue
        planned.append((owner, namespace, key, type_, mf["value"], existing))
    if errors:  # atomic: nothing is written when any input is refused
        return {"metafields": [], "userErrors": errors}
    out = []
    for owner, namespace, key, type_, value, existing in planned:
        record = existing or shop.new("Metafield", namespace=namespace, key=key, type=type_,
                                      ownerType=OWNER_TYPES[owner["__typename"]], _version=0,
                                      _owner=owner["id"])
        record.update(value=value, updatedAt=now_iso(), _version=record["_version"] + 1)
        record["compareDigest"] = _digest(record)
        shop.metafields[(owner["id"], namespace, key)] = record
        out.append(record)
    # A product's metafields are part of the product: Shopify sends products/update for them
    # (https://github.com/Shopify/shopify-api-js/issues/952), once per product and request.
    products = {owner["id"]: owner for owner, *_ in planned if owner["__typename"] == "Product"}
    for product in products.values():
        shop.touch(product)
        info.context.emit("products/update", product_payload(shop, product))
    return {"metafields": out, "userErrors": []}
