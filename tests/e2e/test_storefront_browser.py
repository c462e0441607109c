"""The stock status block in a real browser (headless Chromium) on the sandbox storefront.

The chain is the real one: ledger change -> refresh job -> metafields in the Shopify emulator and
bodies in Redis -> the storefront renders the extension's Liquid from those metafields -> the
block's script refreshes through the storefront's app proxy (signed like Shopify signs it) to the
app, served over HTTP. Skips when Chromium or Playwright is missing (see the issue report for the
CI install lines: ``apt-get install -y chromium``, ``pip install playwright==1.65.2``).
"""
# ruff: noqa: RUF001 - shopper-facing texts use typographic dashes (en dash) and CJK punctuation

from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import select

from integration.extensions import db
from integration.models.notification import Notification
from integration.models.storefront import BackInStockSubscription
from integration.storefront import cache
from integration.storefront import status as storefront
from sandbox.server import serve
from tests.conftest import API_SECRET
from tests.shopify_fixtures import SHOPIFY_SHOP
from tests.test_storefront_helpers import storefront_stack  # noqa: F401 - the "sf" fixture

pytestmark = pytest.mark.e2e

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
CLS_OBSERVER = """
window.__cls = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) { if (!entry.hadRecentInput) window.__cls += entry.value; }
}).observe({type: 'layout-shift', buffered: true});
"""


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and (found := shutil.which(candidate) or (os.path.isfile(candidate) and candidate)):
            return found
    return None


@pytest.fixture
def browser():
    path = chromium_path()
    if path is None:
        pytest.skip("Chromium not installed (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright not installed (pip install playwright==1.65.2; it drives the system Chromium)")
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def block_settings(request):
    return getattr(request, "param", {})


@pytest.fixture
def shopfront(sf, browser, block_settings):
    from sandbox.storefront import EmulatorCatalog, Storefront

    sf.set_stock(sf.de, "HOODIE-S", 40)  # DE: in stock locally; elsewhere from abroad
    sf.set_stock(sf.us, "HOODIE-M", 2)  # low stock, from the US warehouse
    storefront.refresh_all_later(sf.shop.id)  # HOODIE-L too: out of stock everywhere
    sf.worker.run()
    app_server = serve(sf.app)
    front = Storefront(EmulatorCatalog(sf.emulator, SHOPIFY_SHOP), app_url=app_server.url, api_secret=API_SECRET,
                       shop_domain=SHOPIFY_SHOP, block_settings=block_settings).start()
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.add_init_script(CLS_OBSERVER)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    # A fetch cut short by navigating to the next page (net::ERR_ABORTED) is the browser's doing.
    page.on("requestfailed", lambda r: problems.append(f"requestfailed: {r.url} {r.failure}")
            if "ERR_ABORTED" not in (r.failure or "") else None)
    yield sf, front, page, problems
    context.close()
    front.stop()
    app_server.shutdown()


def url(front, sf, sku: str, country: str, locale: str = "en") -> str:
    return f"{front.url}/products/merino-hoodie?variant={sf.number(sku)}&country={country}&locale={locale}"


def settled(page) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(200)  # the idle callback's live refresh has landed


