"""One row per call to an outside system, so the merchant and on-call can see what happened."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, UTCDateTime, utcnow

EXCERPT_CHARS = 2000


class IntegrationLog(Base):
    __tablename__ = "integration_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    system: Mapped[str] = mapped_column(String(32))  # shopify, amazon, winit, smtp, ...
    operation: Mapped[str] = mapped_column(String(128))
    external_id: Mapped[str | None] = mapped_column(String(255), index=True)
    job_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20))  # ok, retryable, failed
    request_excerpt: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
