"""``/proxy/stock`` and the back-in-stock endpoints through the app proxy: signatures, the
installed-shop check, shop isolation, no database on the hot path, rate limits."""
# ruff: noqa: RUF001 - shopper-facing texts use typographic dashes (en dash) and CJK punctuation

from __future__ import annotations

import json
import time

import pytest
from redis import Redis
from redis.client import Pipeline
from sqlalchemy import event, select

from integration.extensions import db, redis
from integration.models import Shop, Variant
from integration.models.notification import Notification
from integration.models.storefront import BackInStockSubscription
from integration.storefront import cache
from integration.storefront import settings as storefront_settings
from integration.storefront import status as storefront
from tests.shopify_fixtures import SHOPIFY_SHOP
from tests.test_storefront_helpers import (
    proxy_get,
    proxy_post,
    signed,
    storefront_stack,  # noqa: F401 - the "sf" fixture
)

OTHER = "other-shop.myshopify.com"


@pytest.fixture
def client(sf):
    sf.set_stock(sf.de, "HOODIE-S", 40)
    sf.set_stock(sf.us, "HOODIE-M", 2)
    sf.worker.run()
    return sf.app.test_client()


def stock(client, variant: str, country: str = "DE", locale: str = "en", **kw):
    return proxy_get(client, "/proxy/stock", {"variant_id": variant, "country": country, "locale": locale}, **kw)


def test_live_status_per_market_and_language(sf, client):
    de = stock(client, sf.number("HOODIE-S"), "DE", "de")
    assert de.status_code == 200 and de.mimetype == "application/json"
    assert de.json["status"] == "Auf Lager in Deutschland" and de.json["eta"] == "Lieferung in 2–4 Tagen"
    assert de.json["variant_id"] == sf.number("HOODIE-S") and de.json["market"] == "DE"
    fr = stock(client, sf.number("HOODIE-S"), "FR", "fr")  # no warehouse in France: the rest of the world
    assert fr.json["code"] == "ships_from_abroad" and fr.json["market"] == "*" and fr.json["locale"] == "fr"
    assert stock(client, sf.number("HOODIE-S"), "DE", "pt-BR").json["locale"] == "en"  # shop default
    assert stock(client, sf.number("HOODIE-S"), "zz", "").json["market"] == "*"
    low = stock(client, sf.number("HOODIE-M"), "US").json
    assert low["code"] == "low_stock" and low["quantity"] == 2 and low["status"] == "Only 2 left"
    assert low["plain"] == "Low stock"


@pytest.mark.parametrize("tamper", ["forged", "missing", "other_secret"])
def test_bad_signatures_are_401(sf, client, tamper):
    query = signed({"variant_id": sf.number("HOODIE-S"), "country": "DE"})
    if tamper == "forged":
        query["country"] = "US"  # changed after signing
    elif tamper == "missing":
        del query["signature"]
    else:
        query = signed({"variant_id": sf.number("HOODIE-S")}, secret="not-the-app-secret")
    response = client.get("/proxy/stock", query_string=query)
    assert response.status_code == 401 and response.json["error"]["code"] == "invalid_signature"
    for path in ("/proxy/back-in-stock",):
        assert client.post(path, query_string=query, json={"email": "a@b.co"}).status_code == 401


def test_stale_and_future_timestamps_are_403(sf, client):
    for ts in (int(time.time()) - 91, int(time.time()) + 300):
        response = stock(client, sf.number("HOODIE-S"), timestamp=ts)
        assert response.status_code == 403 and response.json["error"]["code"] == "stale_request"


def test_shop_must_be_installed(sf, client):
    assert stock(client, sf.number("HOODIE-S"), shop=OTHER).status_code == 403  # unknown shop
    assert stock(client, sf.number("HOODIE-S"), shop="evil.example.com").status_code == 403
    sf.shop.status = "uninstalled"
    db.session.commit()
    cache.forget_shop(SHOPIFY_SHOP)  # what app/uninstalled calls
    response = stock(client, sf.number("HOODIE-S"))
    assert response.status_code == 403 and response.json["error"]["code"] == "unknown_shop"


