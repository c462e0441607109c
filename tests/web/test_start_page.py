"""The start page of make run and every other development-only route: there for a browser on this
machine in development, 404 in production and to anyone else (relayed, another address, a page
that rebinds its own name to 127.0.0.1)."""

from __future__ import annotations

import json
import re

import pytest
from werkzeug.routing import Rule

from integration import create_app
from integration.extensions import db
from integration.views.local_client import DEVELOPMENT_ONLY
from tests.conftest import make_config
from tests.web.test_auth_security import add_shop, session_token

SANDBOX = {"shop": "nearstock-demo.myshopify.com", "admin_url": "http://127.0.0.1:9101/store/nearstock-demo",
           "storefront_url": "http://127.0.0.1:9102"}
WAREHOUSES = {"control_url": "http://127.0.0.1:9110/", "accounts": {"winit": {
    "endpoint": "http://127.0.0.1:9111/openapi/service", "credentials": {"app_key": "k", "token": "t"}}}}
# The development tools, as they must stay marked: a route losing its marker fails here.
KNOWN = {"/start", "/start/demo-store", "/admin/outbox", "/admin/outbox/<name>", "/admin/notifications/preview/<kind>"}
SAMPLE_ARGS = {"name": "20260101-notice-1.x.eml", "kind": "shipped"}


@pytest.fixture
def config(tmp_path, database_url, redis_url, redis_conn):
    return make_config(tmp_path, database_url, redis_url, NEARSTOCK_ENV="development", NEARSTOCK_CRON_SPEEDUP="10",
                       SHOPIFY_SANDBOX=json.dumps(SANDBOX), WAREHOUSE_SANDBOX=json.dumps(WAREHOUSES))


def development_routes(app) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if app.view_functions[rule.endpoint] in DEVELOPMENT_ONLY]


def build(rule: Rule) -> str:
    return rule.build({arg: SAMPLE_ARGS[arg] for arg in rule.arguments}, append_unknown=False)[1]


def test_the_start_page_links_the_store_admin_storefront_outbox_and_warehouses(client):
    r = client.get("/start")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert f'href="{SANDBOX["admin_url"]}"' in html
    assert f'href="{SANDBOX["storefront_url"]}/products/merino-hoodie?country=DE"' in html
    assert 'href="/admin/outbox"' in html and f'href="{WAREHOUSES["control_url"]}"' in html
    assert re.search(r'href="http://127.0.0.1:9101/store/nearstock-demo/orders\?sku=HOODIE-S&amp;quantity=1'
                     r'&amp;country=DE&amp;locale=de&amp;email=jonas.weber%40example.com"', html)
    assert "runs 10\u00d7 faster" in html and "NEARSTOCK_CRON_SPEEDUP=10" in html
    assert "Not installed yet." in html and re.search(r'id="demo-store" class="primary"\s+disabled', html)
    nonce = re.search(r'<script nonce="([^"]+)">', html).group(1)
    csp = r.headers["Content-Security-Policy"]
    assert f"script-src 'nonce-{nonce}'" in csp and "frame-ancestors 'none'" in csp


def test_once_installed_the_start_page_says_so_and_offers_the_demo_store(client):
    add_shop(SANDBOX["shop"]).name = "Nearstock Demo"
    db.session.commit()
    html = client.get("/start").get_data(as_text=True)
    assert "Installed in Nearstock Demo ✓" in html and "importing the catalog…" in html


@pytest.mark.parametrize("environ, headers", [
    ({"REMOTE_ADDR": "192.168.1.20"}, {}),  # the machine's address on a shared network
    ({}, {"X-Forwarded-For": "203.0.113.9"}),  # a tunnel or proxy on this machine relaying
    ({}, {"Forwarded": "for=203.0.113.9"}),
    ({}, {"Host": "rebind.attacker.example:8000"}),  # a page that resolves its own name to 127.0.0.1
])
def test_development_routes_answer_this_machines_browser_only(app, client, environ, headers):
    routes = development_routes(app)
    assert {rule.rule for rule in routes} >= KNOWN
    for rule in routes:
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            r = client.open(build(rule), method=method, environ_base=environ, headers=headers, json={})
            assert r.status_code == 404, (method, rule.rule)


def test_nothing_demo_only_is_reachable_in_production(tmp_path, database_url, redis_url, redis_conn):
    config = make_config(tmp_path, database_url, redis_url, NEARSTOCK_ENV="production", APP_URL="https://app.example",
                         SMTP_URL="smtp://127.0.0.1:2525")
    app = create_app(config)
    with app.app_context():
        client = app.test_client()
        routes = development_routes(app)
        assert {rule.rule for rule in routes} >= KNOWN
        for rule in routes:
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                r = client.open(build(rule), method=method, json={})
                assert r.status_code == 404, (method, rule.rule)
        # The warehouse connect form offers no demo account and no control page either.
        add_shop("a-shop.myshopify.com")
        accounts = client.get("/api/warehouse-accounts",
                              headers={"Authorization": f"Bearer {session_token('a-shop.myshopify.com')}"}).json
        assert "sandbox" not in accounts and all("demo" not in p for p in accounts["providers"])
        db.session.remove()
    db.engine.dispose()


def test_in_development_the_same_routes_answer(client):
    assert client.get("/start").status_code == 200
    assert client.get("/admin/outbox").status_code == 200
    assert client.get("/admin/notifications/preview/shipped").status_code == 200
    # The demo store before the app is installed: says what to do first, changes nothing.
    r = client.post("/start/demo-store", json={})
    assert r.status_code == 409 and "Install Nearstock" in r.json["error"]["message"]


def test_the_demo_store_is_set_up_by_a_json_post_only(client):
    """A form on another site could post to loopback; it cannot send JSON without a preflight."""
    r = client.post("/start/demo-store", data="a=1", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415
    assert client.get("/start/demo-store").status_code == 405


def test_without_the_shopify_emulator_the_start_page_still_links_the_outbox(tmp_path, database_url, redis_url,
                                                                            redis_conn):
    app = create_app(make_config(tmp_path, database_url, redis_url, NEARSTOCK_ENV="development"))
    with app.app_context():
        r = app.test_client().get("/start")
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and 'href="/admin/outbox"' in html and "The Shopify emulator is not running" in html
        assert "demo-mode" not in html and 'id="demo-store"' not in html  # no speed-up, no store to set up
        assert app.test_client().post("/start/demo-store", json={}).status_code == 409
        db.session.remove()
    db.engine.dispose()
