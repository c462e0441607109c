"""What a customer answers about a delivered order, stored once per order.

The "delivered" e-mail shows five stars; each is a signed link (:mod:`integration.notices.links`).
Tapping one records that overall rating at once (:func:`record_tap`) and opens a small page for
the rest: delivery speed, packaging, product quality and after-sales (1-5), "would you recommend
us?" (0-10) and a comment, sent with :func:`record_answers`.

Once per order: the row is keyed by (shop, order); the first tap inserts it and announces
``feedback_received`` (loyalty's points for feedback) in the same transaction, later taps and
forms update it. Each tap issues a new single-use form nonce; sending the form clears it, so a
replayed (or superseded) form changes nothing.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update

from integration import signals
from integration.extensions import db
from integration.models import Order, OrderFeedback
from integration.models.base import utcnow
from integration.models.upsert import insert

DIMENSIONS = ("delivery_speed", "packaging", "product_quality", "after_sales")
STARS = range(1, 6)
NPS_SCALE = range(0, 11)
MAX_COMMENT = 2000  # characters
_WHOLE = re.compile(r"0|[1-9][0-9]?")  # ASCII digits only ("٣".isdigit() holds), no leading zero


class AnswerError(ValueError):
    """A form field out of shape; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Answers:
    rating: int
    delivery_speed: int | None = None
    packaging: int | None = None
    product_quality: int | None = None
    after_sales: int | None = None
    nps: int | None = None
    comment: str | None = None


def parse_score(raw: str | None, scale: range, field: str, *, required: bool = False) -> int | None:
    """A score typed as a whole number within ``scale``; blank is "not answered"."""
    if raw is None or raw == "":
        if required:
            raise AnswerError(field, f"{field} is required")
        return None
    if not _WHOLE.fullmatch(raw) or int(raw) not in scale:
        raise AnswerError(field, f"{field} must be a whole number from {scale.start} to {scale.stop - 1}")
    return int(raw)


def parse_answers(form: Mapping[str, str]) -> Answers:
    """The page's form as :class:`Answers`, or :class:`AnswerError` for the first bad field."""
    comment = (form.get("comment") or "").strip()
    if len(comment) > MAX_COMMENT:
        raise AnswerError("comment", f"comment must be at most {MAX_COMMENT} characters")
    return Answers(rating=parse_score(form.get("rating"), STARS, "rating", required=True),
                   **{name: parse_score(form.get(name), STARS, name) for name in DIMENSIONS},
                   nps=parse_score(form.get("nps"), NPS_SCALE, "nps"), comment=comment or None)


def find(order: Order) -> OrderFeedback | None:
    return db.session.execute(select(OrderFeedback).where(
        OrderFeedback.shop_id == order.shop_id, OrderFeedback.order_id == order.id)).scalar_one_or_none()


def record_tap(order: Order, rating: int) -> str:
    """Store the star tapped in the e-mail (a later tap updates it) and commit; returns the nonce of
    the form the page shows. The first tap of the order announces ``feedback_received``."""
    nonce, now = secrets.token_hex(16), utcnow()
    created = db.session.execute(
        insert(OrderFeedback).values(shop_id=order.shop_id, order_id=order.id, email=order.email, rating=rating,
                                     form_nonce=nonce, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["shop_id", "order_id"]).returning(OrderFeedback.id)
    ).scalar() is not None
    if created:
        signals.feedback_received(order.shop_id, order.id, rating)
    else:
        db.session.execute(update(OrderFeedback).where(
            OrderFeedback.shop_id == order.shop_id, OrderFeedback.order_id == order.id)
            .values(rating=rating, form_nonce=nonce, updated_at=now).execution_options(synchronize_session=False))
    db.session.commit()
    return nonce


def record_answers(order: Order, nonce: str, answers: Answers) -> bool:
    """Store the page's answers if ``nonce`` is the order's current form nonce, and commit; False
    (nothing changed) for a replayed, superseded or forged form."""
    current = db.session.execute(select(OrderFeedback.form_nonce).where(
        OrderFeedback.shop_id == order.shop_id, OrderFeedback.order_id == order.id)).scalar()
    if not current or not hmac.compare_digest(current.encode(), nonce.encode()):
        db.session.rollback()
        return False
    # Conditional on the nonce again: of two sends racing with the same form, one matches.
    stored = db.session.execute(update(OrderFeedback).where(
        OrderFeedback.shop_id == order.shop_id, OrderFeedback.order_id == order.id,
        OrderFeedback.form_nonce == current)
        .values(rating=answers.rating, **{name: getattr(answers, name) for name in DIMENSIONS}, nps=answers.nps,
                comment=answers.comment, form_nonce=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount == 1
    db.session.commit()
    return stored
