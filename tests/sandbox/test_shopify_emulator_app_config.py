"""The app's webhook subscriptions live in shopify.app.toml only: the emulator reads them as Shopify
holds them after a deploy and delivers them for every shop the app is installed on; the app
handles exactly the topics it declares."""

from __future__ import annotations

import subprocess
import sys

import pytest

from integration.wiring import HANDLERS, SHOPIFY
from sandbox.shopify.app_config import AppConfig, AppConfigError, Subscription
from tests.sandbox.test_shopify_emulator_webhooks_bulk import receiver  # noqa: F401 - the fixture
from tests.shopify_fixtures import SHOPIFY_SHOP, seed_shopify_catalog, shopify_graphql

SUBSCRIBE = """mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) { userErrors { message } } }"""


def test_the_toml_declares_exactly_the_topics_the_app_handles():
    config = AppConfig.load()  # also: the CLI's rules (known topics, compliance ones apart)
    handled = {topic for source, topic in HANDLERS if source == SHOPIFY}
    assert config.topics == handled
    assert {s.uri for s in config.subscriptions} == {"/webhooks/shopify"}


def test_app_subscriptions_reach_installed_shops_only(make_shopify_emulator, receiver):  # noqa: F811
    sink = receiver()
    emulator = make_shopify_emulator(app_url=sink.url + "/base/", app_config=AppConfig.load())
    other = "other-shop.myshopify.com"
    emulator.add_shop(other)
    catalog = seed_shopify_catalog(emulator)  # the token it grants installs the app on acme only
    assert emulator.flush_webhooks(timeout=10)
    assert sink.received == []  # the seeded order came before the install

    emulator.cancel_order(SHOPIFY_SHOP, catalog["order"])
    product = emulator.add_product(other, "Mug", [{"sku": "MUG", "price": "9.00"}])
    emulator.update_product(other, product, title="Big mug")  # products/update: not installed there
    assert emulator.flush_webhooks(timeout=10)
    assert {r["headers"]["X-Shopify-Shop-Domain"] for r in sink.received} == {SHOPIFY_SHOP}
    topics = sorted(r["headers"]["X-Shopify-Topic"] for r in sink.received)
    assert topics == ["inventory_levels/update", "orders/cancelled", "orders/updated"]
    # The uri is relative to the app URL; the version is the toml's.
    assert {r["path"] for r in sink.received} == {"/base/webhooks/shopify"}
    assert {r["headers"]["X-Shopify-Api-Version"] for r in sink.received} == {AppConfig.load().api_version}


def test_a_topic_subscribed_both_ways_is_delivered_twice(make_shopify_emulator, receiver):  # noqa: F811
    """Why the app no longer subscribes per shop: Shopify would deliver every event twice."""
    sink = receiver()
    emulator = make_shopify_emulator(app_url=sink.url, app_config=AppConfig.load())
    catalog = seed_shopify_catalog(emulator)
    created = shopify_graphql(emulator, catalog["token"], SUBSCRIBE, {
        "topic": "ORDERS_CANCELLED", "sub": {"uri": sink.url + "/webhooks/shopify"}}).json()
    assert created["data"]["webhookSubscriptionCreate"]["userErrors"] == []
    emulator.cancel_order(SHOPIFY_SHOP, catalog["order"])
    assert emulator.flush_webhooks(timeout=10)
    cancelled = [r["headers"] for r in sink.received if r["headers"]["X-Shopify-Topic"] == "orders/cancelled"]
    assert len(cancelled) == 2
    assert len({h["X-Shopify-Event-Id"] for h in cancelled}) == 1
    assert len({h["X-Shopify-Webhook-Id"] for h in cancelled}) == 2


def test_compliance_topics_go_to_the_declared_address(make_shopify_emulator, receiver):  # noqa: F811
    sink = receiver()
    config = AppConfig("2026-07", (Subscription(frozenset({"orders/create"}), "/webhooks/shopify"),
                                   Subscription(frozenset({"shop/redact"}), "/webhooks/privacy")))
    emulator = make_shopify_emulator(app_url=sink.url, app_config=config)
    emulator.grant_token(SHOPIFY_SHOP, "read_orders")
    emulator.send_webhook(SHOPIFY_SHOP, "shop/redact", {"shop_domain": SHOPIFY_SHOP})
    assert emulator.flush_webhooks(timeout=10)
    assert [r["path"] for r in sink.received] == ["/webhooks/privacy"]


def test_relative_addresses_need_the_app_url(make_shopify_emulator):
    with pytest.raises(ValueError, match="app_url"):
        make_shopify_emulator(app_config=AppConfig.load())
    started = subprocess.run([sys.executable, "-m", "sandbox.shopify", "--api-key", "k", "--api-secret", "s"],
                             capture_output=True, text=True, timeout=60)
    assert started.returncode == 2 and "--app-url is required" in started.stderr


def toml(subscription: str, version: str = '"2026-07"') -> dict:
    import tomllib

    return tomllib.loads(f"[webhooks]\napi_version = {version}\n[[webhooks.subscriptions]]\n{subscription}\n")


@pytest.mark.parametrize(("subscription", "message"), [
    ('topics = ["customers/redact"]\nuri = "/w"', "belong in compliance_topics"),
    ('topics = ["orders/exploded"]\nuri = "/w"', "orders/exploded is not a webhook topic"),
    ('compliance_topics = ["customers/forget"]\nuri = "/w"', "unknown customers/forget"),
    ('topics = ["orders/create"]\nuri = "/w"\nfilter = "id:1"', "filter not supported"),
    ('topics = ["orders/create"]\nuri = "http://example.com/w"', "http:// is not supported"),
    ('topics = ["orders/create"]', "uri is required"),
    ('topics = []\nuri = "/w"', "declares no topics"),
    ('topics = "orders/create"\nuri = "/w"', "must be a list of topics"),
])
def test_a_configuration_the_cli_would_refuse_is_refused(subscription, message):
    with pytest.raises(AppConfigError, match=message):
        AppConfig.parse(toml(subscription))


def test_the_api_version_is_required(tmp_path):
    with pytest.raises(AppConfigError, match="api_version"):
        AppConfig.parse(toml('topics = ["orders/create"]\nuri = "/w"', version='"latest"'))
    broken = tmp_path / "shopify.app.toml"
    broken.write_text("[webhooks\n")
    with pytest.raises(AppConfigError, match=str(broken)):
        AppConfig.load(broken)
    assert AppConfig.parse({}).subscriptions == ()  # no [webhooks] table: no subscriptions
