"""The admin's after-sales API: returns listed and shown with their timeline, the merchant's
decision (once), the rules, reships (one replacement per parcel and reason, from the local
warehouse) and claims (one per parcel, problem and party). Bad input is 4xx naming the field and
changes nothing; another shop's return, parcel or claim is 404."""

from __future__ import annotations

from rq.job import Job
from sqlalchemy import func, select

from integration import job_catalog
from integration.extensions import db, redis
from integration.job_serializer import JobSerializer
from integration.models import Allocation, Claim, OutboundOrder, Reship, Return, ReturnRulesRow, StockLevel
from tests.returns_support import SKU, after_sales_shop, request_return, shipped_order
from tests.test_loyalty_support import auth

OTHER = "beta.myshopify.com"


def world(winit_emulator):
    shop, _account, us, de = after_sales_shop(winit_emulator.url)
    order, _outbound, shipment = shipped_order(shop, de)
    other, _, _, other_de = after_sales_shop(winit_emulator.url, OTHER)
    other_order, _, other_shipment = shipped_order(other, other_de, "gid://shopify/Order/2002")
    return shop, order, shipment, de, us, other, other_order, other_shipment


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_returns_are_listed_shown_and_decided_once(app, client, winit_emulator):
    shop, order, _shipment, *_rest, other, other_order, _ = world(winit_emulator)
    return_id = request_return(shop, order)
    other_id = request_return(other, other_order, number=9)
    assert request_return(shop, order) is None  # the webhook again: nothing new

    page = client.get("/api/returns?status=requested", headers=auth()).get_json()
    assert [r["id"] for r in page["items"]] == [return_id]
    assert client.get("/api/returns?status=lost", headers=auth()).get_json()["error"]["field"] == "status"
    assert client.get("/api/returns?order_id=0", headers=auth()).status_code == 422
    detail = client.get(f"/api/returns/{return_id}", headers=auth()).get_json()
    assert detail["lines"][0]["sku"] == SKU and [e["kind"] for e in detail["timeline"]] == ["requested"]
    assert client.get(f"/api/returns/{other_id}", headers=auth()).status_code == 404
    assert client.get("/api/returns/99999999999999999999999", headers=auth()).status_code == 404

    for body, field in (({"reason": "BECAUSE"}, "reason"), ({"reason": "OTHER", "note": "x" * 501}, "note"),
                        ({"reason": "OTHER", "extra": 1}, "extra"), ({}, "reason")):
        r = client.post(f"/api/returns/{return_id}/decline", json=body, headers=auth())
        assert r.status_code == 422 and r.get_json()["error"]["field"] == field, body
    r = client.post(f"/api/returns/{return_id}/approve", json={"kind": "exchange", "exchanges": {"1": "NOPE"}},
                    headers=auth())
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "exchanges"
    assert client.post(f"/api/returns/{other_id}/decline", json={"reason": "OTHER"}, headers=auth()).status_code == 404
    db.session.expire_all()
    assert db.session.get(Return, return_id).status == "requested"
    assert db.session.get(Return, other_id).status == "requested"

    r = client.post(f"/api/returns/{return_id}/decline", json={"reason": "FINAL_SALE", "note": "sale item"},
                    headers=auth())
    assert r.status_code == 202 and r.get_json()["status"] == "declined"
    assert client.post(f"/api/returns/{return_id}/decline", json={"reason": "FINAL_SALE"},
                       headers=auth()).status_code == 202
    assert client.post(f"/api/returns/{return_id}/approve", headers=auth()).status_code == 409
    assert Job.fetch(job_catalog.decline_return_id(return_id), connection=redis.client, serializer=JobSerializer)


def test_rules_are_validated_whole_and_apply_to_the_next_request(app, client, winit_emulator):
    shop, order, *_ = world(winit_emulator)
    good = {"window_days": 30, "accepted_reasons": ["DEFECTIVE"], "non_returnable_skus": [],
            "auto_approve": True, "reship_when_lost": True}
    for bad, field in (({**good, "window_days": 999}, "window_days"), ({**good, "accepted_reasons": ["MEH"]},
                       "accepted_reasons"), ({**good, "auto_approve": "yes"}, "auto_approve"),
                       ({k: v for k, v in good.items() if k != "reship_when_lost"}, "reship_when_lost"),
                       ({**good, "non_returnable_skus": ["x" * 300]}, "non_returnable_skus")):
        r = client.put("/api/returns/rules", json=bad, headers=auth())
        assert r.status_code == 422 and r.get_json()["error"]["field"] == field
    assert count(ReturnRulesRow) == 0
    assert client.put("/api/returns/rules", data="x" * 20000, content_type="application/json",
                      headers=auth()).status_code == 413
    assert client.put("/api/returns/rules", json=good, headers=auth()).status_code == 200
    assert client.get("/api/returns/rules", headers=auth()).get_json()["accepted_reasons"] == ["DEFECTIVE"]

    declined = db.session.get(Return, request_return(shop, order, number=2, reason="UNWANTED"))
    assert (declined.status, declined.decline_reason, declined.decided_by) == ("declined", "OTHER", "rules")
    approved = db.session.get(Return, request_return(shop, order, number=3, reason="DEFECTIVE"))
    assert (approved.status, approved.decided_by) == ("approved", "rules")
    job = Job.fetch(job_catalog.approve_return_id(approved.id), connection=redis.client, serializer=JobSerializer)
    assert job.origin == "sync"


