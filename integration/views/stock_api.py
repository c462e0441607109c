"""The embedded admin's stock API: per SKU x warehouse counts (paged by SKU) and one SKU's daily
stock and sales per warehouse. Session-token protected and scoped to ``g.shop``: a SKU or variant
id of another shop answers 404. Errors: ``{"error": {"code", "message"}}``.

* ``GET /api/stock?page=&limit=&warehouse=<id>&filter=low|out&q=<text in SKU or title>``
* ``GET /api/stock/<sku or variant id>/history?days=1..90`` (default 30)
"""

from __future__ import annotations

import re

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select

from integration.errors import APIError
from integration.extensions import db
from integration.models import Variant
from integration.stock import daily, overview
from integration.views.edge_input import database_id
from integration.views.pagination import page_args, paginate
from integration.views.session_auth import require_session
from integration.views.shop_args import warehouse_arg

bp = Blueprint("stock_api", __name__, url_prefix="/api/stock")

MAX_SKU = 255
DEFAULT_DAYS = 30
_DAYS = re.compile(r"[0-9]{1,2}")


def _filter_arg() -> str | None:
    raw = request.args.get("filter", "")
    if raw == "":
        return None
    if raw not in overview.FILTERS:
        raise APIError(400, "invalid_filter", f"filter must be one of {', '.join(overview.FILTERS)}",
                       field="filter")
    return raw


def _query_arg() -> str | None:
    raw = request.args.get("q", "").strip()
    if len(raw) > overview.MAX_QUERY:
        raise APIError(400, "invalid_query", f"q must be at most {overview.MAX_QUERY} characters", field="q")
    return raw or None


@bp.get("")
@require_session
def list_stock():
    page, limit = page_args()
    warehouse_id = warehouse_arg()
    only, q = _filter_arg(), _query_arg()
    view = overview.StockView.load(g.shop.id, warehouse_id)
    result = paginate(overview.sku_query(view, only=only, q=q, warehouse_id=warehouse_id), page, limit,
                      scalars=False)
    result["items"] = overview.describe(view, result["items"])
    skus = db.session.execute(select(Variant.id).where(Variant.shop_id == g.shop.id, Variant.sku.is_not(None),
                                                       Variant.deleted_at.is_(None)).limit(1)).first() is not None
    db.session.commit()
    return jsonify(**result, warehouses=[w.as_json() for w in view.warehouses], threshold=view.threshold,
                   amazon=view.amazon, catalog=skus)


def _resolve(key: str) -> tuple[str, str]:
    """(sku, title) of the shop's live variant with this SKU, else with this variant id."""
    if not key or len(key) > MAX_SKU:
        raise APIError(404, "sku_not_found", "no such SKU in this shop")
    live = (Variant.shop_id == g.shop.id, Variant.deleted_at.is_(None), Variant.sku.is_not(None), Variant.sku != "")
    found = db.session.execute(select(Variant.sku, Variant.title).where(Variant.sku == key, *live)
                               .order_by(Variant.id).limit(1)).first()
    if found is None:
        try:
            variant_id = database_id(key)
        except ValueError:
            variant_id = None
        if variant_id is not None:
            found = db.session.execute(
                select(Variant.sku, Variant.title).where(Variant.id == variant_id, *live)).first()
    if found is None:
        raise APIError(404, "sku_not_found", "no such SKU in this shop")
    return found[0], found[1]


@bp.get("/<path:key>/history")
@require_session
def sku_history(key: str):
    raw = request.args.get("days", str(DEFAULT_DAYS))
    if not _DAYS.fullmatch(raw) or not 1 <= int(raw) <= daily.MAX_DAYS:
        raise APIError(400, "invalid_days", f"days must be a whole number from 1 to {daily.MAX_DAYS}",
                       field="days")
    sku, title = _resolve(key)
    view = overview.StockView.load(g.shop.id)
    series = daily.history(g.shop.id, sku, [w.id for w in view.warehouses], int(raw))
    warehouses = []
    for w in view.warehouses:
        stock, sold = series.stock[w.id], series.sold[w.id]
        if any(v is not None for v in stock) or any(sold):
            warehouses.append({**w.as_json(), "stock": stock, "sold": sold})
    db.session.commit()
    return jsonify(sku=sku, title=title, days=[d.isoformat() for d in series.days], warehouses=warehouses)
