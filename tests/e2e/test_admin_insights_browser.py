"""The Insights page inside the local Shopify admin, in a real browser, with session tokens: a
demand shift with its chart (censored days are gaps: the table alternative shows them empty), a
restock suggestion approved through the confirmation modal, a transfer accepted, test-sale gates
with their verdicts, and the market filter narrowing every list. Skips without Chromium/Playwright."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from integration.extensions import db
from integration.models import InboundShipmentRow, RestockSuggestion, Shop, TransferSuggestion
from tests.admin_frame_stack import (
    admin,  # noqa: F401 - the "admin" fixture
    framed,  # noqa: F401 - the "framed" fixture
)
from tests.e2e.test_storefront_browser import browser  # noqa: F401 - the "browser" fixture
from tests.insights_page_fixtures import CENSORED_DAYS, seed_insights
from tests.shopify_fixtures import SHOPIFY_SHOP

pytestmark = pytest.mark.e2e

CHOOSE = "(el, value) => { el.value = value; el.dispatchEvent(new Event('change')); }"


def test_shifts_suggestions_transfers_and_gates(admin):  # noqa: F811 - pytest fixture, imported above
    from playwright.sync_api import expect

    stack, page, problems = admin
    stack.emulator.admin.install(SHOPIFY_SHOP)
    page.goto(stack.admin_url)  # the first framed load installs the shop (token exchange)
    expect(page.frame_locator("#app-frame").locator("s-app-nav")).to_have_count(1)
    shop = db.session.execute(select(Shop).where(Shop.domain == SHOPIFY_SHOP)).scalar_one()
    seeded = seed_insights(shop, location=stack.berlin)

    page.goto(f"{stack.admin_url}/admin/insights")
    app = page.frame_locator("#app-frame")
    expect(app.locator("#insights-body")).to_be_visible()

    shifts = app.locator("#shifts-table s-table-body s-table-row")
    expect(shifts).to_have_count(2)
    expect(shifts.first).to_contain_text("SKU-A")
    expect(shifts.first.locator("s-badge[tone=success]")).to_have_text("Rising")
    expect(shifts.first).to_contain_text("50%")
    expect(shifts.nth(1).locator("s-badge[tone=warning]")).to_have_text("Falling")
    # The first shift's chart: demand, forecast and stock over the last weeks, gaps on stock-outs.
    chart = app.locator("#shifts-chart")
    expect(chart.locator("canvas").first).to_be_attached()
    expect(chart.locator("details table thead th")).to_have_text(["Date", "Net demand", "Forecast", "Stock"])
    body = chart.locator("details table tbody tr")
    expect(body).to_have_count(56)
    expect(body.last.locator("td")).to_have_text(["6", "5.5", "20"])
    for ago in CENSORED_DAYS:
        expect(body.nth(55 - ago).locator("td").first).to_have_text("")  # unknown, not zero

    suggestions = app.locator("#suggestions-table s-table-body s-table-row")
    expect(suggestions).to_have_count(2)
    first = app.locator(f"#suggestion-{seeded.restock_de.id}")
    expect(first).to_contain_text("180")
    first.locator("s-button[variant=primary]").click()
    modal = app.locator("#approve-modal")
    expect(modal.locator("#approve-text")).to_contain_text("180 units of SKU-A")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith(
            f"/api/insights/suggestions/{seeded.restock_de.id}/approve")):
        modal.locator("#approve-confirm").click()
    expect(first.locator("s-badge")).to_have_text("Approved")
    db.session.expire_all()
    inbound = db.session.execute(select(InboundShipmentRow).where(
        InboundShipmentRow.suggestion_id == seeded.restock_de.id)).scalars().all()
    assert len(inbound) == 1
    assert inbound[0].warehouse_id == seeded.stock.de.id and inbound[0].lines == [["SKU-A", 180]]

    dismiss = app.locator(f"#suggestion-{seeded.restock_fr.id} s-button", has_text="Dismiss")
    dismiss.click()
    expect(app.locator(f"#suggestion-{seeded.restock_fr.id} s-badge")).to_have_text("Dismissed")
    db.session.expire_all()
    assert db.session.get(RestockSuggestion, seeded.restock_fr.id).status == "dismissed"

    transfer = app.locator(f"#transfer-{seeded.transfer.id}")
    expect(transfer).to_contain_text("Berlin (DE) → Lyon (FR)")
    expect(transfer).to_contain_text("12")
    transfer.locator("s-button", has_text="Accept").click()
    expect(transfer.locator("s-badge")).to_have_text("Accepted")
    db.session.expire_all()
    assert db.session.get(TransferSuggestion, seeded.transfer.id).status == "accepted"

    gates = app.locator("#gates-table s-table-body s-table-row")
    expect(gates).to_have_count(2)
    expect(app.locator(f"#gate-{seeded.proven.id} s-badge[tone=success]")).to_have_text("Proven")
    expect(app.locator(f"#gate-{seeded.stop.id} s-badge[tone=critical]")).to_have_text("Stop stocking")
    expect(app.locator(f"#gate-{seeded.proven.id}")).to_contain_text("3.1%")  # conversion
    form = app.locator("#gate-form")
    form.locator("s-text-field[name=sku] input").fill("SKU-B")
    form.locator("s-text-field[name=market] input").fill("nl")
    form.locator("s-number-field[name=batch_size] input").fill("30")
    form.locator("s-button[type=submit]").click()
    expect(gates).to_have_count(3)
    expect(gates.filter(has_text="SKU-B")).to_contain_text("Keep testing")
    expect(gates.filter(has_text="SKU-B")).to_contain_text("NL")

    # The export, fetched with the session token and saved: a spreadsheet would not run the reason.
    with page.expect_download() as download:
        app.locator("s-button[data-export=shifts]").click()
    assert download.value.suggested_filename == "insights-shifts.csv"
    exported = open(download.value.path(), encoding="utf-8").read()
    assert "SKU-B" in exported and "'=HYPERLINK" in exported

    # The market filter narrows every list: France holds the fall (Lyon), its suggestion, the transfer.
    app.locator("s-select[name=market]").evaluate(CHOOSE, "FR")
    expect(shifts).to_have_count(1)
    expect(shifts.first).to_contain_text("SKU-B")
    expect(suggestions).to_have_count(1)
    expect(suggestions.first).to_contain_text("Lyon")
    expect(app.locator("#transfers-table s-table-body s-table-row")).to_have_count(1)
    expect(gates).to_have_count(1)
    expect(gates.first).to_contain_text("SKU-A")
    app.locator("s-select[name=market]").evaluate(CHOOSE, "NL")
    expect(shifts).to_have_count(1)
    expect(shifts.first).to_have_text("Nothing matches these filters.")
    assert problems == [], problems
