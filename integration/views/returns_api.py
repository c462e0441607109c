"""The embedded admin's after-sales API (issue #23). Session-token protected and scoped to
``g.shop``: another shop's return, shipment or claim is 404. Bad input is 4xx naming the field,
and changes nothing.

* ``GET /api/returns?page=&limit=&status=&kind=&order_id=&market=&warehouse=&q=``: returns, newest
  first (``market``: the order's shipping country; ``q``: order name or SKU prefix, or exact e-mail).
* ``GET /api/returns/<id>``: one return with its lines and timeline.
* ``POST /api/returns/<id>/approve`` ``{"kind"?: "refund"|"exchange", "exchanges"?: {"<line id>": sku}}``:
  202; approving again returns the same return.
* ``POST /api/returns/<id>/decline`` ``{"reason": "RETURN_PERIOD_ENDED"|"FINAL_SALE"|"OTHER", "note"?}``: 202.
* ``GET /api/returns/rules``, ``PUT /api/returns/rules`` (the whole policy).
* ``GET /api/returns/reships?page=&limit=``: reships, newest first.
* ``POST /api/returns/reships`` ``{"shipment_id", "reason": lost|damaged|missing_part, "lines"?, "note"?}``:
  201 with the reship (the same one for the same parcel and reason).
* ``GET /api/returns/claims?status=``; ``POST /api/returns/claims`` ``{"shipment_id", "against":
  carrier|warehouse, "kind", "amount", "notes"?, "photo_urls"?}``: 201;
  ``POST /api/returns/claims/<id>/settle`` ``{"outcome": reshipped|refunded|rejected, "amount"?}``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, g, jsonify, request

from integration.errors import APIError
from integration.feedback.ratings import shop_warehouse
from integration.models import ReturnState
from integration.models.base import MAX_ID
from integration.orders.order_list import MAX_QUERY
from integration.returns import claims, decisions, queries, reships
from integration.returns.rules import RulesInputError, load_rules, parse_rules, rules_json, save_rules
from integration.views.edge_input import database_id
from integration.views.pagination import page_args, paginate
from integration.views.request_body import read_json_object
from integration.views.session_auth import require_session

bp = Blueprint("returns_api", __name__, url_prefix="/api/returns")

MAX_BODY = 16 * 1024
MAX_NOTE = 500
MAX_NOTES = 4000
MAX_PHOTOS = 10
MAX_URL = 2000
MAX_SKU = 255
MAX_AMOUNT = Decimal("1000000")
_URL = re.compile(r"^https://[^\s\"'<>]+$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _fields(body: dict, allowed: set[str], required: set[str] = frozenset()) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise APIError(422, "invalid", f"unknown field {unknown[:1][0][:64]}", field=unknown[0][:64])
    missing = sorted(required - set(body))
    if missing:
        raise APIError(422, "invalid", f"{missing[0]} is required", field=missing[0])


def _choice(body: dict, name: str, choices: tuple[str, ...], default: str | None = None) -> str:
    value = body.get(name, default)
    if value not in choices:
        raise APIError(422, "invalid", f"{name} must be one of {', '.join(choices)}", field=name)
    return value


def _text(body: dict, name: str, limit: int) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise APIError(422, "invalid", f"{name} must be text of at most {limit} characters", field=name)
    return value.strip() or None


def _id(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise APIError(422, "invalid", f"{name} must be a database id", field=name)
    return value


def _amount(value: Any, name: str) -> Decimal:
    try:
        amount = Decimal(str(value)) if isinstance(value, str | int) and not isinstance(value, bool) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or not 0 <= amount <= MAX_AMOUNT or amount != amount.quantize(
            Decimal("0.01")):
        raise APIError(422, "invalid", f"{name} must be an amount from 0 to {MAX_AMOUNT} (two decimals)", field=name)
    return amount


def _refused(exc: decisions.DecisionError | reships.ReshipError | claims.ClaimError) -> APIError:
    return APIError(exc.status, exc.code, str(exc), field=exc.field)


# -- returns ----------------------------------------------------------------------------------------


@bp.get("")
@require_session
def list_returns():
    page, limit = page_args()
    status = request.args.get("status") or None
    if status is not None and status not in ReturnState.ALL:
        raise APIError(422, "invalid", f"status must be one of {', '.join(ReturnState.ALL)}", field="status")
    kind = request.args.get("kind") or None
    if kind is not None and kind not in decisions.KINDS:
        raise APIError(422, "invalid", f"kind must be one of {', '.join(decisions.KINDS)}", field="kind")
    order_id = request.args.get("order_id") or None
    try:
        order_id = database_id(order_id) if order_id is not None else None
    except ValueError:
        raise APIError(422, "invalid", "order_id must be a database id", field="order_id") from None
    market = (request.args.get("market") or "").strip().upper() or None
    if market is not None and not _COUNTRY.fullmatch(market):
        raise APIError(422, "invalid", "market must be a two-letter country code", field="market")
    warehouse_id = None
    if request.args.get("warehouse"):
        try:
            warehouse_id = database_id(request.args["warehouse"])
        except ValueError:
            raise APIError(422, "invalid", "warehouse must be a warehouse id", field="warehouse") from None
        if shop_warehouse(g.shop.id, warehouse_id) is None:
            raise APIError(422, "invalid", "warehouse must be one of this shop's warehouses", field="warehouse")
    q = (request.args.get("q") or "").strip() or None
    if q is not None and (len(q) > MAX_QUERY or not q.isprintable()):
        raise APIError(422, "invalid", f"q must be printable text of at most {MAX_QUERY} characters", field="q")
    stmt = queries.returns_query(g.shop.id, status=status, kind=kind, order_id=order_id, market=market,
                                 warehouse_id=warehouse_id, q=q)
    return jsonify(paginate(stmt, page, limit, to_json=queries.return_json))


@bp.get("/<id:return_id>")
@require_session
def get_return(return_id: int):
    try:
        return jsonify(queries.return_detail(decisions.find_return(g.shop.id, return_id)))
    except decisions.DecisionError as exc:
        raise _refused(exc) from None


@bp.post("/<id:return_id>/approve")
@require_session
def approve(return_id: int):
    has_body = bool(request.content_length) or request.is_json
    body = read_json_object(MAX_BODY, empty_ok=True) if has_body else {}
    _fields(body, {"kind", "exchanges"})
    kind = _choice(body, "kind", decisions.KINDS, "refund")
    exchanges: dict[int, str] = {}
    raw = body.get("exchanges")
    if raw is not None:
        if kind != "exchange" or not isinstance(raw, dict) or not 0 < len(raw) <= 100:
            raise APIError(422, "invalid", "exchanges (line id -> SKU, up to 100) go with kind exchange",
                           field="exchanges")
        for line_id, sku in raw.items():
            try:
                key = database_id(line_id)
            except ValueError:
                raise APIError(422, "invalid", "exchanges are keyed by return line id", field="exchanges") from None
            if not isinstance(sku, str) or not sku.strip() or len(sku) > MAX_SKU:
                raise APIError(422, "invalid", "each exchange names a SKU", field="exchanges")
            exchanges[key] = sku.strip()
    try:
        ret = decisions.approve(g.shop.id, return_id, kind=kind, exchanges=exchanges)
    except decisions.DecisionError as exc:
        raise _refused(exc) from None
    return jsonify(queries.return_json(ret)), 202


@bp.post("/<id:return_id>/decline")
@require_session
def decline(return_id: int):
    body = read_json_object(MAX_BODY)
    _fields(body, {"reason", "note"}, {"reason"})
    reason = _choice(body, "reason", decisions.DECLINE_REASONS)
    note = _text(body, "note", MAX_NOTE)
    try:
        ret = decisions.decline(g.shop.id, return_id, reason=reason, note=note)
    except decisions.DecisionError as exc:
        raise _refused(exc) from None
    return jsonify(queries.return_json(ret)), 202


# -- rules ------------------------------------------------------------------------------------------


@bp.get("/rules")
@require_session
def get_rules():
    return jsonify(rules_json(load_rules(g.shop.id)))


@bp.put("/rules")
@require_session
def put_rules():
    try:
        rules = parse_rules(read_json_object(MAX_BODY))
    except RulesInputError as exc:
        raise APIError(422, "invalid", str(exc), field=exc.field) from None
    save_rules(g.shop.id, rules)
    return jsonify(rules_json(rules))


# -- reships and claims -------------------------------------------------------------------------------


@bp.get("/reships")
@require_session
def list_reships():
    page, limit = page_args()
    return jsonify(paginate(queries.reships_query(g.shop.id), page, limit, to_json=queries.reship_json))


@bp.post("/reships")
@require_session
def reship():
    body = read_json_object(MAX_BODY)
    _fields(body, {"shipment_id", "reason", "lines", "note"}, {"shipment_id", "reason"})
    shipment_id = _id(body["shipment_id"], "shipment_id")
    reason = _choice(body, "reason", reships.REASONS)
    lines = None
    if body.get("lines") is not None:
        raw = body["lines"]
        if not isinstance(raw, list) or not 0 < len(raw) <= reships.MAX_LINES:
            raise APIError(422, "invalid", f"lines must hold 1 to {reships.MAX_LINES} lines", field="lines")
        lines = []
        for line in raw:
            if (not isinstance(line, dict) or set(line) != {"sku", "quantity"} or not isinstance(line["sku"], str)
                    or not line["sku"] or len(line["sku"]) > MAX_SKU or isinstance(line["quantity"], bool)
                    or not isinstance(line["quantity"], int) or not 0 < line["quantity"] <= reships.MAX_QUANTITY):
                raise APIError(422, "invalid", "each line is {sku, quantity}", field="lines")
            lines.append((line["sku"], line["quantity"]))
    try:
        row = reships.reship(g.shop.id, shipment_id, reason, lines=lines, note=_text(body, "note", MAX_NOTE))
    except reships.ReshipError as exc:
        raise _refused(exc) from None
    return jsonify(queries.reship_json(row)), 201


@bp.get("/claims")
@require_session
def list_claims():
    page, limit = page_args()
    status = request.args.get("status") or None
    if status is not None and status not in ("open", "settled", "rejected"):
        raise APIError(422, "invalid", "status must be one of open, settled, rejected", field="status")
    return jsonify(paginate(queries.claims_query(g.shop.id, status=status), page, limit, to_json=queries.claim_json))


@bp.post("/claims")
@require_session
def open_claim():
    body = read_json_object(MAX_BODY)
    _fields(body, {"shipment_id", "against", "kind", "amount", "notes", "photo_urls"},
            {"shipment_id", "against", "kind", "amount"})
    photos = body.get("photo_urls") or []
    if not isinstance(photos, list) or len(photos) > MAX_PHOTOS or any(
            not isinstance(u, str) or len(u) > MAX_URL or not _URL.match(u) for u in photos):
        raise APIError(422, "invalid", f"photo_urls must be up to {MAX_PHOTOS} https links", field="photo_urls")
    try:
        claim = claims.open_claim(
            g.shop.id, _id(body["shipment_id"], "shipment_id"), against=_choice(body, "against", claims.AGAINST),
            kind=_choice(body, "kind", claims.KINDS), amount=_amount(body["amount"], "amount"),
            notes=_text(body, "notes", MAX_NOTES), photo_urls=photos)
    except claims.ClaimError as exc:
        raise _refused(exc) from None
    return jsonify(queries.claim_json(claim)), 201


@bp.post("/claims/<id:claim_id>/settle")
@require_session
def settle_claim(claim_id: int):
    body = read_json_object(MAX_BODY)
    _fields(body, {"outcome", "amount"}, {"outcome"})
    outcome = _choice(body, "outcome", claims.OUTCOMES)
    amount = _amount(body["amount"], "amount") if body.get("amount") is not None else None
    try:
        claim = claims.settle_claim(g.shop.id, claim_id, outcome=outcome, amount_settled=amount)
    except claims.ClaimError as exc:
        raise _refused(exc) from None
    return jsonify(queries.claim_json(claim))
