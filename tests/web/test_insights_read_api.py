"""The Insights page's read API: lists filtered by market and warehouse and sorted from an
allowlist, one series' chart (censored days are gaps, not zeros), the merchant's decisions, CSV
exports that a spreadsheet cannot run, two shops kept apart and hostile parameters answered 4xx."""

from __future__ import annotations

import csv
import io

import pytest

from integration.stock.daily import today
from tests.insights_page_fixtures import CENSORED_DAYS, seed_insights
from tests.test_loyalty_support import auth, make_shop

OTHER = "other.myshopify.com"


@pytest.fixture
def seeded(app):
    return seed_insights(make_shop())


def get(client, path, shop=None):
    return client.get(path, headers=auth(shop) if shop else auth())


def post(client, path, shop=None):
    return client.post(path, headers=auth(shop) if shop else auth())


def ids(body):
    return [item["id"] for item in body["items"]]


def test_lists_show_each_kind_with_its_warehouses(client, seeded):
    body = get(client, "/api/insights/shifts").get_json()
    assert ids(body) == [seeded.rise.id, seeded.fall.id]  # newest first
    rise = body["items"][0]
    assert rise["sku"] == "SKU-A" and rise["direction"] == "rise" and rise["change_pct"] == 50.0
    assert rise["warehouse"] == {"id": seeded.stock.de.id, "name": "Berlin", "country_code": "DE"}
    assert {w["name"] for w in body["warehouses"]} == {"Berlin", "Lyon", "Old"}
    body = get(client, "/api/insights/suggestions").get_json()
    assert ids(body) == [seeded.restock_de.id, seeded.restock_fr.id]  # soonest order-by first
    assert body["items"][1]["policy"] == "turnover" and body["items"][0]["quantity"] == 180
    body = get(client, "/api/insights/transfers").get_json()
    (transfer,) = body["items"]
    assert transfer["from_warehouse"]["name"] == "Berlin" and transfer["to_warehouse"]["country_code"] == "FR"
    assert transfer["quantity"] == 12 and transfer["status"] == "open"


def test_filters_by_market_and_warehouse(client, seeded):
    de, fr = seeded.stock.de.id, seeded.stock.fr.id
    assert ids(get(client, "/api/insights/shifts?market=DE").get_json()) == [seeded.rise.id]
    assert ids(get(client, "/api/insights/shifts?market=fr").get_json()) == [seeded.fall.id]
    assert ids(get(client, f"/api/insights/suggestions?warehouse={fr}").get_json()) == [seeded.restock_fr.id]
    assert ids(get(client, "/api/insights/suggestions?market=NL").get_json()) == []
    # a transfer matches on either of its ends
    assert ids(get(client, "/api/insights/transfers?market=DE").get_json()) == [seeded.transfer.id]
    assert ids(get(client, f"/api/insights/transfers?warehouse={fr}").get_json()) == [seeded.transfer.id]
    assert ids(get(client, "/api/insights/transfers?market=NL").get_json()) == []
    assert ids(get(client, f"/api/insights/shifts?warehouse={de}&market=FR").get_json()) == []
    assert ids(get(client, "/api/insights/shifts?status=open").get_json()) == [seeded.rise.id, seeded.fall.id]
    assert ids(get(client, "/api/insights/shifts?status=ended").get_json()) == []


def test_sorts_from_the_allowlist_and_pages(client, seeded):
    assert ids(get(client, "/api/insights/shifts?sort=change_pct").get_json()) == [seeded.fall.id, seeded.rise.id]
    assert ids(get(client, "/api/insights/suggestions?sort=-quantity").get_json()) == [seeded.restock_de.id,
                                                                                        seeded.restock_fr.id]
    assert ids(get(client, "/api/insights/suggestions?sort=quantity").get_json()) == [seeded.restock_fr.id,
                                                                                       seeded.restock_de.id]
    first = get(client, "/api/insights/suggestions?sort=sku&limit=1").get_json()
    second = get(client, "/api/insights/suggestions?sort=sku&limit=1&page=2").get_json()
    assert ids(first) == [seeded.restock_de.id] and first["has_next_page"] is True
    assert ids(second) == [seeded.restock_fr.id] and second["has_next_page"] is False
    assert second["has_previous_page"] is True
    response = get(client, "/api/insights/shifts?sort=shop_id")
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "sort"
    assert get(client, "/api/insights/shifts?sort=quantity").status_code == 400  # another list's key


def test_series_has_gaps_on_censored_days_and_the_forecast(client, seeded):
    de = seeded.stock.de.id
    body = get(client, f"/api/insights/series/{de}/SKU-A?days=28").get_json()
    assert len(body["days"]) == 28 and body["days"][-1] == today().isoformat()
    for ago in CENSORED_DAYS:
        assert body["demand"][-1 - ago] is None and body["censored"][-1 - ago] is True
    assert body["demand"][-1] == 6 and body["demand"][-1 - 10] == 5  # net: sold less cancelled
    assert body["demand"][-1 - 20] == 4 and body["promo"][-1 - 20] is True
    assert body["forecast"] == [5.5] * 28 and body["forecast_daily"] == 5.5
    assert body["stock"][-1] == 20  # the live ledger today
    assert body["warehouse"]["name"] == "Berlin" and body["sku"] == "SKU-A"
    assert body["history"] is True
    unknown = get(client, f"/api/insights/series/{de}/SKU-Z?days=7").get_json()
    assert unknown["history"] is False and unknown["demand"] == [None] * 7  # nothing known: not zero demand
    assert get(client, f"/api/insights/series/{de}/SKU-A?days=91").status_code == 400
    assert get(client, f"/api/insights/series/{de}/SKU-A?days=x").status_code == 400
    assert get(client, f"/api/insights/series/{de}/{'A' * 300}").status_code == 400


