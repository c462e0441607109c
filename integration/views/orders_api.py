"""The embedded admin's orders API: the list of recent orders (filters, search, server pagination)
and one order's timeline. Session-token protected; every read is scoped to ``g.shop``: another
shop's order answers 404, exactly like one that does not exist."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from integration.errors import APIError
from integration.orders import order_list, timeline
from integration.views.session_auth import require_session

bp = Blueprint("orders_api", __name__, url_prefix="/api/orders")

MAX_PAGE = 10_000
MAX_LIMIT = 100
DEFAULT_LIMIT = 50


def _bounded(name: str, default: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= high:
        raise APIError(400, "invalid_parameter", f"{name}: must be a whole number from 1 to {high}")
    return int(raw)


@bp.get("")
@require_session
def list_orders():
    try:
        filters = order_list.parse_filters(g.shop.id, request.args)
    except order_list.FilterError as exc:
        raise APIError(400, "invalid_filter", str(exc)) from None
    page = _bounded("page", 1, MAX_PAGE)
    limit = _bounded("limit", DEFAULT_LIMIT, MAX_LIMIT)
    return jsonify(order_list.list_orders(g.shop.id, filters, page, limit))


@bp.get("/<id:order_id>")
@require_session
def get_order(order_id: int):
    found = timeline.order_timeline(g.shop.id, order_id)
    if found is None:
        raise APIError(404, "not_found", "no such order")
    return jsonify(found)
