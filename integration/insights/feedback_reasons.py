"""Why a SKU disappoints in a market: the reason its low ratings share (returns: issue 23).

A demand shift is read together with the after-sales words ("bad reviews all say 'not
waterproof'"): the low ratings of orders of the SKU shipped to the warehouse's market, over the
window the shift compares.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from integration.domain.sensing import shared_reason
from integration.extensions import db
from integration.insights.demand import chunked
from integration.models import Order, OrderLine
from integration.models.notification import OrderFeedback

LOW_RATING = 2  # of 5: the ratings that count as complaints
WINDOW_DAYS = 70  # the shift's baseline and recent windows
MAX_COMMENTS = 500


def low_rating_comments(shop_id: int, sku: str, market: str | None, today: date,
                        window_days: int = WINDOW_DAYS) -> list[str]:
    since = datetime.combine(today - timedelta(days=window_days), time.min, tzinfo=UTC)
    has_sku = select(OrderLine.id).where(OrderLine.order_id == Order.id, OrderLine.sku == sku).exists()
    query = (select(OrderFeedback.comment).join(Order, Order.id == OrderFeedback.order_id)
             .where(OrderFeedback.shop_id == shop_id, Order.shop_id == shop_id, OrderFeedback.rating <= LOW_RATING,
                    OrderFeedback.comment.is_not(None), OrderFeedback.created_at >= since, has_sku)
             .order_by(OrderFeedback.id.desc()).limit(MAX_COMMENTS))
    if market:
        query = query.where(Order.shipping_country == market)
    return [c for c in db.session.execute(query).scalars() if c]


def complained_markets(shop_id: int, skus: Collection[str], today: date,
                       window_days: int = WINDOW_DAYS) -> set[tuple[str, str | None]]:
    """(sku, shipping country) of the given SKUs with any low rating in the window: one query for
    many shifts, so :func:`shared_reason_for` runs only where there is something to read."""
    since = datetime.combine(today - timedelta(days=window_days), time.min, tzinfo=UTC)
    found: set[tuple[str, str | None]] = set()
    for part in chunked(sorted(set(skus))):
        found.update(db.session.execute(
            select(OrderLine.sku, Order.shipping_country).distinct().select_from(OrderFeedback)
            .join(Order, Order.id == OrderFeedback.order_id).join(OrderLine, OrderLine.order_id == Order.id)
            .where(OrderFeedback.shop_id == shop_id, Order.shop_id == shop_id, OrderFeedback.rating <= LOW_RATING,
                   OrderFeedback.comment.is_not(None), OrderFeedback.created_at >= since, OrderLine.sku.in_(part))
        ).tuples())
    return found


def shared_reason_for(shop_id: int, sku: str, market: str | None, today: date) -> str | None:
    return shared_reason(low_rating_comments(shop_id, sku, market, today))
