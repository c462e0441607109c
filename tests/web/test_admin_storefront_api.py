"""``/api/storefront/*``: the Storefront page's settings, wording and block preview. Saved values
are read back, bad ones answer 422 naming the field (and nothing is saved), a change reaches the
storefront (Redis bodies and the variants' metafields in the Shopify emulator) through the refresh
job, and a second shop neither sees nor changes the first one's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from integration.extensions import db, redis
from integration.models import Shop, ShopSettings
from integration.models.storefront import StockStatusText, StorefrontSettings
from integration.storefront import cache
from tests.conftest import API_KEY
from tests.shopify_fixtures import SHOPIFY_SHOP
from tests.test_loyalty_support import auth
from tests.test_storefront_helpers import storefront_stack  # noqa: F401 - the "sf" fixture

OTHER = "beta.myshopify.com"


def own() -> dict:
    """This shop's session token, fresh: a token lives 60 s, and the suite runs far longer."""
    return auth(SHOPIFY_SHOP)


@pytest.fixture
def client(sf):
    return sf.app.test_client()


def cached(sf, sku: str, field: str) -> dict:
    """The body ``/proxy/stock`` answers a shopper (``market:locale``) with, as the proxy looks it up."""
    market, locale = field.split(":")
    values = redis.client.hmget(cache.status_key(SHOPIFY_SHOP, sf.number(sku)), cache.status_fields(market, locale))
    raw = next((v for v in values if v is not None), None)
    return json.loads(raw) if raw else {}


def sold_out_with_restock(sf, sku: str = "HOODIE-L") -> None:
    sf.set_stock(sf.de, sku, 0, inbound=20, inbound_eta=datetime.now(UTC) + timedelta(days=10))
    sf.worker.run()


def other_shop() -> Shop:
    shop = Shop(domain=OTHER, access_token="shpat_other", status="installed", name="Beta")
    db.session.add(shop)
    db.session.commit()
    return shop


# -- settings ----------------------------------------------------------------------------------------

def test_settings_read_defaults_and_theme_editor_links(client):
    body = client.get("/api/storefront/settings", headers=own()).get_json()
    assert body["settings"] == {"allow_preorder": False, "back_in_stock": True, "notify_per_unit": 2.0,
                                "low_stock_threshold": 5, "locales": [], "default_locale": None, "markets": []}
    assert body["languages"] == ["en", "de", "fr", "es", "it", "nl", "ja", "zh-CN"]
    assert body["theme_editor"]["add_block"] == (
        f"https://{SHOPIFY_SHOP}/admin/themes/current/editor?context=apps&template=product"
        f"&addAppBlockId={API_KEY}/stock-status&target=mainSection")
    assert body["theme_editor"]["app_embed"].endswith(f"&activateAppId={API_KEY}/stock-status-embed")


def test_settings_need_a_session(client):
    assert client.get("/api/storefront/settings").status_code == 401
    assert client.put("/api/storefront/settings", json={"allow_preorder": True}).status_code == 401


