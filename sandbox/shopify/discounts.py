"""``discountCodeBasicCreate`` and ``discountCodeFreeShippingCreate``.

Codes are unique per shop regardless of case ("Code must be unique. Please try a different code.",
code ``TAKEN``). https://shopify.dev/docs/api/admin-graphql/latest/mutations/discountCodeBasicCreate
"""

from __future__ import annotations

from .queries import resolver
from .state import now_iso


def _error(field, message, code):
    return {"field": field, "message": message, "code": code, "extraInfo": None}


def _validate(shop, arg: str, data: dict, *, basic: bool) -> list[dict]:
    errors = []
    for name, label in [("title", "Title"), ("code", "Code"), ("startsAt", "Starts at")]:
        if not data.get(name) or not str(data[name]).strip():
            errors.append(_error([arg, name], f"{label} can't be blank", "BLANK"))
    if basic and not data.get("customerGets"):
        errors.append(_error([arg, "customerGets"], "Customer gets can't be blank", "BLANK"))
    if data.get("context") is not None and data.get("customerSelection") is not None:
        errors.append(_error([arg], "Only one of context or customerSelection can be provided.",
                             "TOO_MANY_ARGUMENTS"))
    elif data.get("context") is None and data.get("customerSelection") is None:
        errors.append(_error([arg, "context"], "Context can't be blank", "BLANK"))
    code = (data.get("code") or "").strip()
    if len(code) > 255:
        errors.append(_error([arg, "code"], "Code is too long (maximum is 255 characters)",
                             "TOO_LONG"))
    if "\n" in code or "\r" in code:
        errors.append(_error([arg, "code"], "Code cannot contain newline characters.", "INVALID"))
    if code and code.lower() in shop.discount_codes:
        errors.append(_error([arg, "code"], "Code must be unique. Please try a different code.",
                             "TAKEN"))
    if data.get("endsAt") and data.get("startsAt") and data["endsAt"] <= data["startsAt"]:
        errors.append(_error([arg, "endsAt"], "Ends at needs to be after starts_at",
                             "END_DATE_BEFORE_START_DATE"))
    if data.get("usageLimit") is not None and data["usageLimit"] <= 0:
        errors.append(_error([arg, "usageLimit"], "Usage limit must be greater than 0",
                             "GREATER_THAN"))
    value = ((data.get("customerGets") or {}).get("value") or {}) if basic else {}
    if basic and data.get("customerGets") and not value:
        errors.append(_error([arg, "customerGets", "value"], "Value can't be blank", "BLANK"))
    pct = value.get("percentage")
    if pct is not None and not 0 < pct <= 1:
        errors.append(_error([arg, "customerGets", "value", "percentage"],
                             "Value must be between 0.0 and 1.0", "VALUE_OUTSIDE_RANGE"))
    return errors


def _summary(data: dict, basic: bool) -> str:
    if not basic:
        return "Free shipping on all products"
    value = data["customerGets"]["value"]
    if value.get("percentage") is not None:
        return f"{round(value['percentage'] * 100, 2):g}% off"
    amount = (value.get("discountAmount") or {}).get("amount")
    return f"{amount} off" if amount is not None else "Amount off products"


def _create(info, arg: str, data: dict, *, basic: bool):
    shop = info.context.shop
    errors = _validate(shop, arg, data, basic=basic)
    if errors:
        return {"codeDiscountNode": None, "userErrors": errors}
    stamp = now_iso()
    code = shop.new("DiscountRedeemCode", code=data["code"].strip(), asyncUsageCount=0)
    discount = {
        "__typename": "DiscountCodeBasic" if basic else "DiscountCodeFreeShipping",
        "title": data["title"], "startsAt": data["startsAt"], "endsAt": data.get("endsAt"),
        "usageLimit": data.get("usageLimit"),
        "appliesOncePerCustomer": bool(data.get("appliesOncePerCustomer")),
        "asyncUsageCount": 0, "createdAt": stamp, "updatedAt": stamp,
        "summary": _summary(data, basic), "_codes": [code], "_input": data,
    }
    node = shop.new("DiscountCodeNode", _discount=discount)
    shop.discount_codes[code["code"].lower()] = node["id"]
    info.context.emit("discounts/create", {
        "admin_graphql_api_id": node["id"], "title": data["title"], "status": "ACTIVE",
        "created_at": stamp, "updated_at": stamp})
    return {"codeDiscountNode": node, "userErrors": []}


@resolver("Mutation", "discountCodeBasicCreate")
def discount_code_basic_create(_root, info, basicCodeDiscount):
    return _create(info, "basicCodeDiscount", basicCodeDiscount, basic=True)


@resolver("Mutation", "discountCodeFreeShippingCreate")
def discount_code_free_shipping_create(_root, info, freeShippingCodeDiscount):
    return _create(info, "freeShippingCodeDiscount", freeShippingCodeDiscount, basic=False)


def describe(shop) -> list[dict]:
    """Inspection view for tests: one dict per discount, with the input it was created from."""
    out = []
    for node_id in shop.discount_codes.values():
        node = shop.nodes[node_id]
        discount = node["_discount"]
        out.append({
            "id": node_id, "code": discount["_codes"][0]["code"],
            "kind": "basic" if discount["__typename"] == "DiscountCodeBasic" else "free_shipping",
            **{k: v for k, v in discount["_input"].items() if k != "code"},
        })
    return out
