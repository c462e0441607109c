"""Shopify jobs: the shop's profile, catalog import, token upkeep. (Webhook subscriptions are the
app's, declared in shopify.app.toml: Shopify applies them to every shop that installs the app.)"""

from __future__ import annotations

from integration.shops import catalog_import, installation, profile
from jobs.runtime import job


@job
def read_shop_profile(shop_id: int) -> bool:
    return profile.read_profile(shop_id)


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
