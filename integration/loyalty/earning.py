"""Points from orders: earned when a parcel ships (or is delivered: the shop's choice), double when
it ships from a warehouse in the customer's country, taken back by refunds and cancellations.

Earning is per parcel (a split order earns as each part ships, each at its own warehouse's rate):
one entry per shipment under (shipment, id, purchase), so the ``shipment_created`` and
``shipment_tracking_changed`` signals, the sweep and a retried job can all ask for it and only the
first posts (in "delivered" mode only a delivered parcel posts). Reversals are cumulative: every refund of
the order is kept (:class:`LoyaltyRefund`) and :func:`reconcile_order` reverses the difference
between what the refunds say should be taken back and what already was, so a repeated, late or
out-of-order refund never reverses twice, and a refund that arrives before its parcel earned is
applied as soon as it does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import structlog
from sqlalchemy import String, and_, cast, exists, func, select

from integration import job_catalog, signals
from integration.domain import loyalty as domain
from integration.extensions import db, queues
from integration.loyalty import ledger
from integration.loyalty.program import load_rules
from integration.models import Order, OutboundOrder, Shipment, Warehouse
from integration.models.base import utcnow
from integration.models.loyalty import LoyaltyEntry, LoyaltyLot, LoyaltyProgram, LoyaltyRefund

log = structlog.get_logger(__name__)

SWEEP_DAYS = 14
CENT = Decimal("0.01")


def earn_for_shipment(shipment_id: int, *, now: datetime | None = None) -> str:
    """Credit the points of one parcel, once; commits. Returns what happened."""
    now = now or utcnow()
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None:
        return "gone"
    rules = load_rules(shipment.shop_id)
    if not rules.enabled:
        return "disabled"
    if rules.earn_on == "delivered" and shipment.delivered_at is None:
        return "waiting_for_delivery"
    order = db.session.get(Order, shipment.order_id)
    if order is None or order.cancelled_at or order.redacted_at or not order.customer_external_id:
        return "not_eligible"  # guests have no account; cancelled or erased orders earn nothing
    country = db.session.execute(
        select(Warehouse.country_code).join(OutboundOrder, OutboundOrder.warehouse_id == Warehouse.id)
        .where(OutboundOrder.id == shipment.outbound_id)).scalar()
    local = domain.is_local(country, order.shipping_country)
    account_id = ledger.ensure_account(order.shop_id, order.customer_external_id, email=order.email,
                                        locale=order.locale, rules=rules, now=now)
    # Locked before reading what the order's other parcels earned: two parcels earning at once
    # are serialised, so together they never earn on more than the order's total.
    _balance, tier_id = ledger.lock(account_id)
    lines, amount = _parcel_value(order, shipment)
    tier = rules.tier(tier_id)
    multiplier = tier.multiplier if tier else Decimal(1)
    points = domain.earn_points(amount, rules, local=local, tier_multiplier=multiplier)
    shipped_at = shipment.shipped_at or shipment.created_at or now
    posted = ledger.credit(
        order.shop_id, account_id, points, kind=domain.EARN, source="shipment", source_id=str(shipment.id),
        rule="purchase", rules=rules, now=now, amount=amount, order_id=order.id,
        detail={"lines": [[sku, qty, str(value)] for sku, qty, value in lines], "local": local,
                "warehouse_country": country, "tier_multiplier": str(multiplier), "shipped_at": shipped_at.isoformat()},
        notice={"order_name": order.name, "reason": "purchase", "local_warehouse": local})
    reconcile_order(order.id, rules=rules, now=now)  # refunds that came before this parcel earned
    db.session.commit()
    if posted is None:
        return "already_earned"
    log.info("ledger.earned", shop_id=order.shop_id, shipment_id=shipment.id, points=points, local=local)
    return "earned"


def _parcel_value(order: Order, shipment: Shipment) -> tuple[list[tuple[str, int, Decimal]], Decimal]:
    """The money this parcel earns on: its units at their line prices, capped so that the order's
    parcels together never earn on more than the order's total."""
    prices: dict[str, Decimal] = {}
    for line in order.lines:
        if line.sku and line.price is not None:
            prices.setdefault(line.sku, Decimal(line.price))
    lines = [(str(sku), int(qty), prices.get(str(sku), Decimal(0)) * int(qty)) for sku, qty in shipment.lines or ()]
    value = sum((v for _, _, v in lines), Decimal(0))
    if order.total_price is not None:
        before = db.session.execute(select(func.coalesce(func.sum(LoyaltyEntry.amount), 0)).where(
            LoyaltyEntry.order_id == order.id, LoyaltyEntry.kind == domain.EARN, LoyaltyEntry.rule == "purchase",
            LoyaltyEntry.source_id != str(shipment.id))).scalar()
        cap = max(Decimal(0), Decimal(order.total_price) - Decimal(before or 0))
        if value > cap:
            lines = [(sku, qty, (v * cap / value).quantize(CENT)) for sku, qty, v in lines] if value else lines
            value = cap
    return lines, value.quantize(CENT)