def test_another_shops_variant_is_never_served(sf, client):
    other = Shop(domain=OTHER, access_token="shpat_other", status="installed")
    db.session.add(other)
    db.session.flush()
    db.session.add(Variant(shop_id=other.id, shopify_id="gid://shopify/ProductVariant/999001",
                           product_shopify_id="gid://shopify/Product/9", sku="OTHER-1", title="Other"))
    db.session.commit()
    # The other shop's status is in Redis (under its own domain)...
    cache.write_statuses(OTHER, {"999001": {"*:_": b'{"code":"in_stock_local"}'}})
    assert stock(client, "999001", shop=OTHER).status_code == 200
    # ...but asked for through this shop's signed request, it does not exist.
    response = stock(client, "999001")
    assert response.status_code == 404 and response.json["error"]["code"] == "unknown_variant"
    assert stock(client, sf.number("HOODIE-S"), shop=OTHER).status_code == 404
    sf.worker.run()  # the miss asked for a refresh, which finds no such variant in this shop
    assert stock(client, "999001").status_code == 404
    # Nor can a shopper sign up for it from this shop.
    response = proxy_post(client, "/proxy/back-in-stock", {"email": "x@example.com", "variant_id": "999001"})
    assert response.status_code == 404


def test_hot_path_runs_no_sql_and_one_redis_round_trip(sf, client, monkeypatch):
    number = sf.number("HOODIE-S")
    assert stock(client, number).status_code == 200  # warms the installed-shop entry
    statements, round_trips, commands = [], [], []
    listener = lambda *args, **kw: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    real_execute, real_command = Pipeline.execute, Redis.execute_command

    def pipeline_execute(pipe, *args, **kw):
        round_trips.append(1)
        commands.extend(c[0][0] for c in pipe.command_stack)
        return real_execute(pipe, *args, **kw)

    def direct_command(conn, *args, **kw):
        round_trips.append(1)
        commands.append(args[0])
        return real_command(conn, *args, **kw)

    monkeypatch.setattr(Pipeline, "execute", pipeline_execute)
    monkeypatch.setattr(Redis, "execute_command", direct_command)
    try:
        for _ in range(20):
            assert stock(client, number).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
        monkeypatch.undo()
    assert statements == []
    assert len(round_trips) == 20  # one per request...
    assert commands == ["GET", "HMGET"] * 20  # ...carrying the installed-shop check and the status


def test_unknown_variant_is_404_then_warmed(sf, client):
    number = sf.number("HOODIE-L")  # never announced, so not cached
    assert stock(client, number).status_code == 404
    sf.worker.run()
    response = stock(client, number)
    assert response.status_code == 200 and response.json["code"] == "out_of_stock" and response.json["subscribe"]


def test_miss_refreshes_are_budgeted(sf, client):
    for i in range(cache.WARM_PER_MINUTE + 30):
        stock(client, str(10_000_000 + i))
    entries = redis.client.scard(f"nearstock:sf:{{{sf.shop.id}}}:dirty")
    assert entries <= cache.WARM_PER_MINUTE


def test_bad_variant_id_is_400(sf, client):
    assert stock(client, "gid://shopify/ProductVariant/1").status_code == 400


# -- back in stock ----------------------------------------------------------------------------------


def sign_up(client, variant: str, email: str = "Ada@Example.com", ip: str = "203.0.113.7", **body):
    return proxy_post(client, "/proxy/back-in-stock",
                      {"email": email, "variant_id": variant, "locale": "de", "country": "DE",
                       "product_path": "/products/merino-hoodie", **body},
                      headers={"X-Forwarded-For": f"{ip}, 10.0.0.1"})


def notices(kind: str) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.execute(select(Notification).where(Notification.kind == kind)
                                   .order_by(Notification.id)).scalars())


