"""The pages the Shopify admin frames: which App Bridge they load (Shopify's CDN, or offline the
local admin's stand-in, never in production), who may frame them, and the Shopify-managed install
their first framed load performs (ID token -> token exchange, against the Shopify emulator)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import select

from connectors.shopify.signatures import query_hmac
from integration import create_app
from integration.config import APP_BRIDGE_CDN, POLARIS_CDN, Config
from integration.extensions import db, queues
from integration.models import Shop
from tests.conftest import API_SECRET, make_config
from tests.shopify_fixtures import SHOPIFY_SHOP

PAGES = ["/admin", "/admin/warehouses", "/admin/orders"]
APP_URL = "http://127.0.0.1:8000"


@pytest.fixture
def framed_app(tmp_path, database_url, redis_url, redis_conn, make_shopify_emulator):
    emulator = make_shopify_emulator(app_url=APP_URL)
    emulator.add_location(SHOPIFY_SHOP, "Berlin", "DE")
    app = create_app(make_config(tmp_path, database_url, redis_url, SHOPIFY_ENDPOINT=emulator.url))
    app.config["TESTING"] = True
    with app.app_context():
        yield app, emulator
        db.session.remove()
    db.engine.dispose()


def get(app, path, shop=SHOPIFY_SHOP):
    return app.test_client().get(f"{path}?{urlencode({'shop': shop, 'host': 'aG9zdA'})}")


@pytest.mark.parametrize("path", PAGES)
def test_against_the_emulator_pages_load_its_stand_in_and_may_be_framed_by_its_admin(framed_app, path):
    app, emulator = framed_app
    r = get(app, path)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert f'<script src="{emulator.url}/shopifycloud/app-bridge.js"></script>' in html
    assert "cdn.shopify.com" not in html
    assert '<meta name="shopify-api-key" content="test-api-key">' in html and "<s-app-nav>" in html
    assert f'<script src="{emulator.url}/shopifycloud/polaris.js"></script>' in html
    csp = r.headers["Content-Security-Policy"]
    assert f"frame-ancestors https://{SHOPIFY_SHOP} https://admin.shopify.com {emulator.url};" in csp
    bad = get(app, path, shop="evil.com")
    assert "frame-ancestors 'none';" in bad.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", PAGES)
def test_without_a_shopify_stand_in_pages_load_shopifys_app_bridge(client, path):
    html = client.get(f"{path}?shop={SHOPIFY_SHOP}").get_data(as_text=True)
    assert f'<script src="{APP_BRIDGE_CDN}"></script>' in html and "/shopifycloud/app-bridge.js" in APP_BRIDGE_CDN


@pytest.mark.parametrize("path", PAGES)
def test_production_pages_never_reference_the_stand_in(tmp_path, database_url, redis_url, redis_conn,
                                                       shopify_emulator, path):
    # Production accepts SHOPIFY_ENDPOINT (the production smoke test points it at the emulator);
    # its pages still load Shopify's script and only Shopify's admin may frame them.
    config = make_config(tmp_path, database_url, redis_url, NEARSTOCK_ENV="production", APP_URL=APP_URL,
                         SMTP_URL="smtp://127.0.0.1:2525", SHOPIFY_ENDPOINT=shopify_emulator.url)
    assert config.is_production and config.local_admin_origin == "" and config.app_bridge_url == APP_BRIDGE_CDN
    app = create_app(config)
    with app.app_context():
        r = get(app, path)
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and f'<script src="{APP_BRIDGE_CDN}"></script>' in html
        assert f'<script src="{POLARIS_CDN}"></script>' in html
        assert shopify_emulator.url not in html and "127.0.0.1" not in html
        assert shopify_emulator.url not in r.headers["Content-Security-Policy"]
        db.session.remove()
    db.engine.dispose()


def test_config_picks_the_stand_in_only_outside_production():
    endpoint = "http://127.0.0.1:8001/"
    dev = Config(env="development", shopify_endpoint=endpoint.rstrip("/"))
    assert dev.app_bridge_url == "http://127.0.0.1:8001/shopifycloud/app-bridge.js"
    assert Config(env="testing").app_bridge_url == APP_BRIDGE_CDN
    assert Config(env="production", shopify_endpoint=endpoint).app_bridge_url == APP_BRIDGE_CDN


# -- the first framed load: Shopify-managed install ------------------------------------------------


def launch(emulator, **overrides) -> str:
    """The path and query the local admin frames the app's URL with (signed as Shopify signs it)."""
    emulator.admin.install(SHOPIFY_SHOP)
    url = urlsplit(emulator.admin.launch_url(SHOPIFY_SHOP, "", {}))
    if not overrides:
        return f"{url.path}?{url.query}"
    params = {k: v[0] for k, v in parse_qs(url.query).items() if k != "hmac"} | overrides
    params["hmac"] = query_hmac(params, API_SECRET)
    return f"/?{urlencode(params)}"


def import_jobs() -> list[str]:
    return [job for job in queues["sync"].get_job_ids() if job.startswith("import-")]


