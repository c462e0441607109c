"""REST-shaped bodies of the webhooks the emulator sends, built from the records as they are now.

Webhooks carry the REST Admin API representation of the resource, whatever API the change came
through: numeric ``id`` plus ``admin_graphql_api_id``, snake_case keys, money as decimal strings
(with ``*_set`` twins in shop and presentment currency), timestamps in the shop's time zone with
its offset, and every key present (``null`` when unset). Shapes follow Shopify's topic samples
(https://shopify.dev/docs/api/webhooks, "orders/create", "fulfillments/create",
"inventory_levels/update", "products/update") and live deliveries of those topics.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .state import Shop, legacy_id, parse_iso

CANCEL_REASONS = ("customer", "declined", "fraud", "inventory", "other", "staff")
MAX_PRODUCT_VARIANTS = 100  # product webhooks detail at most 100 variants, variant_gids lists all
_CENT = Decimal("0.01")


def rest_time(shop: Shop, stamp: str | None) -> str | None:
    """``2026-11-22T10:00:00Z`` -> ``2026-11-22T11:00:00+01:00`` (the shop's zone, as REST does)."""
    if not stamp:
        return None
    try:
        zone = ZoneInfo(shop.record["ianaTimezone"])
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return parse_iso(stamp).astimezone(zone).isoformat(timespec="seconds")


def _money(amount: Decimal) -> str:
    return str(amount.quantize(_CENT))


def _money_set(amount: Decimal, currency: str) -> dict:
    money = {"amount": _money(amount), "currency_code": currency}
    return {"shop_money": money, "presentment_money": dict(money)}


def _id(gid: str | None) -> int | None:
    return legacy_id(gid) if gid else None


# -- the shop -----------------------------------------------------------------------------------


def shop_payload(shop: Shop) -> dict:
    """``shop/update``: the REST Shop resource (the fields the emulator keeps)."""
    r = shop.record
    return {
        "id": legacy_id(r["id"]), "name": r["name"], "email": r["email"], "domain": shop.domain,
        "country": shop.country, "country_code": shop.country, "currency": r["currencyCode"],
        "customer_email": r["contactEmail"], "iana_timezone": r["ianaTimezone"], "primary_locale": "en",
        "myshopify_domain": shop.domain, "created_at": rest_time(shop, r["createdAt"]),
        "updated_at": rest_time(shop, r["updatedAt"]),
    }


# -- orders -------------------------------------------------------------------------------------


def address_payload(record: dict | None) -> dict | None:
    """A MailingAddress record -> REST address (``shipping_address``, ``billing_address``…)."""
    if record is None:
        return None
    return {
        "first_name": record["firstName"], "address1": record["address1"], "phone": record["phone"],
        "city": record["city"], "zip": record["zip"], "province": record["province"],
        "country": record["country"], "last_name": record["lastName"], "address2": record["address2"],
        "company": record["company"], "latitude": None, "longitude": None, "name": record["name"],
        "country_code": record["countryCodeV2"], "province_code": record["provinceCode"],
    }


def customer_payload(shop: Shop, record: dict | None) -> dict | None:
    if record is None:
        return None
    default = shop.nodes.get(record.get("_default_address") or "")
    default_address = None
    if default is not None:
        default_address = {"id": legacy_id(default["id"]), "customer_id": legacy_id(record["id"]),
                           **address_payload(default), "country_name": default["country"], "default": True}
        for key in ("latitude", "longitude"):
            default_address.pop(key)
    return {
        "id": legacy_id(record["id"]), "email": record["email"],
        "created_at": rest_time(shop, record["createdAt"]), "updated_at": rest_time(shop, record["updatedAt"]),
        "first_name": record["firstName"], "last_name": record["lastName"], "state": "disabled",
        "note": None, "verified_email": True, "multipass_identifier": None, "tax_exempt": False,
        "phone": record["phone"],
        "email_marketing_consent": {"state": "not_subscribed", "opt_in_level": "single_opt_in",
                                    "consent_updated_at": None},
        "sms_marketing_consent": None, "tags": "", "currency": shop.record["currencyCode"],
        "tax_exemptions": [], "admin_graphql_api_id": record["id"], "default_address": default_address,
    }


def line_status(line: dict) -> str | None:
    if line["_fulfilled"] == 0:
        return None
    return "fulfilled" if line["_fulfilled"] >= line["currentQuantity"] else "partial"


def line_item_payload(shop: Shop, line: dict, currency: str, *, quantity: int | None = None) -> dict:
    """An order's line item; ``quantity`` overrides the ordered quantity (a fulfillment's lines)."""
    variant = shop.nodes.get(line["_variant"] or "")
    price = Decimal(line["_price"])
    fulfillable = max(line["currentQuantity"] - line["_fulfilled"], 0)
    product_id = variant["_product"] if variant else None
    return {
        "id": legacy_id(line["id"]), "admin_graphql_api_id": line["id"], "attributed_staffs": [],
        "current_quantity": line["currentQuantity"], "fulfillable_quantity": fulfillable,
        "fulfillment_service": "manual", "fulfillment_status": line_status(line), "gift_card": False,
        "grams": 0, "name": line["name"], "price": _money(price), "price_set": _money_set(price, currency),
        "product_exists": product_id is not None, "product_id": _id(product_id), "properties": [],
        "quantity": line["quantity"] if quantity is None else quantity, "requires_shipping": True,
        "sku": line["sku"], "taxable": True, "title": line["title"], "total_discount": "0.00",
        "total_discount_set": _money_set(Decimal(0), currency), "variant_id": _id(line["_variant"]),
        "variant_inventory_management": "shopify" if variant else None,
        "variant_title": variant["title"] if variant else None,
        "vendor": shop.nodes[product_id]["vendor"] if product_id else None,
        "tax_lines": [], "duties": [], "discount_allocations": [],
    }


def order_fulfillment_status(shop: Shop, order: dict) -> str | None:
    """REST ``fulfillment_status``: null, ``partial``, ``fulfilled``, or ``restocked`` (cancelled
    with every unit restocked)."""
    lines = [shop.nodes[i] for i in order["_line_items"]]
    done = sum(li["_fulfilled"] for li in lines)
    if order["cancelledAt"] and done == 0:
        return "restocked"
    if done == 0:
        return None
    return "fulfilled" if done >= sum(li["currentQuantity"] for li in lines) else "partial"


def order_payload(shop: Shop, order: dict) -> dict:
    """The body of ``orders/create``, ``orders/updated`` and ``orders/cancelled``."""
    currency = order["currencyCode"]
    lines = [shop.nodes[i] for i in order["_line_items"]]
    ordered = sum((Decimal(li["_price"]) * li["quantity"] for li in lines), Decimal(0))
    current = sum((Decimal(li["_price"]) * li["currentQuantity"] for li in lines), Decimal(0))
    paid = order["_financial_status"] in ("paid", "partially_refunded", "refunded")
    zero = _money_set(Decimal(0), currency)
    number = order["_number"]
    customer = shop.nodes.get(order.get("_customer") or "")
    return {
        "id": legacy_id(order["id"]), "admin_graphql_api_id": order["id"], "app_id": None,
        "browser_ip": None, "buyer_accepts_marketing": False, "cancel_reason": order["cancelReason"],
        "cancelled_at": rest_time(shop, order["cancelledAt"]), "cart_token": None, "checkout_id": None,
        "checkout_token": None, "client_details": None, "closed_at": None,
        "confirmation_number": order["_confirmation"], "confirmed": True, "contact_email": order["email"],
        "created_at": rest_time(shop, order["createdAt"]), "currency": currency,
        "current_subtotal_price": _money(current), "current_subtotal_price_set": _money_set(current, currency),
        "current_total_additional_fees_set": None, "current_total_discounts": "0.00",
        "current_total_discounts_set": zero, "current_total_duties_set": None,
        "current_total_price": _money(current), "current_total_price_set": _money_set(current, currency),
        "current_total_tax": "0.00", "current_total_tax_set": zero,
        "customer_locale": order["customerLocale"], "device_id": None, "discount_codes": [],
        "duties_included": False, "email": order["email"], "estimated_taxes": False,
        "financial_status": order["_financial_status"],
        "fulfillment_status": order_fulfillment_status(shop, order), "landing_site": None,
        "landing_site_ref": None, "location_id": None, "merchant_of_record_app_id": None,
        "name": order["name"], "note": order["_note"], "note_attributes": [], "number": number - 1000,
        "order_number": number,
        "order_status_url": f"{shop.record['url']}/{legacy_id(shop.record['id'])}/orders/"
                            f"{order['_token']}/authenticate?key={order['_token'][:16]}",
        "original_total_additional_fees_set": None, "original_total_duties_set": None,
        "payment_gateway_names": ["manual"], "phone": order["phone"], "po_number": None,
        "presentment_currency": currency, "processed_at": rest_time(shop, order["processedAt"]),
        "reference": None, "referring_site": None, "source_identifier": None, "source_name": "web",
        "source_url": None, "subtotal_price": _money(ordered), "subtotal_price_set": _money_set(ordered, currency),
        "tags": ", ".join(order["_tags"]), "tax_exempt": False, "tax_lines": [], "taxes_included": False,
        "test": False, "token": order["_token"], "total_discounts": "0.00", "total_discounts_set": zero,
        "total_line_items_price": _money(ordered), "total_line_items_price_set": _money_set(ordered, currency),
        "total_outstanding": "0.00" if paid else _money(current), "total_price": _money(ordered),
        "total_price_set": _money_set(ordered, currency), "total_shipping_price_set": zero,
        "total_tax": "0.00", "total_tax_set": zero, "total_tip_received": "0.00", "total_weight": 0,
        "updated_at": rest_time(shop, order["updatedAt"]), "user_id": None,
        "billing_address": address_payload(order["_billing_address"]),
        "customer": customer_payload(shop, customer), "discount_applications": [],
        "fulfillments": [fulfillment_payload(shop, shop.nodes[f]) for f in order["_fulfillments"]],
        "line_items": [line_item_payload(shop, li, currency) for li in lines], "payment_terms": None,
        "refunds": list(order.get("_refunds", ())),  # REST Refunds, as refunds/create sent them
        "shipping_address": address_payload(order["shippingAddress"]), "shipping_lines": [],
        "returns": [],
    }


# -- fulfillments and inventory --------------------------------------------------------------------


def fulfillment_payload(shop: Shop, record: dict) -> dict:
    """The body of ``fulfillments/create`` and ``fulfillments/update``: its ``line_items`` are the
    order's line items with ``quantity`` the units of this fulfillment."""
    tracking = record["_tracking"]
    order = shop.nodes[record["_order"]]
    quantities: dict[str, int] = {}
    for foli_id, quantity in record["_lines"]:
        line_id = shop.nodes[foli_id]["_line_item"]
        quantities[line_id] = quantities.get(line_id, 0) + quantity
    lines = [line_item_payload(shop, shop.nodes[line_id], order["currencyCode"], quantity=quantity)
             for line_id, quantity in quantities.items()]
    return {
        "id": legacy_id(record["id"]), "admin_graphql_api_id": record["id"],
        "created_at": rest_time(shop, record["createdAt"]), "location_id": _id(record["_location"]),
        "name": record["name"], "order_id": legacy_id(record["_order"]), "origin_address": None,
        "receipt": {}, "service": "manual", "shipment_status": record.get("_shipment_status"),
        "status": record["status"].lower(),
        "tracking_company": tracking[0]["company"] if tracking else None,
        "tracking_number": tracking[0]["number"] if tracking else None,
        "tracking_numbers": [t["number"] for t in tracking if t["number"]],
        "tracking_url": tracking[0]["url"] if tracking else None,
        "tracking_urls": [t["url"] for t in tracking if t["url"]],
        "updated_at": rest_time(shop, record["updatedAt"]), "email": order["email"],
        "destination": address_payload(order["shippingAddress"]), "notify_customer": record["_notify"],
        "line_items": lines,
    }


def level_payload(shop: Shop, level: dict) -> dict:
    """The body of ``inventory_levels/update``: numeric item and location ids, ``available`` only;
    ``admin_graphql_api_id`` is the InventoryLevel gid (``…/InventoryLevel/{location}?inventory_item_id=…``)."""
    return {
        "inventory_item_id": legacy_id(level["_item"]),
        "location_id": legacy_id(level["_location"]),
        "available": level["_q"]["available"],
        "updated_at": rest_time(shop, level["updatedAt"]),
        "admin_graphql_api_id": level["id"],
    }


# -- products -------------------------------------------------------------------------------------


def variant_payload(shop: Shop, variant: dict, position: int) -> dict:
    item = shop.nodes[variant["_item"]]
    quantity = shop.item_available(item)
    return {
        "admin_graphql_api_id": variant["id"], "barcode": variant["barcode"], "compare_at_price": None,
        "created_at": rest_time(shop, variant["createdAt"]), "id": legacy_id(variant["id"]),
        "inventory_policy": "deny", "position": position, "price": variant["price"],
        "product_id": legacy_id(variant["_product"]), "sku": variant["sku"], "taxable": True,
        "title": variant["title"], "updated_at": rest_time(shop, variant["updatedAt"]),
        "option1": variant["title"], "option2": None, "option3": None, "image_id": None,
        "inventory_item_id": legacy_id(item["id"]), "inventory_quantity": quantity,
        "old_inventory_quantity": quantity,
    }


def product_payload(shop: Shop, product: dict) -> dict:
    """The body of ``products/create`` and ``products/update`` (API 2024-04 and later: details for
    the first 100 variants, every variant in ``variant_gids``;
    https://shopify.dev/docs/api/admin/migrate/new-product-model)."""
    variants = [shop.nodes[v] for v in product["_variants"]]
    active = product["status"] == "ACTIVE"
    return {
        "admin_graphql_api_id": product["id"], "body_html": product.get("descriptionHtml") or "",
        "created_at": rest_time(shop, product["createdAt"]), "handle": product["handle"],
        "id": legacy_id(product["id"]), "product_type": product["productType"],
        "published_at": rest_time(shop, product["createdAt"]) if active else None, "template_suffix": None,
        "title": product["title"], "updated_at": rest_time(shop, product["updatedAt"]),
        "vendor": product["vendor"], "status": product["status"].lower(), "published_scope": "web",
        "tags": ", ".join(product["tags"]),
        "variants": [variant_payload(shop, v, i + 1) for i, v in enumerate(variants[:MAX_PRODUCT_VARIANTS])],
        "options": [], "images": [], "image": None, "media": [],
        "variant_gids": [{"admin_graphql_api_id": v["id"],
                          "updated_at": parse_iso(v["updatedAt"]).strftime("%Y-%m-%dT%H:%M:%S.000Z")}
                         for v in variants],
        "has_variants_that_requires_components": False, "category": None,
    }
