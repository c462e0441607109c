"""Inbound Shopify webhooks: ``POST /webhooks/shopify``. Verify on the raw bytes, store in the
inbox, acknowledge; nothing slow here.

Shopify: https://shopify.dev/docs/apps/build/webhooks/subscribe/https — the HMAC is over the raw
body, an invalid one must get 401 (the compliance topics are reviewed for exactly that), and any
answer other than 2xx within 5 s makes Shopify retry, so storage failures answer 503.

Served by a plain WSGI handler in front of Flask (:class:`ShopifyWebhooks`, installed by
``views.register``), not by a Flask view. It is the busiest endpoint by far (every order,
inventory and product change of every shop), and under load on two cores Flask's per-request
machinery (request and response objects, URL matching, the before/after hooks) cost as much CPU
as the HMAC check, the inbox write and the enqueue together: 1.0-1.1 ms of web-process CPU per
webhook as a view, 0.63-0.65 ms here (bench/events.py, SQLite, concurrency 16). What the app's
hooks do for every request is done here too: the request id (bound to the logs, echoed in
``X-Request-Id``), the latency metric, the JSON error shape, a log line for every refusal, an
app context around the inbox write, and no stack trace to the client. Every other path goes to
Flask untouched.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable

import structlog
from flask import Flask

from integration.inbox.events import InboxUnavailableError, receive_event
from integration.metrics import REQUEST_LATENCY
from integration.request_context import request_id_from
from integration.shops.verification import is_valid_shop_domain, webhook_is_authentic

log = structlog.get_logger(__name__)

PATH = "/webhooks/shopify"
MAX_HEADER = 255
# The inbox columns: topic is VARCHAR(128) and the delivery id VARCHAR(255), which must also hold
# "event:<topic>:<event id>". A longer value would fail the INSERT (503, retried forever).
MAX_TOPIC = 128
MAX_EVENT_ID = 100

# The two possible acknowledgements, serialised once.
_ACCEPTED = {False: b'{"duplicate":false,"ok":true}\n', True: b'{"duplicate":true,"ok":true}\n'}
_REASONS = {200: "200 OK", 400: "400 BAD REQUEST", 401: "401 UNAUTHORIZED", 405: "405 METHOD NOT ALLOWED",
            413: "413 REQUEST ENTITY TOO LARGE", 500: "500 INTERNAL SERVER ERROR", 503: "503 SERVICE UNAVAILABLE"}
_INTERNAL = ("The server encountered an internal error and was unable to complete your request. Either the "
             "server is overloaded or there is an error in the application.")


class Refused(Exception):
    """An answer other than 200: status, machine code, message (the app's JSON error shape)."""

    def __init__(self, status: int, code: str, message: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, list(headers)

    def body(self) -> bytes:
        return json.dumps({"error": {"code": self.code, "message": self.message}}).encode() + b"\n"


class ShopifyWebhooks:
    """WSGI middleware: answers ``/webhooks/shopify`` itself, hands everything else to ``wsgi_app``."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID", ""))
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        headers = [("Content-Type", "application/json"), ("X-Request-Id", request_id)]
        try:
            status, body = 200, _ACCEPTED[self.receive(environ)]
        except Refused as refused:
            status, body = refused.status, refused.body()
            headers += refused.headers
        except Exception:
            log.exception("request.unhandled_error", path=PATH)
            status, body = 500, Refused(500, "internal_error", _INTERNAL).body()
        headers.append(("Content-Length", str(len(body))))
        start_response(_REASONS[status], headers)
        REQUEST_LATENCY.labels(environ.get("REQUEST_METHOD", ""), PATH, status).observe(time.perf_counter() - started)
        return [body]

    def receive(self, environ: dict) -> bool:
        """Verify and store one delivery; returns whether it was a duplicate, or raises Refused."""
        if environ.get("REQUEST_METHOD") != "POST":
            raise Refused(405, "method_not_allowed", "The method is not allowed for the requested URL.",
                          [("Allow", "POST")])
        config = self.app.config["NEARSTOCK"]
        body = _read_body(environ, config.max_webhook_bytes)
        if not webhook_is_authentic(body, environ.get("HTTP_X_SHOPIFY_HMAC_SHA256"), config):
            log.warning("webhook.bad_hmac", shop=environ.get("HTTP_X_SHOPIFY_SHOP_DOMAIN", "")[:MAX_HEADER])
            raise Refused(401, "invalid_hmac", "HMAC verification failed")

        topic = environ.get("HTTP_X_SHOPIFY_TOPIC", "")
        shop = environ.get("HTTP_X_SHOPIFY_SHOP_DOMAIN", "")
        delivery_id = environ.get("HTTP_X_SHOPIFY_WEBHOOK_ID", "")
        missing = [name for name, value, limit in (("X-Shopify-Topic", topic, MAX_TOPIC),
                                                   ("X-Shopify-Shop-Domain", shop, MAX_HEADER),
                                                   ("X-Shopify-Webhook-Id", delivery_id, MAX_HEADER))
                   if not value or len(value) > limit or "\x00" in value]  # PostgreSQL stores no NUL
        if missing:
            log.warning("webhook.bad_headers", missing=missing)
            raise Refused(400, "missing_headers", "missing, oversized or NUL-holding header: " + ", ".join(missing))
        if not is_valid_shop_domain(shop):
            log.warning("webhook.bad_shop", shop=shop[:MAX_HEADER])
            raise Refused(400, "invalid_shop", "X-Shopify-Shop-Domain is not a myshopify.com domain")

        # Shopify sends one webhook per subscription, so an event reaches us twice if it matches an
        # app-specific (shopify.app.toml) and an API-created subscription; X-Shopify-Event-Id is the
        # same on all of them and on retries. https://shopify.dev/docs/apps/build/webhooks/ignore-duplicates
        event_id = environ.get("HTTP_X_SHOPIFY_EVENT_ID", "")
        if event_id and len(event_id) <= MAX_EVENT_ID and "\x00" not in event_id:
            delivery_id = f"event:{topic}:{event_id}"

        with self.app.app_context():  # the database session's scope, as for a Flask request
            try:
                return receive_event("shopify", delivery_id, topic, shop, body).duplicate
            except InboxUnavailableError:
                raise Refused(503, "unavailable", "temporarily unable to accept the webhook; retry") from None


def _read_body(environ: dict, limit: int) -> bytes:
    """The raw body, at most ``limit`` bytes (413 beyond), as Werkzeug would read it: by
    Content-Length, or to the end when the server has decoded a chunked body."""
    stream = environ["wsgi.input"]
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared:
        if not declared.isdigit():
            log.warning("webhook.bad_length", content_length=declared[:32])
            raise Refused(400, "bad_request", "invalid Content-Length")
        length = int(declared)
    elif environ.get("wsgi.input_terminated"):
        length = limit + 1  # read to the end, one byte past the limit at most
    else:
        return b""  # no length, no terminated stream: nothing can be read safely
    if declared and length > limit:
        log.warning("webhook.too_large", size=length)
        raise Refused(413, "payload_too_large", "webhook body exceeds 2 MiB")
    chunks, left = [], length
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    body = b"".join(chunks)
    if len(body) > limit:
        log.warning("webhook.too_large", size=len(body))
        raise Refused(413, "payload_too_large", "webhook body exceeds 2 MiB")
    if declared and len(body) < length:
        log.warning("webhook.incomplete_body", size=len(body), content_length=length)
        raise Refused(400, "bad_request", "the body ended before its Content-Length")
    return body


def install(app: Flask) -> None:
    app.wsgi_app = ShopifyWebhooks(app, app.wsgi_app)  # type: ignore[method-assign]
