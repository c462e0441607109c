"""Inbound shipments (the first leg): an approved restock suggestion becomes an advance shipping
notice at the warehouse, tracked until the stock is received.

Exactly once, like outbound orders (:mod:`integration.orders.outbound`): the shipment's
``reference`` is ours, derived from the suggestion and unique in the table, so a second approve
finds the first; every connector's ``create_inbound`` returns the shipment it already created under
that reference (WINIT and Goodcang look it up after a refused or repeated create, ShipBob before
creating), so a create job that runs twice, or dies after the warehouse answered, announces one
shipment. State moves forward only; the attempt is counted before the call.

Intake is booked with the notice itself: every provider here takes the expected arrival on the ASN
(WINIT ``expectedSendWarehouseTime``, Goodcang ``eta_date`` - required, ShipBob
``expected_arrival_date`` - required) and none has a separate appointment call, so
``intake_booked_for`` is that date, at least :data:`INTAKE_NOTICE_DAYS` ahead (the warehouses'
rule of thumb in issue 22: "book the warehouse's intake a week ahead").
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from connectors.errors import PermanentError, RetryableError
from integration import job_catalog, signals
from integration.domain.warehousing import Capability, InboundRequest, Line
from integration.extensions import db, queues
from integration.insights import inbound_levels
from integration.models import (
    InboundShipmentRow,
    RestockSuggestion,
    Shop,
    ShopStatus,
    Warehouse,
    WarehouseAccount,
)
from integration.models.base import utcnow
from integration.shops.alerts import raise_alert
from integration.stock.push import ledger_changed
from integration.warehouses.providers import provider_class, provider_for_warehouse

log = structlog.get_logger(__name__)

INTAKE_NOTICE_DAYS = 7
MAX_AHEAD_DAYS = 365
STATUSES = ("pending", "created", "in_transit", "received", "failed", "cancelled")
NOT_SUPPORTED = {
    "fba": "Amazon FBA takes inbound shipments through Send to Amazon in Seller Central; "
           "Nearstock cannot announce them",
}


class InboundNotFound(LookupError):
    """No such suggestion or inbound shipment in this shop."""


class InboundRefused(ValueError):
    """The request cannot be carried out as asked; ``field`` names the input at fault."""

    def __init__(self, message: str, *, code: str = "refused", field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.field = code, field


def inbound_reference(suggestion_id: int) -> str:
    """Stable and unique: the warehouse's idempotency key for this suggestion's shipment."""
    return f"NSIN{suggestion_id:08d}"


def _provider_name(warehouse: Warehouse) -> str:
    return db.session.get(WarehouseAccount, warehouse.account_id).provider


def _check_capability(warehouse: Warehouse, capability: Capability, what: str) -> None:
    name = _provider_name(warehouse)
    try:
        capabilities = provider_class(name).capabilities
    except (KeyError, ImportError):
        capabilities = frozenset()
    if capability not in capabilities:
        message = NOT_SUPPORTED.get(name) if capability == Capability.INBOUND else None
        raise InboundRefused(message or f"{name} does not {what} through Nearstock", code="unsupported")


def _arrival(suggestion: RestockSuggestion, expected_at: datetime | None, now: datetime) -> datetime:
    earliest = now.date() + timedelta(days=INTAKE_NOTICE_DAYS)
    if expected_at is None:
        day = max(earliest, now.date() + timedelta(days=max(0, suggestion.lead_time_days or 0)))
        return datetime.combine(day, time(12, 0), tzinfo=UTC)
    if expected_at.tzinfo is None:
        expected_at = expected_at.replace(tzinfo=UTC)
    if expected_at.date() < earliest:
        raise InboundRefused(f"the warehouse's intake must be booked {INTAKE_NOTICE_DAYS} days ahead: "
                             f"expected_at must be {earliest.isoformat()} or later",
                             code="invalid", field="expected_at")
    if expected_at.date() > now.date() + timedelta(days=MAX_AHEAD_DAYS):
        raise InboundRefused(f"expected_at must be within {MAX_AHEAD_DAYS} days", code="invalid", field="expected_at")
    return expected_at


def approve_suggestion(shop_id: int, suggestion_id: int, *, expected_at: datetime | None = None,
                       now: datetime | None = None) -> InboundShipmentRow:
    """The suggestion's inbound shipment: created (pending, its creation at the warehouse enqueued)
    or, when the suggestion was approved before, the one it already has."""
    now = now or utcnow()
    session = db.session
    suggestion = session.execute(select(RestockSuggestion).where(
        RestockSuggestion.id == suggestion_id, RestockSuggestion.shop_id == shop_id)).scalar_one_or_none()
    if suggestion is None:
        raise InboundNotFound("no such suggestion")
    if suggestion.inbound_id is not None:
        return session.get(InboundShipmentRow, suggestion.inbound_id)
    if suggestion.status != "open":
        raise InboundRefused(f"the suggestion is {suggestion.status}, not open", code="not_open")
    if suggestion.quantity <= 0:
        raise InboundRefused("the suggestion asks for no units", code="nothing_to_ship")
    warehouse = session.get(Warehouse, suggestion.warehouse_id)
    _check_capability(warehouse, Capability.INBOUND, "accept inbound shipments")
    arrival = _arrival(suggestion, expected_at, now)
    inbound = InboundShipmentRow(
        shop_id=shop_id, warehouse_id=warehouse.id, reference=inbound_reference(suggestion.id), status="pending",
        lines=[[suggestion.sku, int(suggestion.quantity)]], expected_at=arrival,
        intake_booked_for=arrival.date(), suggestion_id=suggestion.id, attempts=0)
    try:
        # The conditional update is the lock: of two concurrent approvals one wins, the other
        # waits for its commit, then updates nothing and returns the winner's shipment.
        won = session.execute(update(RestockSuggestion).where(
            RestockSuggestion.id == suggestion.id, RestockSuggestion.status == "open",
            RestockSuggestion.inbound_id.is_(None)).values(status="approved", approved_at=now)).rowcount
        if won:
            session.add(inbound)
            session.flush()
            session.execute(update(RestockSuggestion).where(RestockSuggestion.id == suggestion.id)
                            .values(inbound_id=inbound.id))
            session.expire(suggestion)
            skus = inbound_levels.add_pending(shop_id, warehouse.id, inbound.lines, 1)
            ledger_changed(shop_id, skus, push=False)
            signals.on_commit(session(), lambda: enqueue_create(inbound.id))
        session.commit()
    except IntegrityError:  # the same reference inserted meanwhile: that one is the shipment
        session.rollback()
        won = 0
    if not won:
        session.rollback()
        existing = session.execute(select(InboundShipmentRow).where(
            InboundShipmentRow.reference == inbound_reference(suggestion_id))).scalar_one_or_none()
        if existing is None:
            raise InboundRefused("the suggestion is no longer open", code="not_open")
        return existing
    log.info("inbound.approved", shop_id=shop_id, suggestion_id=suggestion_id, inbound_id=inbound.id,
             reference=inbound.reference)
    return inbound


def enqueue_create(inbound_id: int) -> None:
    queues.enqueue("sync", job_catalog.CREATE_INBOUND, inbound_id,
                   job_id=job_catalog.create_inbound_id(inbound_id), unique=True)


def create_at_warehouse(inbound_id: int) -> str:
    """Announce a pending shipment to its warehouse (the job; safe to run twice or to die half-way)."""
    session = db.session
    inbound = session.get(InboundShipmentRow, inbound_id, populate_existing=True)
    if inbound is None or inbound.status != "pending":
        return inbound.status if inbound else "gone"
    shop = session.get(Shop, inbound.shop_id)
    if shop is None or shop.status != ShopStatus.INSTALLED:
        return inbound.status  # stays pending: sent if the shop comes back
    warehouse = session.get(Warehouse, inbound.warehouse_id)
    request = InboundRequest(reference=inbound.reference, warehouse_code=warehouse.code,
                             lines=tuple(Line(str(sku), int(qty)) for sku, qty in inbound.lines),
                             expected_at=inbound.expected_at)
    inbound.attempts += 1
    session.commit()
    try:
        result = provider_for_warehouse(warehouse).create_inbound(request)
    except PermanentError as exc:
        return _fail(inbound, warehouse, str(exc))
    except RetryableError as exc:
        inbound.last_error = str(exc)[:2000]
        session.commit()
        raise
    # Forward only: a concurrent run that already moved it on keeps its state.
    moved = session.execute(update(InboundShipmentRow).where(
        InboundShipmentRow.id == inbound_id, InboundShipmentRow.status == "pending").values(
        status="created", external_id=result.external_id, last_error=None, updated_at=utcnow())).rowcount
    session.commit()
    session.expire(inbound)  # written by the statement above (the session keeps objects past commit)
    log.info("inbound.created", inbound_id=inbound_id, reference=request.reference, external_id=result.external_id,
             moved=bool(moved))
    return session.get(InboundShipmentRow, inbound_id).status


def _fail(inbound: InboundShipmentRow, warehouse: Warehouse, why: str) -> str:
    inbound.status = "failed"
    inbound.last_error = why[:2000]
    db.session.flush()
    skus = inbound_levels.add_pending(inbound.shop_id, warehouse.id, inbound.lines, -1)
    ledger_changed(inbound.shop_id, skus, push=False)
    raise_alert(inbound.shop_id, "inbound_failed", f"inbound:{inbound.id}",
                f"Inbound shipment {inbound.reference} could not be announced to "
                f"{warehouse.name or warehouse.code}: {why}",
                {"inbound_id": inbound.id, "reference": inbound.reference})
    db.session.commit()
    log.error("inbound.failed", inbound_id=inbound.id, error=why)
    return inbound.status


def request_cancel(shop_id: int, inbound_id: int) -> InboundShipmentRow:
    """The merchant withdraws a shipment the warehouse knows: checked here, done by the job."""
    inbound = shop_inbound(shop_id, inbound_id)
    if inbound.status == "cancelled":
        return inbound
    if inbound.status != "created":
        raise InboundRefused(f"a shipment that is {inbound.status} cannot be cancelled", code="not_cancellable")
    _check_capability(db.session.get(Warehouse, inbound.warehouse_id), Capability.CANCEL_INBOUND,
                      "let an announced inbound shipment be cancelled")
    queues.enqueue("sync", job_catalog.CANCEL_INBOUND, inbound.id,
                   job_id=job_catalog.cancel_inbound_id(inbound.id), unique=True)
    return inbound


def shop_inbound(shop_id: int, inbound_id: int) -> InboundShipmentRow:
    inbound = db.session.execute(select(InboundShipmentRow).where(
        InboundShipmentRow.id == inbound_id, InboundShipmentRow.shop_id == shop_id)).scalar_one_or_none()
    if inbound is None:
        raise InboundNotFound("no such inbound shipment")
    return inbound
