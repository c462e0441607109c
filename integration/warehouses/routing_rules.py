"""The merchant's routing exclusions: never ship a SKU, a destination country, or a SKU to a
country from a given warehouse. Allocation reads them; this module only lists, adds (the same rule
twice is one rule) and removes them, always within the caller's shop.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, select

from integration.extensions import db
from integration.models import RoutingRule
from integration.models.base import MAX_ID
from integration.warehouses.settings import get_warehouse
from integration.warehouses.setup_validation import (
    InvalidError,
    NotFoundError,
    country,
    integer,
    only_fields,
    short_text,
)


def list_rules(shop_id: int) -> list[RoutingRule]:
    return list(db.session.execute(select(RoutingRule).where(RoutingRule.shop_id == shop_id)
                                   .order_by(RoutingRule.id)).scalars())


def create_rule(shop_id: int, data: Mapping) -> tuple[RoutingRule, bool]:
    """Never ship ``sku`` (or anything) to ``country_code`` (or anywhere) from the warehouse.
    The same rule twice is one rule: returns (rule, created)."""
    only_fields(data, ("warehouse_id", "sku", "country_code"))
    warehouse_id = integer(data.get("warehouse_id"), "warehouse_id", 1, MAX_ID)
    sku = short_text(data.get("sku"), "sku", 255)
    cc = country(data.get("country_code") or None, required=False)
    if sku is None and cc is None:
        raise InvalidError("sku", "give a sku, a country_code or both")
    try:
        warehouse = get_warehouse(shop_id, warehouse_id)
    except NotFoundError:
        raise InvalidError("warehouse_id", "no such warehouse", code="unknown_warehouse") from None
    same = db.session.execute(select(RoutingRule).where(
        RoutingRule.shop_id == shop_id, RoutingRule.warehouse_id == warehouse.id,
        RoutingRule.sku.is_(None) if sku is None else RoutingRule.sku == sku,
        RoutingRule.country_code.is_(None) if cc is None else RoutingRule.country_code == cc)).scalars().first()
    if same:
        return same, False
    rule = RoutingRule(shop_id=shop_id, warehouse_id=warehouse.id, sku=sku, country_code=cc)
    db.session.add(rule)
    db.session.commit()
    return rule, True


def delete_rule(shop_id: int, rule_id: int) -> None:
    deleted = db.session.execute(delete(RoutingRule).where(
        RoutingRule.id == rule_id, RoutingRule.shop_id == shop_id)).rowcount
    if not deleted:
        db.session.rollback()
        raise NotFoundError("no such routing rule")
    db.session.commit()
