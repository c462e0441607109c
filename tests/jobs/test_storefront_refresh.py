"""The stock engine's signal -> one coalesced refresh -> Redis bodies and variant metafields,
written only when what a shopper sees changes."""
# ruff: noqa: RUF001 - shopper-facing texts use typographic dashes (en dash) and CJK punctuation

from __future__ import annotations

import json

from sqlalchemy import select

from integration.extensions import db, queues, redis
from integration.models.storefront import VariantStockState
from integration.storefront import cache
from integration.storefront import settings as storefront_settings
from integration.storefront import status as storefront
from tests.shopify_fixtures import SHOPIFY_SHOP
from tests.test_storefront_helpers import storefront_stack  # noqa: F401 - the "sf" fixture


def cached(stack, sku: str, field: str) -> dict | None:
    raw = redis.client.hget(cache.status_key(SHOPIFY_SHOP, stack.number(sku)), field)
    return json.loads(raw) if raw else None


def test_stock_change_publishes_status_per_market(sf):
    sf.set_stock(sf.de, "HOODIE-S", 40)
    sf.set_stock(sf.us, "HOODIE-M", 2)
    sf.worker.run()

    de = cached(sf, "HOODIE-S", "DE:en")
    assert de["code"] == "in_stock_local" and de["status"] == "In stock in Germany"
    assert de["eta"] == "Arrives in 2–4 days" and de["quantity"] is None  # no count unless low
    world = cached(sf, "HOODIE-S", "*:en")
    assert world["code"] == "ships_from_abroad" and world["eta"] == "Arrives in 6–11 days"
    assert cached(sf, "HOODIE-S", "DE:de")["status"] == "Auf Lager in Deutschland"
    assert cached(sf, "HOODIE-S", "DE:_")["locale"] == "en"
    us = cached(sf, "HOODIE-M", "US:en")
    assert us["code"] == "low_stock" and us["status"] == "Only 2 left" and us["eta"] == "Arrives in 3–5 days"

    doc = sf.metafield("HOODIE-S")
    assert doc["markets"]["DE"]["texts"]["ja"]["status"] == "ドイツの倉庫に在庫あり"
    assert doc["markets"]["*"]["code"] == "ships_from_abroad"
    assert sf.metafield("HOODIE-L") is None  # never announced
    storefront.refresh_all_later(sf.shop.id)  # what the nightly refresh does
    sf.worker.run()
    assert sf.metafield("HOODIE-L")["markets"]["*"]["code"] == "out_of_stock"
    assert cached(sf, "HOODIE-L", "*:fr")["status"] == "Rupture de stock"


def test_burst_of_changes_is_one_job_and_unseen_changes_write_no_metafield(sf):
    for units in range(40, 60):  # 20 stock changes in a burst
        sf.set_stock(sf.de, "HOODIE-S", units)
    ours = [j for j in [*queues["sync"].scheduled_job_registry.get_job_ids(), *queues["sync"].job_ids]
            if j.startswith("storefront-status-")]
    assert len(ours) == 1  # one coalesced refresh (other subscribers of the signal queue their own)
    sf.worker.run()
    first = sf.metafield_writes()
    assert first >= 1

    sf.set_stock(sf.de, "HOODIE-S", 35)  # still plenty: a shopper sees the same thing
    sf.worker.run()
    assert sf.metafield_writes() == first

    sf.set_stock(sf.de, "HOODIE-S", 3)  # now "Only 3 left"
    sf.worker.run()
    assert sf.metafield_writes() == first + 1
    assert sf.metafield("HOODIE-S")["markets"]["DE"]["texts"]["en"]["status"] == "Only 3 left"