def test_a_reship_sends_one_replacement_from_the_local_warehouse(app, client, winit_emulator):
    _shop, _order, shipment, de, _us, _other, _, other_shipment = world(winit_emulator)
    for body, field in (({"shipment_id": shipment.id, "reason": "stolen"}, "reason"),
                        ({"shipment_id": "1", "reason": "lost"}, "shipment_id"),
                        ({"shipment_id": shipment.id, "reason": "missing_part", "lines": [{"sku": SKU, "quantity": 5}]},
                         "lines"),
                        ({"shipment_id": shipment.id, "reason": "missing_part", "lines": [{"sku": "X", "quantity": 1}]},
                         "lines")):
        r = client.post("/api/returns/reships", json=body, headers=auth())
        assert r.status_code == 422 and r.get_json()["error"]["field"] == field, body
    assert client.post("/api/returns/reships", json={"shipment_id": other_shipment.id, "reason": "lost"},
                       headers=auth()).status_code == 404
    assert count(Reship) == 0 and count(OutboundOrder) == 2

    first = client.post("/api/returns/reships", json={"shipment_id": shipment.id, "reason": "lost"}, headers=auth())
    again = client.post("/api/returns/reships", json={"shipment_id": shipment.id, "reason": "lost"}, headers=auth())
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"] and first.get_json()["status"] == "sent"
    replacement = db.session.get(OutboundOrder, first.get_json()["outbound_id"])
    assert replacement.warehouse_id == de.id and replacement.purpose == f"reship:{first.get_json()['id']}"
    assert replacement.status == "pending" and replacement.reference.endswith(f"S{first.get_json()['id']}")
    assert db.session.scalar(select(func.sum(Allocation.quantity)).where(Allocation.outbound_id == replacement.id)) == 2
    reserved = db.session.execute(select(StockLevel.reserved).where(StockLevel.warehouse_id == de.id)).scalar()
    assert reserved == 2
    assert Job.fetch(job_catalog.push_outbound_id(replacement.id), connection=redis.client, serializer=JobSerializer)


def test_a_claim_is_opened_once_and_settled_once(app, client, winit_emulator):
    _shop, _order, shipment, *_rest, other_shipment = world(winit_emulator)
    body = {"shipment_id": shipment.id, "against": "carrier", "kind": "lost", "amount": "25.00",
            "notes": "never scanned after pickup", "photo_urls": ["https://example.com/box.jpg"]}
    for bad, field in (({**body, "amount": "1e9"}, "amount"), ({**body, "amount": "1.234"}, "amount"),
                       ({**body, "photo_urls": ["javascript:alert(1)"]}, "photo_urls"),
                       ({**body, "against": "god"}, "against"), ({**body, "kind": "stolen"}, "kind")):
        r = client.post("/api/returns/claims", json=bad, headers=auth())
        assert r.status_code == 422 and r.get_json()["error"]["field"] == field, bad
    assert client.post("/api/returns/claims", json={**body, "shipment_id": other_shipment.id},
                       headers=auth()).status_code == 404
    assert count(Claim) == 0
    first = client.post("/api/returns/claims", json=body, headers=auth()).get_json()
    assert client.post("/api/returns/claims", json=body, headers=auth()).get_json()["id"] == first["id"]
    assert count(Claim) == 1 and first["status"] == "open" and first["amount_claimed"] == "25.00"
    r = client.post(f"/api/returns/claims/{first['id']}/settle", json={"outcome": "refunded", "amount": "25.00"},
                    headers=auth())
    assert r.status_code == 200 and r.get_json()["status"] == "settled"
    assert client.post(f"/api/returns/claims/{first['id']}/settle", json={"outcome": "refunded"},
                       headers=auth()).status_code == 200
    assert client.post(f"/api/returns/claims/{first['id']}/settle", json={"outcome": "rejected"},
                       headers=auth()).status_code == 409
    listed = client.get("/api/returns/claims?status=settled", headers=auth()).get_json()["items"]
    assert [c["id"] for c in listed] == [first["id"]]
