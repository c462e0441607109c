"""Connecting an Amazon seller account from the embedded admin, end to end: session-token API ->
Seller Central consent (the SP-API emulator) -> our callback -> spapi_oauth_code exchanged at the
emulator's LWA -> account stored encrypted -> first order import. Real Redis and database; the
emulator is the only stand-in, at the network edge."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select, text

from integration.amazon import channel, sp_api_client
from integration.amazon.connect import STATE_PURPOSE, STATE_TTL
from integration.extensions import db, queues
from integration.models import Order, Shop
from integration.models.amazon import AmazonAccount
from integration.models.shop import ShopStatus
from integration.security import signer
from tests.amazon_fixtures import CLIENT_ID, CLIENT_SECRET, DE, FR, REFRESH_TOKEN, SELLER_ID, US
from tests.conftest import make_config
from tests.web.test_auth_security import add_shop, session_token

APP_ID = "amzn1.sp.solution.nearstock-connect-test"
APP_URL = "https://nearstock.test"
SHOP_A, SHOP_B = "a-shop.myshopify.com", "b-shop.myshopify.com"


@pytest.fixture
def emulator(amazon_emulator_factory):
    return amazon_emulator_factory(application_id=APP_ID, redirect_uris=(f"{APP_URL}/amazon/callback",),
                                   marketplaces=[DE, FR], orders=3, skus=3)


@pytest.fixture
def config(tmp_path, database_url, redis_url, redis_conn, emulator):
    return make_config(tmp_path, database_url, redis_url, APP_URL=APP_URL, AMAZON_APPLICATION_ID=APP_ID,
                       AMAZON_LWA_CLIENT_ID=CLIENT_ID, AMAZON_LWA_CLIENT_SECRET=CLIENT_SECRET,
                       AMAZON_ENDPOINT=emulator.url)


@pytest.fixture
def shops(app):
    yield add_shop(SHOP_A), add_shop(SHOP_B)
    sp_api_client.close_clients()


def _auth(shop: str) -> dict:
    return {"Authorization": f"Bearer {session_token(shop)}"}


def _start(client, shop=SHOP_A, marketplaces=(DE, FR), **extra) -> str:
    r = client.post("/api/amazon/connect", json={"marketplaces": list(marketplaces), **extra}, headers=_auth(shop))
    assert r.status_code == 200, r.get_json()
    return r.get_json()["url"]


def _consent(url: str) -> str:
    """The seller approves at (emulated) Seller Central: the callback path+query Amazon redirects to."""
    r = requests.get(url, allow_redirects=False, timeout=5)
    assert r.status_code == 302, r.text
    location = urlsplit(r.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == APP_URL
    return f"{location.path}?{location.query}"


def _state(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


def _accounts(shop_domain: str | None = None) -> list[AmazonAccount]:
    db.session.expire_all()
    query = select(AmazonAccount).order_by(AmazonAccount.id)
    if shop_domain:
        query = query.join(Shop, Shop.id == AmazonAccount.shop_id).where(Shop.domain == shop_domain)
    return list(db.session.execute(query).scalars())


# -- happy path ----------------------------------------------------------------------------------

def test_connect_stores_the_account_and_imports_its_orders(client, shops, emulator, worker):
    url = _start(client, name="EU shop")
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{emulator.url}/apps/authorize/consent?")
    assert query["application_id"] == [APP_ID] and query["redirect_uri"] == [f"{APP_URL}/amazon/callback"]
    assert "version" not in query  # a published app

    r = client.get(_consent(url))
    assert r.status_code == 302
    assert r.headers["Location"] == f"https://{SHOP_A}/admin/apps/test-api-key"
    assert r.headers["Cache-Control"] == "no-store"

    [account] = _accounts()
    assert account.shop_id == shops[0].id and account.seller_id == SELLER_ID and account.active
    assert account.region == "eu" and account.marketplaces == [DE, FR] and account.name == "EU shop"
    assert account.refresh_token.startswith("Atzr|") and account.refresh_token != REFRESH_TOKEN
    assert account.lwa_client_id == CLIENT_ID and account.endpoint == emulator.url
    assert account.lwa_token_url == f"{emulator.url}/auth/o2/token"
    raw = db.session.execute(text("SELECT refresh_token, lwa_client_secret FROM amazon_accounts")).one()
    assert "Atzr|" not in raw[0] and CLIENT_SECRET not in raw[1]  # encrypted at rest
    exchange = next(e for e in emulator.exchanges if e.path == "/auth/o2/token")
    assert parse_qs(exchange.body.decode())["redirect_uri"] == [f"{APP_URL}/amazon/callback"]

    assert [j for j in queues["sync"].get_job_ids() if j.startswith(f"amazon-orders-{account.id}-connect-")]
    worker.run()
    db.session.expire_all()
    # The first import ran with the refresh token the consent produced.
    assert db.session.scalar(select(func.count()).select_from(Order).where(Order.shop_id == shops[0].id)) > 0

    listed = client.get("/api/amazon/accounts", headers=_auth(SHOP_A)).get_json()
    assert listed["connect_enabled"] is True
    assert listed["accounts"] == [{"id": account.id, "name": "EU shop", "seller_id": SELLER_ID, "region": "eu",
                                   "marketplaces": [DE, FR], "active": True,
                                   "created_at": listed["accounts"][0]["created_at"]}]
    body = str(listed)
    assert "Atzr" not in body and CLIENT_SECRET not in body


def test_draft_app_consent_url_says_beta(app, shops, tmp_path, database_url, redis_url, emulator):
    from integration.amazon import connect as amazon_connect

    draft = make_config(tmp_path, database_url, redis_url, APP_URL=APP_URL, AMAZON_APPLICATION_ID=APP_ID,
                        AMAZON_LWA_CLIENT_ID=CLIENT_ID, AMAZON_LWA_CLIENT_SECRET=CLIENT_SECRET, AMAZON_DRAFT_APP="1")
    url = amazon_connect.start(draft, shops[0].id, {"marketplaces": [US]})
    assert url.startswith("https://sellercentral.amazon.com/apps/authorize/consent?")
    assert parse_qs(urlsplit(url).query)["version"] == ["beta"]


# -- the state -----------------------------------------------------------------------------------

def _events(caplog) -> list[str]:
    """The flow's log events (structlog hands its event dicts to the stdlib logger caplog hooks)."""
    return [r.msg["event"] for r in caplog.records
            if isinstance(r.msg, dict) and str(r.msg.get("event", "")).startswith("amazon_connect.")]


