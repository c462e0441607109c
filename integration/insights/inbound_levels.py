"""Our inbound shipments in the stock ledger (``stock_levels.inbound`` and ``inbound_eta``).

The warehouse's own stock report counts an inbound shipment as soon as the warehouse knows it, and
stops counting it unit by unit as it is put away (WINIT ``pipelineInventory``, Goodcang ``onway``,
ShipBob ``awaiting_quantity``, FBA's three inbound quantities; the emulators do the same), together
with shipments announced outside Nearstock. So the ledger's inbound is::

    reported + ours not yet announced to the warehouse (pending)

Adding ours once the warehouse knows them would count them twice; so would keeping them after they
arrived (a partly received shipment is partly on hand already). No connector reports an arrival
date, so ``inbound_eta`` is the earliest expected arrival of our open shipments (the report's when
it has one).

The stock sync applies this to every record (:func:`contribution`); between syncs, a shipment
entering or leaving "pending" without reaching the warehouse moves the row by its quantity
(:func:`add_pending`). One announced to the warehouse keeps its units in the row until the next
report, which then counts them itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select, update

from integration.extensions import db
from integration.models import InboundShipmentRow, StockLevel
from integration.models.upsert import insert

PENDING = "pending"
AT_WAREHOUSE = ("created", "in_transit")
OPEN = (PENDING, *AT_WAREHOUSE)


@dataclass(frozen=True)
class Ours:
    pending: int = 0  # units of our shipments not yet announced to the warehouse
    eta: datetime | None = None  # the earliest expected arrival of our open shipments

    def inbound(self, reported: int) -> int:
        return reported + self.pending


def contribution(warehouse_id: int, skus: Sequence[str]) -> dict[str, Ours]:
    """sku -> our open inbound at ``warehouse_id`` (only SKUs that have some)."""
    if not skus:
        return {}
    wanted = set(skus)
    totals: dict[str, list] = {}  # sku -> [pending, earliest eta]
    rows = db.session.execute(select(InboundShipmentRow.status, InboundShipmentRow.lines,
                                     InboundShipmentRow.expected_at).where(
        InboundShipmentRow.warehouse_id == warehouse_id, InboundShipmentRow.status.in_(OPEN)))
    for status, lines, expected_at in rows:
        for sku, qty in lines or ():
            if sku not in wanted:
                continue
            t = totals.setdefault(sku, [0, None])
            if status == PENDING:
                t[0] += int(qty)
            if expected_at is not None and (t[1] is None or expected_at < t[1]):
                t[1] = expected_at
    return {sku: Ours(t[0], t[1]) for sku, t in totals.items()}


def add_pending(shop_id: int, warehouse_id: int, lines: Iterable[Sequence], sign: int) -> list[str]:
    """A shipment entered (``sign`` 1) or left (-1) "pending": its units join or leave the
    ledger's inbound now, in the caller's transaction, and the ETA follows our open shipments.
    A SKU the warehouse never reported gets its row (on_hand 0, no snapshot stamp: the first
    report wins). Returns the SKUs touched (for ``ledger_changed``)."""
    table = StockLevel.__table__
    qty_by_sku: dict[str, int] = {}
    for sku, qty in lines:
        qty_by_sku[str(sku)] = qty_by_sku.get(str(sku), 0) + int(qty)
    if sign > 0:
        db.session.execute(insert(table).values([
            {"shop_id": shop_id, "warehouse_id": warehouse_id, "sku": sku, "on_hand": 0, "reserved": 0, "inbound": 0}
            for sku in sorted(qty_by_sku)]).on_conflict_do_nothing(index_elements=["warehouse_id", "sku"]))
    ours = contribution(warehouse_id, list(qty_by_sku))
    for sku, qty in sorted(qty_by_sku.items()):
        delta = sign * qty
        db.session.execute(update(table).where(table.c.warehouse_id == warehouse_id, table.c.sku == sku).values(
            inbound=case((table.c.inbound + delta < 0, 0), else_=table.c.inbound + delta),
            inbound_eta=ours[sku].eta if sku in ours else None))
    return sorted(qty_by_sku)
