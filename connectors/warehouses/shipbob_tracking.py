"""ShipBob carrier tracking -> the domain's tracking taxonomy: the status table and the timeline.

Status details up to ``DeliveryException`` are ShipBob's documented ones
(https://developer.shipbob.com/status-reference); ShipBob documents no finer carrier-exception
vocabulary, so the sub-types below are assumed (no public source) and anything else falls back
to the bare ``DeliveryException`` row; unknown names are kept as pending, and both are reported.
"""

from __future__ import annotations

from datetime import datetime

from integration.domain.warehousing import ExceptionReason, TrackingEvent, TrackingStatus

from .shipbob_mapping import parse_time

T, R = TrackingStatus, ExceptionReason
# (tracking / status-detail name, exception sub-type) -> (our tag, reason). ``None`` as value:
# a warehouse step, not a carrier event (skipped). The names up to DeliveryException are ShipBob's
# documented status details; ShipBob documents no finer carrier-exception vocabulary, so the
# sub-types are the ones our emulator sends in ``status_detail`` / timeline ``metadata.exception``
# (see the report) and anything else falls back to the bare ``DeliveryException`` row.
TRACKING_STATUS: dict[tuple[str, str | None], tuple[TrackingStatus, ExceptionReason | None] | None] = {
    ("Picked", None): None,
    ("Packed", None): None,
    ("Labeled", None): (T.INFO_RECEIVED, None),
    ("LabelCreated", None): (T.INFO_RECEIVED, None),  # order.shipment.tracking_received payloads
    ("Processing", None): (T.INFO_RECEIVED, None),  # Completed/200 "Waiting For Carrier Pickup"
    ("InTransit", None): (T.IN_TRANSIT, None),
    ("OutForDelivery", None): (T.OUT_FOR_DELIVERY, None),
    ("Delivered", None): (T.DELIVERED, None),
    ("AwaitingCustomerPickup", None): (T.AVAILABLE_FOR_PICKUP, None),
    ("DeliveryException", None): (T.EXCEPTION, None),
    ("DeliveryException", "CustomsHold"): (T.EXCEPTION, R.CUSTOMS_DELAY),
    ("DeliveryException", "DeliveryDelayed"): (T.EXCEPTION, R.DELIVERY_DELAY),
    ("DeliveryException", "DeliveryAttemptFailed"): (T.ATTEMPT_FAIL, R.FAILED_ATTEMPT),
    ("DeliveryException", "AddressIssue"): (T.EXCEPTION, R.ADDRESS_PROBLEM),
    ("DeliveryException", "Lost"): (T.EXCEPTION, R.LOST),
    ("DeliveryException", "Damaged"): (T.EXCEPTION, R.DAMAGED),
    ("DeliveryException", "ReturnToSender"): (T.EXCEPTION, R.RETURNED_TO_SENDER),
}


def tracking_event(name: str | None, subtype: str | None, *, tracking_number: str, occurred_at: datetime,
                   description: str = "", location: str | None = None,
                   carrier: str | None = None) -> TrackingEvent | None:
    """One ShipBob tracking status -> TrackingEvent; None for warehouse-only steps."""
    key = (name or "", subtype) if (name or "", subtype) in TRACKING_STATUS else (name or "", None)
    raw = f"{name}/{subtype}" if subtype else (name or "")
    if key not in TRACKING_STATUS:
        # Unknown to the table: keep it (raw code for support) without claiming progress.
        return TrackingEvent(tracking_number, T.PENDING, occurred_at, description=description,
                             location=location, carrier=carrier, raw_code=raw)
    mapped = TRACKING_STATUS[key]
    if mapped is None:
        return None
    status, reason = mapped
    return TrackingEvent(tracking_number, status, occurred_at, reason=reason, description=description,
                         location=location, carrier=carrier, raw_code=raw)


def timeline_events(shipment: dict, logs: list[dict]) -> list[TrackingEvent]:
    """``GET /shipment/{id}/timeline`` entries of one shipped shipment -> carrier events."""
    tracking = shipment.get("tracking") or {}
    number = tracking.get("tracking_number")
    if not number:
        return []
    events = []
    for log in logs:
        meta = log.get("metadata") or {}
        at = parse_time(log.get("timestamp"))
        if at is None:
            continue
        event = tracking_event(log.get("log_type_name"), meta.get("exception"), tracking_number=number,
                               occurred_at=at, description=log.get("log_type_text") or "",
                               location=meta.get("location") or None, carrier=tracking.get("carrier"))
        if event:
            events.append(event)
    return events


def unmapped_tracking(events: list[TrackingEvent]) -> list[str]:
    """Raw codes (``name`` or ``name/sub-type``) of events the tracking table did not know
    exactly: an unknown name was read as pending, an unknown exception sub-type as a bare
    exception."""
    return sorted({e.raw_code for e in events if e.raw_code and tuple(_split_raw(e.raw_code)) not in TRACKING_STATUS})


def _split_raw(raw: str) -> tuple[str, str | None]:
    name, _, subtype = raw.partition("/")
    return name, subtype or None