def reconcile_order(order_id: int, *, rules: domain.ProgramRules | None = None,
                    now: datetime | None = None) -> int:
    """Reverse what the order's refunds (or its cancellation) take back and was not yet reversed.
    Does not commit. Returns the points reversed now (less than owed when the customer has
    already spent them: the rest is taken back by a later reconcile, never below zero)."""
    now = now or utcnow()
    order = db.session.get(Order, order_id)
    if order is None:
        return 0
    rows = db.session.execute(select(LoyaltyEntry).where(
        LoyaltyEntry.order_id == order_id, LoyaltyEntry.kind == domain.EARN, LoyaltyEntry.rule == "purchase",
        LoyaltyEntry.points > 0).order_by(LoyaltyEntry.id)).scalars().all()
    if not rows:
        return 0
    rules = rules or load_rules(order.shop_id)
    for account_id in sorted({r.account_id for r in rows}):
        # Read what was reversed and refunded only under the lock: a concurrent reconcile of the
        # same order (two refunds at once) then sees the other's committed work, never a stale view.
        ledger.lock(account_id)
    done = {r.reverses_id: (int(-r.points_sum), Decimal(-(r.value_sum or 0)), r.n) for r in db.session.execute(
        select(LoyaltyEntry.reverses_id, func.sum(LoyaltyEntry.points).label("points_sum"),
               func.sum(LoyaltyEntry.amount).label("value_sum"), func.count().label("n"))
        .where(LoyaltyEntry.reverses_id.in_([r.id for r in rows]), LoyaltyEntry.kind == domain.REVERSE)
        .group_by(LoyaltyEntry.reverses_id))}
    refunds = [domain.RefundInfo(refunded_at=r.refunded_at, lines=tuple((str(s), int(q)) for s, q in r.lines or ()),
                                 amount=Decimal(r.amount or 0),
                                 order_total=Decimal(order.total_price) if order.total_price is not None else None)
               for r in db.session.execute(select(LoyaltyRefund).where(
                   LoyaltyRefund.shop_id == order.shop_id,
                   LoyaltyRefund.order_external_id == order.external_id)).scalars()]
    earns = [_earned(r) for r in rows]
    targets = domain.reversal_targets(earns, refunds, cancelled=order.cancelled_at is not None)
    total = 0
    for row in rows:
        target_points, target_value = targets[row.id]
        reversed_points, reversed_value, count = done.get(row.id, (0, Decimal(0), 0))
        owed = target_points - reversed_points
        if owed <= 0:
            continue
        lot_id = db.session.execute(select(LoyaltyLot.id).where(LoyaltyLot.entry_id == row.id)).scalar()
        posted = ledger.take_back(
            order.shop_id, row.account_id, owed, kind=domain.REVERSE, source="order", source_id=str(order_id),
            rule=f"reverse:{row.id}:{count + 1}", rules=rules, now=now, prefer_lot=lot_id,
            month=domain.month_index(row.created_at), value=max(Decimal(0), target_value - reversed_value),
            reverses_id=row.id, order_id=order_id)
        if posted is not None:
            total += -posted.points
            log.info("ledger.reversed", shop_id=order.shop_id, order_id=order_id, earn_id=row.id,
                     points=-posted.points, owed=owed)
    return total


def _earned(row: LoyaltyEntry) -> domain.Earned:
    detail = row.detail or {}
    shipped = detail.get("shipped_at")
    return domain.Earned(
        id=row.id, points=row.points, amount=Decimal(row.amount or 0),
        shipped_at=datetime.fromisoformat(shipped) if shipped else row.created_at,
        lines=tuple(domain.EarnLine(str(sku), int(qty), Decimal(str(value)))
                    for sku, qty, value in detail.get("lines") or ()))


# -- receivers (connected in integration/wiring.py) ------------------------------------------------


def _enqueue_earn(shipment_id: int, why: str) -> None:
    # After commit: the job must see the stored parcel. One job per reason (a parcel earns on
    # shipping or on delivery, by the shop's rule, and the job decides which).
    signals.on_commit(db.session(), lambda: queues.enqueue(
        "sync", job_catalog.EARN_FOR_SHIPMENT, shipment_id, job_id=job_catalog.earn_id(shipment_id, why), unique=True))


def on_shipment_created(shipment_id: int, **_: object) -> None:
    _enqueue_earn(shipment_id, "created")


def on_tracking_changed(shipment_id: int, status: str, reason: str | None = None, **_: object) -> None:
    _enqueue_earn(shipment_id, status)


def on_order_changed(order_id: int) -> None:
    cancelled = db.session.execute(select(Order.cancelled_at).where(Order.id == order_id)).scalar()
    if cancelled is not None:
        signals.on_commit(db.session(), lambda: queues.enqueue(
            "sync", job_catalog.RECONCILE_LOYALTY_ORDER, order_id,
            job_id=job_catalog.loyalty_order_cancelled_id(order_id), unique=True))


def on_feedback(shop_id: int, order_id: int, rating: int | None = None, **_: object) -> None:
    ledger.award_feedback(shop_id, order_id)


# -- safety net ---------------------------------------------------------------------------------


def unearned_shipment_ids(now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Recent parcels of enabled programs that should have earned and did not (a shipment that
    never got a tracking update, a lost enqueue): the cron earns them."""
    now = now or utcnow()
    earned = exists().where(and_(LoyaltyEntry.shop_id == Shipment.shop_id, LoyaltyEntry.source == "shipment",
                                 LoyaltyEntry.source_id == cast(Shipment.id, String), LoyaltyEntry.rule == "purchase"))
    query = (
        select(Shipment.id)
        .join(LoyaltyProgram, and_(LoyaltyProgram.shop_id == Shipment.shop_id, LoyaltyProgram.enabled.is_(True)))
        .join(Order, Order.id == Shipment.order_id)
        .where(Shipment.created_at >= now - timedelta(days=SWEEP_DAYS), Order.customer_external_id.is_not(None),
               Order.cancelled_at.is_(None), Order.redacted_at.is_(None),
               (LoyaltyProgram.earn_on == "shipped") | Shipment.delivered_at.is_not(None), ~earned)
        .order_by(Shipment.id).limit(limit)
    )
    return list(db.session.execute(query).scalars())
