"""The embedded admin's loyalty page API: the member list, a member's ledger page by page, manual
adjustments (once per request key), rules and perks, CSV export; 422 naming the field; two shops."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select, update

from integration.extensions import db
from integration.loyalty import admin as loyalty_admin
from integration.loyalty import ledger as loyalty
from integration.models.loyalty import LoyaltyAccount, LoyaltyAdjustment, LoyaltyEntry
from tests.test_loyalty_support import (
    SHOP,
    auth,
    gid,
    loyalty_app,  # noqa: F401 - fixture
    make_program,
    make_shop,
    make_tiers,
)

OTHER = "beta.myshopify.com"


@pytest.fixture
def shop(loyalty_app):  # noqa: F811
    shop = make_shop()
    make_program(shop.id)
    return shop


def member(shop_id: int, n: int, points: int, email: str | None = None) -> None:
    loyalty_admin.adjust(shop_id, gid(n), points, "welcome", actor="test")
    if email:
        db.session.execute(update(LoyaltyAccount).where(LoyaltyAccount.customer_external_id == gid(n),
                                                        LoyaltyAccount.shop_id == shop_id).values(email=email))
        db.session.commit()


def error(response) -> dict:
    return response.get_json()["error"]


def test_members_are_listed_page_by_page_with_balance_and_tier(client, shop):
    make_tiers(shop.id, {"name": "Gold", "threshold": 0})
    member(shop.id, 1, 10, "ada@example.com")
    member(shop.id, 2, 20, "bob@example.org")
    member(shop.id, 3, 30, "cy_100%@example.org")
    first = client.get("/api/loyalty/customers?limit=2", headers=auth())
    assert first.status_code == 200
    body = first.get_json()
    assert [c["customer_id"] for c in body["items"]] == [gid(3), gid(2)]  # newest first
    assert body["has_next_page"] and not body["has_previous_page"] and body["page"] == 1
    assert body["items"][0]["balance"] == 30 and body["items"][0]["tier"] == "Gold"
    assert body["items"][0]["number"] == "3" and body["items"][0]["email"] == "cy_100%@example.org"
    second = client.get("/api/loyalty/customers?limit=2&page=2", headers=auth()).get_json()
    assert [c["balance"] for c in second["items"]] == [10] and not second["has_next_page"]
    assert second["has_previous_page"]


def test_search_by_customer_id_or_part_of_the_email(client, shop):
    member(shop.id, 1, 10, "ada@example.com")
    member(shop.id, 2, 20, "bob@example.org")
    member(shop.id, 12, 5, "cy_100%@example.org")

    def found(q: str) -> list[str]:
        r = client.get("/api/loyalty/customers", query_string={"q": q}, headers=auth())
        assert r.status_code == 200, r.data
        return [c["customer_id"] for c in r.get_json()["items"]]

    assert found("2") == [gid(2)]  # an id matches exactly, not as a substring
    assert found("gid://shopify/Customer/12") == [gid(12)]
    assert found("EXAMPLE.ORG") == [gid(12), gid(2)]
    assert found("_100%") == [gid(12)]  # wildcards in the search are literal
    assert found("%") == [gid(12)]
    assert found("nobody") == []
    r = client.get("/api/loyalty/customers", query_string={"q": "x" * 101}, headers=auth())
    assert r.status_code == 422 and error(r)["field"] == "q"
    r = client.get("/api/loyalty/customers?limit=1000", headers=auth())
    assert r.status_code == 400 and error(r)["field"] == "limit"


def test_a_members_ledger_pages_with_reasons(client, shop):
    for i in range(5):
        loyalty_admin.adjust(shop.id, gid(7), 10 + i, f"reason {i}", actor="42")
    r = client.get("/api/loyalty/customers/7/ledger?limit=2", headers=auth())
    assert r.status_code == 200
    body = r.get_json()
    assert body["balance"] == sum(range(10, 15)) and body["customer_id"] == gid(7)
    assert [e["reason"] for e in body["entries"]] == ["reason 4", "reason 3"]
    assert body["entries"] == body["items"] and body["has_next_page"] and "account_id" not in body
    last = client.get("/api/loyalty/customers/7/ledger?limit=2&page=3", headers=auth()).get_json()
    assert [e["points"] for e in last["entries"]] == [10] and not last["has_next_page"]
    assert client.get("/api/loyalty/customers/7/ledger?page=0", headers=auth()).status_code == 400


def test_an_adjustment_sent_twice_is_one_ledger_entry(client, shop):
    url = "/api/loyalty/customers/7/adjustments"
    body = {"points": 25, "reason": "parcel arrived late", "request_key": "page-0123456789abcdef"}
    first = client.post(url, json=body, headers=auth())
    again = client.post(url, json=body, headers=auth())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["repeated"] and again.get_json()["entry"]["id"] == first.get_json()["entry"]["id"]
    assert db.session.scalar(select(func.count()).select_from(LoyaltyEntry)) == 1
    assert db.session.scalar(select(func.count()).select_from(LoyaltyAdjustment)) == 1
    assert loyalty.balance(shop.id, gid(7)) == 25


@pytest.mark.parametrize(("body", "field"), [
    ({"reason": "x"}, "points"),
    ({"points": 0, "reason": "x"}, "points"),
    ({"points": "10", "reason": "x"}, "points"),
    ({"points": 1.5, "reason": "x"}, "points"),
    ({"points": 10_000_001, "reason": "x"}, "points"),
    ({"points": 10}, "reason"),
    ({"points": 10, "reason": "   "}, "reason"),
    ({"points": 10, "reason": "x" * 501}, "reason"),
    ({"points": 10, "reason": "x", "request_key": "short"}, "request_key"),
    ({"points": 10, "reason": "x", "request_key": 12345678}, "request_key"),
])
def test_adjustments_are_validated_naming_the_field(client, shop, body, field):
    r = client.post("/api/loyalty/customers/7/adjustments", json=body, headers=auth())
    assert r.status_code == 422 and error(r)["field"] == field and error(r)["message"]
    assert db.session.scalar(select(func.count()).select_from(LoyaltyEntry)) == 0


def test_earning_rules_tiers_and_perks_round_trip_and_are_validated(client, shop):
    r = client.put("/api/loyalty/program", json={"enabled": True, "points_per_currency": "1.5",
                                                 "local_multiplier": 3, "member_days": [1, 15]}, headers=auth())
    assert r.status_code == 200, r.data
    program = r.get_json()["program"]
    assert (program["local_multiplier"], program["points_per_currency"], program["member_days"]) == ("3", "1.5",
                                                                                                     [1, 15])
    r = client.put("/api/loyalty/tiers", json={"tiers": [{"name": "Gold", "threshold": 500, "multiplier": "1.5",
                                                          "free_shipping_days": True, "priority_support": True}]},
                   headers=auth())
    assert r.status_code == 200
    tier = client.get("/api/loyalty/tiers", headers=auth()).get_json()["tiers"][0]
    assert tier["free_shipping_days"] and tier["priority_support"] and tier["multiplier"] == "1.5"
    for body, field in (({"local_multiplier": 0}, "local_multiplier"), ({"member_days": [32]}, "member_days"),
                        ({"enabled": "yes"}, "enabled"), ({"nope": 1}, "nope")):
        r = client.put("/api/loyalty/program", json=body, headers=auth())
        assert r.status_code == 422 and error(r)["field"] == field, (body, r.data)
    r = client.put("/api/loyalty/tiers", json={"tiers": [{"name": "Gold", "priority_support": "yes"}]},
                   headers=auth())
    assert r.status_code == 422 and error(r)["field"] == "tiers[0].priority_support"
    assert client.get("/api/loyalty/program", headers=auth()).get_json()["program"]["local_multiplier"] == "3"


def test_csv_export_of_members_and_ledger(client, shop):
    member(shop.id, 1, 10, "ada@example.com")
    loyalty_admin.adjust(shop.id, gid(1), -3, "=HYPERLINK(\"http://evil\")", actor="42")
    r = client.get("/api/loyalty/export.csv", headers=auth())
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "loyalty-customers.csv" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows == [["customer_id", "email", "balance", "lifetime_earned", "tier", "created_at"],
                    [gid(1), "ada@example.com", "7", "0", "", rows[1][5]]]
    rows = list(csv.reader(io.StringIO(client.get("/api/loyalty/export.csv?what=ledger", headers=auth())
                                       .get_data(as_text=True))))
    assert [r[2:5] for r in rows[1:]] == [["adjust", "10", "adjust"], ["adjust", "-3", "adjust"]]
    assert rows[2][7] == "'=HYPERLINK(\"http://evil\")"  # never a formula in a spreadsheet
    r = client.get("/api/loyalty/export.csv?what=secrets", headers=auth())
    assert r.status_code == 422 and error(r)["field"] == "what"


def test_another_shop_sees_and_changes_none_of_this_shops_members(client, shop):
    member(shop.id, 7, 40, "ada@example.com")
    other = make_shop(OTHER)
    make_program(other.id)
    assert client.get("/api/loyalty/customers", headers=auth(OTHER)).get_json()["items"] == []
    assert client.get("/api/loyalty/customers?q=ada", headers=auth(OTHER)).get_json()["items"] == []
    assert client.get("/api/loyalty/customers/7/ledger", headers=auth(OTHER)).status_code == 404
    r = client.post("/api/loyalty/customers/7/adjustments", json={"points": 5, "reason": "x"}, headers=auth(OTHER))
    assert r.status_code == 201 and r.get_json()["balance"] == 5  # the other shop's own customer 7
    assert loyalty.balance(shop.id, gid(7)) == 40
    export = client.get("/api/loyalty/export.csv?what=ledger", headers=auth(OTHER)).get_data(as_text=True)
    assert "welcome" not in export and len(export.splitlines()) == 2
    assert client.put("/api/loyalty/program", json={"enabled": False}, headers=auth(OTHER)).status_code == 200
    assert client.get("/api/loyalty/program", headers=auth(SHOP)).get_json()["program"]["enabled"] is True
    assert client.get("/api/loyalty/customers").status_code == 401
