"""Builds the ShopifyAuthorizer of this deployment's Shopify app (install, token exchange, refresh).

Apart from :mod:`integration.shops.shopify_client` because that one asks
:mod:`integration.shops.installation` for a live token, and installation refreshes through this one.
"""

from __future__ import annotations

from flask import current_app

from connectors.shopify.oauth import ShopifyOAuth
from integration.domain.ports import ShopifyAuthorizer


def authorizer() -> ShopifyAuthorizer:
    config = current_app.config["NEARSTOCK"]
    return ShopifyOAuth(config.shopify_api_key, config.shopify_api_secret, endpoint=config.shopify_endpoint or None)
