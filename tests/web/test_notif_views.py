"""Notification pages: previews, the development outbox mailbox, the tracking page through the app
proxy (look-up rules, rate limit, Liquid safety), admin API (the delivery rating page:
test_feedback_page.py)."""

from __future__ import annotations

import time
import urllib.parse
from datetime import UTC, datetime

import jwt
import pytest

from integration.extensions import db
from integration.models import Shipment, TrackingEventRow
from integration.models.notification import Notification
from integration.notices import links, send
from integration.notices import outbox as notifications
from tests.conftest import API_KEY, API_SECRET
from tests.helpers_warehouse import make_account, make_order, make_shop, make_warehouse
from tests.test_notif_support import install, signed_proxy_query

SHOP = "acme.myshopify.com"


@pytest.fixture
def web(app):
    install(app)
    yield app.test_client()


def session_headers(shop=SHOP):
    now = int(time.time())
    claims = {"iss": f"https://{shop}/admin", "dest": f"https://{shop}", "aud": API_KEY, "sub": "42",
              "exp": now + 60, "nbf": now - 5, "iat": now - 5, "jti": "j-1", "sid": "s-1"}
    return {"Authorization": "Bearer " + jwt.encode(claims, API_SECRET, algorithm="HS256")}


@pytest.fixture
def order_with_parcel(web):
    shop = make_shop(SHOP)
    warehouse = make_warehouse(shop, make_account(shop), "DEWH", "DE", name="Berlin")
    order = make_order(shop, "o-3001", [("MUG", 1)], email="Ada@Example.com")
    order.name, order.locale = "#3001", "de"
    db.session.commit()
    from integration.models import OutboundOrder

    outbound = OutboundOrder(shop_id=shop.id, order_id=order.id, warehouse_id=warehouse.id, reference="NS-3001",
                             status="shipped")
    db.session.add(outbound)
    db.session.flush()
    shipment = Shipment(shop_id=shop.id, order_id=order.id, outbound_id=outbound.id, tracking_number="T1",
                        carrier="DHL", lines=[["MUG", 1]], shipped_at=datetime(2026, 11, 20, tzinfo=UTC),
                        status="Exception", status_reason="address_problem",
                        status_at=datetime(2026, 11, 21, tzinfo=UTC))
    db.session.add(shipment)
    db.session.flush()
    db.session.add(TrackingEventRow(shop_id=shop.id, shipment_id=shipment.id, status="Exception",
                                    reason="address_problem", occurred_at=datetime(2026, 11, 21, tzinfo=UTC),
                                    description="Adresse unvollständig {% if x %}", location="Berlin"))
    db.session.commit()
    return shop, order


def test_previews_of_every_kind(web):
    for kind in notifications.KINDS:
        response = web.get(f"/admin/notifications/preview/{kind}?locale=ja")
        assert response.status_code == 200 and response.mimetype == "text/html"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "税関で保留中" in web.get("/admin/notifications/preview/exception?locale=ja").get_data(as_text=True)
    text = web.get("/admin/notifications/preview/exception?variant=lost&locale=de&part=text").get_data(as_text=True)
    assert "Paket vom Paketdienst verloren" in text
    assert web.get("/admin/notifications/preview/nope").status_code == 404
    assert web.get("/admin/notifications/preview/exception?variant=nope").status_code == 404


def test_templates_api_needs_a_session_and_lists_every_kind(web):
    assert web.get("/api/notifications/templates").status_code == 401
    make_shop(SHOP)
    body = web.get("/api/notifications/templates", headers=session_headers()).get_json()
    assert {t["kind"] for t in body["templates"]} == set(notifications.KINDS)
    assert body["locales"] == ["en", "de", "fr", "es", "it", "nl", "ja", "zh-CN"]
    assert all(web.get(t["preview_url"]).status_code == 200 for t in body["templates"])


def test_settings_api_validates_and_brands_the_preview(web):
    make_shop(SHOP)
    bad = web.put("/api/notifications/settings", json={"primary_color": "red"}, headers=session_headers())
    assert bad.status_code == 422
    ok = web.put("/api/notifications/settings", headers=session_headers(),
                 json={"primary_color": "#ff0000", "sender_name": "Acme Team", "disabled_kinds": ["still_on_its_way"],
                       "logo_url": "https://cdn.example/logo.png"})
    assert ok.status_code == 200 and ok.get_json()["disabled_kinds"] == ["still_on_its_way"]
    html = web.get("/api/notifications/preview/shipped", headers=session_headers()).get_data(as_text=True)
    assert "#ff0000" in html and "https://cdn.example/logo.png" in html


def test_dev_outbox_mailbox_shows_sent_eml(web, order_with_parcel):
    shop, _order = order_with_parcel
    nid = notifications.enqueue_notice(shop.id, "back_in_stock", "variant:1", "buyer@example.com", locale="it",
                                       context={"product_title": "Tazza", "product_url": "https://s.example/p"})
    db.session.commit()
    assert send.send_notification(nid).status == "sent"  # no SMTP_URL: an .eml file
    listing = web.get("/admin/outbox").get_data(as_text=True)
    assert "Tazza è di nuovo disponibile" in listing
    name = db.session.get(Notification, nid).provider_message_id
    assert web.get(f"/admin/outbox/{name}").status_code == 200
    html = web.get(f"/admin/outbox/{name}?part=html")
    assert html.status_code == 200 and "Tazza" in html.get_data(as_text=True)
    assert web.get("/admin/outbox/..%2Fsecret.eml").status_code == 404


