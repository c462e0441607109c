"""Builds a shop's Shopify connector (the per-shop Admin GraphQL client, and the ShopifyStore port
over it) and records each call in ``integration_log``."""

from __future__ import annotations

from flask import current_app

from connectors.shopify.channel import ShopifyChannel
from connectors.shopify.client import ShopifyClient
from integration.call_log import record_call
from integration.domain.ports import ShopifyStore
from integration.extensions import redis
from integration.models import Shop
from integration.shops import installation


def client_for(shop: Shop) -> ShopifyClient:
    config = current_app.config["NEARSTOCK"]
    return ShopifyClient(
        shop.domain,
        installation.access_token(shop),
        redis=redis.client,
        endpoint=config.shopify_endpoint or None,
        on_call=lambda record: record_call(shop.id, record),
    )


def store_for(shop: Shop) -> ShopifyStore:
    return ShopifyChannel(client_for(shop))
