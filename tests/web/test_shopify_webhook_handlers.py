"""Shopify webhook topics end to end: signed POST -> inbox -> real RQ worker -> handler -> rows.

Bodies follow Shopify's REST webhook samples (https://shopify.dev/docs/api/webhooks): numeric ids
next to ``admin_graphql_api_id``, timestamps with offsets, prices as strings.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from rq import SimpleWorker
from rq.job import Job
from sqlalchemy import select

from integration import signals
from integration.extensions import db, queues, redis
from integration.job_serializer import JobSerializer
from integration.models import (
    Base,
    ComplianceRequest,
    EventStatus,
    Fulfillment,
    InventoryLevel,
    Location,
    Order,
    OrderLine,
    Shop,
    ShopStatus,
    Variant,
    WebhookEvent,
)
from integration.models.base import utcnow
from jobs.worker import build_worker
from tests.helpers import shopify_webhook

SHOP = "acme.myshopify.com"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ORDER_ID = 820982911946154508
PRODUCT_ID = 788032119674292922
CUSTOMER_A = {"id": 115310627314723954, "email": "adelheid.quixwell@example.com", "first_name": "Adelheid",
              "last_name": "Quixwell", "phone": "+49 30 5550101", "address1": "Zwirngasse 17", "city": "Quedlinburg",
              "zip": "06484", "country_code": "DE"}


def ts(minutes: float, offset_hours: int = -5) -> str:
    """T0 + minutes, written the way Shopify does (shop-local offset, e.g. -05:00)."""
    return (T0 + timedelta(minutes=minutes)).astimezone(timezone(timedelta(hours=offset_hours))).isoformat()


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def make_shop(domain: str = SHOP, **values) -> int:
    values.setdefault("access_token", "shpat_test_token")
    values.setdefault("status", ShopStatus.INSTALLED)
    shop = Shop(domain=domain, **values)
    db.session.add(shop)
    db.session.commit()
    return shop.id


def address(c: dict) -> dict:
    return {"first_name": c["first_name"], "last_name": c["last_name"], "name": f"{c['first_name']} {c['last_name']}",
            "address1": c["address1"], "address2": None, "city": c["city"], "zip": c["zip"], "province": None,
            "country": "Germany", "country_code": c["country_code"], "province_code": None, "phone": c["phone"],
            "company": None, "latitude": None, "longitude": None}


def line(n: int, quantity: int = 1, current: int | None = None) -> dict:
    line_id = 487817672276298500 + n
    return {"id": line_id, "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
            "variant_id": 642667041472713900 + n, "product_id": PRODUCT_ID, "sku": f"SKU-{n}",
            "name": f"Aviator sunglasses {n}", "title": "Aviator sunglasses", "quantity": quantity,
            "current_quantity": quantity if current is None else current, "price": "89.99",
            "price_set": {"shop_money": {"amount": "89.99", "currency_code": "EUR"}}, "properties": []}


def order_payload(order_id: int = ORDER_ID, *, updated: float = 0, customer: dict = CUSTOMER_A,
                  lines: list | None = None, cancelled: float | None = None, **extra) -> dict:
    c = customer
    body = {
        "id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}", "name": f"#{order_id % 10000}",
        "email": c["email"], "contact_email": c["email"], "phone": None, "created_at": ts(0), "updated_at": ts(updated),
        "cancelled_at": None if cancelled is None else ts(cancelled), "cancel_reason": None, "currency": "EUR",
        "total_price": "404.95", "financial_status": "paid", "fulfillment_status": None, "customer_locale": "de",
        "customer": {"id": c["id"], "admin_graphql_api_id": f"gid://shopify/Customer/{c['id']}", "email": c["email"],
                     "first_name": c["first_name"], "last_name": c["last_name"], "phone": c["phone"],
                     "default_address": {**address(c), "customer_id": c["id"]}},
        "billing_address": address(c), "shipping_address": address(c),
        "line_items": [line(1), line(2, quantity=2)] if lines is None else lines,
    }
    body.update(extra)
    return body


def fulfillment_payload(fulfillment_id: int = 123456, *, order_id: int = ORDER_ID, updated: float = 0,
                        shipment_status: str | None = None) -> dict:
    return {"id": fulfillment_id, "admin_graphql_api_id": f"gid://shopify/Fulfillment/{fulfillment_id}",
            "order_id": order_id, "status": "success", "created_at": ts(0), "updated_at": ts(updated),
            "tracking_company": "UPS", "shipment_status": shipment_status, "email": CUSTOMER_A["email"],
            "destination": address(CUSTOMER_A), "tracking_number": "1z827wk74630", "tracking_numbers": ["1z827wk74630"],
            "tracking_url": "https://www.ups.com/track?num=1z827wk74630",
            "tracking_urls": ["https://www.ups.com/track?num=1z827wk74630"], "name": "#1001.1", "line_items": []}


def variant(n: int, *, title: str, inventory_item: int | None = None) -> dict:
    variant_id = 642667041472713900 + n
    return {"id": variant_id, "admin_graphql_api_id": f"gid://shopify/ProductVariant/{variant_id}",
            "product_id": PRODUCT_ID, "title": title, "sku": f"SKU-{n}", "barcode": None, "price": "19.99",
            "inventory_item_id": inventory_item, "position": n, "updated_at": ts(0)}


def product_payload(variants: list, *, updated: float, variant_gids: list | bool | None = True) -> dict:
    body = {"id": PRODUCT_ID, "admin_graphql_api_id": f"gid://shopify/Product/{PRODUCT_ID}",
            "title": "Example T-Shirt", "updated_at": ts(updated), "status": "active", "variants": variants}
    if variant_gids is True:
        variant_gids = [v["admin_graphql_api_id"] for v in variants]
    if variant_gids:
        body["variant_gids"] = [{"admin_graphql_api_id": g, "updated_at": ts(updated, 0)} for g in variant_gids]
    return body


def location_payload(location_id: int = 866550311766439020, *, updated: float, name: str = "Berlin DC",
                     active: bool = True) -> dict:
    return {"id": location_id, "admin_graphql_api_id": f"gid://shopify/Location/{location_id}", "name": name,
            "address1": "Lagerstrasse 1", "address2": None, "city": "Berlin", "zip": "10115", "province": None,
            "country": "DE", "phone": "555-555-5555", "created_at": ts(0), "updated_at": ts(updated),
            "country_code": "DE", "country_name": "Germany", "province_code": None, "legacy": False, "active": active}


def rows(model) -> list:
    db.session.expire_all()
    return db.session.execute(select(model).order_by(model.id)).scalars().all()


def event_for(webhook_id: str) -> WebhookEvent:
    db.session.expire_all()
    return db.session.execute(select(WebhookEvent).where(WebhookEvent.delivery_id == webhook_id)).scalar_one()


def send(client, topic: str, payload, *, webhook_id: str | None = None, shop: str = SHOP):
    r = shopify_webhook(client, topic, payload, shop=shop, webhook_id=webhook_id)
    assert r.status_code == 200, r.data
    return r


@pytest.fixture
def shop_id(app) -> int:
    return make_shop()


@pytest.fixture
def fired():
    """Every signal the Shopify handlers send during the test, as (name, kwargs). (Downstream
    signals, such as the alerts an allocation raises, are other features' business.)"""
    seen: list[tuple[str, dict]] = []
    handler_signals = (signals.ORDER_CHANGED, signals.STOCK_CHANGED, signals.SHIPMENT_STATUS_CHANGED)
    receivers = {name: (lambda name=name, **kw: seen.append((name, kw))) for name in handler_signals}
    for name, receiver in receivers.items():
        signals.connect(name, receiver)
    yield seen
    for name, receiver in receivers.items():
        signals.disconnect(name, receiver)


def run_events_only() -> None:
    """Process inbox events but leave jobs they enqueue on other queues in place."""
    build_worker(["events"], worker_class=SimpleWorker).work(burst=True, logging_level="WARNING")


# -- orders -----------------------------------------------------------------------------------


def test_order_create_stores_order_and_lines_with_gids(client, worker, shop_id, fired):
    send(client, "orders/create", order_payload(updated=1), webhook_id="o-1")
    worker.run()
    assert event_for("o-1").status == EventStatus.DONE
    [order] = rows(Order)
    assert (order.shop_id, order.channel, order.external_id) == (shop_id, "shopify", f"gid://shopify/Order/{ORDER_ID}")
    assert order.customer_external_id == f"gid://shopify/Customer/{CUSTOMER_A['id']}"
    assert order.email == CUSTOMER_A["email"] and order.customer_name == "Adelheid Quixwell"
    assert order.shipping_address["address1"] == "Zwirngasse 17" and order.shipping_country == "DE"
    assert str(order.total_price) == "404.95" and order.currency == "EUR" and order.locale == "de"
    assert order.external_updated_at == at(1) and order.external_created_at == at(0)
    lines = rows(OrderLine)
    assert [(ln.external_id, ln.variant_external_id, ln.sku, ln.quantity) for ln in lines] == [
        ("gid://shopify/LineItem/487817672276298501", "gid://shopify/ProductVariant/642667041472713901", "SKU-1", 1),
        ("gid://shopify/LineItem/487817672276298502", "gid://shopify/ProductVariant/642667041472713902", "SKU-2", 2),
    ]
    assert fired == [("order_changed", {"order_id": order.id})]


def test_duplicates_and_out_of_order_order_webhooks(client, worker, shop_id, fired):
    send(client, "orders/updated", order_payload(updated=10, total_price="100.00"), webhook_id="u-10")
    send(client, "orders/updated", order_payload(updated=10, total_price="100.00"), webhook_id="u-10")  # redelivery
    send(client, "orders/updated", order_payload(updated=10, total_price="100.00"), webhook_id="u-10b")  # same copy
    send(client, "orders/create", order_payload(updated=0, total_price="1.00"), webhook_id="c-0")  # overtaken
    worker.run()
    [order] = rows(Order)
    assert str(order.total_price) == "100.00" and order.external_updated_at == at(10)
    assert len(fired) == 1  # neither the duplicate nor the older copy changed anything
    assert {e.status for e in rows(WebhookEvent)} == {EventStatus.DONE}
    assert len(rows(WebhookEvent)) == 3  # the redelivery with the same webhook id was not stored again

    # A newer edit removes line 2 and takes one unit of line 1 off the order.
    send(client, "orders/updated", order_payload(updated=20, lines=[line(1, quantity=3, current=2)]))
    send(client, "orders/cancelled", order_payload(updated=15, cancelled=15))  # older than the edit
    worker.run()
    [order] = rows(Order)
    assert order.cancelled_at is None and order.external_updated_at == at(20)
    assert [(ln.sku, ln.quantity) for ln in rows(OrderLine)] == [("SKU-1", 2)]

    send(client, "orders/cancelled", order_payload(updated=30, cancelled=29, lines=[line(1, 3, 2)]))
    worker.run()
    [order] = rows(Order)
    assert order.cancelled_at == at(29) and order.external_updated_at == at(30)
    assert [name for name, _ in fired] == ["order_changed"] * 3


def test_signal_receivers_share_the_transaction_and_on_commit_waits_for_it(client, worker, shop_id):
    attempts, committed = [], []

    def receiver(order_id):
        attempts.append(order_id)
        signals.on_commit(db.session(), lambda: committed.append(order_id))
        if len(attempts) == 1:
            raise RuntimeError("subscriber failed")  # rolls the order back with it; the event is retried

    signals.connect("order_changed", receiver)
    try:
        send(client, "orders/create", order_payload(), webhook_id="sig")
        worker.run()
    finally:
        signals.disconnect("order_changed", receiver)
    [order] = rows(Order)
    assert len(attempts) == 2 and committed == [order.id] and event_for("sig").status == EventStatus.DONE


def test_cancellation_that_overtakes_the_creation_creates_the_order(client, worker, shop_id):
    send(client, "orders/cancelled", order_payload(updated=5, cancelled=5))
    send(client, "orders/create", order_payload(updated=0))
    worker.run()
    [order] = rows(Order)
    assert order.cancelled_at == at(5) and len(rows(OrderLine)) == 2


# -- fulfillments -------------------------------------------------------------------------------


def test_fulfillments_link_to_their_order_and_follow_shipment_status(client, worker, shop_id, fired):
    send(client, "fulfillments/create", fulfillment_payload(updated=1))  # before its order arrived
    worker.run()
    [f] = rows(Fulfillment)
    assert f.external_id == "gid://shopify/Fulfillment/123456" and f.order_id is None
    assert f.order_external_id == f"gid://shopify/Order/{ORDER_ID}" and f.tracking_number == "1z827wk74630"
    assert f.tracking_company == "UPS" and f.status == "success"

    send(client, "orders/create", order_payload(updated=0))
    worker.run()
    [order] = rows(Order)
    assert rows(Fulfillment)[0].order_id == order.id

    send(client, "fulfillments/update", fulfillment_payload(updated=10, shipment_status="in_transit"))
    send(client, "fulfillments/update", fulfillment_payload(updated=8, shipment_status="delivered"))  # older
    worker.run()
    assert rows(Fulfillment)[0].shipment_status == "in_transit"
    send(client, "fulfillments/update", fulfillment_payload(updated=12, shipment_status="delivered"))
    worker.run()
    [f] = rows(Fulfillment)
    assert f.shipment_status == "delivered" and f.order_id == order.id
    assert [kw for name, kw in fired if name == "shipment_status_changed"] == [
        {"fulfillment_id": f.id, "shipment_status": "in_transit"},
        {"fulfillment_id": f.id, "shipment_status": "delivered"},
    ]


# -- inventory, products, locations ------------------------------------------------------------


def level_payload(available, updated: float) -> dict:
    return {"inventory_item_id": 271878346596884015, "location_id": 24826418, "available": available,
            "updated_at": ts(updated),
            "admin_graphql_api_id": "gid://shopify/InventoryLevel/24826418?inventory_item_id=271878346596884015"}


def test_inventory_level_update_is_newer_only(client, worker, shop_id, fired):
    send(client, "inventory_levels/update", level_payload(10, updated=5))
    send(client, "inventory_levels/update", level_payload(99, updated=3))  # late, older
    worker.run()
    [level] = rows(InventoryLevel)
    assert level.inventory_item_id == "gid://shopify/InventoryItem/271878346596884015"
    assert level.location_shopify_id == "gid://shopify/Location/24826418"
    assert level.available == 10 and level.external_updated_at == at(5)
    send(client, "inventory_levels/update", level_payload(7, updated=6))
    send(client, "inventory_levels/update", level_payload(None, updated=7))  # untracked: nothing to store
    worker.run()
    assert [lv.available for lv in rows(InventoryLevel)] == [7]
    assert [kw["available"] for name, kw in fired if name == "stock_changed"] == [10, 7]
    assert fired[0][1] == {"shop_id": shop_id, "inventory_item_id": level.inventory_item_id,
                           "location_id": level.location_shopify_id, "available": 10}


def variants_by_sku() -> dict:
    return {v.sku: v for v in rows(Variant)}


def test_products_update_and_delete_variants(client, worker, shop_id):
    small, medium = variant(1, title="Small", inventory_item=555), variant(2, title="Medium")
    send(client, "products/update", product_payload([small, medium], updated=5))
    worker.run()
    found = variants_by_sku()
    assert found["SKU-1"].shopify_id == "gid://shopify/ProductVariant/642667041472713901"
    assert found["SKU-1"].product_shopify_id == f"gid://shopify/Product/{PRODUCT_ID}"
    assert found["SKU-1"].inventory_item_id == "gid://shopify/InventoryItem/555"
    assert found["SKU-1"].title == "Example T-Shirt - Small" and found["SKU-2"].deleted_at is None

    send(client, "products/update", product_payload([{**small, "inventory_item_id": None}], updated=10))
    send(client, "products/update", product_payload([small, medium], updated=7))  # late, older
    worker.run()
    found = variants_by_sku()
    assert found["SKU-2"].deleted_at is not None and found["SKU-1"].deleted_at is None
    assert found["SKU-1"].inventory_item_id == "gid://shopify/InventoryItem/555"  # null in the body: kept

    # More than 100 variants: details for some, the full list in variant_gids -> nothing removed.
    large = variant(3, title="Large")
    gids = [small["admin_graphql_api_id"], large["admin_graphql_api_id"], "gid://shopify/ProductVariant/9"]
    send(client, "products/update", product_payload([large], updated=12, variant_gids=gids))
    send(client, "products/update", {**product_payload([], updated=13, variant_gids=False), "variants": None})
    worker.run()
    found = variants_by_sku()
    assert found["SKU-1"].deleted_at is None and found["SKU-3"].deleted_at is None and len(found) == 3

    send(client, "products/delete", {"id": PRODUCT_ID})
    worker.run()
    assert all(v.deleted_at is not None for v in rows(Variant))
    send(client, "products/update", product_payload([small], updated=20))  # sent before the deletion
    worker.run()
    assert variants_by_sku()["SKU-1"].deleted_at is not None


def test_locations_create_update_delete(client, worker, shop_id):
    send(client, "locations/create", location_payload(updated=1))
    send(client, "locations/update", location_payload(updated=5, name="Berlin Hub"))
    send(client, "locations/update", location_payload(updated=3, name="Old name"))  # older
    worker.run()
    [loc] = rows(Location)
    assert loc.shopify_id == "gid://shopify/Location/866550311766439020"
    assert (loc.name, loc.address, loc.country_code, loc.active) == ("Berlin Hub", "Lagerstrasse 1, 10115, Berlin",
                                                                     "DE", True)
    send(client, "locations/delete", {"id": 866550311766439020})
    worker.run()
    send(client, "locations/update", location_payload(updated=6, name="Zombie"))  # sent before the deletion
    worker.run()
    [loc] = rows(Location)
    assert loc.deleted_at is not None and loc.active is False and loc.name == "Berlin Hub"

    send(client, "locations/delete", {"id": 42})  # deletion overtook the creation
    send(client, "locations/create", location_payload(42, updated=1, name="Never seen"))
    worker.run()
    ghost = next(loc for loc in rows(Location) if loc.shopify_id == "gid://shopify/Location/42")
    assert ghost.deleted_at is not None and ghost.name != "Never seen"


# -- bulk operations, app lifecycle ---------------------------------------------------------------


def test_bulk_operation_finish_enqueues_the_import_job_once(client, shop_id):
    body = {"admin_graphql_api_id": "gid://shopify/BulkOperation/147595010", "completed_at": ts(2),
            "created_at": ts(0), "error_code": None, "status": "completed", "type": "query"}
    send(client, "bulk_operations/finish", body, webhook_id="b-1")
    send(client, "bulk_operations/finish", body, webhook_id="b-2")  # a second subscription's copy
    run_events_only()
    assert queues["sync"].get_job_ids() == ["bulk-finish-147595010"]
    job = Job.fetch("bulk-finish-147595010", connection=redis.client, serializer=JobSerializer)
    assert job.func_name == "jobs.shopify.process_bulk_finish"
    assert list(job.args) == [shop_id, "gid://shopify/BulkOperation/147595010"]
    assert {event_for(w).status for w in ("b-1", "b-2")} == {EventStatus.DONE}


def test_app_uninstalled_revokes_tokens_and_keeps_data(client, worker):
    shop_id = make_shop(refresh_token="shprt_refresh", access_token_expires_at=utcnow() + timedelta(hours=1),
                        refresh_token_expires_at=utcnow() + timedelta(days=30))
    send(client, "orders/create", order_payload())
    worker.run()
    send(client, "app/uninstalled", {"id": 548380009, "name": "Super Toys", "domain": None,
                                     "myshopify_domain": SHOP, "email": "super@supertoys.com"})
    worker.run()
    db.session.expire_all()
    shop = db.session.get(Shop, shop_id)
    assert shop.status == ShopStatus.UNINSTALLED and shop.uninstalled_at is not None
    assert (shop.access_token, shop.refresh_token, shop.access_token_expires_at, shop.refresh_token_expires_at) == (
        None, None, None, None)
    assert len(rows(Order)) == 1 and len(rows(OrderLine)) == 2  # data kept until shop/redact

    send(client, "orders/updated", order_payload(updated=50, total_price="1.00"), webhook_id="after")
    worker.run()
    assert event_for("after").status == EventStatus.DONE and str(rows(Order)[0].total_price) == "404.95"


def test_uninstall_received_before_a_reinstall_does_not_revoke_it(client, worker, shop_id):
    send(client, "app/uninstalled", {"id": 548380009})
    db.session.get(Shop, shop_id).installed_at = utcnow() + timedelta(seconds=1)  # reinstalled meanwhile
    db.session.commit()
    worker.run()
    shop = rows(Shop)[0]
    assert shop.status == ShopStatus.INSTALLED and shop.access_token == "shpat_test_token"


def test_unknown_shop_is_ignored(client, worker, shop_id):
    send(client, "orders/create", order_payload(), shop="ghost.myshopify.com", webhook_id="ghost")
    worker.run()
    assert event_for("ghost").status == EventStatus.DONE and rows(Order) == []


# -- malformed bodies ------------------------------------------------------------------------------


def snapshot() -> dict:
    """Every row of every table except the inbox itself."""
    db.session.expire_all()
    return {t.name: sorted(map(repr, db.session.execute(select(t)).all()))
            for t in Base.metadata.sorted_tables if t.name != "webhook_events"}


MALFORMED = [
    ("orders/create", [order_payload()]),
    ("orders/create", order_payload(id="820982911946154508x")),
    ("orders/create", order_payload(updated_at=None)),
    ("orders/create", order_payload(updated_at="last tuesday")),
    ("orders/create", order_payload(admin_graphql_api_id="gid://shopify/Order/1")),
    ("orders/create", order_payload(admin_graphql_api_id="gid://shopify/Product/820982911946154508")),
    ("orders/create", order_payload(email="x" * 400 + "@example.com")),
    ("orders/create", order_payload(total_price="lots")),
    ("orders/create", order_payload(total_price="1e40")),
    ("orders/create", order_payload(lines=[{**line(1), "quantity": "1"}])),
    ("orders/create", order_payload(lines=[line(1), line(1)])),
    ("orders/create", {**order_payload(), "customer": "Adelheid"}),
    ("orders/create", order_payload(line_items={"0": line(1)})),
    ("orders/cancelled", order_payload(updated=99)),  # no cancelled_at
    ("fulfillments/create", {**fulfillment_payload(updated=99), "updated_at": 5}),
    ("fulfillments/update", {**fulfillment_payload(updated=99), "tracking_numbers": [{"n": 1}]}),
    ("inventory_levels/update", {**level_payload(5, 99), "inventory_item_id": True}),
    ("inventory_levels/update", {**level_payload(5, 99), "available": 10**12}),
    ("products/update", {**product_payload([], updated=99), "variants": "all"}),
    ("products/update", product_payload([{**variant(1, title="S"), "product_id": 1}], updated=99)),
    ("products/delete", {"id": -3}),
    ("locations/update", location_payload(updated=99, active="yes")),
    ("locations/delete", {}),
    ("bulk_operations/finish", {"admin_graphql_api_id": "gid://shopify/Order/1", "status": "completed"}),
    ("app/uninstalled", "uninstalled"),
    ("customers/redact", {"shop_domain": "evil.com", "customer": {"id": 1}}),
    ("customers/redact", {"shop_domain": "other.myshopify.com", "customer": {"id": CUSTOMER_A["id"]}}),
    ("customers/data_request", {"shop_domain": SHOP, "customer": {}, "orders_requested": []}),
    ("shop/redact", {"shop_domain": 5}),
    ("shop/redact", {"shop_domain": "other.myshopify.com", "shop_id": 1}),
    ("orders/create", b"{not json"),
    ("orders/create", b"null"),
]


@pytest.mark.parametrize(("topic", "body"), MALFORMED, ids=[f"{t}-{i}" for i, (t, _) in enumerate(MALFORMED)])
def test_malformed_body_fails_the_event_and_changes_nothing(client, worker, shop_id, topic, body):
    send(client, "orders/create", order_payload(updated=1))
    worker.run()
    before = snapshot()
    send(client, topic, body, webhook_id="bad")
    send(client, "inventory_levels/update", level_payload(3, updated=1), webhook_id="good")
    worker.run()
    bad = event_for("bad")
    assert bad.status == EventStatus.FAILED and bad.attempts == 1 and bad.error
    assert "Adelheid" not in bad.error and CUSTOMER_A["email"] not in bad.error  # no values echoed
    assert event_for("good").status == EventStatus.DONE
    after = snapshot()
    assert len(after.pop("inventory_levels")) == 1
    before.pop("inventory_levels")
    assert after == before
    assert rows(ComplianceRequest) == []
