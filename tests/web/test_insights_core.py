"""Insights core: demand history with stock-out (censored) days, dirty marking, the computation
run twice, restock suggestions superseded (never duplicated), the test-sale gate, and the
planning API (promotions, lead times) kept within one shop."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import numpy as np
import pytest
from sqlalchemy import select

from integration import signals
from integration.extensions import db
from integration.insights import demand, dirty
from integration.insights.compute import compute_insights, context
from integration.insights.histories import read_histories
from integration.models import (
    Allocation,
    DemandDay,
    InsightSeries,
    Order,
    OrderLine,
    Promotion,
    RestockSuggestion,
    StockDaily,
    StockLevel,
    TestSaleGate,
    Warehouse,
    WarehouseAccount,
)
from tests.test_loyalty_support import auth, make_shop

OTHER = "other.myshopify.com"



def today() -> date:
    """Read per use, not at import: a suite started before midnight UTC reaches these tests after it."""
    return demand.utc_today()


def ago(days: int) -> date:
    return today() - timedelta(days=days)


def seed(domain: str = "test-shop.myshopify.com"):
    shop = make_shop(domain) if domain != "test-shop.myshopify.com" else make_shop()
    account = WarehouseAccount(shop_id=shop.id, provider="winit", name="W", credentials=json.dumps({"k": "v"}))
    db.session.add(account)
    db.session.flush()
    de = Warehouse(shop_id=shop.id, account_id=account.id, code=f"DE{shop.id}", name="Berlin", country_code="DE")
    fr = Warehouse(shop_id=shop.id, account_id=account.id, code=f"FR{shop.id}", name="Lyon", country_code="FR")
    db.session.add_all([de, fr])
    db.session.flush()
    db.session.add_all([StockLevel(shop_id=shop.id, warehouse_id=de.id, sku="MUG", on_hand=0, reserved=0),
                        StockLevel(shop_id=shop.id, warehouse_id=fr.id, sku="MUG", on_hand=500, reserved=0)])
    db.session.commit()
    return shop, de, fr


_orders = iter(range(1, 10**9))


def sell(shop_id: int, warehouse_id: int, days_ago: int, quantity: int, status: str = "shipped"):
    n = next(_orders)
    order = Order(shop_id=shop_id, external_id=f"o-{shop_id}-{n}", name=f"#{n}",
                  external_created_at=datetime.combine(ago(days_ago), time(12), UTC))
    db.session.add(order)
    db.session.flush()
    line = OrderLine(order_id=order.id, external_id=f"l-{n}", sku="MUG", quantity=quantity)
    db.session.add(line)
    db.session.flush()
    db.session.add(Allocation(shop_id=shop_id, order_id=order.id, order_line_id=line.id, warehouse_id=warehouse_id,
                              sku="MUG", quantity=quantity, status=status, route_reason="local"))
    db.session.commit()
    return order.id


def rows(model, *columns):
    db.session.expire_all()
    return sorted(tuple(getattr(r, c) for c in columns) for r in db.session.execute(select(model)).scalars())


def daily_sales(shop, de, days: int = 30, per_day: int = 4) -> None:
    for d in range(1, days + 1):
        sell(shop.id, de.id, d, per_day)


# -- demand history ---------------------------------------------------------------------------


def test_history_with_a_censored_stock_out_day(app):
    shop, de, _ = seed()
    for days_ago, on_hand in [(4, 6), (2, 0)]:  # closed at 6, then at 0 two days ago (sold out that day)
        db.session.add(StockDaily(shop_id=shop.id, warehouse_id=de.id, sku="MUG", day=ago(days_ago), on_hand=on_hand,
                                  reserved=0, inbound=0))
    db.session.commit()
    sell(shop.id, de.id, 3, 2)
    sell(shop.id, de.id, 2, 4)
    sell(shop.id, de.id, 2, 1, status="cancelled")

    demand.rebuild(shop.id, ago(10), today(), today=today())
    db.session.commit()
    first = rows(DemandDay, "id", "warehouse_id", "day", "units", "cancelled", "censored", "promo")
    by_day = {r[2]: r[3:] for r in first}
    assert by_day[ago(3)] == (2, 0, False, False)
    assert by_day[ago(2)] == (5, 1, False, False)  # opened with stock: sales seen, not censored
    assert by_day[ago(1)] == (0, 0, True, False)  # nothing all day: demand unknown, not zero
    assert by_day[today()] == (0, 0, True, False)  # the live ledger still says 0
    assert ago(4) not in by_day and ago(5) not in by_day  # nothing sold, stock there: no row

    demand.rebuild(shop.id, ago(10), today(), today=today())  # a recompute gives the same rows
    db.session.commit()
    assert rows(DemandDay, "id", "warehouse_id", "day", "units", "cancelled", "censored", "promo") == first

    # As the computation reads it: from the series' start, censored days unknown (NaN), not 0.
    series = SimpleNamespace(warehouse_id=de.id, sku="MUG", created_at=datetime.combine(ago(5), time(), UTC))
    found = read_histories(shop.id, today(), [series], ranged=False)
    days = found.policy_days()[0]
    assert np.isnan(days[:-5]).all() and days[-3:-1].tolist() == [2.0, 4.0] and np.isnan(days[-1])
    assert found.sensing_days(3)[0][:2].tolist() == [2.0, 4.0] and found.rows == 3


def test_promotion_days_are_marked(app):
    shop, _, fr = seed()
    db.session.add(Promotion(shop_id=shop.id, name="Sale", starts_on=ago(3), ends_on=ago(2), uplift_pct=30,
                             sku="MUG", warehouse_id=fr.id))
    db.session.commit()
    demand.rebuild(shop.id, ago(5), ago(1), today=today())
    marked = {(w, d) for (w, d, promo) in rows(DemandDay, "warehouse_id", "day", "promo") if promo}
    assert marked == {(fr.id, ago(3)), (fr.id, ago(2))}


# -- dirty marking and the computation ----------------------------------------------------------


def test_incremental_marks_only_changed_series(app):
    shop, de, fr = seed()
    daily_sales(shop, de, 10)
    assert compute_insights(shop.id, False, today=today()).series == 2
    assert not any(d for (d,) in rows(InsightSeries, "dirty"))
    assert compute_insights(shop.id, True, today=today()).series == 0  # nothing changed

    order_id = sell(shop.id, fr.id, 0, 3)
    signals.order_changed(order_id)  # wiring: the order's series is marked in its transaction
    db.session.commit()
    assert {(w, d) for (w, d) in rows(InsightSeries, "warehouse_id", "dirty")} == {(de.id, False), (fr.id, True)}
    stats = compute_insights(shop.id, True, today=today())
    assert stats.series == 1
    assert not any(d for (d,) in rows(InsightSeries, "dirty"))

    signals.warehouse_stock_changed(shop.id, ["MUG"])  # after-commit: Redis only
    assert not any(d for (d,) in rows(InsightSeries, "dirty"))
    assert dirty.flush(shop.id) == 1
    assert all(d for (d,) in rows(InsightSeries, "dirty"))


def test_recompute_twice_gives_the_same_rows(app):
    shop, de, _ = seed()
    daily_sales(shop, de, 20)
    compute_insights(shop.id, False, today=today())
    snapshot = (rows(DemandDay, "id", "warehouse_id", "day", "units", "cancelled", "censored"),
                rows(InsightSeries, "id", "forecast_daily", "forecast_sd", "available", "days_of_cover", "dirty"),
                rows(RestockSuggestion, "id", "warehouse_id", "quantity", "order_up_to", "status"))
    assert len(snapshot[2]) == 1 and snapshot[2][0][1] == de.id  # DE is out: restock it; FR holds 500
    compute_insights(shop.id, False, today=today())
    assert (rows(DemandDay, "id", "warehouse_id", "day", "units", "cancelled", "censored"),
            rows(InsightSeries, "id", "forecast_daily", "forecast_sd", "available", "days_of_cover", "dirty"),
            rows(RestockSuggestion, "id", "warehouse_id", "quantity", "order_up_to", "status")) == snapshot


def test_suggestions_are_superseded_not_duplicated(app):
    shop, de, _ = seed()
    daily_sales(shop, de, 20)
    compute_insights(shop.id, False, today=today())
    [(first_id, first_qty, _)] = rows(RestockSuggestion, "id", "quantity", "status")
    level = db.session.execute(select(StockLevel).where(StockLevel.warehouse_id == de.id)).scalar_one()
    level.on_hand = 10  # some stock came in: order less
    db.session.commit()
    dirty.mark_skus(shop.id, ["MUG"])
    db.session.commit()
    compute_insights(shop.id, True, today=today())
    found = rows(RestockSuggestion, "id", "quantity", "status")
    assert [s for (_, _, s) in found].count("open") == 1
    assert (first_id, first_qty, "superseded") in found
    [(open_id, open_qty, _)] = [r for r in found if r[2] == "open"]
    assert open_qty == first_qty - 10

    # An approved suggestion is the merchant's: left alone, and its units count as ordered.
    db.session.get(RestockSuggestion, open_id).status = "approved"
    db.session.commit()
    compute_insights(shop.id, False, today=today())
    after = rows(RestockSuggestion, "id", "quantity", "status")
    assert (open_id, open_qty, "approved") in after
    assert [s for (_, _, s) in after].count("open") == 0


def test_test_sale_gate_stop_blocks_suggestions(app):
    shop, de, _ = seed()
    daily_sales(shop, de, 20)
    compute_insights(shop.id, False, today=today())
    assert [s for (s,) in rows(RestockSuggestion, "status")] == ["open"]
    db.session.add(TestSaleGate(shop_id=shop.id, sku="MUG", market="DE", batch_size=20, started_on=ago(30),
                                verdict="stop"))
    db.session.add(TestSaleGate(shop_id=shop.id, sku="MUG", market="FR", batch_size=20, started_on=ago(30),
                                verdict="stop"))  # another market: not DE's business either way
    db.session.commit()
    compute_insights(shop.id, False, today=today())
    assert [s for (s,) in rows(RestockSuggestion, "status")] == ["superseded"]


# -- the API, two shops -----------------------------------------------------------------------


@pytest.fixture
def two_shops(app):
    return seed(), seed(OTHER)


def test_promotions_api_stays_within_the_shop(client, two_shops):
    (_, de, _), (_, other_de, _) = two_shops
    body = {"name": "Summer", "starts_on": ago(-5).isoformat(), "ends_on": ago(-12).isoformat(), "uplift_pct": 40,
            "sku": "MUG", "warehouse_id": de.id}
    created = client.post("/api/insights/promotions", json=body, headers=auth())
    assert created.status_code == 201, created.get_json()
    promo_id = created.get_json()["id"]
    assert client.post("/api/insights/promotions", json={**body, "warehouse_id": other_de.id},
                       headers=auth()).status_code == 404
    assert client.get("/api/insights/promotions", headers=auth(OTHER)).get_json()["items"] == []
    listed = client.get("/api/insights/promotions?limit=1", headers=auth()).get_json()
    assert [p["id"] for p in listed["items"]] == [promo_id] and listed["has_next_page"] is False
    assert client.delete(f"/api/insights/promotions/{promo_id}", headers=auth(OTHER)).status_code == 404
    for bad, field in [({"starts_on": "2026-13-01"}, "starts_on"), ({"ends_on": ago(-1).isoformat()}, "ends_on"),
                       ({"uplift_pct": 501}, "uplift_pct"), ({"uplift_pct": True}, "uplift_pct"),
                       ({"name": ""}, "name"), ({"warehouse_id": "x"}, "warehouse_id"), ({"extra": 1}, "extra")]:
        response = client.post("/api/insights/promotions", json={**body, **bad}, headers=auth())
        assert response.status_code == 422, (bad, response.get_json())
        assert response.get_json()["error"]["field"] == field
    assert client.get("/api/insights/promotions?page=0", headers=auth()).status_code == 400
    assert client.delete(f"/api/insights/promotions/{promo_id}", headers=auth()).status_code == 204
    assert client.get("/api/insights/promotions", headers=auth()).get_json()["items"] == []


def test_lead_times_api_stays_within_the_shop(client, two_shops):
    (_, de, fr), (_, other_de, _) = two_shops
    listed = client.get("/api/insights/lead-times", headers=auth()).get_json()["warehouses"]
    assert [(w["warehouse_id"], w["total_days"], w["is_default"]) for w in listed] == [(de.id, 33, True),
                                                                                     (fr.id, 33, True)]
    legs = {"production_days": 10, "line_haul_days": 30, "customs_days": 4, "receiving_days": 1}
    put = client.put(f"/api/insights/lead-times/{de.id}", headers=auth(),
                     json={"default": legs, "overrides": [{"sku": "MUG", **legs, "production_days": 0}]})
    assert put.status_code == 200, put.get_json()
    mine = {w["warehouse_id"]: w for w in put.get_json()["warehouses"]}
    assert mine[de.id]["total_days"] == 45 and mine[de.id]["overrides"][0]["total_days"] == 35
    assert client.put(f"/api/insights/lead-times/{other_de.id}", json={"default": legs},
                      headers=auth()).status_code == 404
    other_view = client.get("/api/insights/lead-times", headers=auth(OTHER)).get_json()["warehouses"]
    assert all(w["is_default"] and not w["overrides"] for w in other_view)
    for bad, field in [({"default": {**legs, "customs_days": 366}}, "default.customs_days"),
                       ({"default": {**legs, "customs_days": -1}}, "default.customs_days"),
                       ({"overrides": [{"sku": "A", **legs}, {"sku": "A", **legs}]}, "overrides[1].sku"),
                       ({"overrides": "MUG"}, "overrides")]:
        response = client.put(f"/api/insights/lead-times/{de.id}", json=bad, headers=auth())
        assert response.status_code == 422 and response.get_json()["error"]["field"] == field, bad


def test_the_shops_level_index_pools_its_warehouses_without_promotions_or_other_shops(app):
    shop, de, fr = seed()
    other, other_de, _ = seed("other-shop.myshopify.com")

    def day(shop_id, warehouse_id, days_ago, units, cancelled=0, promo=False):
        return DemandDay(shop_id=shop_id, warehouse_id=warehouse_id, sku="MUG", day=ago(days_ago), units=units,
                         cancelled=cancelled, censored=False, promo=promo)

    rows_ = []
    for d in range(1, 121):
        recent = d <= 24  # the last four weeks: pooled demand doubles, 4 -> 8 a day
        rows_ += [day(shop.id, de.id, d, 6 if recent else 3), day(shop.id, fr.id, d, 2 if recent else 1),
                  day(other.id, other_de.id, d, 1000 if recent else 1)]
    rows_ += [DemandDay(shop_id=shop.id, warehouse_id=fr.id, sku="CUP", day=ago(3), units=900, cancelled=0,
                        censored=False, promo=True),  # a promotion: its uplift is declared, not a season
              DemandDay(shop_id=shop.id, warehouse_id=de.id, sku="CUP", day=ago(2), units=1, cancelled=5,
                        censored=False, promo=False)]  # more returned than sold: counts as no demand
    db.session.add_all(rows_)
    db.session.commit()
    assert context(shop.id, today()).level_index == pytest.approx(8 / ((96 * 4 + 24 * 8) / 120))
    fresh, _, _ = seed("fresh-shop.myshopify.com")
    assert context(fresh.id, today()).level_index is None  # no demand yet: no season
