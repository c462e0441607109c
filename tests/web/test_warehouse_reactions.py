"""What follows a merchant's warehouse setup: a connected account's stock is read at once (an order
placed before the next poll round would otherwise find none and be backordered), and a change to
what a warehouse promises (transit, handling, country, active…) has the storefront's statuses
worked out again. Both through the wiring, after the commit."""

from __future__ import annotations

from sqlalchemy import select

from integration import job_catalog
from integration.extensions import db, queues
from integration.models import StockLevel, Variant, Warehouse
from tests.web.test_warehouse_setup import (  # noqa: F401 - fixtures
    auth,
    connect,
    provider_api,
    shops,
)


def queued(name: str) -> list[tuple]:
    return [tuple(job.args) for job in queues["sync"].get_jobs() if job.func_name == name]


def test_a_connected_accounts_stock_is_read_at_once(client, shops, request, worker):  # noqa: F811
    from tests.web.test_warehouse_setup import _winit

    provider, url, creds, _secret, _expected = _winit(request)
    for n, sku in enumerate(("MUG-BLUE", "MUG-RED", "TEE-M")):  # the shop's catalog: what the ledger takes
        db.session.add(Variant(shop_id=shops[0].id, shopify_id=f"gid://shopify/ProductVariant/{n}",
                               product_shopify_id="gid://shopify/Product/1", sku=sku))
    db.session.commit()
    r = client.post("/api/warehouse-accounts", headers=auth(),
                    json={"provider": provider, "name": "WINIT", "credentials": creds, "endpoint": url})
    assert r.status_code == 201, r.json
    assert queued(job_catalog.POLL_INVENTORY) == [(r.json["account"]["id"],)]
    worker.run()
    levels = db.session.execute(select(Warehouse.code, StockLevel.sku, StockLevel.on_hand)
                                .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)).all()
    assert ("DEWH", "MUG-BLUE", 100) in levels and ("USWC", "MUG-BLUE", 40) in levels


def test_a_warehouses_new_promise_refreshes_the_storefront(client, shops, provider_api):  # noqa: F811
    assert connect(client, provider_api).status_code == 201
    shop_id = shops[0].id
    dewh = db.session.execute(select(Warehouse).where(Warehouse.code == "DEWH")).scalar_one()
    for job in queues["sync"].get_jobs():
        job.delete()
    r = client.patch(f"/api/warehouses/{dewh.id}", json={"transit_days": {"DE": [1, 2]}}, headers=auth())
    assert r.status_code == 200, r.json
    assert queued(job_catalog.REFRESH_SHOP) == [(shop_id,)]
    same = client.patch(f"/api/warehouses/{dewh.id}", json={"transit_days": {"DE": [1, 2]}}, headers=auth())
    assert same.status_code == 200 and queued(job_catalog.REFRESH_SHOP) == [(shop_id,)]  # nothing changed
    bad = client.patch(f"/api/warehouses/{dewh.id}", json={"handling_hours": 0}, headers=auth())
    assert bad.status_code == 422 and queued(job_catalog.REFRESH_SHOP) == [(shop_id,)]
    account_id = dewh.account_id
    paused = client.patch(f"/api/warehouse-accounts/{account_id}", json={"active": False}, headers=auth())
    assert paused.status_code == 200 and queued(job_catalog.REFRESH_SHOP) == [(shop_id,), (shop_id,)]