def test_replayed_callback_is_refused_and_adds_nothing(client, shops, caplog):
    callback = _consent(_start(client))
    assert client.get(callback).status_code == 302
    caplog.clear()
    again = client.get(callback)
    assert again.status_code == 403 and b"already used" in again.data
    assert _events(caplog) == ["amazon_connect.state_replayed"]
    assert len(_accounts()) == 1


@pytest.mark.parametrize("state", [
    "",
    "not-a-state",
    "forged",  # signed for another purpose: the Shopify OAuth state cookie
    "tampered",  # ours, one character changed
    "malformed",  # our key, but not a state we wrote
])
def test_forged_state_is_refused(client, shops, state, caplog):
    if state == "forged":
        state = signer("oauth-state").dumps({"s": shops[0].id, "n": "x", "m": [DE], "a": ""})
    elif state == "malformed":
        state = signer(STATE_PURPOSE).dumps({"s": "not-a-shop-id"})
    elif state == "tampered":
        real = _state(_start(client))
        state = real[:-2] + ("A" if real[-2] != "A" else "B") + real[-1]
    query = urlencode({"state": state, "selling_partner_id": SELLER_ID, "spapi_oauth_code": "ANDaNSabc"})
    caplog.clear()
    r = client.get(f"/amazon/callback?{query}")
    assert r.status_code == 403
    assert _events(caplog) in (["amazon_connect.state_missing"], ["amazon_connect.state_forged"],
                               ["amazon_connect.state_malformed"])
    assert b"<html" in r.data.lower()  # a page for the seller's browser, not JSON
    assert _accounts() == []


def test_expired_state_is_refused(client, shops, monkeypatch, caplog):
    with monkeypatch.context() as m:
        m.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - STATE_TTL - 5)
        url = _start(client)
    caplog.clear()
    r = client.get(_consent(url))
    assert r.status_code == 403 and b"took too long" in r.data
    assert _events(caplog) == ["amazon_connect.state_expired"]
    assert _accounts() == []


def test_state_of_an_uninstalled_shop_is_refused(client, shops):
    url = _start(client)
    shops[0].status = ShopStatus.UNINSTALLED
    db.session.commit()
    assert client.get(_consent(url)).status_code == 403
    assert _accounts() == []


# -- Amazon's answer -----------------------------------------------------------------------------

def test_missing_code_is_refused_and_spends_the_state(client, shops):
    state = _state(_start(client))
    r = client.get("/amazon/callback?" + urlencode({"state": state, "selling_partner_id": SELLER_ID}))
    assert r.status_code == 400 and _accounts() == []
    replay = urlencode({"state": state, "selling_partner_id": SELLER_ID, "spapi_oauth_code": "ANDaNSlate"})
    assert client.get(f"/amazon/callback?{replay}").status_code == 403


def test_error_from_amazon_stores_nothing(client, shops):
    state = _state(_start(client))
    r = client.get("/amazon/callback?" + urlencode({"state": state, "error": "access_denied",
                                                    "error_description": "The seller declined"}))
    assert r.status_code == 400 and b"access_denied" in r.data
    assert _accounts() == []


def test_rejected_code_stores_nothing(client, shops, emulator):
    state = _state(_start(client))
    r = client.get("/amazon/callback?" + urlencode({"state": state, "selling_partner_id": SELLER_ID,
                                                    "spapi_oauth_code": "ANDaNSnot-issued"}))
    assert r.status_code == 400 and b"five minutes" in r.data
    assert _accounts() == []


