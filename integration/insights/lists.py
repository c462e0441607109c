"""The admin's lists of insights - demand shifts, restock suggestions, transfer suggestions - as
unexecuted, ordered queries (the view pages them), each filterable by market (the warehouse's
country) and warehouse, and sortable by a fixed set of columns; and each row as the page shows it.

Every query is scoped to one shop; a sort key outside the allowlist never reaches SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import aliased

from integration.models import DemandShift, RestockSuggestion, TransferSuggestion, Warehouse

KINDS = ("shifts", "suggestions", "transfers")
STATUSES = {
    "shifts": ("open", "ended"),
    "suggestions": ("open", "approved", "dismissed", "superseded"),
    "transfers": ("open", "accepted", "dismissed", "superseded"),
}
# ?sort= name -> column; "-name" sorts descending. The first is the default (descending).
SORTS = {
    "shifts": {"detected_on": DemandShift.detected_on, "change_pct": DemandShift.change_pct,
               "sku": DemandShift.sku, "recent_daily": DemandShift.recent_daily},
    "suggestions": {"order_by": RestockSuggestion.order_by, "quantity": RestockSuggestion.quantity,
                    "sku": RestockSuggestion.sku, "forecast_daily": RestockSuggestion.forecast_daily,
                    "created_at": RestockSuggestion.created_at},
    "transfers": {"expected_arrival": TransferSuggestion.expected_arrival, "quantity": TransferSuggestion.quantity,
                  "sku": TransferSuggestion.sku, "created_at": TransferSuggestion.created_at},
}
DEFAULT_SORT = {"shifts": "-detected_on", "suggestions": "order_by", "transfers": "expected_arrival"}
MODELS = {"shifts": DemandShift, "suggestions": RestockSuggestion, "transfers": TransferSuggestion}


@dataclass(frozen=True)
class Filters:
    market: str | None = None  # ISO country code of the warehouse (either end of a transfer)
    warehouse_id: int | None = None  # already checked to be the shop's
    status: str | None = None  # None: every status


def sort_names(kind: str) -> list[str]:
    """Every accepted ``?sort=`` value of a list, for the error message."""
    return [f"{prefix}{name}" for name in SORTS[kind] for prefix in ("", "-")]


def _order(kind: str, sort: str):
    descending = sort.startswith("-")
    column = SORTS[kind][sort.lstrip("-")]
    model = MODELS[kind]
    # The id breaks ties so that a page boundary never repeats or skips a row.
    return (column.desc(), model.id.desc()) if descending else (column.asc(), model.id.asc())


def query(kind: str, shop_id: int, filters: Filters, sort: str) -> Select:
    """The shop's rows of one list, filtered and ordered; rows are ``(insight, warehouse[, warehouse])``."""
    model = MODELS[kind]
    if kind == "transfers":
        source, target = aliased(Warehouse), aliased(Warehouse)
        stmt = (select(model, source, target)
                .join(source, source.id == model.from_warehouse_id)
                .join(target, target.id == model.to_warehouse_id))
        if filters.market:
            stmt = stmt.where(or_(source.country_code == filters.market, target.country_code == filters.market))
        if filters.warehouse_id:
            stmt = stmt.where(or_(model.from_warehouse_id == filters.warehouse_id,
                                  model.to_warehouse_id == filters.warehouse_id))
    else:
        stmt = select(model, Warehouse).join(Warehouse, Warehouse.id == model.warehouse_id)
        if filters.market:
            stmt = stmt.where(Warehouse.country_code == filters.market)
        if filters.warehouse_id:
            stmt = stmt.where(model.warehouse_id == filters.warehouse_id)
    stmt = stmt.where(model.shop_id == shop_id)
    if filters.status == "ended" and kind == "shifts":
        stmt = stmt.where(model.ended_on.is_not(None))
    elif filters.status == "open" and kind == "shifts":
        stmt = stmt.where(model.ended_on.is_(None))
    elif filters.status:
        stmt = stmt.where(model.status == filters.status)
    return stmt.order_by(*_order(kind, sort))


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value else None


def warehouse_json(w: Warehouse) -> dict:
    return {"id": w.id, "name": w.name or w.code, "country_code": w.country_code}


def shift_json(row) -> dict:
    s, w = row[0], row[1]
    return {"id": s.id, "sku": s.sku, "warehouse": warehouse_json(w), "direction": s.direction,
            "detected_on": _iso(s.detected_on), "change_pct": s.change_pct, "baseline_daily": s.baseline_daily,
            "recent_daily": s.recent_daily, "reason": s.reason, "ended_on": _iso(s.ended_on)}


def suggestion_json(row) -> dict:
    s, w = row[0], row[1]
    return {"id": s.id, "sku": s.sku, "warehouse": warehouse_json(w), "policy": s.policy, "quantity": s.quantity,
            "order_up_to": s.order_up_to, "order_by": _iso(s.order_by), "forecast_daily": s.forecast_daily,
            "lead_time_days": s.lead_time_days, "status": s.status, "inbound_id": s.inbound_id,
            "approved_at": _iso(s.approved_at), "created_at": _iso(s.created_at)}


def transfer_json(row) -> dict:
    t, source, target = row[0], row[1], row[2]
    return {"id": t.id, "sku": t.sku, "from_warehouse": warehouse_json(source), "to_warehouse": warehouse_json(target),
            "quantity": t.quantity, "expected_arrival": _iso(t.expected_arrival), "status": t.status,
            "created_at": _iso(t.created_at)}


TO_JSON = {"shifts": shift_json, "suggestions": suggestion_json, "transfers": transfer_json}
