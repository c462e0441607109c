"""The after-sales figures against a hand count on seeded rows (tests/aftersales_fixtures.py), on
SQLite and PostgreSQL: top return reasons per week x SKU x market, comment themes per month and
language, ratings, NPS and promise-kept per warehouse and week. Another shop's rows never count;
periods out of shape or too long are 422 naming the parameter; the returns list filters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from integration.extensions import db
from integration.models import Warehouse
from tests.aftersales_fixtures import MUG, TENT, seed_aftersales
from tests.helpers_warehouse import make_shop
from tests.test_loyalty_support import auth

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
WEEK = "2026-11-23"


@pytest.fixture
def seeded(app):
    shop = make_shop()
    other = make_shop("beta.myshopify.com")
    seeded = seed_aftersales(shop, AT)
    seed_aftersales(other, AT, prefix="B")  # the same rows again: must never add up
    return seeded


def get(client, path):
    response = client.get(path, headers=auth())
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_top_reasons_per_week_sku_and_market(client, seeded):
    data = get(client, "/api/aftersales/reasons?from=2026-10-01&to=2026-11-29")
    week = [g for g in data["groups"] if g["week"] == WEEK]
    assert [(g["sku"], g["market"], g["units"], g["returns"]) for g in week] == [
        (MUG, "DE", 7, 5), (MUG, "US", 3, 1), (TENT, "DE", 1, 1)]
    assert week[0]["reasons"] == [{"reason": "SIZE_TOO_SMALL", "units": 3, "returns": 2},
                                  {"reason": "DEFECTIVE", "units": 2, "returns": 2},
                                  {"reason": "COLOR", "units": 1, "returns": 1}]
    assert week[1]["reasons"] == [{"reason": "WRONG_ITEM", "units": 3, "returns": 1}]
    assert data["truncated"] is False and data["weeks"][-1] == WEEK
    # The old return (five weeks before) is in its own week, and only when the period holds it.
    (old,) = [g for g in data["groups"] if g["week"] != WEEK]
    assert (old["week"], old["units"], old["reasons"][0]["reason"]) == ("2026-10-19", 5, "OTHER")
    recent = get(client, "/api/aftersales/reasons?from=2026-11-01&to=2026-11-29")
    assert {g["week"] for g in recent["groups"]} == {WEEK}
    narrow = get(client, "/api/aftersales/reasons?from=2026-11-23&to=2026-11-29&market=us")
    assert [(g["sku"], g["market"]) for g in narrow["groups"]] == [(MUG, "US")]
    assert [g["sku"] for g in get(client, f"/api/aftersales/reasons?from=2026-11-23&to=2026-11-29&sku={TENT}")[
        "groups"]] == [TENT]


def test_warehouse_ratings_nps_and_promises_per_week(client, seeded):
    data = get(client, "/api/aftersales/warehouses?from=2026-11-02&to=2026-11-29")
    assert data["weeks"] == ["2026-11-02", "2026-11-09", "2026-11-16", WEEK]
    by_name = {w["name"]: w for w in data["warehouses"]}
    assert set(by_name) == {"Berlin", "LA West"}
    berlin, la = by_name["Berlin"], by_name["LA West"]
    assert (berlin["answers"], berlin["averages"]["rating"], berlin["nps"]["score"]) == (4, 3.5, 25.0)
    assert berlin["kept"] == {"due": 4, "kept": 3, "rate": 75.0}
    assert (la["averages"]["rating"], la["nps"]["score"], la["kept"]["rate"]) == (3.0, 0.0, 50.0)
    assert berlin["weeks"][-1]["nps"]["score"] == 25.0 and berlin["weeks"][-1]["kept"]["rate"] == 75.0
    assert berlin["weeks"][0]["answers"] == 0 and berlin["weeks"][0]["kept"]["rate"] is None
    assert data["overall"]["nps"]["score"] == 16.7 and data["overall"]["kept"] == {"due": 6, "kept": 4,
                                                                                  "rate": 66.7}
    # A period before the rows: nothing, not the rows that came after it.
    before = get(client, "/api/aftersales/warehouses?from=2026-10-01&to=2026-11-22")
    assert before["overall"]["answers"] == 0 and before["overall"]["kept"]["due"] == 0


def test_comment_themes_per_month_and_language(client, seeded):
    data = get(client, "/api/aftersales/themes?from=2026-10&to=2026-11")
    assert [m["month"] for m in data["months"]] == ["2026-10", "2026-11"]
    assert data["months"][0]["languages"] == {}
    november = data["months"][1]["languages"]
    assert november["de"]["comments"] == 3 and november["en"]["comments"] == 2
    themes = {t["term"].lower(): t for t in november["de"]["themes"]}
    assert (themes["lieferung"]["comments"], themes["lieferung"]["praise"], themes["lieferung"]["complaints"]) == (
        3, 2, 1)
    assert themes["schnelle"]["comments"] == 2 and themes["schnelle"]["praise"] == 2
    assert themes["verpackung"]["comments"] == 2 and themes["verpackung"]["complaints"] == 1
    assert november["de"]["themes"][0]["term"] == "Lieferung"
    (delivery,) = november["en"]["themes"]
    assert (delivery["term"].lower(), delivery["praise"], delivery["complaints"]) == ("delivery", 1, 1)


@pytest.mark.parametrize("path, field", [
    ("/api/aftersales/reasons?from=2026-01-01&to=2026-12-31", "from"),  # longer than 92 days
    ("/api/aftersales/reasons?from=2026-12-01&to=2026-11-01", "from"),  # backwards
    ("/api/aftersales/reasons?from=yesterday", "from"),
    ("/api/aftersales/reasons?to=9999-12-31", "to"),
    ("/api/aftersales/reasons?to=2026-02-30", "to"),
    ("/api/aftersales/reasons?market=DEU", "market"),
    ("/api/aftersales/reasons?sku=" + "x" * 300, "sku"),
    ("/api/aftersales/warehouses?from=2024-01-01&to=2026-01-01", "from"),
    ("/api/aftersales/themes?from=2025-01&to=2026-11", "from"),
    ("/api/aftersales/themes?from=2026-13", "from"),
    ("/api/aftersales/themes?to=2026-11-01", "to"),
])
def test_bad_periods_and_filters_are_422_naming_the_parameter(client, seeded, path, field):
    response = client.get(path, headers=auth())
    assert response.status_code == 422 and response.get_json()["error"]["field"] == field


def test_the_figures_need_a_session_token(client, seeded):
    for path in ("/api/aftersales/reasons", "/api/aftersales/themes", "/api/aftersales/warehouses"):
        assert client.get(path).status_code == 401


def test_the_returns_list_filters_by_market_warehouse_and_order(client, seeded):
    def ids(query):
        return sorted(r["id"] for r in get(client, f"/api/returns?{query}")["items"])

    everything = sorted([*seeded.returns.values(), seeded.old_return])
    assert ids("limit=100") == everything
    assert ids("market=us") == [seeded.returns["US1"]]
    assert ids(f"warehouse={seeded.la.id}") == [seeded.returns["US1"]]
    assert ids("q=%23DE3") == [seeded.returns["DE3"]]  # an order name, as the orders list searches
    assert ids("q=%23DE6") == sorted([seeded.returns["DE6"], seeded.old_return])  # both of its returns
    for query, field in (("market=Germany", "market"), ("warehouse=abc", "warehouse"), ("q=" + "x" * 201, "q")):
        response = client.get(f"/api/returns?{query}", headers=auth())
        assert response.status_code == 422 and response.get_json()["error"]["field"] == field
    other_warehouse = db.session.scalar(select(Warehouse.id).where(Warehouse.code == "BDEWH"))
    response = client.get(f"/api/returns?warehouse={other_warehouse}", headers=auth())
    assert response.status_code == 422 and response.get_json()["error"]["field"] == "warehouse"
    assert get(client, "/api/returns/reships")["items"] == []  # none yet; another shop's are not listed
