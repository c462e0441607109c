"""The embedded admin's loyalty API: program rules, tiers and perks, the member list, a customer's
ledger with manual adjustments, program totals, exports. Session-token protected; every read and
write is scoped to ``g.shop`` (a customer id is looked up within the shop only). Invalid input is
422 naming the field."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request, stream_with_context

from integration import job_catalog
from integration.errors import APIError
from integration.extensions import db, queues
from integration.loyalty import admin as loyalty_admin
from integration.loyalty import customers as loyalty_customers
from integration.loyalty import ledger as loyalty
from integration.loyalty import program as loyalty_program
from integration.views.pagination import page_args, paginate
from integration.views.request_body import read_json_object
from integration.views.session_auth import require_session

bp = Blueprint("loyalty_api", __name__, url_prefix="/api/loyalty")

MAX_BODY = 64 * 1024


@bp.errorhandler(loyalty.LoyaltyError)
def _loyalty_error(exc: loyalty.LoyaltyError):
    error = {"code": exc.code, "message": exc.message, **({"field": exc.field} if exc.field else {})}
    response = jsonify(error=error)
    response.status_code = exc.status
    return response


@bp.errorhandler(loyalty_program.ProgramError)
def _program_error(exc: loyalty_program.ProgramError):
    db.session.rollback()
    response = jsonify(error={"code": "invalid", "message": exc.message, "field": exc.field})
    response.status_code = 422
    return response


@bp.errorhandler(loyalty_customers.SearchError)
def _search_error(exc: loyalty_customers.SearchError):
    response = jsonify(error={"code": "invalid", "message": exc.message, "field": exc.field})
    response.status_code = 422
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


@bp.get("/customers")
@require_session
def customers():
    """The members with balance and tier, newest first; ``q`` searches a customer id or email."""
    page, limit = page_args()
    stmt = loyalty_customers.customer_query(g.shop.id, request.args.get("q"))
    return jsonify(paginate(stmt, page, limit, scalars=False, to_json=loyalty_customers.customer_json))


@bp.get("/customers/<path:customer>/ledger")
@require_session
def customer_ledger(customer: str):
    """The member's balance, tier and rewards, and one page of their ledger (newest first)."""
    page, limit = page_args()
    summary = loyalty_customers.account_summary(g.shop.id, _customer(customer))
    if summary is None:
        raise APIError(404, "not_found", "this customer has no loyalty account")
    entries = paginate(loyalty_customers.entries_query(summary.pop("account_id")), page, limit)
    entries["items"] = loyalty_customers.entries_json(entries["items"])
    return jsonify({**summary, **entries, "entries": entries["items"]})


@bp.post("/customers/<path:customer>/adjustments")
@require_session
def adjust(customer: str):
    data = read_json_object(MAX_BODY)
    key = data.get("request_key")
    if key is not None and (not isinstance(key, str) or not 8 <= len(key) <= 64 or not key.isprintable()):
        raise APIError(422, "invalid_request_key", "request_key must be 8 to 64 printable characters",
                       field="request_key")
    result = loyalty_admin.adjust(g.shop.id, _customer(customer), data.get("points"), data.get("reason"),
                                  actor=str(g.get("shopify_user") or "") or None, request_key=key)
    response = jsonify(result)
    response.status_code = 200 if result["repeated"] else 201
    return response


@bp.get("/totals")
@require_session
def program_totals():
    return jsonify(loyalty_admin.totals(g.shop.id))


@bp.get("/export.csv")
@require_session
def export_csv():
    """The members (``?what=customers``, the default) or the whole ledger (``?what=ledger``) as CSV,
    streamed, for a spreadsheet."""
    what = request.args.get("what", "customers")
    if what not in loyalty_customers.EXPORTS:
        raise APIError(422, "invalid", f"what must be one of {', '.join(loyalty_customers.EXPORTS)}", field="what")
    lines = loyalty_customers.export_csv(g.shop.id, what)
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename=loyalty-{what}.csv"
    return response


@bp.get("/export")
@require_session
def export():
    """The program's accounts and ledger as JSON lines (streamed)."""
    shop_id = g.shop.id
    response = Response(stream_with_context(loyalty_admin.export_lines(shop_id)), mimetype="application/x-ndjson")
    response.headers["Content-Disposition"] = "attachment; filename=loyalty-ledger.jsonl"
    return response
