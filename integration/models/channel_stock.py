"""The last quantity we told each sales channel, per SKU and channel location, so only changed
values are pushed (and a failed push is retried from a known baseline)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, UTCDateTime, utcnow


class ChannelStock(Base):
    __tablename__ = "channel_stock"
    __table_args__ = (UniqueConstraint("shop_id", "channel", "item_id", "location_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # shopify, amazon
    item_id: Mapped[str] = mapped_column(String(255))  # Shopify inventory item gid / Amazon SKU
    location_id: Mapped[str] = mapped_column(String(64))  # Shopify location gid / marketplace
    sku: Mapped[str | None] = mapped_column(String(255), index=True)
    quantity: Mapped[int] = mapped_column(Integer)  # what the channel was last set to by us
    pushed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