def test_sign_up_is_double_opt_in(sf, client):
    number = sf.number("HOODIE-L")
    response = sign_up(client, number)
    assert response.status_code == 202 and response.json == {"ok": True, "status": "check_inbox"}
    sub = db.session.execute(select(BackInStockSubscription)).scalar_one()
    assert (sub.email, sub.status, sub.locale, sub.country) == ("ada@example.com", "pending", "de", "DE")
    [confirm] = notices("back_in_stock_confirm")
    assert confirm.recipient == "ada@example.com" and confirm.locale == "de"
    url = confirm.context["confirm_url"]
    assert url.startswith(f"https://{SHOPIFY_SHOP}/apps/nearstock/back-in-stock/confirm?token=")
    assert confirm.context["variant_title"] == "L" and confirm.context["product_title"] == "Merino Hoodie"

    # Signing up again (or a bot replaying it) sends nothing new and says the same.
    assert sign_up(client, number).json == {"ok": True, "status": "check_inbox"}
    assert len(notices("back_in_stock_confirm")) == 1

    token = url.split("token=", 1)[1]
    page = proxy_get(client, "/proxy/back-in-stock/confirm", {"token": token})
    assert page.status_code == 200 and b'method="post"' in page.data
    db.session.refresh(sub)
    assert sub.status == "pending"  # looking is not confirming (mail scanners follow links)
    done = client.post("/proxy/back-in-stock/confirm", query_string=signed({"token": token}), data={"token": token})
    assert done.status_code == 200
    db.session.refresh(sub)
    assert sub.status == "active" and sub.confirmed_at is not None

    bad = client.post("/proxy/back-in-stock/confirm", query_string=signed({"token": token + "x"}),
                      data={"token": token + "x"})
    assert bad.status_code == 404

    unsub_token = confirm.context["unsubscribe_url"].split("token=", 1)[1]
    client.post("/proxy/back-in-stock/unsubscribe", query_string=signed({"token": unsub_token}),
                data={"token": unsub_token})
    db.session.refresh(sub)
    assert sub.status == "unsubscribed"


def test_sign_up_validation(sf, client):
    assert sign_up(client, sf.number("HOODIE-L"), email="not-an-email").status_code == 400
    assert sign_up(client, sf.number("HOODIE-L"), email="a@b.co\r\nBcc: x@y.z").status_code == 400
    assert sign_up(client, "123456789").status_code == 404
    assert sign_up(client, "abc").status_code == 400
    storefront_settings.update_settings(sf.shop.id, {"back_in_stock": False})
    db.session.commit()
    assert sign_up(client, sf.number("HOODIE-L")).status_code == 404


def test_sign_ups_are_rate_limited_per_ip_and_per_email(sf, client):
    number = sf.number("HOODIE-L")
    codes = [sign_up(client, number, email=f"p{i}@example.com", ip="198.51.100.1").status_code for i in range(12)]
    assert codes[:10] == [202] * 10 and codes[10:] == [429, 429]
    limited = sign_up(client, number, email="p99@example.com", ip="198.51.100.1")
    assert int(limited.headers["Retry-After"]) > 0
    codes = [sign_up(client, number, email="same@example.com", ip=f"192.0.2.{i}").status_code for i in range(7)]
    assert codes[:5] == [202] * 5 and codes[5:] == [429, 429]


