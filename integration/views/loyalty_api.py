"""The embedded admin's loyalty API: program rules, tiers, a customer's ledger with manual
adjustments, program totals. Session-token protected; every read and write is scoped to
``g.shop`` (a customer id is looked up within the shop only)."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request, stream_with_context

from integration import job_catalog
from integration.errors import APIError
from integration.extensions import db, queues
from integration.loyalty import admin as loyalty_admin
from integration.loyalty import ledger as loyalty
from integration.loyalty import program as loyalty_program
from integration.views.edge_input import database_id
from integration.views.request_body import read_json_object
from integration.views.session_auth import require_session

bp = Blueprint("loyalty_api", __name__, url_prefix="/api/loyalty")

MAX_BODY = 64 * 1024


@bp.errorhandler(loyalty.LoyaltyError)
def _loyalty_error(exc: loyalty.LoyaltyError):
    response = jsonify(error={"code": exc.code, "message": exc.message})
    response.status_code = exc.status
    return response


@bp.errorhandler(loyalty_program.ProgramError)
def _program_error(exc: loyalty_program.ProgramError):
    db.session.rollback()
    response = jsonify(error={"code": "invalid", "message": exc.message, "field": exc.field})
    response.status_code = 400
    return response


def _customer(value: str) -> str:
    gid = loyalty.customer_gid(value)
    if gid is None:
        raise APIError(400, "invalid_customer", "a Shopify customer id (number or gid) is required")
    return gid


def _program_payload():
    rules = loyalty_program.load_rules(g.shop.id)
    return jsonify(program=loyalty_program.program_json(rules),
                   tiers=[loyalty_program.tier_json(t) for t in rules.tiers])


@bp.get("/program")
@require_session
def get_program():
    return _program_payload()


@bp.put("/program")
@require_session
def put_program():
    loyalty_program.update_program(g.shop.id, read_json_object(MAX_BODY))
    db.session.commit()
    return _program_payload()


@bp.get("/tiers")
@require_session
def get_tiers():
    return _program_payload()


@bp.put("/tiers")
@require_session
def put_tiers():
    loyalty_program.replace_tiers(g.shop.id, read_json_object(MAX_BODY).get("tiers"))
    db.session.commit()
    # Thresholds moved: every member's tier is checked again, off the request.
    queues.enqueue("low", job_catalog.REEVALUATE_SHOP, g.shop.id)
    return _program_payload()


@bp.get("/customers/<path:customer>/ledger")
@require_session
def customer_ledger(customer: str):
    limit = request.args.get("limit", default=50, type=int)
    before = request.args.get("before", type=database_id)  # not an id: the first page
    found = loyalty_admin.ledger(g.shop.id, _customer(customer), before=before, limit=max(1, min(limit, 200)))
    if found is None:
        raise APIError(404, "not_found", "this customer has no loyalty account")
    return jsonify(found)


@bp.post("/customers/<path:customer>/adjustments")
@require_session
def adjust(customer: str):
    data = read_json_object(MAX_BODY)
    key = data.get("request_key")
    if key is not None and (not isinstance(key, str) or not 8 <= len(key) <= 64):
        raise APIError(400, "invalid_request_key", "request_key must be 8 to 64 characters")
    result = loyalty_admin.adjust(g.shop.id, _customer(customer), data.get("points"), data.get("reason"),
                                  actor=str(g.get("shopify_user") or "") or None, request_key=key)
    response = jsonify(result)
    response.status_code = 200 if result["repeated"] else 201
    return response


@bp.get("/totals")
@require_session
def program_totals():
    return jsonify(loyalty_admin.totals(g.shop.id))


@bp.get("/export")
@require_session
def export():
    """The program's accounts and ledger as JSON lines (streamed)."""
    shop_id = g.shop.id
    response = Response(stream_with_context(loyalty_admin.export_lines(shop_id)), mimetype="application/x-ndjson")
    response.headers["Content-Disposition"] = "attachment; filename=loyalty-ledger.jsonl"
    return response
