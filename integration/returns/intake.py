"""A customer's return request becomes one return row, and the shop's rules decide it.

The request arrives as Shopify's ``returns/request`` webhook (customer accounts' self-serve
returns, or our tracking page's form, which files it through Shopify). Stored once per (shop,
Shopify return id): a redelivered webhook finds the row and decides nothing again. The rules
approve it (priority after-sales members too), decline it, or leave it to the merchant; the
approve / decline job starts after the commit.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy import func, select

from connectors.errors import RetryableError
from integration import job_catalog, signals
from integration.domain.channels import ChannelReturn
from integration.domain.returns import APPROVE, DECLINE, RequestedLine, decide, reason_code
from integration.extensions import db, queues
from integration.models import Order, Return, ReturnLine, ReturnState, Shipment
from integration.models.base import utcnow
from integration.models.loyalty import LoyaltyAccount, LoyaltyTier
from integration.models.upsert import insert
from integration.returns.rules import load_rules
from integration.returns.timeline import record_event

log = structlog.get_logger(__name__)

SOURCES = ("customer_account", "tracking_page", "merchant")


def store_request(shop_id: int, channel_return: ChannelReturn, *, source: str = "customer_account",
                  approved_by: str | None = None) -> int | None:
    """Store the request (once) and decide it, in the caller's transaction; the return's id, or
    None when the return is already known. ``approved_by``: already approved (by the merchant, in
    Shopify's admin), the rules are not asked. An order not imported yet is retried (the webhook
    may overtake the order's own)."""
    order = db.session.execute(select(Order).where(
        Order.shop_id == shop_id, Order.channel == "shopify", Order.external_id == channel_return.order_id,
    )).scalar_one_or_none()
    if order is None:
        raise RetryableError(f"return {channel_return.id}: its order is not imported yet", retry_after=60)
    return_id = db.session.execute(
        insert(Return).values(
            shop_id=shop_id, order_id=order.id, shopify_return_id=channel_return.id[:64],
            name=(channel_return.name or None) and channel_return.name[:64], source=source, kind="refund",
            status=ReturnState.REQUESTED, priority=priority_member(order), attempts=0, created_at=utcnow(),
            updated_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["shop_id", "shopify_return_id"]).returning(Return.id)).scalar()
    if return_id is None:
        log.info("return.known", shop_id=shop_id, shopify_return_id=channel_return.id)
        return None
    line_ids = {ln.sku: ln.id for ln in reversed(order.lines) if ln.sku}
    for line in channel_return.lines:
        db.session.add(ReturnLine(
            return_id=return_id, order_line_id=line_ids.get(line.sku), shopify_line_id=line.id[:64],
            sku=line.sku, quantity=line.quantity, reason=reason_code(line.reason),
            received=0, sellable=0, written_off=0))
    db.session.flush()
    ret = db.session.get(Return, return_id)
    record_event(return_id, "requested", {"source": source})
    if approved_by:
        mark_approved(ret, approved_by)
    else:
        apply_rules(ret, order)
    return return_id


def apply_rules(ret: Return, order: Order) -> str:
    """Approve, decline or leave the request to the merchant, by the shop's rules."""
    lines = db.session.execute(select(ReturnLine).where(ReturnLine.return_id == ret.id)).scalars().all()
    decision = decide([RequestedLine(ln.sku, ln.quantity, ln.reason) for ln in lines], load_rules(ret.shop_id),
                      delivered_at=_delivered_at(order), now=utcnow(), priority=ret.priority)
    if decision.outcome == APPROVE:
        mark_approved(ret, "priority" if ret.priority else "rules")
    elif decision.outcome == DECLINE:
        mark_declined(ret, "rules", decision.decline_reason, decision.note)
    log.info("return.requested", return_id=ret.id, decision=decision.outcome, priority=ret.priority)
    return decision.outcome


def mark_approved(ret: Return, decided_by: str) -> None:
    ret.status, ret.decided_by = ReturnState.APPROVED, decided_by
    record_event(ret.id, "approved", {"by": decided_by})
    start(ret, job_catalog.APPROVE_RETURN, job_catalog.approve_return_id(ret.id))


def mark_declined(ret: Return, decided_by: str, reason: str, note: str | None) -> None:
    ret.status, ret.decided_by = ReturnState.DECLINED, decided_by
    ret.decline_reason, ret.decline_note = reason, (note or None) and note[:500]
    start(ret, job_catalog.DECLINE_RETURN, job_catalog.decline_return_id(ret.id))


def queue_for(ret: Return) -> str:
    """Priority after-sales members' returns go ahead of the everyday sync work."""
    return "events" if ret.priority else "sync"


def start(ret: Return, job_name: str, job_id: str) -> None:
    """Enqueue the return's next job once the caller's transaction commits."""
    queue, return_id = queue_for(ret), ret.id
    signals.on_commit(db.session(), lambda: queues.enqueue(queue, job_name, return_id, job_id=job_id, unique=True))


def priority_member(order: Order) -> bool:
    """Whether the customer's loyalty tier carries the "priority after-sales" perk."""
    if not order.customer_external_id:
        return False
    return bool(db.session.execute(
        select(LoyaltyTier.priority_support).join(LoyaltyAccount, LoyaltyAccount.tier_id == LoyaltyTier.id)
        .where(LoyaltyAccount.shop_id == order.shop_id,
               LoyaltyAccount.customer_external_id == order.customer_external_id)).scalar())


def _delivered_at(order: Order) -> datetime | None:
    """When the return window starts: the last parcel's delivery, else its departure, else the order."""
    delivered, shipped = db.session.execute(
        select(func.max(Shipment.delivered_at), func.max(Shipment.shipped_at)).where(Shipment.order_id == order.id)
    ).one()
    return delivered or shipped or order.external_created_at
