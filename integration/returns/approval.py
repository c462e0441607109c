"""An approved return: Shopify approves it, the local warehouse of the customer's market expects
it (an RMA), the customer gets its address or label. A declined one: Shopify declines it and the
customer is told why.

Each step is stored as it is done, and each call is safe to repeat: Shopify answers an approval
of an open return with the return unchanged, the warehouse keys the RMA by our reference (derived
from the return's id), and the outbox sends each notice once. So the job can run twice or die
half-way and be run again with one effect.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import structlog
from sqlalchemy import select

from connectors.errors import PermanentError
from integration.domain.returns import ReturnSite, choose_return_warehouse, rma_reference
from integration.domain.warehousing import Capability, Line, ReturnRequest
from integration.extensions import db
from integration.models import (
    Allocation,
    Order,
    OutboundOrder,
    Return,
    ReturnLine,
    ReturnState,
    Shop,
    ShopStatus,
    Warehouse,
    WarehouseAccount,
)
from integration.models.base import utcnow
from integration.returns import notify
from integration.returns.timeline import record_event
from integration.shops.alerts import raise_alert
from integration.shops.shopify_client import store_for
from integration.warehouses.providers import provider_class, provider_for_warehouse

log = structlog.get_logger(__name__)

RETURN_BY_DAYS = 14  # how long the customer has to send the parcel once approved


def approve(return_id: int) -> str:
    ret = db.session.get(Return, return_id)
    if ret is None or ret.status != ReturnState.APPROVED:
        return ret.status if ret else "gone"
    shop = db.session.get(Shop, ret.shop_id)
    if shop.status != ShopStatus.INSTALLED:
        return "shop_not_installed"
    store = store_for(shop)
    approved = store.approve_return(ret.shopify_return_id)
    if ret.shopify_approved_at is None:
        ret.shopify_approved_at = utcnow()
        db.session.commit()
    order = db.session.get(Order, ret.order_id)
    lines = db.session.execute(select(ReturnLine).where(ReturnLine.return_id == ret.id)
                               .order_by(ReturnLine.id)).scalars().all()
    warehouse = _return_warehouse(ret, order, lines)
    if warehouse is None:
        return _stuck(ret, order, "no warehouse of the shop accepts returns")
    if ret.rma_external_id is None:
        request = ReturnRequest(
            reference=rma_reference(ret.id), outbound_reference=_shipped_reference(order.id, warehouse.id, lines),
            lines=tuple(Line(ln.sku, ln.quantity) for ln in lines if ln.sku),
            reason=next((ln.reason for ln in lines), None))
        ret.attempts += 1
        db.session.commit()
        try:
            authorization = provider_for_warehouse(warehouse).create_return(request)
        except PermanentError as exc:
            return _stuck(ret, order, str(exc))
        ret.rma_reference, ret.rma_external_id = authorization.reference, authorization.external_id
        ret.address = dataclasses.asdict(authorization.address) if authorization.address else None
        ret.label_url = authorization.label_url
        ret.last_error = None
        db.session.commit()
    if ret.label_url and ret.reverse_delivery_id is None and approved.reverse_fulfillment_order_ids:
        # The warehouse's label goes on Shopify's reverse delivery, so the customer's account shows it.
        ret.reverse_delivery_id = store.create_reverse_delivery(
            approved.reverse_fulfillment_order_ids[0], tracking_number=ret.tracking_number, tracking_url=None,
            label_url=ret.label_url)[:64]
        db.session.commit()
    ret.status = ReturnState.AUTHORIZED
    record_event(ret.id, "authorized", {"warehouse_id": warehouse.id, "rma": ret.rma_external_id})
    where = {"label_url": ret.label_url} if ret.label_url else {"address": _address_context(ret.address)}
    notify.about_return(ret, "return_approved", {
        "rma": ret.rma_external_id, **where,
        "return_by": (utcnow() + timedelta(days=RETURN_BY_DAYS)).date().isoformat()})
    db.session.commit()
    log.info("return.authorized", return_id=ret.id, warehouse_id=warehouse.id, rma=ret.rma_external_id)
    return ret.status


def decline(return_id: int) -> str:
    ret = db.session.get(Return, return_id)
    if ret is None or ret.status != ReturnState.DECLINED:
        return ret.status if ret else "gone"
    shop = db.session.get(Shop, ret.shop_id)
    if shop.status != ShopStatus.INSTALLED:
        return "shop_not_installed"
    store = store_for(shop)
    try:
        store.decline_return(ret.shopify_return_id, ret.decline_reason or "OTHER", ret.decline_note)
    except PermanentError:
        # Declined before a crash lost our record of it: Shopify refuses a second decline.
        if store.get_return(ret.shopify_return_id).status != "DECLINED":
            raise
    if record_event(ret.id, "declined", {"reason": ret.decline_reason, "by": ret.decided_by}):
        notify.about_return(ret, "return_declined", {"reason": (ret.decline_reason or "OTHER").lower(),
                                                     "note": ret.decline_note})
    db.session.commit()
    log.info("return.declined", return_id=ret.id, reason=ret.decline_reason)
    return ret.status


def _return_warehouse(ret: Return, order: Order, lines: list[ReturnLine]) -> Warehouse | None:
    """The warehouse chosen for the return, chosen once (the first choice stands on a retry).

    The vendors file an RMA against one of our outbound orders (WINIT's return goods order names
    the outbound it returns), and ``ReturnRequest`` names no other warehouse: so the local
    warehouse is taken when it shipped some of the order, else the warehouse that shipped it."""
    if ret.warehouse_id is not None:
        return db.session.get(Warehouse, ret.warehouse_id)
    rows = db.session.execute(
        select(Warehouse, WarehouseAccount.provider).join(WarehouseAccount, WarehouseAccount.id == Warehouse.account_id)
        .where(Warehouse.shop_id == ret.shop_id, Warehouse.active.is_(True), WarehouseAccount.active.is_(True))
    ).all()
    sites = [ReturnSite(w.id, w.country_code, w.region, w.priority, _takes_returns(provider)) for w, provider in rows]
    shipped_from = db.session.execute(
        select(OutboundOrder.warehouse_id).where(OutboundOrder.order_id == order.id, OutboundOrder.purpose == "")
        .order_by(OutboundOrder.id).limit(1)).scalar()
    chosen = choose_return_warehouse(sites, order.shipping_country, shipped_from)
    if chosen is None:
        return None
    if chosen != shipped_from and not _shipped_reference(order.id, chosen, lines, fallback=False):
        log.info("return.local_warehouse_shipped_nothing", return_id=ret.id, local=chosen, shipper=shipped_from)
        chosen = shipped_from
    ret.warehouse_id = chosen
    db.session.commit()
    return db.session.get(Warehouse, chosen)


def _takes_returns(provider: str) -> bool:
    try:
        return Capability.RETURNS in provider_class(provider).capabilities
    except (KeyError, ImportError):
        return False


def _shipped_reference(order_id: int, warehouse_id: int | None, lines: list[ReturnLine], *,
                       fallback: bool = True) -> str:
    """Our reference of the order's outbound at ``warehouse_id`` that shipped returned units
    (else, with ``fallback``, any outbound of the order there)."""
    skus = [ln.sku for ln in lines if ln.sku]
    at = (OutboundOrder.order_id == order_id, OutboundOrder.warehouse_id == warehouse_id)
    reference = db.session.execute(
        select(OutboundOrder.reference).join(Allocation, Allocation.outbound_id == OutboundOrder.id)
        .where(*at, Allocation.sku.in_(skus)).order_by(OutboundOrder.id).limit(1)).scalar()
    if reference or not fallback:
        return reference or ""
    return db.session.execute(select(OutboundOrder.reference).where(*at).order_by(OutboundOrder.id).limit(1)
                              ).scalar() or ""


def _address_context(address: dict | None) -> dict | None:
    if not address:
        return None
    keys = ("name", "address1", "address2", "city", "zip", "province", "country_code")
    return {k: address.get(k) for k in keys}


def _stuck(ret: Return, order: Order, why: str) -> str:
    """The warehouse refused the RMA: the merchant decides what to do (once per return)."""
    ret.last_error = why[:2000]
    raise_alert(ret.shop_id, "return_failed", f"return:{ret.id}",
                f"The return of order {order.name or order.external_id} could not be set up at the warehouse: {why}",
                {"return_id": ret.id})
    db.session.commit()
    log.error("return.rma_failed", return_id=ret.id, error=why)
    return "failed"
