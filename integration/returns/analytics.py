"""What the merchant learns from returns: the top return reasons per SKU x market, week by week.

A return counts in the week (Monday-based, UTC) it was requested, whatever became of it: the
reason is what the customer said, and a declined request says it as loudly as a refunded one.
The market is the order's shipping country. A reason's weight is the units returned for it
(``units``), then the returns that gave it (``returns``); ties go by the reason's name, so a
report reads the same twice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import Select, func, select

from integration.extensions import db
from integration.feedback import scores
from integration.feedback.ratings import utc_day
from integration.models import Order, Return, ReturnLine

MAX_DAYS = 92  # a quarter of weeks per call: SKU x market x week grows fast
MAX_GROUPS = 500  # the most-returned groups are kept; ``truncated`` says the rest was cut
TOP = 3


def _week(raw_day) -> date:
    return scores.monday(date.fromisoformat(str(raw_day)[:10]))


def _weight(group: dict) -> tuple:
    return -group["units"], -group["returns"], group["week"], group["sku"] or "", group["market"] or ""


def _lines(shop_id: int, since: date, until: date, sku: str | None, market: str | None, *columns) -> Select:
    start, end = scores.day_bounds(since, until)
    stmt = (select(*columns).select_from(ReturnLine).join(Return, Return.id == ReturnLine.return_id)
            .join(Order, Order.id == Return.order_id)
            .where(Return.shop_id == shop_id, Return.created_at >= start, Return.created_at < end))
    if sku is not None:
        stmt = stmt.where(ReturnLine.sku == sku)
    if market is not None:
        stmt = stmt.where(Order.shipping_country == market)
    return stmt


def top_reasons(shop_id: int, since: date, until: date, *, sku: str | None = None,
                market: str | None = None, top: int = TOP) -> dict:
    """Per week x SKU x market of the returns requested from ``since`` to ``until`` (inclusive):
    units, returns and the ``top`` reasons. Groups: week ascending, then most units first."""
    scores.check_span(since, until, MAX_DAYS)
    day = utc_day(Return.created_at)
    keys = (day, ReturnLine.sku, Order.shipping_country)
    # A return is requested on one day, so distinct counts per day add up over a week.
    reasons: dict[tuple, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for raw_day, line_sku, country, reason, units, returns in db.session.execute(
            _lines(shop_id, since, until, sku, market, *keys, ReturnLine.reason, func.sum(ReturnLine.quantity),
                   func.count(func.distinct(Return.id))).group_by(*keys, ReturnLine.reason)):
        tally = reasons[(_week(raw_day), line_sku, country)][reason]
        tally[0] += int(units or 0)
        tally[1] += int(returns)
    totals: dict[tuple, int] = defaultdict(int)  # returns per group, one however many reasons it gave
    for raw_day, line_sku, country, returns in db.session.execute(
            _lines(shop_id, since, until, sku, market, *keys, func.count(func.distinct(Return.id)))
            .group_by(*keys)):
        totals[(_week(raw_day), line_sku, country)] += int(returns)
    groups = []
    for (week, line_sku, country), by_reason in reasons.items():
        ranked = sorted(by_reason.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
        groups.append({"week": week.isoformat(), "sku": line_sku, "market": country,
                       "units": sum(units for units, _ in by_reason.values()),
                       "returns": totals[(week, line_sku, country)],
                       "reasons": [{"reason": r, "units": u, "returns": n} for r, (u, n) in ranked[:top]]})
    kept = sorted(groups, key=_weight)[:MAX_GROUPS]
    kept.sort(key=lambda g: (g["week"], *_weight(g)))
    return {"from": since.isoformat(), "to": until.isoformat(),
            "weeks": [w.isoformat() for w in scores.weeks(since, until)], "groups": kept,
            "truncated": len(groups) > len(kept)}
