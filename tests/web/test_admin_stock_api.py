"""The stock page's API: per SKU x warehouse numbers, low/out flags, filters, pages by SKU, a
SKU's daily series, two shops kept apart and hostile parameters answered with 4xx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from integration.domain.warehousing import StockRecord
from integration.extensions import db
from integration.models import StockDaily
from integration.stock.daily import today
from integration.stock.ledger import apply_stock
from tests.stock_page_fixtures import seed_history, seed_stock
from tests.test_loyalty_support import auth, make_shop

OTHER = "other.myshopify.com"


@pytest.fixture
def seeded(app):
    return seed_stock(make_shop())


def get(client, path, shop=None):
    return client.get(path, headers=auth(shop) if shop else auth())


def by_sku(body):
    return {item["sku"]: item for item in body["items"]}


def test_numbers_per_sku_and_warehouse(client, seeded):
    response = get(client, "/api/stock")
    assert response.status_code == 200
    body = response.get_json()
    assert [w["code"] for w in body["warehouses"]] == ["DEWH", "FRWH", "OLDWH"]
    assert body["threshold"] == 5 and body["amazon"] is True and body["catalog"] is True
    items = by_sku(body)
    assert list(items) == ["SKU-A", "SKU-B", "SKU-C", "SKU-E"]  # the deleted variant's SKU is gone
    a = items["SKU-A"]
    assert a["title"] == "Blue mug" and a["available"] == 17 and not a["low"] and not a["out"]
    assert a["channels"] == {"shopify": 14, "amazon": 15}
    cells = {c["warehouse_id"]: c for c in a["warehouses"]}
    de, fr, old = cells[seeded.de.id], cells[seeded.fr.id], cells[seeded.old.id]
    assert (de["on_hand"], de["reserved"], de["inbound"], de["available"], de["shopify"]) == (20, 4, 10, 15, 14)
    assert (fr["on_hand"], fr["available"], fr["shopify"]) == (3, 2, None)  # no Shopify location
    assert fr["low"] and not fr["out"]
    assert (old["on_hand"], old["available"], old["out"]) == (50, 0, True)  # a warehouse that does not sell
    b, c, e = items["SKU-B"], items["SKU-C"], items["SKU-E"]
    assert (b["available"], b["low"], b["out"], b["channels"]) == (3, True, False, {"shopify": 2, "amazon": 1})
    assert (c["available"], c["out"], c["warehouses"]) == (0, True, [])
    assert (e["available"], e["out"], e["low"]) == (0, True, False)


def test_amazon_only_when_connected(app, client):
    seed_stock(make_shop(), amazon=False)
    body = get(client, "/api/stock").get_json()
    assert body["amazon"] is False
    assert by_sku(body)["SKU-A"]["channels"] == {"shopify": 14}


def test_filters_and_search(client, seeded):
    assert list(by_sku(get(client, "/api/stock?filter=low").get_json())) == ["SKU-B"]
    assert list(by_sku(get(client, "/api/stock?filter=out").get_json())) == ["SKU-C", "SKU-E"]
    assert list(by_sku(get(client, "/api/stock?q=RED").get_json())) == ["SKU-B"]
    assert list(by_sku(get(client, "/api/stock?q=sku-e").get_json())) == ["SKU-E"]
    assert by_sku(get(client, "/api/stock?q=%25").get_json()) == {}  # a literal %, not a wildcard
    body = get(client, f"/api/stock?warehouse={seeded.fr.id}").get_json()
    assert [w["code"] for w in body["warehouses"]] == ["FRWH"]
    assert list(by_sku(body)) == ["SKU-A"]
    a = by_sku(body)["SKU-A"]
    assert [c["warehouse_id"] for c in a["warehouses"]] == [seeded.fr.id]
    assert (a["available"], a["low"]) == (2, True)  # judged on this warehouse alone
    assert list(by_sku(get(client, f"/api/stock?warehouse={seeded.fr.id}&filter=low").get_json())) == ["SKU-A"]
    assert list(by_sku(get(client, f"/api/stock?warehouse={seeded.de.id}&filter=out").get_json())) == ["SKU-E"]


def test_pages_by_sku(client, seeded):
    first = get(client, "/api/stock?limit=2").get_json()
    assert list(by_sku(first)) == ["SKU-A", "SKU-B"]
    assert first["has_next_page"] is True and first["has_previous_page"] is False
    assert len(by_sku(first)["SKU-A"]["warehouses"]) == 3  # a page holds every warehouse of its SKUs
    second = get(client, "/api/stock?limit=2&page=2").get_json()
    assert list(by_sku(second)) == ["SKU-C", "SKU-E"]
    assert second["has_next_page"] is False and second["has_previous_page"] is True
    assert get(client, "/api/stock?limit=2&page=3").get_json()["items"] == []


def test_empty_shop_says_what_is_missing(app, client):
    make_shop()
    body = get(client, "/api/stock").get_json()
    assert (body["items"], body["warehouses"], body["catalog"]) == ([], [], False)


def test_history_series(client, seeded):
    seed_history(seeded)
    response = get(client, "/api/stock/SKU-A/history?days=30")
    assert response.status_code == 200
    body = response.get_json()
    assert body["sku"] == "SKU-A" and body["title"] == "Blue mug"
    assert len(body["days"]) == 30 and body["days"][-1] == today().isoformat()
    lines = {w["code"]: w for w in body["warehouses"]}
    assert set(lines) == {"DEWH", "FRWH", "OLDWH"}
    de, fr = lines["DEWH"], lines["FRWH"]
    assert de["stock"][:19] == [None] * 19  # nothing known before its first snapshot, 10 days ago
    assert de["stock"][19:] == [30] * 7 + [25] * 3 + [20]  # today's is the live ledger's
    assert fr["stock"] == [40] * 29 + [3]  # carried from the snapshot before the window
    assert de["sold"][-3:] == [2, 0, 0] and sum(de["sold"]) == 2  # the cancelled line does not count
    assert fr["sold"][-3] == 1 and sum(fr["sold"]) == 1
    longer = get(client, "/api/stock/SKU-A/history?days=90").get_json()
    assert sum({w["code"]: w for w in longer["warehouses"]}["DEWH"]["sold"]) == 9  # 40 days ago included
    assert len(get(client, "/api/stock/SKU-A/history").get_json()["days"]) == 30


def test_history_by_variant_id_and_unknown_sku(client, seeded):
    variant = seeded.variants["SKU-B"]
    body = get(client, f"/api/stock/{variant.id}/history?days=7").get_json()
    assert body["sku"] == "SKU-B" and len(body["days"]) == 7
    assert get(client, "/api/stock/NOPE/history").status_code == 404
    assert get(client, "/api/stock/SKU-GONE/history").status_code == 404  # deleted variant
    assert get(client, f"/api/stock/{seeded.variants['SKU-GONE'].id}/history").status_code == 404


def test_two_shops_apart(app, client, seeded):
    other = seed_stock(make_shop(OTHER), location="gid://shopify/Location/902", amazon=False)
    db.session.add(StockDaily(shop_id=other.shop.id, warehouse_id=other.de.id, sku="SKU-A", day=today(),
                              on_hand=999, reserved=0, inbound=0))
    db.session.commit()
    mine = get(client, "/api/stock").get_json()
    assert {w["id"] for w in mine["warehouses"]} == {seeded.de.id, seeded.fr.id, seeded.old.id}
    for item in mine["items"]:
        assert {c["warehouse_id"] for c in item["warehouses"]} <= {seeded.de.id, seeded.fr.id, seeded.old.id}
    assert get(client, f"/api/stock?warehouse={other.de.id}").status_code == 404
    assert get(client, f"/api/stock/{other.variants['SKU-A'].id}/history").status_code == 404
    history = get(client, "/api/stock/SKU-A/history").get_json()
    assert {w["id"] for w in history["warehouses"]} <= {seeded.de.id, seeded.fr.id, seeded.old.id}
    theirs = get(client, "/api/stock/SKU-A/history", OTHER).get_json()
    assert {w["id"] for w in theirs["warehouses"]} <= {other.de.id, other.fr.id, other.old.id}
    assert {w["code"]: w for w in theirs["warehouses"]}["DEWH"]["stock"][-1] == 20


@pytest.mark.parametrize("query", [
    "page=0", "page=abc", "page=10001", "limit=0", "limit=101", "limit=-1", "limit=1.5", "filter=bogus",
    "filter=LOW", "warehouse=abc", "warehouse=-1", "warehouse=99999999999999999999999", "q=" + "x" * 101,
])
def test_hostile_list_params(client, seeded, query):
    response = get(client, f"/api/stock?{query}")
    assert response.status_code == 400, query
    assert response.get_json()["error"]["message"]


@pytest.mark.parametrize("path,status", [
    ("/api/stock/SKU-A/history?days=0", 400), ("/api/stock/SKU-A/history?days=91", 400),
    ("/api/stock/SKU-A/history?days=abc", 400), ("/api/stock/SKU-A/history?days=%D9%A1", 400),
    ("/api/stock/SKU-A/history?days=-5", 400), ("/api/stock/SKU-A/history?days=1e1", 400),
    ("/api/stock/" + "A" * 300 + "/history", 404), ("/api/stock/%25/history", 404),
    ("/api/stock/99999999999999999999999999/history", 404), (f"/api/stock?warehouse={10**12}", 404),
])
def test_hostile_history_params(client, seeded, path, status):
    response = get(client, path)
    assert response.status_code == status, path
    assert response.get_json()["error"]["message"]


def test_session_required(client, seeded):
    assert client.get("/api/stock").status_code == 401
    assert client.get("/api/stock/SKU-A/history").status_code == 401


def test_ledger_writers_keep_the_daily_snapshot(app, seeded):
    """The stock sync writes today's closing count of each row it changed; unchanged rows get none."""
    now = datetime.now(UTC)
    apply_stock(seeded.de.id, [StockRecord(sku="SKU-B", warehouse_code="DEWH", on_hand=12, available=12),
                               StockRecord(sku="SKU-E", warehouse_code="DEWH", on_hand=1, available=1)],
                as_of=now)
    rows = db.session.execute(select(StockDaily.sku, StockDaily.day, StockDaily.on_hand, StockDaily.reserved)
                              .where(StockDaily.warehouse_id == seeded.de.id)).all()
    assert rows == [("SKU-B", today(), 12, 1)]
    apply_stock(seeded.de.id, [StockRecord(sku="SKU-B", warehouse_code="DEWH", on_hand=8, available=8)],
                as_of=now + timedelta(seconds=1))
    assert db.session.execute(select(StockDaily.on_hand).where(StockDaily.sku == "SKU-B")).scalars().all() == [8]
