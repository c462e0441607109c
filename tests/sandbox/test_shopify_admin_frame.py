"""The emulator's local admin frame (sandbox/shopify/admin_frame.py): the session tokens it hands the
framed app, checked by the app's own verifier; the signed launch URL; what it refuses."""

from __future__ import annotations

import base64
import json
import re
import time
from html import unescape
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from integration.config import Config
from integration.shops import verification
from sandbox.shopify import polaris_schema
from tests.shopify_fixtures import SHOPIFY_API_KEY, SHOPIFY_API_SECRET, SHOPIFY_SHOP

APP_URL = "http://127.0.0.1:8999"
CLAIMS = {"iss", "dest", "aud", "sub", "exp", "nbf", "iat", "jti", "sid"}
APP_CONFIG = Config(env="testing", shopify_api_key=SHOPIFY_API_KEY, shopify_api_secret=SHOPIFY_API_SECRET)


@pytest.fixture
def admin(make_shopify_emulator):
    emulator = make_shopify_emulator(app_url=APP_URL)
    return emulator, emulator.wsgi_app.test_client()


def installed(admin):
    emulator, client = admin
    assert client.post(f"/store/acme/apps/{SHOPIFY_API_KEY}/install", json={}).status_code == 200
    return emulator, client


def id_token(client) -> str:
    r = client.post("/store/acme/id-token", json={})
    assert r.status_code == 200, r.json
    return r.json["id_token"]


def verify(token: str) -> verification.SessionToken:
    return verification.verify_session_token(f"Bearer {token}", f"{APP_URL}/api/shop", APP_CONFIG)


def test_session_token_is_signed_like_shopifys_and_the_app_accepts_it(admin):
    _emulator, client = installed(admin)
    token, other = id_token(client), id_token(client)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    claims = jwt.decode(token, SHOPIFY_API_SECRET, algorithms=["HS256"], audience=SHOPIFY_API_KEY)
    assert set(claims) == CLAIMS
    assert (claims["iss"], claims["dest"], claims["aud"]) == (
        f"https://{SHOPIFY_SHOP}/admin", f"https://{SHOPIFY_SHOP}", SHOPIFY_API_KEY)
    assert claims["sub"] and claims["sid"]
    assert claims["exp"] - claims["iat"] == 60 and claims["nbf"] <= claims["iat"] <= time.time() + 1
    assert jwt.decode(other, options={"verify_signature": False})["jti"] != claims["jti"]

    session = verify(token)
    assert (session.domain, session.user, session.token) == (SHOPIFY_SHOP, claims["sub"], token)


def test_the_app_refuses_expired_forged_and_foreign_tokens(admin):
    emulator, client = installed(admin)
    expired = emulator.issue_session_token(SHOPIFY_SHOP, expires_in=-30)  # the frame's signer, a minute ago
    forged = emulator.issue_session_token(SHOPIFY_SHOP, secret="not-the-app-secret")
    foreign = emulator.issue_session_token(SHOPIFY_SHOP, audience="another-app")
    head, _body, signature = id_token(client).split(".")
    claims = jwt.decode(id_token(client), options={"verify_signature": False})
    other_shop = base64.urlsafe_b64encode(json.dumps(
        {**claims, "dest": "https://other.myshopify.com"}).encode()).decode().rstrip("=")
    for token in (expired, forged, foreign, f"{head}.{other_shop}.{signature}"):
        with pytest.raises(verification.InvalidSessionToken):
            verify(token)


def test_tokens_only_for_an_installed_app_and_only_to_json_posts(admin):
    _emulator, client = admin
    assert client.post("/store/acme/id-token", json={}).status_code == 403  # not installed yet
    assert client.post("/store/nope/id-token", json={}).status_code == 404
    installed(admin)
    assert client.post("/store/acme/id-token", data={"x": "1"}).status_code == 415  # no cross-site form
    assert client.get("/store/acme/id-token").status_code == 405
    assert client.post("/store/acme/id-token", json={}).status_code == 200


def test_install_screen_until_approved_then_the_app_in_its_frame(admin):
    _emulator, client = admin
    page = client.get(f"/store/acme/apps/{SHOPIFY_API_KEY}")
    assert page.status_code == 200 and b'id="install-app"' in page.data and b"<iframe" not in page.data
    assert b"write_inventory" in page.data  # the scopes it asks for
    assert client.post(f"/store/acme/apps/{SHOPIFY_API_KEY}/install", data={}).status_code == 415
    installed(admin)
    page = client.get(f"/store/acme/apps/{SHOPIFY_API_KEY}")
    assert b'id="app-frame"' in page.data and b'id="install-app"' not in page.data
    csp = page.headers["Content-Security-Policy"]
    assert f"frame-src {APP_URL};" in csp and "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    assert client.get("/store/acme").headers["Location"] == f"/store/acme/apps/{SHOPIFY_API_KEY}"


def frame_src(page) -> str:
    return unescape(re.search(r'<iframe id="app-frame"[^>]* src="([^"]+)"', page.get_data(as_text=True)).group(1))


