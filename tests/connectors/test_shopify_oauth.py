"""ShopifyOAuth against the emulator: code grant, token exchange, refresh rotation, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.errors import AuthError, PermanentError, RetryableError
from connectors.shopify import operations as ops
from connectors.shopify.client import ShopifyClient
from connectors.shopify.oauth import ShopifyOAuth
from integration.domain.authorization import TokenSet
from tests.connectors.test_shopify_client import Reply, StubServer

SHOP = "acme.myshopify.com"
KEY, SECRET = "test-api-key", "test-api-secret"
APP = "https://app.example.com"
REDIRECT = f"{APP}/auth/callback"

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


@pytest.fixture
def emulator(make_shopify_emulator):
    return make_shopify_emulator(app_url=APP, access_token_ttl=3600, refresh_token_ttl=86400)


@pytest.fixture
def oauth(emulator):
    return ShopifyOAuth(KEY, SECRET, endpoint=emulator.url)


def authorize(oauth: ShopifyOAuth, scopes=("read_products", "write_inventory")) -> dict:
    """Follow the install redirect the way the merchant's browser would."""
    response = requests.get(oauth.authorize_url(SHOP, scopes, REDIRECT, "nonce-1"), allow_redirects=False, timeout=5)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_authorize_url_for_a_real_shop():
    url = ShopifyOAuth(KEY, SECRET).authorize_url(SHOP, ["read_orders", "write_inventory"], REDIRECT, "abc")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", SHOP, "/admin/oauth/authorize")
    query = parse_qs(parts.query)
    assert query == {
        "client_id": [KEY],
        "scope": ["read_orders,write_inventory"],
        "redirect_uri": [REDIRECT],
        "state": ["abc"],
    }
    assert "grant_options[]" not in parts.query  # offline access


def test_authorize_url_refuses_look_alike_shops():
    with pytest.raises(PermanentError):
        ShopifyOAuth(KEY, SECRET).authorize_url("acme.myshopify.com.evil.io", [], REDIRECT, "x")


def test_code_grant_gives_an_expiring_token_that_works(oauth, emulator, redis_conn):
    params = authorize(oauth)
    assert params["state"] == "nonce-1" and params["shop"] == SHOP
    before = datetime.now(UTC)
    tokens = oauth.exchange_code(SHOP, params["code"])
    after = datetime.now(UTC)
    assert tokens.scopes == ("read_products", "write_inventory")
    assert tokens.refresh_token
    assert before + timedelta(hours=1) <= tokens.expires_at <= after + timedelta(hours=1)
    assert tokens.refresh_token_expires_at > tokens.expires_at
    assert tokens.access_token not in repr(tokens) and tokens.refresh_token not in repr(tokens)
    assert emulator.calls[-1]["operation"] == "authorization_code"

    emulator.add_product(SHOP, "Tee", [{"sku": "TEE-S"}])
    client = ShopifyClient(SHOP, tokens.access_token, redis=redis_conn, endpoint=emulator.url)
    assert [v.sku for v in ops.iter_variants(client)] == ["TEE-S"]


def test_a_code_is_single_use(oauth):
    code = authorize(oauth)["code"]
    oauth.exchange_code(SHOP, code)
    with pytest.raises(PermanentError):
        oauth.exchange_code(SHOP, code)


def test_refresh_rotates_both_tokens_and_the_old_refresh_token_dies(oauth, emulator, redis_conn):
    tokens = oauth.exchange_code(SHOP, authorize(oauth, scopes=("read_locations", "read_products"))["code"])
    emulator.add_location(SHOP, "Berlin", "DE")
    client = ShopifyClient(SHOP, tokens.access_token, redis=redis_conn, endpoint=emulator.url)
    assert [loc.name for loc in ops.iter_locations(client)] == ["Berlin"]

    emulator.advance_clock(3601)  # the access token expires after an hour
    assert tokens.expires_within(0, now=datetime.now(UTC) + timedelta(seconds=3601))
    with pytest.raises(AuthError):
        list(ops.iter_locations(client))

    fresh = oauth.refresh(SHOP, tokens.refresh_token)
    assert fresh.access_token != tokens.access_token
    assert fresh.refresh_token != tokens.refresh_token
    assert fresh.scopes == tokens.scopes
    client.access_token = fresh.access_token
    assert [loc.name for loc in ops.iter_locations(client)] == ["Berlin"]

    with pytest.raises(AuthError) as caught:  # rotation: the used refresh token is gone
        oauth.refresh(SHOP, tokens.refresh_token)
    assert caught.value.code == "invalid_grant"
    assert oauth.refresh(SHOP, fresh.refresh_token).access_token


def test_token_exchange_of_a_session_token(oauth, emulator):
    tokens = oauth.exchange_session_token(SHOP, emulator.issue_session_token(SHOP))
    assert isinstance(tokens, TokenSet)
    assert tokens.refresh_token and tokens.expires_at is not None
    assert "read_products" in tokens.scopes


def test_token_exchange_with_a_forged_session_token_is_an_auth_error(oauth, emulator):
    forged = emulator.issue_session_token(SHOP, secret="not-the-app-secret-0123456789abcdef")
    with pytest.raises(AuthError) as caught:
        oauth.exchange_session_token(SHOP, forged)
    assert caught.value.code == "invalid_subject_token"


def test_a_wrong_client_secret_is_an_auth_error(emulator):
    with pytest.raises(AuthError) as caught:
        ShopifyOAuth(KEY, "wrong-secret", endpoint=emulator.url).refresh(SHOP, "shprt_x")
    assert caught.value.code == "invalid_client"


def test_token_endpoint_outages_are_retryable():
    stub = StubServer()
    try:
        oauth = ShopifyOAuth(KEY, SECRET, endpoint=stub.url)
        stub.reply(Reply(503, b"Service Unavailable"), Reply(429, b"", {"Retry-After": "3"}))
        with pytest.raises(RetryableError):
            oauth.refresh(SHOP, "shprt_x")
        with pytest.raises(RetryableError) as caught:
            oauth.refresh(SHOP, "shprt_x")
        assert caught.value.retry_after == 3
        sent = stub.requests[0]
        assert sent.path == "/admin/oauth/access_token" and sent.headers["Host"] == SHOP
        assert sent.json() == {
            "client_id": KEY,
            "client_secret": SECRET,
            "grant_type": "refresh_token",
            "refresh_token": "shprt_x",
        }
    finally:
        stub.close()


def test_code_exchange_asks_for_expiring_tokens():
    stub = StubServer()
    try:
        stub.reply(Reply(200, {"access_token": "shpat_1", "scope": "read_orders"}))
        tokens = ShopifyOAuth(KEY, SECRET, endpoint=stub.url).exchange_code(SHOP, "c0de")
        assert stub.requests[0].json()["expiring"] == "1"
        # A non-expiring answer (e.g. a custom app) has no expiry and no refresh token.
        assert tokens.expires_at is None and tokens.refresh_token is None
    finally:
        stub.close()


def test_no_request_leaves_for_a_bad_shop_name():
    stub = StubServer()
    try:
        with pytest.raises(PermanentError):
            ShopifyOAuth(KEY, SECRET, endpoint=stub.url).exchange_code("evil.example.com", "c")
        assert stub.requests == []
    finally:
        stub.close()
