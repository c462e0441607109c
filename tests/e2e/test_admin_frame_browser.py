"""The app inside the emulator's local Shopify admin, in a real browser (headless system Chromium).

The chain is the real one: the merchant approves the install in the admin -> the admin frames the
app's URL with signed launch parameters and an ID token -> the app exchanges that token for an
offline token (Shopify-managed install) -> the app's page loads the App Bridge and Polaris
stand-ins (the Polaris one reports any element or attribute Polaris does not have: a console
error, so a failure here), App Bridge's fetch adds a session token the app verifies -> its toasts,
navigation (s-app-nav) and address bar show in the admin. Then the store's own admin places a
test order whose webhook reaches the app. Skips when Chromium or Playwright is missing (see
test_storefront_browser).
"""

from __future__ import annotations

import json

import jwt
import pytest
from sqlalchemy import select

from integration.extensions import db
from integration.models import Shop
from integration.shops import verification
from tests.admin_frame_stack import admin, browser, framed  # noqa: F401 - fixtures
from tests.conftest import API_KEY, API_SECRET
from tests.shopify_fixtures import SHOPIFY_SHOP

pytestmark = pytest.mark.e2e



def test_install_from_the_admin_then_the_app_calls_its_api_with_session_tokens(admin):  # noqa: F811 - pytest fixture, imported above
    from playwright.sync_api import expect

    stack, page, problems = admin
    page.goto(stack.admin_url)
    expect(page.locator("h1")).to_have_text("Install Nearstock")
    assert db.session.execute(select(Shop)).scalar_one_or_none() is None

    with page.expect_request(lambda r: r.url == f"{stack.app_url}/api/home") as api_call:
        page.click("#install-app")
    app = page.frame_locator("#app-frame")
    expect(app.locator("#shop")).to_have_text("acme.myshopify.com · installed")  # /api/home answered

    # Shopify-managed install: the first framed load exchanged its ID token for an offline token.
    shop = db.session.execute(select(Shop)).scalar_one()
    assert shop.domain == SHOPIFY_SHOP and shop.access_token.startswith("shpat_") and shop.refresh_token
    # The stand-in's fetch carried a session token signed like Shopify's.
    header = api_call.value.all_headers()["authorization"]
    assert header.startswith("Bearer ")
    claims = jwt.decode(header.removeprefix("Bearer "), API_SECRET, algorithms=["HS256"], audience=API_KEY)
    assert (claims["iss"], claims["dest"]) == (f"https://{SHOPIFY_SHOP}/admin", f"https://{SHOPIFY_SHOP}")
    assert claims["exp"] - claims["iat"] == 60

    # The admin's address bar follows the app; its <s-app-nav> links are the admin's navigation:
    # the rel="home" one is the app's own link (Home), the others are listed under it.
    expect(page).to_have_url(f"{stack.admin_url}/admin")
    expect(page.locator("#app-link")).to_have_attribute("aria-current", "page")
    expect(page.locator("#app-nav a")).to_have_text(
        ["Orders", "Stock", "Warehouses", "Storefront", "Notices", "Loyalty", "Feedback", "Amazon", "Insights",
         "After-sales"])
    nav = page.locator("#app-nav a", has_text="Warehouses")

    # A toast shown by the app appears in the admin.
    app.locator("#reimport").click()
    expect(page.locator("#toasts .toast-message")).to_have_text("Catalog import started")

    nav.click()
    expect(page).to_have_url(f"{stack.admin_url}/admin/warehouses")
    expect(page.frame_locator("#app-frame").locator("h1")).to_have_text("Warehouses")
    expect(page.locator("#app-nav a[aria-current=page]")).to_have_text("Warehouses")
    assert problems == []


