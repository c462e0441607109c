"""The Notices page in a real browser, inside the emulator's local admin with session tokens: the
merchant changes the brand colour and sees the preview change before saving, saves it, switches a
kind off, and retries a failed notice from the log (once). Skips without Chromium or Playwright."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from integration.extensions import db, queues
from integration.models import Shop
from integration.models.notification import Notification, NotificationSettings
from tests.admin_frame_stack import (
    admin,  # noqa: F401 - the "admin" fixture
    framed,  # noqa: F401 - the "framed" fixture
)
from tests.e2e.test_storefront_browser import browser  # noqa: F401 - the "browser" fixture

pytestmark = pytest.mark.e2e


def eventually(check, timeout: float = 10.0):
    """What the page's request changed in the database, once it has."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def settings_of(shop_id: int) -> NotificationSettings | None:
    return db.session.execute(select(NotificationSettings).where(NotificationSettings.shop_id == shop_id)).scalar()


def test_brand_preview_save_switch_and_retry(admin):  # noqa: F811
    from playwright.sync_api import expect

    stack, page, problems = admin
    page.goto(stack.admin_url)
    page.click("#install-app")
    expect(page.frame_locator("#app-frame").locator("s-page")).to_be_attached()
    shop = db.session.execute(select(Shop)).scalar_one()
    failed = Notification(shop_id=shop.id, kind="back_in_stock", subject="variant:1", recipient="ada@example.com",
                          locale="en", status="failed", attempts=3, error_kind="permanent",
                          last_error="550 5.1.1 <ada@example.com>: unknown user",
                          context={"product_title": "Organic Tee", "product_url": "https://acme.example/p"})
    db.session.add(failed)
    db.session.commit()
    queues["notify"].empty()

    page.goto(f"{stack.admin_url}/admin/notices")
    app = page.frame_locator("#app-frame")
    preview = app.frame_locator("#preview")
    expect(preview.locator('[style*="#1f6feb"]').first).to_be_attached()  # the default brand colour

    # Typing a colour shows it in the preview at once; nothing is saved yet.
    app.locator("s-color-field[name=primary_color] input").fill("#c0ffee")
    expect(preview.locator('[style*="#c0ffee"]').first).to_be_attached()
    assert (settings_of(shop.id) is None) or settings_of(shop.id).primary_color != "#c0ffee"
    # A refused value is named beside its field, by the server's message.
    app.locator("s-url-field[name=logo_url] input").fill("http://insecure.example/logo.png")
    expect(app.locator("s-url-field[name=logo_url]")).to_have_attribute("error", "logo_url must be an https:// address "
                                                                          "of an image (at most 2048 characters)")
    app.locator("s-url-field[name=logo_url] input").fill("")
    app.locator("#branding s-button[type=submit]").click()
    assert eventually(lambda: (s := settings_of(shop.id)) is not None and s.primary_color == "#c0ffee")

    # One switch turns one kind off, at once.
    switch = app.locator("s-switch[name=kind_still_on_its_way] input")
    expect(switch).to_be_checked()
    switch.click()
    assert eventually(lambda: "still_on_its_way" in (settings_of(shop.id).disabled_kinds or []))
    assert settings_of(shop.id).disabled_kinds == ["still_on_its_way"]

    # The log shows the failure (address masked) and retries it once.
    row = app.locator("#log s-table-row", has_text="Back in stock")
    expect(row).to_contain_text("a***@e***.com")
    expect(row).not_to_contain_text("ada@example.com")
    row.locator("s-button").click()
    assert eventually(lambda: db.session.get(Notification, failed.id).status == "queued")
    expect(row.locator("s-button")).to_have_count(0)  # queued now: nothing left to retry
    assert queues["notify"].count == 1
    # The only refused calls: the preview of the http:// logo (the answer and the console's line for it).
    assert [p for p in problems if "422" not in p] == [], problems
    assert all("/preview/" in p or "console.error" in p for p in problems), problems
