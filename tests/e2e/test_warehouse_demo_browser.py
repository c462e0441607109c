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
    shop = add_shop(SHOP)
    server = serve(app)
    context = browser.new_context(extra_http_headers={"Authorization": f"Bearer {session_token(SHOP)}"})
    try:
        page = context.new_page()
        # Offline there is no Shopify CDN; the session token travels in the header set above.
        page.route("https://cdn.shopify.com/**", lambda route: route.fulfill(body="", content_type="text/javascript"))
        page.goto(f"{server.url}/admin/warehouses?shop={SHOP}")
        page.wait_for_selector("#acc-provider option", state="attached")
        assert page.input_value("#acc-provider") == "winit"
        assert page.get_attribute("#sandbox a", "href") == warehouse_sandbox.control_url

        page.select_option("#acc-provider", "fba")  # no Amazon account yet: explained, not submittable
        assert "Connect your Amazon account first" in page.text_content("#acc-fba-note")
        assert page.is_disabled("#acc-submit")

        page.select_option("#acc-provider", "shipbob")
        page.click("#acc-demo")
        assert page.input_value("#acc-name") == "ShipBob demo"
        assert page.input_value("#acc-endpoint") == ""
        page.click("#acc-submit")
        page.wait_for_function("document.getElementById('status').textContent.startsWith('Connected')")
        assert page.text_content("#status") == "Connected: 2 warehouse(s) found, 2 imported"
        page.wait_for_function("document.querySelectorAll('#warehouses tr').length === 3")  # header + 2 centers
        assert [c.text_content() for c in page.locator("#warehouses tr td:first-child").all()] == ["10", "22"]
    finally:
        context.close()
        server.shutdown()
    db.session.expire_all()
    countries = {w.country_code for w in db.session.query(Warehouse).filter_by(shop_id=shop.id)}
    assert countries == {"US"}


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
