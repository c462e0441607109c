"""Promise kept? Each parcel's promised delivery date, fixed when it ships, and the rate of parcels
delivered on or before it, per warehouse x carrier and per week.

The promise is the latest date of the estimate the customer was given in the "shipped" e-mail and
on the tracking page (:func:`integration.notices.triggers.delivery_estimate`: ship day + the
warehouse's transit days to the destination). It is stored at ship time
(:class:`~integration.models.DeliveryPromise`), so a later change of the merchant's transit days
does not rewrite history; a warehouse without transit days for the destination promised nothing
and is not counted. The delivery day is the destination's calendar day (a parcel delivered at 9 pm
in New York was delivered that day, not the next UTC day).

A parcel is *due* once delivered or once its promised day is over; it counts in the week (Monday-
based) of its promised day.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select, update

from integration.domain.warehousing import TrackingStatus
from integration.extensions import db
from integration.feedback import scores
from integration.models import DeliveryPromise, Order, OutboundOrder, Shipment, Warehouse
from integration.models.base import utcnow
from integration.models.upsert import insert
from integration.notices.render import COUNTRY_TZ
from integration.notices.triggers import delivery_estimate


def local_day(at: datetime, country: str | None) -> date:
    """``at``'s calendar day at the destination (UTC where we know no time zone)."""
    return at.astimezone(ZoneInfo(COUNTRY_TZ.get((country or "").upper(), "UTC"))).date()


# -- receivers (connected in integration/wiring.py) ----------------------------------------------


def on_shipment_created(shipment_id: int, **_: Any) -> None:
    """Keep the parcel's promise (once: a repeated signal inserts nothing)."""
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None:
        return
    order = db.session.get(Order, shipment.order_id)
    outbound = db.session.get(OutboundOrder, shipment.outbound_id)
    warehouse = db.session.get(Warehouse, outbound.warehouse_id) if outbound else None
    country = order.shipping_country if order else None
    estimate = delivery_estimate(shipment, warehouse, country)
    if order is None or estimate is None:
        return  # nothing was promised
    delivered = shipment.delivered_at if shipment.status == TrackingStatus.DELIVERED.value else None
    db.session.execute(insert(DeliveryPromise).values(
        shop_id=shipment.shop_id, shipment_id=shipment.id, order_id=order.id,
        warehouse_id=warehouse.id if warehouse else None, carrier=(shipment.carrier or "")[:128] or None,
        country_code=country, shipped_on=(shipment.shipped_at or shipment.created_at or utcnow()).date(),
        promised_by=estimate[1], delivered_on=local_day(delivered, country) if delivered else None,
        created_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["shipment_id"]))


def on_tracking_changed(shipment_id: int, status: str, **_: Any) -> None:
    """A delivered parcel: its delivery day, the first time (a repeated event changes nothing)."""
    if status != TrackingStatus.DELIVERED.value:
        return
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None:
        return
    promise = db.session.execute(select(DeliveryPromise.country_code).where(
        DeliveryPromise.shipment_id == shipment_id)).first()
    if promise is None:
        return
    at = shipment.delivered_at or shipment.status_at or utcnow()
    db.session.execute(update(DeliveryPromise).where(
        DeliveryPromise.shipment_id == shipment_id, DeliveryPromise.delivered_on.is_(None))
        .values(delivered_on=local_day(at, promise.country_code)).execution_options(synchronize_session=False))


# -- the rate -----------------------------------------------------------------------------------


def kept_rate(shop_id: int, days: int = 90, *, today: date | None = None) -> dict:
    """Parcels promised in the last ``days`` days up to ``today`` (UTC): ``overall``, ``weeks`` (each
    week's overall) and ``groups`` per warehouse x carrier, each with its ``weeks``."""
    today = today or utcnow().date()
    since = today - timedelta(days=days)
    mondays = scores.weeks(since, today)
    index = {week: i for i, week in enumerate(mondays)}
    p = DeliveryPromise
    due = or_(p.delivered_on.is_not(None), p.promised_by < today)
    kept = and_(p.delivered_on.is_not(None), p.delivered_on <= p.promised_by)
    rows = db.session.execute(
        select(p.warehouse_id, p.carrier, p.promised_by, func.count(case((due, 1))), func.count(case((kept, 1))))
        .where(p.shop_id == shop_id, p.promised_by >= since, p.promised_by <= today)
        .group_by(p.warehouse_id, p.carrier, p.promised_by))
    overall, weekly = scores.Kept(), [scores.Kept() for _ in mondays]
    groups: dict[tuple, tuple[scores.Kept, list[scores.Kept]]] = defaultdict(
        lambda: (scores.Kept(), [scores.Kept() for _ in mondays]))
    for warehouse_id, carrier, promised_by, n_due, n_kept in rows:
        i = index[scores.monday(date.fromisoformat(str(promised_by)[:10]))]
        total, series = groups[(warehouse_id, carrier)]
        for tally in (overall, weekly[i], total, series[i]):
            tally.add(n_due, n_kept)
    names = {w.id: w.name or w.code for w in db.session.execute(
        select(Warehouse).where(Warehouse.shop_id == shop_id)).scalars()}
    out = [{"warehouse_id": wid, "warehouse": names.get(wid) if wid else None, "carrier": carrier,
            **total.as_dict(), "weeks": [k.as_dict() for k in series]}
           for (wid, carrier), (total, series) in groups.items()]
    out.sort(key=lambda g: (g["warehouse"] is None, g["warehouse"] or "", g["warehouse_id"] or 0, g["carrier"] or ""))
    return {"days": days, "since": since.isoformat(), "today": today.isoformat(),
            "weeks": [w.isoformat() for w in mondays], "overall": overall.as_dict(),
            "overall_weeks": [k.as_dict() for k in weekly], "groups": out}
