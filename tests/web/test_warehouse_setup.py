"""Warehouse setup API and page: accounts (credentials encrypted, write-only, verified with the
provider), discovery, warehouse mapping and validation, suggestions, rules, settings, alerts,
outbound — and every id scoped to the session's shop."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, text

from connectors.errors import AuthError, RetryableError
from connectors.warehouses import registry
from connectors.warehouses.base import BaseProvider
from integration.domain.warehousing import WarehouseSite
from integration.extensions import db, vault
from integration.models import (
    Alert,
    IntegrationLog,
    Location,
    Order,
    OutboundOrder,
    RoutingRule,
    ShopSettings,
    Warehouse,
    WarehouseAccount,
)
from integration.models.base import utcnow
from integration.warehouses import credentials as warehouse_credentials
from integration.warehouses import location_suggestions
from integration.warehouses.setup_validation import InvalidError
from tests.web.test_auth_security import add_shop, session_token

SHOP_A, SHOP_B = "a-shop.myshopify.com", "b-shop.myshopify.com"
SECRET = "s3cr3t-api-key-value-0123456789"
OTHER_SECRET = "b-shop-secret-value-9876543210"


# -- a provider behind real HTTP -----------------------------------------------------------------

class FakeWarehouseAPI:
    """A tiny provider API on loopback: GET /warehouses with an X-Api-Key header."""

    def __init__(self) -> None:
        self.keys = {SECRET, OTHER_SECRET}
        self.sites = [
            {"code": "DEWH", "name": "Berlin Hub", "country_code": "DE", "region": "EU"},
            {"code": "USWC", "name": "Los Angeles", "country_code": "US", "region": "NA"},
            {"code": "XXWH", "name": "Somewhere", "country_code": None, "region": None},
        ]
        self.mode = "ok"  # ok | garbage | down
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if api.mode == "down":
                    self.send_response(503)
                    body = b'{"error": "maintenance"}'
                elif self.headers.get("X-Api-Key") not in api.keys:
                    self.send_response(401)
                    body = b'{"error": "invalid key"}'
                else:
                    self.send_response(200)
                    payload = {"warehouses": api.sites} if api.mode == "ok" else {"unexpected": True}
                    body = json.dumps(payload).encode()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeProvider(BaseProvider):
    name = "fakewh"
    default_endpoint = "https://api.fakewh.example.com/v1"

    def list_warehouses(self) -> list[WarehouseSite]:
        started = time.perf_counter()
        r = self.session.get(f"{self.endpoint}/warehouses", headers={"X-Api-Key": self.credentials.get("api_key", "")})
        self._record("list_warehouses", r.status_code, started, response=r.text)
        if r.status_code == 401:
            raise AuthError("invalid api key", system=self.name, operation="list_warehouses")
        if r.status_code >= 500:
            raise RetryableError(f"HTTP {r.status_code}", system=self.name, operation="list_warehouses")
        return [WarehouseSite(**s) for s in r.json()["warehouses"]]


@pytest.fixture
def provider_api(monkeypatch):
    monkeypatch.setitem(registry.MODULES, "fakewh", __name__)
    monkeypatch.setitem(registry._classes, "fakewh", FakeProvider)
    api = FakeWarehouseAPI()
    yield api
    api.close()


@pytest.fixture
def shops(app):
    a, b = add_shop(SHOP_A), add_shop(SHOP_B)
    for shop, suffix in ((a, "a"), (b, "b")):
        db.session.add_all([
            Location(shop_id=shop.id, shopify_id=f"gid://shopify/Location/1{suffix}", name="Berlin warehouse",
                     country_code="DE"),
            Location(shop_id=shop.id, shopify_id=f"gid://shopify/Location/2{suffix}", name="Hamburg store",
                     country_code="DE"),
            Location(shop_id=shop.id, shopify_id=f"gid://shopify/Location/3{suffix}", name="LA Warehouse",
                     country_code="US"),
            Location(shop_id=shop.id, shopify_id=f"gid://shopify/Location/4{suffix}", name="Paris", country_code="FR"),
            Location(shop_id=shop.id, shopify_id=f"gid://shopify/Location/9{suffix}", name="Closed", country_code="DE",
                     deleted_at=utcnow()),
        ])
    db.session.commit()
    return a, b


def auth(shop=SHOP_A) -> dict:
    return {"Authorization": f"Bearer {session_token(shop)}"}


def connect(client, provider_api, shop=SHOP_A, secret=SECRET, **extra):
    body = {"provider": "fakewh", "name": "Fake EU", "credentials": {"api_key": secret},
            "endpoint": provider_api.url, **extra}
    return client.post("/api/warehouse-accounts", json=body, headers=auth(shop))


def loc(n, shop="a"):
    return f"gid://shopify/Location/{n}{shop}"


@pytest.fixture
def two_shops(client, shops, provider_api):
    """Both shops connected, with their warehouses, a rule and an alert each."""
    ids = {}
    for shop, secret in ((SHOP_A, SECRET), (SHOP_B, OTHER_SECRET)):
        r = connect(client, provider_api, shop, secret)
        assert r.status_code == 201, r.json
        account_id = r.json["account"]["id"]
        ws = client.get("/api/warehouses", headers=auth(shop)).json["warehouses"]
        rule = client.post("/api/routing-rules", json={"warehouse_id": ws[0]["id"], "country_code": "FR"},
                           headers=auth(shop)).json["rule"]
        ids[shop] = {"account": account_id, "warehouse": ws[0]["id"], "rule": rule["id"]}
    return ids


# -- page ----------------------------------------------------------------------------------------

def test_page_is_framed_only_by_the_shops_admin(client):
    r = client.get(f"/admin/warehouses?shop={SHOP_A}")
    assert r.status_code == 200 and r.mimetype == "text/html"
    csp = r.headers["Content-Security-Policy"]
    assert f"frame-ancestors https://{SHOP_A} https://admin.shopify.com;" in csp and "object-src 'none'" in csp
    assert b'name="shopify-api-key" content="test-api-key"' in r.data and b"admin/warehouses.js" in r.data
    assert b"prompt(" not in r.data and b"confirm(" not in r.data
    bad = client.get("/admin/warehouses?shop=evil.com%22%3E%3Cscript%3E")
    assert "frame-ancestors 'none';" in bad.headers["Content-Security-Policy"] and b"evil.com" not in bad.data


# -- authentication ------------------------------------------------------------------------------

ROUTES = [
    ("GET", "/api/warehouse-accounts"), ("POST", "/api/warehouse-accounts"),
    ("PATCH", "/api/warehouse-accounts/1"), ("DELETE", "/api/warehouse-accounts/1"),
    ("POST", "/api/warehouse-accounts/1/discover"), ("GET", "/api/warehouses"), ("PATCH", "/api/warehouses/1"),
    ("GET", "/api/warehouses/suggestions"), ("GET", "/api/routing-rules"), ("POST", "/api/routing-rules"),
    ("DELETE", "/api/routing-rules/1"), ("GET", "/api/settings"), ("PATCH", "/api/settings"), ("GET", "/api/alerts"),
    ("GET", "/api/outbound"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_needs_a_session_token(client, method, path):
    r = client.open(path, method=method, json={})
    assert r.status_code == 401 and r.json["error"]["code"] == "invalid_session"


# -- accounts ------------------------------------------------------------------------------------

def test_connect_verifies_stores_encrypted_and_imports_warehouses(client, shops, provider_api):
    r = connect(client, provider_api)
    assert r.status_code == 201, r.json
    account = r.json["account"]
    assert account["credential_keys"] == ["api_key"] and "credentials" not in account
    assert account["provider"] == "fakewh" and account["endpoint"] == provider_api.url and account["warehouses"] == 3
    assert sorted(r.json["discovery"]["created"]) == ["DEWH", "USWC", "XXWH"]
    # At rest: Fernet ciphertext, not the secret; decrypts to the JSON object.
    raw = db.session.execute(text("SELECT credentials FROM warehouse_accounts")).scalar_one()
    assert SECRET not in raw and raw.startswith("gAAAA")
    assert json.loads(vault.decrypt(raw)) == {"api_key": SECRET}
    ws = {w["code"]: w for w in client.get("/api/warehouses", headers=auth()).json["warehouses"]}
    assert ws["DEWH"]["country_code"] == "DE" and ws["DEWH"]["region"] == "EU" and ws["DEWH"]["active"] is True
    assert ws["DEWH"]["handling_hours"] == 24 and ws["DEWH"]["location_shopify_id"] is None
    assert ws["XXWH"]["country_code"] is None and ws["XXWH"]["active"] is False  # no country, no routing
    # The provider call is logged, without the credentials.
    logs = db.session.execute(select(IntegrationLog)).scalars().all()
    assert [lg.operation for lg in logs] == ["list_warehouses"]
    assert all(SECRET not in (lg.request_excerpt or "") + (lg.response_excerpt or "") for lg in logs)


def test_credentials_never_appear_in_any_response(client, two_shops):
    ids = two_shops[SHOP_A]
    bodies = [
        client.get("/api/warehouse-accounts", headers=auth()).data,
        client.patch(f"/api/warehouse-accounts/{ids['account']}", json={"name": "Renamed"}, headers=auth()).data,
        client.patch(f"/api/warehouse-accounts/{ids['account']}", json={"credentials": {"api_key": "wrong-key-1"}},
                     headers=auth()).data,
        client.post(f"/api/warehouse-accounts/{ids['account']}/discover", headers=auth()).data,
        client.get("/api/warehouses", headers=auth()).data,
        client.get("/admin/warehouses").data,
    ]
    for body in bodies:
        assert SECRET.encode() not in body and OTHER_SECRET.encode() not in body and b"wrong-key-1" not in body


@pytest.mark.parametrize(("credentials", "field"), [
    (None, "credentials"),
    ({}, "credentials"),
    ({"api_key": ""}, "credentials.api_key"),
    ({"api_key": "   "}, "credentials.api_key"),
    ({"api_key": 12345}, "credentials.api_key"),
    ({"api_key": {"nested": "x"}}, "credentials.api_key"),
    ({"api_key": "x" * 5000}, "credentials.api_key"),
    ({"bad key!": "x"}, "credentials"),
    ({f"k{i}": "x" for i in range(21)}, "credentials"),
])
def test_bad_credentials_are_refused_before_calling_the_provider(client, shops, provider_api, credentials, field):
    r = client.post("/api/warehouse-accounts", json={"provider": "fakewh", "credentials": credentials,
                                                      "endpoint": provider_api.url}, headers=auth())
    assert r.status_code == 422 and r.json["error"]["field"] == field
    assert db.session.execute(select(IntegrationLog)).first() is None  # never called
    assert db.session.execute(select(WarehouseAccount)).first() is None


@pytest.mark.parametrize(("body", "field"), [
    ({"provider": "nope", "credentials": {"k": "v"}}, "provider"),
    ({"credentials": {"k": "v"}}, "provider"),
    ({"provider": "fakewh", "credentials": {"k": "v"}, "endpoint": "ftp://x.example.com"}, "endpoint"),
    ({"provider": "fakewh", "credentials": {"k": "v"}, "endpoint": "http://user:pw@127.0.0.1/"}, "endpoint"),
    ({"provider": "fakewh", "credentials": {"k": "v"}, "endpoint": "http://127.0.0.1/?token=x"}, "endpoint"),
    ({"provider": "fakewh", "credentials": {"k": "v"}, "name": "x" * 300}, "name"),
    ({"provider": "fakewh", "credentials": {"k": "v"}, "shop_id": 2}, "shop_id"),
])
def test_account_fields_are_validated(client, shops, provider_api, body, field):
    r = client.post("/api/warehouse-accounts", json=body, headers=auth())
    assert r.status_code == 422 and r.json["error"]["field"] == field, r.json


def test_production_endpoints_must_be_https_on_the_providers_domain(provider_api):
    assert warehouse_credentials.endpoint("https://sandbox.fakewh.example.com/v1/", "fakewh", allow_any=False) == \
        "https://sandbox.fakewh.example.com/v1"
    for url in ("http://api.fakewh.example.com", "https://169.254.169.254/latest", "https://fakewh.example.com.evil.io",
                "https://evilexample.com", "https://127.0.0.1:8080"):
        with pytest.raises(InvalidError):
            warehouse_credentials.endpoint(url, "fakewh", allow_any=False)
    assert warehouse_credentials.endpoint("http://127.0.0.1:9000/", "fakewh", allow_any=True) == "http://127.0.0.1:9000"


def test_rejected_credentials_are_a_422_and_nothing_is_stored(client, shops, provider_api):
    r = connect(client, provider_api, secret="not-a-valid-key")
    assert r.status_code == 422 and r.json["error"]["code"] == "credentials_rejected"
    assert r.json["error"]["field"] == "credentials" and "refused the credentials" in r.json["error"]["message"]
    assert b"not-a-valid-key" not in r.data
    assert db.session.execute(select(WarehouseAccount)).first() is None


def test_unreachable_provider_is_a_502_with_a_clear_message(client, shops, provider_api):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = client.post("/api/warehouse-accounts", headers=auth(), json={
        "provider": "fakewh", "credentials": {"api_key": SECRET}, "endpoint": f"http://127.0.0.1:{port}/v1"})
    assert r.status_code == 502 and r.json["error"]["code"] == "provider_unavailable"
    assert r.json["error"]["message"].startswith("could not reach fakewh")
    assert db.session.execute(select(WarehouseAccount)).first() is None
    provider_api.mode = "down"
    r = connect(client, provider_api)
    assert r.status_code == 502 and "try again" in r.json["error"]["message"]


def test_a_provider_answer_we_cannot_read_is_a_502_not_a_500(client, shops, provider_api):
    provider_api.mode = "garbage"
    r = connect(client, provider_api)
    assert r.status_code == 502 and r.json["error"]["code"] == "provider_error"
    assert "KeyError" in r.json["error"]["message"]


def test_connector_not_available_is_a_503(client, shops, monkeypatch):
    monkeypatch.setitem(registry.MODULES, "ghostwh", "connectors.warehouses.does_not_exist")
    r = client.post("/api/warehouse-accounts", json={"provider": "ghostwh", "credentials": {"k": "v"}},
                    headers=auth())
    assert r.status_code == 503 and r.json["error"]["code"] == "provider_not_available"


def test_update_account_merges_and_reverifies_credentials(client, shops, provider_api):
    account_id = connect(client, provider_api).json["account"]["id"]
    url = f"/api/warehouse-accounts/{account_id}"
    r = client.patch(url, json={"name": "Renamed", "active": False}, headers=auth())
    assert r.status_code == 200 and r.json["account"]["name"] == "Renamed" and r.json["account"]["active"] is False
    # A new key is verified with the provider; the existing ones stay.
    r = client.patch(url, json={"credentials": {"region": "eu"}}, headers=auth())
    assert r.json["account"]["credential_keys"] == ["api_key", "region"]
    # A wrong replacement is refused and the stored credentials are unchanged.
    r = client.patch(url, json={"credentials": {"api_key": "wrong"}}, headers=auth())
    assert r.status_code == 422 and r.json["error"]["code"] == "credentials_rejected"
    assert json.loads(db.session.get(WarehouseAccount, account_id).credentials)["api_key"] == SECRET
    r = client.patch(url, json={"credentials": {"region": None}}, headers=auth())
    assert r.json["account"]["credential_keys"] == ["api_key"]
    r = client.patch(url, json={"credentials": {"api_key": None}}, headers=auth())
    assert r.status_code == 422 and r.json["error"]["field"] == "credentials"
    r = client.patch(url, json={"provider": "winit"}, headers=auth())
    assert r.status_code == 422 and r.json["error"]["field"] == "provider"


def test_delete_account_removes_its_warehouses_unless_they_have_orders(client, shops, provider_api):
    a, _ = shops
    first = connect(client, provider_api).json["account"]["id"]
    assert client.delete(f"/api/warehouse-accounts/{first}", headers=auth()).status_code == 204
    assert db.session.execute(select(Warehouse)).first() is None
    second = connect(client, provider_api).json["account"]["id"]
    warehouse = db.session.execute(select(Warehouse).where(Warehouse.account_id == second)).scalars().first()
    order = Order(shop_id=a.id, external_id="o-1", name="#1001")
    db.session.add(order)
    db.session.flush()
    db.session.add(OutboundOrder(shop_id=a.id, order_id=order.id, warehouse_id=warehouse.id, reference="ns-1"))
    db.session.commit()
    r = client.delete(f"/api/warehouse-accounts/{second}", headers=auth())
    assert r.status_code == 409 and r.json["error"]["code"] == "account_in_use"


def test_discovery_adds_new_codes_and_keeps_the_merchants_settings(client, shops, provider_api):
    account_id = connect(client, provider_api).json["account"]["id"]
    de = next(w for w in client.get("/api/warehouses", headers=auth()).json["warehouses"] if w["code"] == "DEWH")
    client.patch(f"/api/warehouses/{de['id']}", json={"name": "My Berlin", "handling_hours": 48}, headers=auth())
    provider_api.sites = [{"code": "DEWH", "name": "Berlin Hub v2", "country_code": "DE"},
                          {"code": "FRWH", "name": "Paris Nord", "country_code": "FR", "region": "EU"},
                          {"code": "", "name": "no code"}]
    r = client.post(f"/api/warehouse-accounts/{account_id}/discover", headers=auth())
    assert r.status_code == 200
    d = r.json["discovery"]
    assert d["created"] == ["FRWH"] and d["existing"] == ["DEWH"] and d["missing"] == ["USWC", "XXWH"]
    assert d["skipped"] == [""]
    ws = {w["code"]: w for w in r.json["warehouses"]}
    assert ws["DEWH"]["name"] == "My Berlin" and ws["DEWH"]["handling_hours"] == 48
    assert ws["FRWH"]["country_code"] == "FR" and set(ws) == {"DEWH", "USWC", "XXWH", "FRWH"}
    # Again: nothing new.
    again = client.post(f"/api/warehouse-accounts/{account_id}/discover", headers=auth()).json["discovery"]
    assert again["created"] == [] and sorted(again["existing"]) == ["DEWH", "FRWH"]


def test_discovery_failure_is_a_502_and_changes_nothing(client, shops, provider_api):
    account_id = connect(client, provider_api).json["account"]["id"]
    provider_api.mode = "down"
    r = client.post(f"/api/warehouse-accounts/{account_id}/discover", headers=auth())
    assert r.status_code == 502 and r.json["error"]["code"] == "provider_unavailable"
    assert len(client.get("/api/warehouses", headers=auth()).json["warehouses"]) == 3


# -- warehouses ----------------------------------------------------------------------------------

@pytest.fixture
def warehouse(client, shops, provider_api):
    connect(client, provider_api)
    return {w["code"]: w for w in client.get("/api/warehouses", headers=auth()).json["warehouses"]}


def test_update_warehouse(client, warehouse):
    wid = warehouse["DEWH"]["id"]
    body = {"name": "Berlin", "country_code": "de", "region": "EU-Central", "handling_hours": 36,
            "transit_days": {"DE": [1, 2], "at": [2, 3], "*": [5, 10]}, "priority": 5, "active": True,
            "location_shopify_id": loc(1)}
    r = client.patch(f"/api/warehouses/{wid}", json=body, headers=auth())
    assert r.status_code == 200, r.json
    w = r.json["warehouse"]
    assert w["country_code"] == "DE" and w["transit_days"] == {"DE": [1, 2], "AT": [2, 3], "*": [5, 10]}
    assert (w["handling_hours"], w["priority"], w["location_shopify_id"]) == (36, 5, loc(1))
    # null unmaps.
    r = client.patch(f"/api/warehouses/{wid}", json={"location_shopify_id": None}, headers=auth())
    assert r.json["warehouse"]["location_shopify_id"] is None


@pytest.mark.parametrize(("body", "field"), [
    ({"country_code": "XX"}, "country_code"),
    ({"country_code": "DEU"}, "country_code"),
    ({"country_code": None}, "country_code"),
    ({"handling_hours": 0}, "handling_hours"),
    ({"handling_hours": 721}, "handling_hours"),
    ({"handling_hours": "24"}, "handling_hours"),
    ({"handling_hours": True}, "handling_hours"),
    ({"handling_hours": 24.5}, "handling_hours"),
    ({"priority": -1}, "priority"),
    ({"priority": 1001}, "priority"),
    ({"transit_days": [1, 3]}, "transit_days[0]"),  # rows are objects
    ({"transit_days": "DE:1-3"}, "transit_days"),
    ({"transit_days": {"DE": [3, 1]}}, "transit_days.DE"),
    ({"transit_days": {"DE": [-1, 2]}}, "transit_days.DE"),
    ({"transit_days": {"DE": [1]}}, "transit_days.DE"),
    ({"transit_days": {"DE": [1, 2, 3]}}, "transit_days.DE"),
    ({"transit_days": {"DE": [1.5, 2]}}, "transit_days.DE"),
    ({"transit_days": {"DE": "1-3"}}, "transit_days.DE"),
    ({"transit_days": {"DE": [1, 400]}}, "transit_days.DE"),
    ({"transit_days": {"Germany": [1, 3]}}, "transit_days.Germany"),
    ({"active": "yes"}, "active"),
    ({"name": ""}, "name"),
    ({"location_shopify_id": "gid://shopify/Location/999"}, "location_shopify_id"),
    ({"location_shopify_id": loc(9)}, "location_shopify_id"),  # deleted location
    ({"location_shopify_id": loc(1, "b")}, "location_shopify_id"),  # the other shop's location
    ({"location_shopify_id": 5}, "location_shopify_id"),
    ({"code": "OTHER"}, "code"),  # the provider's code is not editable
    ({"shop_id": 99}, "shop_id"),
])
def test_warehouse_validation_names_the_field(client, warehouse, body, field):
    wid = warehouse["DEWH"]["id"]
    before = client.get("/api/warehouses", headers=auth()).json
    r = client.patch(f"/api/warehouses/{wid}", json=body, headers=auth())
    assert r.status_code == 422, r.json
    assert r.json["error"]["field"] == field and r.json["error"]["message"].startswith(field)
    assert client.get("/api/warehouses", headers=auth()).json == before


def test_a_location_is_mapped_to_one_warehouse_only(client, warehouse):
    de, us = warehouse["DEWH"]["id"], warehouse["USWC"]["id"]
    assert client.patch(f"/api/warehouses/{de}", json={"location_shopify_id": "1a"}, headers=auth()).status_code == 422
    assert client.patch(f"/api/warehouses/{de}", json={"location_shopify_id": loc(1)}, headers=auth()).status_code \
        == 200
    r = client.patch(f"/api/warehouses/{us}", json={"location_shopify_id": loc(1)}, headers=auth())
    assert r.status_code == 409 and r.json["error"]["code"] == "location_taken"
    # Re-saving the same mapping on the same warehouse is fine.
    assert client.patch(f"/api/warehouses/{de}", json={"location_shopify_id": loc(1)}, headers=auth()).status_code \
        == 200


def test_a_warehouse_without_country_cannot_be_activated(client, warehouse):
    wid = warehouse["XXWH"]["id"]
    r = client.patch(f"/api/warehouses/{wid}", json={"active": True}, headers=auth())
    assert r.status_code == 422 and r.json["error"]["field"] == "country_code"
    r = client.patch(f"/api/warehouses/{wid}", json={"active": True, "country_code": "PL"}, headers=auth())
    assert r.status_code == 200 and r.json["warehouse"]["active"] is True


@pytest.mark.parametrize(("kwargs", "status", "code"), [
    ({"data": b"{not json", "content_type": "application/json"}, 400, "invalid_json"),
    ({"data": b"[1, 2]", "content_type": "application/json"}, 400, "invalid_body"),
    ({"data": b"handling_hours=3", "content_type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
    ({"data": json.dumps({"name": "x" * 70_000}), "content_type": "application/json"}, 413, "body_too_large"),
])
def test_bodies_are_bounded_json_objects(client, warehouse, kwargs, status, code):
    r = client.patch(f"/api/warehouses/{warehouse['DEWH']['id']}", headers=auth(), **kwargs)
    assert r.status_code == status and r.json["error"]["code"] == code


def test_suggestions_from_imported_locations(client, warehouse):
    suggestions = {s["code"]: s for s in client.get("/api/warehouses/suggestions", headers=auth()).json["suggestions"]}
    de = suggestions["DEWH"]["suggestions"]
    # Same country first, then the closer name; never another country's or another shop's location.
    assert [s["location_shopify_id"] for s in de] == [loc(1), loc(2)]
    assert "same country" in de[0]["reasons"] and de[0]["score"] > de[1]["score"]
    assert [s["location_shopify_id"] for s in suggestions["USWC"]["suggestions"]] == [loc(3)]
    assert suggestions["XXWH"]["suggestions"] == []  # no country, no similar name
    # Once mapped, the warehouse and its location drop out.
    client.patch(f"/api/warehouses/{warehouse['DEWH']['id']}", json={"location_shopify_id": loc(1)}, headers=auth())
    suggestions = {s["code"]: s for s in client.get("/api/warehouses/suggestions", headers=auth()).json["suggestions"]}
    assert "DEWH" not in suggestions


def test_similarity_ignores_filler_words():
    assert location_suggestions.similarity("Berlin Fulfillment Center", "berlin warehouse") == 1.0
    assert location_suggestions.similarity("Los Angeles", "LA Warehouse") < 0.5
    assert location_suggestions.similarity("", "Paris") == 0.0


# -- rules, settings, alerts, outbound ------------------------------------------------------------

def test_routing_rules(client, warehouse):
    wid = warehouse["DEWH"]["id"]
    r = client.post("/api/routing-rules", json={"warehouse_id": wid, "sku": "MUG-1", "country_code": "ch"},
                    headers=auth())
    assert r.status_code == 201 and r.json["rule"]["country_code"] == "CH" and r.json["rule"]["sku"] == "MUG-1"
    again = client.post("/api/routing-rules", json={"warehouse_id": wid, "sku": "MUG-1", "country_code": "CH"},
                        headers=auth())
    assert again.status_code == 200 and again.json["rule"]["id"] == r.json["rule"]["id"]
    for body, field in [({"warehouse_id": wid}, "sku"), ({"warehouse_id": wid, "country_code": "XX"}, "country_code"),
                        ({"warehouse_id": "1", "sku": "A"}, "warehouse_id"), ({"sku": "A"}, "warehouse_id"),
                        ({"warehouse_id": 10**6, "sku": "A"}, "warehouse_id")]:
        bad = client.post("/api/routing-rules", json=body, headers=auth())
        assert bad.status_code == 422 and bad.json["error"]["field"] == field, (body, bad.json)
    assert [x["id"] for x in client.get("/api/routing-rules", headers=auth()).json["rules"]] == [r.json["rule"]["id"]]
    assert client.delete(f"/api/routing-rules/{r.json['rule']['id']}", headers=auth()).status_code == 204
    assert client.delete(f"/api/routing-rules/{r.json['rule']['id']}", headers=auth()).status_code == 404


def test_settings(client, shops):
    r = client.get("/api/settings", headers=auth())
    assert r.json["settings"] == {"split_orders": True, "safety_stock": 0, "channel_buffers": {},
                                  "customer_notices_by": "nearstock", "low_stock_threshold": 5}
    r = client.patch("/api/settings", json={"split_orders": False, "channel_buffers": {"amazon": 2}}, headers=auth())
    assert r.status_code == 200 and r.json["settings"]["split_orders"] is False
    r = client.patch("/api/settings", json={"safety_stock": 3, "customer_notices_by": "shopify"}, headers=auth())
    assert r.json["settings"] == {"split_orders": False, "safety_stock": 3, "channel_buffers": {"amazon": 2},
                                  "customer_notices_by": "shopify", "low_stock_threshold": 5}
    assert len(db.session.execute(select(ShopSettings)).all()) == 1
    for body, field in [({"split_orders": 1}, "split_orders"), ({"safety_stock": -1}, "safety_stock"),
                        ({"channel_buffers": {"ebay": 1}}, "channel_buffers.ebay"),
                        ({"channel_buffers": {"amazon": -2}}, "channel_buffers.amazon"),
                        ({"customer_notices_by": "both"}, "customer_notices_by"),
                        ({"low_stock_threshold": "5"}, "low_stock_threshold"), ({"nope": 1}, "nope")]:
        bad = client.patch("/api/settings", json=body, headers=auth())
        assert bad.status_code == 422 and bad.json["error"]["field"] == field, (body, bad.json)
    assert client.get("/api/settings", headers=auth(SHOP_B)).json["settings"]["split_orders"] is True


def _outbound(shop_id, warehouse_id, n, **values):
    order = Order(shop_id=shop_id, external_id=f"o-{shop_id}-{n}", name=f"#{1000 + n}")
    db.session.add(order)
    db.session.flush()
    row = OutboundOrder(shop_id=shop_id, order_id=order.id, warehouse_id=warehouse_id,
                        reference=f"ns-{shop_id}-{n}", **values)
    db.session.add(row)
    db.session.commit()
    return row


def test_alerts_and_outbound_show_the_shops_own(client, two_shops, shops):
    a, b = shops
    now = utcnow()
    db.session.add_all([
        Alert(shop_id=a.id, kind="sla_breached", subject="outbound:1", message="late"),
        Alert(shop_id=a.id, kind="backordered", subject="order:1", message="done", resolved_at=now),
        Alert(shop_id=b.id, kind="sla_breached", subject="outbound:2", message="B's alert"),
    ])
    db.session.commit()
    assert [x["message"] for x in client.get("/api/alerts", headers=auth()).json["alerts"]] == ["late"]
    wa, wb = two_shops[SHOP_A]["warehouse"], two_shops[SHOP_B]["warehouse"]
    _outbound(a.id, wa, 1, status="pushed", sla_due_at=now - timedelta(hours=2))
    _outbound(a.id, wa, 2, status="shipped", sla_due_at=now - timedelta(hours=2), shipped_at=now)
    _outbound(a.id, wa, 3, status="pending", sla_due_at=now + timedelta(hours=20))
    _outbound(b.id, wb, 4, status="pushed")
    rows = client.get("/api/outbound", headers=auth()).json["outbound"]
    assert [r["order"] for r in rows] == ["#1003", "#1002", "#1001"]
    assert [r["overdue"] for r in rows] == [False, False, True] and rows[2]["sla_due_at"]
    assert [r["order"] for r in client.get("/api/outbound?status=open", headers=auth()).json["outbound"]] == \
        ["#1003", "#1001"]
    assert [r["order"] for r in client.get("/api/outbound?status=shipped", headers=auth()).json["outbound"]] == \
        ["#1002"]
    assert client.get("/api/outbound?status=lost", headers=auth()).status_code == 422
    assert client.get("/api/outbound?limit=5000", headers=auth()).json["error"]["field"] == "limit"


# -- isolation ------------------------------------------------------------------------------------

def test_shop_a_cannot_reach_shop_b_by_id(client, two_shops):
    b = two_shops[SHOP_B]
    before = {
        "accounts": client.get("/api/warehouse-accounts", headers=auth(SHOP_B)).json,
        "warehouses": client.get("/api/warehouses", headers=auth(SHOP_B)).json,
        "rules": client.get("/api/routing-rules", headers=auth(SHOP_B)).json,
    }
    attempts = [
        ("PATCH", f"/api/warehouse-accounts/{b['account']}", {"name": "pwned"}),
        ("PATCH", f"/api/warehouse-accounts/{b['account']}", {"credentials": {"api_key": SECRET}}),
        ("DELETE", f"/api/warehouse-accounts/{b['account']}", None),
        ("POST", f"/api/warehouse-accounts/{b['account']}/discover", None),
        ("PATCH", f"/api/warehouses/{b['warehouse']}", {"priority": 1}),
        ("DELETE", f"/api/routing-rules/{b['rule']}", None),
    ]
    for method, path, body in attempts:
        r = client.open(path, method=method, json=body, headers=auth(SHOP_A))
        assert r.status_code == 404, (method, path, r.json)
        assert OTHER_SECRET.encode() not in r.data and b"b-shop" not in r.data
    # A's lists show only A's; B's data is untouched.
    a_accounts = client.get("/api/warehouse-accounts", headers=auth(SHOP_A)).json["accounts"]
    assert [x["id"] for x in a_accounts] == [two_shops[SHOP_A]["account"]]
    a_ws = {w["id"] for w in client.get("/api/warehouses", headers=auth(SHOP_A)).json["warehouses"]}
    assert b["warehouse"] not in a_ws
    assert b["rule"] not in {r["id"] for r in client.get("/api/routing-rules", headers=auth(SHOP_A)).json["rules"]}
    # A cannot attach a rule to B's warehouse either.
    r = client.post("/api/routing-rules", json={"warehouse_id": b["warehouse"], "sku": "X"}, headers=auth(SHOP_A))
    assert r.status_code == 422 and r.json["error"]["code"] == "unknown_warehouse"
    assert before == {
        "accounts": client.get("/api/warehouse-accounts", headers=auth(SHOP_B)).json,
        "warehouses": client.get("/api/warehouses", headers=auth(SHOP_B)).json,
        "rules": client.get("/api/routing-rules", headers=auth(SHOP_B)).json,
    }
    a_suggested = client.get("/api/warehouses/suggestions", headers=auth(SHOP_A)).json["suggestions"]
    assert all(s["location_shopify_id"].endswith("a") for w in a_suggested for s in w["suggestions"])
    assert db.session.execute(select(RoutingRule).where(RoutingRule.sku == "X")).first() is None


@pytest.mark.parametrize("path", ["/api/warehouse-accounts/{}", "/api/warehouses/{}", "/api/routing-rules/{}"])
@pytest.mark.parametrize("wid", [0, 2**63, 10**30])
def test_out_of_range_ids_are_404_not_500(client, shops, path, wid):
    method = "DELETE" if "routing" in path else "PATCH"
    r = client.open(path.format(wid), method=method, json={"name": "x"}, headers=auth())
    assert r.status_code == 404


# -- discovery against the provider emulators ------------------------------------------------------

def _winit(request):
    from tests.winit_fixtures import WINIT_WAREHOUSES, winit_credentials

    emulator = request.getfixturevalue("winit_emulator")
    return "winit", emulator.url, winit_credentials(), "token", WINIT_WAREHOUSES


def _goodcang(request):
    from tests.goodcang_fixtures import GOODCANG_APP_KEY, GOODCANG_APP_TOKEN, GOODCANG_WAREHOUSES

    emulator = request.getfixturevalue("goodcang_emulator")
    return ("goodcang", emulator.endpoint, {"app_key": GOODCANG_APP_KEY, "app_token": GOODCANG_APP_TOKEN},
            "app_token", GOODCANG_WAREHOUSES)


def _shipbob(request):
    from tests.shipbob_fixtures import SHIPBOB_CHANNEL, SHIPBOB_TOKEN

    emulator = request.getfixturevalue("shipbob_emulator")
    return ("shipbob", emulator.url, {"token": SHIPBOB_TOKEN, "channel_id": str(SHIPBOB_CHANNEL)}, "token",
            {"10": "US", "22": "US", "87": "NL"})


@pytest.mark.parametrize("emulated", [_winit, _goodcang, _shipbob], ids=["winit", "goodcang", "shipbob"])
def test_connect_and_discover_against_the_provider_emulator(client, shops, request, emulated):
    provider, url, creds, secret_key, expected = emulated(request)
    r = client.post("/api/warehouse-accounts", headers=auth(),
                    json={"provider": provider, "name": provider, "credentials": creds, "endpoint": url})
    assert r.status_code == 201, r.json
    assert r.json["account"]["credential_keys"] == sorted(creds)
    assert creds[secret_key].encode() not in r.data
    raw = db.session.execute(text("SELECT credentials FROM warehouse_accounts")).scalar_one()
    assert creds[secret_key] not in raw
    ws = {w["code"]: w["country_code"] for w in client.get("/api/warehouses", headers=auth()).json["warehouses"]}
    assert ws == expected
    account_id = r.json["account"]["id"]
    again = client.post(f"/api/warehouse-accounts/{account_id}/discover", headers=auth())
    assert again.status_code == 200 and again.json["discovery"]["created"] == []
    assert sorted(again.json["discovery"]["existing"]) == sorted(expected)
    # A wrong secret is refused by the emulator: 422, nothing stored, the secret not echoed.
    wrong = {**creds, secret_key: "WRONG0" + creds[secret_key][6:]}
    r = client.post("/api/warehouse-accounts", headers=auth(),
                    json={"provider": provider, "credentials": wrong, "endpoint": url})
    assert r.status_code == 422 and r.json["error"]["code"] == "credentials_rejected", r.json
    assert wrong[secret_key].encode() not in r.data
    # A required key missing: refused, naming the field, before any call.
    partial = {k: v for k, v in creds.items() if k != secret_key}
    r = client.post("/api/warehouse-accounts", headers=auth(),
                    json={"provider": provider, "credentials": partial, "endpoint": url})
    assert r.status_code == 422 and r.json["error"]["field"] == f"credentials.{secret_key}", r.json
    assert len(db.session.execute(select(WarehouseAccount)).all()) == 1
    logs = db.session.execute(select(IntegrationLog)).scalars().all()
    assert logs and all(creds[secret_key] not in (lg.request_excerpt or "") + (lg.response_excerpt or "")
                        for lg in logs)