def test_dismiss_and_transfer_decisions_are_recorded_once(client, seeded):
    path = f"/api/insights/suggestions/{seeded.restock_fr.id}/dismiss"
    assert post(client, path).get_json() == {"id": seeded.restock_fr.id, "status": "dismissed"}
    assert post(client, path).status_code == 200  # the same decision again: the row as it is
    assert ids(get(client, "/api/insights/suggestions?status=open").get_json()) == [seeded.restock_de.id]
    assert ids(get(client, "/api/insights/suggestions?status=dismissed").get_json()) == [seeded.restock_fr.id]
    accept = f"/api/insights/transfers/{seeded.transfer.id}/accept"
    assert post(client, accept).get_json()["status"] == "accepted"
    refused = post(client, f"/api/insights/transfers/{seeded.transfer.id}/dismiss")
    assert refused.status_code == 409 and "accepted" in refused.get_json()["error"]["message"]
    assert get(client, "/api/insights/transfers").get_json()["items"][0]["status"] == "accepted"
    assert post(client, f"/api/insights/transfers/{seeded.transfer.id}/delete").status_code == 404
    assert post(client, "/api/insights/suggestions/999999/dismiss").status_code == 404


def _rows(response):
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_csv_exports_are_safe_in_a_spreadsheet(client, seeded):
    shifts = _rows(get(client, "/api/insights/export.csv?what=shifts"))
    assert shifts[0][:3] == ["shift_id", "sku", "warehouse"]
    fall = next(r for r in shifts if r[1] == "SKU-B")
    assert fall[9] == "'=HYPERLINK(\"http://x\")"  # text starting with = is quoted
    assert fall[6] == "-40.0"  # a negative number stays a number
    suggestions = _rows(get(client, "/api/insights/export.csv?what=suggestions&market=FR"))
    assert [r[1] for r in suggestions[1:]] == ["SKU-B"]
    transfers = _rows(get(client, "/api/insights/export.csv?what=transfers"))
    assert transfers[1][2:7] == ["Berlin", "DE", "Lyon", "FR", "12"]
    gates = _rows(get(client, "/api/insights/export.csv?what=gates"))
    assert sorted((r[1], r[2], r[10]) for r in gates[1:]) == [("SKU-A", "FR", "proven"), ("SKU-C", "DE", "stop")]
    de_gates = _rows(get(client, f"/api/insights/export.csv?what=gates&warehouse={seeded.stock.de.id}"))
    assert [r[1] for r in de_gates[1:]] == ["SKU-C"]
    response = get(client, "/api/insights/export.csv?what=customers")
    assert response.status_code == 422 and response.get_json()["error"]["field"] == "what"
    assert get(client, "/api/insights/export.csv").status_code == 422


def test_another_shop_sees_and_changes_nothing(client, seeded):
    make_shop(OTHER)
    for kind in ("shifts", "suggestions", "transfers"):
        body = get(client, f"/api/insights/{kind}", OTHER).get_json()
        assert body["items"] == [] and body["warehouses"] == []
    de = seeded.stock.de.id
    assert get(client, f"/api/insights/shifts?warehouse={de}", OTHER).status_code == 404
    assert get(client, f"/api/insights/series/{de}/SKU-A", OTHER).status_code == 404
    assert post(client, f"/api/insights/suggestions/{seeded.restock_de.id}/dismiss", OTHER).status_code == 404
    assert post(client, f"/api/insights/transfers/{seeded.transfer.id}/accept", OTHER).status_code == 404
    assert _rows(get(client, "/api/insights/export.csv?what=gates", OTHER))[1:] == []
    assert _rows(get(client, "/api/insights/export.csv?what=suggestions", OTHER))[1:] == []
    assert get(client, "/api/insights/suggestions").get_json()["items"][0]["status"] == "open"  # untouched


@pytest.mark.parametrize("path", [
    "/api/insights/shifts?market=DEU", "/api/insights/shifts?market=1X", "/api/insights/shifts?warehouse=abc",
    "/api/insights/shifts?warehouse=-1", "/api/insights/suggestions?status=gone", "/api/insights/transfers?page=0",
    "/api/insights/transfers?limit=1000", "/api/insights/shifts?sort=%27;drop", "/api/insights/series/0/SKU-A",
    "/api/insights/series/99999999999999999999999/SKU-A", "/api/insights/export.csv?what=gates&market=%00%00",
])
def test_hostile_parameters_are_refused_with_4xx(client, seeded, path):
    response = get(client, path)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)


def test_every_endpoint_needs_a_session(client, seeded):
    for path in ("/api/insights/shifts", "/api/insights/suggestions", "/api/insights/transfers",
                 f"/api/insights/series/{seeded.stock.de.id}/SKU-A", "/api/insights/export.csv?what=shifts"):
        assert client.get(path).status_code == 401
    assert client.post(f"/api/insights/suggestions/{seeded.restock_de.id}/dismiss").status_code == 401