def test_code_older_than_five_minutes_is_refused(client, shops, emulator):
    callback = _consent(_start(client))
    emulator.advance(minutes=6)
    assert client.get(callback).status_code == 400
    assert _accounts() == []


# -- re-connect, shops, disconnect ---------------------------------------------------------------

def test_reconnect_updates_the_account_instead_of_adding_one(client, shops, emulator):
    assert client.get(_consent(_start(client, name="Mine"))).status_code == 302
    [first] = _accounts()
    first_id, first_token = first.id, first.refresh_token
    assert client.delete(f"/api/amazon/accounts/{first_id}", headers=_auth(SHOP_A)).status_code == 204

    assert client.get(_consent(_start(client, marketplaces=[DE]))).status_code == 302
    [again] = _accounts()
    assert again.id == first_id and again.active  # the same row, active again
    assert again.refresh_token.startswith("Atzr|") and again.refresh_token != first_token
    assert again.marketplaces == [DE] and again.name == "Mine"  # no new name given: the old one stays


def test_the_same_seller_in_two_shops_stays_two_accounts(client, shops):
    assert client.get(_consent(_start(client, shop=SHOP_A))).status_code == 302
    assert client.get(_consent(_start(client, shop=SHOP_B))).status_code == 302
    assert [a.shop_id for a in _accounts()] == [shops[0].id, shops[1].id]


def test_another_shop_never_sees_or_disconnects_the_account(client, shops):
    assert client.get(_consent(_start(client, shop=SHOP_A))).status_code == 302
    [account] = _accounts()
    assert client.get("/api/amazon/accounts", headers=_auth(SHOP_B)).get_json()["accounts"] == []
    r = client.delete(f"/api/amazon/accounts/{account.id}", headers=_auth(SHOP_B))
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert _accounts()[0].active


def test_disconnect_stops_syncing_and_forgets_the_token(client, shops):
    assert client.get(_consent(_start(client))).status_code == 302
    [account] = _accounts()
    assert client.delete(f"/api/amazon/accounts/{account.id}", headers=_auth(SHOP_A)).status_code == 204
    [account] = _accounts()
    assert not account.active and account.refresh_token == ""
    assert channel.active_account_ids() == []
    assert client.get("/api/amazon/accounts", headers=_auth(SHOP_A)).get_json()["accounts"][0]["active"] is False


# -- starting the flow ---------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "code"), [
    ({"marketplaces": ["NOPE"]}, "unknown_marketplace"),
    ({"marketplaces": [DE, US]}, "mixed_regions"),
    ({"marketplaces": []}, "invalid_marketplaces"),
    ({"marketplaces": DE}, "invalid_marketplaces"),
    ({"marketplaces": [DE], "name": "x" * 101}, "invalid_name"),
])
def test_connect_request_is_validated(client, shops, body, code):
    r = client.post("/api/amazon/connect", json=body, headers=_auth(SHOP_A))
    assert r.status_code == 400 and r.get_json()["error"]["code"] == code


def test_connect_needs_a_session(client, shops):
    assert client.post("/api/amazon/connect", json={"marketplaces": [DE]}).status_code == 401
    assert client.get("/api/amazon/accounts").status_code == 401


def test_without_an_amazon_app_connect_is_off(tmp_path, database_url, redis_url, redis_conn):
    from integration import create_app

    app = create_app(make_config(tmp_path, database_url, redis_url))
    with app.app_context():
        add_shop(SHOP_A)
        client = app.test_client()
        r = client.post("/api/amazon/connect", json={"marketplaces": [DE]}, headers=_auth(SHOP_A))
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "amazon_not_configured"
        listed = client.get("/api/amazon/accounts", headers=_auth(SHOP_A)).get_json()
        assert listed == {"accounts": [], "connect_enabled": False}
        db.session.remove()
        db.engine.dispose()


def test_make_run_starts_an_emulator_wired_for_the_connect_flow(tmp_path, database_url, redis_url, redis_conn, capsys):
    """``make run`` without Amazon credentials: the sandbox it starts takes the whole flow."""
    from integration import create_app
    from sandbox import launcher as embedded

    env: dict[str, str] = {}
    sandbox = embedded._start_amazon_sandbox(make_config(tmp_path, database_url, redis_url, APP_URL=APP_URL), env)
    try:
        assert "sandbox emulator" in capsys.readouterr().out
        app = create_app(make_config(tmp_path, database_url, redis_url, APP_URL=APP_URL, **env))
        with app.app_context():
            add_shop(SHOP_A)
            client = app.test_client()
            assert client.get(_consent(_start(client))).status_code == 302
            [account] = _accounts()
            assert account.seller_id == "A2NEARSTOCKDEMO" and account.endpoint == sandbox.url
            db.session.remove()
            db.engine.dispose()
    finally:
        sandbox.stop()
        sp_api_client.close_clients()
