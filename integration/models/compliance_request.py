"""GDPR/CCPA requests Shopify forwards to the app, and what we did about each, for the merchant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, UTCDateTime, utcnow


class ComplianceRequest(Base):
    __tablename__ = "compliance_requests"
    # The export of a data request is the customer's personal data: erased by a later redact.
    __pii__ = ("email", "export")
    __customer_match__ = ("customer_external_id", "email")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(64))
    customer_external_id: Mapped[str | None] = mapped_column(String(64), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    export: Mapped[dict | None] = mapped_column(JSON)
    summary: Mapped[dict | None] = mapped_column(JSON)  # counts only: what was found / erased
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