def test_first_framed_load_installs_by_token_exchange_once(framed_app):
    app, emulator = framed_app
    client = app.test_client()
    first = client.get(launch(emulator))
    assert first.status_code == 302
    assert first.headers["Location"].startswith(f"/admin?shop={SHOPIFY_SHOP}&host=")
    shop = db.session.execute(select(Shop)).scalar_one()
    assert shop.status == "installed" and shop.access_token.startswith("shpat_") and shop.refresh_token
    assert emulator.oauth.check(shop.access_token, SHOPIFY_SHOP) is not None  # Shopify issued it
    assert len(import_jobs()) == 1
    again = client.get(launch(emulator))  # installed: straight to the app, no second exchange
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    db.session.expire_all()
    assert db.session.execute(select(Shop)).scalar_one().access_token == shop.access_token
    assert len(import_jobs()) == 1


def test_framed_load_with_a_bad_id_token_installs_nothing(framed_app):
    app, emulator = framed_app
    client = app.test_client()
    forged = emulator.issue_session_token(SHOPIFY_SHOP, secret="not-the-app-secret")
    other = emulator.issue_session_token("other.myshopify.com")
    expired = emulator.issue_session_token(SHOPIFY_SHOP, expires_in=-30)
    for token in (forged, other, expired):
        r = client.get(launch(emulator, id_token=token), headers={"Accept": "application/json"})
        assert r.status_code == 401 and r.json["error"]["code"] == "invalid_id_token"
    assert client.get(launch(emulator, id_token="x" * 5000)).status_code == 400
    unsigned = launch(emulator).replace("hmac=", "hmac=0")
    assert client.get(unsigned).status_code == 401
    assert db.session.execute(select(Shop)).scalar_one_or_none() is None and import_jobs() == []


def test_a_first_api_call_installs_too_and_starts_the_one_import(framed_app):
    """The admin may call the API before the framed load's exchange: the session token is exchanged
    there, and the installation's catalog import starts all the same — once, whichever comes first."""
    app, emulator = framed_app
    client = app.test_client()
    emulator.admin.install(SHOPIFY_SHOP)
    headers = {"Authorization": f"Bearer {emulator.issue_session_token(SHOPIFY_SHOP)}"}
    assert client.get("/api/shop", headers=headers).status_code == 200
    shop = db.session.execute(select(Shop)).scalar_one()
    assert shop.status == "installed" and emulator.oauth.check(shop.access_token, SHOPIFY_SHOP) is not None
    assert import_jobs() == [f"import-{shop.id}-install-{int(shop.installed_at.timestamp())}"]
    assert client.get(launch(emulator)).status_code == 302  # then the framed load: installed already
    assert client.get("/api/shop", headers=headers).status_code == 200
    assert len(import_jobs()) == 1


def test_a_token_shopify_no_longer_takes_is_exchanged_again_at_the_next_framed_load(framed_app):
    """Shopify forgot the installation (locally: the emulator restarted): the stored token gets 401.
    The next framed load exchanges its ID token again, as a new installation with its own import;
    while Shopify takes the token, the load exchanges nothing."""
    app, emulator = framed_app
    client = app.test_client()
    assert client.get(launch(emulator)).status_code == 302
    shop = db.session.execute(select(Shop)).scalar_one()
    old_token, installed_at = shop.access_token, shop.installed_at
    with emulator.lock:  # what a restarted emulator knows of the app's tokens: nothing
        emulator.oauth.tokens.clear()
        emulator.oauth.refresh_tokens.clear()
    import time as clock

    clock.sleep(1.1)  # the new installation's time differs from the first one's
    again = client.get(launch(emulator))
    assert again.status_code == 302 and again.headers["Location"].startswith(f"/admin?shop={SHOPIFY_SHOP}&host=")
    db.session.expire_all()
    shop = db.session.execute(select(Shop)).scalar_one()
    assert shop.access_token != old_token and emulator.oauth.check(shop.access_token, SHOPIFY_SHOP) is not None
    assert shop.installed_at > installed_at and len(import_jobs()) == 2

    assert client.get(launch(emulator)).status_code == 302  # accepted now: nothing exchanged
    db.session.expire_all()
    assert db.session.execute(select(Shop)).scalar_one().access_token == shop.access_token
    assert len(import_jobs()) == 2


def test_a_refused_token_is_replaced_only_with_a_valid_id_token(framed_app):
    app, emulator = framed_app
    client = app.test_client()
    assert client.get(launch(emulator)).status_code == 302
    old_token = db.session.execute(select(Shop)).scalar_one().access_token
    with emulator.lock:
        emulator.oauth.tokens.clear()
    forged = emulator.issue_session_token(SHOPIFY_SHOP, secret="not-the-app-secret")
    other = emulator.issue_session_token("other.myshopify.com")
    for token in (forged, other):
        r = client.get(launch(emulator, id_token=token), headers={"Accept": "application/json"})
        assert r.status_code == 401 and r.json["error"]["code"] == "invalid_id_token"
    db.session.expire_all()
    assert db.session.execute(select(Shop)).scalar_one().access_token == old_token
    assert len(import_jobs()) == 1


def test_a_shopify_that_does_not_answer_leaves_the_token_alone(framed_app):
    app, emulator = framed_app
    client = app.test_client()
    assert client.get(launch(emulator)).status_code == 302
    old_token = db.session.execute(select(Shop)).scalar_one().access_token
    emulator.set_fault_rate(1.0, kinds=("500",))
    try:
        assert client.get(launch(emulator)).status_code == 302
    finally:
        emulator.set_fault_rate(0.0)
    db.session.expire_all()
    assert db.session.execute(select(Shop)).scalar_one().access_token == old_token
    assert len(import_jobs()) == 1
