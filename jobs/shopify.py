"""Shopify jobs: webhook registration, catalog import, token upkeep."""

from __future__ import annotations

import structlog
from flask import current_app

from connectors.errors import PermanentError
from integration.extensions import db
from integration.models import Shop, ShopStatus
from integration.shops import catalog_import, installation
from integration.shops.shopify_client import store_for
from jobs.runtime import job

log = structlog.get_logger(__name__)

# Topics we subscribe to through the API as well as in shopify.app.toml: a shop of a custom or
# sandbox app (no toml deployment) still gets them; duplicates are dropped by X-Shopify-Event-Id.
# The compliance topics can only come from the app configuration.
API_TOPICS = (
    "APP_UNINSTALLED", "BULK_OPERATIONS_FINISH", "FULFILLMENTS_CREATE", "FULFILLMENTS_UPDATE",
    "INVENTORY_LEVELS_UPDATE", "LOCATIONS_CREATE", "LOCATIONS_DELETE", "LOCATIONS_UPDATE",
    "ORDERS_CANCELLED", "ORDERS_CREATE", "ORDERS_UPDATED", "PRODUCTS_DELETE", "PRODUCTS_UPDATE",
    "REFUNDS_CREATE",
)


@job
def register_webhooks(shop_id: int) -> int:
    shop = db.session.get(Shop, shop_id)
    if shop is None or shop.status != ShopStatus.INSTALLED:
        return 0
    store = store_for(shop)
    uri = f"{current_app.config['NEARSTOCK'].app_url}/webhooks/shopify"
    created = 0
    for topic in API_TOPICS:
        try:
            store.create_webhook_subscription(topic, uri)
            created += 1
        except PermanentError as exc:
            # Re-running after a partial failure: Shopify refuses a second identical subscription.
            if "taken" not in str(exc).lower():
                raise
    log.info("shopify.webhooks_registered", shop=shop.domain, created=created)
    return created


@job
def start_import(shop_id: int) -> int | None:
    return catalog_import.start_import(shop_id)


@job
def process_bulk_finish(shop_id: int, bulk_operation_id: str) -> str:
    return catalog_import.finish_import(shop_id, bulk_operation_id)


@job
def check_import(run_id: int, attempt: int = 0) -> str:
    return catalog_import.check_import(run_id, attempt)


@job
def refresh_expiring_tokens() -> int:
    """Refresh tokens unused for a long time lapse (90 days); keep idle shops connected."""
    from datetime import timedelta

    ids = installation.shops_needing_refresh(timedelta(days=7))
    for shop_id in ids:
        installation.force_refresh(shop_id)
    return len(ids)
