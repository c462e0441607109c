"""Install, callback and session-token checks: every forgery is refused with a 4xx before any
handler runs or any shop data is read."""

import time
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
import pytest
from sqlalchemy import select

from connectors.shopify.signatures import query_hmac
from integration.extensions import db
from integration.models import ImportRun, Location, Shop
from tests.conftest import API_KEY, API_SECRET

SHOP = "acme.myshopify.com"


def signed(params: dict, secret: str = API_SECRET) -> dict:
    params = dict(params)
    params["hmac"] = query_hmac(params, secret)
    return params


def install_query(shop=SHOP, **extra):
    return signed({"shop": shop, "timestamp": str(int(time.time())), **extra})


def session_token(shop=SHOP, *, aud=API_KEY, exp_in=60, secret=API_SECRET, dest=None, iss=None):
    now = int(time.time())
    claims = {"iss": iss or f"https://{shop}/admin", "dest": dest or f"https://{shop}", "aud": aud,
              "sub": "42", "exp": now + exp_in, "nbf": now - 5, "iat": now - 5, "jti": "j-1", "sid": "s-1"}
    return jwt.encode(claims, secret, algorithm="HS256")


def add_shop(domain, token="shpat_x"):
    shop = Shop(domain=domain, access_token=token, status="installed")
    db.session.add(shop)
    db.session.commit()
    return shop


# -- install -------------------------------------------------------------------------------

def test_valid_install_redirects_to_authorize_with_state_cookie(client):
    r = client.get("/auth/install?" + urlencode(install_query()))
    assert r.status_code == 302
    target = urlparse(r.headers["Location"])
    query = parse_qs(target.query)
    assert target.netloc == SHOP and target.path == "/admin/oauth/authorize"
    assert query["client_id"] == [API_KEY] and query["redirect_uri"][0].endswith("/auth/callback")
    assert "write_inventory" in query["scope"][0]
    cookie = r.headers["Set-Cookie"]
    assert "nearstock_oauth_state=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert query["state"][0] not in cookie  # the nonce is inside a signed value, not the raw cookie


@pytest.mark.parametrize("path", ["/", "/auth/install"])
@pytest.mark.parametrize(
    ("mutate", "status"),
    [
        (lambda q: {**q, "hmac": "0" * 64}, 401),
        (lambda q: {k: v for k, v in q.items() if k != "hmac"}, 401),
        (lambda q: {**q, "timestamp": str(int(time.time()) + 1)}, 401),  # hmac no longer matches
        (lambda q: signed({"shop": SHOP, "timestamp": str(int(time.time()) - 3600)}), 401),
        (lambda q: signed({"shop": "evil.com", "timestamp": q["timestamp"]}), 400),
        (lambda q: signed({"shop": "x.myshopify.com.evil.com", "timestamp": q["timestamp"]}), 400),
        (lambda q: signed({"shop": "acme.myshopify.com/../x", "timestamp": q["timestamp"]}), 400),
        (lambda q: signed({"shop": SHOP, "timestamp": q["timestamp"]}, secret="wrong"), 401),
    ],
)
def test_forged_install_requests_are_refused(client, path, mutate, status):
    r = client.get(path + "?" + urlencode(mutate(install_query())))
    assert r.status_code == status
    # The install URL answers JSON; the app's root (a browser landing) answers an HTML page.
    assert ("error" in r.json) if path.startswith("/auth") else (r.mimetype == "text/html")
    assert "Set-Cookie" not in r.headers


def test_landing_page_without_shop(client):
    r = client.get("/")
    assert r.status_code == 200 and b"Nearstock" in r.data


# -- callback ------------------------------------------------------------------------------

def start_install(client):
    r = client.get("/auth/install?" + urlencode(install_query()))
    return parse_qs(urlparse(r.headers["Location"]).query)["state"][0]


def callback_query(state, **extra):
    return signed({"shop": SHOP, "code": "code-1", "state": state, "timestamp": str(int(time.time())),
                   "host": "YWNtZS5teXNob3BpZnkuY29tL2FkbWlu", **extra})


def test_callback_with_forged_hmac_is_refused(client):
    state = start_install(client)
    q = callback_query(state)
    q["hmac"] = "f" * 64
    assert client.get("/auth/callback?" + urlencode(q)).status_code == 401


def test_callback_without_state_cookie_is_refused(app):
    fresh = app.test_client()
    assert fresh.get("/auth/callback?" + urlencode(callback_query("whatever"))).status_code == 403


