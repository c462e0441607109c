"""What the merchant tells the planning: promotions and lead times, validated.

Every function takes the shop id from the caller (the session token's shop) and looks every other
id up within that shop: another shop's warehouse or promotion is "not found". A change marks the
series it affects dirty, so the next computation uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select

from integration.extensions import db
from integration.insights import dirty
from integration.models import LeadTime, Promotion, Warehouse
from integration.models.base import utcnow
from integration.warehouses.setup_validation import InvalidError, in_shop, integer, only_fields, short_text

LEGS = ("production_days", "line_haul_days", "customs_days", "receiving_days")
DEFAULT_LEGS = {"production_days": 7, "line_haul_days": 21, "customs_days": 3, "receiving_days": 2}
DEFAULT_LEAD_TIME = sum(DEFAULT_LEGS.values())  # 33 days
MAX_LEG_DAYS = 365
MAX_OVERRIDES = 1000
MAX_PROMOTION_DAYS = 366
MAX_UPLIFT_PCT = 500
PROMOTION_FIELDS = ("name", "starts_on", "ends_on", "uplift_pct", "sku", "warehouse_id")


def _date(value, field: str) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise InvalidError(field, "must be a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidError(field, "must be a date as YYYY-MM-DD") from None


def _warehouse(shop_id: int, value, field: str = "warehouse_id") -> Warehouse:
    return in_shop(Warehouse, shop_id, integer(value, field, 1, 2**63 - 1), "warehouse")


# -- promotions -----------------------------------------------------------------------------------


def promotions_query(shop_id: int):
    return select(Promotion).where(Promotion.shop_id == shop_id).order_by(Promotion.starts_on.desc(),
                                                                            Promotion.id.desc())


def promotion_json(p: Promotion) -> dict:
    return {"id": p.id, "name": p.name, "starts_on": p.starts_on.isoformat(), "ends_on": p.ends_on.isoformat(),
            "uplift_pct": p.uplift_pct, "sku": p.sku, "warehouse_id": p.warehouse_id}


def create_promotion(shop_id: int, data: Mapping) -> Promotion:
    """A new promotion from the admin's body (caller commits)."""
    only_fields(data, PROMOTION_FIELDS)
    name = short_text(data.get("name"), "name", 120, required=True)
    starts_on = _date(data.get("starts_on"), "starts_on")
    ends_on = _date(data.get("ends_on"), "ends_on")
    if ends_on < starts_on:
        raise InvalidError("ends_on", "must be on or after starts_on")
    if (ends_on - starts_on).days >= MAX_PROMOTION_DAYS:
        raise InvalidError("ends_on", f"a promotion lasts at most {MAX_PROMOTION_DAYS} days")
    uplift = integer(data.get("uplift_pct", 0), "uplift_pct", 0, MAX_UPLIFT_PCT)
    sku = short_text(data.get("sku"), "sku", 255)
    warehouse_id = None if data.get("warehouse_id") is None else _warehouse(shop_id, data["warehouse_id"]).id
    promotion = Promotion(shop_id=shop_id, name=name, starts_on=starts_on, ends_on=ends_on, uplift_pct=uplift,
                          sku=sku, warehouse_id=warehouse_id)
    db.session.add(promotion)
    db.session.flush()
    dirty.mark_shop(shop_id, sku=sku, warehouse_id=warehouse_id)
    return promotion


def delete_promotion(shop_id: int, promotion_id: int) -> None:
    promotion = in_shop(Promotion, shop_id, promotion_id, "promotion")
    dirty.mark_shop(shop_id, sku=promotion.sku, warehouse_id=promotion.warehouse_id)
    db.session.delete(promotion)


# -- lead times -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadTimes:
    """The shop's lead times: per warehouse default, per (warehouse, sku) override."""

    defaults: dict[int, int]
    overrides: dict[tuple[int, str], int]

    def days(self, warehouse_id: int, sku: str) -> int:
        found = self.overrides.get((warehouse_id, sku))
        return found if found is not None else self.defaults.get(warehouse_id, DEFAULT_LEAD_TIME)


def lead_times(shop_id: int) -> LeadTimes:
    defaults, overrides = {}, {}
    for row in db.session.execute(select(LeadTime).where(LeadTime.shop_id == shop_id)).scalars():
        if row.sku is None:
            defaults[row.warehouse_id] = row.total_days
        else:
            overrides[(row.warehouse_id, row.sku)] = row.total_days
    return LeadTimes(defaults, overrides)


def _legs(row) -> dict:
    return {leg: getattr(row, leg) for leg in LEGS}


def lead_times_json(shop_id: int) -> list[dict]:
    """Every warehouse of the shop with its default legs (the built-in ones when unset) and overrides."""
    rows: dict[int, list[LeadTime]] = {}
    for row in db.session.execute(select(LeadTime).where(LeadTime.shop_id == shop_id)
                                  .order_by(LeadTime.warehouse_id, LeadTime.sku)).scalars():
        rows.setdefault(row.warehouse_id, []).append(row)
    out = []
    for w in db.session.execute(select(Warehouse).where(Warehouse.shop_id == shop_id).order_by(Warehouse.id)).scalars():
        mine = rows.get(w.id, [])
        default = next((r for r in mine if r.sku is None), None)
        legs = _legs(default) if default else dict(DEFAULT_LEGS)
        out.append({"warehouse_id": w.id, "name": w.name, "country_code": w.country_code, "default": legs,
                    "total_days": sum(legs.values()), "is_default": default is None,
                    "overrides": [{"sku": r.sku, **_legs(r), "total_days": r.total_days}
                                  for r in mine if r.sku is not None]})
    return out


def _checked_legs(data, where: str) -> dict:
    if not isinstance(data, Mapping):
        raise InvalidError(where, "must be an object")
    only_fields(data, (*LEGS, "sku") if where.startswith("overrides") else LEGS)
    return {leg: integer(data.get(leg), f"{where}.{leg}", 0, MAX_LEG_DAYS) for leg in LEGS}


def put_lead_times(shop_id: int, warehouse_id: int, data: Mapping) -> None:
    """Replace a warehouse's lead times: ``{"default": {legs}, "overrides": [{"sku", legs}, …]}``
    (both optional: a missing default goes back to the built-in one; caller commits)."""
    warehouse = in_shop(Warehouse, shop_id, warehouse_id, "warehouse")
    only_fields(data, ("default", "overrides"))
    default = None if data.get("default") is None else _checked_legs(data["default"], "default")
    raw = data.get("overrides") or []
    if not isinstance(raw, list) or len(raw) > MAX_OVERRIDES:
        raise InvalidError("overrides", f"must be a list of at most {MAX_OVERRIDES} SKUs")
    overrides: dict[str, dict] = {}
    for i, item in enumerate(raw):
        legs = _checked_legs(item, f"overrides[{i}]")
        sku = short_text(item.get("sku"), f"overrides[{i}].sku", 255, required=True)
        if sku in overrides:
            raise InvalidError(f"overrides[{i}].sku", "is listed twice")
        overrides[sku] = legs
    db.session.execute(delete(LeadTime).where(LeadTime.shop_id == shop_id, LeadTime.warehouse_id == warehouse.id))
    now = utcnow()
    wanted = ([(None, default)] if default else []) + list(overrides.items())
    db.session.add_all(LeadTime(shop_id=shop_id, warehouse_id=warehouse.id, sku=sku, created_at=now, updated_at=now,
                                **legs) for sku, legs in wanted)
    dirty.mark_shop(shop_id, warehouse_id=warehouse.id)
