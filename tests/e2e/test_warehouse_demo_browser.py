"""A newcomer's warehouse steps in a real browser (headless Chromium): on the warehouses page
inside the local Shopify admin (session tokens, the strict Polaris stand-in), fill in a demo account
and connect it (the app checks it against the running emulator), map a warehouse to the Shopify
location the page suggests and give it transit days; on the emulators' control page, watch a parcel
our connector created and move it - shipped, a customs delay, delivered - while our connector sees
each step. Skips without Chromium or Playwright."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from connectors.warehouses import registry
from integration.domain.warehousing import ExceptionReason, OutboundStatus, TrackingStatus
from integration.extensions import db
from integration.models import Location, Shop, Warehouse
from tests.admin_frame_stack import (
    admin,  # noqa: F401 - the "admin" fixture
    framed,  # noqa: F401 - the "framed" fixture
)
from tests.e2e.test_storefront_browser import browser  # noqa: F401 - the Chromium fixture
from tests.sandbox.test_warehouse_sandbox import outbound
from tests.shopify_fixtures import SHOPIFY_SHOP
from tests.test_loyalty_support import auth
from tests.web.test_warehouse_connect_form import warehouse_sandbox  # noqa: F401 - the emulators

pytestmark = pytest.mark.e2e
BAD_ROW = "transit_days[0].max_days: must not be less than the minimum"


@pytest.fixture
def framed_env(warehouse_sandbox):  # noqa: F811 - pytest fixture, imported above
    """What `make run` gives the app (read by the "framed" fixture): the emulators' demo accounts."""
    return {"NEARSTOCK_ENV": "development", "WAREHOUSE_SANDBOX": json.dumps(warehouse_sandbox.settings())}


def _install(stack, page) -> Shop:
    """The shop installed from the admin, its locations imported (Cicero is the US one)."""
    stack.emulator.admin.install(SHOPIFY_SHOP)
    page.goto(stack.admin_url)  # the first framed load installs the shop (token exchange)
    deadline = time.monotonic() + 20
    while True:
        db.session.expire_all()
        shop = db.session.execute(select(Shop).where(Shop.domain == SHOPIFY_SHOP)).scalar_one_or_none()
        if shop is not None and shop.access_token:
            break
        assert time.monotonic() < deadline, "the install did not finish"
        time.sleep(0.1)
    stack.worker.run()  # the install's catalog import: the locations
    names = db.session.execute(select(Location.name).where(Location.shop_id == shop.id)).scalars().all()
    assert "Cicero" in names
    return shop


