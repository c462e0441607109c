"""``POST /webhooks/warehouse/<account_id>``: a 3PL's webhook (ShipBob today).

The account in the URL says which secret verifies the signature; the provider connector checks it
on the raw bytes (constant time) and parses. Then the usual inbox path: store, enqueue, 200.
"""

from __future__ import annotations

import json

import structlog
from flask import Blueprint, current_app, jsonify, request

from connectors.errors import ConnectorError
from integration.errors import APIError
from integration.extensions import db
from integration.inbox.events import InboxUnavailableError, receive_event
from integration.models import Shop, WarehouseAccount
from integration.warehouses.providers import provider_for

bp = Blueprint("warehouse_webhooks", __name__, url_prefix="/webhooks/warehouse")
log = structlog.get_logger(__name__)


MAX_DELIVERY_ID = 200


@bp.post("/<id:account_id>")
def receive(account_id: int):
    config = current_app.config["NEARSTOCK"]
    if request.content_length is not None and request.content_length > config.max_webhook_bytes:
        raise APIError(413, "payload_too_large", "webhook body exceeds 2 MiB")
    body = request.get_data(cache=False)
    account = db.session.get(WarehouseAccount, account_id)
    if account is None or not account.active:
        log.warning("warehouse_webhook.unknown_account", account_id=account_id)
        raise APIError(404, "not_found", "unknown webhook address")
    try:
        event = provider_for(account).parse_webhook(dict(request.headers), body)
    except ConnectorError as exc:
        log.warning("warehouse_webhook.rejected", account_id=account_id, provider=account.provider, error=str(exc))
        raise APIError(401, "invalid_signature", "webhook signature or shape rejected") from None
    # The inbox column is VARCHAR(255), and PostgreSQL stores no NUL.
    if not event.delivery_id or len(event.delivery_id) > MAX_DELIVERY_ID or "\x00" in event.delivery_id:
        log.warning("warehouse_webhook.bad_delivery_id", account_id=account_id, size=len(event.delivery_id or ""))
        raise APIError(400, "invalid_delivery_id", "missing or oversized delivery id")
    shop = db.session.get(Shop, account.shop_id)
    trigger = {"account_id": account.id, "reference": event.reference, "raw": body.decode("utf-8", "replace")}
    try:
        received = receive_event("warehouse", f"{account.id}:{event.delivery_id}", event.kind, shop.domain,
                                 json.dumps(trigger).encode())
    except InboxUnavailableError:
        raise APIError(503, "unavailable", "temporarily unable to accept the webhook; retry") from None
    return jsonify(ok=True, duplicate=received.duplicate), 200
