"""The embedded admin's inbound-shipment API (issue 22, first leg). Session-token protected and
scoped to ``g.shop``: another shop's suggestion or shipment is 404.

* ``POST /api/insights/suggestions/<id>/approve`` ``{"expected_at"?: "YYYY-MM-DD" | ISO time}``:
  202 with the shipment; approving again returns the same shipment, never a second one.
* ``GET /api/insights/inbound?page=&limit=&status=``: shipments, newest first.
* ``POST /api/insights/inbound/<id>/cancel``: 202; 409 where the warehouse cannot withdraw it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select

from integration.errors import APIError
from integration.extensions import db
from integration.insights import inbound
from integration.models import InboundShipmentRow, Warehouse
from integration.views.pagination import page_args, paginate
from integration.views.request_body import read_json_object
from integration.views.session_auth import require_session

bp = Blueprint("inbound_api", __name__, url_prefix="/api/insights")

MAX_BODY = 1024
REFUSED_STATUS = {"invalid": 422, "unsupported": 409, "not_open": 409, "nothing_to_ship": 409,
                  "not_cancellable": 409}


def _expected_at(body: dict) -> datetime | None:
    unknown = sorted(set(body) - {"expected_at"})
    if unknown:
        raise APIError(422, "invalid", f"unknown field {unknown[0]}", field=unknown[0])
    raw = body.get("expected_at")
    if raw is None:
        return None
    if not isinstance(raw, str) or not 10 <= len(raw) <= 32:
        raise APIError(422, "invalid", "expected_at must be a date (YYYY-MM-DD) or an ISO time", field="expected_at")
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(12, 0), tzinfo=UTC)
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise APIError(422, "invalid", "expected_at must be a date (YYYY-MM-DD) or an ISO time",
                       field="expected_at") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _refused(exc: inbound.InboundRefused) -> APIError:
    return APIError(REFUSED_STATUS.get(exc.code, 409), exc.code, str(exc), field=exc.field)


def _json(row: InboundShipmentRow, names: dict[int, str]) -> dict:
    return {
        "id": row.id, "reference": row.reference, "external_id": row.external_id, "status": row.status,
        "warehouse": {"id": row.warehouse_id, "name": names.get(row.warehouse_id, "")},
        "lines": [{"sku": sku, "quantity": qty} for sku, qty in row.lines or ()],
        "expected_at": row.expected_at.isoformat() if row.expected_at else None,
        "intake_booked_for": row.intake_booked_for.isoformat() if row.intake_booked_for else None,
        "suggestion_id": row.suggestion_id, "attempts": row.attempts, "last_error": row.last_error,
        "received_at": row.received_at.isoformat() if row.received_at else None,
        "created_at": row.created_at.isoformat() if row.created_at else None,
    }


def _names(shop_id: int) -> dict[int, str]:
    return {wid: name or code for wid, name, code in db.session.execute(
        select(Warehouse.id, Warehouse.name, Warehouse.code).where(Warehouse.shop_id == shop_id))}


@bp.post("/suggestions/<id:suggestion_id>/approve")
@require_session
def approve(suggestion_id: int):
    # No body at all (the admin's plain "Approve"): the suggestion's own arrival date.
    has_body = bool(request.content_length) or request.is_json
    expected_at = _expected_at(read_json_object(MAX_BODY, empty_ok=True) if has_body else {})
    try:
        row = inbound.approve_suggestion(g.shop.id, suggestion_id, expected_at=expected_at)
    except inbound.InboundNotFound:
        raise APIError(404, "not_found", "no such suggestion") from None
    except inbound.InboundRefused as exc:
        raise _refused(exc) from None
    return jsonify(_json(row, _names(g.shop.id))), 202


@bp.get("/inbound")
@require_session
def list_inbound():
    page, limit = page_args()
    status = request.args.get("status") or None
    if status is not None and status not in inbound.STATUSES:
        raise APIError(422, "invalid", f"status must be one of {', '.join(inbound.STATUSES)}", field="status")
    stmt = select(InboundShipmentRow).where(InboundShipmentRow.shop_id == g.shop.id)
    if status:
        stmt = stmt.where(InboundShipmentRow.status == status)
    names = _names(g.shop.id)
    return jsonify(paginate(stmt.order_by(InboundShipmentRow.id.desc()), page, limit,
                            to_json=lambda row: _json(row, names)))


@bp.post("/inbound/<id:inbound_id>/cancel")
@require_session
def cancel(inbound_id: int):
    try:
        row = inbound.request_cancel(g.shop.id, inbound_id)
    except inbound.InboundNotFound:
        raise APIError(404, "not_found", "no such inbound shipment") from None
    except inbound.InboundRefused as exc:
        raise _refused(exc) from None
    return jsonify(_json(row, _names(g.shop.id))), 202
