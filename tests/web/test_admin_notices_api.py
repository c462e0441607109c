"""The embedded admin's notices API: settings and per-kind switches validated on the server, the
live preview of unsaved branding, the log (paginated, filtered, masked), a retry that sends once,
unsubscribes and re-subscribing; every endpoint with two shops."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from integration.extensions import db, queues
from integration.models.notification import Notification, NotificationPreference
from integration.notices import outbox as notifications
from tests.helpers_warehouse import make_shop
from tests.jobs.test_notif_outbox import drain
from tests.test_loyalty_support import auth
from tests.test_notif_support import notif_app, smtp_server  # noqa: F401 - fixtures

SHOP, OTHER = "acme.myshopify.com", "beta.myshopify.com"
CTX = {"product_title": "Mug", "product_url": "https://s.example/p"}


@pytest.fixture
def shops(notif_app):  # noqa: F811
    return make_shop(SHOP), make_shop(OTHER)


@pytest.fixture
def web(notif_app, shops):  # noqa: F811
    return notif_app.test_client()


def add_notice(shop, recipient="ada@example.com", *, status="sent", kind="shipped", order_name="#1001", n=1,
               error=None) -> int:
    row = Notification(shop_id=shop.id, kind=kind, subject=f"shipment:{order_name}:{n}:{recipient}",
                       recipient=recipient, locale="de", status=status, attempts=3 if status == "failed" else 1,
                       context={"order_name": order_name, "order_id": 1},
                       error_kind="permanent" if status == "failed" else None, last_error=error)
    db.session.add(row)
    db.session.commit()
    return row.id


# -- settings -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"primary_color": "red"}, "primary_color", "invalid_color"),
    ({"accent_color": "#12345"}, "accent_color", "invalid_color"),
    ({"accent_color": None}, "accent_color", "invalid_color"),
    ({"logo_url": "http://cdn.example/logo.png"}, "logo_url", "invalid_logo_url"),
    ({"logo_url": "javascript:alert(1)"}, "logo_url", "invalid_logo_url"),
    ({"logo_url": "https://cdn.example/a\" onerror=\"x"}, "logo_url", "invalid_logo_url"),
    ({"logo_url": "https://user:pw@cdn.example/logo.png"}, "logo_url", "invalid_logo_url"),
    ({"logo_url": "https://cdn.example/" + "a" * 3000}, "logo_url", "invalid_logo_url"),
    ({"reply_to": "not-an-address"}, "reply_to", "invalid_email"),
    ({"reply_to": "a@b"}, "reply_to", "invalid_email"),
    ({"reply_to": "x@example.com\r\nBcc: all@example.com"}, "reply_to", "invalid_email"),
    ({"sender_email": ["a@example.com"]}, "sender_email", "invalid_type"),
    ({"sender_name": "Acme\r\nBcc: x@example.com"}, "sender_name", "invalid_text"),
    ({"sender_name": "A" * 101}, "sender_name", "too_long"),
    ({"sender_name": {"a": 1}}, "sender_name", "invalid_type"),
    ({"disabled_kinds": ["nope"]}, "disabled_kinds", "invalid_kinds"),
    ({"disabled_kinds": "shipped"}, "disabled_kinds", "invalid_kinds"),
    ({"quiet_days": True}, "quiet_days", "invalid_number"),
    ({"quiet_days": 61}, "quiet_days", "invalid_number"),
    ({"send_rate_per_minute": 2**70}, None, None),  # refused as a body (beyond 64 bits): 400
    ({"exception_actions": {"lost": "x" * 1001}}, "exception_actions", "invalid_actions"),
    ({"exception_actions": {"nope": "x"}}, "exception_actions", "invalid_actions"),
    ({"colour": "#ffffff"}, "colour", "unknown_field"),
])
def test_settings_refuse_bad_values_naming_the_field(web, body, field, code):
    r = web.put("/api/notifications/settings", json=body, headers=auth(SHOP))
    if field is None:
        assert r.status_code == 400
        return
    assert r.status_code == 422, r.get_json()
    error = r.get_json()["error"]
    assert error["field"] == field and error["code"] == code and field in error["message"]
    stored = web.get("/api/notifications/settings", headers=auth(SHOP)).get_json()  # nothing stored
    assert stored["primary_color"] == "#1f6feb" and stored["sender_name"] is None and stored["logo_url"] is None


def test_settings_save_normalise_and_clear(web, shops):
    r = web.put("/api/notifications/settings", headers=auth(SHOP), json={
        "primary_color": "#FF0000", "accent_color": "#abc", "sender_name": "  Acme Team ",
        "reply_to": "help@acme.example", "logo_url": "https://cdn.example/logo.png",
        "exception_actions": {"lost": "We send a new parcel.", "damaged": ""}})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["primary_color"] == "#ff0000" and body["accent_color"] == "#abc"
    assert body["sender_name"] == "Acme Team" and body["reply_to"] == "help@acme.example"
    assert body["exception_actions"] == {"lost": "We send a new parcel."}
    assert {k["kind"]: k["enabled"] for k in body["kinds"]}["shipped"] is True
    # A client may send back what GET answered; an empty text clears the value (the default again).
    again = web.put("/api/notifications/settings", headers=auth(SHOP), json={**body, "sender_name": "", "logo_url": ""})
    assert again.status_code == 200 and again.get_json()["sender_name"] is None and again.get_json()["logo_url"] is None
    # The other shop still has the defaults.
    other = web.get("/api/notifications/settings", headers=auth(OTHER)).get_json()
    assert other["primary_color"] == "#1f6feb" and other["reply_to"] is None


def test_kinds_switch_one_at_a_time_per_shop(web, shops):
    acme, beta = shops
    assert web.put("/api/notifications/kinds/shipped", json={"enabled": False}, headers=auth(SHOP)).status_code == 200
    r = web.put("/api/notifications/kinds/delivered", json={"enabled": False}, headers=auth(SHOP))
    assert r.get_json() == {"kind": "delivered", "enabled": False, "disabled_kinds": ["shipped", "delivered"]}
    r = web.put("/api/notifications/kinds/shipped", json={"enabled": True}, headers=auth(SHOP))
    assert r.get_json()["disabled_kinds"] == ["delivered"]
    assert notifications.skip_reason(acme.id, "delivered", "a@example.com") == "disabled"
    assert notifications.skip_reason(beta.id, "delivered", "a@example.com") is None
    assert web.get("/api/notifications/settings", headers=auth(OTHER)).get_json()["disabled_kinds"] == []
    assert web.put("/api/notifications/kinds/nope", json={"enabled": False}, headers=auth(SHOP)).status_code == 404
    for bad in ({"enabled": "no"}, {}, {"enabled": 0}):
        r = web.put("/api/notifications/kinds/shipped", json=bad, headers=auth(SHOP))
        assert r.status_code == 422 and r.get_json()["error"]["field"] == "enabled"
    assert web.put("/api/notifications/kinds/shipped", json={"enabled": False}).status_code == 401


# -- preview --------------------------------------------------------------------------------------------


def test_preview_shows_unsaved_branding_checked_like_a_save(web):
    web.put("/api/notifications/settings", headers=auth(SHOP), json={"primary_color": "#00aa00"})
    saved = web.get("/api/notifications/preview/shipped?locale=de&part=json", headers=auth(SHOP)).get_json()
    assert "#00aa00" in saved["html"] and saved["locale"] == "de" and saved["subject"]
    live = web.get("/api/notifications/preview/shipped", headers=auth(SHOP), query_string={
        "locale": "ja", "part": "json", "primary_color": "#123456", "logo_url": "https://cdn.example/new.png",
        "sender_name": "Live Name"}).get_json()
    assert "#123456" in live["html"] and "#00aa00" not in live["html"]
    assert "https://cdn.example/new.png" in live["html"] and live["locale"] == "ja"
    # Nothing was saved by previewing.
    assert web.get("/api/notifications/settings", headers=auth(SHOP)).get_json()["primary_color"] == "#00aa00"
    # The other shop's preview has its own (default) colour.
    other = web.get("/api/notifications/preview/shipped?part=json", headers=auth(OTHER)).get_json()
    assert "#00aa00" not in other["html"] and "#1f6feb" in other["html"]
    for query, field in (({"primary_color": "url(x)"}, "primary_color"),
                         ({"logo_url": "http://x.example/l.png"}, "logo_url"),
                         ({"reply_to": "nope"}, "reply_to")):
        r = web.get("/api/notifications/preview/shipped", query_string=query, headers=auth(SHOP))
        assert r.status_code == 422 and r.get_json()["error"]["field"] == field
    html = web.get("/api/notifications/preview/delivered?locale=fr", headers=auth(SHOP))
    assert html.mimetype == "text/html" and "default-src 'none'" in html.headers["Content-Security-Policy"]
    assert web.get("/api/notifications/preview/nope", headers=auth(SHOP)).status_code == 404
    assert web.get("/api/notifications/preview/shipped").status_code == 401


# -- the log --------------------------------------------------------------------------------------------


def test_log_paginates_filters_searches_and_masks(web, shops):
    acme, beta = shops
    for i in range(5):
        add_notice(acme, f"c{i}@example.com", order_name=f"#10{i:02d}", n=i)
    failed = add_notice(acme, "Ada@Example.com", status="failed", kind="delivered", order_name="#2000",
                        error="550 5.1.1 <Ada@Example.com>: Recipient address rejected")
    add_notice(beta, "beta@example.com", status="failed", order_name="#2000")
    page1 = web.get("/api/notifications?limit=4", headers=auth(SHOP)).get_json()
    assert len(page1["items"]) == 4 and page1["has_next_page"] and not page1["has_previous_page"]
    assert page1["items"][0]["id"] == failed
    page2 = web.get("/api/notifications?limit=4&page=2", headers=auth(SHOP)).get_json()
    assert len(page2["items"]) == 2 and not page2["has_next_page"] and page2["has_previous_page"]
    row = page1["items"][0]
    assert row["recipient"] == "A***@E***.com" and row["retryable"] is True and row["order_name"] == "#2000"
    assert "Ada@Example.com" not in str(page1) and "example.com" not in row["last_error"]
    assert "550 5.1.1" in row["last_error"]
    only_failed = web.get("/api/notifications?status=failed", headers=auth(SHOP)).get_json()["items"]
    assert [r["id"] for r in only_failed] == [failed]  # never the other shop's failed notice
    assert len(web.get("/api/notifications?kind=shipped", headers=auth(SHOP)).get_json()["items"]) == 5
    for q in ("#2000", "2000"):
        assert [r["id"] for r in web.get("/api/notifications", query_string={"q": q},
                                         headers=auth(SHOP)).get_json()["items"]] == [failed]
    # An address finds only its exact (case-insensitive) match, never a part of it.
    assert [r["id"] for r in web.get("/api/notifications?q=ada@example.com",
                                     headers=auth(SHOP)).get_json()["items"]] == [failed]
    assert web.get("/api/notifications?q=ada@example", headers=auth(SHOP)).get_json()["items"] == []
    assert web.get("/api/notifications?q=example.com", headers=auth(SHOP)).get_json()["items"] == []
    assert web.get("/api/notifications?q=beta@example.com", headers=auth(SHOP)).get_json()["items"] == []


@pytest.mark.parametrize("query", ["status=bogus", "kind=bogus", "page=0", "page=x", "limit=101", "limit=-1",
                                   "q=" + "x" * 400, "status=%00", "page=99999999999999999999"])
def test_log_refuses_hostile_params(web, query):
    r = web.get(f"/api/notifications?{query}", headers=auth(SHOP))
    assert r.status_code == 400 and r.get_json()["error"]["message"]


# -- retry ----------------------------------------------------------------------------------------------


def test_retry_sends_a_failed_notice_once(web, shops, notif_app, smtp_server):  # noqa: F811
    acme, beta = shops
    failed = add_notice(acme, "ada@example.com", status="failed", kind="back_in_stock", error="550 no")
    db.session.get(Notification, failed).context = CTX
    db.session.commit()
    queues["notify"].empty()
    theirs = add_notice(beta, "ada@example.com", status="failed", kind="back_in_stock")
    # The other shop's notice: 404, untouched, nothing queued.
    r = web.post(f"/api/notifications/{theirs}/retry", headers=auth(SHOP))
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert db.session.get(Notification, theirs).status == "failed" and queues["notify"].count == 0
    first = web.post(f"/api/notifications/{failed}/retry", headers=auth(SHOP))
    assert first.status_code == 202 and first.get_json()["status"] == "queued"
    second = web.post(f"/api/notifications/{failed}/retry", headers=auth(SHOP))
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "not_failed"
    assert queues["notify"].count == 1
    drain(notif_app)
    assert len(smtp_server.inbox.messages) == 1
    db.session.expire_all()
    assert db.session.get(Notification, failed).status == "sent"
    # Sent now: a third click does not send it again either.
    assert web.post(f"/api/notifications/{failed}/retry", headers=auth(SHOP)).status_code == 409
    drain(notif_app)
    assert len(smtp_server.inbox.messages) == 1
    assert web.post(f"/api/notifications/{failed}/retry").status_code == 401


# -- unsubscribes ---------------------------------------------------------------------------------------


def test_unsubscribes_list_and_resubscribe_per_shop(web, shops):
    acme, beta = shops
    notifications.set_opt_out(acme.id, "Ada@Example.com", "tracking")
    notifications.set_opt_out(acme.id, "ada@example.com", "loyalty")
    notifications.set_opt_out(acme.id, "bob@example.com", "all")
    notifications.set_opt_out(beta.id, "ada@example.com", "tracking")
    notifications.set_opt_out(acme.id, "back@example.com", "tracking")
    notifications.set_opt_out(acme.id, "back@example.com", "tracking", opted_out_=False)  # nothing left: not listed
    db.session.commit()
    listed = web.get("/api/notifications/unsubscribes?limit=1", headers=auth(SHOP)).get_json()
    assert len(listed["items"]) == 1 and listed["has_next_page"]
    every = web.get("/api/notifications/unsubscribes", headers=auth(SHOP)).get_json()["items"]
    assert sorted(r["email"] for r in every) == ["a***@e***.com", "b***@e***.com"]
    assert "ada@example.com" not in str(every)
    ada = web.get("/api/notifications/unsubscribes?email=ADA@example.com", headers=auth(SHOP)).get_json()["items"]
    assert len(ada) == 1 and ada[0]["opted_out"] == ["loyalty", "tracking"]
    assert web.get("/api/notifications/unsubscribes?email=ada@", headers=auth(SHOP)).get_json()["items"] == []
    theirs = db.session.execute(select(NotificationPreference.id).where(
        NotificationPreference.shop_id == beta.id)).scalar_one()
    assert web.post(f"/api/notifications/unsubscribes/{theirs}/resubscribe", json={},
                    headers=auth(SHOP)).status_code == 404
    assert notifications.opted_out(beta.id, "ada@example.com") == ["tracking"]
    url = f"/api/notifications/unsubscribes/{ada[0]['id']}/resubscribe"
    for bad in ({"categories": ["nope"]}, {"categories": []}, {"categories": "tracking"}):
        r = web.post(url, json=bad, headers=auth(SHOP))
        assert r.status_code == 422 and r.get_json()["error"]["field"] == "categories"
    r = web.post(url, json={"categories": ["tracking"]}, headers=auth(SHOP))
    assert r.status_code == 200 and r.get_json()["opted_out"] == ["loyalty"]
    assert notifications.opted_out(acme.id, "ada@example.com") == ["loyalty"]
    assert web.post(url, json={}, headers=auth(SHOP)).get_json()["opted_out"] == []  # no categories: all
    assert notifications.enqueue_notice(acme.id, "points_earned", "o:1", "ada@example.com", locale=None,
                                        context={"points": 5, "balance": 5}) is not None
    assert web.get("/api/notifications/unsubscribes", headers=auth(OTHER)).get_json()["items"][0]["email"] == \
        "a***@e***.com"
    assert web.get("/api/notifications/unsubscribes").status_code == 401
