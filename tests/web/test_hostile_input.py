"""Hostile input never answers 5xx and never changes the database.

Every route of the app (``app.url_map``, every method, and the Shopify webhook front that answers
before Flask) is driven by Hypothesis with numbers beyond 64 bits, negative and odd numbers, NUL,
invalid UTF-8, deep and oversized JSON, bad signatures and valid signatures over that content.
After each request the row count of every table must be what it was; the one exception is a
validly signed Shopify webhook, which is stored first by design and must then fail permanently
when processed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import quote, urlencode

import jwt
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from rq.registry import FailedJobRegistry
from sqlalchemy import delete, func, select

from connectors.errors import PermanentError
from connectors.shopify.signatures import proxy_signature, query_hmac
from connectors.untrusted_input import MAX_DEPTH
from connectors.warehouses import shipbob_webhooks
from integration.extensions import db, queues
from integration.inbox import events
from integration.models import Base, EventStatus, WebhookEvent
from integration.shops import shop_settings
from tests.conftest import API_KEY, API_SECRET
from tests.helpers import shopify_webhook
from tests.helpers_warehouse import make_account, make_shop

SHOP = "acme.myshopify.com"
SHIPBOB_SECRET = "whsec_" + base64.b64encode(b"hostile-input-test-secret").decode()
EXAMPLES_PER_ROUTE = 6

# -- hostile values ---------------------------------------------------------------------------------

HUGE = st.integers(min_value=2**63, max_value=10**400).map(str)
NEGATIVE = st.integers(min_value=-(10**30), max_value=-1).map(str)
ODD_NUMBERS = st.sampled_from(["0", "00", "-0", "+1", " 1", "1_000", "\u0661\u0662",  # Arabic-Indic digits
                               "\uff11\uff12", "1e400", "NaN", "0x10", "9" * 5000])  # fullwidth digits
WITH_NUL = st.text(max_size=6).map(lambda s: f"{s}\x00{s}")
INVALID_UTF8 = st.binary(max_size=6).map(lambda b: b"\xff" + b + b"\xc0")
HOSTILE_VALUE = st.one_of(HUGE, NEGATIVE, ODD_NUMBERS, WITH_NUL, INVALID_UTF8)
# Timestamps and customer ids that a valid signature may carry: none is a usable one.
HOSTILE_NUMBER = st.one_of(HUGE, NEGATIVE, ODD_NUMBERS, WITH_NUL)
QUERY_NAMES = ("limit", "before", "status", "variant_id", "country", "locale", "t", "token", "order", "email",
               "rating", "part", "variant", "state", "code", "selling_partner_id", "spapi_oauth_code", "view")


def _deep(depth: int) -> bytes:
    return b'{"a":' + b"[" * depth + b"]" * depth + b"}"


HOSTILE_JSON = st.one_of(
    st.integers(min_value=MAX_DEPTH + 1, max_value=100_000).map(_deep),
    HUGE.map(lambda n: b'{"points":%s,"warehouse_id":%s,"name":"x"}' % (n.encode(), n.encode())),
    st.sampled_from([
        b'{"name":"a\\u0000b","email":"x@example.com"}', b'{"\\u0000":1}', b'{"name":"\\ud800"}',
        b'{"points":1e400}', b'{"points":NaN}', b'\xff\xfe{"a":1}', b'{"name":"\xc0\xaf"}', b"{not json",
        b'{"a":"' + b"x" * (2 * 1024 * 1024) + b'"}',  # beyond every body limit, the webhooks' 2 MiB too
    ]),
)
HOSTILE_FORM = st.dictionaries(st.sampled_from(("email", "token", "comment", "rating", "variant_id")),
                               HOSTILE_VALUE, min_size=1, max_size=3)


def _text(value: str | bytes) -> str:
    """What the app reads back from a percent-encoded value (Werkzeug replaces invalid UTF-8)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


# -- signing ------------------------------------------------------------------------------------------

def session_token(secret: str) -> str:
    now = int(time.time())
    claims = {"iss": f"https://{SHOP}/admin", "dest": f"https://{SHOP}", "aud": API_KEY, "sub": "42",
              "exp": now + 60, "nbf": now - 5, "iat": now - 5, "jti": "j-1", "sid": "s-1"}
    return jwt.encode(claims, secret, algorithm="HS256")


