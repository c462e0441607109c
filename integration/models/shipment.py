"""A parcel that left a warehouse, its Shopify fulfillment, and its normalised tracking events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, UTCDateTime, utcnow


class Shipment(Base):
    __tablename__ = "shipments"
    __table_args__ = (UniqueConstraint("outbound_id", "tracking_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    outbound_id: Mapped[int] = mapped_column(ForeignKey("outbound_orders.id", ondelete="CASCADE"), index=True)
    tracking_number: Mapped[str] = mapped_column(String(128), index=True)
    carrier: Mapped[str | None] = mapped_column(String(128))
    tracking_url: Mapped[str | None] = mapped_column(Text)
    lines: Mapped[list] = mapped_column(JSON, default=list)  # [[sku, qty], ...] in this parcel
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shopify_fulfillment_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), default="InfoReceived")  # TrackingStatus value
    status_reason: Mapped[str | None] = mapped_column(String(32))  # ExceptionReason value
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrackingEventRow(Base):
    __tablename__ = "tracking_events"
    # The same carrier event reported twice (webhook + poll, or a redelivery) is one row.
    __table_args__ = (UniqueConstraint("shipment_id", "status", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str | None] = mapped_column(String(255))
    raw_code: Mapped[str | None] = mapped_column(String(64))
    shopify_event_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
