"""The warehouse connect form under `make run`: it offers the emulators' demo accounts (development
only — nothing of them in production), an account connected without an endpoint reaches its
provider's emulator (ShipBob included), and FBA is connected through the shop's connected Amazon
account, never offered as a form it cannot complete."""

from __future__ import annotations

import json

import pytest

from connectors.errors import AuthError
from integration.amazon import connect as amazon_connect
from integration.config import Config, ConfigError
from integration.extensions import db
from integration.models import Warehouse, WarehouseAccount
from integration.models.amazon import AmazonAccount
from integration.warehouses.providers import build_provider, provider_for
from sandbox.warehouses.demo import WarehouseSandbox
from tests.amazon_fixtures import CLIENT_ID, CLIENT_SECRET, DE, FR, REFRESH_TOKEN, SELLER_ID
from tests.conftest import make_config
from tests.web.test_auth_security import add_shop, session_token

SHOP_A, SHOP_B = "a-shop.myshopify.com", "b-shop.myshopify.com"


@pytest.fixture
def warehouse_sandbox():
    sandbox = WarehouseSandbox(clock_speed=0).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def config(tmp_path, database_url, redis_url, redis_conn, warehouse_sandbox):
    """What `make run` gives the app: the emulators' endpoints and demo credentials."""
    return make_config(tmp_path, database_url, redis_url, NEARSTOCK_ENV="development",
                       WAREHOUSE_SANDBOX=json.dumps(warehouse_sandbox.settings()))


@pytest.fixture
def shops(app):
    return add_shop(SHOP_A), add_shop(SHOP_B)


def auth(shop=SHOP_A) -> dict:
    return {"Authorization": f"Bearer {session_token(shop)}"}


def offered(client, shop=SHOP_A) -> dict:
    r = client.get("/api/warehouse-accounts", headers=auth(shop))
    assert r.status_code == 200
    return r.json


def production(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "NEARSTOCK", app.config["NEARSTOCK"].with_overrides(env="production"))


# -- demo accounts -------------------------------------------------------------------------------

def test_the_form_offers_each_emulators_demo_account_in_development(client, shops, warehouse_sandbox):
    data = offered(client)
    providers = {p["name"]: p for p in data["providers"]}
    assert [p["name"] for p in data["providers"]] == ["winit", "goodcang", "shipbob", "fba"]  # FBA never the default
    for name, account in warehouse_sandbox.accounts().items():
        assert providers[name]["demo"] == account
        assert set(account["credentials"]) <= set(providers[name]["credential_keys"])
    assert "demo" not in providers["fba"]
    assert data["sandbox"] == {"control_url": warehouse_sandbox.control_url}
    # The page says so from its first paint (a banner shown later would push the page down).
    page = client.get(f"/admin/warehouses?shop={SHOP_A}").get_data(as_text=True)
    assert f'id="sandbox-link" href="{warehouse_sandbox.control_url}"' in page


def test_nothing_demo_is_reachable_in_production(app, client, shops, warehouse_sandbox, monkeypatch):
    production(app, monkeypatch)
    data = offered(client)
    assert "sandbox" not in data and all("demo" not in p for p in data["providers"])
    page = client.get(f"/admin/warehouses?shop={SHOP_A}").get_data(as_text=True)
    assert 'id="sandbox"' not in page and warehouse_sandbox.control_url not in page
    text = json.dumps(data) + page
    for account in warehouse_sandbox.accounts().values():
        assert account["endpoint"] not in text
        assert not any(value in text for value in account["credentials"].values())
    # An account without an endpoint reaches the vendor, never the emulator.
    provider = build_provider(1, "shipbob", {"token": "t", "channel_id": "1"}, account_key="x", endpoint=None)
    assert provider.endpoint == "https://api.shipbob.com"


def test_production_refuses_the_warehouse_sandbox_setting(tmp_path):
    env = {"NEARSTOCK_ENV": "production", "DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r",
           "SECRET_KEY": "k" * 40, "NEARSTOCK_ENCRYPTION_KEY": "0" * 43 + "=", "APP_URL": "https://app.example",
           "SHOPIFY_API_KEY": "key", "SHOPIFY_API_SECRET": "secret", "SMTP_URL": "smtp://mail.example",
           "WAREHOUSE_SANDBOX": json.dumps({"accounts": {}})}
    with pytest.raises(ConfigError, match="WAREHOUSE_SANDBOX"):
        Config.from_env(env)


@pytest.mark.parametrize("raw", [
    "not json", "[]", json.dumps({"accounts": []}), json.dumps({"accounts": {"winit": {"endpoint": "ftp://x"}}}),
    json.dumps({"accounts": {"winit": {"endpoint": "http://127.0.0.1:1", "credentials": {"token": 5}}}}),
    json.dumps({"control_url": "javascript:alert(1)", "accounts": {}}), "x" * 20000,
])
def test_a_malformed_warehouse_sandbox_setting_stops_start_up(tmp_path, raw):
    with pytest.raises(ConfigError, match="WAREHOUSE_SANDBOX"):
        Config.from_env({"NEARSTOCK_ENV": "development", "NEARSTOCK_INSTANCE_PATH": str(tmp_path),
                         "WAREHOUSE_SANDBOX": raw})


