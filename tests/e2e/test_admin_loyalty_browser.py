"""The Loyalty and Feedback pages inside the emulator's local Shopify admin, in a real browser
(system Chromium, session tokens, the strict Polaris stand-in): the merchant turns the program on,
gives a customer points and sees the balance and the ledger change, with exactly one ledger entry
in the database; the feedback page shows a customer's comment as text and draws its chart.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from integration.extensions import db
from integration.loyalty import admin as loyalty_admin
from integration.models import OrderFeedback, Shop
from integration.models.base import utcnow
from integration.models.loyalty import LoyaltyAdjustment, LoyaltyEntry, LoyaltyProgram, LoyaltyTier
from tests.admin_frame_stack import admin, browser, framed  # noqa: F401 - fixtures
from tests.helpers_warehouse import make_account, make_warehouse
from tests.test_loyalty_support import gid, shipped_order

pytestmark = pytest.mark.e2e
COMMENT = "<b>Fast</b> & friendly"


@pytest.fixture
def installed(admin):  # noqa: F811 - pytest fixture, imported above
    """The shared ``admin`` page after the merchant installed the app from the store's admin, and
    the installed shop."""
    stack, page, problems = admin
    page.goto(stack.admin_url)
    page.click("#install-app")
    deadline = time.monotonic() + 20
    while (shop := _installed()) is None:
        assert time.monotonic() < deadline, "the install did not finish"
        time.sleep(0.1)
    return stack, page, problems, shop


def _installed() -> Shop | None:
    db.session.expire_all()
    shop = db.session.execute(select(Shop)).scalar_one_or_none()
    return shop if shop is not None and shop.access_token else None


def test_turn_loyalty_on_and_adjust_a_customers_points(installed):
    from playwright.sync_api import expect

    stack, page, problems, shop = installed
    loyalty_admin.adjust(shop.id, gid(501), 120, "welcome", actor="test")
    page.goto(f"{stack.admin_url}/admin/loyalty")
    app = page.frame_locator("#app-frame")
    toasts = page.locator("#toasts .toast-message")

    switch = app.locator("s-switch#program-enabled input")
    expect(switch).to_be_enabled()
    expect(switch).not_to_be_checked()
    switch.click()
    expect(toasts.last).to_have_text("Loyalty program is on")
    db.session.expire_all()
    assert db.session.execute(select(LoyaltyProgram.enabled).where(LoyaltyProgram.shop_id == shop.id)).scalar()

    # Earning rules (the local-warehouse multiplier) and a tier with perks, saved from their forms.
    rules = app.locator("#rules-form")
    rules.locator("s-number-field[name=local_multiplier] input").fill("3")
    rules.locator("s-button[type=submit] button").click()
    expect(toasts.last).to_have_text("Earning rules saved")
    tiers = app.locator("#tiers-form")
    tiers.locator("#add-tier button").click()
    tiers.locator('s-text-field[name="tiers[0].name"] input').fill("Gold")
    tiers.locator('s-number-field[name="tiers[0].threshold"] input').fill("100")
    tiers.locator('s-checkbox[name="tiers[0].priority_support"] input').check()
    tiers.locator("s-button[type=submit] button").click()
    expect(toasts.last).to_have_text("Tiers saved")
    db.session.expire_all()
    program = db.session.execute(select(LoyaltyProgram).where(LoyaltyProgram.shop_id == shop.id)).scalar_one()
    tier = db.session.execute(select(LoyaltyTier).where(LoyaltyTier.shop_id == shop.id)).scalar_one()
    assert program.local_multiplier == 3 and (tier.name, tier.threshold, tier.priority_support) == ("Gold", 100, True)

    row = app.locator("#customers s-table-row", has_text="501")
    expect(row).to_contain_text("120")
    row.locator("s-button button").click()
    modal = app.locator("s-modal#ledger-modal")
    expect(modal.locator("#ledger-summary")).to_contain_text("120")
    expect(modal.locator("#ledger s-table-row")).to_have_count(1)

    modal.locator("s-number-field[name=points] input").fill("30")
    modal.locator("s-text-field[name=reason] input").fill("Goodwill: late parcel")
    modal.locator("#adjust-submit button").click()
    expect(toasts.last).to_have_text("Points adjusted: new balance 150")
    expect(modal.locator("#ledger-summary")).to_contain_text("150")
    expect(modal.locator("#ledger s-table-row")).to_have_count(2)
    expect(modal.locator("#ledger s-table-row").first).to_contain_text("Goodwill: late parcel")
    expect(row).to_contain_text("150")

    db.session.expire_all()
    adjusted = db.session.execute(select(LoyaltyEntry).where(LoyaltyEntry.shop_id == shop.id,
                                                             LoyaltyEntry.points == 30)).scalars().all()
    assert len(adjusted) == 1 and adjusted[0].kind == "adjust"
    assert db.session.scalar(select(func.count()).select_from(LoyaltyAdjustment)
                             .where(LoyaltyAdjustment.reason == "Goodwill: late parcel")) == 1

    # A blank reason is refused by the server, its message shown beside the field; nothing posted.
    modal.locator("s-number-field[name=points] input").fill("5")
    modal.locator("s-text-field[name=reason] input").fill("   ")
    modal.locator("#adjust-submit button").click()
    expect(modal.locator("s-text-field[name=reason]")).to_have_attribute("error", "a reason of 1 to 500 characters "
                                                                                  "is required")
    assert db.session.scalar(select(func.count()).select_from(LoyaltyEntry)) == 2
    assert [p for p in problems if "422" not in p] == []


def test_feedback_shows_comments_as_text_and_a_chart(installed):
    from playwright.sync_api import expect

    stack, page, problems, shop = installed
    account = make_account(shop)
    berlin = make_warehouse(shop, account, "DEWH", "DE", name="Berlin")
    order, _ = shipped_order(shop, berlin, customer=None)
    at = utcnow() - timedelta(days=3)
    db.session.add(OrderFeedback(shop_id=shop.id, order_id=order.id, email=order.email, rating=4, comment=COMMENT,
                                 created_at=at, updated_at=at))
    db.session.commit()
    page.goto(f"{stack.admin_url}/admin/feedback")
    app = page.frame_locator("#app-frame")
    row = app.locator("#ratings s-table-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(COMMENT)  # the markup shows as typed: written as text
    expect(row.locator("b")).to_have_count(0)
    expect(row).to_contain_text(order.name)
    expect(app.locator("#per-warehouse")).to_contain_text("Berlin")
    expect(app.locator("#chart canvas").first).to_be_attached()
    expect(app.locator("#chart table caption")).to_have_text("Average rating per week")
    assert problems == []
