"""The shop itself: the name customers know it by and its currency.
https://shopify.dev/docs/api/admin-graphql/2026-07/queries/shop
"""

from __future__ import annotations

from connectors.shopify import mapping
from connectors.shopify.client import ShopifyClient
from integration.domain.channels import ShopProfile


def get_shop_profile(client: ShopifyClient) -> ShopProfile:
    return mapping.shop_profile(client.execute("ShopProfile")["shop"])
