"""Test-sale gates: verdicts from sessions and orders (Shopify's analytics, through the emulator's
ShopifyQL) and ratings (OrderFeedback); the daily job; the admin API, two shops."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from integration import create_app
from integration.extensions import db
from integration.insights import gates
from integration.models import Order, OrderFeedback, OrderLine, Shop, TestSaleGate, Variant
from integration.models.base import utcnow
from tests.conftest import make_config
from tests.shopify_fixtures import SHOPIFY_SHOP
from tests.test_loyalty_support import auth

OTHER = "beta.myshopify.com"


def today():
    """Read per use, not at import: a suite started before midnight UTC reaches these tests after it."""
    return utcnow().date()


def start():
    return today() - timedelta(days=7)


@pytest.fixture
def world(tmp_path, database_url, redis_url, redis_conn, shopify_emulator):
    emu = shopify_emulator
    berlin = emu.add_location(SHOPIFY_SHOP, "Berlin", "DE", city="Berlin")
    tent_specs = [{"sku": "TENT-1", "title": "Green", "price": "99.00", "quantities": {berlin: 10_000}}]
    mug_specs = [{"sku": "MUG", "title": "White", "price": "9.00", "quantities": {berlin: 10_000}}]
    tent = emu.add_product(SHOPIFY_SHOP, "Tent", tent_specs)
    mug = emu.add_product(SHOPIFY_SHOP, "Mug", mug_specs)
    token = emu.grant_token(SHOPIFY_SHOP, emu.oauth.default_scopes)
    app = create_app(make_config(tmp_path, database_url, redis_url, SHOPIFY_ENDPOINT=emu.url))
    app.config["TESTING"] = True
    with app.app_context():
        shop = Shop(domain=SHOPIFY_SHOP, access_token=token, status="installed", currency="EUR")
        other = Shop(domain=OTHER, access_token="shpat_other", status="installed", currency="EUR")
        db.session.add_all([shop, other])
        db.session.flush()
        for specs, product in ((tent_specs, tent), (mug_specs, mug)):
            db.session.add(Variant(shop_id=shop.id, shopify_id=specs[0]["id"], product_shopify_id=product,
                                   sku=specs[0]["sku"], title=specs[0]["title"]))
        db.session.add(Variant(shop_id=other.id, shopify_id="gid://shopify/ProductVariant/9", sku="BETA-ONLY",
                               product_shopify_id="gid://shopify/Product/9", title="Beta"))
        db.session.commit()
        yield SimpleNamespace(app=app, client=app.test_client(), emu=emu, shop=shop, other=other,
                              tent=tent, mug=mug, berlin=berlin)
        db.session.remove()
        db.engine.dispose()


def sell(w, sku: str, country: str, count: int) -> None:
    """``count`` orders at Shopify (what ShopifyQL's sales counts)."""
    for i in range(count):
        w.emu.add_order(SHOPIFY_SHOP, line_items=[{"sku": sku, "quantity": 1, "location_id": w.berlin}],
                        shipping_address={"firstName": "A", "lastName": f"B{i}", "address1": "Str. 1",
                                          "city": "X", "zip": "10115", "countryCodeV2": country},
                        email=f"b{i}@example.com")


def rate(w, sku: str, country: str, ratings: list[int], *, cancelled: int = 0) -> None:
    """Local orders of ``sku`` shipped to ``country`` with these ratings (the first ``cancelled``
    of them cancelled)."""
    for i, rating in enumerate(ratings):
        order = Order(shop_id=w.shop.id, external_id=f"gid://shopify/Order/{sku}{country}{i}", name=f"#{i}",
                      shipping_country=country, currency="EUR", total_price=Decimal("10"),
                      external_created_at=utcnow() - timedelta(days=1),
                      cancelled_at=utcnow() if i < cancelled else None)
        db.session.add(order)
        db.session.flush()
        db.session.add(OrderLine(order_id=order.id, external_id=f"gid://shopify/LineItem/{order.id}", sku=sku,
                                 quantity=1, name=sku))
        db.session.add(OrderFeedback(shop_id=w.shop.id, order_id=order.id, rating=rating))
    db.session.commit()


def gate(w, sku="TENT-1", market="DE") -> TestSaleGate:
    row, _ = gates.start_gate(w.shop.id, sku, market, 50, start())
    db.session.commit()
    return row


def evaluate(w, row: TestSaleGate) -> TestSaleGate:
    from integration.shops.shopify_client import store_for

    gates.evaluate([row], store_for(w.shop), today=today())
    db.session.commit()
    return row


# -- verdicts ----------------------------------------------------------------------------------------

def test_enough_sessions_good_conversion_and_reviews_is_proven(world):
    world.emu.add_product_sessions(SHOPIFY_SHOP, world.tent, "DE", 250)
    world.emu.add_product_sessions(SHOPIFY_SHOP, world.tent, "FR", 5000)  # another market
    sell(world, "TENT-1", "DE", 6)
    sell(world, "MUG", "DE", 3)  # another product
    rate(world, "TENT-1", "DE", [5, 4, 5, 5, 4, 5, 5, 3, 4, 5, 5, 4, 5, 5, 4, 5, 5, 4, 5, 1], cancelled=2)
    row = evaluate(world, gate(world))
    assert (row.sessions, row.orders, row.verdict) == (250, 6, gates.PROVEN)
    assert row.conversion == pytest.approx(0.024)
    assert row.bad_review_rate == pytest.approx(0.05)  # 1 of 20: at the threshold still passes
    assert row.return_rate == pytest.approx(0.1)
    assert row.evaluated_at is not None


def test_too_few_sessions_keeps_testing(world):
    world.emu.add_product_sessions(SHOPIFY_SHOP, world.tent, "DE", 150)
    sell(world, "TENT-1", "DE", 10)
    row = evaluate(world, gate(world))
    assert (row.sessions, row.orders, row.verdict) == (150, 10, gates.TESTING)


def test_low_conversion_stops(world):
    world.emu.add_product_sessions(SHOPIFY_SHOP, world.tent, "DE", 300)
    sell(world, "TENT-1", "DE", 2)
    row = evaluate(world, gate(world))
    assert row.verdict == gates.STOP and row.conversion == pytest.approx(2 / 300)


def test_bad_reviews_stop_a_converting_product(world):
    world.emu.add_product_sessions(SHOPIFY_SHOP, world.tent, "DE", 250)
    sell(world, "TENT-1", "DE", 8)
    rate(world, "TENT-1", "DE", [5, 5, 5, 5, 5, 5, 5, 5, 2, 1])
    rate(world, "TENT-1", "FR", [1, 1, 1])  # another market's complaints do not count
    row = evaluate(world, gate(world))
    assert row.bad_review_rate == pytest.approx(0.2) and row.verdict == gates.STOP


def test_sessions_before_the_start_do_not_count(world):
    world.emu.add_product_sessions(SHOPIFY_SHOP, world.tent, "DE", 5000, day=start() - timedelta(days=1))
    world.emu.add_product_sessions(SHOPIFY_SHOP, world.tent, "DE", 40, day=start())
    row = evaluate(world, gate(world))
    assert (row.sessions, row.verdict) == (40, gates.TESTING)


def test_the_rows_the_restock_suggestions_read(world):
    world.emu.add_product_sessions(SHOPIFY_SHOP, world.tent, "DE", 300)
    evaluate(world, gate(world))
    gate(world, "MUG", "DE")
    assert gates.stopped(world.shop.id) == {("TENT-1", "DE")}
    rows = db.session.execute(select(TestSaleGate.sku, TestSaleGate.market, TestSaleGate.verdict)
                              .order_by(TestSaleGate.sku)).all()
    assert [tuple(r) for r in rows] == [("MUG", "DE", "testing"), ("TENT-1", "DE", "stop")]


def test_the_daily_job_evaluates_open_gates_once_each_however_often_it_runs(world):
    from jobs import gates as gate_jobs

    world.emu.add_product_sessions(SHOPIFY_SHOP, world.tent, "DE", 220)
    sell(world, "TENT-1", "DE", 5)
    tent_gate = gate(world)
    mug_gate = gate(world, "MUG", "DE")
    assert gate_jobs.evaluate_shop_gates(world.shop.id) == 2
    assert gate_jobs.evaluate_shop_gates(world.shop.id) == 1  # the proven one is no longer open
    db.session.expire_all()
    assert db.session.get(TestSaleGate, tent_gate.id).verdict == gates.PROVEN
    assert db.session.get(TestSaleGate, mug_gate.id).verdict == gates.TESTING
    assert gates.shops_with_open_gates() == [world.shop.id]


# -- the admin API -----------------------------------------------------------------------------------

def post(w, path: str, body, shop: str = SHOPIFY_SHOP):
    return w.client.post(f"/api/insights/gates{path}", json=body, headers=auth(shop))


def test_start_validates_every_field(world):
    ok = {"sku": "TENT-1", "market": "DE", "batch_size": 50}
    for change, field in [({"sku": "BETA-ONLY"}, "sku"), ({"sku": ""}, "sku"), ({"sku": 5}, "sku"),
                          ({"market": "de"}, "market"), ({"market": "XX"}, "market"), ({"market": "EU"}, "market"),
                          ({"batch_size": 0}, "batch_size"), ({"batch_size": 100_001}, "batch_size"),
                          ({"batch_size": "5"}, "batch_size"), ({"batch_size": True}, "batch_size"),
                          ({"batch_size": 2.5}, "batch_size"), ({"started_on": "2026-13-01"}, "started_on"),
                          ({"started_on": 20260101}, "started_on"),
                          ({"started_on": (today() - timedelta(days=400)).isoformat()}, "started_on"),
                          ({"colour": "red"}, "colour")]:
        r = post(world, "", {**ok, **change})
        assert r.status_code == 422, (change, r.data)
        assert r.get_json()["error"]["field"] == field
    assert post(world, "", ["not", "an", "object"]).status_code == 400
    assert world.client.post("/api/insights/gates", json=ok).status_code == 401
    assert db.session.execute(select(TestSaleGate)).first() is None


def test_start_then_retry_then_conflict(world):
    body = {"sku": "TENT-1", "market": "DE", "batch_size": 50, "started_on": start().isoformat()}
    first = post(world, "", body)
    assert first.status_code == 201
    created = first.get_json()["gate"]
    assert created["verdict"] == "testing" and created["batch_size"] == 50 and created["sessions"] == 0
    assert post(world, "", body).status_code == 200  # the same request again: the same gate
    r = post(world, "", {**body, "batch_size": 60})
    assert r.status_code == 409 and r.get_json()["error"]["field"] == "sku"
    # Another shop cannot start one for this shop's SKU (nor see it).
    assert post(world, "", body, shop=OTHER).status_code == 422
    assert post(world, "", {**body, "sku": "BETA-ONLY"}, shop=OTHER).status_code == 201


def test_list_is_paged_filtered_and_per_shop(world):
    for sku, market in [("TENT-1", "DE"), ("TENT-1", "FR"), ("MUG", "DE")]:
        gate(world, sku, market)
    row = db.session.execute(select(TestSaleGate).where(TestSaleGate.market == "FR")).scalar_one()
    row.verdict = gates.STOP
    db.session.commit()

    def listed(query: str, shop: str = SHOPIFY_SHOP):
        r = world.client.get(f"/api/insights/gates?{query}", headers=auth(shop))
        assert r.status_code == 200, r.data
        return r.get_json()

    page = listed("limit=2")
    assert len(page["items"]) == 2 and page["has_next_page"]
    assert len(listed("limit=2&page=2")["items"]) == 1
    assert {(i["sku"], i["market"]) for i in listed("market=DE")["items"]} == {("TENT-1", "DE"), ("MUG", "DE")}
    assert [(i["sku"], i["market"]) for i in listed("verdict=stop")["items"]] == [("TENT-1", "FR")]
    assert listed("", shop=OTHER)["items"] == []
    for bad in ("verdict=maybe", "market=de", "market=<x>", "limit=0"):
        r = world.client.get(f"/api/insights/gates?{bad}", headers=auth())
        assert r.status_code == 400, bad


def test_evaluate_now_and_another_shops_gate_is_404(world):
    world.emu.add_product_sessions(SHOPIFY_SHOP, world.tent, "DE", 400)
    sell(world, "TENT-1", "DE", 12)
    row = gate(world)
    r = post(world, f"/{row.id}/evaluate", None)
    assert r.status_code == 200, r.data
    body = r.get_json()["gate"]
    assert (body["sessions"], body["orders"], body["verdict"]) == (400, 12, "proven")
    assert body["conversion"] == pytest.approx(0.03)
    assert post(world, f"/{row.id}/evaluate", None, shop=OTHER).status_code == 404
    assert post(world, "/999999/evaluate", None).status_code == 404


def test_evaluate_without_the_reports_scope_is_a_clear_502(world):
    scopes = world.emu.oauth.default_scopes - {"read_reports"}
    shop = db.session.get(Shop, world.shop.id)
    shop.access_token = world.emu.grant_token(SHOPIFY_SHOP, scopes)
    db.session.commit()
    row = gate(world)
    r = post(world, f"/{row.id}/evaluate", None)
    assert r.status_code == 502 and "read_reports" in r.get_json()["error"]["message"]
    db.session.expire_all()
    assert db.session.get(TestSaleGate, row.id).evaluated_at is None
