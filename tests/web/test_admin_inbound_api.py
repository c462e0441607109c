"""The admin's inbound-shipment API: approve (202, idempotent), list (paged, by status), cancel
where the warehouse allows it; validated input, session-protected, two shops. And the other two
providers' inbound flows end to end (Goodcang, ShipBob emulators)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from integration.extensions import db
from integration.insights import inbound, inbound_tracking
from integration.models import InboundShipmentRow, RestockSuggestion, StockLevel
from tests.goodcang_fixtures import GOODCANG_APP_KEY, GOODCANG_APP_TOKEN
from tests.helpers_warehouse import make_account, make_shop, make_warehouse, set_stock
from tests.shipbob_fixtures import SHIPBOB_CHANNEL, SHIPBOB_TOKEN
from tests.test_loyalty_support import auth
from tests.winit_fixtures import winit_credentials

OTHER = "beta.myshopify.com"


def suggest(shop, warehouse, sku: str, quantity: int = 40, policy: str = "nearstock") -> RestockSuggestion:
    row = RestockSuggestion(shop_id=shop.id, warehouse_id=warehouse.id, sku=sku, policy=policy,
                            quantity=quantity, order_up_to=quantity, order_by=date.today(), forecast_daily=2.0,
                            lead_time_days=20, status="open")
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def world(app, winit_emulator):
    shop, other = make_shop(), make_shop(OTHER)
    account = make_account(shop, "winit", winit_credentials(), endpoint=winit_emulator.url)
    de = make_warehouse(shop, account, "DEWH", "DE")
    set_stock(shop, de, "MUG-BLUE", 100)
    other_wh = make_warehouse(other, make_account(other, "winit", winit_credentials(), endpoint=winit_emulator.url),
                              "DEWH", "DE")
    return shop, de, other, other_wh


def test_approve_is_accepted_once_and_listed(client, world, worker):
    shop, de, _, _ = world
    first, second = suggest(shop, de, "MUG-BLUE"), suggest(shop, de, "MUG-BLUE", 10, "turnover")
    r = client.post(f"/api/insights/suggestions/{first.id}/approve", json={"expected_at": "2099-01-01"},
                    headers=auth())
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "expected_at"  # beyond a year
    day = (date.today() + timedelta(days=14)).isoformat()
    r = client.post(f"/api/insights/suggestions/{first.id}/approve", json={"expected_at": day}, headers=auth())
    assert r.status_code == 202, r.data
    body = r.get_json()
    assert body["status"] == "pending" and body["intake_booked_for"] == day
    assert body["lines"] == [{"sku": "MUG-BLUE", "quantity": 40}] and body["warehouse"]["name"] == "DEWH"
    again = client.post(f"/api/insights/suggestions/{first.id}/approve", headers=auth())
    assert again.status_code == 202 and again.get_json()["id"] == body["id"]
    assert client.post(f"/api/insights/suggestions/{second.id}/approve", headers=auth()).status_code == 202
    assert len(db.session.execute(select(InboundShipmentRow)).scalars().all()) == 2

    page = client.get("/api/insights/inbound?limit=1", headers=auth()).get_json()
    assert len(page["items"]) == 1 and page["has_next_page"]
    worker.run()  # the create jobs: both announced at WINIT
    created = client.get("/api/insights/inbound?status=created", headers=auth()).get_json()["items"]
    assert sorted(i["id"] for i in created) == sorted([body["id"], page["items"][0]["id"]])
    assert client.get("/api/insights/inbound?status=pending", headers=auth()).get_json()["items"] == []
    # WINIT offers no withdrawal through the API: said so, nothing changes.
    r = client.post(f"/api/insights/inbound/{body['id']}/cancel", headers=auth())
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "unsupported"


def test_hostile_and_foreign_requests(client, world):
    shop, de, other, other_wh = world
    mine, theirs = suggest(shop, de, "MUG-BLUE"), suggest(other, other_wh, "MUG-BLUE")
    assert client.post(f"/api/insights/suggestions/{mine.id}/approve").status_code == 401
    assert client.post(f"/api/insights/suggestions/{theirs.id}/approve", headers=auth()).status_code == 404
    assert client.post("/api/insights/suggestions/99999999999999999999999/approve", headers=auth()).status_code == 404
    for payload, field in (({"expected_at": 5}, "expected_at"), ({"expected_at": "next week"}, "expected_at"),
                           ({"expected_at": date.today().isoformat()}, "expected_at"), ({"qty": 1}, "qty")):
        r = client.post(f"/api/insights/suggestions/{mine.id}/approve", json=payload, headers=auth())
        assert r.status_code == 422 and r.get_json()["error"]["field"] == field, (payload, r.data)
    r = client.post(f"/api/insights/suggestions/{mine.id}/approve", data="[1]", content_type="application/json",
                    headers=auth())
    assert r.status_code == 400
    assert client.get("/api/insights/inbound?status=lost", headers=auth()).status_code == 422
    assert client.get("/api/insights/inbound?page=0", headers=auth()).status_code == 400
    row = inbound.approve_suggestion(other.id, theirs.id)
    assert client.get("/api/insights/inbound", headers=auth()).get_json()["items"] == []
    assert client.post(f"/api/insights/inbound/{row.id}/cancel", headers=auth()).status_code == 404
    assert client.get("/api/insights/inbound", headers=auth(OTHER)).get_json()["items"][0]["id"] == row.id
    db.session.expire_all()
    assert db.session.get(RestockSuggestion, mine.id).status == "open"


def test_goodcang_announces_one_grn_and_follows_it_until_received(app, goodcang_emulator):
    shop = make_shop()
    account = make_account(shop, "goodcang", {"app_key": GOODCANG_APP_KEY, "app_token": GOODCANG_APP_TOKEN},
                           endpoint=goodcang_emulator.endpoint)
    de = make_warehouse(shop, account, "DE", "DE")
    set_stock(shop, de, "CAP-RED", 0)
    row = inbound.approve_suggestion(shop.id, suggest(shop, de, "CAP-RED", 25).id)
    assert inbound.create_at_warehouse(row.id) == "created"
    db.session.execute(InboundShipmentRow.__table__.update().values(status="pending"))  # as if never recorded
    db.session.commit()
    assert inbound.create_at_warehouse(row.id) == "created"  # the retry finds the GRN it made
    assert [m["reference_no"] for m in goodcang_emulator.inbounds.values()] == [row.reference]
    goodcang_emulator.sim.receive_inbound(row.reference)
    assert inbound_tracking.poll_inbound(row.id) == "received"
    stock = db.session.execute(select(StockLevel).where(StockLevel.warehouse_id == de.id,
                                                        StockLevel.sku == "CAP-RED")).scalar_one()
    db.session.refresh(stock)
    assert (stock.on_hand, stock.inbound) == (25, 0)


def test_shipbob_wro_is_announced_once_and_can_be_cancelled(client, app, shipbob_emulator):
    shop = make_shop()
    account = make_account(shop, "shipbob", {"token": SHIPBOB_TOKEN, "channel_id": str(SHIPBOB_CHANNEL),
                                             "webhook_secret": "whsec_x"}, endpoint=shipbob_emulator.url)
    venlo = make_warehouse(shop, account, "87", "NL")
    shipbob_emulator.set_stock(87, "LAMP", 0)
    set_stock(shop, venlo, "LAMP", 0)
    arrival = datetime.now(UTC) + timedelta(days=9)
    row = inbound.approve_suggestion(shop.id, suggest(shop, venlo, "LAMP", 12).id, expected_at=arrival)
    assert inbound.create_at_warehouse(row.id) == "created"
    db.session.execute(InboundShipmentRow.__table__.update().values(status="pending"))
    db.session.commit()
    assert inbound.create_at_warehouse(row.id) == "created"
    assert [w["purchase_order_number"] for w in shipbob_emulator.wros.values()] == [row.reference]
    assert inbound_tracking.poll_inbound(row.id) == "created"  # Awaiting

    r = client.post(f"/api/insights/inbound/{row.id}/cancel", headers=auth())
    assert r.status_code == 202, r.data
    assert inbound_tracking.cancel_inbound(row.id) == "cancelled"
    stock = db.session.execute(select(StockLevel).where(StockLevel.warehouse_id == venlo.id,
                                                        StockLevel.sku == "LAMP")).scalar_one()
    db.session.refresh(stock)
    assert (stock.inbound, stock.inbound_eta) == (0, None)
    assert client.post(f"/api/insights/inbound/{row.id}/cancel", headers=auth()).status_code == 202  # already
