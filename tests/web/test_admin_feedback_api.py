"""The embedded admin's feedback API: customers' ratings with their comments, filtered and paged;
the summary per warehouse and per week; two shops."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from integration.extensions import db
from integration.models import OrderFeedback, OutboundOrder
from integration.models.base import utcnow
from tests.helpers_warehouse import make_account, make_warehouse
from tests.test_loyalty_support import auth, loyalty_app, make_shop, shipped_order  # noqa: F401 - fixture

OTHER = "beta.myshopify.com"


def rate(order, rating: int, comment: str | None = None, days_ago: float = 1) -> OrderFeedback:
    at = utcnow() - timedelta(days=days_ago)
    row = OrderFeedback(shop_id=order.shop_id, order_id=order.id, email=order.email, rating=rating, comment=comment,
                        created_at=at, updated_at=at)
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def world(loyalty_app):  # noqa: F811
    shop = make_shop()
    account = make_account(shop)
    de = make_warehouse(shop, account, "DEWH", "DE", name="Berlin")
    nl = make_warehouse(shop, account, "NLWH", "NL", name="Venlo")
    o1, _ = shipped_order(shop, de, customer=None)
    o2, _ = shipped_order(shop, nl, customer=None)
    o3, _ = shipped_order(shop, de, customer=None)
    db.session.add(OutboundOrder(shop_id=shop.id, order_id=o3.id, warehouse_id=nl.id, reference=f"X{o3.id}",
                                 status="shipped"))  # a split order: both warehouses shipped part of it
    o4, _ = shipped_order(shop, de, customer=None)
    db.session.add(OutboundOrder(shop_id=shop.id, order_id=o4.id, warehouse_id=nl.id, reference=f"X{o4.id}",
                                 status="cancelled"))  # Venlo never shipped it: not Venlo's rating
    db.session.commit()
    rate(o1, 5, "<b>Fast</b> & friendly", days_ago=1)
    rate(o2, 2, None, days_ago=2)
    rate(o3, 4, "ok", days_ago=10)
    rate(o4, 1, "broken", days_ago=60)
    return SimpleNamespace(shop=shop, de=de, nl=nl, orders=(o1, o2, o3, o4))


def error(response) -> dict:
    return response.get_json()["error"]


def test_ratings_are_listed_newest_first_with_comment_order_and_warehouses(client, world):
    de, nl, (o1, o2, o3, o4) = world.de, world.nl, world.orders
    r = client.get("/api/feedback?limit=2", headers=auth())
    assert r.status_code == 200
    body = r.get_json()
    assert [i["order_name"] for i in body["items"]] == [o1.name, o2.name] and body["has_next_page"]
    first = body["items"][0]
    assert first["rating"] == 5 and first["comment"] == "<b>Fast</b> & friendly"  # the page writes it as text
    assert first["warehouses"] == [{"id": de.id, "name": "Berlin"}] and first["created_at"]
    rest = client.get("/api/feedback?limit=2&page=2", headers=auth()).get_json()
    assert [i["order_id"] for i in rest["items"]] == [o3.id, o4.id] and not rest["has_next_page"]
    assert rest["items"][0]["warehouses"] == [{"id": de.id, "name": "Berlin"}, {"id": nl.id, "name": "Venlo"}]
    assert rest["items"][1]["warehouses"] == [{"id": de.id, "name": "Berlin"}]


def test_ratings_filter_by_warehouse_and_stars(client, world):
    de, nl, (_, o2, o3, o4) = world.de, world.nl, world.orders

    def ids(query: str) -> list[int]:
        r = client.get(f"/api/feedback?{query}", headers=auth())
        assert r.status_code == 200, r.data
        return [i["order_id"] for i in r.get_json()["items"]]

    assert ids(f"warehouse={nl.id}") == [o2.id, o3.id]  # not o4: its Venlo part was cancelled
    assert ids(f"warehouse={de.id}&rating=4") == [o3.id]
    assert ids("rating=1") == [o4.id]
    for query, field in (("rating=6", "rating"), ("rating=x", "rating"), ("warehouse=abc", "warehouse"),
                         ("warehouse=0", "warehouse")):
        r = client.get(f"/api/feedback?{query}", headers=auth())
        assert r.status_code == 422 and error(r)["field"] == field, query
    assert client.get("/api/feedback?limit=101", headers=auth()).status_code == 400


def test_long_comments_are_cut(client, world):
    o1 = world.orders[0]
    row = db.session.query(OrderFeedback).filter_by(order_id=o1.id).one()
    row.comment = "é" * 5000
    db.session.commit()
    items = client.get("/api/feedback?limit=100", headers=auth()).get_json()["items"]
    assert max(len(i["comment"] or "") for i in items) == 2000


def test_summary_per_warehouse_and_per_week(client, world):
    r = client.get("/api/feedback/summary?days=30", headers=auth())
    assert r.status_code == 200
    body = r.get_json()
    assert (body["count"], body["average"]) == (3, 3.67)
    by_name = {w["name"]: (w["count"], w["average"]) for w in body["warehouses"]}
    assert by_name == {"Berlin": (2, 4.5), "Venlo": (2, 3.0)}
    assert 5 <= len(body["weeks"]) <= 6 and body["weeks"] == sorted(body["weeks"])
    assert sum(body["overall"]["counts"]) == 3 and len(body["overall"]["averages"]) == len(body["weeks"])
    berlin = next(s for s in body["series"] if s["name"] == "Berlin")
    assert sum(berlin["counts"]) == 2 and 5.0 in berlin["averages"] and 4.0 in berlin["averages"]
    assert body["overall"]["averages"].count(None) == len(body["weeks"]) - sum(1 for c in body["overall"]["counts"]
                                                                               if c)
    wide = client.get("/api/feedback/summary", headers=auth()).get_json()  # 90 days by default
    assert wide["days"] == 90 and wide["count"] == 4
    assert {w["name"]: w["count"] for w in wide["warehouses"]} == {"Berlin": 3, "Venlo": 2}
    for days in ("0", "367", "-1", "a"):
        r = client.get(f"/api/feedback/summary?days={days}", headers=auth())
        assert r.status_code == 422 and error(r)["field"] == "days"


def test_an_order_no_warehouse_shipped_counts_under_no_warehouse(client, world):
    from integration.models import Order

    order = Order(shop_id=world.shop.id, external_id="gid://shopify/Order/9", name="#9", currency="EUR")
    db.session.add(order)
    db.session.commit()
    rate(order, 3, "merchant shipped it")
    body = client.get("/api/feedback/summary?days=7", headers=auth()).get_json()
    assert {w["id"]: w["count"] for w in body["warehouses"]}[None] == 1
    assert client.get("/api/feedback?limit=1", headers=auth()).get_json()["items"][0]["warehouses"] == []


def test_another_shop_sees_none_of_these_ratings(client, world):
    make_shop(OTHER)
    assert client.get("/api/feedback", headers=auth(OTHER)).get_json()["items"] == []
    summary = client.get("/api/feedback/summary", headers=auth(OTHER)).get_json()
    assert summary["count"] == 0 and summary["warehouses"] == [] and summary["average"] is None
    assert client.get(f"/api/feedback?warehouse={world.de.id}", headers=auth(OTHER)).status_code == 404
    assert client.get("/api/feedback").status_code == 401
