"""The feedback figures against hand counts on seeded data: average per dimension and NPS (overall,
per warehouse, per week) and the promise-kept rate per warehouse x carrier and week, through the
real shipment and tracking flows; the admin API that serves them; two shops."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from integration.domain.warehousing import Line, Outbound, OutboundStatus, Package, TrackingEvent, TrackingStatus
from integration.extensions import db
from integration.feedback import promises, scorecard
from integration.models import DeliveryPromise, Order, OrderFeedback, OutboundOrder
from integration.models.base import utcnow
from integration.orders.shipments import record_outbound_state, record_tracking
from tests.helpers_warehouse import make_account, make_order, make_warehouse
from tests.test_loyalty_support import auth, loyalty_app, make_shop  # noqa: F401 - fixture

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # a Monday
OTHER = "beta.myshopify.com"


def answer(order: Order, at: datetime, rating: int, **dims) -> None:
    db.session.add(OrderFeedback(shop_id=order.shop_id, order_id=order.id, email=order.email, rating=rating,
                                 created_at=at, updated_at=at, **dims))
    db.session.commit()


def ship_from(order: Order, warehouse, status: str = "shipped") -> None:
    db.session.add(OutboundOrder(shop_id=order.shop_id, order_id=order.id, warehouse_id=warehouse.id,
                                 reference=f"NS{order.id}W{warehouse.id}", status=status))
    db.session.commit()


@pytest.fixture
def answered(loyalty_app):  # noqa: F811
    shop = make_shop()
    account = make_account(shop)
    berlin = make_warehouse(shop, account, "DEWH", "DE", name="Berlin")
    venlo = make_warehouse(shop, account, "NLWH", "NL", name="Venlo")
    o1, o2, o3, o4, o5 = (make_order(shop, f"o-{i}", [("MUG", 1)]) for i in range(1, 6))
    ship_from(o1, berlin)
    ship_from(o2, venlo)
    ship_from(o3, berlin)
    ship_from(o3, venlo)  # split: counts for both
    ship_from(o4, berlin)
    ship_from(o4, venlo, status="cancelled")  # Venlo never shipped it
    # o5: fulfilled by the merchant, no warehouse
    answer(o1, datetime(2026, 11, 28, 9, tzinfo=UTC), 5, delivery_speed=5, packaging=4, product_quality=5, nps=10)
    answer(o2, datetime(2026, 11, 30, 8, tzinfo=UTC), 2, delivery_speed=1, packaging=3, after_sales=2, nps=3)
    answer(o3, datetime(2026, 11, 20, 9, tzinfo=UTC), 4, delivery_speed=4, product_quality=3, after_sales=4, nps=8)
    answer(o4, datetime(2026, 10, 1, 9, tzinfo=UTC), 1, delivery_speed=2, nps=6)
    answer(o5, datetime(2026, 11, 24, 9, tzinfo=UTC), 3, nps=9)
    other = make_shop(OTHER)
    answer(make_order(other, "o-x", [("MUG", 1)]), datetime(2026, 11, 29, tzinfo=UTC), 1, nps=0)
    return SimpleNamespace(shop=shop, berlin=berlin, venlo=venlo)


def test_averages_and_nps_overall_per_warehouse_and_week(answered):
    card = scorecard.scorecard(answered.shop.id, 30, now=NOW)
    overall = card["overall"]
    assert overall["answers"] == 4  # o1, o2, o3, o5: o4 is older, the other shop's is not ours
    assert overall["averages"] == {"rating": 3.5, "delivery_speed": 3.33, "packaging": 3.5, "product_quality": 4.0,
                                   "after_sales": 3.0}
    assert overall["counts"] == {"rating": 4, "delivery_speed": 3, "packaging": 2, "product_quality": 2,
                                 "after_sales": 2}
    # promoters 10, 9; passive 8; detractor 3: (2 - 1) / 4
    assert overall["nps"] == {"score": 25.0, "answers": 4, "promoters": 2, "detractors": 1, "passives": 1}
    by_name = {w["name"]: w for w in card["warehouses"]}
    assert set(by_name) == {"Berlin", "Venlo", None}
    assert by_name["Berlin"]["answers"] == 2 and by_name["Berlin"]["averages"]["rating"] == 4.5
    assert by_name["Berlin"]["averages"]["delivery_speed"] == 4.5 and by_name["Berlin"]["nps"]["score"] == 50.0
    assert by_name["Venlo"]["averages"] == {"rating": 3.0, "delivery_speed": 2.5, "packaging": 3.0,
                                           "product_quality": 3.0, "after_sales": 3.0}
    assert by_name["Venlo"]["nps"]["score"] == -50.0
    assert by_name[None]["answers"] == 1 and by_name[None]["nps"]["score"] == 100.0
    assert by_name[None]["averages"]["delivery_speed"] is None
    assert card["weeks"][0] == "2026-10-26" and card["weeks"][-1] == "2026-11-30" and len(card["weeks"]) == 6
    week = dict(zip(card["weeks"], card["overall_weeks"], strict=True))
    assert week["2026-11-23"]["answers"] == 2 and week["2026-11-23"]["averages"]["rating"] == 4.0  # o1, o5
    assert week["2026-11-23"]["nps"]["score"] == 100.0
    assert week["2026-11-30"]["nps"]["score"] == -100.0 and week["2026-11-16"]["answers"] == 1
    assert week["2026-11-09"] == {"answers": 0, "averages": dict.fromkeys(overall["averages"]),
                                  "counts": dict.fromkeys(overall["counts"], 0),
                                  "nps": {"score": None, "answers": 0, "promoters": 0, "detractors": 0,
                                          "passives": 0}}
    berlin_weeks = dict(zip(card["weeks"], by_name["Berlin"]["weeks"], strict=True))
    assert [berlin_weeks[w]["answers"] for w in ("2026-11-16", "2026-11-23", "2026-11-30")] == [1, 1, 0]

    wide = scorecard.scorecard(answered.shop.id, 90, now=NOW)  # o4 too
    assert wide["overall"]["answers"] == 5 and wide["overall"]["averages"]["rating"] == 3.0
    assert wide["overall"]["nps"]["score"] == 0.0  # promoters 10, 9; detractors 3, 6; of 5
    by_name = {w["name"]: w for w in wide["warehouses"]}
    assert by_name["Berlin"]["answers"] == 3 and by_name["Berlin"]["nps"]["score"] == 0.0
    assert by_name["Venlo"]["answers"] == 2  # not o4: its Venlo part was cancelled


def test_the_scores_api_is_the_shops_own(client, answered):
    recent = utcnow() - timedelta(days=1)
    db.session.execute(OrderFeedback.__table__.update().values(created_at=recent))
    db.session.commit()
    r = client.get("/api/feedback/scores?days=7", headers=auth())
    assert r.status_code == 200
    body = r.get_json()
    assert body["overall"]["answers"] == 5 and body["overall"]["nps"]["score"] == 0.0
    assert client.get("/api/feedback/scores", headers=auth(OTHER)).get_json()["overall"]["nps"]["score"] == -100.0
    for days in ("0", "367", "x"):
        assert client.get(f"/api/feedback/scores?days={days}", headers=auth()).status_code == 422
    assert client.get("/api/feedback/scores").status_code == 401
    items = client.get("/api/feedback?limit=100", headers=auth()).get_json()["items"]
    first = next(i for i in items if i["nps"] == 10)
    assert (first["delivery_speed"], first["packaging"], first["product_quality"], first["after_sales"]) == (
        5, 4, 5, None)


# -- promise kept -----------------------------------------------------------------------------------


def parcel(shop, warehouse, country: str, carrier: str, shipped: datetime, n: list[int]) -> int:
    """An order shipped through the real flow (record_outbound_state): its shipment id."""
    n[0] += 1
    order = make_order(shop, f"p-{shop.id}-{n[0]}", [("MUG", 1)], country=country)
    outbound = OutboundOrder(shop_id=shop.id, order_id=order.id, warehouse_id=warehouse.id,
                             reference=f"P{order.id}", status="pushed")
    db.session.add(outbound)
    db.session.commit()
    result = Outbound(reference=outbound.reference, external_id=f"X{order.id}", status=OutboundStatus.SHIPPED,
                      packages=(Package(tracking_number=f"T{order.id}", carrier=carrier, lines=(Line("MUG", 1),),
                                        shipped_at=shipped),))
    [shipment_id] = record_outbound_state(outbound.id, result)
    assert record_outbound_state(outbound.id, result) == []  # the same report again: no second parcel
    return shipment_id


def deliver(shipment_id: int, at: datetime) -> None:
    record_tracking(shipment_id, [TrackingEvent(f"T{shipment_id}", TrackingStatus.DELIVERED, at)])


@pytest.fixture
def promised(loyalty_app):  # noqa: F811
    shop = make_shop()
    account = make_account(shop)
    berlin = make_warehouse(shop, account, "DEWH", "DE", name="Berlin")  # DE 1-3, elsewhere 4-8 business days
    venlo = make_warehouse(shop, account, "NLWH", "NL", name="Venlo", transit_days={"NL": [1, 3]})
    n = [0]
    mon = datetime(2026, 11, 2, 10, tzinfo=UTC)
    a = parcel(shop, berlin, "DE", "DHL", mon, n)  # promised Thu 5 Nov
    deliver(a, datetime(2026, 11, 5, 20, tzinfo=UTC))  # 21:00 in Berlin: kept
    b = parcel(shop, berlin, "DE", "DHL", mon, n)
    deliver(b, datetime(2026, 11, 5, 23, 30, tzinfo=UTC))  # 00:30 on the 6th in Berlin: missed
    c = parcel(shop, berlin, "FR", "UPS", mon, n)  # "*": promised Thu 12 Nov
    deliver(c, datetime(2026, 11, 10, 9, tzinfo=UTC))  # kept
    d = parcel(shop, venlo, "NL", "DHL", datetime(2026, 11, 23, 10, tzinfo=UTC), n)  # promised Thu 26: never came
    e = parcel(shop, venlo, "NL", "DHL", datetime(2026, 11, 27, 10, tzinfo=UTC), n)  # promised Wed 2 Dec: not due
    f = parcel(shop, venlo, "NL", "DHL", datetime(2026, 11, 25, 10, tzinfo=UTC), n)  # promised Mon 30: today
    g = parcel(shop, venlo, "DE", "DHL", mon, n)  # Venlo gave no transit time to DE: nothing promised
    deliver(g, datetime(2026, 11, 3, tzinfo=UTC))
    other = make_shop(OTHER)
    x = parcel(other, make_warehouse(other, make_account(other), "DEWH", "DE"), "DE", "DHL", mon, n)
    deliver(x, datetime(2026, 11, 20, tzinfo=UTC))
    return SimpleNamespace(shop=shop, berlin=berlin, venlo=venlo, ids=(a, b, c, d, e, f, g))


def test_the_promise_is_fixed_when_the_parcel_ships(promised):
    a, b, c, d, e, f, g = promised.ids
    rows = {p.shipment_id: p for p in db.session.query(DeliveryPromise).all()}
    assert g not in rows and len(rows) == 7  # six of ours, one of the other shop
    assert (rows[a].promised_by, rows[a].delivered_on, rows[a].carrier) == (date(2026, 11, 5), date(2026, 11, 5),
                                                                            "DHL")
    assert rows[b].delivered_on == date(2026, 11, 6) and rows[c].promised_by == date(2026, 11, 12)
    assert rows[d].delivered_on is None and rows[e].promised_by == date(2026, 12, 2)
    assert (rows[f].promised_by, rows[f].delivered_on) == (date(2026, 11, 30), None)
    # A later carrier event or a second "delivered" changes nothing; nor does new transit time.
    deliver(a, datetime(2026, 11, 9, tzinfo=UTC))
    promised.berlin.transit_days = {"DE": [5, 9]}
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(DeliveryPromise, rows[a].id)
    assert (again.promised_by, again.delivered_on) == (date(2026, 11, 5), date(2026, 11, 5))


def test_promise_kept_rate_per_warehouse_carrier_and_week(promised):
    rate = promises.kept_rate(promised.shop.id, 60, today=date(2026, 11, 30))
    assert rate["overall"] == {"due": 4, "kept": 2, "rate": 50.0}  # a, b, c, d due; a and c kept
    groups = {(g["warehouse"], g["carrier"]): (g["due"], g["kept"], g["rate"]) for g in rate["groups"]}
    assert groups == {("Berlin", "DHL"): (2, 1, 50.0), ("Berlin", "UPS"): (1, 1, 100.0),
                      ("Venlo", "DHL"): (1, 0, 0.0)}  # f is due today: not yet; e later
    week = dict(zip(rate["weeks"], rate["overall_weeks"], strict=True))
    assert week["2026-11-02"] == {"due": 2, "kept": 1, "rate": 50.0}
    assert week["2026-11-09"] == {"due": 1, "kept": 1, "rate": 100.0}
    assert week["2026-11-23"] == {"due": 1, "kept": 0, "rate": 0.0}
    assert week["2026-11-30"] == {"due": 0, "kept": 0, "rate": None}
    venlo = next(g for g in rate["groups"] if g["warehouse"] == "Venlo")
    assert [k["due"] for k in venlo["weeks"]] == [1 if w == "2026-11-23" else 0 for w in rate["weeks"]]
    later = promises.kept_rate(promised.shop.id, 60, today=date(2026, 12, 3))  # e and f are now overdue
    assert later["overall"] == {"due": 6, "kept": 2, "rate": 33.3}


def test_the_promises_api_is_the_shops_own(client, promised):
    r = client.get("/api/feedback/promises?days=366", headers=auth())
    assert r.status_code == 200
    body = r.get_json()
    assert body["overall"]["kept"] == 2 and body["overall"]["due"] >= 4
    assert {g["warehouse"] for g in body["groups"]} == {"Berlin", "Venlo"}
    theirs = client.get("/api/feedback/promises?days=366", headers=auth(OTHER)).get_json()
    assert theirs["overall"] == {"due": 1, "kept": 0, "rate": 0.0} and len(theirs["groups"]) == 1
    assert client.get("/api/feedback/promises?days=0", headers=auth()).status_code == 422
