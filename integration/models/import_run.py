"""One run of the initial (or a repeated) catalog import from Shopify, with its progress."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, UTCDateTime, utcnow


class ImportStatus:
    PENDING = "pending"
    RUNNING = "running"  # bulk operation submitted, waiting for Shopify
    PROCESSING = "processing"  # reading the JSONL results
    DONE = "done"
    FAILED = "failed"


class ImportRun(Base):
    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="catalog")
    status: Mapped[str] = mapped_column(String(16), default=ImportStatus.PENDING)
    bulk_operation_id: Mapped[str | None] = mapped_column(String(128), index=True)
    locations: Mapped[int] = mapped_column(Integer, default=0)
    variants: Mapped[int] = mapped_column(Integer, default=0)
    inventory_levels: Mapped[int] = mapped_column(Integer, default=0)
    lines_read: Mapped[int] = mapped_column(Integer, default=0)  # resume point in the JSONL
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
