"""The Insights page's read API and the merchant's simple decisions. Session-token protected and
scoped to ``g.shop``: another shop's id answers 404. Errors: ``{"error": {"code", "message", "field"}}``.

* ``GET /api/insights/shifts|suggestions|transfers?page=&limit=&sort=&market=&warehouse=&status=``
  (``sort`` from :data:`integration.insights.lists.SORTS`, ``-`` for descending; ``market`` a
  country code, the warehouse's; a transfer matches on either end)
* ``GET /api/insights/series/<warehouse id>/<sku>?days=1..90`` (the chart: demand, forecast, stock;
  ``history`` false when nothing is known of it yet)
* ``POST /api/insights/suggestions/<id>/dismiss``, ``POST /api/insights/transfers/<id>/accept|dismiss``
* ``GET /api/insights/export.csv?what=suggestions|shifts|transfers|gates&market=&warehouse=``
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, g, jsonify, request, stream_with_context
from sqlalchemy import select

from integration.errors import APIError, error_response
from integration.extensions import db
from integration.insights import chart, decisions, exports, lists
from integration.models import Warehouse
from integration.views.pagination import page_args, paginate
from integration.views.session_auth import require_session
from integration.views.shop_args import warehouse_arg

bp = Blueprint("insights_read_api", __name__, url_prefix="/api/insights")

MAX_SKU = 255
_MARKET = re.compile(r"[A-Za-z]{2}")
_DAYS = re.compile(r"[0-9]{1,2}")


@bp.errorhandler(decisions.NotFound)
def _not_found(error):
    db.session.rollback()
    return error_response(404, "not_found", "no such suggestion in this shop")


@bp.errorhandler(decisions.Conflict)
def _conflict(error):
    db.session.rollback()
    return error_response(409, "already_decided", f"this suggestion is already {error.status}")


def _filters(kind: str | None) -> lists.Filters:
    market = request.args.get("market", "")
    if market and not _MARKET.fullmatch(market):
        raise APIError(400, "invalid_market", "market must be a two-letter country code", field="market")
    status = (request.args.get("status", "") or None) if kind else None  # exports hold every status
    if status is not None and status not in lists.STATUSES[kind]:
        raise APIError(400, "invalid_status", f"status must be one of {', '.join(lists.STATUSES[kind])}",
                       field="status")
    return lists.Filters(market=market.upper() or None, warehouse_id=warehouse_arg(), status=status)


def _sort(kind: str) -> str:
    sort = request.args.get("sort", "") or lists.DEFAULT_SORT[kind]
    if sort not in lists.sort_names(kind):
        raise APIError(400, "invalid_sort", f"sort must be one of {', '.join(lists.sort_names(kind))}", field="sort")
    return sort


def _warehouses() -> list[dict]:
    """The shop's warehouses, for the page's filters and its market list."""
    rows = db.session.execute(select(Warehouse).where(Warehouse.shop_id == g.shop.id)
                              .order_by(Warehouse.name, Warehouse.id)).scalars()
    return [lists.warehouse_json(w) for w in rows]


def _list(kind: str):
    page, limit = page_args()
    filters, sort = _filters(kind), _sort(kind)
    result = paginate(lists.query(kind, g.shop.id, filters, sort), page, limit, scalars=False,
                      to_json=lists.TO_JSON[kind])
    warehouses = _warehouses()
    db.session.commit()
    return jsonify(**result, sort=sort, warehouses=warehouses)


@bp.get("/shifts")
@require_session
def list_shifts():
    return _list("shifts")


@bp.get("/suggestions")
@require_session
def list_suggestions():
    return _list("suggestions")


@bp.get("/transfers")
@require_session
def list_transfers():
    return _list("transfers")


@bp.get("/series/<id:warehouse_id>/<path:sku>")
@require_session
def sku_series(warehouse_id: int, sku: str):
    raw = request.args.get("days", str(chart.DEFAULT_DAYS))
    if not _DAYS.fullmatch(raw) or not 1 <= int(raw) <= chart.MAX_DAYS:
        raise APIError(400, "invalid_days", f"days must be a whole number from 1 to {chart.MAX_DAYS}", field="days")
    warehouse = db.session.execute(select(Warehouse).where(Warehouse.id == warehouse_id,
                                                           Warehouse.shop_id == g.shop.id)).scalar()
    if warehouse is None:
        raise APIError(404, "warehouse_not_found", "no such warehouse in this shop")
    if not 0 < len(sku) <= MAX_SKU:
        raise APIError(400, "invalid_sku", f"the SKU must be 1 to {MAX_SKU} characters", field="sku")
    data = chart.series(g.shop.id, warehouse_id, sku, int(raw))
    db.session.commit()
    return jsonify(sku=sku, warehouse=lists.warehouse_json(warehouse), **data)


@bp.post("/suggestions/<id:suggestion_id>/dismiss")
@require_session
def dismiss_suggestion(suggestion_id: int):
    row = decisions.dismiss_suggestion(g.shop.id, suggestion_id)
    db.session.commit()
    return jsonify(id=row.id, status=row.status)


@bp.post("/transfers/<id:transfer_id>/<any(accept, dismiss):decision>")
@require_session
def decide_transfer(transfer_id: int, decision: str):
    row = decisions.decide_transfer(g.shop.id, transfer_id, "accepted" if decision == "accept" else "dismissed")
    db.session.commit()
    return jsonify(id=row.id, status=row.status)


@bp.get("/export.csv")
@require_session
def export_csv():
    what = request.args.get("what", "")
    if what not in exports.EXPORTS:
        raise APIError(422, "invalid", f"what must be one of {', '.join(exports.EXPORTS)}", field="what")
    filters = _filters(None)
    response = Response(stream_with_context(exports.export_csv(g.shop.id, what, filters)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename=insights-{what}.csv"
    return response
