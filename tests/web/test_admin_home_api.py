"""The admin home's API: the setup guide ticks each step from the shop's real state, the health
of each connection comes from what the sync recorded, the test notice goes through the real
outbox once per click, and shop B's token never sees shop A's anything."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from integration.extensions import db
from integration.models import Alert, IntegrationLog, ShopSettings, SyncCursor
from integration.models.amazon import AmazonAccount, AmazonOrder
from integration.models.base import utcnow
from integration.models.notification import Notification, NotificationSettings
from tests.helpers_warehouse import make_account, make_order, make_shop, make_warehouse
from tests.test_loyalty_support import auth, make_program, proxy_query

SHOP_A, SHOP_B = "a-shop.myshopify.com", "b-shop.myshopify.com"


def _shop(domain: str, email: str | None = "owner@a-shop.example"):
    shop = make_shop(domain)
    shop.email = email
    db.session.commit()
    return shop


def _home(client, domain: str) -> dict:
    r = client.get("/api/home", headers=auth(domain))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _steps(body: dict) -> dict[str, dict]:
    return {s["id"]: s for s in body["setup"]["steps"]}


def _test_notice(client, domain: str, key: str, kind: str = "shipped", locale: str = "de"):
    return client.post("/api/notifications/test", json={"kind": kind, "locale": locale, "key": key},
                       headers=auth(domain))


def test_needs_a_session_token(client):
    _shop(SHOP_A)
    assert client.get("/api/home").status_code == 401
    assert client.post("/api/notifications/test", json={}).status_code == 401


def test_a_new_shop_has_nothing_done_and_healthy_shopify(client):
    _shop(SHOP_A)
    body = _home(client, SHOP_A)
    assert body["setup"] == {"steps": body["setup"]["steps"], "done": 0, "total": 5}
    assert [s["id"] for s in body["setup"]["steps"]] == [
        "connect_warehouse", "map_locations", "storefront_block", "loyalty", "test_notice"]
    assert all(not s["done"] for s in body["setup"]["steps"])
    assert {s["page"] for s in body["setup"]["steps"]} == {"warehouses", "storefront", "loyalty", "notices"}
    shopify = body["health"]["shopify"]
    assert shopify["token"] == "ok" and shopify["shop_status"] == "installed" and shopify["status"] == "unknown"
    assert shopify["last_import"] is None and shopify["last_webhook_at"] is None
    assert body["health"]["warehouses"] == [] and body["health"]["amazon"] == []


def test_each_step_ticks_itself_from_real_state(client, worker):
    shop = _shop(SHOP_A)
    account = make_account(shop, "winit")
    warehouse = make_warehouse(shop, account, "DE1", "DE")
    steps = _steps(_home(client, SHOP_A))
    assert steps["connect_warehouse"]["done"] and steps["connect_warehouse"]["accounts"] == 1
    mapping = steps["map_locations"]
    assert not mapping["done"] and (mapping["warehouses"], mapping["mapped"]) == (1, 0)

    warehouse.location_shopify_id = "gid://shopify/Location/1"
    db.session.commit()
    assert _steps(_home(client, SHOP_A))["map_locations"]["done"]

    # The storefront block asks the app proxy for a variant's status: the first call is recorded.
    r = client.get(f"/proxy/stock?{proxy_query(None, shop=SHOP_A, variant_id='123')}")
    assert r.status_code in (200, 404)
    steps = _steps(_home(client, SHOP_A))
    assert steps["storefront_block"]["done"] and steps["storefront_block"]["seen_at"]

    make_program(shop.id, enabled=True)
    assert _steps(_home(client, SHOP_A))["loyalty"]["done"]

    r = _test_notice(client, SHOP_A, "click-0001")
    assert r.status_code == 202, r.get_json()
    step = _steps(_home(client, SHOP_A))["test_notice"]
    assert not step["done"] and step["last"]["status"] == "queued"
    worker.run()
    body = _home(client, SHOP_A)
    assert _steps(body)["test_notice"]["done"] and _steps(body)["test_notice"]["last"]["sent_at"]
    assert body["setup"]["done"] == 5


def test_a_disabled_or_unmapped_warehouse_does_not_count(client):
    shop = _shop(SHOP_A)
    account = make_account(shop, "winit")
    make_warehouse(shop, account, "DE1", "DE", location="gid://shopify/Location/1")
    make_warehouse(shop, account, "FR1", "FR")  # not mapped yet
    assert not _steps(_home(client, SHOP_A))["map_locations"]["done"]
    account.active = False
    db.session.commit()
    steps = _steps(_home(client, SHOP_A))
    assert not steps["connect_warehouse"]["done"] and not steps["map_locations"]["done"]


def test_test_notice_is_sent_once_per_click_to_the_shops_own_address(client, worker, config):
    _shop(SHOP_A, email="owner@a-shop.example")
    first = _test_notice(client, SHOP_A, "click-abcdef")
    again = _test_notice(client, SHOP_A, "click-abcdef")
    assert first.status_code == 202 and again.status_code == 200
    assert first.get_json()["notification"]["id"] == again.get_json()["notification"]["id"]
    assert first.get_json()["notification"]["recipient"] == "owner@a-shop.example"
    assert first.get_json()["notification"]["locale"] == "de"
    worker.run()
    assert db.session.execute(select(func.count()).select_from(Notification)).scalar_one() == 1
    notice = db.session.execute(select(Notification)).scalar_one()
    assert notice.status == "sent" and notice.subject == "test:click-abcdef"
    sent = list(config.outbox_path.glob("*.eml"))
    assert len(sent) == 1 and b"owner@a-shop.example" in sent[0].read_bytes()
    # Another click (a new key) is another notice.
    assert _test_notice(client, SHOP_A, "click-second", kind="points_earned", locale="ja").status_code == 202


def test_test_notice_refuses_bad_input_with_a_clear_message(client):
    _shop(SHOP_A)
    cases = [({"kind": "nope", "locale": "de", "key": "click-0001"}, 422, "kind"),
             ({"kind": "shipped", "locale": "xx", "key": "click-0001"}, 422, "locale"),
             ({"kind": "shipped", "locale": "de", "key": "short"}, 422, "key"),
             ({"kind": "shipped", "locale": "de", "key": "bad key with spaces"}, 422, "key"),
             ({"kind": ["shipped"], "locale": "de", "key": "click-0001"}, 422, "kind")]
    for body, status, field in cases:
        r = client.post("/api/notifications/test", json=body, headers=auth(SHOP_A))
        assert r.status_code == status, (body, r.get_json())
        assert field in r.get_json()["error"]["message"]
    r = client.post("/api/notifications/test", data="[1]", content_type="application/json", headers=auth(SHOP_A))
    assert r.status_code == 400
    assert db.session.execute(select(func.count()).select_from(Notification)).scalar_one() == 0


def test_test_notice_explains_why_it_cannot_be_sent(client):
    shop = _shop(SHOP_A, email=None)
    r = _test_notice(client, SHOP_A, "click-0001")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "no_shop_email"
    shop.email = "owner@a-shop.example"
    db.session.add(NotificationSettings(shop_id=shop.id, disabled_kinds=["shipped"]))
    db.session.commit()
    r = _test_notice(client, SHOP_A, "click-0002")
    assert r.status_code == 409 and "switched off" in r.get_json()["error"]["message"]
    assert _test_notice(client, SHOP_A, "click-0003", kind="delivered").status_code == 202


def test_test_notices_are_limited_per_hour(client):
    shop = _shop(SHOP_A)
    for i in range(20):
        db.session.add(Notification(shop_id=shop.id, kind="shipped", subject=f"test:old-click-{i:04}",
                                    recipient="owner@a-shop.example", status="sent", attempts=1))
    db.session.commit()
    r = _test_notice(client, SHOP_A, "click-limit")
    assert r.status_code == 429


def test_health_shows_each_warehouse_account_from_what_the_sync_recorded(client):
    shop = _shop(SHOP_A)
    winit = make_account(shop, "winit")
    make_account(shop, "goodcang")
    wh = make_warehouse(shop, winit, "DE1", "DE")
    polled = utcnow() - timedelta(minutes=3)
    db.session.add_all([
        SyncCursor(shop_id=shop.id, stream=f"inventory:{winit.id}", position="c-7", updated_at=polled),
        IntegrationLog(shop_id=shop.id, system="goodcang", operation="inventory_changes", status="ok"),
        IntegrationLog(shop_id=shop.id, system="winit", operation="inventory_changes", status="failed",
                       error="HTTP 503 from WINIT"),
        Alert(shop_id=shop.id, kind="stock_unknown_sku", subject=f"warehouse:{wh.id}", message="SKU X unknown"),
        Alert(shop_id=shop.id, kind="sla_breached", subject="outbound:999999", message="not ours"),
    ])
    db.session.commit()
    health = _home(client, SHOP_A)["health"]
    accounts = {a["provider"]: a for a in health["warehouses"]}
    assert accounts["winit"]["last_poll_at"] == polled.isoformat()
    assert accounts["winit"]["status"] == "error" and accounts["winit"]["last_error"]["error"] == "HTTP 503 from WINIT"
    assert accounts["winit"]["open_alerts"] == 1 and accounts["winit"]["alerts"][0]["kind"] == "stock_unknown_sku"
    assert accounts["winit"]["warehouses"] == 1
    assert accounts["goodcang"]["status"] == "ok" and accounts["goodcang"]["last_error"] is None
    assert accounts["goodcang"]["last_poll_at"] is None and accounts["goodcang"]["open_alerts"] == 0
    assert health["open_alerts_total"] == 2


def test_health_shows_shopify_and_amazon(client):
    shop = _shop(SHOP_A)
    account = AmazonAccount(shop_id=shop.id, name="EU", seller_id="A1SELLER", region="eu",
                            marketplaces=["A1PA6795UKMFR9"], lwa_client_id="id", lwa_client_secret="s",
                            refresh_token="r")
    db.session.add(account)
    db.session.commit()
    order = make_order(shop, "302-1111111-1111111", [("MUG", 1)], channel="amazon")
    db.session.add_all([
        AmazonOrder(order_id=order.id, account_id=account.id, marketplace_id="A1PA6795UKMFR9"),
        SyncCursor(shop_id=shop.id, stream=f"amazon-orders:{account.id}", position=json.dumps({}), updated_at=utcnow()),
        Alert(shop_id=shop.id, kind="amazon_account_disconnected", subject=f"account:{account.id}", message="gone"),
        IntegrationLog(shop_id=shop.id, system="shopify", operation="shop", status="ok"),
    ])
    shop.access_token_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    health = _home(client, SHOP_A)["health"]
    assert health["shopify"]["token"] == "expired" and health["shopify"]["last_call"]["operation"] == "shop"
    [amazon] = health["amazon"]
    assert amazon["name"] == "EU" and amazon["marketplaces"] == ["A1PA6795UKMFR9"]
    assert amazon["orders"] == 1 and amazon["last_import_at"] and amazon["last_order_at"]
    assert amazon["open_alerts"] == 1 and "refresh_token" not in amazon and "lwa_client_secret" not in amazon


def test_shop_b_never_sees_shop_a(client, worker):
    a = _shop(SHOP_A)
    _shop(SHOP_B, email="owner@b-shop.example")
    account = make_account(a, "winit")
    make_warehouse(a, account, "DE1", "DE", location="gid://shopify/Location/1")
    make_program(a.id, enabled=True)
    db.session.add_all([ShopSettings(shop_id=a.id, storefront_seen_at=utcnow()),
                        Alert(shop_id=a.id, kind="sla_breached", subject="outbound:1", message="late"),
                        IntegrationLog(shop_id=a.id, system="shopify", operation="shop", status="failed", error="x")])
    db.session.commit()
    assert _test_notice(client, SHOP_A, "same-key-123").status_code == 202
    worker.run()
    assert _home(client, SHOP_A)["setup"]["done"] == 5

    body = _home(client, SHOP_B)
    assert body["setup"]["done"] == 0 and body["shop"]["domain"] == SHOP_B
    assert body["health"]["warehouses"] == [] and body["health"]["open_alerts_total"] == 0
    assert body["health"]["shopify"]["last_error"] is None
    # The same key from shop B is B's own notice, to B's address.
    r = _test_notice(client, SHOP_B, "same-key-123")
    assert r.status_code == 202 and r.get_json()["notification"]["recipient"] == "owner@b-shop.example"