def signed_query(path: str, query: dict, secret: str, stamp: str, customer: str) -> dict:
    """The query with the signature the route checks (app proxy or install/OAuth), over its
    hostile values as the app will decode them."""
    if path.startswith("/proxy/"):
        query = {**query, "shop": SHOP, "timestamp": stamp, "logged_in_customer_id": customer,
                 "path_prefix": "/apps/nearstock"}
        return {**query, "signature": proxy_signature({k: _text(v) for k, v in query.items()}, secret)}
    query = {**query, "shop": SHOP, "timestamp": stamp}
    return {**query, "hmac": query_hmac({k: _text(v) for k, v in query.items()}, secret)}


def shipbob_headers(body: bytes, secret: str, stamp: str, msg_id: str) -> dict:
    return {"webhook-id": msg_id, "webhook-timestamp": stamp, "x-webhook-topic": "order.shipped",
            "webhook-signature": "v1," + shipbob_webhooks.signature(secret, msg_id, stamp, body)}


def shopify_hmac(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


# -- the app's state --------------------------------------------------------------------------------

def row_counts() -> dict[str, int]:
    with db.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar() for t in Base.metadata.sorted_tables}


def every_route(app) -> list[tuple[str, str]]:
    routes = [(rule.rule, method) for rule in app.url_map.iter_rules()
              for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return [*routes, ("/webhooks/shopify", "POST")]  # the WSGI front: not a Flask rule


@pytest.fixture
def installed(app):
    shop = make_shop(SHOP)
    account = make_account(shop, "shipbob", {"token": "t", "channel_id": "1", "webhook_secret": SHIPBOB_SECRET})
    # A correctly signed storefront call records that the storefront was seen (Home's setup guide):
    # an intended write, so the settings row it stamps exists before the counts are taken.
    shop_settings.mark_storefront_seen(shop.id)
    return account.id


def test_every_id_in_a_route_is_a_bounded_database_id(app):
    """One converter for every numeric path parameter: Werkzeug's unbounded ``int`` is not used."""
    converters = {type(c).__name__ for rule in app.url_map.iter_rules() for c in rule._converters.values()}
    assert "IntegerConverter" not in converters and "DatabaseIdConverter" in converters


def test_hostile_requests_to_every_route(app, client, installed):
    routes = every_route(app)
    assert len(routes) > 60

    @settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(data=st.data())
    def hostile_request(route: str, method: str, data) -> None:
        auth = data.draw(st.sampled_from(("none", "bad", "valid")), "auth")
        path = route
        real_id = auth == "valid" and route.startswith("/webhooks/warehouse/")  # to reach the signature check
        for name in ("<id:account_id>", "<id:warehouse_id>", "<id:rule_id>", "<id:notification_id>"):
            if name in path:
                value = str(installed) if real_id else data.draw(HOSTILE_VALUE, name)
                path = path.replace(name, quote(value, safe=""))
        for name in ("<kind>", "<name>", "<token>", "<path:customer>", "<path:filename>"):
            if name in path:
                path = path.replace(name, quote(data.draw(HOSTILE_VALUE, name), safe=""))
        query = data.draw(st.dictionaries(st.sampled_from(QUERY_NAMES), HOSTILE_VALUE, max_size=3), "query")
        headers: dict[str, str] = {}
        secret = API_SECRET if auth == "valid" else "not-the-secret"
        if auth != "none" and (route.startswith(("/proxy/", "/auth/")) or route == "/"):
            query = signed_query(route, query, secret, data.draw(st.one_of(HOSTILE_NUMBER, st.just(
                str(int(time.time())))), "timestamp"), data.draw(HOSTILE_NUMBER, "customer"))
        if route.startswith("/api/") and auth != "none":
            headers["Authorization"] = f"Bearer {session_token(secret)}"
        body, content_type = b"", None
        if method != "GET":
            if data.draw(st.booleans(), "json body"):
                body, content_type = data.draw(HOSTILE_JSON, "body"), "application/json"
            else:
                body = urlencode(data.draw(HOSTILE_FORM, "form")).encode()
                content_type = "application/x-www-form-urlencoded"
        if route.startswith("/webhooks/warehouse/") and auth != "none":
            headers.update(shipbob_headers(body, SHIPBOB_SECRET if auth == "valid" else secret, data.draw(
                st.one_of(HOSTILE_NUMBER, st.just(str(int(time.time())))), "stamp"), "msg-1"))
        if route == "/webhooks/shopify":
            headers.update({"X-Shopify-Topic": "orders/updated", "X-Shopify-Shop-Domain": SHOP,
                            "X-Shopify-Webhook-Id": data.draw(st.sampled_from(("w-1", "w\x00", "")), "delivery"),
                            "X-Shopify-Hmac-Sha256": shopify_hmac(body, secret)})
        note(f"{method} {path} ? {query} {headers} body[:80]={body[:80]!r}")

        before = row_counts()
        last_event = db.session.execute(select(func.max(WebhookEvent.id))).scalar() or 0
        response = client.open(path, method=method, query_string=urlencode(query), data=body,
                               content_type=content_type, headers=headers)
        db.session.remove()  # a request's session ends with it, as in production
        assert response.status_code < 500, (method, route, response.status_code, response.get_data()[:300])
        if "<id:" in route and not real_id:  # the same answer on every route, whatever the method
            assert response.status_code in (400, 404), (method, route, response.status_code)
        stored = db.session.execute(select(WebhookEvent.id).where(WebhookEvent.id > last_event)).scalars().all()
        if route == "/webhooks/shopify" and stored:  # signed, so stored before anything else
            assert auth == "valid" and response.status_code == 200
            _assert_fails_permanently(stored)
        assert row_counts() == before, (method, route, response.status_code)

    for route, method in routes:
        hostile_request(route, method)


def _assert_fails_permanently(event_ids: list[int]) -> None:
    """Processing refuses the body for good (no retry), then the row is removed again so the
    table counts compare."""
    for event_id in event_ids:
        with pytest.raises(PermanentError, match="event body refused"):
            events.process_event(event_id)
        event = db.session.get(WebhookEvent, event_id)
        assert event.status == EventStatus.FAILED and "UntrustedJSONError" in event.error
    db.session.execute(delete(WebhookEvent).where(WebhookEvent.id.in_(event_ids)))
    db.session.commit()
    queues["events"].empty()


# -- the cases the probe found, one by one --------------------------------------------------------------

def test_deep_signed_webhook_fails_permanently_in_the_worker(client, worker):
    """100,000 levels: accepted (signed, stored first), then failed once with its reason, never retried."""
    r = shopify_webhook(client, "orders/updated", b"[" * 100_000 + b"]" * 100_000, shop=SHOP)
    assert r.status_code == 200
    worker.run()
    event = db.session.execute(select(WebhookEvent)).scalar_one()
    assert event.status == EventStatus.FAILED and event.attempts == 1
    assert f"nested deeper than {MAX_DEPTH} levels" in event.error
    assert FailedJobRegistry(queue=queues["events"]).get_job_ids()  # failed, not scheduled again


@pytest.mark.parametrize("body", [b'{"id":1,"title":"a\\u0000b"}', b'{"id":1,"title":"\\udc00"}'])
def test_unstorable_text_is_refused_alike_on_every_database(client, worker, installed, body):
    """NUL (PostgreSQL refuses it, SQLite stores it) and lone surrogates (no driver encodes them):
    a webhook fails permanently, an API body answers 400, whichever database runs."""
    shopify_webhook(client, "products/update", body, shop=SHOP)
    worker.run()
    event = db.session.execute(select(WebhookEvent)).scalar_one()
    assert event.status == EventStatus.FAILED and "NUL or a lone UTF-16 surrogate" in event.error
    r = client.patch("/api/settings", data=body, content_type="application/json",
                     headers={"Authorization": f"Bearer {session_token(API_SECRET)}"})
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("path", ["/proxy/stock", "/proxy/track", "/proxy/loyalty", "/auth/install"])
def test_a_signed_400_digit_timestamp_is_refused_not_overflowed(client, installed, path):
    query = signed_query(path, {"variant_id": "1"}, API_SECRET, "9" * 400, "")
    r = client.get(path, query_string=urlencode(query))
    assert r.status_code in (400, 403) and r.json["error"]["code"] in ("invalid_timestamp", "stale_request")


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/webhooks/warehouse/{}"), ("DELETE", "/api/amazon/accounts/{}"),
    ("POST", "/api/notifications/{}/retry"), ("PATCH", "/api/warehouses/{}"),
])
@pytest.mark.parametrize("value", ["9" * 26, str(2**63), "0"])
def test_an_id_beyond_the_database_is_404_on_every_route(client, installed, method, path, value):
    r = client.open(path.format(value), method=method, json={},
                    headers={"Authorization": f"Bearer {session_token(API_SECRET)}"})
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"


def test_nul_in_a_query_is_refused(client, installed):
    r = client.get("/api/notifications", query_string="status=%00",
                   headers={"Authorization": f"Bearer {session_token(API_SECRET)}"})
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_text"


def test_valid_documents_still_parse():
    from connectors.untrusted_input import parse_json_document

    document = {"a": [{"b": "é😀\\u0000 as text"}, -(2**63), 2**63 - 1, 1.5], "c": None}
    assert parse_json_document(json.dumps(document).encode()) == document
    assert parse_json_document(json.dumps(document, ensure_ascii=True).encode()) == document
