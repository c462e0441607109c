"""Fixtures around the Shopify emulator (owned by sandbox/shopify).

``shopify_emulator``: a running :class:`sandbox.shopify.ShopifyEmulator` (API key
``test-api-key``, secret ``test-api-secret``, shop ``acme.myshopify.com`` added), stopped at
teardown. ``make_shopify_emulator(**kwargs)``: the same with other constructor arguments (a tiny
restore rate, faults, an ``app_url``…). ``shopify_graphql(emulator, token, query, variables)``
posts to the emulator the way our client does (``Host: {shop}`` header).
"""

from __future__ import annotations

import pytest
import requests

from sandbox.shopify import API_VERSION, ShopifyEmulator

SHOPIFY_API_KEY = "test-api-key"
SHOPIFY_API_SECRET = "test-api-secret"
SHOPIFY_SHOP = "acme.myshopify.com"


def shopify_graphql(emulator: ShopifyEmulator, token: str | None, query: str,
                    variables: dict | None = None, *, shop: str = SHOPIFY_SHOP,
                    version: str = API_VERSION, timeout: float = 10) -> requests.Response:
    headers = {"Host": shop, "Content-Type": "application/json"}
    if token is not None:
        headers["X-Shopify-Access-Token"] = token
    return requests.post(f"{emulator.url}/admin/api/{version}/graphql.json", headers=headers,
                         json={"query": query, "variables": variables or {}}, timeout=timeout)


@pytest.fixture
def make_shopify_emulator():
    started: list[ShopifyEmulator] = []

    def make(**kwargs) -> ShopifyEmulator:
        kwargs.setdefault("webhook_retry_base", 0.02)
        kwargs.setdefault("seed", 1234)
        emulator = ShopifyEmulator(SHOPIFY_API_KEY, SHOPIFY_API_SECRET, **kwargs)
        emulator.add_shop(SHOPIFY_SHOP)
        emulator.start()
        started.append(emulator)
        return emulator

    yield make
    for emulator in started:
        emulator.stop()


@pytest.fixture
def shopify_emulator(make_shopify_emulator) -> ShopifyEmulator:
    return make_shopify_emulator()


def seed_shopify_catalog(emulator: ShopifyEmulator, shop: str = SHOPIFY_SHOP) -> dict:
    """Two locations (Berlin DE, Lyon FR), one product with two variants, one order for the
    first variant, and a token with every scope the app asks for."""
    berlin = emulator.add_location(shop, "Berlin", "DE", city="Berlin", zip="10115")
    lyon = emulator.add_location(shop, "Lyon", "FR", city="Lyon", zip="69001")
    variants = [
        {"sku": "TEE-BLK-M", "title": "Black / M", "barcode": "4006381333931", "price": "25.00",
         "quantities": {berlin: 10, lyon: 4}},
        {"sku": "TEE-WHT-M", "title": "White / M", "price": "25.00", "quantities": {berlin: 0}},
    ]
    product = emulator.add_product(shop, "Organic Tee", variants)
    order = emulator.add_order(shop, line_items=[{"sku": "TEE-BLK-M", "quantity": 2,
                                                  "location_id": berlin}],
                               shipping_address={"firstName": "Ada", "lastName": "Lovelace",
                                                 "address1": "Unter den Linden 1",
                                                 "city": "Berlin", "zip": "10117",
                                                 "countryCodeV2": "DE"},
                               email="ada@example.com", locale="de")
    token = emulator.grant_token(shop, emulator.oauth.default_scopes)
    return {"berlin": berlin, "lyon": lyon, "product": product, "variants": variants,
            "order": order, "token": token}


@pytest.fixture
def shopify_catalog(shopify_emulator) -> dict:
    return seed_shopify_catalog(shopify_emulator)
