"""ShipBob webhook deliveries: signature verification on the raw bytes, then parsing.

ShipBob signs the dated-API subscriptions (``POST /{version}/webhook``) with the Standard Webhooks
scheme (as Svix does): https://developer.shipbob.com/webhooks ("Verifying webhooks").

* headers ``webhook-id`` (stable across retries: our delivery id), ``webhook-timestamp`` (Unix
  seconds of this attempt), ``webhook-signature`` (space-separated ``v1,<base64>`` entries; any may
  match, for key rotation) and ``x-webhook-topic``;
* signed content ``{webhook-id}.{webhook-timestamp}.{raw body}``, HMAC-SHA256 keyed with the
  base64-decoded part of the ``whsec_…`` secret after the prefix.

A timestamp more than ``TOLERANCE_S`` away from now is refused (replay protection; Standard
Webhooks recommends five minutes). ShipBob publishes no per-topic payload schema, so the parsers
accept the shipment resource (the shape of ``GET /shipment/{id}``) for ``order.shipped`` and
``order.shipment.*`` and the compact tracking payload (``event_time``, ``order_id``,
``reference_id``, ``status``, ``tracking``) of https://developer.shipbob.com/logistics/webhooks
for ``order.shipment.tracking.updated`` / ``tracking_received``. ``return.*`` topics carry the return
resource (``GET /return/{id}``): the event's ``returned`` says where it stands, without lines
(items name inventory ids, not SKUs: ``get_return`` reads the graded lines).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime

from connectors.errors import PermanentError
from connectors.untrusted_input import UntrustedJSONError, parse_json_document, seconds_since
from integration.domain.warehousing import WarehouseEvent

from .shipbob_mapping import (
    order_to_outbound,
    parse_time,
    shipment_package,
    shipment_to_outbound,
)
from .shipbob_returns import return_status
from .shipbob_tracking import tracking_event

TOLERANCE_S = 300
OUTBOUND_TOPICS = {"order.shipped", "order.delivered", "order.shipment.delivered", "order.shipment.exception",
                   "order.shipment.on_hold", "order.shipment.cancelled", "order.shipment.address.updated",
                   "order.shipment.shipping_service.updated"}
TRACKING_TOPICS = {"order.shipment.tracking.updated", "order.shipment.tracking_received"}


def _error(message: str, code: str, field: str | None = None) -> PermanentError:
    return PermanentError(message, code=code, field=field, system="shipbob", operation="parse_webhook")


def signing_key(secret: str) -> bytes:
    """``whsec_<base64>`` -> key bytes. A secret that is not base64 (one we chose ourselves when
    subscribing) is used as its UTF-8 bytes."""
    raw = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return raw.encode()


def signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    content = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    return base64.b64encode(hmac.new(signing_key(secret), content, hashlib.sha256).digest()).decode()


def verify(headers: Mapping[str, str], body: bytes, secret: str, *, tolerance: float = TOLERANCE_S,
           now: float | None = None) -> tuple[str, str]:
    """Check signature and freshness; returns (webhook-id, topic). Raises PermanentError."""
    if not secret:
        raise _error("no ShipBob webhook secret configured", "no_secret")
    lower = {key.lower(): value for key, value in headers.items()}
    msg_id, stamp, signatures = (lower.get(k, "") for k in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (msg_id and stamp and signatures):
        raise _error("missing webhook-id / webhook-timestamp / webhook-signature", "missing_signature")
    age = seconds_since(stamp, now)
    if age is None:
        raise _error("webhook-timestamp is not Unix seconds", "bad_timestamp", "webhook-timestamp")
    if abs(age) > tolerance:
        raise _error("webhook-timestamp outside the tolerance window", "stale_timestamp", "webhook-timestamp")
    expected = signature(secret, msg_id, stamp, body).encode()
    matched = False
    for entry in signatures.split():
        version, _, value = entry.partition(",")
        # No early exit: every entry is compared, each in constant time.
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            matched = True
    if not matched:
        raise _error("webhook signature mismatch", "bad_signature", "webhook-signature")
    return msg_id, lower.get("x-webhook-topic", "")


def parse(headers: Mapping[str, str], body: bytes, secret: str, *, tolerance: float = TOLERANCE_S,
          now: float | None = None) -> WarehouseEvent:
    msg_id, topic = verify(headers, body, secret, tolerance=tolerance, now=now)
    try:
        payload = parse_json_document(body)
    except UntrustedJSONError as exc:
        raise _error(f"webhook body refused: {exc}", "bad_body") from None
    if not isinstance(payload, dict):
        raise _error("webhook body is not a JSON object", "bad_body")
    extra = {"topic": topic, "order_id": payload.get("order_id") or payload.get("id"),
             "shipment_id": payload.get("shipment_id") or (payload.get("id") if "order_id" in payload else None)}
    if topic in OUTBOUND_TOPICS:
        outbound = order_to_outbound(payload) if "shipments" in payload else shipment_to_outbound(payload)
        tracking = ()
        if topic == "order.shipment.delivered":
            package = shipment_package(payload)
            at = parse_time(payload.get("delivery_date")) or datetime.now(UTC)
            if package:
                event = tracking_event("Delivered", None, tracking_number=package.tracking_number,
                                       occurred_at=at, carrier=package.carrier)
                tracking = (event,) if event else ()
        return WarehouseEvent(kind="outbound", delivery_id=msg_id, reference=outbound.reference or None,
                              outbound=outbound, tracking=tracking, extra=extra)
    if topic in TRACKING_TOPICS:
        info = payload.get("tracking") or {}
        number = info.get("tracking_number") or info.get("tracking_id")
        if not number:
            raise _error("tracking webhook without a tracking number", "bad_body", "tracking.tracking_number")
        event = tracking_event(payload.get("status"), payload.get("status_detail"), tracking_number=number,
                               occurred_at=parse_time(payload.get("event_time")) or datetime.now(UTC),
                               description=payload.get("description") or "", location=payload.get("location"),
                               carrier=info.get("carrier"))
        return WarehouseEvent(kind="tracking", delivery_id=msg_id, reference=payload.get("reference_id"),
                              tracking=(event,) if event else (), extra=extra)
    if topic.startswith("return."):
        reference = payload.get("reference_id")
        if not isinstance(reference, str) or not reference or not isinstance(payload.get("id"), int):
            raise _error("return webhook without reference_id and id", "bad_body", "reference_id")
        # An unknown status reads AUTHORIZED here; the job's get_return reports it.
        returned = return_status(payload, reference, lambda field, value: None, None)
        extra.update(status=payload.get("status"), id=payload.get("id"))
        return WarehouseEvent(kind="return", delivery_id=msg_id, reference=reference, returned=returned,
                              extra=extra)
    family = topic.split(".", 1)[0]
    kind = {"wro": "inbound"}.get(family, "other")
    extra.update(status=payload.get("status"), id=payload.get("id"))
    return WarehouseEvent(kind=kind, delivery_id=msg_id, reference=payload.get("reference_id")
                          or payload.get("purchase_order_number"), extra=extra)
