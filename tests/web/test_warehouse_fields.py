"""The connect form's provider fields and their server-side checks, the structured transit times
and the country list: each bad value is a 422 naming its field, nothing reaches the provider or
the database, and no shop sees another's Amazon accounts or warehouses."""
# ruff: noqa: F811 - the fixtures imported from test_warehouse_setup are test parameters here

from __future__ import annotations

import pytest
from sqlalchemy import select

from integration.extensions import db
from integration.models import IntegrationLog, Warehouse, WarehouseAccount
from integration.models.amazon import AmazonAccount
from integration.warehouses import transit_times
from integration.warehouses.countries import COUNTRIES, country_options
from tests.web.test_warehouse_setup import (  # noqa: F401 - fixtures
    SHOP_A,
    SHOP_B,
    auth,
    connect,
    provider_api,
    shops,
    two_shops,
    warehouse,
)


def providers(client, shop=SHOP_A, **params) -> dict:
    r = client.get("/api/warehouse-providers", headers=auth(shop), query_string=params)
    assert r.status_code == 200, r.json
    return {p["name"]: p for p in r.json["providers"]}


# -- the providers' fields -----------------------------------------------------------------------

def test_each_provider_offers_its_own_labelled_fields(client, shops):
    offered = providers(client)
    assert list(offered)[:4] == ["winit", "goodcang", "shipbob", "fba"]
    fields = {name: {f["name"]: f for f in p["fields"]} for name, p in offered.items()}
    assert {k for k, f in fields["winit"].items() if f["required"]} == {"app_key", "token"}
    assert {k for k, f in fields["goodcang"].items() if f["required"]} == {"app_key", "app_token"}
    assert {k for k, f in fields["shipbob"].items() if f["required"]} == {"token", "channel_id"}
    assert fields["winit"]["token"]["type"] == "password" and fields["shipbob"]["token"]["type"] == "password"
    assert fields["goodcang"]["product_link"]["type"] == "url"
    assert [o["value"] for o in fields["winit"]["language"]["options"]] == ["zh_CN", "en_US"]
    for provider in fields.values():
        for f in provider.values():
            assert f["label"] and f["help"] and f["type"] in ("text", "password", "url", "select")
    assert "Developer" in fields["goodcang"]["app_key"]["help"]  # where to find it
    assert "API Tokens" in fields["shipbob"]["token"]["help"]
    assert offered["fba"]["endpoint"] is False and offered["winit"]["endpoint"] is True
    assert fields["fba"]["amazon_account_id"]["options"] == []


def test_fba_offers_only_the_shops_own_connected_amazon_accounts(client, shops):
    shop_a, shop_b = shops
    for shop, name in ((shop_a, "Amazon EU"), (shop_b, "B's Amazon")):
        db.session.add(AmazonAccount(shop_id=shop.id, name=name, seller_id="S", region="eu", marketplaces=["A1PM"],
                                     lwa_client_id="c", lwa_client_secret="s", refresh_token="r"))
    db.session.add(AmazonAccount(shop_id=shop_a.id, name="Disconnected", seller_id="S2", region="eu",
                                 marketplaces=["A1PM"], lwa_client_id="c", lwa_client_secret="s", refresh_token="r",
                                 active=False))
    db.session.commit()
    mine = {a.name: a.id for a in db.session.execute(select(AmazonAccount)).scalars()}
    for shop, expected in ((SHOP_A, "Amazon EU"), (SHOP_B, "B's Amazon")):
        options = providers(client, shop)["fba"]["fields"][0]["options"]
        assert options == [{"value": str(mine[expected]), "label": f"{expected} (A1PM)"}]


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"provider": "winit", "credentials": {}}, "credentials.app_key", "credential_required"),
    ({"provider": "winit", "credentials": {"app_key": "me@example.com"}}, "credentials.token", "credential_required"),
    ({"provider": "winit", "credentials": {"app_key": "a", "token": "t", "language": "fr"}}, "credentials.language",
     "invalid"),
    ({"provider": "winit", "credentials": {"app_key": "a", "token": "t", "api_key": "x"}}, "credentials.api_key",
     "unknown_credential"),
    ({"provider": "goodcang", "credentials": {"app_key": "k"}}, "credentials.app_token", "credential_required"),
    ({"provider": "goodcang", "credentials": {"app_key": "k", "app_token": "t", "product_link": "ftp://x/{sku}"}},
     "credentials.product_link", "invalid"),
    ({"provider": "goodcang", "credentials": {"app_key": "k", "app_token": "t", "category_id": "abc"}},
     "credentials.category_id", "invalid"),
    ({"provider": "shipbob", "credentials": {"token": "pat"}}, "credentials.channel_id", "credential_required"),
    ({"provider": "shipbob", "credentials": {"token": "pat", "channel_id": "main"}}, "credentials.channel_id",
     "invalid"),
    ({"provider": "shipbob", "credentials": {"token": "pat", "channel_id": "1", "webhook_secret": "plain"}},
     "credentials.webhook_secret", "invalid"),
    ({"provider": "shipbob", "credentials": {"token": "x" * 5000, "channel_id": "1"}}, "credentials.token",
     "invalid"),
    ({"provider": "fba", "credentials": {"amazon_account_id": ""}}, "credentials.amazon_account_id", "invalid"),
])
def test_connect_checks_each_providers_fields_before_calling_it(client, shops, body, field, code):
    r = client.post("/api/warehouse-accounts", json=body, headers=auth())
    assert r.status_code == 422, r.json
    assert (r.json["error"]["field"], r.json["error"]["code"]) == (field, code)
    assert r.json["error"]["message"].startswith(field + ": ")
    assert db.session.execute(select(IntegrationLog)).first() is None  # the provider was never called
    assert db.session.execute(select(WarehouseAccount)).first() is None


