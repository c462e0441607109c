"""A newcomer's first ten minutes, in a real browser (headless system Chromium), exactly as the
README's first screen walks them: ``make run`` in a clean clone, the one printed address (the start
page), the app installed from the store's local Shopify admin, a demo warehouse connected and
mapped, loyalty switched on, an order placed for a German customer, the warehouse's clock advanced
on its control page — and then the whole loop, seen where a newcomer looks:

* the outbound order at the German warehouse (WINIT DE0001, the control page), shipped in
  Nearstock's database too,
* the order fulfilled with the warehouse's tracking number in the Shopify admin,
* the "shipped" e-mail in German in the outbox, and the points e-mail: doubled, local,
* the storefront's stock block showing the warehouse's stock ("In stock in Germany", arriving in
  2 to 3 days), where there was none before the warehouse was connected.

The clone is of the committed HEAD (``git clone``); ``make run`` in it uses the venv running the
tests (``make test`` installed it: the clone's ``.venv`` points there), so nothing is downloaded.
Screenshots of the admin (the app, and the order list), the storefront and the e-mail go to a
temporary folder, or with ``NEARSTOCK_UPDATE_SCREENSHOTS=1`` to ``docs/screenshots/`` (the README
shows those).
Skips without Chromium, Playwright or git.
"""
# ruff: noqa: RUF001 - the pages' texts use typographic dashes and the multiplication sign

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
import requests

from tests.e2e.test_make_run import ROOT, MakeRun, free_port
from tests.e2e.test_storefront_browser import browser  # noqa: F401 - the Chromium fixture

pytestmark = pytest.mark.e2e

SHOTS = ROOT / "docs" / "screenshots"
GERMAN_CUSTOMER = "jonas.weber@example.com"  # the start page's German test order (integration.demo)
SLOW = 120_000  # ms: what waits on the app's demo-mode polls (shipments every 60 s)


class Clock:
    """How long each step took, printed at the end (run with -s to see them)."""

    def __init__(self) -> None:
        self.started = self.last = time.monotonic()
        self.steps: list[tuple[str, float]] = []

    def lap(self, step: str) -> None:
        now = time.monotonic()
        self.steps.append((step, now - self.last))
        self.last = now

    def report(self) -> str:
        lines = [f"  {step:<48} {seconds:6.1f} s" for step, seconds in self.steps]
        total = f"  {'total':<48} {time.monotonic() - self.started:6.1f} s"
        return "\n".join(["newcomer loop timings:", *lines, total])


@pytest.fixture
def clone(tmp_path) -> Path:
    """A clean clone of HEAD whose ``.venv`` is the installed venv running these tests."""
    venv = Path(sys.prefix)
    marker = venv / ".installed"
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    if not marker.exists():
        pytest.skip("the test venv was not installed by make (no .venv/.installed): run the suite with make test")
    checkout = tmp_path / "nearstock"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(checkout)], check=True, timeout=120)
    (checkout / ".venv").symlink_to(venv, target_is_directory=True)
    # make reinstalls when requirements.txt is newer than the venv's marker; the clone's file is
    # new, its content the one installed.
    installed = marker.stat().st_mtime - 1
    os.utime(checkout / "requirements.txt", (installed, installed))
    return checkout


@pytest.fixture
def screenshots(tmp_path) -> Path:
    folder = SHOTS if os.environ.get("NEARSTOCK_UPDATE_SCREENSHOTS") == "1" else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def eventually(check, timeout: float, every: float = 1.0):
    """``check()``'s first truthy answer within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(every)


def points_earned(database: Path) -> list[tuple[int, dict]]:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as conn:
        rows = conn.execute("SELECT points, detail FROM loyalty_entries WHERE kind = 'earn'").fetchall()
    return [(points, json.loads(detail)) for points, detail in rows]


def outbound_orders(database: Path) -> list[tuple[str, str]]:
    """(warehouse code, status) of every outbound order Nearstock holds."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as conn:
        return conn.execute("SELECT w.code, o.status FROM outbound_orders o JOIN warehouses w ON w.id = o.warehouse_id"
                            " ORDER BY o.id").fetchall()


