"""The storefront (app proxy) and embedded-admin loyalty endpoints."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode

import pytest
from sqlalchemy import select

from integration.extensions import db, queues
from integration.loyalty import admin as loyalty_admin
from integration.loyalty import ledger as loyalty
from integration.models.loyalty import LoyaltyEntry, LoyaltyReward
from tests.test_loyalty_support import (
    SHOP,
    account_of,
    auth,
    check_invariants,
    gid,
    loyalty_app,  # noqa: F401 - fixture
    make_program,
    make_shop,
    proxy_query,
)

OTHER = "beta.myshopify.com"


@pytest.fixture
def shop(loyalty_app):  # noqa: F811
    shop = make_shop()
    make_program(shop.id, signup_bonus=50)
    return shop


def grant(shop_id: int, customer: str, points: int) -> None:
    loyalty_admin.adjust(shop_id, customer, points, "test grant", actor="test")


# -- storefront ---------------------------------------------------------------------------------


def test_summary_is_only_for_the_signed_logged_in_customer(client, shop):
    grant(shop.id, gid(7), 120)
    r = client.get(f"/proxy/loyalty?{proxy_query(7)}")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "private, no-store"
    body = r.get_json()
    assert body["enrolled"] and body["balance"] == 170  # sign-up bonus + grant
    assert body["program"]["currency"] == "EUR" and body["redeemable"] == [{"points": 100, "amount": "5.00"}]
    assert [h["kind"] for h in body["history"]] == ["adjust", "earn"]
    # Another customer sees their own (nothing), never customer 7's.
    other = client.get(f"/proxy/loyalty?{proxy_query(8)}").get_json()
    assert other["enrolled"] is False and other["balance"] == 0
    # Changing the customer in a signed query breaks the signature.
    forged = dict(parse_qsl(proxy_query(8)))
    forged["logged_in_customer_id"] = "7"
    assert client.get(f"/proxy/loyalty?{urlencode(forged)}").status_code == 401
    assert client.get("/proxy/loyalty?shop=acme.myshopify.com&logged_in_customer_id=7").status_code == 401
    r = client.get(f"/proxy/loyalty?{proxy_query(None)}")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "login_required"
    assert client.get(f"/proxy/loyalty?{proxy_query(7, shop=OTHER)}").status_code == 403  # not installed there


def test_join_and_redeem(client, shop):
    r = client.post(f"/proxy/loyalty/join?{proxy_query(7)}", json={"birthday": "07-14"})
    assert r.status_code == 200 and r.get_json()["balance"] == 50 and r.get_json()["birthday_set"]
    assert client.post(f"/proxy/loyalty/redeem?{proxy_query(7)}", data="points=100").status_code == 415
    r = client.post(f"/proxy/loyalty/redeem?{proxy_query(7)}", json={"points": 100})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "insufficient_points"
    assert client.post(f"/proxy/loyalty/redeem?{proxy_query(7)}", json={"points": 77}).status_code == 400
    grant(shop.id, gid(7), 100)
    body = {"points": 100, "request_key": "click-0001"}
    first = client.post(f"/proxy/loyalty/redeem?{proxy_query(7)}", json=body)
    again = client.post(f"/proxy/loyalty/redeem?{proxy_query(7)}", json=body)  # a double click
    assert first.status_code == 202 and again.status_code == 202
    assert first.get_json()["reward"]["id"] == again.get_json()["reward"]["id"]
    assert first.get_json()["reward"]["status"] == "pending" and first.get_json()["reward"]["code"] is None
    assert loyalty.balance(shop.id, gid(7)) == 50
    assert db.session.scalar(select(LoyaltyReward.points)) == 100
    assert queues["sync"].get_job_ids() == [f"loyalty-reward-{first.get_json()['reward']['id']}"]
    assert check_invariants(account_of(shop.id, gid(7)).id) == 50
    view = client.get(f"/proxy/loyalty?{proxy_query(7)}").get_json()
    assert view["held"] == 100 and view["rewards"][0]["status"] == "pending"


# -- admin --------------------------------------------------------------------------------------


def test_admin_needs_a_session_and_validates_rules(client, shop):
    assert client.get("/api/loyalty/program").status_code == 401
    r = client.put("/api/loyalty/program", json={"local_multiplier": "0.5"}, headers=auth())
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "local_multiplier"
    r = client.put("/api/loyalty/program", json={"reward_options": [{"points": 10, "amount": "1", "percentage": 1}]},
                   headers=auth())
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "reward_options[0]"
    r = client.put("/api/loyalty/program", json={"points_per_currency": 2, "earn_on": "delivered",
                                                 "member_days": [1, "2026-12-24"],
                                                 "birthday_gift": {"percentage": "0.15"}}, headers=auth())
    assert r.status_code == 200, r.data
    program = r.get_json()["program"]
    assert program["points_per_currency"] == "2" and program["earn_on"] == "delivered"
    assert program["member_days"] == [1, "2026-12-24"] and program["birthday_gift"] == {"percentage": "0.15"}
    r = client.put("/api/loyalty/tiers", json={"tiers": [{"name": "Gold", "threshold": 1000, "multiplier": 2,
                                                          "priority_support": True},
                                                         {"name": "Silver", "threshold": 200}]}, headers=auth())
    assert r.status_code == 200 and [t["name"] for t in r.get_json()["tiers"]] == ["Silver", "Gold"]
    assert queues["low"].count == 1  # members are re-evaluated off the request
    r = client.put("/api/loyalty/tiers", json={"tiers": [{"name": "A", "threshold": 1}, {"name": "A"}]},
                   headers=auth())
    assert r.status_code == 422


def test_manual_adjustments_need_a_reason_and_are_logged(client, shop):
    url = "/api/loyalty/customers/7/adjustments"
    assert client.post(url, json={"points": 10}, headers=auth()).status_code == 422
    assert client.post(url, json={"points": 0, "reason": "x"}, headers=auth()).status_code == 422
    body = {"points": 40, "reason": "goodwill: late parcel", "request_key": "adj-00000001"}
    r = client.post(url, json=body, headers=auth())
    assert r.status_code == 201 and r.get_json()["balance"] == 90  # sign-up bonus on the new account
    r = client.post(url, json=body, headers=auth())  # the same request again
    assert r.status_code == 200 and r.get_json()["repeated"] and loyalty.balance(shop.id, gid(7)) == 90
    r = client.post(url, json={"points": -500, "reason": "oops"}, headers=auth())
    assert r.status_code == 409
    r = client.post("/api/loyalty/customers/gid://shopify/Customer/7/adjustments",
                    json={"points": -15, "reason": "typo"}, headers=auth())
    assert r.status_code == 201 and r.get_json()["balance"] == 75
    ledger = client.get("/api/loyalty/customers/7/ledger", headers=auth()).get_json()
    assert [(e["kind"], e["points"], e.get("reason"), e.get("actor")) for e in ledger["entries"]] == [
        ("adjust", -15, "typo", "42"), ("adjust", 40, "goodwill: late parcel", "42"), ("earn", 50, None, None)]
    assert client.get("/api/loyalty/customers/8/ledger", headers=auth()).status_code == 404
    assert client.get("/api/loyalty/customers/abc/ledger", headers=auth()).status_code == 400
    totals = client.get("/api/loyalty/totals", headers=auth()).get_json()
    assert totals["members"] == 1 and totals["outstanding_points"] == 75
    assert totals["by_kind"]["adjust"] == {"points": 25, "entries": 2}
    assert db.session.scalar(select(LoyaltyEntry.id).where(LoyaltyEntry.points == -500)) is None
    export = client.get("/api/loyalty/export", headers=auth())
    lines = [json.loads(line) for line in export.get_data(as_text=True).splitlines()]
    assert export.status_code == 200 and export.mimetype == "application/x-ndjson"
    assert [line["type"] for line in lines] == ["account", "entry", "entry", "entry"]
    assert lines[0]["customer_id"] == gid(7) and lines[0]["balance"] == 75
    assert sum(line["points"] for line in lines[1:]) == 75


def test_another_shop_cannot_see_this_shops_customers(client, shop):
    grant(shop.id, gid(7), 10)
    make_shop(OTHER)
    assert client.get("/api/loyalty/customers/7/ledger", headers=auth(SHOP)).status_code == 200
    assert client.get("/api/loyalty/customers/7/ledger", headers=auth(OTHER)).status_code == 404
    assert client.get("/api/loyalty/totals", headers=auth(OTHER)).get_json()["members"] == 0
