"""``/webhooks/shopify`` is answered by a WSGI handler in front of Flask (integration/views/webhooks.py).
What the app's hooks give every Flask request must hold there too: request id, latency metric, the
JSON error shape, no stack trace, the body read exactly as Werkzeug reads it; and every other path
still reaches Flask."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json

from sqlalchemy import select

from integration.extensions import db
from integration.metrics import registry
from integration.models import WebhookEvent
from integration.views import webhooks
from tests.helpers import shopify_webhook

SECRET = "test-api-secret"


def signed(body: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def environ(body: bytes, **extra) -> dict:
    env = {"REQUEST_METHOD": "POST", "PATH_INFO": "/webhooks/shopify", "wsgi.input": io.BytesIO(body),
           "CONTENT_LENGTH": str(len(body)), "HTTP_X_SHOPIFY_TOPIC": "orders/create",
           "HTTP_X_SHOPIFY_SHOP_DOMAIN": "acme.myshopify.com", "HTTP_X_SHOPIFY_WEBHOOK_ID": "w-raw",
           "HTTP_X_SHOPIFY_HMAC_SHA256": signed(body)}
    env.update(extra)
    return env


def call(app, env: dict) -> tuple[str, dict, dict]:
    answer: dict = {}

    def start_response(status, headers):
        answer["status"], answer["headers"] = status, dict(headers)

    body = b"".join(app.wsgi_app(env, start_response))
    assert int(answer["headers"]["Content-Length"]) == len(body)
    return answer["status"], answer["headers"], json.loads(body)


def observed(status: int) -> float:
    return registry.get_sample_value("nearstock_http_request_duration_seconds_count",
                                     {"method": "POST", "endpoint": "/webhooks/shopify", "status": str(status)}) or 0


def logged(caplog, event: str) -> list[dict]:
    return [r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg.get("event") == event]


def test_request_id_is_echoed_and_bound_to_the_logs(client, caplog):
    r = shopify_webhook(client, "orders/create", b"{}", secret="wrong", headers={"X-Request-Id": "hook-req-123"})
    assert r.status_code == 401 and r.headers["X-Request-Id"] == "hook-req-123"
    [line] = logged(caplog, "webhook.bad_hmac")
    assert line["request_id"] == "hook-req-123" and line["shop"] == "acme.myshopify.com"
    r = shopify_webhook(client, "orders/create", {"id": 1}, headers={"X-Request-Id": "<bad id>"})
    assert r.status_code == 200 and len(r.headers["X-Request-Id"]) == 32


def test_latency_is_observed_per_status(client):
    before_ok, before_401 = observed(200), observed(401)
    assert shopify_webhook(client, "orders/create", {"id": 1}).status_code == 200
    assert shopify_webhook(client, "orders/create", {"id": 1}, secret="wrong").status_code == 401
    assert observed(200) > before_ok and observed(401) > before_401
    assert b'endpoint="/webhooks/shopify"' in client.get("/metrics").data


def test_an_unexpected_error_is_a_json_500_without_internals(app, client, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(webhooks, "receive_event", broken)
    r = shopify_webhook(client, "orders/create", {"id": 1})
    assert r.status_code == 500 and r.json["error"]["code"] == "internal_error"
    assert b"hunter2" not in r.data and b"Traceback" not in r.data
    [line] = logged(caplog, "request.unhandled_error")
    assert line["request_id"] == r.headers["X-Request-Id"]


def test_body_is_read_by_content_length_or_to_the_end_of_a_chunked_stream(app):
    body = json.dumps({"id": 7}).encode()
    status, _, answer = call(app, environ(body))
    assert status == "200 OK" and answer == {"ok": True, "duplicate": False}
    # Chunked: no Content-Length; the server decoded the stream and says it ends.
    env = environ(body, CONTENT_LENGTH="", HTTP_X_SHOPIFY_WEBHOOK_ID="w-chunked")
    env["wsgi.input_terminated"] = True
    status, _, answer = call(app, env)
    assert status == "200 OK"
    with app.app_context():
        stored = db.session.execute(select(WebhookEvent.delivery_id, WebhookEvent.body)).all()
    assert sorted(stored) == [("w-chunked", body), ("w-raw", body)]


def test_malformed_bodies_are_refused_with_4xx(app):
    body = b'{"id": 8}'
    status, _, answer = call(app, environ(body, CONTENT_LENGTH="12abc"))
    assert status.startswith("400") and answer["error"]["code"] == "bad_request"
    status, _, answer = call(app, environ(body, CONTENT_LENGTH=str(len(body) + 10)))  # the client hung up
    assert status.startswith("400") and "Content-Length" in answer["error"]["message"]
    limit = app.config["NEARSTOCK"].max_webhook_bytes
    big = b"x" * (limit + 1)
    env = environ(big, CONTENT_LENGTH="")
    env["wsgi.input_terminated"] = True
    status, _, answer = call(app, env)
    assert status.startswith("413") and answer["error"]["code"] == "payload_too_large"
    status, _, _ = call(app, environ(body, CONTENT_LENGTH=""))  # no length, no end: nothing to read
    assert status.startswith("401")
    with app.app_context():
        assert db.session.execute(select(WebhookEvent)).first() is None


def test_other_paths_and_methods(client):
    r = client.get("/webhooks/shopify")
    assert r.status_code == 405 and r.headers["Allow"] == "POST" and r.json["error"]["code"] == "method_not_allowed"
    assert client.get("/healthz").status_code in (200, 503)  # Flask, behind the front
    assert client.post("/webhooks/shopify/extra").status_code == 404
