"""The inbox: every inbound event (webhook, proxy POST) stored before it is acknowledged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, UTCDateTime, utcnow


class EventStatus:
    RECEIVED = "received"  # stored, job enqueued (or to be re-enqueued by the sweeper)
    PROCESSING = "processing"
    DONE = "done"
    IGNORED = "ignored"  # no handler for this (source, topic): kept for audit
    FAILED = "failed"  # permanent failure or retries exhausted; see `error`


class WebhookEvent(Base):
    __tablename__ = "webhook_events"
    __table_args__ = (
        # The sender's delivery id is unique per source: a redelivery hits this and adds no work.
        UniqueConstraint("source", "delivery_id"),
        Index("ix_webhook_events_status_received_at", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    delivery_id: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(128))
    shop_domain: Mapped[str | None] = mapped_column(String(255), index=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default=EventStatus.RECEIVED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The RQ job that covers this event when it is not its own ``event-<id>``: the one job of the
    # webhook batch it was stored with. Redeliveries and the sweeper check that job's liveness.
    job_id: Mapped[str | None] = mapped_column(String(64))
