"""Install -> import -> webhook -> GraphQL, against the Shopify emulator over real HTTP.

Our app is served on a loopback port (the emulator delivers webhooks to it); jobs run on real RQ
workers in burst mode.
"""

from __future__ import annotations

import email
import email.policy
import time
from datetime import timedelta
from urllib.parse import urlencode, urlparse

import pytest
import requests
from sqlalchemy import select

from bench.common import free_port
from connectors.shopify import operations as shopify
from connectors.shopify.signatures import query_hmac
from integration import create_app
from integration.extensions import db
from integration.models import (
    ImportRun,
    ImportStatus,
    IntegrationLog,
    InventoryLevel,
    Location,
    Shop,
    Variant,
    WebhookEvent,
)
from integration.models.base import utcnow
from integration.models.notification import Notification
from integration.notices import compose
from integration.notices.samples import sample_context
from integration.shops.shopify_client import client_for
from jobs.shopify import read_shop_profile
from sandbox.server import serve
from sandbox.shopify.app_config import AppConfig
from tests.conftest import API_SECRET, make_config
from tests.helpers import Drainer
from tests.shopify_fixtures import SHOPIFY_SHOP, seed_shopify_catalog

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(tmp_path, database_url, redis_url, redis_conn, make_shopify_emulator):
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    emulator = make_shopify_emulator(app_url=app_url, app_config=AppConfig.load())  # shopify.app.toml
    catalog = seed_shopify_catalog(emulator)
    app = create_app(make_config(tmp_path, database_url, redis_url, APP_URL=app_url, SHOPIFY_ENDPOINT=emulator.url))
    server = serve(app, port=port)
    with app.app_context():
        yield app, emulator, catalog, Drainer(app)
        db.session.remove()
    server.shutdown()


def install(app, emulator):
    client = app.test_client()
    query = {"shop": SHOPIFY_SHOP, "timestamp": str(int(time.time()))}
    query["hmac"] = query_hmac(query, API_SECRET)
    r = client.get("/auth/install?" + urlencode(query))
    assert r.status_code == 302
    authorize = r.headers["Location"]
    assert authorize.startswith(emulator.url + "/admin/oauth/authorize")
    approved = requests.get(authorize, allow_redirects=False, timeout=10)  # the merchant clicks Install
    assert approved.status_code == 302
    callback = urlparse(approved.headers["Location"])
    assert callback.path == "/auth/callback"
    done = client.get(f"{callback.path}?{callback.query}")
    assert done.status_code == 302, done.data
    assert done.headers["Location"] == f"{emulator.url}/store/acme/apps/test-api-key"  # the local admin
    return db.session.execute(select(Shop).where(Shop.domain == SHOPIFY_SHOP)).scalar_one()


def wait_for_import(emulator, worker, shop_id, timeout=20) -> ImportRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        emulator.flush_webhooks()
        worker.run()
        db.session.expire_all()
        run = db.session.execute(select(ImportRun).where(ImportRun.shop_id == shop_id)).scalar_one_or_none()
        if run is not None and run.status in (ImportStatus.DONE, ImportStatus.FAILED):
            return run
        time.sleep(0.2)
    raise AssertionError(f"import did not finish: {run and run.status}")


def test_install_import_webhook_graphql_round_trip(stack):
    app, emulator, catalog, worker = stack
    shop = install(app, emulator)
    assert shop.status == "installed" and shop.access_token and shop.refresh_token
    assert shop.access_token_expires_at > utcnow()

    run = wait_for_import(emulator, worker, shop.id)
    assert run.status == ImportStatus.DONE, run.error
    assert (run.locations, run.variants) == (2, 2)
    locations = {loc.name: loc for loc in db.session.execute(select(Location)).scalars()}
    assert set(locations) == {"Berlin", "Lyon"} and locations["Berlin"].country_code == "DE"
    variants = {v.sku: v for v in db.session.execute(select(Variant)).scalars()}
    assert set(variants) == {"TEE-BLK-M", "TEE-WHT-M"}
    black = variants["TEE-BLK-M"]
    levels = {lv.location_shopify_id: lv.available for lv in db.session.execute(
        select(InventoryLevel).where(InventoryLevel.inventory_item_id == black.inventory_item_id)).scalars()}
    # The seeded order committed 2 of the 10 at Berlin.
    assert levels == {catalog["berlin"]: 8, catalog["lyon"]: 4}
    # The webhooks are the app's (shopify.app.toml), not subscribed again per shop: the import's
    # bulk_operations/finish reached the app's inbox once.
    assert emulator.webhook_subscriptions(SHOPIFY_SHOP) == []
    assert emulator.flush_webhooks()
    finished = db.session.execute(select(WebhookEvent).where(
        WebhookEvent.topic == "bulk_operations/finish", WebhookEvent.shop_domain == SHOPIFY_SHOP)).scalars().all()
    assert len(finished) == 1
    [delivery] = [d for d in emulator.webhook_deliveries if d["topic"] == "bulk_operations/finish"]
    assert delivery["url"] == f"{app.config['NEARSTOCK'].app_url}/webhooks/shopify"

    # A webhook from Shopify reaches the inbox and is processed exactly once, even duplicated.
    emulator.send_webhook(SHOPIFY_SHOP, "orders/create", {"id": 1, "updated_at": "2026-11-22T10:00:00Z"},
                          duplicate=True)
    assert emulator.flush_webhooks()
    worker.run()
    rows = db.session.execute(select(WebhookEvent).where(WebhookEvent.topic == "orders/create")).scalars().all()
    assert len(rows) == 1

    # GraphQL round trip: a compare-and-set stock write lands at Shopify.
    client = client_for(shop)
    result = shopify.set_inventory(client, "available", "correction",
                                   [(black.inventory_item_id, catalog["berlin"], 5, 8)], "rt-1")
    assert len(result.applied) == 1 and not result.unapplied
    assert emulator.inventory_quantity(SHOPIFY_SHOP, black.inventory_item_id, catalog["berlin"]) == 5
    logged = db.session.execute(select(IntegrationLog).where(IntegrationLog.shop_id == shop.id)).scalars().all()
    assert logged and all("shpat" not in (row.request_excerpt or "") for row in logged)


