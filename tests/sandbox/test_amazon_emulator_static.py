"""Replay every static sandbox case of the official models through the connector against the emulator.

The emulator runs as Amazon's static sandbox over the models folder (read at run time). Each case's
request goes out through ``SpApiClient.call`` (required parameters the case leaves open are filled
in); the answer must be the case's response and status -- or, for error cases, a PermanentError
with the case's error code. Requests are validated against the models, except where the case
itself supplies a value the model forbids (Amazon's sentinels such as ``TEST_CASE_200``).
"""

from __future__ import annotations

import json
import re

import pytest
import redis as redis_lib

from connectors.amazon.client import OPERATIONS, LwaCredentials, Operation, SpApiClient
from connectors.errors import PermanentError
from sandbox.amazon import AmazonEmulator
from tests.amazon_fixtures import (
    API_NAMES,
    CLIENT_ID,
    CLIENT_SECRET,
    MISSING,
    MODELS,
    REFRESH_TOKEN,
    SELLER_ID,
    US,
    ModelValidator,
    models_available,
)

PATH_DEFAULTS = {"sellerId": SELLER_ID, "sku": "GM-ZDPI-9B4E", "orderId": "902-1845936-5435065", "feedId": "FeedId1",
                 "feedDocumentId": "0356cf79-b8b0-4226-b4b9-0ee058ea5760", "notificationType": "ANY_OFFER_CHANGED",
                 "subscriptionId": "7fcacc7e-727b-11e9-8848-1681be663d3e",
                 "destinationId": "3acafc7e-121b-1329-8ae8-1571be663aa2"}
QUERY_DEFAULTS = {"marketplaceIds": [US], "MarketplaceIds": [US], "notificationTypes": ["ANY_OFFER_CHANGED"]}
BODY_DEFAULTS = {
    "listings.patchListingsItem": {"productType": "LUGGAGE", "patches": [
        {"op": "replace", "path": "/attributes/item_name", "value": [{"value": "Carry-on", "language_tag": "en_US"}]}]},
    "listings.putListingsItem": {"productType": "LUGGAGE", "requirements": "LISTING",
                                 "attributes": {"item_name": [{"value": "Carry-on", "language_tag": "en_US"}]}},
    "ordersV0.updateShipmentStatus": {"marketplaceId": US, "shipmentStatus": "ReadyForPickup"},
    "notifications.createSubscription": {"payloadVersion": "1.0", "destinationId": "3acafc7e-121b-1329"},
    "notifications.createDestination": {"name": "queue", "resourceSpecification": {
        "sqs": {"arn": "arn:aws:sqs:us-east-2:444455556666:queue"}}},
}


def _cases():
    if not models_available():
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING), id="models-missing")]
    cases = []
    for path in sorted(MODELS.glob("*.json")):
        model = json.loads(path.read_text(encoding="utf-8"))
        for template, item in model["paths"].items():
            for method in ("get", "put", "post", "delete", "patch"):
                op = item.get(method)
                if not isinstance(op, dict):
                    continue
                key = f"{API_NAMES.get(path.stem, path.stem)}.{op['operationId']}"
                for status, response in op["responses"].items():
                    for n, case in enumerate((response.get("x-amzn-api-sandbox") or {}).get("static", [])):
                        cases.append(pytest.param((key, method.upper(), template, op["parameters"], int(status),
                                                   case), id=f"{key}-{status}-{n}"))
    return cases


@pytest.fixture(scope="module")
def static_sandbox(redis_url):
    if not models_available():
        pytest.skip(MISSING)
    emulator = AmazonEmulator(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, seller_id=SELLER_ID, marketplaces=[US],
                              static_models=MODELS, orders=0, skus=0).start()
    connection = redis_lib.Redis.from_url(redis_url)
    connection.delete(*connection.keys("nearstock:*amazon*") or ["-"])
    client = SpApiClient(LwaCredentials(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN), selling_partner_id=SELLER_ID,
                         marketplace_id=US, redis=connection, endpoint=emulator.url, token_url=emulator.token_url)
    yield emulator, client, ModelValidator()
    client.close()
    emulator.stop()


def _request(key, parameters, case):
    given = {name: spec["value"] for name, spec in case["request"]["parameters"].items()
             if isinstance(spec, dict) and "value" in spec}
    path, query, body = {}, {}, None
    for param in parameters:
        name, location = param["name"], param["in"]
        if location == "path":
            path[name] = given.get(name, PATH_DEFAULTS.get(name, "placeholder"))
        elif location == "query" and (name in given or param.get("required")):
            query[name] = given.get(name, QUERY_DEFAULTS.get(name))
        elif location == "body":
            body = given.get("body", given.get(name, BODY_DEFAULTS.get(key) if param.get("required") else None))
    return path, query, body, set(given)


@pytest.mark.parametrize("spec", _cases())
def test_static_case_replays_through_the_connector(static_sandbox, spec):
    emulator, client, validator = static_sandbox
    key, method, template, parameters, status, case = spec
    operation = OPERATIONS.get(key) or Operation(key, method, template)
    path, query, body, given = _request(key, parameters, case)
    before = len(emulator.exchanges)
    expected = case.get("response")
    if status < 400:
        reply = client.call(operation, path=path, params=query, body=body)
        assert reply.status == status
        assert reply.body == (expected or {} if status != 204 else {})
    else:
        with pytest.raises(PermanentError) as info:
            client.call(operation, path=path, params=query, body=body)
        errors = (expected or {}).get("errors")
        assert info.value.code == (errors[0]["code"] if errors else f"HTTP{status}")
    exchange = emulator.exchanges[before:][-1]
    assert exchange.operation == key and exchange.status == status
    assert validator.response_problems(exchange) == []
    for problem in validator.request_problems(exchange):
        # Only the case's own values may break the model (e.g. CreatedAfter=TEST_CASE_200).
        named = set(re.findall(r"(?:query|path) (\w+)", problem)) | ({"body"} if " body" in problem else set())
        assert named and named <= given | {"payload"} and ("body" not in named or "body" in given), problem
