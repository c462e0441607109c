"""Restock suggestions: at most one open per (warehouse, sku, policy).

A computation that wants the same suggestion as the open one leaves it as it is (running twice
writes nothing); one that wants another supersedes the open one and opens the new one; one that
wants none (nothing to order, or the test-sale gate says 'stop' for that SKU in the warehouse's
market) supersedes the open one. Approved, dismissed and superseded rows are never touched. The
partial unique index on open rows makes a racing second computation's insert a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, text, update

from integration.extensions import db
from integration.insights.demand import Key, chunked
from integration.models import RestockSuggestion, TestSaleGate
from integration.models.base import utcnow
from integration.models.upsert import insert_rows

POLICY = "nearstock"
OPEN = "open"


@dataclass(frozen=True)
class Wanted:
    quantity: int
    order_up_to: int
    order_by: date | None
    forecast_daily: float
    lead_time_days: int

    def same_as(self, row: tuple) -> bool:
        """``row``: (id, quantity, order_up_to, order_by, forecast_daily, lead_time_days)."""
        _, quantity, order_up_to, order_by, forecast_daily, lead_time_days = row
        return (quantity, order_up_to, order_by, lead_time_days) == (
            self.quantity, self.order_up_to, self.order_by, self.lead_time_days) and abs(
            forecast_daily - self.forecast_daily) < 1e-9


def stopped(shop_id: int) -> set[tuple[str, str]]:
    """(sku, market) pairs whose test sale ended with 'stop'."""
    return {(sku, market) for sku, market in db.session.execute(select(TestSaleGate.sku, TestSaleGate.market).where(
        TestSaleGate.shop_id == shop_id, TestSaleGate.verdict == "stop"))}


def approved_not_shipped(shop_id: int) -> dict[Key, int]:
    """Units of approved suggestions not yet turned into an inbound shipment: already ordered,
    so they count as inbound (the ledger's inbound has them once the shipment exists). Few rows:
    read once per run."""
    found: dict[Key, int] = {}
    for warehouse_id, sku, quantity in db.session.execute(select(
            RestockSuggestion.warehouse_id, RestockSuggestion.sku, RestockSuggestion.quantity).where(
            RestockSuggestion.shop_id == shop_id, RestockSuggestion.status == "approved",
            RestockSuggestion.inbound_id.is_(None))):
        found[(warehouse_id, sku)] = found.get((warehouse_id, sku), 0) + quantity
    return found


def open_rows(shop_id: int, conditions: list) -> dict[Key, tuple]:
    """The open suggestions (id, quantity, order_up_to, order_by, forecast_daily, lead_time_days)
    of the rows ``conditions`` select."""
    found: dict[Key, tuple] = {}
    connection = db.session.connection()
    for condition in conditions:
        for row in connection.execute(select(
                RestockSuggestion.warehouse_id, RestockSuggestion.sku, RestockSuggestion.id, RestockSuggestion.quantity,
                RestockSuggestion.order_up_to, RestockSuggestion.order_by, RestockSuggestion.forecast_daily,
                RestockSuggestion.lead_time_days).where(
                RestockSuggestion.shop_id == shop_id, RestockSuggestion.policy == POLICY,
                RestockSuggestion.status == OPEN, condition)).all():
            found[(row[0], row[1])] = tuple(row[2:])
    return found


def apply(shop_id: int, wanted: Mapping[Key, Wanted | None], current: Mapping[Key, tuple]) -> dict[str, int]:
    """Make the open suggestions of these series (``current``: :func:`open_rows`) match
    ``wanted`` (caller commits)."""
    stats = {"opened": 0, "superseded": 0, "kept": 0}
    retire, fresh = [], []
    for key, want in wanted.items():
        row = current.get(key)
        if row is not None and want is not None and want.same_as(row):
            stats["kept"] += 1
            continue
        if row is not None:
            retire.append(row[0])
        if want is not None:
            fresh.append({"shop_id": shop_id, "warehouse_id": key[0], "sku": key[1], "policy": POLICY,
                          "quantity": want.quantity, "order_up_to": want.order_up_to, "order_by": want.order_by,
                          "forecast_daily": want.forecast_daily, "lead_time_days": want.lead_time_days,
                          "status": OPEN, "created_at": utcnow(), "updated_at": utcnow()})
    for ids in chunked(retire):
        stats["superseded"] += db.session.execute(update(RestockSuggestion).where(
            RestockSuggestion.id.in_(ids), RestockSuggestion.status == OPEN).values(
            status="superseded", updated_at=utcnow()), execution_options={"synchronize_session": False}).rowcount
    if fresh:
        stats["opened"] += len(insert_rows(RestockSuggestion, fresh, lambda statement: statement.on_conflict_do_nothing(
            index_elements=["warehouse_id", "sku", "policy"], index_where=text("status = 'open'")).returning(
            RestockSuggestion.id)).all())
    return stats
