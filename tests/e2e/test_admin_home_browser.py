"""The Home and Amazon pages inside the emulator's local Shopify admin, in a real browser (system
Chromium), with real session tokens: the setup guide ticks "connect a warehouse" once one is
connected and links each step to its page, the health cards show the warehouse account, and the
Amazon page lists an imported order with its confirmation state. Skips when Chromium or
Playwright is missing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from integration.extensions import db
from integration.models import Shop
from integration.models.amazon import AmazonAccount, AmazonOrder
from integration.models.notification import Notification
from tests.admin_frame_stack import admin, browser, framed  # noqa: F401 - fixtures
from tests.helpers_warehouse import make_account, make_order, make_warehouse
from tests.shopify_fixtures import SHOPIFY_SHOP

pytestmark = pytest.mark.e2e


@pytest.fixture
def approved(admin):  # noqa: F811 - pytest fixture, imported above
    """The shared ``admin`` page, with the app approved in the store's admin."""
    admin[0].emulator.admin.install(SHOPIFY_SHOP)
    return admin


def _open(stack, page, path: str = ""):
    from playwright.sync_api import expect

    page.goto(f"{stack.admin_url}{path}")
    app = page.frame_locator("#app-frame")
    if not path:
        expect(app.locator("#shop")).to_have_text("acme.myshopify.com · installed")
    return app


def _installed_shop() -> Shop:
    db.session.expire_all()
    return db.session.execute(select(Shop).where(Shop.domain == SHOPIFY_SHOP)).scalar_one()


def test_the_setup_guide_ticks_a_connected_warehouse_and_health_shows_it(approved):
    from playwright.sync_api import expect

    stack, page, problems = approved
    app = _open(stack, page)
    step = app.locator("#step-connect_warehouse")
    expect(step).to_have_attribute("data-done", "false")
    expect(step).to_contain_text("Connect a warehouse")
    # In-app links keep the launch parameters an embedded page needs (shop, host).
    link = re.compile(rf"^/admin/warehouses\?shop={SHOPIFY_SHOP}&host=")
    expect(step.locator("s-link")).to_have_attribute("href", link)
    expect(app.locator("#setup-progress")).to_have_text("0 of 5 steps done")
    expect(app.locator("#health-shopify")).to_contain_text("Shopify")
    expect(app.locator("#health-no-warehouse")).to_contain_text("No warehouse connected yet.")

    shop = _installed_shop()
    account = make_account(shop, "winit")
    account.name = "WINIT Europe"
    db.session.commit()
    make_warehouse(shop, account, "DE0001", "DE")
    app = _open(stack, page)
    expect(step).to_have_attribute("data-done", "true")
    expect(step.locator("s-icon")).to_have_attribute("type", "check-circle-filled")
    expect(app.locator("#step-map_locations")).to_have_attribute("data-done", "false")
    expect(app.locator("#step-map_locations")).to_contain_text("Mapped: 0 of 1 warehouses")
    expect(app.locator("#setup-progress")).to_have_text("1 of 5 steps done")
    card = app.locator(f"#health-warehouse-{account.id}")
    expect(card).to_contain_text("WINIT Europe")
    expect(card).to_contain_text("winit · Warehouses: 1")
    expect(card).to_contain_text("No stock sync yet")
    assert problems == []


def test_the_loyalty_step_links_to_the_loyalty_page_and_ticks_once_the_program_is_on(approved):
    from playwright.sync_api import expect

    from integration.loyalty.program import load_rules, update_program

    stack, page, problems = approved
    app = _open(stack, page)
    step = app.locator("#step-loyalty")
    expect(step).to_have_attribute("data-done", "false")
    expect(step.locator("s-link")).to_have_attribute("href", re.compile(rf"^/admin/loyalty\?shop={SHOPIFY_SHOP}&"))
    shop = _installed_shop()
    update_program(shop.id, {"enabled": True})  # what the Loyalty page's switch saves
    db.session.commit()
    assert load_rules(shop.id).enabled
    app = _open(stack, page)
    expect(step).to_have_attribute("data-done", "true")
    assert problems == []


def test_the_amazon_page_lists_an_imported_order_with_its_confirmation_state(approved):
    from playwright.sync_api import expect

    stack, page, problems = approved
    _open(stack, page)  # installs the shop (token exchange on the first framed load)
    shop = _installed_shop()
    account = AmazonAccount(shop_id=shop.id, name="Amazon EU", seller_id="A1SELLERTEST", region="eu",
                            marketplaces=["A1PA6795UKMFR9", "A13V1IB3VIYZZH"], lwa_client_id="id",
                            lwa_client_secret="secret", refresh_token="refresh")
    db.session.add(account)
    db.session.commit()
    order = make_order(shop, "302-1234567-7654321", [("TEE-BLK-M", 1)], channel="amazon")
    db.session.add(AmazonOrder(order_id=order.id, account_id=account.id, marketplace_id="A1PA6795UKMFR9"))
    db.session.commit()

    app = _open(stack, page, "/admin/amazon")
    expect(app.locator(f"#account-{account.id}")).to_contain_text("Amazon EU")
    expect(app.locator(f"#account-{account.id}")).to_contain_text("Germany, France")
    row = app.locator(f"#order-{order.id}")
    expect(row).to_contain_text("302-1234567-7654321")
    expect(row).to_contain_text("Germany")
    expect(row).to_contain_text("Not shipped yet")
    expect(app.locator("#orders-empty")).to_be_hidden()

    # Disconnecting asks first, in a modal; confirming stops the account.
    app.locator(f"#account-{account.id} s-button").click()
    expect(app.locator("#disconnect-text")).to_contain_text("Amazon EU")
    expect(app.locator("#disconnect-confirm")).to_be_visible()
    app.locator("#disconnect-confirm").click()
    expect(page.locator("#toasts .toast-message")).to_have_text("Amazon account disconnected")
    expect(app.locator("#disconnect-confirm")).to_be_hidden()
    expect(app.locator(f"#account-{account.id}")).to_contain_text("Disconnected")
    db.session.expire_all()
    assert db.session.get(AmazonAccount, account.id).active is False
    assert problems == []


def test_a_test_notice_sent_from_home_goes_through_the_outbox_and_ticks_its_step(approved):
    from playwright.sync_api import expect

    stack, page, problems = approved
    _open(stack, page)
    stack.worker.run()  # the install's jobs: the catalog import and the shop's profile
    shop = _installed_shop()
    assert shop.email == f"owner@{SHOPIFY_SHOP}"  # the owner's address, from the shop's profile
    app = _open(stack, page)
    expect(app.locator("#step-test_notice")).to_have_attribute("data-done", "false")
    app.locator("s-select#test-kind select").select_option("points_earned")
    app.locator("s-select#test-locale select").select_option("ja")
    app.locator("#test-send").click()
    expect(page.locator("#toasts .toast-message")).to_have_text(f"Test notice queued for {shop.email}")
    notice = db.session.execute(select(Notification)).scalar_one()
    assert (notice.kind, notice.locale, notice.recipient) == ("points_earned", "ja", shop.email)
    stack.worker.run()
    sent = list(stack.app.config["NEARSTOCK"].outbox_path.glob("*.eml"))
    assert len(sent) == 1 and shop.email.encode() in sent[0].read_bytes()
    app = _open(stack, page)
    expect(app.locator("#step-test_notice")).to_have_attribute("data-done", "true")
    assert problems == []
