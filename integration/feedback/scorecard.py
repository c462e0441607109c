"""The customers' answers read for the merchant: average per dimension and NPS, overall, per
warehouse and per week (:mod:`.scores` does the arithmetic).

Warehouses as in :mod:`.ratings`: an answer counts towards each warehouse that shipped part of its
order, and under no warehouse (``id`` None) when none did; the overall figures count each answer
once. Weeks are the Monday-based UTC weeks of the answer's first tap.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, select

from integration.extensions import db
from integration.feedback import ratings, scores
from integration.models import OrderFeedback, OutboundOrder, Warehouse
from integration.models.base import utcnow


def _columns() -> list:
    """Per group: answers, then each dimension's sum and count, then the NPS split."""
    columns = [func.count()]
    for name in scores.SCORED:
        column = getattr(OrderFeedback, name)
        columns += [func.coalesce(func.sum(column), 0), func.count(column)]
    nps = OrderFeedback.nps
    columns += [func.count(nps), func.count(case((nps >= scores.PROMOTER, 1))),
                func.count(case((nps <= scores.DETRACTOR, 1)))]
    return columns


def _tally(values) -> scores.Tally:
    values = [int(v or 0) for v in values]
    out = scores.Tally(answers=values[0])
    for i, name in enumerate(scores.SCORED):
        out.totals[name], out.counts[name] = values[1 + 2 * i], values[2 + 2 * i]
    out.nps_answers, out.promoters, out.detractors = values[-3:]
    return out


def scorecard(shop_id: int, days: int = 90, *, now: datetime | None = None) -> dict:
    """The last ``days`` days: ``overall``, ``weeks`` (each week's overall) and ``warehouses``
    (each with its own ``weeks``); every week of the window listed, empty ones with no answers."""
    now = now or utcnow()
    since = now - timedelta(days=days)
    # Bounded at ``now`` too: a reader of a past period must not count what came after it.
    recent = and_(OrderFeedback.shop_id == shop_id, OrderFeedback.created_at >= since, OrderFeedback.created_at < now)
    took_part = and_(OutboundOrder.order_id == OrderFeedback.order_id, OutboundOrder.shop_id == shop_id,
                     ratings.TOOK_PART)
    day = ratings.utc_day(OrderFeedback.created_at)
    mondays = scores.weeks(since.date(), now.date())
    index = {week: i for i, week in enumerate(mondays)}

    def week_of(raw_day) -> int | None:
        return index.get(scores.monday(date.fromisoformat(str(raw_day)[:10])))

    overall = scores.Tally()
    weekly = [scores.Tally() for _ in mondays]
    for raw_day, *values in db.session.execute(select(day, *_columns()).where(recent).group_by(day)):
        part = _tally(values)
        overall.add(part)
        if (i := week_of(raw_day)) is not None:
            weekly[i].add(part)

    per_warehouse: dict[int | None, tuple[scores.Tally, list[scores.Tally]]] = {}
    for warehouse_id, raw_day, *values in db.session.execute(
            select(OutboundOrder.warehouse_id, day, *_columns()).select_from(OrderFeedback)
            .outerjoin(OutboundOrder, took_part).where(recent).group_by(OutboundOrder.warehouse_id, day)):
        total, series = per_warehouse.setdefault(warehouse_id, (scores.Tally(), [scores.Tally() for _ in mondays]))
        part = _tally(values)
        total.add(part)
        if (i := week_of(raw_day)) is not None:
            series[i].add(part)
    names = {w.id: w.name or w.code for w in db.session.execute(
        select(Warehouse).where(Warehouse.shop_id == shop_id)).scalars()}
    warehouses = [{"id": wid, "name": names.get(wid) if wid else None, **total.as_dict(),
                   "weeks": [t.as_dict() for t in series]} for wid, (total, series) in per_warehouse.items()]
    warehouses.sort(key=lambda w: (w["id"] is None, w["name"] or "", w["id"] or 0))
    return {"days": days, "since": since.isoformat(), "weeks": [w.isoformat() for w in mondays],
            "overall": overall.as_dict(), "overall_weeks": [t.as_dict() for t in weekly], "warehouses": warehouses}
