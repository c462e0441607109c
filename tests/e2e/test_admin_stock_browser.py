"""The stock page inside the local Shopify admin, in a real browser, with session tokens: the
table shows each SKU's stock per warehouse with its low-stock badge; opening a SKU draws its
charts (canvas) whose table alternative holds the numbers. Skips without Chromium/Playwright."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from integration.extensions import db
from integration.models import Shop
from tests.admin_frame_stack import (
    admin,  # noqa: F401 - the "admin" fixture
    framed,  # noqa: F401 - the "framed" fixture
)
from tests.e2e.test_storefront_browser import browser  # noqa: F401 - the "browser" fixture
from tests.shopify_fixtures import SHOPIFY_SHOP
from tests.stock_page_fixtures import seed_history, seed_stock

pytestmark = pytest.mark.e2e


def test_stock_table_and_a_skus_chart(admin):  # noqa: F811 - pytest fixture, imported above
    from playwright.sync_api import expect

    stack, page, problems = admin
    stack.emulator.admin.install(SHOPIFY_SHOP)
    page.goto(stack.admin_url)  # the first framed load installs the shop (token exchange)
    expect(page.frame_locator("#app-frame").locator("s-app-nav")).to_have_count(1)
    shop = db.session.execute(select(Shop).where(Shop.domain == SHOPIFY_SHOP)).scalar_one()
    seeded = seed_stock(shop, location=stack.berlin)
    seed_history(seeded)

    page.goto(f"{stack.admin_url}/admin/stock")
    app = page.frame_locator("#app-frame")
    rows = app.locator("#stock-table s-table-body s-table-row")
    expect(rows).to_have_count(4)
    red = rows.filter(has_text="SKU-B")
    expect(red.locator("s-badge[tone=warning]").first).to_have_text("Low stock")
    expect(red).to_contain_text("5 on hand")
    expect(red).to_contain_text("3 available")
    expect(rows.filter(has_text="SKU-C").locator("s-badge[tone=critical]")).to_have_text("Out of stock")
    blue = rows.filter(has_text="SKU-A")
    for text in ("20 on hand", "4 reserved", "10 inbound", "15 available", "3 on hand", "2 available"):
        expect(blue).to_contain_text(text)

    choose = "(el, value) => { el.value = value; el.dispatchEvent(new Event('change')); }"
    app.locator("s-select[name=filter]").evaluate(choose, "low")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("SKU-B")
    app.locator("s-select[name=filter]").evaluate(choose, "")
    expect(rows).to_have_count(4)

    blue.locator("s-link").click()
    history = app.locator("#sku-history")
    expect(history).to_be_visible()
    expect(history.locator("#sku-stock-chart canvas").first).to_be_attached()
    expect(history.locator("#sku-sales-chart canvas").first).to_be_attached()
    stock_table = history.locator("#sku-stock-chart details table")
    expect(stock_table.locator("thead th")).to_have_text(["Date", "Berlin", "Lyon", "Old"])
    expect(stock_table.locator("tbody tr").last.locator("td")).to_have_text(["20", "3", "50"])  # the live ledger today
    sales = history.locator("#sku-sales-chart details table tbody tr")
    expect(sales.nth(27).locator("td")).to_have_text(["2", "1", "0"])
    assert problems == []


def test_in_app_links_keep_the_launch_parameters(admin):  # noqa: F811 - pytest fixture, imported above
    """A link to another page of the app keeps ``shop`` (and host, locale): without it the target
    refuses to be framed. The stock page's empty state links from its template; following one
    lands on the warehouses page, framed."""
    from playwright.sync_api import expect

    stack, page, problems = admin
    stack.emulator.admin.install(SHOPIFY_SHOP)
    page.goto(f"{stack.admin_url}/admin/stock")
    app = page.frame_locator("#app-frame")
    connect = app.locator("#stock-empty s-button[variant=primary]")
    expect(connect).to_be_visible()  # no stock yet: says where to start
    kept = re.compile(rf"^/admin/warehouses\?(.+&)?shop={re.escape(SHOPIFY_SHOP)}(&|$)")
    expect(connect).to_have_attribute("href", kept)
    connect.get_by_role("link").click()
    expect(app.get_by_role("heading", name="Warehouse accounts")).to_be_visible()
    assert page.frame_locator("#app-frame").locator("s-page").get_attribute("heading") == "Warehouses"
    assert not [p for p in problems if "console" in p or "pageerror" in p], problems
