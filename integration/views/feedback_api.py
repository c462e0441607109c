"""The embedded admin's feedback API: the ratings customers gave (with their comments), filtered
and paged; a summary per warehouse and per week; the scorecard (average per dimension, NPS) and
the promise-kept rate per warehouse x carrier, week by week. Session-token protected; scoped to ``g.shop``
(another shop's warehouse id is 404). Comments are customer text, returned as JSON strings: the
page writes them with ``textContent``."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from integration.errors import APIError
from integration.feedback import promises, ratings, scorecard
from integration.views.edge_input import database_id
from integration.views.pagination import page_args, paginate
from integration.views.session_auth import require_session

bp = Blueprint("feedback_api", __name__, url_prefix="/api/feedback")

DEFAULT_DAYS = 90


def _int_arg(name: str, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if len(raw) > 6 or not raw.isdigit() or not low <= int(raw) <= high:
        raise APIError(422, "invalid", f"{name} must be a whole number from {low} to {high}", field=name)
    return int(raw)


@bp.get("")
@require_session
def list_ratings():
    """``?page=&limit=&warehouse=<id>&rating=<1-5>``: ratings newest first."""
    page, limit = page_args()
    rating = _int_arg("rating", ratings.RATINGS.start, ratings.RATINGS.stop - 1)
    warehouse_id = None
    raw = request.args.get("warehouse")
    if raw:
        try:
            warehouse_id = database_id(raw)
        except ValueError:
            raise APIError(422, "invalid", "warehouse must be a warehouse id", field="warehouse") from None
        if ratings.shop_warehouse(g.shop.id, warehouse_id) is None:
            raise APIError(404, "not_found", "no such warehouse")
    found = paginate(ratings.ratings_query(g.shop.id, warehouse_id=warehouse_id, rating=rating), page, limit,
                     scalars=False)
    found["items"] = ratings.ratings_json(g.shop.id, found["items"])
    return jsonify(found)


@bp.get("/summary")
@require_session
def summary():
    """``?days=`` (1-366, default 90): count and average overall, per warehouse, per week."""
    days = _int_arg("days", 1, ratings.MAX_DAYS) or DEFAULT_DAYS
    return jsonify(ratings.summary(g.shop.id, days))


@bp.get("/scores")
@require_session
def scores():
    """``?days=`` (1-366, default 90): answers, average per dimension and NPS, overall, per
    warehouse, per week."""
    days = _int_arg("days", 1, ratings.MAX_DAYS) or DEFAULT_DAYS
    return jsonify(scorecard.scorecard(g.shop.id, days))


@bp.get("/promises")
@require_session
def promise_kept():
    """``?days=`` (1-366, default 90): parcels due and kept, overall, per warehouse x carrier, per
    week of their promised day."""
    days = _int_arg("days", 1, ratings.MAX_DAYS) or DEFAULT_DAYS
    return jsonify(promises.kept_rate(g.shop.id, days))
