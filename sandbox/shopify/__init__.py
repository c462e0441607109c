"""Strict emulator of the Shopify Admin API 2026-07 (OAuth, GraphQL, webhooks, bulk operations).

    from sandbox.shopify import ShopifyEmulator
    emulator = ShopifyEmulator("key", "secret").start()
"""

from .emulator import API_VERSION, ShopifyEmulator

__all__ = ["API_VERSION", "ShopifyEmulator"]
