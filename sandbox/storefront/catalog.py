"""Where the sandbox storefront gets its products, variants and metafields from.

Shopify renders a product page from its own database; the sandbox reads the same data from the
Shopify emulator (:class:`EmulatorCatalog`), so the metafields the app wrote with
``metafieldsSet`` are exactly what the block renders. :class:`StaticCatalog` serves fixed data.

A product is a dict the Liquid templates read like Shopify's ``product`` object::

    {"id": 1001, "title": "Merino Hoodie", "handle": "merino-hoodie", "description": "...",
     "variants": [{"id": 1002, "title": "S", "price": "79.00", "available": True,
                   "metafields": {"$app:nearstock": {"status": {"value": {...}, "type": "json"}}}}]}
"""

from __future__ import annotations

import json
from typing import Protocol


class Catalog(Protocol):
    shop_name: str
    currency: str

    def product(self, handle: str) -> dict | None: ...

    def handles(self) -> list[str]: ...


def _number(gid: str) -> int:
    return int(gid.rsplit("/", 1)[-1])


class EmulatorCatalog:
    """Reads a shop of an in-process :class:`sandbox.shopify.ShopifyEmulator`."""

    APP_NAMESPACE = "nearstock"

    def __init__(self, emulator, domain: str) -> None:
        self.emulator = emulator
        self.domain = domain
        emulator.shop(domain)  # a KeyError now for an unknown shop, not on the first page
        # What "$app:nearstock" resolves to for this app (app--<app id>--nearstock).
        self.namespace = f"app--{emulator.app_id}--{self.APP_NAMESPACE}"
        self._viewed: set[tuple[str, int]] = set()  # (visitor session, product number)

    def record_view(self, session: str, product_id: int, country: str) -> None:
        """A product page seen: one session of that product in ``country`` for ShopifyQL, counted
        once per visitor session however many times the page is reloaded."""
        if (session, product_id) in self._viewed:
            return
        self._viewed.add((session, product_id))
        self.emulator.add_product_sessions(self.domain, f"gid://shopify/Product/{product_id}", country, 1)

    # Read on every page, like Shopify's shop object: a rename in the admin shows at once.
    @property
    def shop_name(self) -> str:
        with self.emulator.lock:
            return self.emulator.shop(self.domain).record["name"] or self.domain

    @property
    def currency(self) -> str:
        with self.emulator.lock:
            return self.emulator.shop(self.domain).record["currencyCode"]

    def handles(self) -> list[str]:
        with self.emulator.lock:
            shop = self.emulator.shop(self.domain)
            return [shop.nodes[p]["handle"] for p in shop.products if shop.nodes[p].get("status") == "ACTIVE"]

    def product(self, handle: str) -> dict | None:
        with self.emulator.lock:
            shop = self.emulator.shop(self.domain)
            node = next((shop.nodes[p] for p in shop.products if shop.nodes[p]["handle"] == handle), None)
            if node is None or node.get("status") != "ACTIVE":
                return None
            variants = []
            for variant_gid in node["_variants"]:
                v = shop.nodes[variant_gid]
                item = shop.nodes.get(v.get("_item"), {})
                available = sum(level["_q"]["available"] for level in item.get("_levels", {}).values())
                metafields: dict[str, dict] = {}
                for m in shop.metafields_of(variant_gid):
                    namespace = "$app:nearstock" if m["namespace"] == self.namespace else m["namespace"]
                    value = json.loads(m["value"]) if m["type"] == "json" else m["value"]
                    metafields.setdefault(namespace, {})[m["key"]] = {"value": value, "type": m["type"]}
                variants.append({"id": _number(variant_gid), "title": v["title"], "sku": v.get("sku"),
                                 "price": v.get("price", "0.00"), "available": available > 0,
                                 "metafields": metafields})
            return {"id": _number(node["id"]), "title": node["title"], "handle": node["handle"],
                    "description": node.get("descriptionHtml") or "", "variants": variants}


class StaticCatalog:
    """Products given as data (the dict shape above), keyed by handle."""

    def __init__(self, products: list[dict], shop_name: str = "Sandbox shop", currency: str = "EUR") -> None:
        self.products = {p["handle"]: p for p in products}
        self.shop_name = shop_name
        self.currency = currency

    def handles(self) -> list[str]:
        return list(self.products)

    def product(self, handle: str) -> dict | None:
        return self.products.get(handle)


PRODUCTS_QUERY = """
query StorefrontProducts($after: String) {
  products(first: 4, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id title handle status
      variants(first: 25) {
        nodes { id title price inventoryQuantity metafields(first: 5) { nodes { namespace key type value } } }
      }
    }
  }
}
"""


class GraphQLCatalog:
    """Reads a shop over the Admin GraphQL API of a running emulator (``make run`` starts one),
    re-read at most every ``ttl`` seconds."""

    def __init__(self, endpoint: str, domain: str, token: str, *, shop_name: str | None = None,
                 currency: str = "EUR", ttl: float = 2.0, api_version: str = "2026-07") -> None:
        import requests

        self.url = f"{endpoint.rstrip('/')}/admin/api/{api_version}/graphql.json"
        self.domain, self.token, self.ttl = domain, token, ttl
        self.shop_name, self.currency = shop_name or domain, currency
        self.session = requests.Session()
        self._products: dict[str, dict] = {}
        self._read_at = 0.0

    def _load(self) -> dict[str, dict]:
        import time

        if time.monotonic() - self._read_at < self.ttl:
            return self._products
        products, after = {}, None
        while True:
            response = self.session.post(self.url, json={"query": PRODUCTS_QUERY, "variables": {"after": after}},
                                         headers={"Host": self.domain, "X-Shopify-Access-Token": self.token},
                                         timeout=10)
            response.raise_for_status()
            body = response.json()
            if body.get("errors"):
                raise RuntimeError(f"Admin API refused the catalog query: {body['errors']}")
            connection = body["data"]["products"]
            for node in connection["nodes"]:
                if node["status"] == "ACTIVE":
                    products[node["handle"]] = self._product(node)
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
        self._products, self._read_at = products, time.monotonic()
        return products

    @staticmethod
    def _product(node: dict) -> dict:
        variants = []
        for v in node["variants"]["nodes"]:
            metafields: dict[str, dict] = {}
            for m in v["metafields"]["nodes"]:
                namespace = "$app:nearstock" if m["namespace"].endswith("--nearstock") else m["namespace"]
                value = json.loads(m["value"]) if m["type"] == "json" else m["value"]
                metafields.setdefault(namespace, {})[m["key"]] = {"value": value, "type": m["type"]}
            variants.append({"id": _number(v["id"]), "title": v["title"], "price": str(v["price"]),
                             "available": (v.get("inventoryQuantity") or 0) > 0, "metafields": metafields})
        return {"id": _number(node["id"]), "title": node["title"], "handle": node["handle"], "description": "",
                "variants": variants}

    def handles(self) -> list[str]:
        return list(self._load())

    def product(self, handle: str) -> dict | None:
        return self._load().get(handle)
