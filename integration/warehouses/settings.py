"""The merchant's settings on each discovered warehouse: name, the country and region it serves,
handling hours, transit days per destination, priority, whether it routes at all, and which
imported Shopify location it stands for (one warehouse per location). A warehouse without a
country cannot be activated: it could not be routed to.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from integration import signals
from integration.extensions import db
from integration.models import Location, Warehouse
from integration.warehouses.setup_validation import (
    ConflictError,
    InvalidError,
    boolean,
    country,
    in_shop,
    integer,
    only_fields,
    short_text,
)
from integration.warehouses.transit_times import parse as parse_transit_days

WAREHOUSE_FIELDS = ("name", "location_shopify_id", "country_code", "region", "handling_hours", "transit_days",
                    "priority", "active")


def get_warehouse(shop_id: int, warehouse_id: int) -> Warehouse:
    return in_shop(Warehouse, shop_id, warehouse_id, "warehouse")


def list_warehouses(shop_id: int) -> list[Warehouse]:
    return list(db.session.execute(select(Warehouse).where(Warehouse.shop_id == shop_id)
                                   .order_by(Warehouse.priority, Warehouse.id)).scalars())


def update_warehouse(shop_id: int, warehouse_id: int, data: Mapping) -> Warehouse:
    only_fields(data, WAREHOUSE_FIELDS)
    warehouse = get_warehouse(shop_id, warehouse_id)
    changes: dict = {}
    if "name" in data:
        changes["name"] = short_text(data["name"], "name", 255, required=True)
    if "country_code" in data:
        changes["country_code"] = country(data["country_code"])
    if "region" in data:
        changes["region"] = short_text(data["region"], "region", 32)
    if "handling_hours" in data:
        changes["handling_hours"] = integer(data["handling_hours"], "handling_hours", 1, 720)
    if "transit_days" in data:
        changes["transit_days"] = parse_transit_days(data["transit_days"])
    if "priority" in data:
        changes["priority"] = integer(data["priority"], "priority", 0, 1000)
    if "active" in data:
        changes["active"] = boolean(data["active"], "active")
    if changes.get("active", warehouse.active) and changes.get("country_code", warehouse.country_code) == "":
        raise InvalidError("country_code", "set the country this warehouse serves before activating it")
    if "location_shopify_id" in data:
        changes["location_shopify_id"] = _location_for(shop_id, warehouse, data["location_shopify_id"])
    if any(getattr(warehouse, key) != value for key, value in changes.items()):
        signals.warehouse_settings_changed(shop_id)  # the storefront's promises follow
    for key, value in changes.items():
        setattr(warehouse, key, value)
    try:
        db.session.commit()
    except IntegrityError:  # mapped concurrently by another request
        db.session.rollback()
        raise ConflictError("location_shopify_id: that location is already mapped to another warehouse",
                            field="location_shopify_id", code="location_taken") from None
    return warehouse


def _location_for(shop_id: int, warehouse: Warehouse, value) -> str | None:
    field = "location_shopify_id"
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isdigit():
        value = f"gid://shopify/Location/{value}"
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidError(field, "must be an imported Shopify location id")
    location = db.session.execute(select(Location).where(
        Location.shop_id == shop_id, Location.shopify_id == value, Location.deleted_at.is_(None))
    ).scalar_one_or_none()
    if location is None:
        raise InvalidError(field, "is not one of this shop's imported Shopify locations", code="unknown_location")
    taken = db.session.execute(select(Warehouse.id).where(
        Warehouse.shop_id == shop_id, Warehouse.location_shopify_id == value, Warehouse.id != warehouse.id)).first()
    if taken:
        raise ConflictError(f"{field}: that location is already mapped to another warehouse", field=field,
                            code="location_taken")
    return value
