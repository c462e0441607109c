"""The Storefront page inside the emulator's local admin, in a real browser (headless Chromium):
the merchant turns pre-order on and saves, and both the page's preview and the real storefront
block (the extension's Liquid on the sandbox storefront, read from the metafields the app wrote)
of a sold-out product with a restock on the way say "Pre-order"; a German wording typed into the
page changes the preview before it is saved. Skips when Chromium or Playwright is missing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from integration.extensions import db
from integration.models import Shop, StockLevel, Variant, Warehouse, WarehouseAccount
from integration.models.storefront import StorefrontSettings
from integration.storefront import status as storefront
from tests.admin_frame_stack import (
    admin,  # noqa: F401 - the "admin" fixture
    framed,  # noqa: F401 - the "framed" fixture
)
from tests.conftest import API_SECRET
from tests.e2e.test_storefront_browser import browser  # noqa: F401 - the "browser" fixture
from tests.shopify_fixtures import SHOPIFY_SHOP

pytestmark = pytest.mark.e2e


def stock_a_restock_on_the_way(stack) -> str:
    """A German warehouse holding none of TEE-WHT-M, 20 arriving in 10 days; the variant's number."""
    stack.worker.run()  # the install's catalog import: the variants
    shop = db.session.execute(select(Shop).where(Shop.domain == SHOPIFY_SHOP)).scalar_one()
    account = WarehouseAccount(shop_id=shop.id, provider="winit", name="WINIT", credentials="{}")
    db.session.add(account)
    db.session.flush()
    de = Warehouse(shop_id=shop.id, account_id=account.id, code="DEWH", country_code="DE",
                   location_shopify_id=stack.berlin, handling_hours=24, transit_days={"DE": [1, 3], "*": [5, 10]})
    db.session.add(de)
    db.session.flush()
    db.session.add(StockLevel(shop_id=shop.id, warehouse_id=de.id, sku="TEE-WHT-M", on_hand=0, inbound=20,
                              inbound_eta=datetime.now(UTC) + timedelta(days=10)))
    db.session.commit()
    storefront.refresh_all_later(shop.id)
    stack.worker.run()
    gid = db.session.execute(select(Variant.shopify_id).where(Variant.shop_id == shop.id,
                                                              Variant.sku == "TEE-WHT-M")).scalar_one()
    return gid.rsplit("/", 1)[1]


def test_enable_preorder_and_edit_german_wording_with_a_live_preview(admin):  # noqa: F811
    from playwright.sync_api import expect

    from sandbox.storefront import EmulatorCatalog, Storefront

    stack, page, problems = admin
    stack.emulator.admin.install(SHOPIFY_SHOP)
    page.goto(f"{stack.admin_url}/admin/storefront")
    app = page.frame_locator("#app-frame")
    status = app.locator("#preview-status")
    expect(status).to_have_text("Out of stock")  # sold out with a restock on the way, pre-order off
    variant = stock_a_restock_on_the_way(stack)  # the install imported the catalog

    # The theme editor link adds the block to the product page's main section, at the top level.
    add = app.locator("#add-block")
    expect(add).to_have_attribute("target", "_top")
    expect(add).to_have_attribute("href", f"https://{SHOPIFY_SHOP}/admin/themes/current/editor?context=apps"
                                          f"&template=product&addAppBlockId={stack.emulator.api_key}/stock-status"
                                          "&target=mainSection")

    app.locator("s-switch[name=allow_preorder] input").check()
    expect(status).to_have_text("Pre-order")  # unsaved, already previewed
    assert db.session.execute(select(StorefrontSettings)).scalar_one_or_none() is None
    app.locator("#storefront-form").evaluate("form => form.requestSubmit()")  # the save bar's Save
    expect(page.locator("#toasts .toast-message")).to_have_text("Storefront settings saved")
    db.session.expire_all()
    assert db.session.execute(select(StorefrontSettings.allow_preorder)).scalar_one() is True

    # The real block on the storefront, from the metafields and the app proxy.
    stack.worker.run()
    front = Storefront(EmulatorCatalog(stack.emulator, SHOPIFY_SHOP), app_url=stack.app_url, api_secret=API_SECRET,
                       shop_domain=SHOPIFY_SHOP).start()
    try:
        shopper = page.context.new_page()
        shopper.goto(f"{front.url}/products/organic-tee?variant={variant}&country=DE&locale=de")
        expect(shopper.locator("[data-ns-s]")).to_have_text("Vorbestellung")
        expect(shopper.locator(".ns")).to_have_attribute("data-code", "preorder")
        shopper.close()
    finally:
        front.stop()

    # German wording, typed: the preview follows before anything is saved.
    app.locator("#language").evaluate("el => { el.value = 'de'; el.dispatchEvent(new Event('change')); }")
    expect(status).to_have_text("Vorbestellung")
    app.locator("s-text-field[name='texts.de.preorder'] input").fill("Jetzt vorbestellen")
    expect(status).to_have_text("Jetzt vorbestellen")
    expect(app.locator("#preview-eta")).to_contain_text("Lieferung am")
    assert problems == []