def test_enabling_preorder_reaches_the_storefront(sf, client):
    sold_out_with_restock(sf)
    assert cached(sf, "HOODIE-L", "DE:en")["code"] == "out_of_stock"
    assert sf.metafield("HOODIE-L")["markets"]["*"]["code"] == "out_of_stock"

    response = client.put("/api/storefront/settings", headers=own(), json={
        "allow_preorder": True, "low_stock_threshold": 3, "notify_per_unit": 1.5, "locales": ["de", "en"],
        "default_locale": "de", "markets": ["fr", "AT"]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["settings"] == {
        "allow_preorder": True, "back_in_stock": True, "notify_per_unit": 1.5, "low_stock_threshold": 3,
        "locales": ["en", "de"], "default_locale": "de", "markets": ["AT", "FR"]}
    assert client.get("/api/storefront/settings", headers=own()).get_json()["settings"]["allow_preorder"] is True

    sf.worker.run()  # the refresh the save queued after its commit
    assert cached(sf, "HOODIE-L", "DE:en")["code"] == "preorder"
    assert cached(sf, "HOODIE-L", "DE:de")["status"] == "Vorbestellung"
    doc = sf.metafield("HOODIE-L")
    assert doc["markets"]["DE"]["code"] == "preorder" and doc["default"] == "de"
    assert set(doc["markets"]["DE"]["texts"]) == {"en", "de"}


def test_low_stock_threshold_reaches_the_storefront(sf, client):
    sf.set_stock(sf.de, "HOODIE-S", 4)
    sf.worker.run()
    assert cached(sf, "HOODIE-S", "DE:en")["status"] == "Only 4 left"
    assert client.put("/api/storefront/settings", headers=own(), json={"low_stock_threshold": 2}).status_code == 200
    sf.worker.run()
    assert cached(sf, "HOODIE-S", "DE:en")["status"] == "In stock in Germany"
    assert sf.metafield("HOODIE-S")["markets"]["DE"]["code"] == "in_stock_local"
    # The warehouses page's shop settings say the same, and move the storefront too.
    assert client.patch("/api/settings", headers=own(), json={"low_stock_threshold": 6}).status_code == 200
    sf.worker.run()
    assert cached(sf, "HOODIE-S", "DE:en")["status"] == "Only 4 left"


@pytest.mark.parametrize(("body", "field"), [
    ({"allow_preorder": "yes"}, "allow_preorder"),
    ({"low_stock_threshold": -1}, "low_stock_threshold"),
    ({"low_stock_threshold": "5"}, "low_stock_threshold"),
    ({"low_stock_threshold": 1_000_001}, "low_stock_threshold"),
    ({"notify_per_unit": 101}, "notify_per_unit"),
    ({"notify_per_unit": True}, "notify_per_unit"),
    ({"locales": ["de", "pt"]}, "locales.1"),
    ({"locales": "de"}, "locales"),
    ({"default_locale": "xx"}, "default_locale"),
    ({"locales": ["de"], "default_locale": "fr"}, "default_locale"),
    ({"markets": ["ZZ"]}, "markets.0"),
    ({"markets": ["DE"] * 51}, "markets"),
    ({"colour": "red"}, "colour"),
])
def test_bad_settings_answer_422_naming_the_field_and_save_nothing(client, body, field):
    response = client.put("/api/storefront/settings", headers=own(), json={"allow_preorder": True, **body}
                          if "allow_preorder" not in body else body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["field"] == field and error["message"].startswith(f"{field}: ")
    db.session.expire_all()
    assert db.session.execute(select(StorefrontSettings)).scalars().all() == []
    assert db.session.execute(select(ShopSettings.low_stock_threshold)).scalar_one() == 5


def test_malformed_settings_bodies_are_4xx(client):
    assert client.put("/api/storefront/settings", headers=own(), json=[1]).status_code == 400
    assert client.put("/api/storefront/settings", headers=own(), data="x", content_type="text/plain").status_code == 415
    assert client.put("/api/storefront/settings", headers=own(), data=b"{", content_type="application/json"
                      ).status_code == 400


# -- wording -----------------------------------------------------------------------------------------

def test_texts_show_every_default_and_save_per_language(sf, client):
    body = client.get("/api/storefront/texts", headers=own()).get_json()
    assert body["languages"] == ["en", "de", "fr", "es", "it", "nl", "ja", "zh-CN"]
    assert {k["key"]: k["placeholders"] for k in body["keys"]}["low_stock"] == ["count"]
    assert body["texts"]["de"]["out_of_stock"] == {"default": "Ausverkauft", "custom": None}
    assert body["texts"]["zh-CN"]["preorder"] == {"default": "预售", "custom": None}

    sf.set_stock(sf.de, "HOODIE-L", 0)
    sf.worker.run()
    response = client.put("/api/storefront/texts", headers=own(), json={"texts": {
        "de": {"out_of_stock": "  Leider vergriffen  ", "preorder": "Jetzt vorbestellen"},
        "en": {"low_stock": "Just {count} to go"}}})
    assert response.status_code == 200, response.get_json()
    texts = response.get_json()["texts"]
    assert texts["de"]["out_of_stock"] == {"default": "Ausverkauft", "custom": "Leider vergriffen"}
    assert texts["en"]["low_stock"]["custom"] == "Just {count} to go"
    sf.worker.run()
    assert cached(sf, "HOODIE-L", "DE:de")["status"] == "Leider vergriffen"
    assert cached(sf, "HOODIE-L", "DE:en")["status"] == "Out of stock"
    assert sf.metafield("HOODIE-L")["markets"]["*"]["texts"]["de"]["status"] == "Leider vergriffen"

    # Empty: back to the default wording.
    client.put("/api/storefront/texts", headers=own(), json={"texts": {"de": {"out_of_stock": ""}}})
    texts = client.get("/api/storefront/texts", headers=own()).get_json()["texts"]
    assert texts["de"]["out_of_stock"]["custom"] is None
    sf.worker.run()
    assert cached(sf, "HOODIE-L", "DE:de")["status"] == "Ausverkauft"


@pytest.mark.parametrize(("texts", "field", "says"), [
    ({"pt": {"preorder": "Pré-venda"}}, "texts.pt", "must be one of en, de"),
    ({"de": {"sold_out": "Weg"}}, "texts.de.sold_out", "unknown text"),
    ({"de": {"preorder": "Nur {count}"}}, "texts.de.preorder", "unknown placeholder(s) count"),
    ({"de": {"preorder": "x" * 201}}, "texts.de.preorder", "at most 200 characters"),
    ({"de": {"preorder": "zwei\nZeilen"}}, "texts.de.preorder", "one line"),
    ({"de": {"preorder": 7}}, "texts.de.preorder", "must be a string"),
    ({"de": ["Vorbestellung"]}, "texts.de", "must be a JSON object"),
])
def test_bad_texts_answer_with_the_field_and_save_nothing(client, texts, field, says):
    response = client.put("/api/storefront/texts", headers=own(),
                          json={"texts": {"en": {"preorder": "Order now"}, **texts}})
    assert response.status_code in (400, 422)
    error = response.get_json()["error"]
    assert error["field"] == field and says in error["message"]
    db.session.expire_all()
    assert db.session.execute(select(StockStatusText)).scalars().all() == []


# -- preview -----------------------------------------------------------------------------------------

def test_preview_uses_saved_values_or_the_unsaved_ones(sf, client):
    def preview(**params):
        response = client.get("/api/storefront/preview", headers=own(), query_string=params)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    out = preview(state="preorder", language="de")  # pre-order is off: sold out
    assert (out["code"], out["status"], out["subscribe"], out["market"]) == ("out_of_stock", "Ausverkauft", True, "DE")
    unsaved = preview(state="preorder", language="de", allow_preorder="true")
    assert (unsaved["code"], unsaved["status"], unsaved["subscribe"]) == ("preorder", "Vorbestellung", False)
    assert unsaved["eta"].startswith("Lieferung am ") and unsaved["arrives_on"]
    typed = preview(state="preorder", language="de", allow_preorder="1", **{"text.preorder": "Jetzt vorbestellen"})
    assert typed["status"] == "Jetzt vorbestellen"
    assert preview(state="in_stock", language="en") | {"eta": None} == preview(state="in_stock") | {"eta": None}
    in_stock = preview(state="in_stock", language="fr")
    assert (in_stock["status"], in_stock["eta"]) == ("En stock : Allemagne", "Livraison sous 2 à 4 jours")
    low = preview(state="low", language="en")
    assert (low["code"], low["status"], low["plain"], low["quantity"]) == ("low_stock", "Only 3 left", "Low stock", 3)
    assert preview(state="low", low_stock_threshold="0")["code"] == "in_stock_local"  # no low state at 0
    assert preview(state="out", language="ja", allow_preorder="true")["status"] == "在庫切れ"  # nothing inbound
    db.session.expire_all()  # the preview saved nothing
    assert db.session.execute(select(StorefrontSettings)).scalars().all() == []
    assert db.session.execute(select(StockStatusText)).scalars().all() == []

    # Saved values are what the preview shows without unsaved ones; an emptied text is the default.
    client.put("/api/storefront/settings", headers=own(), json={"allow_preorder": True})
    client.put("/api/storefront/texts", headers=own(), json={"texts": {"de": {"preorder": "Vorbestellen"}}})
    assert preview(state="preorder", language="de")["status"] == "Vorbestellen"
    assert preview(state="preorder", language="de", **{"text.preorder": ""})["status"] == "Vorbestellung"
    assert preview(state="preorder", language="de", allow_preorder="false")["code"] == "out_of_stock"


def test_preview_by_post_carries_long_wording(client):
    long = "予約注文受付中" * 28  # 196 characters: too long for a URL once encoded
    response = client.post("/api/storefront/preview", headers=own(), json={
        "state": "preorder", "language": "ja", "settings": {"allow_preorder": True}, "texts": {"preorder": long}})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == long


@pytest.mark.parametrize(("params", "field"), [
    ({"state": "sold"}, "state"),
    ({"state": "low", "language": "pt"}, "language"),
    ({"state": "low", "low_stock_threshold": "lots"}, "low_stock_threshold"),
    ({"state": "low", "low_stock_threshold": "-2"}, "low_stock_threshold"),
    ({"state": "low", "allow_preorder": "maybe"}, "allow_preorder"),
    ({"state": "low", "language": "de", "text.low_stock": "Nur {country}"}, "texts.de.low_stock"),
    ({"state": "low", "text.nope": "x"}, "texts.en.nope"),
])
def test_bad_preview_parameters_answer_422(client, params, field):
    response = client.get("/api/storefront/preview", headers=own(), query_string=params)
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field


def test_preview_of_a_shop_without_warehouses_promises_no_date(sf, client):
    other_shop()
    response = client.get("/api/storefront/preview", headers=auth(OTHER),
                          query_string={"state": "preorder", "allow_preorder": "true"})
    body = response.get_json()
    # No warehouse, no transit days: nothing can be promised, so a restock is no pre-order.
    assert (body["code"], body["eta"], body["market"], body["sample_warehouse"]) == ("out_of_stock", "", "US", True)
    assert client.get("/api/storefront/preview", headers=auth(OTHER), query_string={"state": "in_stock"}
                      ).get_json()["status"] == "In stock in United States"


# -- two shops ---------------------------------------------------------------------------------------

def test_another_shop_neither_sees_nor_changes_this_shops_storefront(sf, client):
    beta = other_shop()
    b = auth(OTHER)
    client.put("/api/storefront/settings", headers=own(), json={"allow_preorder": True, "low_stock_threshold": 9})
    client.put("/api/storefront/texts", headers=own(), json={"texts": {"de": {"preorder": "Vorbestellen"}}})

    seen = client.get("/api/storefront/settings", headers=b).get_json()
    assert seen["settings"]["allow_preorder"] is False and seen["settings"]["low_stock_threshold"] == 5
    assert seen["theme_editor"]["add_block"].startswith(f"https://{OTHER}/admin/")
    assert client.get("/api/storefront/texts", headers=b).get_json()["texts"]["de"]["preorder"]["custom"] is None
    assert client.get("/api/storefront/preview", headers=b, query_string={"state": "preorder", "language": "de"}
                      ).get_json()["status"] == "Ausverkauft"

    assert client.put("/api/storefront/settings", headers=b, json={"allow_preorder": False, "low_stock_threshold": 1}
                      ).status_code == 200
    assert client.put("/api/storefront/texts", headers=b, json={"texts": {"de": {"preorder": ""}}}).status_code == 200
    mine = client.get("/api/storefront/settings", headers=own()).get_json()["settings"]
    assert mine["allow_preorder"] is True and mine["low_stock_threshold"] == 9
    assert client.get("/api/storefront/texts", headers=own()).get_json()["texts"]["de"]["preorder"]["custom"] == (
        "Vorbestellen")
    db.session.expire_all()
    rows = {r.shop_id: r.allow_preorder for r in db.session.execute(select(StorefrontSettings)).scalars()}
    assert rows == {sf.shop.id: True, beta.id: False}
