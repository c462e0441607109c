"""The app served over HTTP with the Shopify emulator's local admin around it (no tests here).

``framed``: the emulator (shop ``acme.myshopify.com``, app URL = the app, the app-specific webhook
topics of shopify.app.toml delivered there, as Shopify does on deploy) with two locations and a
product but the app not installed yet; the app (SHOPIFY_ENDPOINT = the emulator) on a loopback
port; an app context; a :class:`~tests.helpers.Drainer` for its jobs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bench.common import free_port
from integration import create_app
from integration.extensions import db
from integration.models import WebhookEvent
from sandbox.server import serve
from sandbox.shopify.app_config import AppConfig
from tests.conftest import make_config
from tests.e2e.test_storefront_browser import browser  # noqa: F401 - the "browser" fixture
from tests.helpers import Drainer
from tests.shopify_fixtures import SHOPIFY_SHOP


@dataclass
class Framed:
    app: object
    emulator: object
    app_url: str
    berlin: str
    lyon: str
    worker: Drainer

    @property
    def admin_url(self) -> str:
        return f"{self.emulator.url}/store/acme/apps/{self.emulator.api_key}"

    def store_api(self, path: str) -> str:
        return f"{self.emulator.url}/store/acme/admin/api/{path}"

    def inbox(self, topic: str, timeout: float = 10) -> list[WebhookEvent]:
        """The inbox rows of ``topic`` once the emulator has delivered everything it queued."""
        assert self.emulator.flush_webhooks(timeout)
        deadline = time.monotonic() + timeout
        while True:
            db.session.expire_all()
            rows = db.session.execute(select(WebhookEvent).where(WebhookEvent.topic == topic)).scalars().all()
            if rows or time.monotonic() > deadline:
                return rows
            time.sleep(0.05)


def seed_store(emulator) -> tuple[str, str]:
    berlin = emulator.add_location(SHOPIFY_SHOP, "Berlin", "DE", city="Berlin", zip="10115")
    lyon = emulator.add_location(SHOPIFY_SHOP, "Lyon", "FR", city="Lyon", zip="69001")
    emulator.add_product(SHOPIFY_SHOP, "Organic Tee", [
        {"sku": "TEE-BLK-M", "title": "Black / M", "price": "25.00", "quantities": {berlin: 10, lyon: 4}},
        {"sku": "TEE-WHT-M", "title": "White / M", "price": "25.00", "quantities": {berlin: 3}},
    ])
    return berlin, lyon


def _extra_settings(request) -> dict:
    """The app settings a test module adds with a ``framed_env`` fixture of its own (e.g. the
    warehouse emulators' demo accounts); none without one."""
    try:
        return request.getfixturevalue("framed_env")
    except pytest.FixtureLookupError:
        return {}


@pytest.fixture
def framed(request, tmp_path, database_url, redis_url, redis_conn, make_shopify_emulator):
    framed_env = _extra_settings(request)
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    emulator = make_shopify_emulator(app_url=app_url, app_config=AppConfig.load())  # shopify.app.toml
    berlin, lyon = seed_store(emulator)
    app = create_app(make_config(tmp_path, database_url, redis_url, APP_URL=app_url, SHOPIFY_ENDPOINT=emulator.url,
                                 **framed_env))
    server = serve(app, port=port)
    with app.app_context():
        yield Framed(app, emulator, app_url, berlin, lyon, Drainer(app))
        db.session.remove()
    server.shutdown()
    db.engine.dispose()


@pytest.fixture
def admin(framed, browser):  # noqa: F811 - pytest fixture, imported above
    """``(framed, page, problems)``: a Chromium page for the local admin, and every console error
    (the Polaris stand-in's strict check among them), page error and 4xx/5xx response it meets."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    yield framed, page, problems
    context.close()