@pytest.mark.parametrize(("name", "countries"), [("winit", {"DE", "FR"}), ("goodcang", {"DE", "FR"}),
                                                 ("shipbob", {"US"})])
def test_a_demo_account_connects_without_an_endpoint(client, shops, warehouse_sandbox, name, countries):
    """What the form's "fill in the demo account" sends: credentials, no endpoint (ShipBob's used to
    go to api.shipbob.com, unreachable offline)."""
    demo = warehouse_sandbox.accounts()[name]
    r = client.post("/api/warehouse-accounts", headers=auth(),
                    json={"provider": name, "name": f"{name} demo", "credentials": demo["credentials"]})
    assert r.status_code == 201, r.json
    assert r.json["account"]["endpoint"] is None and r.json["discovery"]["found"] == 2
    account = db.session.get(WarehouseAccount, r.json["account"]["id"])
    warehouses = db.session.query(Warehouse).filter_by(account_id=account.id).all()
    assert {w.country_code for w in warehouses} == countries and all(w.active for w in warehouses)
    stock = {(s.warehouse_code, s.sku): s.available for s in provider_for(account).get_inventory()}
    assert stock and all(sku in {"HOODIE-S", "HOODIE-M", "BOTTLE-1L"} for _, sku in stock)


# -- FBA through the connected Amazon account ------------------------------------------------------

def amazon_account(shop, emulator, **overrides) -> AmazonAccount:
    values = {"shop_id": shop.id, "name": "Amazon EU", "seller_id": SELLER_ID, "region": "eu",
              "marketplaces": [DE, FR], "lwa_client_id": CLIENT_ID, "lwa_client_secret": CLIENT_SECRET,
              "refresh_token": REFRESH_TOKEN, "endpoint": emulator.url, "lwa_token_url": emulator.token_url}
    account = AmazonAccount(**{**values, **overrides})
    db.session.add(account)
    db.session.commit()
    return account


def test_fba_is_offered_only_through_a_connected_amazon_account(client, shops):
    fba = next(p for p in offered(client)["providers"] if p["name"] == "fba")
    assert fba["label"] == "Amazon FBA" and fba["amazon_accounts"] == []
    raw = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN,
           "selling_partner_id": SELLER_ID, "marketplace_ids": DE, "lwa_token_url": "http://evil.example/token"}
    r = client.post("/api/warehouse-accounts", headers=auth(), json={"provider": "fba", "credentials": raw})
    assert r.status_code == 422 and r.json["error"]["code"] == "fba_needs_amazon_account"
    r = client.post("/api/warehouse-accounts", headers=auth(),
                    json={"provider": "fba", "credentials": {"amazon_account_id": "1"}})
    assert r.status_code == 422 and r.json["error"]["code"] == "amazon_not_connected"
    assert db.session.query(WarehouseAccount).count() == 0


def test_fba_connects_through_the_amazon_emulator(client, shops, amazon_emulator):
    shop_a, _shop_b = shops
    account = amazon_account(shop_a, amazon_emulator)
    amazon_emulator.state.set_fba_stock("HOODIE-S", 7, marketplace_id=DE, reserved=0)
    fba = next(p for p in offered(client)["providers"] if p["name"] == "fba")
    assert fba["amazon_accounts"] == [{"id": account.id, "name": "Amazon EU", "marketplaces": [DE, FR]}]

    # Another shop cannot borrow it, and FBA takes no endpoint of its own.
    r = client.post("/api/warehouse-accounts", headers=auth(SHOP_B),
                    json={"provider": "fba", "credentials": {"amazon_account_id": str(account.id)}})
    assert r.status_code == 422 and r.json["error"]["code"] == "amazon_not_connected"
    r = client.post("/api/warehouse-accounts", headers=auth(), json={
        "provider": "fba", "credentials": {"amazon_account_id": str(account.id)}, "endpoint": "http://127.0.0.1:9"})
    assert r.status_code == 422 and r.json["error"]["field"] == "endpoint"

    r = client.post("/api/warehouse-accounts", headers=auth(),
                    json={"provider": "fba", "name": "FBA", "credentials": {"amazon_account_id": str(account.id)}})
    assert r.status_code == 201, r.json
    stored = db.session.get(WarehouseAccount, r.json["account"]["id"])
    assert json.loads(stored.credentials) == {"amazon_account_id": str(account.id)}  # a link, no copied secret
    warehouses = db.session.query(Warehouse).filter_by(account_id=stored.id).all()
    assert {(w.code, w.country_code) for w in warehouses} == {(DE, "DE"), (FR, "FR")}
    stock = {(s.warehouse_code, s.sku): s.available for s in provider_for(stored).get_inventory(DE, ["HOODIE-S"])}
    assert stock == {(DE, "HOODIE-S"): 7}

    amazon_connect.disconnect(shop_a.id, account.id)
    with pytest.raises(AuthError):
        provider_for(stored)
    assert next(p for p in offered(client)["providers"] if p["name"] == "fba")["amazon_accounts"] == []
