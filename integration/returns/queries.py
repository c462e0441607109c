"""What the admin reads of after-sales: returns (a page, filtered; one with its lines and
timeline), reships and claims, always within one shop."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from integration.extensions import db
from integration.models import Claim, Order, Reship, Return, ReturnLine, Warehouse
from integration.orders.order_list import matches_search
from integration.returns.timeline import events_of


def returns_query(shop_id: int, *, status: str | None = None, kind: str | None = None,
                  order_id: int | None = None, market: str | None = None, warehouse_id: int | None = None,
                  q: str | None = None) -> Select:
    """``market``: the order's shipping country; ``q``: an order's name or SKU (prefix) or its
    customer's exact e-mail, as the orders list searches."""
    stmt = select(Return).where(Return.shop_id == shop_id)
    if status:
        stmt = stmt.where(Return.status == status)
    if kind:
        stmt = stmt.where(Return.kind == kind)
    if order_id:
        stmt = stmt.where(Return.order_id == order_id)
    if warehouse_id:
        stmt = stmt.where(Return.warehouse_id == warehouse_id)
    if market or q:
        orders = select(Order.id).where(Order.shop_id == shop_id)
        if market:
            orders = orders.where(Order.shipping_country == market)
        if q:
            orders = orders.where(matches_search(q))
        stmt = stmt.where(Return.order_id.in_(orders))
    return stmt.order_by(Return.id.desc())


def return_json(ret: Return) -> dict[str, Any]:
    order = db.session.get(Order, ret.order_id)
    warehouse = db.session.get(Warehouse, ret.warehouse_id) if ret.warehouse_id else None
    return {
        "id": ret.id, "name": ret.name, "shopify_return_id": ret.shopify_return_id, "source": ret.source,
        "kind": ret.kind, "status": ret.status, "priority": ret.priority, "decided_by": ret.decided_by,
        "decline_reason": ret.decline_reason, "decline_note": ret.decline_note,
        "order": {"id": order.id, "name": order.name, "country": order.shipping_country},
        "warehouse": {"id": warehouse.id, "name": warehouse.name or warehouse.code,
                      "country_code": warehouse.country_code} if warehouse else None,
        "rma": {"reference": ret.rma_reference, "external_id": ret.rma_external_id},
        "address": ret.address, "label_url": ret.label_url,
        "refund": {"id": ret.refund_id, "amount": str(ret.refund_amount) if ret.refund_amount is not None else None,
                   "currency": order.currency},
        "outbound_id": ret.outbound_id, "last_error": ret.last_error,
        "created_at": ret.created_at.isoformat(), "updated_at": ret.updated_at.isoformat(),
    }


def return_detail(ret: Return) -> dict[str, Any]:
    lines = db.session.execute(select(ReturnLine).where(ReturnLine.return_id == ret.id)
                               .order_by(ReturnLine.id)).scalars()
    return {**return_json(ret), "lines": [
        {"id": ln.id, "sku": ln.sku, "quantity": ln.quantity, "reason": ln.reason, "exchange_sku": ln.exchange_sku,
         "received": ln.received, "sellable": ln.sellable, "written_off": ln.written_off, "grade": ln.grade}
        for ln in lines], "timeline": events_of(ret.id)}


def reship_json(row: Reship) -> dict[str, Any]:
    return {"id": row.id, "order_id": row.order_id, "shipment_id": row.shipment_id, "reason": row.reason,
            "lines": [{"sku": sku, "quantity": qty} for sku, qty in row.lines or ()],
            "warehouse_id": row.warehouse_id, "outbound_id": row.outbound_id, "status": row.status,
            "requested_by": row.requested_by, "note": row.note, "created_at": row.created_at.isoformat()}


def reships_query(shop_id: int) -> Select:
    return select(Reship).where(Reship.shop_id == shop_id).order_by(Reship.id.desc())


def claims_query(shop_id: int, *, status: str | None = None) -> Select:
    stmt = select(Claim).where(Claim.shop_id == shop_id)
    if status:
        stmt = stmt.where(Claim.status == status)
    return stmt.order_by(Claim.id.desc())


def claim_json(claim: Claim) -> dict[str, Any]:
    return {"id": claim.id, "order_id": claim.order_id, "shipment_id": claim.shipment_id,
            "reship_id": claim.reship_id, "against": claim.against, "kind": claim.kind, "notes": claim.notes,
            "photo_urls": list(claim.photo_urls or ()), "currency": claim.currency,
            "amount_claimed": str(claim.amount_claimed),
            "amount_settled": str(claim.amount_settled) if claim.amount_settled is not None else None,
            "status": claim.status, "outcome": claim.outcome,
            "settled_at": claim.settled_at.isoformat() if claim.settled_at else None,
            "created_at": claim.created_at.isoformat()}