def test_status_per_market_variant_switch_sign_up_no_errors_no_shift(shopfront):
    from playwright.sync_api import expect

    sf, front, page, problems = shopfront
    status, eta = page.locator("[data-ns-s]"), page.locator("[data-ns-e]")

    page.goto(url(front, sf, "HOODIE-S", "DE"))
    expect(status).to_have_text("In stock in Germany")
    expect(eta).to_have_text("Arrives in 2–4 days")
    settled(page)
    expect(status).to_have_text("In stock in Germany")  # the live answer agrees
    assert page.evaluate("window.__cls") == 0

    page.goto(url(front, sf, "HOODIE-S", "US"))
    expect(status).to_have_text("In stock, ships from abroad")
    expect(eta).to_have_text("Arrives in 6–11 days")
    page.goto(url(front, sf, "HOODIE-S", "DE", "de"))
    expect(status).to_have_text("Auf Lager in Deutschland")
    settled(page)

    page.goto(url(front, sf, "HOODIE-S", "US"))
    settled(page)
    page.select_option("#variant-select", sf.number("HOODIE-M"))
    expect(status).to_have_text("Only 2 left")
    expect(eta).to_have_text("Arrives in 3–5 days")
    expect(page.locator(".ns")).to_have_attribute("data-code", "low_stock")

    page.select_option("#variant-select", sf.number("HOODIE-L"))
    expect(status).to_have_text("Out of stock")
    expect(eta).to_be_hidden()
    notify = page.locator("[data-ns-n]")
    expect(notify).to_be_visible()
    settled(page)
    assert page.evaluate("window.__cls") == 0  # switching and live refreshes moved nothing unprompted

    page.locator("[data-ns-n] summary").click()
    page.fill("[data-ns-f] input[name=email]", "shopper@example.com")
    page.click("[data-ns-f] button")
    expect(page.locator("[data-ns-m]")).to_have_text("Almost done: check your inbox to confirm.")
    db.session.expire_all()
    sub = db.session.execute(select(BackInStockSubscription)).scalar_one()
    assert (sub.email, sub.variant_shopify_id, sub.country, sub.product_path) == (
        "shopper@example.com", sf.variants["HOODIE-L"], "US", "/products/merino-hoodie")
    assert db.session.execute(select(Notification.kind)).scalars().all() == ["back_in_stock_confirm"]
    assert problems == []


@pytest.mark.parametrize(("block_settings", "shown", "live", "expected"), [
    # The metafield says "in stock in Germany"; the stock engine has since sold out and Redis
    # already knows (the metafield write is behind).
    ({}, "HOODIE-S", "HOODIE-L", "Out of stock"),
    # One line (no sign-up offered) becoming two (status and estimate): the reserved space holds it.
    ({"show_notify": False}, "HOODIE-L", "HOODIE-S", "In stock in Germany"),
], indirect=["block_settings"])
def test_live_refresh_corrects_a_stale_first_paint_without_layout_shift(shopfront, shown, live, expected):
    from playwright.sync_api import expect

    sf, front, page, problems = shopfront
    ctx = storefront.StatusContext.load(sf.shop)
    doc = storefront.document(ctx, storefront.compute(ctx, [live])[live])
    cache.write_statuses(SHOPIFY_SHOP, {sf.number(shown): storefront.proxy_bodies(doc, sf.number(shown))})

    held = []  # the first live answer is held back until the first paint is measured

    def hold(route):
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route("**/apps/nearstock/stock?**", hold)
    page.goto(url(front, sf, shown, "DE"))
    status = page.locator("[data-ns-s]")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(20)
    assert held, "the block asked for no live status"
    first = status.text_content()
    box = page.locator(".ns").bounding_box()
    below = page.locator(".description").bounding_box()
    held[0].continue_()
    assert first != expected
    expect(status).to_have_text(expected)  # corrected by the live refresh, without any input
    settled(page)
    assert page.locator(".ns").bounding_box()["height"] == box["height"]
    assert page.locator(".description").bounding_box()["y"] == below["y"]
    assert page.evaluate("window.__cls") == 0
    assert problems == []


def test_block_script_is_small_and_deferred(shopfront):
    sf, front, page, problems = shopfront
    response = page.goto(url(front, sf, "HOODIE-S", "DE"))
    html = response.text()
    assert '<script src="/ext/stock-status/assets/stock-status.js" defer="defer"></script>' in html
    settled(page)
    sizes = page.evaluate("""performance.getEntriesByType('resource')
        .filter(e => e.name.includes('stock-status.js')).map(e => e.decodedBodySize)""")
    assert sizes and sizes[0] < 10_000  # Shopify's ceiling for an app block's JavaScript
    assert problems == []
