"""The Orders pages inside the emulator's local admin, in a real browser with session tokens: the
empty state, then real orders routed by the allocation (local, split with a backorder, the only
warehouse with stock), the routing filter, and one order's timeline opened from its row. Skips
when Chromium or Playwright is missing (see test_storefront_browser)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from integration.domain.warehousing import Line, Outbound, OutboundStatus, Package
from integration.extensions import db
from integration.models import OutboundOrder, Shop
from integration.orders import allocation, shipments
from tests.admin_frame_stack import admin, browser, framed  # noqa: F401 - fixtures
from tests.helpers_warehouse import make_account, make_order, make_warehouse, set_stock
from tests.shopify_fixtures import SHOPIFY_SHOP

pytestmark = pytest.mark.e2e



def take_orders(shop: Shop) -> None:
    """Three orders through the real allocation; the first pushed to Berlin and shipped."""
    account = make_account(shop)
    berlin = make_warehouse(shop, account, "DEWH", "DE", name="Berlin")
    lyon = make_warehouse(shop, account, "FRWH", "FR", name="Lyon")
    set_stock(shop, berlin, "MUG", 10)
    set_stock(shop, berlin, "BAG", 1)
    set_stock(shop, lyon, "BAG", 1)
    set_stock(shop, lyon, "TEE", 4)
    for number, lines, country in (("1001", [("MUG", 2)], "DE"), ("1002", [("BAG", 3)], "DE"),
                                   ("1003", [("TEE", 1)], "AT")):
        order = make_order(shop, f"gid://shopify/Order/{number}", lines, country=country)
        order.name, order.external_created_at = f"#{number}", datetime.now(UTC) - timedelta(hours=1)
        db.session.commit()
        allocation.allocate_order(order.id)
        if number == "1001":
            outbound = db.session.execute(select(OutboundOrder).where(OutboundOrder.order_id == order.id)).scalar_one()
            # What outbound.push records when the warehouse takes it.
            outbound.status, outbound.external_id = "pushed", "WI-1001"
            outbound.pushed_at = datetime.now(UTC)
            outbound.sla_due_at = outbound.pushed_at + timedelta(hours=berlin.handling_hours)
            db.session.commit()
            shipments.record_outbound_state(outbound.id, Outbound(
                reference=outbound.reference, external_id="WI-1001", status=OutboundStatus.SHIPPED,
                packages=(Package("TRK1001", carrier="DHL", lines=(Line("MUG", 2),),
                                  shipped_at=datetime.now(UTC)),)))


def test_orders_list_filter_and_an_orders_timeline(admin):  # noqa: F811 - pytest fixture, imported above
    from playwright.sync_api import expect

    stack, page, problems = admin
    stack.emulator.admin.install(SHOPIFY_SHOP)
    page.goto(f"{stack.admin_url}/admin/orders")
    app = page.frame_locator("#app-frame")
    # Nothing yet: the empty state says what brings orders here and links to the warehouses.
    expect(app.locator("#orders-empty")).to_be_visible()
    expect(app.locator("#orders-empty")).to_contain_text("once the store takes one and a warehouse is connected")
    expect(app.locator("#orders-list")).to_be_hidden()

    take_orders(db.session.execute(select(Shop)).scalar_one())  # the shop the session made
    page.reload()
    rows = app.locator("#orders-body s-table-row")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("#1003")  # newest first
    expect(rows.nth(0)).to_contain_text("Lyon")
    expect(rows.nth(0)).to_contain_text("Only one with stock")  # only Lyon has tees
    expect(rows.nth(1)).to_contain_text("Split")
    expect(rows.nth(1)).to_contain_text("Backordered")
    local = rows.nth(2)
    expect(local).to_contain_text("#1001")
    expect(local).to_contain_text("Berlin")
    expect(local).to_contain_text("Local")
    expect(local).to_contain_text("Shipped")
    expect(local).to_contain_text("On time")
    expect(local).to_contain_text("DHL TRK1001")

    # The routing filter asks the server again and keeps only the local order.
    with page.expect_response(lambda r: "/api/orders?" in r.url and "reason=local" in r.url):
        app.locator("#orders-reason select").select_option("local")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("#1001")
    # A search with no match keeps the filters in view and says so.
    app.locator("#orders-q input").fill("NOPE")
    expect(app.locator("#orders-no-match")).to_be_visible()
    app.locator("#orders-q input").fill("")
    expect(rows).to_have_count(1)

    # The order's page: its timeline from received to shipped.
    rows.first.locator("s-link a").click()
    expect(app.locator("#order-history")).to_be_visible()
    expect(app.locator("h1")).to_have_text("#1001")
    steps = app.locator("#order-timeline s-list-item")
    expect(steps.nth(0)).to_contain_text("Received from the online store, shipping to DE")
    expect(steps.nth(1)).to_contain_text("Routed to Berlin")
    expect(steps.nth(1)).to_contain_text("The warehouse is in the customer's country.")
    expect(steps.nth(2)).to_contain_text("Sent to Berlin as WI-1001")
    expect(steps.nth(3)).to_contain_text("Shipped by DHL with tracking number TRK1001")
    expect(app.locator("#order-outbounds")).to_contain_text("WI-1001")
    assert problems == []
