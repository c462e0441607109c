"""OAuth against the emulator over real HTTP: code grant, token exchange, refresh rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, urlsplit

import requests

from tests.shopify_fixtures import SHOPIFY_API_KEY, SHOPIFY_API_SECRET, SHOPIFY_SHOP, shopify_graphql

HOST = {"Host": SHOPIFY_SHOP}
EXCHANGE = {
    "client_id": SHOPIFY_API_KEY, "client_secret": SHOPIFY_API_SECRET,
    "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
    "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
    "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
    "expiring": "1",
}


def _authorize(emulator, **params):
    query = {"client_id": SHOPIFY_API_KEY, "scope": "read_products,write_inventory",
             "redirect_uri": "http://127.0.0.1:9/auth/callback", "state": "nonce-1", **params}
    return requests.get(f"{emulator.url}/admin/oauth/authorize", params=query, headers=HOST,
                        allow_redirects=False, timeout=5)


def _code(emulator) -> str:
    response = _authorize(emulator)
    assert response.status_code == 302
    return dict(parse_qsl(urlsplit(response.headers["Location"]).query))["code"]


def _token(emulator, **form):
    return requests.post(f"{emulator.url}/admin/oauth/access_token", data=form, headers=HOST,
                         timeout=5)


def _shop_name(emulator, token) -> int:
    return shopify_graphql(emulator, token, "{ shop { name } }").status_code


def test_authorize_redirects_with_a_signed_callback(shopify_emulator):
    response = _authorize(shopify_emulator)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == \
        "http://127.0.0.1:9/auth/callback"
    params = dict(parse_qsl(location.query))
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert params["shop"] == SHOPIFY_SHOP and params["state"] == "nonce-1"
    assert base64.b64decode(params["host"]).decode() == f"{SHOPIFY_SHOP}/admin"
    message = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "hmac")
    expected = hmac.new(SHOPIFY_API_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(params["hmac"], expected)


def test_authorize_refuses_an_unknown_client_id(shopify_emulator):
    assert _authorize(shopify_emulator, client_id="someone-else").status_code == 400


def test_authorize_identifies_the_shop_by_query_parameter(shopify_emulator):
    response = requests.get(f"{shopify_emulator.url}/admin/oauth/authorize", params={
        "client_id": SHOPIFY_API_KEY, "scope": "read_products", "shop": SHOPIFY_SHOP,
        "redirect_uri": "http://127.0.0.1:9/cb", "state": "s"}, allow_redirects=False, timeout=5)
    assert response.status_code == 302


def test_code_is_single_use_and_gives_an_expiring_pair(shopify_emulator):
    code = _code(shopify_emulator)
    form = {"client_id": SHOPIFY_API_KEY, "client_secret": SHOPIFY_API_SECRET, "code": code,
            "expiring": "1"}
    first = _token(shopify_emulator, **form)
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"access_token", "expires_in", "refresh_token",
                         "refresh_token_expires_in", "scope"}
    assert body["scope"] == "read_products,write_inventory"
    assert body["expires_in"] == 86400 and body["refresh_token_expires_in"] == 7776000
    assert _shop_name(shopify_emulator, body["access_token"]) == 200

    again = _token(shopify_emulator, **form)
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_request", "error_description":
                            "The authorization code was not found or was already used"}


def test_code_without_expiring_gives_a_non_expiring_token(shopify_emulator):
    response = _token(shopify_emulator, client_id=SHOPIFY_API_KEY,
                      client_secret=SHOPIFY_API_SECRET, code=_code(shopify_emulator))
    assert response.status_code == 200
    assert set(response.json()) == {"access_token", "scope"}


def test_wrong_client_secret_is_refused(shopify_emulator):
    response = _token(shopify_emulator, client_id=SHOPIFY_API_KEY, client_secret="nope",
                      code=_code(shopify_emulator))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_access_token_expires_and_refresh_rotates(shopify_emulator):
    pair = _token(shopify_emulator, client_id=SHOPIFY_API_KEY, client_secret=SHOPIFY_API_SECRET,
                  code=_code(shopify_emulator), expiring="1").json()
    shopify_emulator.advance_clock(86401)
    assert _shop_name(shopify_emulator, pair["access_token"]) == 401

    refresh = {"client_id": SHOPIFY_API_KEY, "client_secret": SHOPIFY_API_SECRET,
               "grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
    new = requests.post(f"{shopify_emulator.url}/admin/oauth/access_token", json=refresh,
                        headers=HOST, timeout=5)
    assert new.status_code == 200
    new_pair = new.json()
    assert new_pair["access_token"] != pair["access_token"]
    assert new_pair["refresh_token"] != pair["refresh_token"]
    assert _shop_name(shopify_emulator, new_pair["access_token"]) == 200

    reused = _token(shopify_emulator, **refresh)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert _token(shopify_emulator, **{**refresh, "refresh_token": new_pair["refresh_token"]}
                  ).status_code == 200


def test_refresh_grace_mode_keeps_the_old_token_until_the_replacement_is_used(
        make_shopify_emulator):
    emulator = make_shopify_emulator(refresh_token_reuse="until_replacement_used")
    pair = emulator.oauth.issue(SHOPIFY_SHOP, frozenset({"read_products"}), expiring=True)
    refresh = {"client_id": SHOPIFY_API_KEY, "client_secret": SHOPIFY_API_SECRET,
               "grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
    lost = _token(emulator, **refresh).json()  # the app never stored this response
    retried = _token(emulator, **refresh)
    assert retried.status_code == 200
    assert _token(emulator, **{**refresh, "refresh_token": retried.json()["refresh_token"]}
                  ).status_code == 200
    assert _token(emulator, **refresh).status_code == 400
    assert lost["refresh_token"] != retried.json()["refresh_token"]


def test_token_exchange_checks_the_session_token(shopify_emulator):
    good = shopify_emulator.issue_session_token(SHOPIFY_SHOP)
    response = _token(shopify_emulator, **EXCHANGE, subject_token=good)
    assert response.status_code == 200
    body = response.json()
    assert {"access_token", "expires_in", "refresh_token", "refresh_token_expires_in",
            "scope"} == set(body)
    assert _shop_name(shopify_emulator, body["access_token"]) == 200

    for bad in (shopify_emulator.issue_session_token(SHOPIFY_SHOP, expires_in=-10),
                shopify_emulator.issue_session_token(SHOPIFY_SHOP, audience="other-app"),
                shopify_emulator.issue_session_token(SHOPIFY_SHOP, secret="not-the-secret"),
                shopify_emulator.issue_session_token(SHOPIFY_SHOP, nbf_offset=120),
                shopify_emulator.issue_session_token("other.myshopify.com")):
        refused = _token(shopify_emulator, **EXCHANGE, subject_token=bad)
        assert refused.status_code == 400, bad
        assert refused.json()["error"] == "invalid_subject_token"


def test_graphql_refuses_missing_and_unknown_tokens(shopify_emulator):
    for token in (None, "shpat_unknown"):
        response = shopify_graphql(shopify_emulator, token, "{ shop { name } }")
        assert response.status_code == 401
        assert response.json() == {"errors": "[API] Invalid API key or access token "
                                             "(unrecognized login or wrong password)"}


def test_token_of_one_shop_does_not_open_another(shopify_emulator):
    shopify_emulator.add_shop("other.myshopify.com")
    token = shopify_emulator.grant_token(SHOPIFY_SHOP, "read_products")
    response = shopify_graphql(shopify_emulator, token, "{ shop { name } }",
                               shop="other.myshopify.com")
    assert response.status_code == 401
