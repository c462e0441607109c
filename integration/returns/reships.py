"""Reship an order's lost or damaged parcel (or a missing part) from the local warehouse, in one
step: one replacement outbound per (parcel, reason), however often the merchant clicks or the
carrier's "lost" is reported. A shop whose rules say so reships a parcel the carrier marks lost
automatically (``shipment_tracking_changed`` in integration/wiring.py)."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select

from integration import job_catalog, signals
from integration.domain.returns import ReturnSite, choose_return_warehouse
from integration.domain.warehousing import ExceptionReason, TrackingStatus
from integration.extensions import db, queues
from integration.models import Order, OutboundOrder, Reship, Shipment, Warehouse, WarehouseAccount
from integration.models.base import utcnow
from integration.models.upsert import insert
from integration.returns.replacements import send_replacement
from integration.returns.rules import load_rules
from integration.shops.alerts import raise_alert

log = structlog.get_logger(__name__)

REASONS = ("lost", "damaged", "missing_part")
MAX_LINES = 100
MAX_QUANTITY = 10_000


class ReshipError(ValueError):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.field = status, code, field


def reship(shop_id: int, shipment_id: int, reason: str, *, lines: list[tuple[str, int]] | None = None,
           note: str | None = None, requested_by: str = "merchant") -> Reship:
    """Send the parcel's units (or ``lines`` of it, for a missing part) again; commits. The same
    parcel and reason again returns the first reship. ReshipError for a parcel that is not the
    shop's, a reason or lines the parcel cannot have."""
    if reason not in REASONS:
        raise ReshipError(422, "invalid", f"reason must be one of {', '.join(REASONS)}", "reason")
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None or shipment.shop_id != shop_id:
        raise ReshipError(404, "not_found", "no such shipment", "shipment_id")
    order = db.session.get(Order, shipment.order_id)
    if order.cancelled_at is not None:
        raise ReshipError(409, "cancelled", "the order is cancelled", "shipment_id")
    shipped = {str(sku): int(qty) for sku, qty in shipment.lines or ()}
    wanted = _lines(lines, shipped) if lines is not None else sorted(shipped.items())
    if not wanted:
        raise ReshipError(422, "invalid", "the parcel has no items to send again", "lines")
    reship_id = db.session.execute(
        insert(Reship).values(shop_id=shop_id, order_id=order.id, shipment_id=shipment.id, reason=reason,
                              lines=[[sku, qty] for sku, qty in wanted], status="pending", requested_by=requested_by,
                              note=(note or None) and note[:500], created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["shop_id", "order_id", "shipment_id", "reason"])
        .returning(Reship.id)).scalar()
    if reship_id is None:
        reship_id = db.session.execute(select(Reship.id).where(
            Reship.shop_id == shop_id, Reship.order_id == order.id, Reship.shipment_id == shipment.id,
            Reship.reason == reason)).scalar_one()
    db.session.commit()
    return send(reship_id)


def send(reship_id: int) -> Reship:
    """The reship's replacement outbound, recorded once; commits."""
    row = db.session.get(Reship, reship_id)
    if row.outbound_id is not None:
        return row
    order = db.session.get(Order, row.order_id)
    shipment = db.session.get(Shipment, row.shipment_id)
    warehouse_id = row.warehouse_id or _local_warehouse(order, shipment)
    row.warehouse_id = warehouse_id
    db.session.commit()
    lines_by_sku = {ln.sku: ln.id for ln in order.lines if ln.sku}
    outbound_id = send_replacement(order, warehouse_id, [(lines_by_sku.get(sku), sku, qty) for sku, qty in row.lines],
                                   purpose=f"reship:{row.id}", tag=f"S{row.id}")
    row = db.session.get(Reship, reship_id)
    if outbound_id is None:
        raise_alert(row.shop_id, "reship_short", f"reship:{row.id}",
                    f"The reship for order {order.name or order.external_id} waits for stock at its warehouse",
                    {"reship_id": row.id})
        row.status = "waiting"
    else:
        row.outbound_id, row.status = outbound_id, "sent"
    db.session.commit()
    log.info("reship.recorded", reship_id=row.id, status=row.status, outbound_id=row.outbound_id)
    return row


def _local_warehouse(order: Order, shipment: Shipment) -> int:
    shipped_from = db.session.get(OutboundOrder, shipment.outbound_id).warehouse_id
    rows = db.session.execute(
        select(Warehouse).join(WarehouseAccount, WarehouseAccount.id == Warehouse.account_id)
        .where(Warehouse.shop_id == order.shop_id, Warehouse.active.is_(True), WarehouseAccount.active.is_(True))
    ).scalars().all()
    sites = [ReturnSite(w.id, w.country_code, w.region, w.priority) for w in rows]
    return choose_return_warehouse(sites, order.shipping_country, shipped_from) or shipped_from


def _lines(lines: list[tuple[str, int]], shipped: dict[str, int]) -> list[tuple[str, int]]:
    if len(lines) > MAX_LINES:
        raise ReshipError(422, "invalid", f"at most {MAX_LINES} lines", "lines")
    totals: dict[str, int] = {}
    for sku, qty in lines:
        totals[sku] = totals.get(sku, 0) + qty
    for sku, qty in totals.items():
        if sku not in shipped or not 0 < qty <= shipped[sku]:
            raise ReshipError(422, "invalid", f"{sku[:64]}: not in the parcel, or more than it held", "lines")
    return sorted(totals.items())


# -- the carrier marked a parcel lost -------------------------------------------------------------


def on_tracking_changed(shipment_id: int, status: str, reason: str | None = None, **_: Any) -> None:
    """Receiver of ``shipment_tracking_changed``: a parcel of the order itself (not a replacement)
    marked lost, in a shop that reships automatically, is reshipped by a job after the commit."""
    if status != TrackingStatus.EXCEPTION.value or reason != ExceptionReason.LOST.value:
        return
    shipment = db.session.get(Shipment, shipment_id)
    outbound = db.session.get(OutboundOrder, shipment.outbound_id) if shipment else None
    if outbound is None or outbound.purpose or not load_rules(shipment.shop_id).reship_when_lost:
        return
    signals.on_commit(db.session(), lambda: queues.enqueue(
        "sync", job_catalog.RESHIP_LOST_PARCEL, shipment_id, job_id=job_catalog.reship_lost_id(shipment_id),
        unique=True))


def reship_lost_parcel(shipment_id: int) -> str:
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None:
        return "gone"
    try:
        return reship(shipment.shop_id, shipment_id, "lost", requested_by="carrier").status
    except ReshipError as exc:
        log.info("reship.refused", shipment_id=shipment_id, code=exc.code)
        return exc.code