def test_a_newcomer_sees_the_whole_loop_in_a_browser(clone, tmp_path, browser, screenshots):  # noqa: F811
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)  # a shared CI machine: pages answer in seconds, not milliseconds
    clock = Clock()
    run = MakeRun(tmp_path, free_port(), cwd=clone)
    context = None
    try:
        start_url = run.wait_for(r"Open (http://127\.0\.0\.1:\d+/start)\n", timeout=180).group(1)
        clock.lap("make run: up, one address printed")
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        context.set_default_timeout(30_000)
        failures: list[str] = []
        context.on("page", lambda p: p.on("response", lambda r: failures.append(f"{r.status} {r.url}")
                                          if r.status >= 500 else None))
        page = context.new_page()
        page.goto(start_url)
        expect(page.locator("#demo-mode")).to_contain_text("runs 10× faster")
        expect(page.locator("#install-status")).to_contain_text("Not installed yet.")
        storefront_url = page.get_attribute("#link-storefront", "href")
        before = requests.get(storefront_url, timeout=10)
        assert before.status_code == 200 and "In stock in Germany" not in before.text  # no warehouse yet

        # 1. Install, from the store's local Shopify admin (Shopify-managed: the framed load exchanges).
        with context.expect_page() as opened:
            page.click("#step-install a.button")
        admin = opened.value
        expect(admin.locator("h1")).to_have_text("Install Nearstock")
        admin.click("#install-app")
        app = admin.frame_locator("#app-frame")
        expect(app.locator("#shop")).to_have_text("nearstock-demo.myshopify.com · installed")
        expect(app.locator("#import")).to_contain_text("done: 3 locations, 3 variants", timeout=60_000)
        clock.lap("installed, catalog imported")

        # 2. Loyalty on, on the Loyalty page: double points when shipped from the customer's country.
        toasts = admin.locator("#toasts .toast-message")
        admin.locator("#app-nav a", has_text="Loyalty").click()
        loyalty = admin.frame_locator("#app-frame")
        switch = loyalty.locator("s-switch#program-enabled input")
        expect(switch).to_be_enabled()  # the program has loaded
        expect(switch).not_to_be_checked()
        switch.click()
        expect(toasts.last).to_have_text("Loyalty program is on")

        # 3. A warehouse: WINIT's demo account, filled in by the connect form; DE0001 mapped to the
        # location the page suggests (Berlin), with its transit days to Germany.
        admin.locator("#app-nav a", has_text="Warehouses").click()
        warehouses = admin.frame_locator("#app-frame")
        expect(warehouses.locator("#accounts-empty")).to_be_visible()
        warehouses.locator("#connect-open button").click()
        form = warehouses.locator("#connect-form")
        form.locator("s-select[name=provider] select").select_option("winit")
        warehouses.locator("#connect-demo button").click()
        expect(form.locator("s-text-field[name=name] input")).to_have_value("WINIT demo")
        warehouses.locator("#connect-submit button").click()
        expect(toasts.last).to_have_text("Connected: 2 warehouses found, 2 imported")
        de = warehouses.locator("#warehouses form", has_text="DE0001")
        location = de.locator("s-select[name=location_shopify_id] select")
        expect(location).to_have_value("")  # not mapped yet
        expect(de.locator("s-text", has_text="Suggested:").first).to_contain_text("Berlin warehouse")
        de.locator("s-button", has_text="Use the suggestion").first.locator("button").click()
        expect(location.locator("option:checked")).to_have_text("Berlin warehouse (DE)")
        de.locator("s-button", has_text="Add a country").locator("button").click()
        de.locator("s-select[name='transit_days[0].country'] select").select_option("DE")
        de.locator("s-number-field[name='transit_days[0].min_days'] input").fill("1")
        de.locator("s-number-field[name='transit_days[0].max_days'] input").fill("2")
        de.locator("s-button[type=submit] button").click()
        expect(toasts.last).to_have_text("Saved DE0001")
        expect(location.locator("option:checked")).to_have_text("Berlin warehouse (DE)")  # drawn again, saved
        clock.lap("loyalty on, warehouse connected and mapped")

        # The storefront's stock block: the German warehouse's stock, with its delivery time.
        shop = context.new_page()

        def in_stock_in_germany() -> bool:
            shop.goto(storefront_url)
            block = shop.locator("[data-nearstock]").first.text_content()
            return "In stock in Germany" in block and "Arrives in 2–3 days" in block

        assert eventually(in_stock_in_germany, 60, every=2), run.output()[-3000:]
        clock.lap("storefront: In stock in Germany")

        # 4. An order for a German customer: the start page's link opens the store's form filled in.
        with context.expect_page() as opened:
            page.click("#link-german-order")
        orders = opened.value
        orders.click("#order-form button[type=submit]")
        expect(orders.locator("#toasts .toast-message")).to_have_text(re.compile(r"Order #\d+ placed"))
        order_name = re.search(r"#\d+", orders.locator("#toasts .toast-message").text_content()).group(0)

        # 5. Routed to the German warehouse: its parcel on the control page; the warehouse's clock
        # moved on six hours, it ships.
        with context.expect_page() as opened:
            page.click("#link-control")
        control = opened.value
        winit = control.locator(".card", has=control.locator("h2", has_text="WINIT"))
        parcel = winit.locator("tr", has_text="1 × HOODIE-S")
        expect(parcel).to_contain_text("DE0001")
        expect(parcel).to_contain_text("received")
        clock.lap("order placed, at the German warehouse")
        winit.get_by_role("button", name="+6 hours").click()
        expect(parcel).to_contain_text("shipped")
        carrier_tracking = parcel.locator("td").nth(4).text_content().strip()
        tracking = carrier_tracking.split()[-1]
        assert re.fullmatch(r"[A-Z0-9]{8,}", tracking), carrier_tracking
        state = requests.get(control.url.rstrip("/") + "/api/state", timeout=10).json()
        [shipped] = [p for v in state["vendors"] if v["name"] == "winit" for p in v["parcels"]]
        assert (shipped["warehouse"], shipped["status"], shipped["tracking_number"]) == ("DE0001", "shipped", tracking)

        # 6. Nearstock reads the shipment (demo mode: within a minute): the Shopify order is
        # fulfilled from Berlin with the warehouse's tracking.
        row = orders.locator("table.orders tbody tr", has_text=order_name)

        def fulfilled() -> bool:
            orders.reload()
            return row.locator(".fulfillment").count() > 0

        assert eventually(fulfilled, SLOW / 1000, every=3), run.output()[-3000:]
        expect(row.locator(".fulfillment")).to_contain_text(f"from Berlin warehouse · {carrier_tracking}")
        expect(row).to_contain_text("fulfilled")
        clock.lap("shipment read, order fulfilled with tracking")
        # Nearstock's own record of the outbound order: shipped, from DE0001.
        database = tmp_path / "instance" / "nearstock.sqlite3"
        assert eventually(lambda: outbound_orders(database) == [("DE0001", "shipped")], 30), outbound_orders(database)
        # The shot: the warehouses page, DE0001 mapped to Berlin with its transit days.
        admin.bring_to_front()
        admin.reload()
        warehouses = admin.frame_locator("#app-frame")
        de = warehouses.locator("#warehouses form", has_text="DE0001")
        expect(de.locator("s-select[name=location_shopify_id] select option:checked")).to_have_text(
            "Berlin warehouse (DE)")
        de.evaluate("form => form.scrollIntoView({block: 'start'})")
        admin.screenshot(path=str(screenshots / "admin.png"))
        orders.screenshot(path=str(screenshots / "admin-orders.png"))

        # 7. The e-mails, in the outbox: "shipped" in German, and the points, doubled (local).
        outbox = context.new_page()
        outbox.goto(start_url.replace("/start", "/admin/outbox"))

        def listed(subject: str):
            def check() -> bool:
                outbox.reload()
                return outbox.locator("a", has_text=subject).count() > 0
            return check

        assert eventually(listed("ist unterwegs"), 60, every=2), run.output()[-3000:]
        expect(outbox.locator("tr", has_text="ist unterwegs")).to_contain_text(GERMAN_CUSTOMER)
        expect(outbox.locator("a", has_text="ist unterwegs")).to_have_text(
            f"Ihre Bestellung {order_name} ist unterwegs")
        assert eventually(listed("Punkte"), 60, every=2), run.output()[-3000:]
        expect(outbox.locator("a", has_text="Punkte")).to_have_text("Sie haben 158 Punkte gesammelt")  # 79 EUR, doubled
        [(points, detail)] = points_earned(database)
        assert points == 158 and detail["local"] is True and detail["warehouse_country"] == "DE"
        outbox.locator("a", has_text="ist unterwegs").click()
        outbox.goto(outbox.url + "?part=html")
        expect(outbox.locator("body")).to_contain_text(tracking)
        outbox.screenshot(path=str(screenshots / "email.png"))
        clock.lap("German shipped e-mail and double points")

        # 8. The storefront after the sale: still in stock in Germany (24 left there).
        shop.goto(storefront_url)
        block = shop.locator("[data-nearstock]").first
        expect(block).to_contain_text("In stock in Germany")
        expect(block).to_contain_text("Arrives in 2–3 days")
        shop.screenshot(path=str(screenshots / "storefront.png"))
        assert failures == []
    finally:
        if context is not None:
            context.close()
        run.stop()
        expect.set_options(timeout=5_000)  # Playwright's default, for the tests after this one
        print("\n" + clock.report())
    assert "Nearstock stopped." in run.output()
