"""Seller authorization: consent URL -> callback -> spapi_oauth_code exchange -> working refresh token."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.amazon import auth
from connectors.errors import AuthError
from tests.amazon_fixtures import CLIENT_ID, CLIENT_SECRET, DE, SELLER_ID

APP_ID = "amzn1.sp.solution.nearstock-emulator"
REDIRECT = "https://nearstock.test/amazon/callback"


def _consent(emulator, state, **kwargs):
    url = auth.consent_url(APP_ID, state, seller_central_url=emulator.url, redirect_uri=REDIRECT, **kwargs)
    response = requests.get(url, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def test_consent_url_per_region():
    url = auth.consent_url(APP_ID, "s1", marketplace_id=DE, beta=True)
    assert url.startswith("https://sellercentral-europe.amazon.com/apps/authorize/consent?")
    assert parse_qs(urlsplit(url).query) == {"application_id": [APP_ID], "state": ["s1"], "version": ["beta"]}


def test_authorization_code_becomes_a_working_refresh_token(amazon_emulator, amazon_client_factory):
    state = auth.new_state()
    callback = auth.parse_callback(_consent(amazon_emulator, state), expected_state=state)
    assert callback.selling_partner_id == SELLER_ID
    granted = auth.exchange_code(callback.code, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                 redirect_uri=REDIRECT, token_url=amazon_emulator.token_url,
                                 selling_partner_id=callback.selling_partner_id)
    assert granted.refresh_token.startswith("Atzr|") and granted.expires_in == 3600
    assert granted.refresh_token not in repr(granted) and callback.code not in repr(callback)
    client = amazon_client_factory(amazon_emulator, refresh_token=granted.refresh_token)
    assert client.call("fbaInventory.getInventorySummaries", params={
        "granularityType": "Marketplace", "granularityId": DE, "marketplaceIds": [DE]}).status == 200
    exchange = next(e for e in amazon_emulator.exchanges if e.path == "/auth/o2/token")
    form = parse_qs(exchange.body.decode())
    assert form["grant_type"] == ["authorization_code"] and form["redirect_uri"] == [REDIRECT]


def test_state_mismatch_is_refused(amazon_emulator):
    with pytest.raises(AuthError):
        auth.parse_callback(_consent(amazon_emulator, "mine"), expected_state="someone-elses")


def test_a_code_works_once_and_for_five_minutes(amazon_emulator):
    code = _consent(amazon_emulator, "s")["spapi_oauth_code"]
    options = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uri": REDIRECT,
               "token_url": amazon_emulator.token_url}
    auth.exchange_code(code, **options)
    with pytest.raises(AuthError) as info:
        auth.exchange_code(code, **options)
    assert info.value.code == "invalid_grant"
    late = _consent(amazon_emulator, "s")["spapi_oauth_code"]
    amazon_emulator.advance(minutes=6)
    with pytest.raises(AuthError):
        auth.exchange_code(late, **options)


def test_unregistered_redirect_and_unknown_application_are_refused(amazon_emulator):
    bad = auth.consent_url(APP_ID, "s", seller_central_url=amazon_emulator.url, redirect_uri="https://evil.test/")
    assert requests.get(bad, allow_redirects=False, timeout=5).status_code == 400
    other = auth.consent_url("amzn1.sp.solution.other", "s", seller_central_url=amazon_emulator.url)
    assert requests.get(other, allow_redirects=False, timeout=5).status_code == 400