def test_the_frame_loads_the_app_with_signed_launch_parameters(admin):
    _emulator, client = installed(admin)
    page = client.get(f"/store/acme/apps/{SHOPIFY_API_KEY}/admin/warehouses?tab=rules&shop=evil.myshopify.com")
    src = urlsplit(frame_src(page))
    assert f"{src.scheme}://{src.netloc}{src.path}" == f"{APP_URL}/admin/warehouses"
    params = {k: v[0] for k, v in parse_qs(src.query).items()}
    assert set(params) == {"tab", "embedded", "host", "id_token", "locale", "session", "shop", "timestamp", "hmac"}
    assert (params["tab"], params["embedded"], params["shop"]) == ("rules", "1", SHOPIFY_SHOP)  # not evil's
    assert base64.b64decode(params["host"] + "==").decode() == "admin.shopify.com/store/acme"
    assert abs(int(params["timestamp"]) - time.time()) < 5
    assert verification.install_query_is_authentic(params, APP_CONFIG)  # the app's own HMAC check
    token = verify(params["id_token"])
    assert token.domain == SHOPIFY_SHOP
    assert params["session"] == jwt.decode(params["id_token"], options={"verify_signature": False})["sid"]
    home = urlsplit(frame_src(client.get(f"/store/acme/apps/{SHOPIFY_API_KEY}")))
    assert home.path == "/"  # the app's URL itself: its install entry


@pytest.mark.parametrize(("path", "status"), [
    (f"/store/acme/apps/{SHOPIFY_API_KEY}/a/../../x", 404),
    (f"/store/acme/apps/{SHOPIFY_API_KEY}/a/%2e%2e/x", 404),
    (f"/store/acme/apps/{SHOPIFY_API_KEY}/a@evil.example", 404),
    (f"/store/acme/apps/{SHOPIFY_API_KEY}/" + "a" * 600, 404),
    ("/store/acme/apps/another-key", 404),
    (f"/store/Acme/apps/{SHOPIFY_API_KEY}", 404),
    (f"/store/acme/apps/{SHOPIFY_API_KEY}?" + "&".join(f"p{i}=1" for i in range(30)), 400),
    (f"/store/acme/apps/{SHOPIFY_API_KEY}?q=" + "x" * 3000, 400),
])
def test_hostile_app_paths_are_refused(admin, path, status):
    installed(admin)
    r = admin[1].get(path)
    assert r.status_code == status and b"<iframe" not in r.data


def test_a_double_slash_stays_in_the_app(admin):
    _emulator, client = installed(admin)
    r = client.get(f"/store/acme/apps/{SHOPIFY_API_KEY}//evil.example/x")  # werkzeug merges the slashes
    assert r.status_code == 308 and urlsplit(r.headers["Location"]).path == (
        f"/store/acme/apps/{SHOPIFY_API_KEY}/evil.example/x")
    src = urlsplit(frame_src(client.get(urlsplit(r.headers["Location"]).path)))
    assert (src.netloc, src.path) == ("127.0.0.1:8999", "/evil.example/x")


def test_without_an_app_url_the_store_admin_still_works(make_shopify_emulator):
    emulator = make_shopify_emulator()
    client = emulator.wsgi_app.test_client()
    assert client.get("/store/acme").headers["Location"] == "/store/acme/orders"
    assert client.get("/store/acme/orders").status_code == 200
    assert client.get(f"/store/acme/apps/{SHOPIFY_API_KEY}").status_code == 404


def test_app_bridge_stand_in_is_served_at_the_cdn_path(admin):
    r = admin[1].get("/shopifycloud/app-bridge.js")
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    assert r.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    body = r.get_data(as_text=True)
    for api in ("idToken", "toast", "s-app-nav", "ui-title-bar", "ui-save-bar", "data-save-bar",
                "X-Shopify-Retry-Invalid-Session-Request", "shopify-api-key"):
        assert api in body


def test_polaris_stand_in_is_served_at_the_cdn_path_with_its_schema(admin):
    r = admin[1].get("/shopifycloud/polaris.js")
    assert r.status_code == 200 and r.content_type == "text/javascript; charset=utf-8"
    assert r.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    body = r.get_data(as_text=True)
    assert "/*SCHEMA*/null" not in body  # the vendored schema is in, so the checks run at once
    schema = json.loads(body.split("var SCHEMA = ", 1)[1].split(";\n", 1)[0])
    assert schema == polaris_schema.load()
    for part in ("customElements.define(tag, cls)", "define('s-select'", "define('s-modal'"):
        assert part in body


def test_a_link_opens_the_test_order_form_filled_in_and_ignores_what_it_does_not_offer(admin):
    from tests.shopify_fixtures import seed_shopify_catalog

    emulator, client = admin
    seed_shopify_catalog(emulator)
    html = client.get("/store/acme/orders?sku=TEE-WHT-M&quantity=3&country=FR&locale=fr"
                      "&email=client%40example.com").get_data(as_text=True)
    assert re.search(r'<option value="TEE-WHT-M" selected>', html)
    assert 'value="3" required' in html and 'value="client@example.com"' in html
    assert '<option value="FR" selected>' in html and '<option value="fr" selected>' in html

    hostile = client.get("/store/acme/orders?sku=NOPE&quantity=100000&country=XX&locale=%3Cb%3E"
                         "&email=%22%3E%3Cscript%3E").get_data(as_text=True)
    assert "<script>" not in hostile and " selected>" in hostile  # the defaults: Germany, German
    assert '<option value="DE" selected>' in hostile and '<option value="de" selected>' in hostile
    assert 'value="1" required' in hostile and 'value="kunde@example.com"' in hostile