def test_test_order_placed_in_the_admin_reaches_the_app(admin):  # noqa: F811 - pytest fixture, imported above
    from playwright.sync_api import expect

    stack, page, problems = admin
    # The store's webhooks go to the app once it is installed: approved, then opened (token exchange).
    stack.emulator.admin.install(SHOPIFY_SHOP)
    page.goto(stack.admin_url)
    expect(page.frame_locator("#app-frame").locator("#shop")).to_have_text("acme.myshopify.com · installed")
    page.goto(f"{stack.emulator.url}/store/acme/orders")
    page.select_option("#order-lines select", "TEE-BLK-M")
    page.fill("#order-lines input", "2")
    page.click("#add-line")
    page.locator(".order-line").nth(1).locator("select").select_option("TEE-WHT-M")
    page.select_option("#order-country", "FR")
    page.fill("#order-email", "client@example.com")
    page.select_option("#order-locale", "fr")
    page.click("#order-form button[type=submit]")
    expect(page.locator("#toasts .toast-message")).to_have_text("Order #1001 placed")
    row = page.locator("table.orders tbody tr").first
    expect(row).to_contain_text("client@example.com")
    expect(row).to_contain_text("FR · fr")

    [event] = stack.inbox("orders/create")
    order = json.loads(event.body)
    assert (order["email"], order["customer_locale"], order["shipping_address"]["country_code"]) == (
        "client@example.com", "fr", "FR")
    assert [(li["sku"], li["quantity"]) for li in order["line_items"]] == [("TEE-BLK-M", 2), ("TEE-WHT-M", 1)]

    row.locator("form.cancel-order button").click()
    expect(page.locator("#toasts .toast-message")).to_have_text("Order #1001 cancelled")
    assert len(stack.inbox("orders/cancelled")) == 1

    page.goto(f"{stack.emulator.url}/store/acme/products")
    page.fill("input[aria-label='TEE-WHT-M at Lyon']", "7")
    page.locator("form.stock-row").nth(1).locator("button").click()
    expect(page.locator("#toasts .toast-message")).to_have_text("Stock of TEE-WHT-M saved")
    assert stack.emulator.inventory_quantity(SHOPIFY_SHOP, stack.emulator.find_variant(
        SHOPIFY_SHOP, "TEE-WHT-M")["inventory_item_id"], stack.lyon) == 7
    assert problems == []


def test_a_refused_session_token_is_retried_once_with_a_fresh_one(admin):  # noqa: F811 - pytest fixture, imported above
    from playwright.sync_api import expect

    stack, page, problems = admin
    stack.emulator.admin.install(SHOPIFY_SHOP)
    tokens: list[str] = []

    def refuse_the_first(route):
        tokens.append(route.request.headers["authorization"].removeprefix("Bearer "))
        if len(tokens) > 1:
            route.continue_()
            return
        # What the app answers a lapsed token (integration/views/session_auth.py).
        route.fulfill(status=401, content_type="application/json",
                      headers={"X-Shopify-Retry-Invalid-Session-Request": "1"},
                      body='{"error": {"code": "invalid_session", "message": "session token rejected"}}')

    page.route(f"{stack.app_url}/api/home", refuse_the_first)
    page.goto(stack.admin_url)
    expect(page.frame_locator("#app-frame").locator("#shop")).to_have_text("acme.myshopify.com · installed")
    assert len(tokens) == 2
    first, retried = (jwt.decode(t, API_SECRET, algorithms=["HS256"], audience=API_KEY) for t in tokens)
    assert first["jti"] != retried["jti"]  # a fresh token, not the cached one

    # shopify.idToken() answers a token the app's own verifier accepts.
    app_frame = next(f for f in page.frames if f.url.startswith(stack.app_url))
    token = app_frame.evaluate("shopify.idToken()")
    session = verification.verify_session_token(f"Bearer {token}", f"{stack.app_url}/api/shop",
                                                stack.app.config["NEARSTOCK"])
    assert session.domain == SHOPIFY_SHOP
    assert app_frame.evaluate("[shopify.config.shop, shopify.config.apiKey, shopify.environment.embedded]") == [
        SHOPIFY_SHOP, API_KEY, True]

    # Opened outside the admin, the app's page goes to itself inside the admin (as App Bridge does).
    page.goto(f"{stack.app_url}/admin?shop={SHOPIFY_SHOP}")
    expect(page).to_have_url(f"{stack.admin_url}/admin")
    expect(page.frame_locator("#app-frame").locator("#shop")).to_have_text("acme.myshopify.com · installed")
    assert sorted(problems) == [f"401 {stack.app_url}/api/home", "console.error: Failed to load resource: the "
                                "server responded with a status of 401 (Unauthorized)"]


def test_the_app_speaks_the_language_the_staff_member_picks_in_the_admin(admin):  # noqa: F811 - pytest fixture, imported above
    from playwright.sync_api import expect

    stack, page, problems = admin
    page.goto(stack.admin_url)
    page.click("#install-app")
    app = page.frame_locator("#app-frame")
    expect(app.locator("#shop")).to_have_text("acme.myshopify.com · installed")

    # Shopify passes the staff member's admin language as the launch parameter ``locale``.
    page.select_option("#admin-language", "de")
    expect(page.locator("#app-nav a").first).to_have_text("Bestellungen")
    expect(app.locator("html")).to_have_attribute("lang", "de")
    page.locator("#app-nav a", has_text="Lager").click()
    expect(page.frame_locator("#app-frame").locator("s-page")).to_have_attribute("heading", "Lager")
    page.select_option("#admin-language", "ja")
    expect(page.locator("#app-nav a").first).to_have_text("注文")
    assert problems == []