def test_a_required_field_message_names_it_as_the_form_does(client, shops):
    r = client.post("/api/warehouse-accounts", json={"provider": "shipbob", "credentials": {"token": "pat"}},
                    headers=auth())
    assert r.json["error"]["message"] == "credentials.channel_id: Channel ID is required"


# -- transit times -------------------------------------------------------------------------------

def test_transit_days_as_rows(client, warehouse):
    wid = warehouse["DEWH"]["id"]
    rows = [{"country": "de", "min_days": 1, "max_days": 2}, {"country": "*", "min_days": 5, "max_days": 10},
            {"country": "XK", "min_days": 0, "max_days": 60}]
    r = client.patch(f"/api/warehouses/{wid}", json={"transit_days": rows}, headers=auth())
    assert r.status_code == 200, r.json
    w = r.json["warehouse"]
    assert w["transit_days"] == {"DE": [1, 2], "*": [5, 10], "XK": [0, 60]}
    assert w["transit_rows"] == [{"country": "DE", "min_days": 1, "max_days": 2},
                                 {"country": "XK", "min_days": 0, "max_days": 60},
                                 {"country": "*", "min_days": 5, "max_days": 10}]
    assert db.session.get(Warehouse, wid).transit_days == {"DE": [1, 2], "*": [5, 10], "XK": [0, 60]}
    # An empty list clears them.
    r = client.patch(f"/api/warehouses/{wid}", json={"transit_days": []}, headers=auth())
    assert r.json["warehouse"]["transit_days"] == {} and r.json["warehouse"]["transit_rows"] == []


def _row(**kw):
    return {"country": "DE", "min_days": 1, "max_days": 3, **kw}


@pytest.mark.parametrize(("rows", "field", "message"), [
    ([_row(country="XX")], "transit_days[0].country", "ISO 3166-1 alpha-2"),
    ([_row(country="EU")], "transit_days[0].country", "ISO 3166-1 alpha-2"),  # a CLDR grouping, no country
    ([_row(country="DEU")], "transit_days[0].country", "ISO 3166-1 alpha-2"),
    ([_row(country=None)], "transit_days[0].country", "ISO 3166-1 alpha-2"),
    ([_row(), _row(country="de", min_days=2)], "transit_days[1].country", "DE is listed twice"),
    ([_row(), _row(country="*"), _row(country="*")], "transit_days[2].country", "* is listed twice"),
    ([_row(min_days=4)], "transit_days[0].max_days", "less than the minimum"),
    ([_row(min_days=-1)], "transit_days[0].min_days", "between 0 and 60"),
    ([_row(max_days=61)], "transit_days[0].max_days", "between 0 and 60"),
    ([_row(max_days=1.5)], "transit_days[0].max_days", "whole number"),
    ([_row(min_days="1")], "transit_days[0].min_days", "whole number"),
    ([_row(min_days=True)], "transit_days[0].min_days", "whole number"),
    ([{"country": "DE", "max_days": 3}], "transit_days[0].min_days", "whole number"),
    ([_row(note="x")], "transit_days[0].note", "unknown field"),
    (["DE:1-3"], "transit_days[0]", "must be an object"),
    ("DE:1-3, *:5-10", "transit_days", "must be a list"),
    ([_row(country=c) for c in sorted(COUNTRIES)] + [_row(country="*")], "transit_days", "at most 250"),
])
def test_transit_rows_are_validated_and_name_the_row(client, warehouse, rows, field, message):
    wid = warehouse["DEWH"]["id"]
    before = client.get("/api/warehouses", headers=auth()).json
    r = client.patch(f"/api/warehouses/{wid}", json={"transit_days": rows}, headers=auth())
    assert r.status_code == 422, r.json
    assert r.json["error"]["field"] == field and message in r.json["error"]["message"]
    assert client.get("/api/warehouses", headers=auth()).json == before