def test_restock_notifies_in_proportion_oldest_first_once(sf, client):
    number = sf.number("HOODIE-L")
    storefront_settings.update_settings(sf.shop.id, {"notify_per_unit": 2})
    db.session.commit()
    for i in range(10):
        sign_up(client, number, email=f"s{i}@example.com", ip=f"192.0.2.{i}")
    for n in notices("back_in_stock_confirm"):
        token = n.context["confirm_url"].split("token=", 1)[1]
        client.post("/proxy/back-in-stock/confirm", query_string=signed({"token": token}), data={"token": token})
        time.sleep(0.01)  # distinct confirmation times: "oldest" is well defined
    sf.worker.run()

    sf.set_stock(sf.de, "HOODIE-L", 3)  # 3 units back: 6 e-mails, not 10
    sf.worker.run()
    told = notices("back_in_stock")
    assert [n.recipient for n in told] == [f"s{i}@example.com" for i in range(6)]
    assert told[0].context["product_url"] == f"https://{SHOPIFY_SHOP}/products/merino-hoodie?variant={number}"
    assert all(n.subject.endswith(":restock:1") for n in told)

    storefront.refresh_statuses(sf.shop.id, ["HOODIE-L"])  # recomputed, nothing new: nobody else
    assert len(notices("back_in_stock")) == 6
    sf.set_stock(sf.de, "HOODIE-L", 4)  # one more unit: two more e-mails
    sf.worker.run()
    assert len(notices("back_in_stock")) == 8

    sf.set_stock(sf.de, "HOODIE-L", 0)
    sf.worker.run()
    sf.set_stock(sf.de, "HOODIE-L", 50)  # back again: the remaining two, once
    sf.worker.run()
    told = notices("back_in_stock")
    assert len(told) == 10 and {n.subject.rsplit(":", 1)[1] for n in told[8:]} == {"2"}
    assert len({n.recipient for n in told}) == 10  # nobody twice


def test_confirming_while_in_stock_notifies_at_once(sf, client):
    number = sf.number("HOODIE-S")  # in stock in Germany
    sign_up(client, number)
    [confirm] = notices("back_in_stock_confirm")
    token = confirm.context["confirm_url"].split("token=", 1)[1]
    client.post("/proxy/back-in-stock/confirm", query_string=signed({"token": token}), data={"token": token})
    [told] = notices("back_in_stock")
    assert told.recipient == "ada@example.com"


def test_status_bodies_are_plain_json_texts(sf, client):
    storefront_settings.set_text(sf.shop.id, "en", "in_stock_local", '<img src=x onerror=alert(1)> {country}')
    db.session.commit()
    sf.worker.run()
    body = stock(client, sf.number("HOODIE-S")).data
    assert json.loads(body)["status"] == "<img src=x onerror=alert(1)> Germany"  # data, escaped by the page


def test_hits_are_answered_before_flask_and_everything_else_by_the_view(sf, client):
    from integration.metrics import REQUEST_LATENCY

    first = stock(client, sf.number("HOODIE-S"))  # the installed-shop entry is not cached yet: the view
    assert first.status_code == 200 and "X-Request-Id" in first.headers
    before = REQUEST_LATENCY.labels("GET", "/proxy/stock", 200)._sum.get()
    hit = stock(client, sf.number("HOODIE-S"))
    assert hit.status_code == 200 and "X-Request-Id" not in hit.headers  # the WSGI fast path
    assert hit.headers["Cache-Control"] == "private, max-age=10"
    assert REQUEST_LATENCY.labels("GET", "/proxy/stock", 200)._sum.get() > before  # still measured
    miss = stock(client, sf.number("HOODIE-L"))
    assert miss.status_code == 404 and "X-Request-Id" in miss.headers  # the Flask view
    stale = stock(client, sf.number("HOODIE-S"), timestamp=int(time.time()) - 600)
    assert stale.status_code == 403 and "X-Request-Id" in stale.headers
    redis.client.delete(cache.installed_key(SHOPIFY_SHOP))  # expired entry: the view asks the database
    assert stock(client, sf.number("HOODIE-S")).status_code == 200
    assert redis.client.get(cache.installed_key(SHOPIFY_SHOP)) == str(sf.shop.id).encode()


def test_customer_redaction_erases_the_subscription(sf, client):
    from integration.shops import compliance

    sign_up(client, sf.number("HOODIE-L"), email="gone@example.com")
    sub = db.session.execute(select(BackInStockSubscription)).scalar_one()
    compliance.redact_customer(sf.shop, None, "GONE@example.com")
    db.session.commit()
    db.session.refresh(sub)
    assert sub.email is None and sub.redacted_at is not None
    assert BackInStockSubscription in compliance.customer_models()