def test_connect_a_demo_warehouse_and_map_it_to_a_location(admin, warehouse_sandbox):  # noqa: F811
    from playwright.sync_api import expect

    stack, page, problems = admin
    cicero = stack.emulator.add_location(SHOPIFY_SHOP, "Cicero", "US", city="Cicero", zip="60804")
    shop = _install(stack, page)
    page.goto(f"{stack.admin_url}/admin/warehouses")
    app = page.frame_locator("#app-frame")
    toasts = page.locator("#toasts .toast-message")
    expect(app.locator("#accounts-empty")).to_be_visible()  # nothing connected: says what to do
    expect(app.locator("#sandbox-link a")).to_have_attribute("href", warehouse_sandbox.control_url)

    # The connect form lives in a modal: its fields can be used once it is open.
    form = app.locator("#connect-form")
    expect(form.locator("s-select[name=provider] s-option")).to_have_count(4)
    expect(form).to_be_hidden()
    # Click the inner <button> as a person would: the stand-in's s-button host is stretched in a
    # block stack, so its middle can be empty space beside the button.
    app.locator("#connect-open button").click()
    expect(form).to_be_visible()
    provider = form.locator("s-select[name=provider] select")
    provider.select_option("fba")  # no Amazon account yet
    expect(app.locator("#connect-no-amazon")).to_be_visible()
    expect(app.locator("#connect-submit button")).to_be_disabled()

    provider.select_option("shipbob")
    expect(form.locator("s-password-field[name='credentials.token']")).to_have_attribute(
        "label", "Personal Access Token")
    app.locator("#connect-demo button").click()
    expect(form.locator("s-text-field[name=name] input")).to_have_value("ShipBob demo")
    expect(form.locator("s-text-field[name='credentials.channel_id'] input")).to_have_value("100102")
    app.locator("#connect-submit button").click()
    expect(toasts.last).to_have_text("Connected: 2 warehouses found, 2 imported")
    expect(form).to_be_hidden()  # the modal closed
    expect(app.locator("#accounts s-table-row")).to_have_count(1)
    expect(app.locator("#warehouses form")).to_have_count(2)

    # Map the Cicero warehouse to the location the page suggests (same country, similar name).
    warehouse = app.locator("#warehouses form", has_text="Cicero (IL)")
    expect(warehouse.locator("s-text", has_text="Suggested: Cicero")).to_contain_text("same country")
    location = warehouse.locator("s-select[name=location_shopify_id] select")
    expect(location).to_have_value("")  # not mapped yet
    expect(location.locator("option", has_text="Cicero (US)")).to_have_attribute("value", cicero)
    location.select_option(label="Lyon (FR)")  # a wrong pick first, then the suggestion
    warehouse.locator("s-button", has_text="Use the suggestion").locator("button").click()
    expect(location).to_have_value(cicero)

    # Transit days with the structured rows, saved with the location.
    warehouse.locator("s-button", has_text="Add a country").locator("button").click()
    warehouse.locator("s-select[name='transit_days[0].country'] select").select_option("US")
    warehouse.locator("s-number-field[name='transit_days[0].min_days'] input").fill("2")
    warehouse.locator("s-number-field[name='transit_days[0].max_days'] input").fill("4")
    warehouse.locator("s-button[type=submit] button").click()
    expect(toasts.last).to_have_text("Saved 10")
    saved = app.locator("#warehouses form", has_text="Cicero (IL)")  # drawn again from the server
    expect(saved.locator("s-select[name=location_shopify_id] select")).to_have_value(cicero)
    expect(saved.locator("s-text", has_text="Suggested")).to_have_count(0)  # mapped: no suggestion
    expect(saved.locator("s-select[name='transit_days[0].country'] select")).to_have_value("US")
    # Cicero is taken: the other US warehouse is no longer offered it.
    other = app.locator("#warehouses form", has_text="Moreno Valley (CA)")
    expect(other.locator("s-select[name=location_shopify_id] select")).to_have_value("")
    expect(other.locator("s-text", has_text="Suggested: Cicero")).to_have_count(0)

    # After a reload (everything from the API again) the mapping is still there.
    page.reload()
    app = page.frame_locator("#app-frame")
    saved = app.locator("#warehouses form", has_text="Cicero (IL)")
    expect(saved.locator("s-select[name=location_shopify_id] select")).to_have_value(cicero)

    # A row the server refuses (the maximum below the minimum; 0..60 the field's own limits check)
    # is named beside its field, and nothing is saved.
    saved.locator("s-number-field[name='transit_days[0].max_days'] input").fill("1")
    saved.locator("s-button[type=submit] button").click()
    expect(saved.locator("s-number-field[name='transit_days[0].max_days']")).to_have_attribute("error", BAD_ROW)
    refused = ("422 ", "console.error: Failed to load resource: the server responded with a status of 422")
    problems = [p for p in problems if not p.startswith(refused)]  # the refused row, answered 422
    assert problems == []

    answer = stack.app.test_client().get("/api/warehouses", headers=auth(SHOPIFY_SHOP))
    assert answer.status_code == 200
    by_name = {w["name"]: w for w in answer.json["warehouses"]}
    assert by_name["Cicero (IL)"]["location_shopify_id"] == cicero
    assert by_name["Cicero (IL)"]["transit_days"] == {"US": [2, 4]}
    assert by_name["Moreno Valley (CA)"]["location_shopify_id"] is None
    db.session.expire_all()
    warehouses = db.session.execute(select(Warehouse).where(Warehouse.shop_id == shop.id)).scalars().all()
    assert {w.country_code for w in warehouses} == {"US"}
    mapped = {w.name: (w.location_shopify_id, w.transit_days) for w in warehouses}
    assert mapped == {"Cicero (IL)": (cicero, {"US": [2, 4]}), "Moreno Valley (CA)": (None, {})}


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
