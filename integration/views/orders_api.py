"""The embedded admin's orders API: the list of recent orders (filters, search, server pagination)
and one order's timeline. Session-token protected; every read is scoped to ``g.shop``: another
shop's order answers 404, exactly like one that does not exist."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from integration.errors import APIError
from integration.orders import order_list, timeline
from integration.views.pagination import page_args, paginate
from integration.views.session_auth import require_session

bp = Blueprint("orders_api", __name__, url_prefix="/api/orders")


@bp.get("")
@require_session
def list_orders():
    try:
        filters = order_list.parse_filters(g.shop.id, request.args)
    except order_list.FilterError as exc:
        raise APIError(400, "invalid_filter", str(exc), field=exc.field) from None
    page, limit = page_args()
    found = paginate(order_list.filtered_orders(g.shop.id, filters), page, limit)
    # The page's orders with their lines, routes, outbound orders and parcels: batched reads.
    return jsonify({**found, "items": order_list.describe(found["items"])})


@bp.get("/<id:order_id>")
@require_session
def get_order(order_id: int):
    found = timeline.order_timeline(g.shop.id, order_id)
    if found is None:
        raise APIError(404, "not_found", "no such order")
    return jsonify(found)
