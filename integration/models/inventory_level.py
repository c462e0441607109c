"""Shopify's view of a variant's stock at one of its locations (what shoppers can buy there)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from integration.models.base import Base, BigId, UTCDateTime, utcnow


class InventoryLevel(Base):
    __tablename__ = "inventory_levels"
    __table_args__ = (UniqueConstraint("shop_id", "inventory_item_id", "location_shopify_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    inventory_item_id: Mapped[str] = mapped_column(String(64))  # gid://shopify/InventoryItem/N
    location_shopify_id: Mapped[str] = mapped_column(String(64))
    available: Mapped[int] = mapped_column(Integer, default=0)
    external_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
