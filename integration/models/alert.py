"""Something the merchant must know (SLA breached, order backordered, sync failing).

One row per (shop, kind, subject): raising the same alert twice is a no-op. The notifications
pipeline e-mails them; the admin lists the open ones.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, UTCDateTime, utcnow


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("shop_id", "kind", "subject"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # sla_breached, backordered, outbound_failed, ...
    subject: Mapped[str] = mapped_column(String(128))  # e.g. "outbound:17"
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
