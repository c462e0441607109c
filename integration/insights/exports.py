"""The Insights page's CSV exports: every restock suggestion, demand shift, transfer suggestion or
test-sale gate of a shop (with the page's market and warehouse filters), read in keyset batches
so memory stays flat however many rows. Cells are made spreadsheet-safe by :mod:`integration.csv_export`.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from integration.csv_export import csv_line
from integration.extensions import db
from integration.insights import lists
from integration.models import TestSaleGate, Warehouse

EXPORTS = ("suggestions", "shifts", "transfers", "gates")
BATCH = 2000

HEADERS = {
    "shifts": ["shift_id", "sku", "warehouse", "market", "direction", "detected_on", "change_pct", "baseline_daily",
               "recent_daily", "reason", "ended_on"],
    "suggestions": ["suggestion_id", "sku", "warehouse", "market", "policy", "quantity", "order_up_to", "order_by",
                    "forecast_daily", "lead_time_days", "status", "inbound_id", "approved_at"],
    "transfers": ["transfer_id", "sku", "from_warehouse", "from_market", "to_warehouse", "to_market", "quantity",
                  "expected_arrival", "status"],
    "gates": ["gate_id", "sku", "market", "batch_size", "started_on", "sessions", "orders", "conversion",
              "bad_review_rate", "return_rate", "verdict", "evaluated_at"],
}


def _cells(what: str, row) -> list:
    if what == "gates":
        g = row
        return [g.id, g.sku, g.market, g.batch_size, g.started_on.isoformat(), g.sessions, g.orders, g.conversion,
                g.bad_review_rate, g.return_rate, g.verdict, g.evaluated_at.isoformat() if g.evaluated_at else None]
    item = lists.TO_JSON[what](row)
    if what == "shifts":
        w = item["warehouse"]
        return [item["id"], item["sku"], w["name"], w["country_code"], item["direction"], item["detected_on"],
                item["change_pct"], item["baseline_daily"], item["recent_daily"], item["reason"], item["ended_on"]]
    if what == "suggestions":
        w = item["warehouse"]
        return [item["id"], item["sku"], w["name"], w["country_code"], item["policy"], item["quantity"],
                item["order_up_to"], item["order_by"], item["forecast_daily"], item["lead_time_days"],
                item["status"], item["inbound_id"], item["approved_at"]]
    source, target = item["from_warehouse"], item["to_warehouse"]
    return [item["id"], item["sku"], source["name"], source["country_code"], target["name"], target["country_code"],
            item["quantity"], item["expected_arrival"], item["status"]]


def _statement(what: str, shop_id: int, filters: lists.Filters):
    if what == "gates":
        stmt = select(TestSaleGate).where(TestSaleGate.shop_id == shop_id)
        if filters.market:
            stmt = stmt.where(TestSaleGate.market == filters.market)
        if filters.warehouse_id:  # a gate is per market: the warehouse's
            stmt = stmt.where(TestSaleGate.market == select(Warehouse.country_code)
                              .where(Warehouse.id == filters.warehouse_id).scalar_subquery())
        return stmt, TestSaleGate.id
    model = lists.MODELS[what]
    # Keyset batches need the id order, whatever the page's sort.
    return lists.query(what, shop_id, filters, "sku").order_by(None), model.id


def export_csv(shop_id: int, what: str, filters: lists.Filters, batch: int = BATCH) -> Iterator[str]:
    """The header line, then one line per row, oldest id first."""
    yield csv_line(HEADERS[what])
    stmt, key = _statement(what, shop_id, filters)
    scalars = what == "gates"
    after = 0
    while True:
        result = db.session.execute(stmt.where(key > after).order_by(key).limit(batch))
        rows = list(result.scalars() if scalars else result)
        if not rows:
            return
        for row in rows:
            yield csv_line(_cells(what, row))
        after = (rows[-1] if scalars else rows[-1][0]).id
