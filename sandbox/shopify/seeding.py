"""Seeding and inspection helpers of :class:`~sandbox.shopify.emulator.ShopifyEmulator`."""

from __future__ import annotations

import re

from . import discounts, payloads, webhooks
from .order_seeding import OrderSeedingMixin
from .state import Shop

SHOP_RE = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
PRODUCT_CHANGES = {"title": "title", "vendor": "vendor", "product_type": "productType", "status": "status",
                   "handle": "handle", "tags": "tags", "body_html": "descriptionHtml"}
VARIANT_CHANGES = ("title", "sku", "barcode", "price")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "product"


class SeedingMixin(OrderSeedingMixin):
    """Needs ``self.store``, ``self.lock``, ``self._new_bucket`` and ``self._emit_events``."""

    def shop(self, domain: str) -> Shop:
        try:
            return self.store.shops[domain]
        except KeyError:
            raise KeyError(f"unknown shop {domain!r}; call add_shop first") from None

    # -- seeding -----------------------------------------------------------------------------

    def add_shop(self, domain: str, *, currency: str = "EUR", country: str = "DE",
                 name: str | None = None) -> Shop:
        if not SHOP_RE.match(domain):
            raise ValueError(f"{domain!r} is not a name.myshopify.com domain")
        with self.lock:
            shop = Shop(self.store, domain, currency=currency, country=country,
                        name=name or domain.split(".")[0].replace("-", " ").title())
            self.store.shops[domain] = shop
            self.buckets[domain] = self._new_bucket(domain)
            return shop

    def update_shop(self, shop: str, *, name: str | None = None, currency: str | None = None) -> None:
        """The merchant edits the store's details in the admin: ``shop/update`` is sent."""
        if currency is not None and not re.fullmatch(r"[A-Z]{3}", currency):
            raise ValueError(f"{currency!r} is not an ISO 4217 currency code")
        with self.lock:
            s = self.shop(shop)
            if name is not None:
                s.record["name"] = name
            if currency is not None:
                s.record["currencyCode"] = currency
            s.touch(s.record)
            self._emit_events(s, [("shop/update", payloads.shop_payload(s))])

    def add_location(self, shop: str, name: str, country_code: str, *, active: bool = True,
                     city: str | None = None, zip: str | None = None,
                     address1: str | None = None) -> str:
        with self.lock:
            s = self.shop(shop)
            record = s.new("Location", name=name, isActive=active, fulfillsOnlineOrders=True,
                           shipsInventory=True, address={
                               "address1": address1, "address2": None, "city": city,
                               "country": country_code, "countryCode": country_code,
                               "province": None, "provinceCode": None, "zip": zip,
                               "phone": None})
            s.locations.append(record["id"])
            return record["id"]

    def add_product(self, shop: str, title: str, variants: list[dict], *, vendor: str = "Nearstock",
                    product_type: str = "", status: str = "ACTIVE") -> str:
        """Each variant dict: ``sku``, optional ``barcode``, ``price``, ``title``, ``quantities``
        (``{location_gid: available}``). The dicts get ``id`` and ``inventory_item_id`` set."""
        with self.lock:
            s = self.shop(shop)
            product = s.new("Product", title=title, handle=_slug(title), status=status,
                            vendor=vendor, productType=product_type, tags=[],
                            tracksInventory=True, _variants=[])
            s.products.append(product["id"])
            for i, spec in enumerate(variants):
                variant = s.new("ProductVariant", title=spec.get("title") or f"Variant {i + 1}",
                                sku=spec.get("sku"), barcode=spec.get("barcode"),
                                price=str(spec.get("price", "0.00")), _product=product["id"])
                item = s.new("InventoryItem", sku=spec.get("sku"), tracked=True,
                             _variant=variant["id"], _levels={})
                variant["_item"] = item["id"]
                for location_gid, available in (spec.get("quantities") or {}).items():
                    if s.get(location_gid, "Location") is None:
                        raise KeyError(f"unknown location {location_gid}")
                    s.stock(item, location_gid, int(available))
                product["_variants"].append(variant["id"])
                s.variants.append(variant["id"])
                spec["id"], spec["inventory_item_id"] = variant["id"], item["id"]
            return product["id"]

    def update_product(self, shop: str, product_gid: str, *, variants: dict | None = None, **changes) -> None:
        """Edits a product like ``productUpdate`` / ``productVariantsBulkUpdate`` and emits
        ``products/update``. ``changes``: ``title``, ``vendor``, ``product_type``, ``status``
        (``ACTIVE``, ``DRAFT``, ``ARCHIVED``), ``handle``, ``tags`` (list), ``body_html``;
        ``variants``: ``{variant gid or sku: {"title", "sku", "barcode", "price"}}``."""
        unknown = set(changes) - set(PRODUCT_CHANGES)
        if unknown:
            raise TypeError(f"update_product() got unknown change(s): {', '.join(sorted(unknown))}")
        with self.lock:
            s = self.shop(shop)
            product = s.get(product_gid, "Product")
            if product is None:
                raise KeyError(f"unknown product {product_gid}")
            for key, value in changes.items():
                product[PRODUCT_CHANGES[key]] = list(value) if key == "tags" else value
            latest = None
            for key, fields in (variants or {}).items():
                variant = next((s.nodes[v] for v in product["_variants"]
                                if key in (v, s.nodes[v]["sku"])), None)
                if variant is None:
                    raise KeyError(f"{product_gid} has no variant {key!r}")
                if set(fields) - set(VARIANT_CHANGES):
                    raise TypeError(f"variant fields can only be {', '.join(VARIANT_CHANGES)}")
                variant.update({k: str(v) if k == "price" else v for k, v in fields.items()})
                if "sku" in fields:
                    s.nodes[variant["_item"]]["sku"] = fields["sku"]
                latest = s.touch(variant)
            s.touch(product, not_before=latest)  # the product is as new as its newest variant
            self._emit_events(s, [("products/update", payloads.product_payload(s, product))])

    def product_payload(self, shop: str, product_gid: str) -> dict:
        """The product as ``products/update`` carries it now (to send by hand with ``send_webhook``)."""
        with self.lock:
            s = self.shop(shop)
            product = s.get(product_gid, "Product")
            if product is None:
                raise KeyError(f"unknown product {product_gid}")
            return payloads.product_payload(s, product)

    def stock_item(self, shop: str, inventory_item_gid: str, location_gid: str,
                   available: int = 0) -> None:
        """Activates an inventory item at a location (what ``inventoryActivate`` does)."""
        with self.lock:
            s = self.shop(shop)
            s.stock(s.get(inventory_item_gid, "InventoryItem"), location_gid, available)

    def find_variant(self, shop: str, sku: str) -> dict | None:
        with self.lock:
            s = self.shop(shop)
            for variant_id in s.variants:
                v = s.nodes[variant_id]
                if v["sku"] == sku:
                    return {"id": v["id"], "inventory_item_id": v["_item"],
                            "product_id": v["_product"]}
        return None

    def grant_token(self, shop: str, scopes) -> str:
        from .oauth import parse_scopes

        with self.lock:
            self.shop(shop)
            return self.oauth.issue(shop, parse_scopes(scopes), expiring=False)["access_token"]

    # -- inspection --------------------------------------------------------------------------

    def inventory_quantity(self, shop: str, inventory_item_gid: str, location_gid: str,
                           name: str = "available") -> int:
        with self.lock:
            item = self.shop(shop).get(inventory_item_gid, "InventoryItem")
            if item is None or location_gid not in item["_levels"]:
                raise KeyError(f"{inventory_item_gid} is not stocked at {location_gid}")
            return item["_levels"][location_gid]["_q"][name]

    def fulfillments(self, shop: str) -> list[dict]:
        with self.lock:
            s = self.shop(shop)
            return [{"id": f["id"], "order_id": f["_order"], "name": f["name"],
                     "status": f["status"], "display_status": f["displayStatus"],
                     "location_id": f["_location"], "notify_customer": f["_notify"],
                     "tracking": [dict(t) for t in f["_tracking"]],
                     "line_items": [{"fulfillment_order_line_item_id": li, "quantity": q}
                                    for li, q in f["_lines"]],
                     "events": [s.nodes[e]["status"] for e in f["_events"]]}
                    for f in s.fulfillment_log]

    def fulfillment_events(self, shop: str) -> list[dict]:
        with self.lock:
            return [{"id": e["id"], "fulfillment_id": e["_fulfillment"], "status": e["status"],
                     "message": e["message"], "happened_at": e["happenedAt"],
                     "estimated_delivery_at": e["estimatedDeliveryAt"], "city": e["city"],
                     "country": e["country"]}
                    for e in self.shop(shop).fulfillment_event_log]

    def discount_codes(self, shop: str) -> list[dict]:
        with self.lock:
            return discounts.describe(self.shop(shop))

    def use_discount_code(self, shop: str, code: str) -> None:
        """A customer checked out with ``code`` (its usage count goes up)."""
        with self.lock:
            s = self.shop(shop)
            discount = s.nodes[s.discount_codes[code.lower()]]["_discount"]
            discount["asyncUsageCount"] += 1
            for redeem in discount["_codes"]:
                redeem["asyncUsageCount"] += 1

    def metafields(self, shop: str, owner_gid: str) -> list[dict]:
        with self.lock:
            return [{"id": m["id"], "namespace": m["namespace"], "key": m["key"],
                     "type": m["type"], "value": m["value"]}
                    for m in self.shop(shop).metafields_of(owner_gid)]

    def webhook_subscriptions(self, shop: str) -> list[dict]:
        with self.lock:
            return webhooks.describe(self.shop(shop))

    def throttled_count(self, shop: str) -> int:
        return sum(1 for c in list(self.calls) if c["shop"] == shop and c.get("throttled"))

    def mutation_count(self, shop: str, name: str) -> int:
        """Mutations ``name`` that were executed (not refused by throttling or faults)."""
        return sum(1 for c in list(self.calls)
                   if c["shop"] == shop and c.get("executed") and c.get("type") == "mutation"
                   and name in c.get("root_fields", ()))
