"""``GET /api/amazon/orders?page=&limit=&status=``: the shop's imported Amazon orders with their
marketplace and shipment-confirmation state, paginated on the server. Session-token protected;
only the token's shop's orders are ever read.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from integration.amazon import order_list
from integration.errors import APIError
from integration.views.pagination import page_args, paginate
from integration.views.session_auth import require_session

bp = Blueprint("amazon_orders", __name__, url_prefix="/api/amazon")


@bp.get("/orders")
@require_session
def orders():
    page, limit = page_args()
    status = request.args.get("status") or None
    if status is not None and status not in order_list.STATES:
        raise APIError(400, "invalid_status", f"status must be one of {', '.join(order_list.STATES)}",
                       field="status")
    return jsonify(paginate(order_list.orders_query(g.shop.id, status), page, limit, scalars=False,
                            to_json=order_list.order_json))
