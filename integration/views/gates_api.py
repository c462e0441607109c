"""The embedded admin's test-sale gates API (``/api/insights/gates``): list (paged, filtered by
market and verdict), start one for a SKU x market, evaluate one now. Session-token protected;
scoped to ``g.shop`` (another shop's gate is 404, another shop's SKU is 422)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select

from connectors.errors import AuthError, PermanentError, RetryableError
from integration.errors import APIError
from integration.extensions import db
from integration.insights import gates
from integration.models import TestSaleGate
from integration.models.base import utcnow
from integration.views.pagination import page_args, paginate
from integration.views.request_body import read_json_object
from integration.views.session_auth import require_session

bp = Blueprint("gates_api", __name__, url_prefix="/api/insights/gates")

MAX_BODY = 4096
FIELDS = {"sku", "market", "batch_size", "started_on"}
MAX_DAYS_BACK, MAX_DAYS_AHEAD = 365, 365  # Shopify's analytics keep a year or so; a plan a year ahead


def _filter(name: str, allowed) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw not in allowed:
        raise APIError(400, "invalid_parameter", f"{name} must be one of the known values", field=name)
    return raw


@bp.get("")
@require_session
def list_gates():
    """``?page=&limit=&market=<ISO>&verdict=testing|proven|stop``: newest first."""
    page, limit = page_args()
    market = _filter("market", gates.COUNTRIES)
    verdict = _filter("verdict", gates.VERDICTS)
    stmt = select(TestSaleGate).where(TestSaleGate.shop_id == g.shop.id)
    if market:
        stmt = stmt.where(TestSaleGate.market == market)
    if verdict:
        stmt = stmt.where(TestSaleGate.verdict == verdict)
    stmt = stmt.order_by(TestSaleGate.started_on.desc(), TestSaleGate.id.desc())
    return jsonify(paginate(stmt, page, limit, to_json=gates.gate_json))


def _start_date(raw) -> date:
    today = utcnow().date()
    if raw is None:
        return today
    try:
        if not isinstance(raw, str) or len(raw) != 10:
            raise ValueError
        day = date.fromisoformat(raw)
    except ValueError:
        raise APIError(422, "invalid", "started_on must be a date YYYY-MM-DD", field="started_on") from None
    if not today - timedelta(days=MAX_DAYS_BACK) <= day <= today + timedelta(days=MAX_DAYS_AHEAD):
        raise APIError(422, "invalid", f"started_on must be within {MAX_DAYS_BACK} days of today",
                       field="started_on")
    return day


@bp.post("")
@require_session
def start():
    """``{"sku", "market", "batch_size", "started_on"?}`` -> 201 with the gate (200 when the same
    gate already exists: a retried request), 409 when another gate holds that SKU x market."""
    body = read_json_object(MAX_BODY)
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise APIError(422, "invalid", f"unknown field {unknown[0]}", field=unknown[0])
    started_on = _start_date(body.get("started_on"))
    try:
        gate, created = gates.start_gate(g.shop.id, body.get("sku"), body.get("market"), body.get("batch_size"),
                                started_on)
    except gates.GateError as exc:
        status, code = (409, "conflict") if exc.conflict else (422, "invalid")
        raise APIError(status, code, str(exc), field=exc.field) from None
    db.session.commit()
    return jsonify(gate=gates.gate_json(gate)), (201 if created else 200)


@bp.post("/<id:gate_id>/evaluate")
@require_session
def evaluate(gate_id: int):
    """Re-evaluates one gate now (whatever its verdict) from Shopify's analytics."""
    from integration.shops.shopify_client import store_for

    gate = db.session.execute(select(TestSaleGate).where(
        TestSaleGate.id == gate_id, TestSaleGate.shop_id == g.shop.id)).scalar_one_or_none()
    if gate is None:
        raise APIError(404, "not_found", "no such test-sale gate")
    try:
        gates.evaluate([gate], store_for(g.shop), today=utcnow().date())
    except RetryableError:
        db.session.rollback()
        raise APIError(503, "shopify_unavailable", "Shopify's analytics did not answer; try again") from None
    except AuthError:
        db.session.rollback()
        raise APIError(502, "shopify_auth", "Shopify refused the app's access; open the app again to reconnect"
                       ) from None
    except PermanentError:
        db.session.rollback()
        raise APIError(502, "shopify_refused",
                       "Shopify refused the analytics query (the app may need the read_reports access)") from None
    db.session.commit()
    return jsonify(gate=gates.gate_json(gate))
