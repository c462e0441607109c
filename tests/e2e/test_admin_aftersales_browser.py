"""The After-sales page inside the local Shopify admin, in a real browser with session tokens: the
hand-counted figures of tests/aftersales_fixtures.py (top reasons per SKU x market, NPS and
promise-kept per warehouse in the cards and in the charts' tables, the German comment themes), a
waiting return approved from the list (checked in the database), its timeline page, a return
declined from its page with Shopify's reason, the market filter, and a claim with evidence opened
for a parcel found by its order, then settled; the return rules saved from their form. Skips without
Chromium/Playwright."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from integration.extensions import db
from integration.models import Claim, Return, ReturnEvent, ReturnRulesRow, Shop
from tests.admin_frame_stack import (
    admin,  # noqa: F401 - the "admin" fixture
    framed,  # noqa: F401 - the "framed" fixture
)
from tests.aftersales_fixtures import seed_aftersales
from tests.e2e.test_storefront_browser import browser  # noqa: F401 - the "browser" fixture
from tests.shopify_fixtures import SHOPIFY_SHOP

pytestmark = pytest.mark.e2e

CHOOSE = "(el, value) => { el.value = value; el.dispatchEvent(new Event('change')); }"


def test_figures_returns_and_decisions(admin):  # noqa: F811 - pytest fixture, imported above
    from playwright.sync_api import expect

    stack, page, problems = admin
    stack.emulator.admin.install(SHOPIFY_SHOP)
    page.goto(stack.admin_url)  # the first framed load installs the shop (token exchange)
    expect(page.frame_locator("#app-frame").locator("s-app-nav")).to_have_count(1)
    shop = db.session.execute(select(Shop).where(Shop.domain == SHOPIFY_SHOP)).scalar_one()
    seeded = seed_aftersales(shop, datetime.now(UTC) - timedelta(minutes=1))

    page.goto(f"{stack.admin_url}/admin/aftersales")
    app = page.frame_locator("#app-frame")
    expect(app.locator("s-app-nav s-link[href='/admin/aftersales']")).to_have_text("After-sales")

    # Per warehouse: NPS, promise kept and the average rating, as counted by hand.
    cards = app.locator("#warehouse-cards > s-box")
    expect(cards).to_have_count(2)
    berlin = cards.filter(has_text="Berlin")
    expect(berlin).to_contain_text("NPS 25")
    expect(berlin).to_contain_text("75% delivered by the promised day")
    expect(berlin).to_contain_text("3.5 of 5 on average")
    la = cards.filter(has_text="LA West")
    expect(la).to_contain_text("NPS 0")
    expect(la).to_contain_text("50% delivered by the promised day")
    # The charts' tables: this week's figures, all warehouses first.
    nps = app.locator("#chart-nps details table")
    expect(nps.locator("thead th")).to_have_text(["Date", "All warehouses", "Berlin", "LA West"])
    expect(nps.locator("tbody tr").last.locator("td")).to_have_text(["16.7", "25", "0"])
    kept = app.locator("#chart-kept details table tbody tr").last.locator("td")
    expect(kept).to_have_text(["66.7", "75", "50"])
    expect(app.locator("#chart-rating details table tbody tr").last.locator("td")).to_have_text(["3.33", "3.5", "3"])

    # Top reasons: this week's groups first, most units first; then the return five weeks ago.
    reasons = app.locator("#reasons-table s-table-body s-table-row")
    expect(reasons).to_have_count(4)
    expect(reasons.nth(0)).to_contain_text("MUG-BLUE")
    expect(reasons.nth(0)).to_contain_text("DE")
    expect(reasons.nth(0).locator("s-table-cell").nth(3)).to_have_text("7")
    expect(reasons.nth(0).locator("s-table-cell").nth(4)).to_have_text(
        "Too small (3), Damaged or defective (2), Colour (1)")
    expect(reasons.nth(1)).to_contain_text("Wrong item sent (3)")
    expect(reasons.nth(2)).to_contain_text("TENT-2P")
    expect(reasons.nth(3)).to_contain_text("Other reason (5)")

    # Themes of this month's German comments.
    german = app.locator("#themes-table s-table-body s-table-row", has_text="German")
    expect(german).to_contain_text("Lieferung: 2 praise, 1 complaints")
    expect(german.locator("s-table-cell").nth(2)).to_have_text("3")

    # The returns: all eight waiting; one approved from its row.
    rows = app.locator("#returns-table s-table-body s-table-row")
    expect(rows).to_have_count(8)
    first = seeded.returns["DE1"]
    row = app.locator(f"#return-{first}")
    expect(row.locator("s-badge")).to_have_text("Waiting for you")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(
            f"/api/returns/{first}/approve")) as answer:
        row.locator("s-button", has_text="Approve").click()
    assert answer.value.status == 202
    expect(row.locator("s-badge")).to_have_text("Approved")
    db.session.expire_all()
    approved = db.session.get(Return, first)
    assert (approved.status, approved.decided_by) == ("approved", "merchant")
    assert db.session.execute(select(ReturnEvent.kind).where(ReturnEvent.return_id == first)).scalars().all() == [
        "approved"]

    # The market filter.
    app.locator("#returns-market input").fill("US")
    app.locator("#returns-market").evaluate("(el) => el.dispatchEvent(new Event('change'))")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("US")

    # The approved return's page: its lines with their reasons and its timeline.
    page.goto(f"{stack.admin_url}/admin/aftersales/returns/{first}")
    expect(app.locator("#return-lines s-table-body s-table-row")).to_have_text(["MUG-BLUE2Too small00"])
    expect(app.locator("#return-timeline s-list-item")).to_contain_text(["Approved"])
    expect(app.locator("#return-actions")).to_be_hidden()

    # A waiting return declined from its page, with Shopify's reason.
    third = seeded.returns["DE3"]
    page.goto(f"{stack.admin_url}/admin/aftersales/returns/{third}")
    expect(app.locator("#return-actions")).to_be_visible()
    app.locator("#return-decline").click()
    app.locator("#decline-form s-select[name=reason]").evaluate(CHOOSE, "FINAL_SALE")
    with page.expect_response(lambda r: r.url.endswith(f"/api/returns/{third}/decline")):
        app.locator("#decline-confirm").click()
    expect(app.locator("#return-facts s-badge").first).to_have_text("Declined")
    db.session.expire_all()
    declined = db.session.get(Return, third)
    assert (declined.status, declined.decline_reason) == ("declined", "FINAL_SALE")

    # A claim against the carrier for a parcel found by its order, with evidence, then settled.
    page.goto(f"{stack.admin_url}/admin/aftersales")
    app.locator("#parcel-form s-search-field[name=order] input").fill("#DE2")
    app.locator("#parcel-form s-button[type=submit]").click()
    expect(app.locator("#claim-form s-select[name=shipment_id] s-option")).to_have_text(["#DE2 · DHL TNDE2"])
    claim_form = app.locator("#claim-form")
    claim_form.locator("s-number-field[name=amount] input").fill("25.50")
    claim_form.locator("s-text-area[name=notes] textarea").fill("Parcel never arrived; the carrier confirms loss")
    claim_form.locator("s-text-area[name=photo_urls] textarea").fill("https://photos.example/box.jpg")
    claim_form.locator("s-button[type=submit]").click()
    claims = app.locator("#claims-table s-table-body s-table-row")
    expect(claims).to_have_count(1)
    expect(claims.first).to_contain_text("Lost")
    expect(claims.first).to_contain_text("The carrier")
    expect(claims.first.locator("s-badge")).to_have_text("Open")
    db.session.expire_all()
    (claim,) = db.session.execute(select(Claim)).scalars().all()
    assert (claim.kind, claim.against, str(claim.amount_claimed)) == ("lost", "carrier", "25.50")
    assert claim.photo_urls == ["https://photos.example/box.jpg"] and claim.notes.startswith("Parcel never")
    claims.first.locator("s-button", has_text="Settled: refunded").click()
    expect(claims.first.locator("s-badge")).to_have_text("Settled")
    db.session.expire_all()
    assert (db.session.get(Claim, claim.id).status, db.session.get(Claim, claim.id).outcome) == ("settled",
                                                                                                 "refunded")

    # The return rules: read into the form, changed and saved whole.
    rules = app.locator("#rules-form")
    window = rules.locator("s-number-field[name=window_days] input")
    expect(window).to_have_value("30")
    window.fill("45")
    rules.locator("s-checkbox[value=DEFECTIVE] input").check()
    rules.locator("s-checkbox[name=auto_approve] input").check()
    rules.locator("s-text-area[name=non_returnable_skus] textarea").fill("GIFT-CARD\n\nTENT-2P")
    rules.locator("s-button[type=submit]").click()
    expect(page.locator("#toasts .toast-message").last).to_have_text("Return rules saved")
    db.session.expire_all()
    saved = db.session.get(ReturnRulesRow, shop.id)
    assert (saved.window_days, saved.accepted_reasons, saved.non_returnable_skus, saved.auto_approve,
            saved.reship_when_lost) == (45, ["DEFECTIVE"], ["GIFT-CARD", "TENT-2P"], True, False)
    assert problems == [], problems
