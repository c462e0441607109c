"""Restock suggestions: at most one open per (warehouse, sku, policy).

A computation that wants the same suggestion as the open one leaves it as it is (running twice
writes nothing); one that wants another supersedes the open one and opens the new one; one that
wants none (nothing to order, or the test-sale gate says 'stop' for that SKU in the warehouse's
market) supersedes the open one. Approved, dismissed and superseded rows are never touched. The
partial unique index on open rows makes a racing second computation's insert a no-op.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, text, tuple_, update

from integration.extensions import db
from integration.insights.demand import Key, chunked
from integration.models import RestockSuggestion, TestSaleGate
from integration.models.base import utcnow
from integration.models.upsert import insert

POLICY = "nearstock"
OPEN = "open"


@dataclass(frozen=True)
class Wanted:
    quantity: int
    order_up_to: int
    order_by: date | None
    forecast_daily: float
    lead_time_days: int

    def same_as(self, row) -> bool:
        return (row.quantity, row.order_up_to, row.order_by, row.lead_time_days) == (
            self.quantity, self.order_up_to, self.order_by, self.lead_time_days) and abs(
            row.forecast_daily - self.forecast_daily) < 1e-9


def stopped(shop_id: int) -> set[tuple[str, str]]:
    """(sku, market) pairs whose test sale ended with 'stop'."""
    return {(sku, market) for sku, market in db.session.execute(select(TestSaleGate.sku, TestSaleGate.market).where(
        TestSaleGate.shop_id == shop_id, TestSaleGate.verdict == "stop"))}


def approved_not_shipped(shop_id: int, keys: Collection[Key]) -> dict[Key, int]:
    """Units of approved suggestions not yet turned into an inbound shipment: already ordered,
    so they count as inbound (the ledger's inbound has them once the shipment exists)."""
    found: dict[Key, int] = {}
    for chunk in chunked(keys):
        rows = db.session.execute(select(RestockSuggestion.warehouse_id, RestockSuggestion.sku,
                                         RestockSuggestion.quantity).where(
            RestockSuggestion.shop_id == shop_id, RestockSuggestion.status == "approved",
            RestockSuggestion.inbound_id.is_(None),
            tuple_(RestockSuggestion.warehouse_id, RestockSuggestion.sku).in_(chunk)))
        for warehouse_id, sku, quantity in rows:
            found[(warehouse_id, sku)] = found.get((warehouse_id, sku), 0) + quantity
    return found


def apply(shop_id: int, wanted: Mapping[Key, Wanted | None]) -> dict[str, int]:
    """Make the open suggestions of these series match ``wanted`` (caller commits)."""
    stats = {"opened": 0, "superseded": 0, "kept": 0}
    for chunk in chunked(list(wanted), 1000):
        current = {(r.warehouse_id, r.sku): r for r in db.session.execute(select(RestockSuggestion).where(
            RestockSuggestion.shop_id == shop_id, RestockSuggestion.policy == POLICY,
            RestockSuggestion.status == OPEN,
            tuple_(RestockSuggestion.warehouse_id, RestockSuggestion.sku).in_(chunk))).scalars()}
        retire, fresh = [], []
        for key in chunk:
            want, row = wanted[key], current.get(key)
            if row is not None and want is not None and want.same_as(row):
                stats["kept"] += 1
                continue
            if row is not None:
                retire.append(row.id)
            if want is not None:
                fresh.append({"shop_id": shop_id, "warehouse_id": key[0], "sku": key[1], "policy": POLICY,
                              "quantity": want.quantity, "order_up_to": want.order_up_to,
                              "order_by": want.order_by, "forecast_daily": want.forecast_daily,
                              "lead_time_days": want.lead_time_days, "status": OPEN,
                              "created_at": utcnow(), "updated_at": utcnow()})
        for ids in chunked(retire):
            stats["superseded"] += db.session.execute(update(RestockSuggestion).where(
                RestockSuggestion.id.in_(ids), RestockSuggestion.status == OPEN).values(
                status="superseded", updated_at=utcnow())).rowcount
        if fresh:
            statement = insert(RestockSuggestion).values(fresh).on_conflict_do_nothing(
                index_elements=["warehouse_id", "sku", "policy"], index_where=text("status = 'open'"))
            stats["opened"] += db.session.execute(statement).rowcount
        db.session.expire_all()
    return stats
