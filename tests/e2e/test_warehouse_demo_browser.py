"""A newcomer's warehouse steps in a real browser (headless Chromium): on the warehouses page, fill
in a demo account and connect it (the app checks it against the running emulator); on the
emulators' control page, watch a parcel our connector created and move it — shipped, a customs
delay, delivered — while our connector sees each step. Skips without Chromium or Playwright."""

from __future__ import annotations

import pytest

from connectors.warehouses import registry
from integration.domain.warehousing import ExceptionReason, OutboundStatus, TrackingStatus
from integration.extensions import db
from integration.models import Warehouse
from sandbox.server import serve
from tests.e2e.test_storefront_browser import browser  # noqa: F401 - the Chromium fixture
from tests.sandbox.test_warehouse_sandbox import outbound
from tests.web.test_auth_security import add_shop, session_token
from tests.web.test_warehouse_connect_form import config, warehouse_sandbox  # noqa: F401 - fixtures

pytestmark = pytest.mark.e2e
SHOP = "a-shop.myshopify.com"


def test_connect_a_demo_warehouse_from_the_form(app, browser, warehouse_sandbox):  # noqa: F811
    """Needs the strict Polaris stand-in (adm-polaris): its fields render a real input inside."""
    from playwright.sync_api import expect

    shop = add_shop(SHOP)
    server = serve(app)
    context = browser.new_context(extra_http_headers={"Authorization": f"Bearer {session_token(SHOP)}"})
    try:
        page = context.new_page()
        page.goto(f"{server.url}/admin/warehouses?shop={SHOP}")
        expect(page.locator("#accounts-empty")).to_be_visible()  # nothing connected: says what to do
        assert page.get_attribute("#sandbox-link", "href") == warehouse_sandbox.control_url
        form = page.locator("#connect-form")
        expect(form.locator("s-select[name=provider] s-option")).to_have_count(4)

        form.locator("s-select[name=provider] select").select_option("fba")  # no Amazon account yet
        expect(page.locator("#connect-no-amazon")).to_be_visible()
        assert page.get_attribute("#connect-submit", "disabled") is not None

        form.locator("s-select[name=provider] select").select_option("shipbob")
        expect(form.locator("s-password-field[name='credentials.token']")).to_have_attribute(
            "label", "Personal Access Token")
        page.click("#connect-demo")
        assert form.locator("s-text-field[name=name] input").input_value() == "ShipBob demo"
        assert form.locator("s-text-field[name='credentials.channel_id'] input").input_value() == "100102"
        page.click("#connect-submit")
        expect(page.locator("#accounts s-table-row")).to_have_count(1)
        expect(page.locator("#warehouses form")).to_have_count(2)

        # Map a location, set transit days with the structured rows, save, and see it saved.
        first = page.locator("#warehouses form").first
        first.locator("s-button", has_text="Add a country").click()
        first.locator("s-select[name='transit_days[0].country'] select").select_option("US")
        first.locator("s-number-field[name='transit_days[0].min_days'] input").fill("2")
        first.locator("s-number-field[name='transit_days[0].max_days'] input").fill("4")
        first.locator("s-button[type=submit]").click()
        saved = page.locator("#warehouses form").first
        expect(saved.locator("s-select[name='transit_days[0].country']")).to_have_count(1)
        # A bad row is named beside its field.
        first = page.locator("#warehouses form").first
        first.locator("s-number-field[name='transit_days[0].max_days'] input").fill("61")
        first.locator("s-button[type=submit]").click()
        expect(first.locator("s-number-field[name='transit_days[0].max_days']")).to_have_attribute(
            "error", "transit_days[0].max_days: the maximum must be between 0 and 60 business days")
    finally:
        context.close()
        server.shutdown()
    db.session.expire_all()
    warehouses = db.session.query(Warehouse).filter_by(shop_id=shop.id).order_by(Warehouse.priority, Warehouse.id).all()
    assert {w.country_code for w in warehouses} == {"US"}
    assert warehouses[0].transit_days == {"US": [2, 4]}


def test_watch_and_move_a_parcel_on_the_control_page(browser, redis_conn, warehouse_sandbox):  # noqa: F811
    account = warehouse_sandbox.accounts()["goodcang"]
    provider = registry.build("goodcang", account["credentials"], redis=redis_conn, account_key="demo",
                              endpoint=account["endpoint"])
    provider.create_outbound(outbound("goodcang", "NS-BROWSER-1"))
    page = browser.new_page()
    try:
        page.goto(warehouse_sandbox.control_url)
        row = page.locator("tr", has_text="NS-BROWSER-1")
        row.wait_for()
        assert "received" in row.text_content()

        row.get_by_role("button", name="Ship").click()
        page.wait_for_selector("#status:has-text('ship done')")
        row = page.locator("tr", has_text="NS-BROWSER-1")
        assert "shipped" in row.text_content()
        assert provider.get_outbound("NS-BROWSER-1").status is OutboundStatus.SHIPPED

        row.locator("select").select_option("customs_delay")
        row.get_by_role("button", name="Raise exception").click()
        page.wait_for_selector("#status:has-text('exception done')")
        reasons = [e.reason for e in provider.tracking_events("NS-BROWSER-1") if e.reason]
        assert reasons == [ExceptionReason.CUSTOMS_DELAY]

        page.locator("tr", has_text="NS-BROWSER-1").get_by_role("button", name="Deliver").click()
        page.wait_for_selector("#status:has-text('deliver done')")
        assert "delivered" in page.locator("tr", has_text="NS-BROWSER-1").text_content()
        assert provider.tracking_events("NS-BROWSER-1")[-1].status is TrackingStatus.DELIVERED
    finally:
        page.close()