def test_callback_with_other_state_is_refused(client):
    start_install(client)
    assert client.get("/auth/callback?" + urlencode(callback_query("not-the-nonce"))).status_code == 403


def test_callback_for_other_shop_than_the_cookie_is_refused(client):
    state = start_install(client)
    q = signed({"shop": "other.myshopify.com", "code": "c", "state": state, "timestamp": str(int(time.time()))})
    assert client.get("/auth/callback?" + urlencode(q)).status_code == 403


def test_replayed_state_is_refused(client, redis_conn):
    state = start_install(client)
    # The first use claims the nonce (the code exchange then fails: no Shopify here).
    first = client.get("/auth/callback?" + urlencode(callback_query(state)))
    assert first.status_code == 502
    again = client.get("/auth/callback?" + urlencode(callback_query(state)))
    assert again.status_code == 403 and again.json["error"]["message"] == "OAuth state already used"
    assert db.session.execute(select(Shop)).first() is None


# -- session tokens ------------------------------------------------------------------------

def test_valid_session_token_reads_own_shop(client):
    add_shop(SHOP)
    r = client.get("/api/shop", headers={"Authorization": f"Bearer {session_token()}"})
    assert r.status_code == 200 and r.json["domain"] == SHOP


@pytest.mark.parametrize(
    "token",
    [
        lambda: session_token(exp_in=-120),  # expired (beyond the 10 s leeway)
        lambda: session_token(aud="someone-elses-app"),
        lambda: session_token(secret="not-our-secret"),
        lambda: session_token(iss="https://evil.com/admin", dest="https://evil.com"),
        lambda: session_token(dest="https://other.myshopify.com"),  # iss and dest disagree
        lambda: "not-a-jwt",
        lambda: jwt.encode({"dest": f"https://{SHOP}", "aud": API_KEY}, API_SECRET, algorithm="HS256"),
    ],
)
def test_bad_session_tokens_are_refused(client, token):
    add_shop(SHOP)
    r = client.get("/api/shop", headers={"Authorization": f"Bearer {token()}"})
    assert r.status_code == 401 and r.json["error"]["code"] == "invalid_session"
    assert r.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"


def test_missing_session_token_is_refused(client):
    add_shop(SHOP)
    assert client.get("/api/shop").status_code == 401
    assert client.get("/api/shop", headers={"Authorization": "Basic abc"}).status_code == 401


def test_none_algorithm_token_is_refused(client):
    add_shop(SHOP)
    now = int(time.time())
    unsigned = jwt.encode({"iss": f"https://{SHOP}/admin", "dest": f"https://{SHOP}", "aud": API_KEY, "sub": "1",
                           "exp": now + 60, "nbf": now, "iat": now, "jti": "j", "sid": "s"}, None, algorithm="none")
    assert client.get("/api/shop", headers={"Authorization": f"Bearer {unsigned}"}).status_code == 401


def test_shop_a_token_never_sees_shop_b_data(client):
    a = add_shop("a-shop.myshopify.com")
    b = add_shop("b-shop.myshopify.com")
    db.session.add_all([
        Location(shop_id=a.id, shopify_id="gid://shopify/Location/1", name="A Berlin", country_code="DE"),
        Location(shop_id=b.id, shopify_id="gid://shopify/Location/2", name="B Paris", country_code="FR"),
        ImportRun(shop_id=b.id, status="done"),
    ])
    db.session.commit()
    headers = {"Authorization": f"Bearer {session_token('a-shop.myshopify.com')}"}
    locs = client.get("/api/locations", headers=headers).json["locations"]
    assert [loc["name"] for loc in locs] == ["A Berlin"]
    assert client.get("/api/shop", headers=headers).json["last_import"] is None
    assert client.get("/api/imports", headers=headers).json["imports"] == []


def test_scopes_in_app_toml_match_the_code():
    import tomllib
    from pathlib import Path

    from integration.shops.installation import SCOPES

    toml = tomllib.loads((Path(__file__).resolve().parents[2] / "shopify.app.toml").read_text())
    assert toml["access_scopes"]["scopes"].split(",") == list(SCOPES)
    compliance = {t for sub in toml["webhooks"]["subscriptions"] for t in sub.get("compliance_topics", [])}
    assert compliance == {"customers/data_request", "customers/redact", "shop/redact"}
