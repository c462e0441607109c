"""The parcel back at the warehouse: received, then inspected (graded), units restocked or written off.

The warehouse is asked (``get_return``: a cron poll, and at once when its own "return" webhook
says the RMA moved); the state only moves forward, each step once, so a late, repeated or
reordered report changes nothing. Restocked units are back on the warehouse's shelf: the account's
inventory poll is started at once (``return_restocked`` in integration/wiring.py), so the ledger
and Shopify count them now, not at the next poll round.

Notices: ``return_received`` when the warehouse reports the parcel in. ``return_inspecting`` only
when the inspection is still pending :data:`INSPECTING_NOTICE_AFTER` after receipt (a slow
inspection), so the customer is not left in silence; a prompt inspection goes straight to the
refund or replacement notice, and nobody gets two e-mails about one parcel within minutes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import select

from connectors.errors import PermanentError
from integration import job_catalog, signals
from integration.domain.warehousing import ReturnState as WarehouseReturnState
from integration.domain.warehousing import ReturnStatus
from integration.extensions import db
from integration.models import Return, ReturnLine, ReturnState, Warehouse, WarehouseAccount, WebhookEvent
from integration.models.base import utcnow
from integration.returns import notify
from integration.returns.intake import start
from integration.returns.timeline import record_event
from integration.warehouses.providers import provider_for_warehouse

log = structlog.get_logger(__name__)

INSPECTING_NOTICE_AFTER = timedelta(days=2)
ORDER = {ReturnState.AUTHORIZED: 0, ReturnState.RECEIVED: 1, ReturnState.INSPECTED: 2}


def poll_return(return_id: int) -> str:
    ret = db.session.get(Return, return_id, populate_existing=True)
    if ret is None or ret.status not in ReturnState.OPEN_AT_WAREHOUSE or not ret.rma_external_id:
        return ret.status if ret else "gone"
    warehouse = db.session.get(Warehouse, ret.warehouse_id)
    status = provider_for_warehouse(warehouse).get_return(ret.rma_reference, ret.rma_external_id)
    return record_status(return_id, status)


def record_status(return_id: int, status: ReturnStatus) -> str:
    """Move the return to what the warehouse reports, never backwards; commits."""
    ret = db.session.get(Return, return_id)
    if ret.status not in ReturnState.OPEN_AT_WAREHOUSE:
        return ret.status
    if status.state == WarehouseReturnState.CANCELLED:
        ret.status = ReturnState.CANCELLED
        record_event(ret.id, "cancelled", {"by": "warehouse"})
    elif status.state in (WarehouseReturnState.RECEIVED, WarehouseReturnState.INSPECTED):
        if ret.status == ReturnState.AUTHORIZED:
            _received(ret, status)
        if status.state == WarehouseReturnState.INSPECTED:
            _inspected(ret, status)
        elif ret.received_at is not None and utcnow() - ret.received_at >= INSPECTING_NOTICE_AFTER:
            notify.about_return(ret, "return_inspecting")
    db.session.commit()
    return ret.status


def _received(ret: Return, status: ReturnStatus) -> None:
    counts = _by_sku(status)
    for line in _lines(ret.id):
        line.received = min(line.quantity, counts.get(line.sku, {}).get("quantity", 0))
        if line.sku in counts:
            counts[line.sku]["quantity"] -= line.received
    ret.status, ret.received_at = ReturnState.RECEIVED, utcnow()
    record_event(ret.id, "received", {"units": sum(ln.quantity for ln in status.lines)})
    notify.about_return(ret, "return_received")
    log.info("return.received", return_id=ret.id)


def _inspected(ret: Return, status: ReturnStatus) -> None:
    """Grades per line; restocked units start the inventory poll, written-off ones are recorded."""
    counts = _by_sku(status)
    restocked = written_off = 0
    for line in _lines(ret.id):
        graded = counts.get(line.sku)
        if graded is None:
            continue
        take = min(line.quantity, graded["quantity"])
        sellable = min(take, graded["sellable"])
        graded["quantity"] -= take
        graded["sellable"] -= sellable
        line.received = max(line.received, take)
        line.sellable, line.written_off, line.grade = sellable, take - sellable, graded["grade"]
        restocked += sellable
        written_off += take - sellable
    ret.status, ret.inspected_at = ReturnState.INSPECTED, utcnow()
    record_event(ret.id, "inspected", {"restocked": restocked, "written_off": written_off})
    if restocked:
        account_id = db.session.execute(select(Warehouse.account_id).where(Warehouse.id == ret.warehouse_id)).scalar()
        signals.return_restocked(ret.shop_id, account_id)
    start(ret, job_catalog.SETTLE_RETURN, job_catalog.settle_return_id(ret.id))
    log.info("return.inspected", return_id=ret.id, restocked=restocked, written_off=written_off)


def _by_sku(status: ReturnStatus) -> dict[str, dict[str, Any]]:
    counts: dict[str, dict[str, Any]] = {}
    for line in status.lines:
        entry = counts.setdefault(line.sku, {"quantity": 0, "sellable": 0, "grade": None})
        entry["quantity"] += max(0, line.quantity)
        entry["sellable"] += max(0, line.quantity) if line.sellable else 0
        entry["grade"] = (line.grade or entry["grade"] or None) and str(line.grade or entry["grade"])[:64]
    return counts


def _lines(return_id: int) -> list[ReturnLine]:
    return list(db.session.execute(select(ReturnLine).where(ReturnLine.return_id == return_id)
                                   .order_by(ReturnLine.id)).scalars())


def return_event(event: WebhookEvent, payload: Any) -> None:
    """A warehouse's "return" webhook (HANDLERS (warehouse, "return")): a trigger to read the RMA
    again, for the return whose reference it names, of that account's shop only."""
    if not isinstance(payload, dict) or not isinstance(payload.get("account_id"), int):
        raise PermanentError("warehouse event without an account id")
    account = db.session.get(WarehouseAccount, payload["account_id"])
    reference = payload.get("reference")
    if account is None or not account.active or not isinstance(reference, str) or not reference:
        log.info("return_event.ignored", account_id=payload["account_id"])
        return
    found = db.session.execute(select(Return).where(
        Return.shop_id == account.shop_id, Return.rma_reference == reference[:64])).scalar_one_or_none()
    if found is None:
        log.info("return_event.unknown_reference", reference=reference[:64])
        return
    start(found, job_catalog.POLL_RETURN, job_catalog.poll_return_webhook_id(found.id, event.id))


def open_return_ids(limit: int = 1000) -> list[int]:
    return list(db.session.execute(
        select(Return.id).where(Return.status.in_(ReturnState.OPEN_AT_WAREHOUSE), Return.rma_external_id.is_not(None))
        .order_by(Return.id).limit(limit)).scalars())