def test_failed_metafield_write_is_retried_from_the_state(sf):
    sf.set_stock(sf.de, "HOODIE-S", 10)
    sf.emulator.set_fault_rate(1.0, kinds=("500",))
    try:
        sf.worker.release_scheduled()  # the coalesced refresh is due; its retry is not run yet
        sf.worker.run(include_scheduled=False)
    finally:
        sf.emulator.set_fault_rate(0.0)
    state = db.session.execute(select(VariantStockState).where(
        VariantStockState.variant_shopify_id == sf.variants["HOODIE-S"])).scalar_one()
    db.session.refresh(state)
    assert state.synced_digest != state.digest
    sf.worker.run()  # the retry (or the next refresh) writes it
    db.session.expire_all()
    state = db.session.get(VariantStockState, state.id)
    assert state.synced_digest == state.digest
    assert sf.metafield("HOODIE-S")["markets"]["DE"]["code"] == "in_stock_local"


def test_preorder_only_when_the_shop_allows_it(sf):
    from datetime import UTC, datetime

    eta = datetime(2026, 12, 7, tzinfo=UTC)  # a Monday
    sf.set_stock(sf.de, "HOODIE-L", 0, inbound=20, inbound_eta=eta)
    storefront.refresh_statuses(sf.shop.id, ["HOODIE-L"], today=eta.date())
    assert cached(sf, "HOODIE-L", "*:en")["code"] == "out_of_stock"  # the same everywhere

    storefront_settings.update_settings(sf.shop.id, {"allow_preorder": True})
    db.session.commit()
    storefront.refresh_statuses(sf.shop.id, ["HOODIE-L"], today=eta.date())
    de = cached(sf, "HOODIE-L", "DE:en")
    # Inbound Monday 7 Dec, 1 day handling + 3 days transit: Friday 11 Dec at the latest.
    assert de["code"] == "preorder" and de["arrives_on"] == "2026-12-11" and de["eta"] == "Arrives Dec 11"
    assert cached(sf, "HOODIE-L", "DE:de")["eta"] == "Lieferung am 11. Dez."


def test_merchant_wording_overrides_the_catalog(sf):
    storefront_settings.set_text(sf.shop.id, "en", "in_stock_local", "Ready to ship from {country}")
    db.session.commit()
    sf.set_stock(sf.de, "HOODIE-S", 40)
    sf.worker.run()
    assert cached(sf, "HOODIE-S", "DE:en")["status"] == "Ready to ship from Germany"
    assert cached(sf, "HOODIE-S", "DE:de")["status"] == "Auf Lager in Deutschland"  # other languages untouched


def test_deleted_variant_leaves_the_cache(sf):
    from integration.models import Variant
    from integration.models.base import utcnow

    sf.set_stock(sf.de, "HOODIE-S", 40)
    sf.worker.run()
    assert cached(sf, "HOODIE-S", "DE:en")
    variant = db.session.execute(select(Variant).where(Variant.shopify_id == sf.variants["HOODIE-S"])).scalar_one()
    variant.deleted_at = utcnow()
    db.session.commit()
    storefront.refresh_statuses(sf.shop.id, ["HOODIE-S"])
    assert cached(sf, "HOODIE-S", "DE:en") is None


def test_uninstalled_shop_is_skipped_and_its_queue_dropped(sf):
    sf.set_stock(sf.de, "HOODIE-S", 40)
    sf.shop.status = "uninstalled"
    db.session.commit()
    sf.worker.run()
    assert cached(sf, "HOODIE-S", "DE:en") is None
    assert not cache.has_dirty(sf.shop.id)


def test_storefront_catalogs_read_the_metafields_the_app_wrote(sf):
    from sandbox.storefront import EmulatorCatalog, GraphQLCatalog

    sf.set_stock(sf.de, "HOODIE-S", 40)
    sf.worker.run()
    direct = EmulatorCatalog(sf.emulator, SHOPIFY_SHOP)
    [handle] = direct.handles()
    over_api = GraphQLCatalog(sf.emulator.url, SHOPIFY_SHOP, sf.shop.access_token).product(handle)
    product = direct.product(handle)
    for ours, theirs in zip(product["variants"], over_api["variants"], strict=True):
        assert (ours["id"], ours["title"], ours["metafields"]) == (theirs["id"], theirs["title"], theirs["metafields"])
    first = product["variants"][0]["metafields"]["$app:nearstock"]["status"]["value"]
    assert first["markets"]["DE"]["texts"]["en"]["status"] == "In stock in Germany"
