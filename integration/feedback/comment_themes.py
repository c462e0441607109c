"""The themes of a shop's comments over a period, per language (:func:`.themes.extract_themes`),
and month by month.

A comment's language is its order's locale (the language the customer shopped and was written to
in). Its sentiment comes from the same answer: praise when the customer gave 4 or 5 stars or
would recommend the shop (NPS 9-10), a complaint at 1 or 2 stars or NPS 0-6; an answer that says
both (5 stars, NPS 3) or neither counts as neither. A comment counts in the month (UTC) of its
first tap.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from datetime import date, timedelta

from sqlalchemy import select

from integration.extensions import db
from integration.feedback import scores
from integration.feedback.themes import Comment, extract_themes, language_of
from integration.models import Order, OrderFeedback

MAX_MONTHS = 12
MAX_COMMENTS = 5000  # per period, newest first: enough for a month's themes, bounded in memory
TOP = 5
PRAISE_STARS, COMPLAINT_STARS = 4, 2


def sentiment(rating: int | None, nps: int | None) -> int:
    """+1 praise, -1 complaint, 0 neither (or both)."""
    happy = (rating is not None and rating >= PRAISE_STARS) or (nps is not None and nps >= scores.PROMOTER)
    unhappy = (rating is not None and rating <= COMPLAINT_STARS) or (nps is not None and nps <= scores.DETRACTOR)
    return int(happy) - int(unhappy)


def period_themes(shop_id: int, since: date, until: date, *, top: int = TOP) -> dict[str, dict]:
    """Language -> ``comments`` (how many were read) and ``themes`` of the comments given from
    ``since`` to ``until`` (inclusive)."""
    start, end = scores.day_bounds(since, until)
    rows = db.session.execute(
        select(OrderFeedback.comment, OrderFeedback.rating, OrderFeedback.nps, Order.locale)
        .join(Order, Order.id == OrderFeedback.order_id)
        .where(OrderFeedback.shop_id == shop_id, OrderFeedback.comment.is_not(None),
               OrderFeedback.created_at >= start, OrderFeedback.created_at < end)
        .order_by(OrderFeedback.created_at.desc(), OrderFeedback.id.desc()).limit(MAX_COMMENTS)).all()
    comments = [Comment(locale=locale, text=text, sentiment=sentiment(rating, nps))
                for text, rating, nps, locale in rows]
    counted = Counter(language_of(c.locale) for c in comments if c.text.strip())
    found = extract_themes(comments, top=top)
    return {lang: {"comments": counted[lang], "themes": [asdict(t) for t in found.get(lang, [])]}
            for lang in sorted(k for k in counted if k)}


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


def monthly_themes(shop_id: int, first: date, last: date, *, top: int = TOP) -> dict:
    """Each month from ``first``'s to ``last``'s (at most :data:`MAX_MONTHS`): its themes per language."""
    month, last = month_start(first), month_start(last)
    months = []
    while month <= last:
        months.append(month)
        month = next_month(month)
    if not months or len(months) > MAX_MONTHS:
        raise ValueError(f"the range must run forwards over at most {MAX_MONTHS} months")
    return {"from": months[0].isoformat()[:7], "to": months[-1].isoformat()[:7],
            "months": [{"month": m.isoformat()[:7],
                        "languages": period_themes(shop_id, m, next_month(m) - timedelta(days=1), top=top)}
                       for m in months]}
