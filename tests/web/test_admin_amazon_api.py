"""``GET /api/amazon/orders``: the shop's imported Amazon orders with marketplace, account and
shipment-confirmation state, filtered and paginated on the server; another shop's orders never."""

from __future__ import annotations

from sqlalchemy import select

from integration.extensions import db
from integration.models import OutboundOrder, Shipment
from integration.models.amazon import AmazonAccount, AmazonOrder, AmazonShipmentConfirmation
from integration.models.base import utcnow
from tests.helpers_warehouse import make_account, make_order, make_shop, make_warehouse
from tests.test_loyalty_support import auth

SHOP_A, SHOP_B = "a-shop.myshopify.com", "b-shop.myshopify.com"
DE, FR = "A1PA6795UKMFR9", "A13V1IB3VIYZZH"


def _amazon_account(shop, name="EU", seller="A1SELLER") -> AmazonAccount:
    account = AmazonAccount(shop_id=shop.id, name=name, seller_id=seller, region="eu", marketplaces=[DE, FR],
                            lwa_client_id="id", lwa_client_secret="secret", refresh_token="refresh")
    db.session.add(account)
    db.session.commit()
    return account


class Builder:
    def __init__(self, shop) -> None:
        self.shop = shop
        self.account = _amazon_account(shop, seller=f"S-{shop.id}")
        self.warehouse = make_warehouse(shop, make_account(shop), f"W{shop.id}", "DE")
        self.n = 0
        self.parcels = 0

    def order(self, *, marketplace=DE, channel="amazon", cancelled=False):
        self.n += 1
        order = make_order(self.shop, f"302-{self.shop.id:03}{self.n:04}-0000000", [("MUG", 1)], channel=channel)
        if cancelled:
            order.cancelled_at = utcnow()
        db.session.add(AmazonOrder(order_id=order.id, account_id=self.account.id, marketplace_id=marketplace))
        db.session.commit()
        return order

    def ship(self, order, *, confirmed: bool | None = None, error: str | None = None) -> Shipment:
        outbound = db.session.execute(select(OutboundOrder).where(OutboundOrder.order_id == order.id)).scalar()
        if outbound is None:
            outbound = OutboundOrder(shop_id=self.shop.id, order_id=order.id, warehouse_id=self.warehouse.id,
                                     reference=f"NS{order.id:08d}", status="shipped")
            db.session.add(outbound)
            db.session.flush()
        self.parcels += 1
        shipment = Shipment(shop_id=self.shop.id, order_id=order.id, outbound_id=outbound.id,
                            tracking_number=f"TRK{order.id}-{self.parcels}", lines=[["MUG", 1]], shipped_at=utcnow())
        db.session.add(shipment)
        db.session.flush()
        if confirmed is not None:
            db.session.add(AmazonShipmentConfirmation(
                shipment_id=shipment.id, shop_id=self.shop.id, order_id=order.id, package_reference_id=str(shipment.id),
                confirmed_at=utcnow() if confirmed else None, error=error))
        db.session.commit()
        return shipment


def _orders(client, shop=SHOP_A, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    r = client.get(f"/api/amazon/orders?{query}", headers=auth(shop))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_each_order_shows_marketplace_account_and_confirmation_state(client):
    b = Builder(make_shop(SHOP_A))
    unshipped = b.order()
    confirmed = b.order(marketplace=FR)
    b.ship(confirmed, confirmed=True)
    pending = b.order()
    b.ship(pending, confirmed=True)
    b.ship(pending)  # the second parcel is not confirmed yet
    failed = b.order()
    b.ship(failed, confirmed=False, error="InvalidInput: carrier code unknown")
    afn = b.order(channel="amazon_afn")
    cancelled = b.order(cancelled=True)

    body = _orders(client)
    assert body["page"] == 1 and not body["has_next_page"] and not body["has_previous_page"]
    by_id = {o["id"]: o for o in body["items"]}
    assert [o["id"] for o in body["items"]] == sorted(by_id, reverse=True)  # newest first
    assert by_id[unshipped.id]["state"] == "unshipped" and by_id[unshipped.id]["shipments"] == 0
    assert by_id[confirmed.id]["state"] == "confirmed" and by_id[confirmed.id]["marketplace_id"] == FR
    pending_row = by_id[pending.id]
    assert (pending_row["state"], pending_row["shipments"], pending_row["confirmed"]) == ("pending", 2, 1)
    assert by_id[failed.id]["state"] == "failed"
    assert by_id[failed.id]["confirmation_error"] == "InvalidInput: carrier code unknown"
    assert by_id[afn.id]["state"] == "fulfilled_by_amazon" and by_id[afn.id]["fulfillment"] == "amazon"
    assert by_id[cancelled.id]["state"] == "cancelled"
    assert by_id[unshipped.id]["account"] == {"id": b.account.id, "name": "EU"}
    assert by_id[unshipped.id]["amazon_order_id"] == unshipped.external_id

    for state, order in (("failed", failed), ("confirmed", confirmed), ("unshipped", unshipped)):
        assert [o["id"] for o in _orders(client, status=state)["items"]] == [order.id]


def test_pages_and_bad_parameters(client):
    b = Builder(make_shop(SHOP_A))
    ids = [b.order().id for _ in range(5)]
    first = _orders(client, limit=2)
    assert [o["id"] for o in first["items"]] == ids[::-1][:2] and first["has_next_page"]
    last = _orders(client, limit=2, page=3)
    assert [o["id"] for o in last["items"]] == [ids[0]] and not last["has_next_page"] and last["has_previous_page"]
    for query in ("status=nope", "page=0", "limit=1000", "page=abc"):
        r = client.get(f"/api/amazon/orders?{query}", headers=auth(SHOP_A))
        assert r.status_code == 400, query
        assert r.get_json()["error"]["message"]
    assert client.get("/api/amazon/orders").status_code == 401


def test_shop_b_never_sees_shop_a_orders(client):
    a = Builder(make_shop(SHOP_A))
    b = Builder(make_shop(SHOP_B))
    a.order()
    mine = b.order()
    assert [o["id"] for o in _orders(client, shop=SHOP_B)["items"]] == [mine.id]
    assert len(_orders(client, shop=SHOP_A)["items"]) == 1
    # An AmazonOrder row naming another shop's account does not leak either.
    db.session.add(AmazonOrder(order_id=make_order(a.shop, "302-9", [("MUG", 1)], channel="amazon").id,
                               account_id=b.account.id, marketplace_id=DE))
    db.session.commit()
    assert [o["id"] for o in _orders(client, shop=SHOP_B)["items"]] == [mine.id]
