"""One SKU x warehouse's chart on the Insights page: daily net demand (None on censored days: the
SKU had nothing to sell there, so the demand is unknown - drawn as a gap, never as zero), the
forecast level the suggestions use, promotion days, and the closing stock of each day.
"""

from __future__ import annotations

from sqlalchemy import select

from integration.extensions import db
from integration.models import DemandDay, InsightSeries
from integration.stock import daily

MAX_DAYS = daily.MAX_DAYS
DEFAULT_DAYS = 56  # eight weeks: a two-week fall and its baseline both show


def series(shop_id: int, warehouse_id: int, sku: str, days: int) -> dict:
    """The chart's data; ``history`` False (and no demand drawn) when the shop has neither demand
    nor a computed series for it: not yet sold there, or not yet computed."""
    stock = daily.history(shop_id, sku, [warehouse_id], days)
    start, end = stock.days[0], stock.days[-1]
    rows = {r.day: r for r in db.session.execute(
        select(DemandDay).where(DemandDay.shop_id == shop_id, DemandDay.warehouse_id == warehouse_id,
                                DemandDay.sku == sku, DemandDay.day >= start, DemandDay.day <= end)).scalars()}
    computed = db.session.execute(
        select(InsightSeries).where(InsightSeries.shop_id == shop_id, InsightSeries.warehouse_id == warehouse_id,
                                    InsightSeries.sku == sku)).scalar()
    history = bool(rows) or computed is not None
    demand, censored, promo = [], [], []
    for day in stock.days:
        row = rows.get(day)
        # A day without a row sold nothing while in stock (the computation writes censored days).
        censored.append(bool(row and row.censored))
        promo.append(bool(row and row.promo))
        if not history or (row and row.censored):
            demand.append(None)
        else:
            demand.append(row.units - row.cancelled if row else 0)
    level = computed.forecast_daily if computed else None
    return {
        "history": history,
        "days": [d.isoformat() for d in stock.days],
        "demand": demand,
        "censored": censored,
        "promo": promo,
        "stock": stock.stock[warehouse_id],
        "forecast": [level] * len(stock.days) if level is not None else [None] * len(stock.days),
        "forecast_daily": level,
        "forecast_sd": computed.forecast_sd if computed else None,
        "available": computed.available if computed else None,
        "days_of_cover": computed.days_of_cover if computed else None,
        "computed_at": computed.computed_at.isoformat() if computed and computed.computed_at else None,
    }
