"""What makes a notice: tracking changes, new shipments, new merchant alerts, quiet parcels.

Receivers run inside the sender's transaction (see :mod:`integration.signals`): the
outbox row commits or rolls back with the tracking change that caused it, and its send job is
enqueued after the commit. Subjects make each notice unique per real-world event, so a repeated
or late event never makes a second e-mail:

=====================  ===========================================
kind                   subject
=====================  ===========================================
shipped                ``shipment:<id>``
out_for_delivery       ``shipment:<id>`` (``:<n>`` after n failed attempts)
failed_attempt         ``shipment:<id>:attempt:<n>`` / ``:pickup``
exception              ``shipment:<id>:<reason>``
delivered              ``shipment:<id>``
still_on_its_way       ``shipment:<id>:quiet:<date of the last event>``
merchant_alert         ``alert:<id>``
=====================  ===========================================
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import String, and_, cast, func, literal, select

from integration.domain.warehousing import ExceptionReason, TrackingStatus
from integration.extensions import db
from integration.models import Alert, Order, OutboundOrder, Shipment, Shop, ShopStatus, TrackingEventRow, Warehouse
from integration.models.base import utcnow
from integration.models.notification import Notification
from integration.notices import outbox as notifications
from integration.shops.alerts import DIGEST_KINDS

log = structlog.get_logger(__name__)


# New estimate after a delay, in business days from the day of the event (carriers rarely give one).
DELAY_EXTRA_DAYS = {"customs_delay": (2, 5), "delivery_delay": (1, 3)}
QUIET_STATUSES = (TrackingStatus.INFO_RECEIVED.value, TrackingStatus.IN_TRANSIT.value, TrackingStatus.PENDING.value,
                  TrackingStatus.EXCEPTION.value)
QUIET_REASONS = (None, "customs_delay", "delivery_delay")
NEW_SHIPMENT_WINDOW = timedelta(days=2)


# -- receivers (connected in integration/wiring.py) ------------------------------------------------


def on_shipment_created(shipment_id: int, **_: Any) -> int | None:
    """A parcel left the warehouse: the "shipped" notice (carrier, tracking, estimate)."""
    found = _load(shipment_id)
    return _shipped_notice(found) if found else None


def on_tracking_changed(shipment_id: int, status: str, reason: str | None = None, **_: Any) -> int | None:
    found = _load(shipment_id)
    if found is None:
        return None
    shipment = found[0]
    if status in (TrackingStatus.INFO_RECEIVED.value, TrackingStatus.IN_TRANSIT.value):
        return _shipped_notice(found)
    if status == TrackingStatus.OUT_FOR_DELIVERY.value:
        attempts = _attempts(shipment.id)
        return _notice("out_for_delivery", f"shipment:{shipment_id}" + (f":{attempts}" if attempts else ""), *found)
    if status == TrackingStatus.ATTEMPT_FAIL.value or (
            status == TrackingStatus.EXCEPTION.value and reason == ExceptionReason.FAILED_ATTEMPT.value):
        attempts = max(_attempts(shipment.id), 1)
        return _notice("failed_attempt", f"shipment:{shipment_id}:attempt:{attempts}", *found,
                       extra={"attempt": attempts, "pickup": False})
    if status == TrackingStatus.AVAILABLE_FOR_PICKUP.value:
        return _notice("failed_attempt", f"shipment:{shipment_id}:pickup", *found, extra={"pickup": True})
    if status == TrackingStatus.DELIVERED.value:
        return _notice("delivered", f"shipment:{shipment_id}", *found,
                       extra={"delivered_at": (shipment.delivered_at or utcnow()).isoformat()})
    if status == TrackingStatus.EXCEPTION.value:
        reason = reason or "delivery_delay"
        if reason != ExceptionReason.RETURNED_TO_SENDER.value:
            # A parcel that is stuck was shipped: make sure the customer heard that first.
            _shipped_notice(found)
        return _notice("exception", f"shipment:{shipment_id}:{reason}", *found, extra=_exception_extra(found, reason))
    return None  # Pending, Expired: nothing to tell


def on_alert_raised(alert_id: int, **_: Any) -> int | None:
    alert = db.session.get(Alert, alert_id)
    return alert_notice(alert) if alert is not None else None


# -- loading and context -------------------------------------------------------------------------------------


def _load(shipment_id: int):
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None:
        return None
    order = db.session.get(Order, shipment.order_id)
    if order is None or not order.email or order.cancelled_at is not None:
        return None
    outbound = db.session.get(OutboundOrder, shipment.outbound_id)
    warehouse = db.session.get(Warehouse, outbound.warehouse_id) if outbound else None
    return shipment, order, warehouse


def _shipped_notice(found) -> int | None:
    """The "shipped" notice, except for a replacement parcel (an exchange's, a reship's): its
    customer got ``replacement_shipped`` for it (integration/returns/replacements.py)."""
    shipment = found[0]
    if db.session.scalar(select(OutboundOrder.purpose).where(OutboundOrder.id == shipment.outbound_id)):
        return None
    return _notice("shipped", f"shipment:{shipment.id}", *found)


def _attempts(shipment_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(TrackingEventRow).where(
            TrackingEventRow.shipment_id == shipment_id,
            (TrackingEventRow.status == TrackingStatus.ATTEMPT_FAIL.value)
            | (TrackingEventRow.reason == ExceptionReason.FAILED_ATTEMPT.value))
    ) or 0


def _notice(kind: str, subject: str, shipment: Shipment, order: Order, warehouse: Warehouse | None,
            extra: dict | None = None) -> int | None:
    context = shipment_context(shipment, order, warehouse)
    context.update(extra or {})
    nid = notifications.enqueue_notice(shipment.shop_id, kind, subject, order.email or "", locale=order.locale,
                                       context=context)
    if nid:
        log.info("notice.created", kind=kind, subject=subject, notification_id=nid)
    return nid


def add_business_days(start: date, days: int) -> date:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def transit_window(warehouse: Warehouse | None, country: str | None) -> tuple[int, int] | None:
    table = (warehouse.transit_days if warehouse else None) or {}
    window = table.get((country or "").upper()) or table.get("*")
    if not window:
        return None
    low, high = (window, window) if isinstance(window, int) else (window[0], window[-1])
    return int(low), int(high)


def delivery_estimate(shipment: Shipment, warehouse: Warehouse | None, country: str | None) -> tuple[date, date] | None:
    """The "shipped" e-mail's estimate: ship day + the warehouse's transit days to ``country``
    (business days); None when the merchant gave no transit time. The feedback's promise-kept rate
    stores the latest date at ship time (integration/feedback/promises.py)."""
    window = transit_window(warehouse, country)
    if not window:
        return None
    shipped = (shipment.shipped_at or shipment.created_at or utcnow()).date()
    return add_business_days(shipped, window[0]), add_business_days(shipped, window[1])


def first_name(order: Order) -> str | None:
    address = order.shipping_address or {}
    name = address.get("first_name") or order.customer_name or address.get("name") or ""
    return name.split()[0] if name.strip() else None


def shipment_context(shipment: Shipment, order: Order, warehouse: Warehouse | None) -> dict[str, Any]:
    names = {line.sku: line.name for line in order.lines if line.sku}
    items = [{"name": names.get(sku) or sku, "quantity": qty} for sku, qty in (shipment.lines or [])]
    context: dict[str, Any] = {
        "shipment_id": shipment.id, "order_id": order.id, "order_name": order.name or f"#{order.external_id}",
        "customer_name": first_name(order), "carrier": shipment.carrier, "tracking_number": shipment.tracking_number,
        "carrier_url": shipment.tracking_url, "parcel_items": items, "status": shipment.status,
        "reason": shipment.status_reason,
        "event_at": (shipment.status_at or shipment.shipped_at or shipment.created_at or utcnow()).isoformat(),
    }
    if warehouse is not None:
        context.update(warehouse_name=warehouse.name or warehouse.code, warehouse_country=warehouse.country_code)
    estimate = delivery_estimate(shipment, warehouse, order.shipping_country)
    if estimate:
        context.update(estimate_from=estimate[0].isoformat(), estimate_to=estimate[1].isoformat())
    event = db.session.execute(
        select(TrackingEventRow).where(TrackingEventRow.shipment_id == shipment.id)
        .order_by(TrackingEventRow.occurred_at.desc()).limit(1)
    ).scalar_one_or_none()
    if event is not None:
        context.update(event_description=(event.description or "")[:300] or None, event_location=event.location)
    return context


def _exception_extra(found, reason: str) -> dict[str, Any]:
    shipment, _order, _warehouse = found
    extra: dict[str, Any] = {"reason": reason}
    action = (notifications.settings_for(shipment.shop_id).exception_actions or {}).get(reason)
    if action:
        extra["shop_action"] = str(action)[:1000]
    if reason in DELAY_EXTRA_DAYS:
        low, high = DELAY_EXTRA_DAYS[reason]
        day = (shipment.status_at or utcnow()).date()
        extra.update(new_estimate_from=add_business_days(day, low).isoformat(),
                     new_estimate_to=add_business_days(day, high).isoformat())
    return extra


# -- periodic ------------------------------------------------------------------------------------------------


def alert_notice(alert: Alert) -> int | None:
    if alert.kind in DIGEST_KINDS:
        return None  # listed in the daily digest instead
    shop = db.session.get(Shop, alert.shop_id)
    if shop is None or shop.status != ShopStatus.INSTALLED or not shop.email:
        return None
    return notifications.enqueue_notice(
        shop.id, "merchant_alert", f"alert:{alert.id}", shop.email, locale=shop.primary_locale,
        context={"alert_kind": alert.kind, "alert_subject": alert.subject, "message": alert.message,
                 "raised_at": alert.created_at.isoformat(), "alert_id": alert.id})


def email_new_alerts(now: datetime | None = None, window: timedelta = timedelta(days=1)) -> int:
    """One e-mail per new alert row to the shop's address (until raise_alert sends a signal, this
    cron finds them; with the signal it is the safety net). Commits."""
    now = now or utcnow()
    emailed = select(Notification.id).where(
        Notification.shop_id == Alert.shop_id, Notification.kind == "merchant_alert",
        Notification.subject == literal("alert:").concat(cast(Alert.id, String)))
    alerts = db.session.execute(
        select(Alert).where(Alert.created_at >= now - window, Alert.resolved_at.is_(None), ~emailed.exists(),
                            Alert.kind.not_in(DIGEST_KINDS))
        .order_by(Alert.id).limit(500)
    ).scalars().all()
    created = sum(1 for alert in alerts if alert_notice(alert))
    db.session.commit()
    return created


def notify_new_shipments(now: datetime | None = None) -> int:
    """Safety net for "shipped": recent shipments with no shipped notice yet (a lost signal, or
    before the shipment_created signal exists). Commits."""
    now = now or utcnow()
    has_notice = select(Notification.id).where(
        Notification.shop_id == Shipment.shop_id, Notification.kind == "shipped",
        Notification.subject == literal("shipment:").concat(cast(Shipment.id, String)))
    ids = db.session.execute(
        select(Shipment.id).join(OutboundOrder, OutboundOrder.id == Shipment.outbound_id)
        .where(Shipment.created_at >= now - NEW_SHIPMENT_WINDOW, Shipment.status.in_(QUIET_STATUSES),
               OutboundOrder.purpose == "", ~has_notice.exists())
        .order_by(Shipment.id).limit(1000)
    ).scalars().all()
    created = sum(1 for sid in ids if on_shipment_created(sid))
    db.session.commit()
    return created


def notify_quiet_shipments(now: datetime | None = None) -> int:
    """Cron: "still on its way" for parcels with no carrier event for the shop's quiet_days."""
    now = now or utcnow()
    basis = func.coalesce(Shipment.status_at, Shipment.shipped_at, Shipment.created_at)
    rows = db.session.execute(
        select(Shipment).where(
            Shipment.status.in_(QUIET_STATUSES), Shipment.delivered_at.is_(None),
            Shipment.created_at >= now - timedelta(days=60), basis <= now - timedelta(days=1),
            and_(Shipment.status_reason.is_(None) | Shipment.status_reason.in_([r for r in QUIET_REASONS if r])),
        ).order_by(Shipment.id).limit(2000)
    ).scalars().all()
    created = 0
    for shipment in rows:
        last = shipment.status_at or shipment.shipped_at or shipment.created_at
        days = notifications.settings_for(shipment.shop_id).quiet_days or 5
        quiet = (now - last).days
        if quiet < days:
            continue
        found = _load(shipment.id)
        if found and _notice("still_on_its_way", f"shipment:{shipment.id}:quiet:{last.date().isoformat()}", *found,
                             extra={"quiet_days": quiet, "basis_at": last.isoformat()}):
            created += 1
    db.session.commit()
    return created


# -- staleness -------------------------------------------------------------------------------------------

# Shipment statuses after which a notice of this kind is old news.
_DELIVERED = "Delivered"


def stale_reason(kind: str, context: dict, status: str, reason: str | None, status_at: datetime | None) -> str | None:
    """Why a tracking notice no longer matches the parcel (None: still true, send it).

    No "out for delivery" once delivered, no "attempt failed" after a later delivery, no "still on
    its way" once anything new happened; a notice about the current state always goes out."""
    if kind == "delivered":
        return None
    if status == _DELIVERED:
        return "stale"
    if kind == "out_for_delivery":
        return None if status == "OutForDelivery" else "stale"
    if kind == "still_on_its_way":
        basis = context.get("basis_at")
        if status_at and basis and status_at.isoformat() > str(basis):
            return "stale"
    return None
