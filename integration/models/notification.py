"""The notification outbox, and the per-shop and per-customer choices it honours.

* :class:`Notification`: one row per (shop, kind, subject, recipient) — the outbox. Created in the
  transaction of the event that causes it; a send job claims it (``queued`` -> ``sending``), renders
  and sends it, and marks it ``sent`` with the provider's message id. ``failed`` is permanent (the
  merchant sees it); ``skipped`` means it was dropped on purpose (stale, opted out, disabled).
* :class:`NotificationSettings`: a shop's branding and which notices it sends.
* :class:`NotificationPreference`: what one customer (by e-mail, per shop) unsubscribed from.
* :class:`OrderFeedback`: what a customer answered from the "delivered" notice: the overall rating
  (the star tapped in the e-mail), the four dimensions, the NPS answer and a comment.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, UTCDateTime, utcnow


class NotificationStatus:
    QUEUED = "queued"  # waiting for (or between) send attempts
    SENDING = "sending"  # claimed by a worker (claim_token, claimed_at)
    SENT = "sent"
    FAILED = "failed"  # permanent: invalid address, 5xx, retries exhausted
    SKIPPED = "skipped"  # dropped on purpose at send time: stale, opted out, disabled

    DONE = (SENT, FAILED, SKIPPED)


class Notification(Base):
    __tablename__ = "notifications"
    # The outbox key: the same event reported twice never makes a second notice. shop_id is part
    # of it because subjects chosen by callers ("variant:123") are only unique within a shop.
    __table_args__ = (
        UniqueConstraint("shop_id", "kind", "subject", "recipient"),
        Index("ix_notifications_status_created_at", "status", "created_at"),
    )
    __pii__ = ("recipient", "context")
    __customer_match__ = ("recipient",)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(160))  # what it is about: "shipment:17", "alert:4"
    recipient: Mapped[str | None] = mapped_column(String(320))  # NULL once redacted
    locale: Mapped[str | None] = mapped_column(String(16))
    context: Mapped[dict | None] = mapped_column(JSON)  # what the caller knew; re-read at send time
    status: Mapped[str] = mapped_column(String(16), default=NotificationStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim_token: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[str | None] = mapped_column(String(255))  # our Message-ID header
    provider_message_id: Mapped[str | None] = mapped_column(String(255))  # the server's "queued as"
    last_error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(16))  # temporary | permanent | stale | ...
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationSettings(Base):
    """Branding and switches per shop; a shop without a row uses the defaults below."""

    __tablename__ = "notification_settings"
    # The merchant's own sender identity and branding, not a customer's.
    __not_pii__ = ("sender_name", "sender_email", "reply_to")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), unique=True)
    sender_name: Mapped[str | None] = mapped_column(String(255))  # default: the shop's name
    sender_email: Mapped[str | None] = mapped_column(String(320))  # default: no-reply@<app host>
    reply_to: Mapped[str | None] = mapped_column(String(320))  # default: the shop's e-mail
    logo_url: Mapped[str | None] = mapped_column(Text)
    primary_color: Mapped[str] = mapped_column(String(7), default="#1f6feb")
    accent_color: Mapped[str] = mapped_column(String(7), default="#f5f7fa")
    # Kinds this shop does not send, e.g. ["still_on_its_way"]. Every kind is on by default.
    disabled_kinds: Mapped[list] = mapped_column(JSON, default=list)
    # "Still on its way" after this many days without a carrier event.
    quiet_days: Mapped[int] = mapped_column(Integer, default=5)
    # E-mails per minute for the whole shop (shared by every worker through Redis).
    send_rate_per_minute: Mapped[int] = mapped_column(Integer, default=600)
    # Merchant's own words for "what we are doing about it", per exception reason (optional,
    # used as written: not translated).
    exception_actions: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class NotificationPreference(Base):
    """One customer's opt-outs at one shop. ``opted_out`` holds categories (see
    ``notifications.CATEGORIES``) or ``"all"``."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("shop_id", "email"),)
    __pii__ = ("email",)
    __customer_match__ = ("email",)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    email: Mapped[str | None] = mapped_column(String(320))  # lower-cased; NULL once redacted
    opted_out: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OrderFeedback(Base):
    """One order's feedback (one row per order: a second answer updates it). ``rating`` is the star
    tapped in the "delivered" e-mail; the rest comes from the page that tap opens and is NULL until
    answered (``after_sales`` also when the customer never needed it)."""

    __tablename__ = "order_feedback"
    __table_args__ = (UniqueConstraint("shop_id", "order_id"),)
    __pii__ = ("email", "comment")
    __not_pii__ = ("form_nonce",)  # a random single-use value, not about the customer
    __customer_match__ = ("email",)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    rating: Mapped[int] = mapped_column(Integer)  # 1-5, overall
    delivery_speed: Mapped[int | None] = mapped_column(Integer)  # 1-5
    packaging: Mapped[int | None] = mapped_column(Integer)  # 1-5
    product_quality: Mapped[int | None] = mapped_column(Integer)  # 1-5
    after_sales: Mapped[int | None] = mapped_column(Integer)  # 1-5
    nps: Mapped[int | None] = mapped_column(Integer)  # 0-10, "would you recommend us?"
    comment: Mapped[str | None] = mapped_column(Text)
    # The nonce of the one form that may still be sent (each tap issues a new one; sending clears
    # it): a replayed or stale form matches no row.
    form_nonce: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
