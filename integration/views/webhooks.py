"""Inbound webhooks. Verify on the raw bytes, store in the inbox, acknowledge; nothing slow here.

Shopify: https://shopify.dev/docs/apps/build/webhooks/subscribe/https — the HMAC is over the raw
body, an invalid one must get 401 (the compliance topics are reviewed for exactly that), and any
answer other than 2xx within 5 s makes Shopify retry, so storage failures answer 503.
"""

from __future__ import annotations

import structlog
from flask import Blueprint, Response, current_app, request

from connectors.shopify.signatures import is_valid_shop_domain, verify_webhook
from integration.errors import APIError
from integration.services.inbox import InboxUnavailableError, receive_event

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
log = structlog.get_logger(__name__)

MAX_HEADER = 255
# The inbox columns: topic is VARCHAR(128) and the delivery id VARCHAR(255), which must also hold
# "event:<topic>:<event id>". A longer value would fail the INSERT (503, retried forever).
MAX_TOPIC = 128
MAX_EVENT_ID = 100
# The two possible answers, serialised once: on this path jsonify's encoder and response building
# cost as much as the HMAC check.
_ACCEPTED = {False: b'{"duplicate":false,"ok":true}\n', True: b'{"duplicate":true,"ok":true}\n'}


@bp.post("/shopify")
def shopify():
    config = current_app.config["NEARSTOCK"]
    if request.content_length is not None and request.content_length > config.max_webhook_bytes:
        log.warning("webhook.too_large", size=request.content_length)
        raise APIError(413, "payload_too_large", "webhook body exceeds 2 MiB")
    body = request.get_data(cache=False)  # raw bytes, bounded by MAX_CONTENT_LENGTH
    secrets = [s for s in (config.shopify_api_secret, config.shopify_api_secret_previous) if s]
    if not verify_webhook(body, request.headers.get("X-Shopify-Hmac-Sha256"), secrets):
        log.warning("webhook.bad_hmac", shop=request.headers.get("X-Shopify-Shop-Domain", "")[:MAX_HEADER])
        raise APIError(401, "invalid_hmac", "HMAC verification failed")

    topic = request.headers.get("X-Shopify-Topic", "")
    shop = request.headers.get("X-Shopify-Shop-Domain", "")
    delivery_id = request.headers.get("X-Shopify-Webhook-Id", "")
    missing = [
        name
        for name, value in (
            ("X-Shopify-Topic", topic),
            ("X-Shopify-Shop-Domain", shop),
            ("X-Shopify-Webhook-Id", delivery_id),
        )
        if not value or len(value) > (MAX_TOPIC if name == "X-Shopify-Topic" else MAX_HEADER)
    ]
    if missing:
        log.warning("webhook.bad_headers", missing=missing)
        raise APIError(400, "missing_headers", "missing or oversized header: " + ", ".join(missing))
    if not is_valid_shop_domain(shop):
        log.warning("webhook.bad_shop", shop=shop)
        raise APIError(400, "invalid_shop", "X-Shopify-Shop-Domain is not a myshopify.com domain")

    # Shopify sends one webhook per subscription, so an event reaches us twice if it matches an
    # app-specific (shopify.app.toml) and an API-created subscription; X-Shopify-Event-Id is the
    # same on all of them and on retries. https://shopify.dev/docs/apps/build/webhooks/ignore-duplicates
    event_id = request.headers.get("X-Shopify-Event-Id", "")
    if event_id and len(event_id) <= MAX_EVENT_ID:
        delivery_id = f"event:{topic}:{event_id}"

    try:
        received = receive_event("shopify", delivery_id, topic, shop, body)
    except InboxUnavailableError:
        raise APIError(503, "unavailable", "temporarily unable to accept the webhook; retry") from None
    return Response(_ACCEPTED[received.duplicate], status=200, mimetype="application/json")
