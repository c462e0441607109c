"""``GET /api/customer-account/loyalty``: the signed-in customer's points, tier and rewards for the
customer account UI extension, authorised by the extension's session token (HS256, aud = our API
key, dest = the shop, sub = the customer). Another customer's or shop's loyalty never."""

from __future__ import annotations

import time
from decimal import Decimal

import jwt

from integration.extensions import db
from integration.loyalty import admin
from tests.conftest import API_KEY, API_SECRET
from tests.test_loyalty_support import gid, make_program, make_shop, make_tiers

SHOP_A, SHOP_B = "a-shop.myshopify.com", "b-shop.myshopify.com"
PATH = "/api/customer-account/loyalty"


def customer_token(shop: str = SHOP_A, customer: int | None = 1, *, aud: str = API_KEY, secret: str = API_SECRET,
                   exp_in: int = 300, dest: str | None = None, with_exp: bool = True) -> str:
    now = int(time.time())
    claims = {"iss": f"https://{shop}", "dest": dest if dest is not None else shop, "aud": aud,
              "nbf": now - 5, "iat": now - 5, "jti": "jti-1"}
    if with_exp:
        claims["exp"] = now + exp_in
    if customer is not None:
        claims["sub"] = gid(customer)
    return jwt.encode(claims, secret, algorithm="HS256")


def _get(client, token: str):
    return client.get(PATH, headers={"Authorization": f"Bearer {token}",
                                     "Origin": "https://extensions.shopifycdn.com"})


def _setup():
    a = make_shop(SHOP_A)
    b = make_shop(SHOP_B)
    for shop in (a, b):
        make_program(shop.id)
        make_tiers(shop.id, {"name": "Silver", "threshold": Decimal(0)}, {"name": "Gold", "threshold": Decimal(1000)})
    admin.adjust(a.id, gid(1), 1200, "welcome back", actor="test")
    admin.adjust(a.id, gid(2), 30, "other customer", actor="test")
    admin.adjust(b.id, gid(1), 7, "same customer id, other shop", actor="test")
    db.session.commit()
    return a, b


def test_the_signed_in_customer_gets_points_tier_and_rewards(client):
    _setup()
    r = _get(client, customer_token(SHOP_A, 1))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["balance"] == 1200 and body["enrolled"] is True
    # Manual adjustments do not count towards tiers: the entry tier, with Gold ahead.
    assert body["tier"]["name"] == "Silver" and body["next_tier"]["name"] == "Gold"
    assert body["program"]["enabled"] is True and body["program"]["currency"] == "EUR"
    assert [o["points"] for o in body["redeemable"]] == [100, 500]
    assert body["rewards"] == []
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["Cache-Control"] == "private, no-store"
    # dest as an origin ("https://shop") is read the same way.
    assert _get(client, customer_token(SHOP_A, 1, dest=f"https://{SHOP_A}")).get_json()["balance"] == 1200


def test_never_another_customer_or_shop(client):
    _setup()
    assert _get(client, customer_token(SHOP_A, 2)).get_json()["balance"] == 30
    assert _get(client, customer_token(SHOP_B, 1)).get_json()["balance"] == 7
    # A query parameter cannot name someone else: the token's customer is the only one read.
    r = client.get(f"{PATH}?customer_id={gid(1)}&shop={SHOP_A}",
                   headers={"Authorization": f"Bearer {customer_token(SHOP_B, 2)}"})
    assert r.status_code == 200 and r.get_json()["balance"] == 0 and r.get_json()["enrolled"] is False


def test_bad_tokens_are_401_with_cors_headers(client):
    _setup()
    bad = {
        "wrong signature": customer_token(secret="not-the-app-secret"),
        "wrong audience": customer_token(aud="another-app"),
        "expired": customer_token(exp_in=-120),
        "no expiry": customer_token(with_exp=False),
        "no customer": customer_token(customer=None),
        "not a shop": customer_token(dest="https://evil.example.com"),
        "garbage": "not.a.jwt",
    }
    for why, token in bad.items():
        r = _get(client, token)
        assert r.status_code == 401, why
        assert r.get_json()["error"]["code"] == "invalid_session", why
        assert r.headers["Access-Control-Allow-Origin"] == "*", why
    assert client.get(PATH).status_code == 401
    assert client.get(PATH, headers={"Authorization": "Basic abc"}).status_code == 401


def test_a_shop_without_the_app_is_refused(client):
    _setup()
    r = _get(client, customer_token("gone-shop.myshopify.com", 1))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "unknown_shop"


def test_cors_preflight(client):
    r = client.options(PATH, headers={"Origin": "https://extensions.shopifycdn.com",
                                      "Access-Control-Request-Method": "GET",
                                      "Access-Control-Request-Headers": "authorization"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in r.headers["Access-Control-Allow-Headers"]


def test_the_priority_after_sales_perk_says_what_it_gives(client):
    a = make_shop(SHOP_A)
    make_program(a.id)
    make_tiers(a.id, {"name": "Silver", "threshold": Decimal(0), "priority_support": True},
               {"name": "Gold", "threshold": Decimal(1000)})
    b = make_shop(SHOP_B)
    make_program(b.id)
    make_tiers(b.id, {"name": "Silver", "threshold": Decimal(0)})
    admin.adjust(a.id, gid(1), 10, "seed", actor="test")
    admin.adjust(b.id, gid(1), 10, "seed", actor="test")
    body = _get(client, customer_token(SHOP_A, 1)).get_json()
    assert body["tier"]["name"] == "Silver"
    assert body["perks"] == [{"code": "priority_after_sales", "returns_approved_automatically": True,
                              "handled_first": True}]
    assert _get(client, customer_token(SHOP_B, 1)).get_json()["perks"] == []  # that shop's tier has no such perk
    assert _get(client, customer_token(SHOP_A, 2)).get_json()["perks"] == []  # not a member
