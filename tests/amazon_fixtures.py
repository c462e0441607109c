"""Fixtures of the Amazon SP-API emulator and connector, and validation against the official models.

The models (Swagger 2.0) live beside the project in ``../shared/reference/amazon`` (or
``AMAZON_MODELS_DIR``); they are never copied into the repository. When they are present, every
request the connector sent to an ``amazon_emulator`` and every answer the emulator gave is
validated against them when the test ends (operation parameters and body schema; response schema
of the status code; ``x-amzn-RateLimit-Limit`` header). Tests that send deliberately broken
requests call :func:`expect_invalid` first. Tests that need the models use ``amazon_models``,
which skips with the reason when the folder is absent.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path

import pytest
from jsonschema import Draft4Validator, Draft7Validator, FormatChecker

from connectors.amazon import auth as amazon_auth
from connectors.amazon.client import LwaCredentials, SpApiClient
from sandbox.amazon import AmazonEmulator

REFERENCE = Path(os.environ.get("AMAZON_MODELS_DIR") or Path(__file__).resolve().parents[2] / "shared" / "reference"
                 / "amazon")
MODELS = REFERENCE / "models"
SCHEMAS = REFERENCE / "schemas"
MISSING = f"official SP-API models not found in {REFERENCE} (set AMAZON_MODELS_DIR)"
API_NAMES = {"orders_2026-01-01": "orders", "ordersV0": "ordersV0", "listingsItems_2021-08-01": "listings",
             "feeds_2021-06-30": "feeds", "fbaInventory": "fbaInventory",
             "fulfillmentOutbound_2020-07-01": "fbaOutbound", "tokens_2021-03-01": "tokens",
             "notifications": "notifications"}
CLIENT_ID = "amzn1.application-oa2-client.nearstocktest"
CLIENT_SECRET = "amzn1.oa2-cs.v1.test-secret-0123456789"
REFRESH_TOKEN = "Atzr|IwEBtest-refresh-token-0123456789"
SELLER_ID = "A2NEARSTOCKTEST"
DE, FR, US = "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "ATVPDKIKX0DER"

FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value) -> bool:
    if isinstance(value, str):
        if "T" not in value:
            raise ValueError("not a date-time")
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def models_available() -> bool:
    return MODELS.is_dir() and any(MODELS.glob("*.json"))


def expect_invalid(emulator: AmazonEmulator) -> None:
    """Exclude the exchanges so far from model validation (a test that sends bad requests on purpose)."""
    for exchange in emulator.exchanges:
        exchange.expected_invalid = True


class ModelValidator:
    """Checks recorded exchanges against the SP-API models (Swagger 2.0 -> JSON Schema draft 4)."""

    def __init__(self, models_dir: Path = MODELS) -> None:
        self.operations = []
        for path in sorted(models_dir.glob("*.json")):
            model = json.loads(path.read_text(encoding="utf-8"))
            definitions = model.get("definitions", {})
            for template, item in model["paths"].items():
                shared = [p for p in item.get("parameters", []) if isinstance(p, dict)]
                pattern = re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")
                for method in ("get", "put", "post", "delete", "patch"):
                    op = item.get(method)
                    if isinstance(op, dict):
                        self.operations.append({
                            "key": f"{API_NAMES.get(path.stem, path.stem)}.{op['operationId']}",
                            "method": method.upper(), "pattern": pattern, "template": template,
                            "parameters": shared + op.get("parameters", []), "responses": op["responses"],
                            "definitions": definitions, "description": op.get("description", "")})

    def operation(self, method: str, path: str):
        for op in self.operations:
            if op["method"] == method:
                match = op["pattern"].match(path)
                if match:
                    return op, match.groupdict()
        return None, {}

    def _schema_problems(self, schema: dict, value, definitions: dict, where: str) -> list[str]:
        validator = Draft4Validator({**schema, "definitions": definitions}, format_checker=FORMATS)
        return [f"{where}: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}"
                for e in validator.iter_errors(value)]

    @staticmethod
    def _convert(raw: str, kind: str | None):
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
        if kind == "boolean":
            if raw not in ("true", "false"):
                raise ValueError(f"{raw!r} is not true/false")
            return raw == "true"
        return raw

    def request_problems(self, exchange) -> list[str]:
        op, path_values = self.operation(exchange.method, exchange.path)
        if op is None:
            return [f"{exchange.method} {exchange.path}: no such operation in the models"]
        where = op["key"]
        problems = []
        query: dict[str, list[str]] = {}
        for name, value in exchange.query:
            query.setdefault(name, []).append(value)
        declared = {p["name"]: p for p in op["parameters"] if p.get("in") == "query"}
        for name, values in query.items():
            if name not in declared:
                problems.append(f"{where}: undeclared query parameter {name}")
            elif len(values) > 1:
                problems.append(f"{where}: {name} sent {len(values)} times (the models say CSV)")
        headers = {k.lower(): v for k, v in exchange.headers.items()}
        for header in ("x-amz-access-token", "user-agent", "host"):
            if not headers.get(header):
                problems.append(f"{where}: missing header {header}")
        for param in op["parameters"]:
            location, name = param.get("in"), param["name"]
            if location == "path":
                value = path_values.get(name)
                problems += self._schema_problems({k: v for k, v in param.items() if k in ("type", "maxLength")},
                                                  value, {}, f"{where} path {name}")
            elif location == "query":
                if name not in query:
                    if param.get("required"):
                        problems.append(f"{where}: missing required query parameter {name}")
                    continue
                schema = {k: v for k, v in param.items() if k in (
                    "type", "items", "enum", "maximum", "minimum", "maxItems", "minItems", "format", "maxLength",
                    "minLength", "pattern")}
                try:
                    raw = query[name][0]
                    if param.get("type") == "array":
                        value = [self._convert(v, (param.get("items") or {}).get("type")) for v in raw.split(",")]
                    else:
                        value = self._convert(raw, param.get("type"))
                except ValueError as exc:
                    problems.append(f"{where}: query {name}: {exc}")
                    continue
                problems += self._schema_problems(schema, value, {}, f"{where} query {name}")
            elif location == "body":
                if not exchange.body:
                    if param.get("required"):
                        problems.append(f"{where}: missing required body")
                    continue
                if not headers.get("content-type", "").startswith("application/json"):
                    problems.append(f"{where}: body sent as {headers.get('content-type')!r}")
                try:
                    body = json.loads(exchange.body)
                except ValueError:
                    problems.append(f"{where}: body is not JSON")
                    continue
                problems += self._schema_problems(param["schema"], body, op["definitions"], f"{where} body")
        if exchange.body and not any(p.get("in") == "body" for p in op["parameters"]):
            problems.append(f"{where}: body sent to an operation without one")
        return problems

    def response_problems(self, exchange) -> list[str]:
        op, _ = self.operation(exchange.method, exchange.path)
        if op is None:
            return []
        where = f"{op['key']} -> {exchange.status}"
        response = op["responses"].get(str(exchange.status))
        if response is None:
            return [f"{where}: status not documented by the model"]
        problems = []
        if not exchange.response_headers.get("x-amzn-RateLimit-Limit"):
            problems.append(f"{where}: no x-amzn-RateLimit-Limit header")
        else:
            float(exchange.response_headers["x-amzn-RateLimit-Limit"])
        if "schema" in response:
            problems += self._schema_problems(response["schema"], exchange.json(), op["definitions"], where)
        elif exchange.response_body:
            problems.append(f"{where}: body where the model defines none")
        return problems

    def problems(self, exchanges) -> list[str]:
        found = []
        for exchange in exchanges:
            if exchange.operation is None or getattr(exchange, "expected_invalid", False):
                continue
            found += self.request_problems(exchange) + self.response_problems(exchange)
        return found


def json_schema_problems(schema_file: str, document) -> list[str]:
    schema = json.loads((SCHEMAS / schema_file).read_text(encoding="utf-8"))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in Draft7Validator(schema, format_checker=FORMATS).iter_errors(document)]


@pytest.fixture(scope="session")
def amazon_models() -> ModelValidator:
    if not models_available():
        pytest.skip(MISSING)
    return ModelValidator()


@pytest.fixture(scope="session")
def _amazon_validator():
    return ModelValidator() if models_available() else None


def forget_access_tokens(token_url: str) -> None:
    """Drop the process-wide cached LWA access tokens of ``token_url``.

    The cache (:mod:`connectors.amazon.auth`) is keyed by LWA URL, client id and refresh token, and
    every test uses the same client id and refresh token. Emulators listen on port 0, and the OS
    hands a port freed by an earlier test's emulator out again now and then: the new emulator's URL
    is then the old one's, and its first request carried a token only the old emulator had issued
    -- 403, refresh, retry: one exchange more than the test sent (``assert 751 == 750``).
    """
    with amazon_auth._tokens_lock:
        for key in [key for key in amazon_auth._tokens if key[0] == token_url]:
            del amazon_auth._tokens[key]


@pytest.fixture
def amazon_emulator_factory(_amazon_validator):
    """``make(**options)`` starts an emulator; all its exchanges are validated at teardown."""
    started: list[AmazonEmulator] = []

    def make(*, port: int = 0, **options) -> AmazonEmulator:
        options = {"seller_id": SELLER_ID, "marketplaces": [DE, FR], "seed": 7, **options}
        emulator = AmazonEmulator(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, **options).start(port)
        forget_access_tokens(emulator.token_url)
        started.append(emulator)
        return emulator

    yield make
    problems = []
    for emulator in started:
        emulator.stop()
        if _amazon_validator is not None:
            problems += _amazon_validator.problems(emulator.exchanges)
    assert not problems, "exchanges that break the SP-API models:\n" + "\n".join(problems[:40])


@pytest.fixture
def amazon_emulator(amazon_emulator_factory) -> AmazonEmulator:
    return amazon_emulator_factory()


@pytest.fixture
def amazon_client_factory(redis_conn):
    """``make(emulator, marketplace_id=DE, **options)`` builds an SpApiClient against the emulator."""
    clients: list[SpApiClient] = []

    def make(emulator: AmazonEmulator, marketplace_id: str = DE, *, refresh_token: str = REFRESH_TOKEN,
             **options) -> SpApiClient:
        client = SpApiClient(LwaCredentials(CLIENT_ID, CLIENT_SECRET, refresh_token), selling_partner_id=SELLER_ID,
                             marketplace_id=marketplace_id, redis=options.pop("redis", redis_conn),
                             endpoint=emulator.url, token_url=emulator.token_url, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def amazon_client(amazon_emulator, amazon_client_factory) -> SpApiClient:
    return amazon_client_factory(amazon_emulator)
