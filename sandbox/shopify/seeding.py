"""Seeding and inspection helpers of :class:`~sandbox.shopify.emulator.ShopifyEmulator`."""

from __future__ import annotations

import re

from . import discounts, webhooks
from .state import Shop, legacy_id

SHOP_RE = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
_ADDRESS_KEYS = {"first_name": "firstName", "last_name": "lastName", "country_code": "countryCodeV2",
                 "countryCode": "countryCodeV2", "province_code": "provinceCode"}
_ADDRESS_FIELDS = ("firstName", "lastName", "name", "company", "address1", "address2", "city",
                   "province", "provinceCode", "zip", "country", "countryCodeV2", "phone")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "product"


class SeedingMixin:
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

    def add_order(self, shop: str, *, line_items: list[dict], shipping_address: dict, email: str,
                  locale: str = "en", currency: str | None = None) -> str:
        """``line_items``: ``{"sku" or "variant_id", "quantity", "location_id"?, "price"?}``.
        Each line is assigned to ``location_id`` or to the first active location with enough
        stock; one fulfillment order per assigned location; stock moves available -> committed."""
        with self.lock:
            s = self.shop(shop)
            address = {_ADDRESS_KEYS.get(k, k): v for k, v in shipping_address.items()}
            address = {k: address.get(k) for k in _ADDRESS_FIELDS}
            if not address["name"]:
                address["name"] = " ".join(p for p in (address["firstName"],
                                                       address["lastName"]) if p) or None
            number = next(s.order_seq)
            order = s.new("Order", name=f"#{number}", email=email, cancelledAt=None,
                          currencyCode=currency or s.record["currencyCode"],
                          customerLocale=locale, _line_items=[], _fulfillment_orders=[],
                          _fulfillments=[])
            order["processedAt"] = order["createdAt"]
            order["shippingAddress"] = s.new("MailingAddress", **address)
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
                        s.change_quantity(level, "available", -quantity)
                        s.change_quantity(level, "committed", quantity)
                order["_fulfillment_orders"].append(fo["id"])
            s.orders.append(order["id"])
            self._emit_events(s, [("orders/create", {
                "id": legacy_id(order["id"]), "name": order["name"], "email": email,
                "currency": order["currencyCode"], "customer_locale": locale,
                "created_at": order["createdAt"], "admin_graphql_api_id": order["id"]})])
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