def test_expiring_token_is_refreshed_once_and_rotates(stack):
    app, emulator, _catalog, _worker = stack
    shop = install(app, emulator)
    old_access, old_refresh = shop.access_token, shop.refresh_token
    # Shopify's clock moves past the token's life; ours says it lapses within the margin.
    emulator.advance_clock(3 * 86400)
    shop.access_token_expires_at = utcnow() + timedelta(seconds=30)
    db.session.commit()
    locations = list(shopify.iter_locations(client_for(shop)))
    assert len(locations) == 2
    db.session.expire_all()
    shop = db.session.get(Shop, shop.id)
    assert shop.access_token != old_access and shop.refresh_token != old_refresh
    assert shop.access_token_expires_at > utcnow() + timedelta(minutes=30)
    # The rotated-out refresh token is dead at Shopify: a second refresher would have failed.
    r = requests.post(f"{emulator.url}/admin/oauth/access_token", headers={"Host": SHOPIFY_SHOP}, timeout=10,
                      json={"client_id": "test-api-key", "client_secret": API_SECRET,
                            "grant_type": "refresh_token", "refresh_token": old_refresh})
    assert r.status_code == 400


def test_throttled_shop_waits_instead_of_failing(stack):
    app, emulator, catalog, _worker = stack
    shop = install(app, emulator)
    emulator.set_restore_rate(SHOPIFY_SHOP, 50.0)
    client = client_for(shop)
    before = emulator.throttled_count(SHOPIFY_SHOP)
    started = time.monotonic()
    for i in range(30):  # ~30 x 10-point mutations plus reads against a 2,000-point bucket
        shopify.set_inventory(client, "available", "correction",
                              [(catalog["variants"][0]["inventory_item_id"], catalog["berlin"], i, None)],
                              f"throttle-{i}")
    assert time.monotonic() - started < 30
    assert emulator.throttled_count(SHOPIFY_SHOP) - before <= 1


def test_the_shop_name_is_read_at_install_and_on_shop_update(stack):
    """E-mails and pages say the shop's name, as Shopify has it, not its domain."""
    app, emulator, _catalog, worker = stack
    emulator.update_shop(SHOPIFY_SHOP, name="Acme Outdoor Berlin")
    shop = install(app, emulator)
    worker.run()  # the profile job the install started (and the catalog import)
    db.session.expire_all()
    shop = db.session.get(Shop, shop.id)
    assert (shop.name, shop.currency) == ("Acme Outdoor Berlin", "EUR")

    # The merchant renames the store: shop/update (declared in shopify.app.toml) -> inbox -> the
    # profile read again.
    emulator.update_shop(SHOPIFY_SHOP, name="Acme Outdoor")
    assert emulator.flush_webhooks()
    worker.run()
    db.session.expire_all()
    shop = db.session.get(Shop, shop.id)
    assert shop.name == "Acme Outdoor"

    # A shipped e-mail is from and about the shop by its name; so is the page its link opens.
    notice = Notification(shop_id=shop.id, kind="shipped", subject="shipment:1", recipient="ada@example.com",
                          locale="de", context=sample_context("shipped"))
    db.session.add(notice)
    db.session.commit()
    message = email.message_from_bytes(compose.build_message(notice, shop, order=None).data,
                                       policy=email.policy.default)
    assert message["From"].addresses[0].display_name == "Acme Outdoor"
    html = message.get_body(("html",)).get_content()
    assert "Acme Outdoor" in html and "acme.myshopify.com" not in html and ">acme<" not in html
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    page = app.test_client().get(unsubscribe.removeprefix(app.config["NEARSTOCK"].app_url))
    assert page.status_code == 200 and "Acme Outdoor" in page.get_data(as_text=True)


def test_an_embedded_first_load_installs_and_reads_the_shop_name_too(stack):
    """Managed install: the admin's first request carries a session token, exchanged for a token."""
    app, emulator, _catalog, worker = stack
    emulator.update_shop(SHOPIFY_SHOP, name="Acme Outdoor")
    token = emulator.issue_session_token(SHOPIFY_SHOP)
    r = app.test_client().get("/api/shop", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.data
    worker.run()
    shop = db.session.execute(select(Shop).where(Shop.domain == SHOPIFY_SHOP)).scalar_one()
    assert shop.name == "Acme Outdoor"
    assert read_shop_profile(shop.id) is False  # run again (a retry, a redelivery): nothing changes
    assert db.session.get(Shop, shop.id).name == "Acme Outdoor"
