"""SpApiClient: LWA tokens, the endpoint/Host override, error mapping, no secrets in records."""

from __future__ import annotations

import json
import logging

import pytest
from sp_api.base.client import Client

from connectors.amazon.client import OPERATIONS, LwaCredentials, SpApiClient, encode_query
from connectors.amazon.throttle import USAGE_PLANS
from connectors.errors import AuthError, PermanentError, RetryableError
from sandbox.amazon.common import USAGE_PLANS as EMULATOR_PLANS
from tests.amazon_fixtures import CLIENT_ID, CLIENT_SECRET, DE, MODELS, REFRESH_TOKEN, SELLER_ID


def _inventory(client):
    return client.call("fbaInventory.getInventorySummaries", params={
        "granularityType": "Marketplace", "granularityId": DE, "marketplaceIds": [DE]})


def test_access_token_is_fetched_once_and_reused(amazon_emulator, amazon_client):
    for _ in range(3):
        assert _inventory(amazon_client).status == 200
    assert amazon_emulator.lwa.token_requests == 1
    token_calls = [e for e in amazon_emulator.exchanges if e.path == "/auth/o2/token"]
    form = dict(pair.split("=", 1) for pair in token_calls[0].body.decode().split("&"))
    assert form["grant_type"] == "refresh_token" and form["client_id"] == CLIENT_ID


def test_expired_access_token_is_refreshed_and_the_call_retried(amazon_emulator, amazon_client):
    _inventory(amazon_client)
    amazon_emulator.advance(hours=2)  # the emulator's tokens live 3600 s
    assert _inventory(amazon_client).status == 200
    statuses = [e.status for e in amazon_emulator.exchanges if e.operation]
    assert statuses == [200, 403, 200]
    assert json.loads(amazon_emulator.exchanges_for("fbaInventory.getInventorySummaries")[1].response_body)[
        "errors"][0]["details"] == "The access token you provided has expired."
    assert amazon_emulator.lwa.token_requests == 2


def test_revoked_authorization_is_an_auth_error(amazon_emulator, amazon_client):
    amazon_emulator.lwa.revoke()
    with pytest.raises(AuthError) as info:
        _inventory(amazon_client)
    assert info.value.code == "invalid_grant"


def test_wrong_client_secret_is_an_auth_error(amazon_emulator, amazon_client_factory, redis_conn):
    client = SpApiClient(LwaCredentials(CLIENT_ID, "wrong", REFRESH_TOKEN), selling_partner_id=SELLER_ID,
                         marketplace_id=DE, redis=redis_conn, endpoint=amazon_emulator.url,
                         token_url=amazon_emulator.token_url)
    with pytest.raises(AuthError) as info:
        _inventory(client)
    assert info.value.code == "invalid_client"


def test_host_header_names_the_configured_endpoint(amazon_emulator, amazon_client):
    _inventory(amazon_client)
    exchange = amazon_emulator.exchanges_for("fbaInventory.getInventorySummaries")[0]
    assert exchange.headers["Host"] == amazon_emulator.url.removeprefix("http://")
    assert exchange.headers["User-Agent"].startswith("Nearstock/")


def test_the_library_default_host_header_breaks_on_http_endpoints(amazon_emulator, amazon_client):
    """``Client.headers`` does ``endpoint[8:]``: right for https://, drops a character after http://."""
    library = Client(credentials={"lwa_app_id": CLIENT_ID, "lwa_client_secret": CLIENT_SECRET},
                     refresh_token=REFRESH_TOKEN, auth_token_client_class=lambda **kw: amazon_client.tokens)
    library.endpoint = amazon_emulator.url
    assert library.headers["host"] == amazon_emulator.url.removeprefix("http://1")


def test_errors_map_to_connector_errors(amazon_emulator, amazon_client):
    with pytest.raises(PermanentError) as info:
        amazon_client.call("orders.getOrder", path={"orderId": "999-0000000-0000000"})
    assert info.value.code == "NotFound" and not isinstance(info.value, RetryableError)
    amazon_emulator.faults.set(1.0, ("500",))
    with pytest.raises(RetryableError):
        _inventory(amazon_client)
    amazon_emulator.faults.set(0.0)


def test_unknown_marketplace_and_missing_credentials(redis_conn):
    with pytest.raises(PermanentError):
        SpApiClient(LwaCredentials("a", "b", "c"), selling_partner_id="S", marketplace_id="NOPE", redis=redis_conn)
    with pytest.raises(AuthError):
        SpApiClient(LwaCredentials("a", "b", None), selling_partner_id="S", marketplace_id=DE, redis=redis_conn)


def test_default_endpoint_comes_from_the_marketplace(redis_conn):
    client = SpApiClient(LwaCredentials("a", "b", "c"), selling_partner_id="S", marketplace_id=DE, redis=redis_conn)
    assert client.endpoint == "https://sellingpartnerapi-eu.amazon.com"
    assert client.token_url == "https://api.amazon.com/auth/o2/token"


def test_secrets_and_buyer_data_stay_out_of_reprs_and_call_records(amazon_emulator, amazon_client_factory):
    records = []
    client = amazon_client_factory(amazon_emulator, on_call=records.append)
    order = amazon_emulator.state.add_order([("NS-0001", 1)], marketplace_id=DE)
    client.call("orders.getOrder", path={"orderId": order.order_id}, params={"includedData": ["RECIPIENT", "BUYER"]})
    dumped = repr(client) + repr(client.credentials) + repr(client.tokens) + repr(records)
    for secret in (CLIENT_SECRET, REFRESH_TOKEN, "Atza|", order.buyer_name, order.buyer_email,
                   order.address["addressLine1"]):
        assert secret not in dumped
    assert records[0].operation == "orders.getOrder" and records[0].status == 200


def test_library_debug_logs_never_carry_the_access_token(amazon_emulator, amazon_client, caplog):
    logging.getLogger("sp_api.base.client").setLevel(logging.DEBUG)
    try:
        with caplog.at_level(logging.DEBUG, logger="sp_api.base.client"):
            _inventory(amazon_client)
    finally:
        logging.getLogger("sp_api.base.client").setLevel(logging.INFO)
    assert caplog.records and "Atza|" not in caplog.text and "x-amz-access-token" not in caplog.text


def test_query_encoding_follows_the_models():
    assert encode_query({"a": ["X", "Y"], "b": True, "c": None, "d": 3}) == {"a": "X,Y", "b": "true", "d": "3"}


def test_usage_plans_match_the_models(amazon_models):
    published = {}
    for op in amazon_models.operations:
        match = __import__("re").search(r"\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|", op["description"])
        if match:
            published[op["key"]] = (float(match.group(1)), float(match.group(2)))
    for key, plan in {**USAGE_PLANS, **EMULATOR_PLANS}.items():
        assert published[key] == (float(plan[0]), float(plan[1])), key
    for key, op in OPERATIONS.items():
        model, _ = amazon_models.operation(op.method, op.path.format(**{
            name: "x" for name in __import__("re").findall(r"\{(\w+)\}", op.path)}))
        assert model is not None and model["key"] == key, key
    assert MODELS.is_dir()


def test_static_sandbox_rejects_what_matches_no_case(amazon_emulator_factory, amazon_models, amazon_client_factory):
    emulator = amazon_emulator_factory(static_models=MODELS)
    client = amazon_client_factory(emulator)
    with pytest.raises(PermanentError) as info:
        client.call("orders.getOrder", path={"orderId": "no-such-case"})
    assert info.value.code == "InvalidInput"
