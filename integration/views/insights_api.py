"""The Insights page's planning input (App Bridge session token).

* ``GET /api/insights/promotions`` (paginated), ``POST`` one, ``DELETE /<id>``;
* ``GET /api/insights/lead-times``: every warehouse with its default legs and per-SKU overrides;
  ``PUT /api/insights/lead-times/<warehouse_id>`` replaces them.

Bodies are checked by :mod:`integration.insights.planning_input` (422 naming the field); every id
is looked up within ``g.shop``: another shop's warehouse or promotion is 404.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from integration.extensions import db
from integration.insights import planning_input
from integration.views.pagination import page_args, paginate
from integration.views.request_body import read_json_object
from integration.views.session_auth import require_session
from integration.views.setup_errors import setup_error_response
from integration.warehouses.setup_validation import SetupError

bp = Blueprint("insights_api", __name__, url_prefix="/api/insights")

MAX_BODY = 16 * 1024
MAX_LEAD_TIMES_BODY = 256 * 1024  # up to MAX_OVERRIDES SKUs


bp.register_error_handler(SetupError, setup_error_response)


@bp.get("/promotions")
@require_session
def list_promotions():
    page, limit = page_args()
    return jsonify(paginate(planning_input.promotions_query(g.shop.id), page, limit,
                            to_json=planning_input.promotion_json))


@bp.post("/promotions")
@require_session
def create_promotion():
    promotion = planning_input.create_promotion(g.shop.id, read_json_object(MAX_BODY))
    db.session.commit()
    return jsonify(planning_input.promotion_json(promotion)), 201


@bp.delete("/promotions/<id:promotion_id>")
@require_session
def delete_promotion(promotion_id: int):
    planning_input.delete_promotion(g.shop.id, promotion_id)
    db.session.commit()
    return "", 204


@bp.get("/lead-times")
@require_session
def get_lead_times():
    return jsonify(warehouses=planning_input.lead_times_json(g.shop.id),
                   default_legs=planning_input.DEFAULT_LEGS, max_overrides=planning_input.MAX_OVERRIDES)


@bp.put("/lead-times/<id:warehouse_id>")
@require_session
def put_lead_times(warehouse_id: int):
    planning_input.put_lead_times(g.shop.id, warehouse_id, read_json_object(MAX_LEAD_TIMES_BODY))
    db.session.commit()
    return jsonify(warehouses=planning_input.lead_times_json(g.shop.id))