def test_transit_days_stored_by_an_older_version_still_read(client, warehouse):
    """The object form (and values past today's 60-day bound) stay readable as rows; a malformed
    entry is skipped, not a failed page."""
    wid = warehouse["DEWH"]["id"]
    row = db.session.get(Warehouse, wid)
    row.transit_days = {"*": [5, 90], "FR": [2, 4], "IT": "2-4"}
    db.session.commit()
    w = next(x for x in client.get("/api/warehouses", headers=auth()).json["warehouses"] if x["id"] == wid)
    assert w["transit_rows"] == [{"country": "FR", "min_days": 2, "max_days": 4},
                                 {"country": "*", "min_days": 5, "max_days": 90}]
    assert transit_times.rows(None) == []
    # The object form is still accepted on write, with the same bounds.
    r = client.patch(f"/api/warehouses/{wid}", json={"transit_days": {"fr": [2, 4]}}, headers=auth())
    assert r.status_code == 200 and r.json["warehouse"]["transit_days"] == {"FR": [2, 4]}
    r = client.patch(f"/api/warehouses/{wid}", json={"transit_days": {"FR": [2, 61]}}, headers=auth())
    assert r.status_code == 422 and r.json["error"]["field"] == "transit_days.FR"


def test_another_shops_warehouse_takes_no_transit_rows(client, two_shops):
    b = two_shops[SHOP_B]["warehouse"]
    before = db.session.get(Warehouse, b).transit_days
    r = client.patch(f"/api/warehouses/{b}", json={"transit_days": [_row()]}, headers=auth(SHOP_A))
    assert r.status_code == 404
    db.session.expire_all()
    assert db.session.get(Warehouse, b).transit_days == before


# -- the country list ----------------------------------------------------------------------------

def test_countries_are_cldrs_in_the_admins_language(client, shops):
    r = client.get("/api/countries", headers=auth(), query_string={"locale": "de"})
    assert r.status_code == 200
    countries = r.json["countries"]
    assert len(countries) == len(COUNTRIES) and {"code": "DE", "name": "Deutschland"} in countries
    assert not {"EU", "UN", "ZZ", "QO"} & {c["code"] for c in countries}
    names = [c["name"] for c in countries]
    assert names == sorted(names, key=str.casefold)
    fallback = client.get("/api/countries", headers=auth(), query_string={"locale": "<script>"}).json["countries"]
    assert {"code": "DE", "name": "Germany"} in fallback
    assert country_options("zh-CN") == country_options("zh_CN")


@pytest.mark.parametrize("path", ["/api/warehouse-providers", "/api/countries"])
def test_the_form_lists_need_a_session_token(client, path):
    r = client.get(path)
    assert r.status_code == 401 and r.json["error"]["code"] == "invalid_session"


def test_every_field_label_and_help_is_translated_by_the_page(client):
    """The page translates the API's English labels through its strings (t(field.label)): each
    label, help and option label must be one of them, or it would show in English."""
    import json
    import re

    from integration.warehouses.credential_fields import FIELDS

    html = client.get(f"/admin/warehouses?shop={SHOP_A}&locale=de").get_data(as_text=True)
    strings = json.loads(re.search(r'<script type="application/json" id="ns-strings">(.*?)</script>', html, re.S)[1])
    for fields in FIELDS.values():
        for f in fields:
            for text in (f.label, f.help, *(label for _, label in f.options if not label[:1].isdigit())):
                assert text in strings, text
                assert strings[text] != text or text in ("App Key", "App Token"), text  # German, not English