@pytest.fixture
def dev_pages(app):
    """The development-only pages, one message in the outbox."""
    folder = app.config["NEARSTOCK"].outbox_path
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "m-1.eml").write_bytes(b"To: ada@example.com\r\nSubject: Hi\r\n\r\nHello\r\n")
    return ["/admin/outbox", "/admin/outbox/m-1.eml", "/admin/notifications/preview/shipped"]


def test_dev_pages_answer_only_a_client_on_this_machine(web, dev_pages):
    for path in dev_pages:
        assert web.get(path).status_code == 200, path
        assert web.get(path, environ_base={"REMOTE_ADDR": "::1"}).status_code == 200, path
        assert web.get(path, environ_base={"REMOTE_ADDR": "192.168.1.20"}).status_code == 404, path
        # A tunnel or proxy connects from loopback too; what it relays comes from elsewhere.
        assert web.get(path, headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404, path
        assert web.get(path, headers={"Forwarded": "for=203.0.113.9"}).status_code == 404, path


def test_dev_pages_do_not_exist_in_production(app, web, dev_pages, monkeypatch):
    monkeypatch.setitem(app.config, "NEARSTOCK", app.config["NEARSTOCK"].with_overrides(env="production"))
    for path in dev_pages:
        assert web.get(path).status_code == 404, path


def typed_lookup(web, order: str, email: str, headers: dict | None = None):
    """The tracking form submitted through the app proxy: Shopify signs the query, the form is the body."""
    return web.post(f"/proxy/track?{signed_proxy_query({})}", data={"order": order, "email": email},
                    headers=headers or {})


def test_tracking_page_by_order_number_and_email(web, order_with_parcel):
    _shop, _order = order_with_parcel
    form = web.get(f"/proxy/track?{signed_proxy_query({})}").get_data(as_text=True)
    assert '<form method="post">' in form
    page = typed_lookup(web, "3001", "ada@example.COM")
    assert page.status_code == 200 and page.mimetype == "application/liquid"
    body = page.get_data(as_text=True)
    assert "Bestellung #3001" in body and "Problem mit der Lieferadresse" in body and "Berlin, Deutschland" in body
    assert "{%" not in body and "{{" not in body
    wrong = typed_lookup(web, "3001", "eve@example.com")
    assert "We could not find an order" in wrong.get_data(as_text=True) and "#3001" not in wrong.get_data(as_text=True)
    # Never by tracking number alone, and no request parameter is echoed into the Liquid answer.
    probe = typed_lookup(web, "T1", "{{ shop.email }}")
    assert "{{" not in probe.get_data(as_text=True) and "shop.email" not in probe.get_data(as_text=True)
    assert web.post("/proxy/track", data={"order": "3001", "email": "ada@example.com"}).status_code == 401  # unsigned


def test_an_email_in_the_query_finds_nothing(web, order_with_parcel):
    """The address belongs in the POSTed form only: a URL carrying it is never a look-up."""
    page = web.get(f"/proxy/track?{signed_proxy_query({'order': '3001', 'email': 'ada@example.com'})}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "#3001" not in body and '<form method="post">' in body


def test_tracking_link_token_and_full_page(web, order_with_parcel):
    shop, order = order_with_parcel
    token = links.tracking_token(shop.id, order.id)
    page = web.get(f"/proxy/track?{signed_proxy_query({'t': token, 'view': 'page'})}")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "Bestellung #3001" in page.get_data(as_text=True)
    other = make_shop("other.myshopify.com")
    forged = links.tracking_token(other.id, order.id)  # signed, but for another shop
    foreign = web.get(f"/proxy/track?{signed_proxy_query({'t': forged})}")
    assert "#3001" not in foreign.get_data(as_text=True)


def test_tracking_links_in_notices_carry_ids_only(web, order_with_parcel):
    shop, order = order_with_parcel
    link = urllib.parse.urlsplit(links.tracking_url(shop, order.id))
    [(name, token)] = urllib.parse.parse_qsl(link.query)
    assert name == "t" and links.read_tracking_token(token) == {"s": shop.id, "o": order.id}


def test_typed_lookups_are_rate_limited(web, order_with_parcel):
    headers = {"X-Forwarded-For": "203.0.113.9"}
    statuses = [typed_lookup(web, str(1000 + i), "x@example.com", headers).status_code for i in range(22)]
    assert statuses[:20] == [200] * 20 and statuses[20:] == [429, 429]
    # Per order number too, whatever the address.
    statuses = [typed_lookup(web, "3001", f"g{i}@example.com", {"X-Forwarded-For": f"198.51.100.{i}"}).status_code
                for i in range(10)]
    assert statuses[:8] == [200] * 8 and statuses[8:] == [429, 429]
