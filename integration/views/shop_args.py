"""Query-string parameters that name one of the shop's own rows, checked against ``g.shop``."""

from __future__ import annotations

from flask import g, request
from sqlalchemy import select

from integration.errors import APIError
from integration.extensions import db
from integration.models import Warehouse
from integration.views.edge_input import database_id


def warehouse_arg(name: str = "warehouse") -> int | None:
    """The id in ``?warehouse=``, or None when absent; 400 when not an id, 404 when it is not one of
    this shop's warehouses (another shop's id reads as missing)."""
    raw = request.args.get(name, "")
    if raw == "":
        return None
    try:
        warehouse_id = database_id(raw)
    except ValueError:
        raise APIError(400, "invalid_warehouse", f"{name} must be a warehouse id", field=name) from None
    if db.session.execute(select(Warehouse.id).where(Warehouse.id == warehouse_id,
                                                     Warehouse.shop_id == g.shop.id)).scalar() is None:
        raise APIError(404, "warehouse_not_found", "no such warehouse in this shop")
    return warehouse_id
